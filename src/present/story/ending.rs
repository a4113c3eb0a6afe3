//! How a story ends: where each database leaves the ticket, whether the run settles, why the
//! first stale write happened (or why OCC, or a cure, made a refused event harmless), and the invariants
//! broken on the ticket.
//!
//! The ending is the one part of a story that explains rather than narrates, and it needs more
//! facts than any single step: the last state of both databases and, for the stale write, when
//! and where each of the two racing messages arrived. It lives apart from the step sentences so
//! that those facts (the `End` and `Race` the reader fills in) sit next to the only text that
//! reads them. Like the rest of the wording, it is text from plain data.

use crate::check::findings::{Outcome, Violation};
use crate::model::documents::Price;
use crate::model::node::Node;
use crate::present::story::wording::{format_ms, Voice};
use crate::present::summary::describe_violation;

/// One of the two writes of a stale-write race: the price, the message it came from (by its
/// sequence number), which replica received that message when, and which one wrote it.
#[derive(Clone, Copy)]
pub(super) struct Written {
    pub(super) price: Price,
    pub(super) seq: u64,
    pub(super) received_us: u64,
    pub(super) receiver: Node,
    pub(super) redelivered: bool,
    pub(super) writer: Node,
}

/// The first stale write, explained: the older price written last, over the newer one.
#[derive(Clone, Copy)]
pub(super) struct Race {
    /// The older price, written last.
    pub(super) old: Written,
    /// The newer price it overwrote.
    pub(super) new: Written,
}

/// What the end of a story tells about the ticket.
pub(super) struct End<'a> {
    /// How the run ended.
    pub(super) outcome: Outcome,
    /// The tickets database's last price and version.
    pub(super) source: Option<(Price, u64)>,
    /// The orders database's copy's last price and version.
    pub(super) copy: Option<(Price, u64)>,
    /// The first stale write, when the story can explain it.
    pub(super) race: Option<Race>,
    /// Whether a replica refused one of the ticket's events.
    pub(super) refused: bool,
    /// Whether the tickets service refused an order's event until the one before it was
    /// applied (`[cures] ordered-order-events`).
    pub(super) waited: bool,
    /// Whether a restarted relay found one of the ticket's events still in the outbox
    /// (`[cures] transactional-outbox`).
    pub(super) kept: bool,
    /// Whether the relay published one of the ticket's events twice.
    pub(super) twice: bool,
    /// Whether a replica acked one of the ticket's events without applying it.
    pub(super) dropped: bool,
    /// The invariants broken on this ticket.
    pub(super) broken: &'a [&'a Violation],
}

/// How the story ends: where each database leaves the ticket, whether the run settles,
/// why a stale write happened or why OCC made it work, and the broken invariants.
pub(super) fn tell(voice: Voice, end: &End) -> String {
    let me = voice.ticket;
    let (source, copy) = (end.source, end.copy);
    let at = |price: Price, version: u64| {
        if voice.versioned {
            format!("price {price} (version {version})")
        } else {
            format!("price {price}")
        }
    };
    let state = match (source, copy) {
        (Some((p, v)), Some((c, _))) if p == c => {
            format!("Both databases end with ticket {me} at {}.", at(p, v))
        }
        (Some((p, v)), Some((c, cv))) => format!(
            "The orders database ends with ticket {me} at {}, the tickets database at {}: they disagree.",
            at(c, cv),
            at(p, v)
        ),
        (Some((p, v)), None) => format!(
            "The orders database never gets ticket {me}; the tickets database has it at {}.",
            at(p, v)
        ),
        (None, _) => format!("The tickets database never saves ticket {me}."),
    };
    let mut ending = match end.outcome {
        Outcome::Stuck => {
            format!("{state} The run never settles: some message is never acked.")
        }
        Outcome::Diverged if source.map(|s| s.0) != copy.map(|c| c.0) => {
            format!("{state} Every message was acked, so nothing will ever put it right.")
        }
        _ => state,
    };
    let sound = end.broken.is_empty();
    if let Some(race) = end.race {
        ending.push_str("\n  ");
        ending.push_str(&why_stale(voice.versioned, race));
    } else if end.kept && sound && end.outcome == Outcome::Converged {
        ending.push_str(
            "\n  Why it worked: the tickets service stores each event with its ticket, in the same \
             write, and its relay publishes it until NATS acks it. The crash could not lose it: \
             the relay that restarted with the process found it still in the outbox and \
             published it.",
        );
        if end.twice {
            ending.push_str(if end.dropped {
                " It published one a second time, having crashed before removing it; the orders \
                 service acked the copy without applying it (deduplication)."
            } else {
                " It published one a second time, having crashed before removing it; the orders \
                 service applied the copy again, the same price over itself."
            });
        }
    } else if end.waited && !end.refused && sound && end.outcome == Outcome::Converged {
        ending.push_str(
            "\n  Why it worked: the tickets service takes an order's events in order. A \
             cancellation that comes before its order's creation is refused and not acked, so \
             NATS sends it again after the ack wait, by when the creation has been applied.",
        );
    } else if end.refused && sound && end.outcome == Outcome::Converged && voice.versioned {
        ending.push_str(
            "\n  Why it worked: a replica applies only the next version of a ticket. An event that \
             comes too early is refused and not acked, so NATS sends it again after the ack wait, \
             by when the one before it has been applied.",
        );
    }
    for v in end.broken.iter().take(3) {
        ending.push_str(&format!("\n  Broken: {}.", describe_violation(v)));
    }
    ending
}

/// Why the first stale write happened, in a sentence or two.
fn why_stale(versioned: bool, race: Race) -> String {
    let Race { old, new } = race;
    let (a, b) = (old.price, new.price);
    let how = if old.redelivered {
        format!(
            "the update to {a} (#{}) was not acked at first, and NATS sent it again after the \
             ack wait, at {}: by then {} had saved {b}, and {} saved {a} over it.",
            old.seq,
            format_ms(old.received_us),
            new.writer,
            old.writer
        )
    } else if old.received_us <= new.received_us {
        let other = if old.receiver == new.receiver {
            "it".to_owned()
        } else {
            new.receiver.to_string()
        };
        format!(
            "{} received the update to {a} (#{}) at {}, before {other} received the update \
             to {b} (#{}) at {}, but it was slower: it saved {a} after {b} had been saved.",
            old.receiver,
            old.seq,
            format_ms(old.received_us),
            new.seq,
            format_ms(new.received_us)
        )
    } else {
        format!(
            "the update to {a} (#{}) was overtaken on its way: it reached {} at {}, after the \
             update to {b} (#{}) had reached {} at {}.",
            old.seq,
            old.receiver,
            format_ms(old.received_us),
            new.seq,
            new.receiver,
            format_ms(new.received_us)
        )
    };
    let blind = if versioned {
        ""
    } else {
        " Events carry no version, so no replica can tell an older price from a newer one."
    };
    format!("Why: {how}{blind}")
}
