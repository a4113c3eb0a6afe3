//! What a story remembers and says of the ticket's outbox (`[cures] transactional-outbox`):
//! each of its events stored with it in one write, relayed to NATS, found still pending by a
//! relay that restarted after a crash, relayed again, and removed.
//!
//! The reader hands over the `outbox.*` lines and the tickets service's publishes of the
//! ticket's events; this file matches each publish to the pending event it relays (the oldest
//! still pending with the same subject, version and price: the relay publishes a ticket's
//! events in the order they were stored) and says each step in words.

use crate::model::databases::PendingId;
use crate::model::documents::Price;
use crate::model::events::Subject;
use crate::present::story::wording::{Payload, Said, Voice};

/// One of the ticket's pending events, as the story saw it.
struct Entry {
    id: PendingId,
    subject: Subject,
    version: Option<u64>,
    price: Price,
    /// The sequence number of its first publish, once relayed.
    published: Option<u64>,
}

/// The ticket's outbox as the trace tells it so far.
#[derive(Default)]
pub(super) struct Outbox {
    pending: Vec<Entry>,
    /// A restarted relay found one of the ticket's events still pending.
    pub(super) kept: bool,
    /// One of the ticket's events was relayed twice.
    pub(super) twice: bool,
    /// A replica acked one of the ticket's events without applying it.
    pub(super) dropped: bool,
}

/// A publish the relay made of a pending event.
pub(super) struct Relayed {
    /// The sequence number of the event's earlier publish, when this one is a second.
    pub(super) again_of: Option<u64>,
}

impl Outbox {
    /// A write stored the ticket's event `id`.
    pub(super) fn added(
        &mut self,
        id: PendingId,
        subject: Subject,
        version: Option<u64>,
        price: Price,
    ) {
        self.pending.push(Entry {
            id,
            subject,
            version,
            price,
            published: None,
        });
    }

    /// The tickets service published `subject` #`seq` of the ticket, carrying `version` and
    /// `price`: the relay's publish of a pending event, if one matches.
    pub(super) fn relayed(
        &mut self,
        subject: Subject,
        seq: u64,
        version: Option<u64>,
        price: Option<Price>,
    ) -> Option<Relayed> {
        let entry = self
            .pending
            .iter_mut()
            .find(|e| e.subject == subject && e.version == version && Some(e.price) == price)?;
        let again_of = entry.published;
        if again_of.is_none() {
            entry.published = Some(seq);
        } else {
            self.twice = true;
        }
        Some(Relayed { again_of })
    }

    /// A restarted relay found the pending event `id`: whether it is the ticket's, and the
    /// sequence number it was published under before, if it was.
    pub(super) fn found(&mut self, id: PendingId) -> Option<Option<u64>> {
        let entry = self.pending.iter().find(|e| e.id == id)?;
        self.kept = true;
        Some(entry.published)
    }

    /// The relay removed the pending event `id`: whether it was the ticket's.
    pub(super) fn removed(&mut self, id: PendingId) -> bool {
        let before = self.pending.len();
        self.pending.retain(|e| e.id != id);
        self.pending.len() < before
    }
}

/// What the write that stored the event adds to the write's own sentence and label.
pub(super) fn stored(subject: Subject) -> Said {
    (
        format!(", and in the same write puts its {subject} in the ticket's outbox"),
        " + outbox".to_owned(),
    )
}

/// The relay publishes a pending event, perhaps a second time.
pub(super) fn relay(voice: Voice, subject: Subject, seq: u64, m: Payload, r: &Relayed) -> Said {
    let what = voice.describe(subject, seq, m);
    match r.again_of {
        None => (
            format!("relays {what} from the outbox"),
            voice.label(subject, seq, m),
        ),
        Some(first) => (
            format!(
                "relays {what} from the outbox again: its publish as #{first} reached NATS, but the crash came before the relay removed it"
            ),
            format!("{} again", voice.label(subject, seq, m)),
        ),
    }
}

/// A restarted relay finds the event still pending; `published` is the sequence number of
/// the publish it made before the crash, if it made one.
pub(super) fn found(voice: Voice, subject: Subject, m: Payload, published: Option<u64>) -> Said {
    let mut what = format!("{subject}");
    let mut parts = Vec::new();
    if let Some(p) = m.price {
        parts.push(format!("price {p}"));
    }
    if let (Some(v), true) = (m.version, voice.versioned) {
        parts.push(format!("version {v}"));
    }
    if !parts.is_empty() {
        what = format!("{what} ({})", parts.join(", "));
    }
    let before = match published {
        Some(seq) => format!(": published as #{seq} before the crash, never removed"),
        None => ": the crash came before it was published".to_owned(),
    };
    (
        format!("starts its relay, which finds {what} still in the outbox{before}"),
        format!("{subject} still pending"),
    )
}

/// The relay removes a published event from the outbox.
pub(super) fn removed(subject: Subject) -> Said {
    (
        format!("removes its {subject} from the outbox: NATS has acked it"),
        "outbox: removed".to_owned(),
    )
}
