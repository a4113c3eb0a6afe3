//! The ticketing system's data and the decisions its services make, as plain data and pure
//! functions. Nothing here knows about the bus, the scheduler or simulated time: the async
//! shells in [`crate::services`] call these functions between their awaits, and the unit tests
//! below exercise them without a runtime.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::rc::Rc;

/// Identifier of a ticket (MongoDB's `_id`), assigned by the tickets service in creation order.
pub type TicketId = u32;

/// A price in whole currency units. The course's scripts use whole prices (5, 10, 15).
pub type Price = u32;

/// Identifier of the user who owns a ticket.
pub type UserId = u32;

/// The concurrency-control mode of the whole system (DESIGN §4), the `--occ` switch.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    clap::ValueEnum,
)]
#[serde(rename_all = "kebab-case")]
pub enum Occ {
    /// No versions: events carry none, saves are last-write-wins.
    Off,
    /// As taught: events carry the version, a replica applies only version `stored + 1`, saves
    /// are conditional. A duplicate of an applied event is never acked.
    On,
    /// Beyond the course: as `on`, but an event at or below the stored version is acked and
    /// dropped, and a duplicate `ticket:created` is acked.
    Dedup,
}

impl Occ {
    /// Every mode, in the order reports list them.
    pub const ALL: [Occ; 3] = [Occ::Off, Occ::On, Occ::Dedup];

    /// Whether records are versioned and saves conditional (mongoose-update-if-current).
    pub fn versioned(self) -> bool {
        self != Occ::Off
    }

    /// The mode's name as the CLI and reports spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            Occ::Off => "off",
            Occ::On => "on",
            Occ::Dedup => "dedup",
        }
    }
}

impl fmt::Display for Occ {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A NATS Streaming channel name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Subject {
    /// `ticket:created`
    #[serde(rename = "ticket:created")]
    TicketCreated,
    /// `ticket:updated`
    #[serde(rename = "ticket:updated")]
    TicketUpdated,
}

impl Subject {
    /// The subject as the course spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Subject::TicketCreated => "ticket:created",
            Subject::TicketUpdated => "ticket:updated",
        }
    }
}

impl fmt::Display for Subject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The data of `ticket:created` and `ticket:updated` (DESIGN §2).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct TicketData {
    /// The ticket's id.
    pub id: TicketId,
    /// The version the tickets service saved; `None` when OCC is off (events carry no version).
    pub version: Option<u64>,
    /// Title at the time of the save.
    pub title: Rc<str>,
    /// Price at the time of the save.
    pub price: Price,
    /// Owner.
    pub user_id: UserId,
}

/// A message's payload on the bus.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Event {
    /// Published by the tickets service after inserting a ticket.
    TicketCreated(TicketData),
    /// Published by the tickets service after saving a change to a ticket.
    TicketUpdated(TicketData),
}

impl Event {
    /// The channel this event is published on.
    pub fn subject(&self) -> Subject {
        match self {
            Event::TicketCreated(_) => Subject::TicketCreated,
            Event::TicketUpdated(_) => Subject::TicketUpdated,
        }
    }

    /// The ticket data the event carries.
    pub fn ticket(&self) -> &TicketData {
        match self {
            Event::TicketCreated(t) | Event::TicketUpdated(t) => t,
        }
    }
}

/// A document in a versioned MongoDB collection.
pub trait Document: Clone {
    /// The document's `_id`.
    fn id(&self) -> TicketId;
    /// The version field the update-if-current plugin maintains.
    fn version(&self) -> u64;
    /// Sets the version (only the store does this, when a save succeeds).
    fn set_version(&mut self, version: u64);
    /// Title, for the trace's `db.write` lines.
    fn title(&self) -> &Rc<str>;
    /// Price, for the trace's `db.write` lines.
    fn price(&self) -> Price;
}

/// The tickets service's record of a ticket: the source of truth.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ticket {
    /// `_id`.
    pub id: TicketId,
    /// Version (stays 0 when OCC is off: nothing increments it).
    pub version: u64,
    /// Title.
    pub title: Rc<str>,
    /// Price.
    pub price: Price,
    /// Owner.
    pub user_id: UserId,
}

impl Ticket {
    /// The data the tickets service publishes after saving this record.
    pub fn event_data(&self, occ: Occ) -> TicketData {
        TicketData {
            id: self.id,
            version: occ.versioned().then_some(self.version),
            title: self.title.clone(),
            price: self.price,
            user_id: self.user_id,
        }
    }
}

/// The orders service's replica of a ticket (its own `tickets` collection).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReplicaTicket {
    /// `_id`, the same as the tickets service's.
    pub id: TicketId,
    /// Version of the last applied event (0 after `ticket:created`).
    pub version: u64,
    /// Title.
    pub title: Rc<str>,
    /// Price.
    pub price: Price,
}

macro_rules! impl_document {
    ($ty:ty) => {
        impl Document for $ty {
            fn id(&self) -> TicketId {
                self.id
            }
            fn version(&self) -> u64 {
                self.version
            }
            fn set_version(&mut self, version: u64) {
                self.version = version;
            }
            fn title(&self) -> &Rc<str> {
                &self.title
            }
            fn price(&self) -> Price {
                self.price
            }
        }
    };
}
impl_document!(Ticket);
impl_document!(ReplicaTicket);

/// Why a listener did not ack a message (it "threw", in the course's words).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Refusal {
    /// `findById` / `findByEvent` found nothing: the ticket is missing or not at `version - 1`.
    NotFound,
    /// The conditional save found a different version stored (mongoose's VersionError).
    VersionConflict,
    /// `insert` of an id that exists (E11000 duplicate key).
    DuplicateKey,
}

impl Refusal {
    /// The reason as trace lines and reports spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            Refusal::NotFound => "not-found",
            Refusal::VersionConflict => "version-conflict",
            Refusal::DuplicateKey => "duplicate-key",
        }
    }
}

/// What the orders service does with a `ticket:updated` event, given the replica it read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UpdateDecision {
    /// Save this document. `conditional` saves succeed only if the stored version still equals
    /// `doc.version` and store `doc.version + 1`; unconditional saves overwrite.
    Apply {
        /// The replica with the event's title and price, at the version that was read.
        doc: ReplicaTicket,
        /// Whether the save is guarded by the version plugin.
        conditional: bool,
    },
    /// Ack without writing: the event is at or below the stored version (`dedup` only).
    Drop,
    /// Do not ack; the bus redelivers after the ack wait.
    Refuse(Refusal),
}

/// The orders service's `ticket:updated` listener, between its read and its write (DESIGN §4).
///
/// `stored` is what the listener's find returned for the event's ticket id (any version); the
/// course's `findByEvent` (find by id and `version - 1`) is this read plus the version
/// comparison below, which is equivalent because a single-document read is atomic.
pub fn decide_ticket_updated(
    occ: Occ,
    stored: Option<&ReplicaTicket>,
    event: &TicketData,
) -> UpdateDecision {
    let apply = |t: &ReplicaTicket| UpdateDecision::Apply {
        doc: ReplicaTicket {
            title: event.title.clone(),
            price: event.price,
            ..t.clone()
        },
        conditional: occ.versioned(),
    };
    let Some(stored) = stored else {
        return UpdateDecision::Refuse(Refusal::NotFound);
    };
    match occ {
        Occ::Off => apply(stored),
        Occ::On => match event.version {
            Some(v) if v == stored.version + 1 => apply(stored),
            _ => UpdateDecision::Refuse(Refusal::NotFound),
        },
        Occ::Dedup => match event.version {
            Some(v) if v <= stored.version => UpdateDecision::Drop,
            Some(v) if v == stored.version + 1 => apply(stored),
            _ => UpdateDecision::Refuse(Refusal::NotFound),
        },
    }
}

/// The replica the orders service's `ticket:created` listener inserts (`Ticket.build`).
pub fn replica_from_created(event: &TicketData) -> ReplicaTicket {
    ReplicaTicket {
        id: event.id,
        version: 0,
        title: event.title.clone(),
        price: event.price,
    }
}

/// What the `ticket:created` listener does when its insert hits an existing id: as taught the
/// error propagates and the message is never acked; `dedup` recognises the duplicate and acks.
pub fn on_duplicate_created(occ: Occ) -> Result<(), Refusal> {
    match occ {
        Occ::Dedup => Ok(()),
        Occ::Off | Occ::On => Err(Refusal::DuplicateKey),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn replica(version: u64, price: Price) -> ReplicaTicket {
        ReplicaTicket {
            id: 1,
            version,
            title: "concert".into(),
            price,
        }
    }

    fn updated(version: Option<u64>, price: Price) -> TicketData {
        TicketData {
            id: 1,
            version,
            title: "concert".into(),
            price,
            user_id: 9,
        }
    }

    #[test]
    fn off_applies_whatever_arrives_unconditionally() {
        let d = decide_ticket_updated(Occ::Off, Some(&replica(0, 15)), &updated(None, 10));
        assert_eq!(
            d,
            UpdateDecision::Apply {
                doc: replica(0, 10),
                conditional: false
            }
        );
    }

    #[test]
    fn on_applies_only_the_next_version() {
        let next = decide_ticket_updated(Occ::On, Some(&replica(1, 10)), &updated(Some(2), 15));
        assert_eq!(
            next,
            UpdateDecision::Apply {
                doc: replica(1, 15),
                conditional: true
            }
        );
        for version in [0, 1, 3] {
            let d =
                decide_ticket_updated(Occ::On, Some(&replica(1, 10)), &updated(Some(version), 15));
            assert_eq!(
                d,
                UpdateDecision::Refuse(Refusal::NotFound),
                "version {version}"
            );
        }
    }

    #[test]
    fn dedup_drops_stale_and_refuses_gaps() {
        let stored = replica(2, 15);
        assert_eq!(
            decide_ticket_updated(Occ::Dedup, Some(&stored), &updated(Some(1), 10)),
            UpdateDecision::Drop
        );
        assert_eq!(
            decide_ticket_updated(Occ::Dedup, Some(&stored), &updated(Some(2), 15)),
            UpdateDecision::Drop
        );
        assert_eq!(
            decide_ticket_updated(Occ::Dedup, Some(&stored), &updated(Some(4), 20)),
            UpdateDecision::Refuse(Refusal::NotFound)
        );
    }

    #[test]
    fn a_missing_replica_is_refused_in_every_mode() {
        for occ in Occ::ALL {
            assert_eq!(
                decide_ticket_updated(occ, None, &updated(Some(1), 10)),
                UpdateDecision::Refuse(Refusal::NotFound)
            );
        }
    }

    #[test]
    fn duplicate_created_is_acked_only_by_dedup() {
        assert_eq!(on_duplicate_created(Occ::Off), Err(Refusal::DuplicateKey));
        assert_eq!(on_duplicate_created(Occ::On), Err(Refusal::DuplicateKey));
        assert_eq!(on_duplicate_created(Occ::Dedup), Ok(()));
    }

    #[test]
    fn events_carry_versions_only_with_occ() {
        let t = Ticket {
            id: 3,
            version: 2,
            title: "t".into(),
            price: 5,
            user_id: 1,
        };
        assert_eq!(t.event_data(Occ::Off).version, None);
        assert_eq!(t.event_data(Occ::On).version, Some(2));
    }
}
