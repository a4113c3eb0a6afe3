//! Every sentence and diagram label a story says, as functions from plain data to text.
//!
//! The reader decides what happened to the ticket and hands the facts over; this file alone
//! says how they are told, so that the wording a learner reads (and the golden files pin) can
//! change without touching the state machine that reads the trace, and the state machine can
//! change without rewording a sentence by accident. Nothing here sees the trace or the
//! reader's state: every function takes the values it tells and returns text. The ending,
//! which explains rather than narrates, is told in `ending`.

use crate::model::decisions::{DropReason, Refusal};
use crate::model::documents::{OrderId, OrderStatus, Price, TicketId};
use crate::model::events::Subject;
use crate::model::http::{Cause, Route};
use crate::model::node::Node;
use crate::model::store::WriteError;
use crate::sim::record::Loss;
use crate::sim::session::ExitReason;
use std::fmt::Write as _;

/// A step's sentence (after the actor's name) and its short diagram label.
pub(super) type Said = (String, String);

/// Whom a story is about and whether versions mean anything in its run: without OCC every
/// version stays 0 and says nothing, so the story leaves versions out.
#[derive(Clone, Copy)]
pub(super) struct Voice {
    /// The ticket the story follows.
    pub(super) ticket: TicketId,
    /// Whether the run's mode versions records.
    pub(super) versioned: bool,
}

/// What a message about the ticket says, as published.
#[derive(Clone, Copy)]
pub(super) struct Payload {
    pub(super) version: Option<u64>,
    pub(super) price: Option<Price>,
    pub(super) order: Option<OrderId>,
}

/// What a replica's save does to the orders database's copy of the ticket.
#[derive(Clone, Copy)]
pub(super) enum Save {
    /// There was no copy yet.
    First,
    /// An event no older than the copy's own.
    InOrder,
    /// An older event's price over a newer one's: `Some` the newer price it overwrites, `None`
    /// when it writes the same price again.
    Stale(Option<Price>),
}

impl Voice {
    /// ", version 2" when OCC is on.
    pub(super) fn version(self, v: Option<u64>) -> String {
        match v {
            Some(v) if self.versioned => format!(", version {v}"),
            _ => String::new(),
        }
    }

    /// " v2" when OCC is on, for diagram labels.
    pub(super) fn short_version(self, v: Option<u64>) -> String {
        match v {
            Some(v) if self.versioned => format!(" v{v}"),
            _ => String::new(),
        }
    }

    /// `ticket:updated #166 (price 10, version 1)`.
    pub(super) fn describe(self, subject: Subject, seq: u64, m: Payload) -> String {
        let mut parts = Vec::new();
        match subject {
            Subject::TicketCreated | Subject::TicketUpdated => {
                if let Some(p) = m.price {
                    parts.push(format!("price {p}"));
                }
                if let (Some(v), true) = (m.version, self.versioned) {
                    parts.push(format!("version {v}"));
                }
                if let (Some(o), Subject::TicketUpdated) = (m.order, subject) {
                    parts.push(format!("reserved by order {o}"));
                }
            }
            Subject::OrderCreated | Subject::OrderCancelled => {
                if let Some(o) = m.order {
                    parts.push(format!("order {o}"));
                }
                if let (Some(v), true) = (m.version, self.versioned) {
                    parts.push(format!("version {v}"));
                }
            }
            Subject::ExpirationComplete | Subject::PaymentCreated => {
                if let Some(o) = m.order {
                    parts.push(format!("order {o}"));
                }
            }
        }
        if parts.is_empty() {
            format!("{subject} #{seq}")
        } else {
            format!("{subject} #{seq} ({})", parts.join(", "))
        }
    }

    /// `ticket:updated #166 · price 10 v1`, for a diagram.
    pub(super) fn label(self, subject: Subject, seq: u64, m: Payload) -> String {
        let what = match subject {
            Subject::TicketCreated | Subject::TicketUpdated => {
                m.price.map(|p| format!(" · price {p}")).unwrap_or_default()
            }
            Subject::OrderCreated
            | Subject::OrderCancelled
            | Subject::ExpirationComplete
            | Subject::PaymentCreated => {
                m.order.map(|o| format!(" · order {o}")).unwrap_or_default()
            }
        };
        format!("{subject} #{seq}{what}{}", self.short_version(m.version))
    }

    /// A service publishes a message about the ticket.
    pub(super) fn publish(self, subject: Subject, seq: u64, m: Payload) -> Said {
        (
            format!("publishes {}", self.describe(subject, seq, m)),
            self.label(subject, seq, m),
        )
    }

    /// A replica receives a message about the ticket, perhaps again.
    pub(super) fn deliver(self, subject: Subject, seq: u64, m: Payload, again: bool) -> Said {
        let text = format!(
            "receives {}{}",
            self.describe(subject, seq, m),
            if again { " again" } else { "" }
        );
        let label = if again {
            format!("{subject} #{seq} again")
        } else {
            format!("{subject} #{seq}")
        };
        (text, label)
    }

    /// A replica refuses a message and throws, so it does not ack; `copy_version` is the
    /// version of the orders database's copy of the ticket, if it has one.
    pub(super) fn nack(
        self,
        subject: Subject,
        seq: u64,
        m: Payload,
        reason: Refusal,
        copy_version: Option<u64>,
    ) -> Said {
        let why = self.refusal(subject, m, reason, copy_version);
        (
            format!("{why}: throws, so no ack for {subject} #{seq}"),
            format!("no ack for {} #{seq}", short(subject)),
        )
    }

    /// Why a listener refused a message.
    fn refusal(
        self,
        subject: Subject,
        m: Payload,
        reason: Refusal,
        copy_version: Option<u64>,
    ) -> String {
        let me = self.ticket;
        match (reason, subject, m.version, copy_version) {
            // The query ran halfway through its round trip; the copy may have reached the
            // version looked for between then and the refusal.
            (Refusal::NotFound, Subject::TicketUpdated, Some(v), Some(c))
                if self.versioned && c == v.saturating_sub(1) =>
            {
                format!("looks for version {c} of ticket {me} a moment before that version lands in its copy")
            }
            (Refusal::NotFound, Subject::TicketUpdated, Some(v), Some(c)) if self.versioned => {
                format!(
                    "looks for version {} of ticket {me}, but its copy is at version {c}",
                    v.saturating_sub(1),
                )
            }
            (Refusal::NotFound, Subject::TicketUpdated | Subject::TicketCreated, _, _) => {
                format!("finds no copy of ticket {me} yet")
            }
            (Refusal::NotFound, _, _, _) => format!("finds no ticket {me}"),
            (Refusal::VersionConflict, _, _, _) => "its save hits a version conflict".to_owned(),
            (Refusal::DuplicateKey, _, _, _) => {
                format!("cannot insert ticket {me}: it exists already (duplicate key)")
            }
            (Refusal::PublishFailed, _, _, _) => "its own publish fails".to_owned(),
            (Refusal::OrderNotApplied, _, _, _) => format!(
                "ticket {me} has not yet been reserved by order {}, whose creation must come first",
                order_of(m),
            ),
            (Refusal::ReservedByAnotherOrder, _, _, _) => format!(
                "ticket {me} is still reserved by another order, whose cancellation must come first"
            ),
        }
    }

    /// The tickets service saves the ticket, for a request or for an order's event.
    pub(super) fn tickets_write(
        self,
        by: Cause,
        version: u64,
        price: Price,
        order_id: Option<OrderId>,
    ) -> Said {
        let me = self.ticket;
        let v = self.version(Some(version));
        let text = match by {
            Cause::Request(Route::CreateTicket) => {
                format!("creates ticket {me} at price {price}{v}")
            }
            Cause::Request(_) => format!("saves ticket {me} at price {price}{v}"),
            Cause::Message(Subject::OrderCreated, seq) => format!(
                "marks ticket {me} reserved by order {} (order:created #{seq}){v}",
                order_id.unwrap_or_default()
            ),
            Cause::Message(_, seq) => {
                format!("marks ticket {me} free again (#{seq}){v}")
            }
        };
        let label = match by {
            Cause::Request(_) => {
                format!("saves price {price}{}", self.short_version(Some(version)))
            }
            Cause::Message(..) => match order_id {
                Some(o) => format!("reserved by order {o}"),
                None => "free again".to_owned(),
            },
        };
        (text, label)
    }

    /// A replica saves its copy of the ticket.
    pub(super) fn orders_write(self, save: Save, version: u64, price: Price) -> Said {
        let me = self.ticket;
        let v = self.version(Some(version));
        let text = match save {
            Save::Stale(Some(old)) => format!(
                "saves price {price} over {old}{v}: a stale write, an older price over a newer one"
            ),
            Save::Stale(None) => format!("saves price {price}{v} again, from an older event"),
            Save::First => format!("saves its copy of ticket {me} at price {price}{v}"),
            Save::InOrder => format!("saves price {price}{v}"),
        };
        let label = match save {
            Save::Stale(Some(old)) => format!("save {price} over {old}"),
            _ => format!("save {price}{}", self.short_version(Some(version))),
        };
        (text, label)
    }

    /// A save of the ticket fails: the document changed since it was read at `version`.
    pub(super) fn conflict(
        self,
        by: Cause,
        version: u64,
        price: Price,
        order_id: Option<OrderId>,
    ) -> Said {
        let me = self.ticket;
        let what = match (by, order_id) {
            (Cause::Message(..), Some(o)) => {
                format!("mark ticket {me} reserved by order {o}")
            }
            (Cause::Message(Subject::OrderCancelled, _), None) => {
                format!("mark ticket {me} free again")
            }
            _ => format!("save price {price}"),
        };
        (
            format!(
                "tries to {what}, but the document changed since it was read at version {version}: version conflict"
            ),
            format!("save {price}: conflict"),
        )
    }

    /// A replica saves an order for the ticket.
    pub(super) fn order_write(self, by: Cause, order: OrderId, status: OrderStatus) -> Said {
        let me = self.ticket;
        let text = match (by, status) {
            (Cause::Request(Route::CreateOrder), _) => {
                format!("saves order {order} for ticket {me}")
            }
            (_, OrderStatus::Cancelled) => format!("saves order {order} as cancelled"),
            (_, s) => format!("saves order {order} as {}", s.as_str()),
        };
        (text, format!("save order {order}"))
    }

    /// A replica's write of an order for the ticket fails. A duplicate key on `orders` is the
    /// unique partial index of active orders (the `unique-active-order` cure): order ids are
    /// fresh, so an insert never repeats one.
    pub(super) fn order_conflict(
        self,
        by: Cause,
        order: OrderId,
        status: OrderStatus,
        version: u64,
        error: WriteError,
    ) -> Said {
        let me = self.ticket;
        match (error, by) {
            (WriteError::DuplicateKey, Cause::Request(Route::CreateOrder)) => (
                format!(
                    "cannot save order {order} for ticket {me}: another order already holds it (unique index on active orders)"
                ),
                format!("save order {order}: duplicate key"),
            ),
            (WriteError::DuplicateKey, _) => (
                format!(
                    "cannot save order {order} as {}: another order already holds ticket {me} (unique index on active orders)",
                    status.as_str()
                ),
                format!("save order {order}: duplicate key"),
            ),
            (WriteError::VersionConflict, _) => (
                format!(
                    "tries to save order {order} as {}, but it changed since it was read at version {version}: version conflict",
                    status.as_str()
                ),
                format!("save order {order}: conflict"),
            ),
        }
    }

    /// A replica asks the orders database whether an order holds the ticket.
    pub(super) fn reserved_check(self, order: Option<OrderId>) -> Said {
        let me = self.ticket;
        match order {
            Some(o) => (
                format!("asks whether ticket {me} is reserved: order {o} holds it"),
                format!("reserved? yes, order {o}"),
            ),
            None => (
                format!("asks whether ticket {me} is reserved: no order holds it"),
                "reserved? no".to_owned(),
            ),
        }
    }
}

/// NATS stores a message a second time, as `seq`, because its publisher published it again.
pub(super) fn duplicate(subject: Subject, of: u64, seq: u64) -> Said {
    (
        format!(
            "stores {subject} #{of} a second time, as #{seq}, as if its publisher retried (a fault beyond the course)"
        ),
        format!("duplicate: #{of} again as #{seq}"),
    )
}

/// NATS sends a message again after the ack wait.
pub(super) fn redeliver(subject: Subject, seq: u64, replica: Node, attempt: u32) -> Said {
    (
        format!(
            "has had no ack for {subject} #{seq} within the ack wait: sends it again, to {replica} (delivery {attempt})"
        ),
        format!("no ack in time: resend #{seq}"),
    )
}

/// A replica acks a message.
pub(super) fn ack(subject: Subject, seq: u64) -> Said {
    (
        format!("acks {subject} #{seq}"),
        format!("ack {} #{seq}", short(subject)),
    )
}

/// A replica acks a message without applying it; `version` is the message's and
/// `copy_version` that of the orders database's copy, if it has one.
pub(super) fn not_applied(
    subject: Subject,
    seq: u64,
    reason: DropReason,
    m: Payload,
    copy_version: Option<u64>,
) -> Said {
    let (version, order) = (m.version, order_of(m));
    let why = match (reason, copy_version) {
        (DropReason::Stale, Some(c)) => format!(
            "version {} is not newer than its copy's version {c}",
            version.unwrap_or(0),
        ),
        (DropReason::Stale, None) => "it is not newer than its copy".to_owned(),
        (DropReason::Duplicate, _) => "it has the ticket already".to_owned(),
        (DropReason::AlreadyApplied, _) => format!("order {order}'s event is applied already"),
        (DropReason::OrderComplete, _) => format!("order {order} is complete"),
        (DropReason::StatusGuard, _) => format!("order {order} is not in the status it changes"),
    };
    (
        format!("acks {subject} #{seq} without applying it: {why}"),
        format!("ack {} #{seq}, not applied", short(subject)),
    )
}

/// NATS sends a message that never arrives.
pub(super) fn lost(seq: u64, replica: Node, reason: Loss) -> Said {
    (
        format!(
            "sends #{seq} to {replica}, but it never arrives: {}",
            loss(reason, replica)
        ),
        format!("#{seq} lost"),
    )
}

/// A replica acks a message, but the ack never arrives.
pub(super) fn ack_lost(subject: Subject, seq: u64, replica: Node, reason: Loss) -> Said {
    (
        format!(
            "acks {subject} #{seq}, but the ack never arrives: {}",
            loss(reason, replica)
        ),
        format!("ack {} #{seq} lost", short(subject)),
    )
}

/// A service answers an HTTP request about the ticket; the sentence is also the label.
pub(super) fn http(
    request: Route,
    status: u16,
    order: Option<OrderId>,
    price: Option<Price>,
) -> String {
    match (request, status, order) {
        (Route::CreateOrder, 201, Some(o)) => format!("places order {o}: 201"),
        (Route::CreateOrder, 400, _) => "refuses an order: 400, the ticket is reserved".to_owned(),
        (Route::CancelOrder, 204, Some(o)) => format!("cancels order {o}: 204"),
        (Route::UpdateTicket, 400, _) => format!(
            "refuses the update to price {}: 400",
            price.unwrap_or_default()
        ),
        (r, s, _) => format!("answers {} with {s}", r.as_str()),
    }
}

/// A replica stalls in the middle of its handler.
pub(super) fn stall(ms: u64) -> Said {
    (
        format!("stalls for {ms} ms in the middle of its handler"),
        format!("stalls {ms} ms"),
    )
}

/// The tickets service's publish of a message about the ticket fails.
pub(super) fn publish_failed(subject: Subject, reason: Loss) -> Said {
    match reason {
        Loss::Timeout => (
            format!("hears nothing from NATS for 30 s: its publish of {subject} fails"),
            format!("{subject} timed out"),
        ),
        _ => (
            format!("has its {subject} refused: NATS no longer knows its client"),
            format!("{subject} refused"),
        ),
    }
}

/// The client's script stops after a failed request: its later requests are never sent.
pub(super) fn chain_abandoned(status: Option<u16>, unsent: u32) -> Said {
    let why = match status {
        Some(status) => format!("got {status}"),
        None => "saw its connection reset".to_owned(),
    };
    let rest = if unsent == 1 {
        "its next request is never sent".to_owned()
    } else {
        format!("its {unsent} later requests are never sent")
    };
    (
        format!("the client's script {why} and throws: {rest}"),
        format!("client gives up ({unsent} unsent)"),
    )
}

/// NATS's heartbeat to a process goes unanswered.
pub(super) fn heartbeat_missed(target: Node) -> Said {
    (
        format!(
            "gets no answer to its heartbeat from {target}: it sends {target} nothing new for now"
        ),
        format!("{target} missed a heartbeat"),
    )
}

/// NATS closes a process's client.
pub(super) fn client_closed(target: Node, moved: usize) -> Said {
    let what = match moved {
        0 => "it had no message pending".to_owned(),
        1 => "its 1 pending message goes to the other replicas, 100 ms later".to_owned(),
        n => format!("its {n} pending messages go to the other replicas, 100 ms later"),
    };
    (
        format!("closes {target}'s client: {what}"),
        format!("closes {target}'s client"),
    )
}

/// NATS gives up on a message it redelivered too often.
pub(super) fn redelivery_loop(subject: Subject, seq: u64, deliveries: u32) -> Said {
    (
        format!(
            "gives up on {subject} #{seq} after {deliveries} deliveries: a redelivery loop, the run cannot finish"
        ),
        format!("gives up on #{seq}"),
    )
}

/// A node crashes, losing the tasks it had in flight.
pub(super) fn crash(dropped_tasks: usize) -> Said {
    (
        format!("crashes; {dropped_tasks} tasks in flight are lost"),
        "crash".to_owned(),
    )
}

/// A process ends on an unhandled rejection (Node 15 and later).
pub(super) fn exit(reason: ExitReason, dropped_tasks: usize, restart_after_ms: u64) -> Said {
    let why = match reason {
        ExitReason::UnhandledRejection => "the rejection is unhandled",
        ExitReason::NatsClosed => "its NATS client closed",
    };
    (
        format!(
            "{why}: the process exits, {dropped_tasks} tasks in flight are lost, and Kubernetes restarts it in {} s",
            restart_after_ms as f64 / 1000.0
        ),
        "exits".to_owned(),
    )
}

/// A crashed node restarts.
pub(super) fn restart() -> Said {
    ("restarts, empty".to_owned(), "restart".to_owned())
}

/// A node pauses.
pub(super) fn pause(for_ms: u64) -> Said {
    (
        format!("pauses for {for_ms} ms"),
        format!("paused {for_ms} ms"),
    )
}

/// A paused node resumes.
pub(super) fn resume() -> Said {
    ("resumes".to_owned(), "resume".to_owned())
}

/// A node is cut off from NATS.
pub(super) fn partition(for_ms: u64) -> Said {
    (
        format!("is cut off from NATS for {for_ms} ms"),
        format!("partitioned {for_ms} ms"),
    )
}

/// A cut-off node reaches NATS again.
pub(super) fn partition_healed() -> Said {
    (
        "reaches NATS again".to_owned(),
        "partition healed".to_owned(),
    )
}

/// The order an order event is about, as the story names it ("?" if it carries none).
fn order_of(m: Payload) -> String {
    m.order.map_or_else(|| "?".to_owned(), |o| o.to_string())
}

/// A subject without its `ticket:` prefix, for short diagram labels.
fn short(subject: Subject) -> &'static str {
    match subject {
        Subject::TicketCreated => "created",
        Subject::TicketUpdated => "updated",
        Subject::OrderCreated => "order:created",
        Subject::OrderCancelled => "order:cancelled",
        Subject::ExpirationComplete => "expiration:complete",
        Subject::PaymentCreated => "payment:created",
    }
}

/// Why a message or an ack never arrived.
fn loss(reason: Loss, replica: Node) -> String {
    match reason {
        Loss::Dropped => "the network dropped it".to_owned(),
        Loss::Down => format!("{replica} is down, or restarted since"),
        Loss::Closed => format!("NATS had closed {replica}'s client"),
        Loss::Timeout => "no answer came within 30 s".to_owned(),
    }
}

/// `text` in lines of at most `width` characters (a longer word gets a line of its own), each
/// after `indent`.
pub(crate) fn wrap(text: &str, width: usize, indent: &str) -> String {
    let mut out = String::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
            let _ = writeln!(out, "{indent}{line}");
            line.clear();
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        let _ = writeln!(out, "{indent}{line}");
    }
    out
}

/// `12.345 ms`, with a thin grouping of thousands so the ack wait's 5 s reads at a glance.
pub fn format_ms(t_us: u64) -> String {
    let ms = t_us / 1000;
    let frac = t_us % 1000;
    let digits = ms.to_string();
    let mut grouped = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            grouped.push(' ');
        }
        grouped.push(c);
    }
    format!("{grouped}.{frac:03} ms")
}

#[cfg(test)]
mod tests {
    use crate::model::decisions::Refusal;
    use crate::model::events::Subject;
    use crate::present::story::wording::{format_ms, wrap, Payload, Voice};

    #[test]
    fn a_refused_update_says_where_the_copy_stood() {
        let voice = Voice {
            ticket: 1,
            versioned: true,
        };
        let update = |v| Payload {
            version: Some(v),
            price: None,
            order: None,
        };
        let why = |v, copy| {
            voice.refusal(
                Subject::TicketUpdated,
                update(v),
                Refusal::NotFound,
                Some(copy),
            )
        };
        assert_eq!(
            why(2, 0),
            "looks for version 1 of ticket 1, but its copy is at version 0"
        );
        // The query ran before the save of version 1 landed; by the refusal the copy has it.
        assert_eq!(
            why(2, 1),
            "looks for version 1 of ticket 1 a moment before that version lands in its copy"
        );
        assert_eq!(
            why(2, 3),
            "looks for version 1 of ticket 1, but its copy is at version 3"
        );
    }

    #[test]
    fn wrap_breaks_between_words_within_the_width() {
        assert_eq!(wrap("a bb ccc dddd", 6, "> "), "> a bb\n> ccc\n> dddd\n");
        assert_eq!(wrap("unbreakable-word x", 4, ""), "unbreakable-word\nx\n");
    }

    #[test]
    fn times_group_thousands_of_milliseconds() {
        assert_eq!(format_ms(0), "0.000 ms");
        assert_eq!(format_ms(12_345), "12.345 ms");
        assert_eq!(format_ms(5_012_864), "5 012.864 ms");
        assert_eq!(format_ms(1_234_567_000), "1 234 567.000 ms");
    }
}
