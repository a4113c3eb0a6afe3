//! The decisions the services make between their awaits, as pure functions over plain data.
//!
//! Nothing here waits, draws or records: the listeners in [`crate::model::tickets`] and
//! [`crate::model::orders`] call these between their database calls, and the unit tests below
//! exercise them without a runtime (the "sync core, async shell" habit of `STYLE.md`).

use crate::model::documents::ReplicaTicket;
use crate::model::events::TicketData;
use crate::model::occ::Occ;
use serde::Serialize;

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
    /// The listener's own publish failed (its publisher was cut off from the bus).
    PublishFailed,
}

impl Refusal {
    /// The reason as trace lines and reports spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            Refusal::NotFound => "not-found",
            Refusal::VersionConflict => "version-conflict",
            Refusal::DuplicateKey => "duplicate-key",
            Refusal::PublishFailed => "publish-failed",
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

/// What a listener did with a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Handled {
    /// Applied and acked.
    Ack,
    /// Acked without applying.
    Drop(DropReason),
    /// Threw: not acked.
    Nack(Refusal),
}

/// Why a delivered message was acked without being applied (`dedup` only).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum DropReason {
    /// A `ticket:updated` at or below the stored version.
    Stale,
    /// A `ticket:created` for a ticket that exists.
    Duplicate,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::documents::Price;

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
            order_id: None,
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
}
