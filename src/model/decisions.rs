//! The decisions the services make between their awaits, as pure functions over plain data.
//!
//! Nothing here waits, draws or records: the listeners in [`crate::model::tickets`] and
//! [`crate::model::orders`] call these between their database calls, and the unit tests below
//! exercise them without a runtime (the "sync core, async shell" habit of `STYLE.md`).

use crate::model::documents::{OrderId, ReplicaTicket, Ticket};
use crate::model::events::TicketData;
use crate::model::occ::Occ;
use serde::{Deserialize, Serialize};

/// Why a listener did not ack a message (it "threw", in the course's words).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
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
    /// `order:cancelled` for an order the ticket does not name and has never named: that
    /// order's `order:created` is not applied yet (`[cures] ordered-order-events`).
    OrderNotApplied,
    /// `order:created` for a ticket another order still holds: that order's cancellation is not
    /// applied yet (`[cures] ordered-order-events`).
    ReservedByAnotherOrder,
}

impl Refusal {
    /// The reason as trace lines and reports spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            Refusal::NotFound => "not-found",
            Refusal::VersionConflict => "version-conflict",
            Refusal::DuplicateKey => "duplicate-key",
            Refusal::PublishFailed => "publish-failed",
            Refusal::OrderNotApplied => "order-not-applied",
            Refusal::ReservedByAnotherOrder => "reserved-by-another-order",
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

/// Why a delivered message was acked without being applied (`dedup`, or a cure).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum DropReason {
    /// A `ticket:updated` at or below the stored version.
    Stale,
    /// A `ticket:created` for a ticket that exists.
    Duplicate,
    /// An order event the ticket has applied already: `order:created` of the order it names or
    /// has named last, `order:cancelled` of the order it has released (`[cures]
    /// ordered-order-events`).
    AlreadyApplied,
    /// `expiration:complete` for a complete order: the course's one status check
    /// (`expiration-complete-listener.ts` 24-26).
    OrderComplete,
    /// An order not in the status the step expects (`[cures] status-guards`).
    StatusGuard,
}

/// What the tickets service's order listeners do between their read and their write.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReservationDecision {
    /// Save the ticket reserved by this order (`Some`) or free (`None`), publish, ack.
    Apply(Option<OrderId>),
    /// Ack without writing.
    Drop(DropReason),
    /// Throw: no ack, so NATS redelivers after the ack wait.
    Refuse(Refusal),
}

/// `OrderCreatedListener` for `order`, given the ticket it found. As taught (`ordered` false)
/// it reserves whatever the ticket holds; with `dedup` it acks without a write a ticket that
/// names the order already (a redelivery). With `[cures] ordered-order-events` it acks an order
/// it has applied already (a redelivery, or a creation after its own cancellation), and throws
/// while another order holds the ticket, until that order's cancellation is applied.
pub fn decide_order_created(
    ordered: bool,
    dedup: bool,
    ticket: &Ticket,
    order: OrderId,
) -> ReservationDecision {
    if !ordered {
        if dedup && ticket.order_id == Some(order) {
            return ReservationDecision::Drop(DropReason::AlreadyApplied);
        }
        return ReservationDecision::Apply(Some(order));
    }
    if ticket.applied_orders.contains(&order) {
        ReservationDecision::Drop(DropReason::AlreadyApplied)
    } else if ticket.order_id.is_some() {
        ReservationDecision::Refuse(Refusal::ReservedByAnotherOrder)
    } else {
        ReservationDecision::Apply(Some(order))
    }
}

/// `OrderCancelledListener` for `order`, given the ticket it found. As taught (`ordered` false)
/// it frees the ticket whatever it holds; with `dedup` it acks without a write a ticket another
/// order holds: the cancellation's effect, "not held by this order", is there already. (A
/// free ticket is freed again, as taught: "free" may only mean that the order's creation is
/// not applied yet, and a cancellation dropped then is lost for good, catalogue #6.) With `[cures] ordered-order-events` it frees only a
/// ticket that names `order`; it acks a cancellation the ticket has applied already, and
/// throws for an order whose `order:created` is not applied yet (an order's events are taken
/// in version order: created, version 0, before cancelled).
pub fn decide_order_cancelled(
    ordered: bool,
    dedup: bool,
    ticket: &Ticket,
    order: OrderId,
) -> ReservationDecision {
    if !ordered && dedup && ticket.order_id.is_some_and(|held| held != order) {
        ReservationDecision::Drop(DropReason::AlreadyApplied)
    } else if !ordered || ticket.order_id == Some(order) {
        ReservationDecision::Apply(None)
    } else if ticket.applied_orders.contains(&order) {
        ReservationDecision::Drop(DropReason::AlreadyApplied)
    } else {
        ReservationDecision::Refuse(Refusal::OrderNotApplied)
    }
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

    /// A ticket holding `order_id`, whose applied creations were `applied` (only the last one
    /// given, as `Some`, in most tests).
    fn ticket(order_id: Option<OrderId>, applied: Option<OrderId>) -> Ticket {
        Ticket {
            id: 1,
            version: 0,
            title: "concert".into(),
            price: 20,
            user_id: 9,
            order_id,
            applied_orders: applied.into_iter().collect(),
        }
    }

    #[test]
    fn as_taught_the_order_listeners_set_whatever_arrives() {
        for held in [
            ticket(None, None),
            ticket(Some(2), None),
            ticket(None, Some(3)),
        ] {
            assert_eq!(
                decide_order_created(false, false, &held, 3),
                ReservationDecision::Apply(Some(3))
            );
            // Even a cancellation of an order the ticket never named frees it.
            assert_eq!(
                decide_order_cancelled(false, false, &held, 3),
                ReservationDecision::Apply(None)
            );
        }
    }

    #[test]
    fn ordered_created_reserves_a_free_ticket_and_waits_for_another_orders_cancellation() {
        assert_eq!(
            decide_order_created(true, false, &ticket(None, None), 3),
            ReservationDecision::Apply(Some(3))
        );
        // Free again after order 2's cancellation: order 3 may reserve it.
        assert_eq!(
            decide_order_created(true, false, &ticket(None, Some(2)), 3),
            ReservationDecision::Apply(Some(3))
        );
        assert_eq!(
            decide_order_created(true, false, &ticket(Some(2), Some(2)), 3),
            ReservationDecision::Refuse(Refusal::ReservedByAnotherOrder)
        );
    }

    #[test]
    fn ordered_created_acks_an_order_applied_already() {
        // A redelivery while the ticket holds the order, and one after its cancellation.
        for held in [ticket(Some(3), Some(3)), ticket(None, Some(3))] {
            assert_eq!(
                decide_order_created(true, false, &held, 3),
                ReservationDecision::Drop(DropReason::AlreadyApplied)
            );
        }
    }

    /// A's creation applied but its ack lost, A cancelled, then B reserving: A's creation comes
    /// back while B holds the ticket, and again after B's cancellation. Remembering only the
    /// last order applied (B) threw the first time and reserved the ticket for the cancelled A
    /// the second time; every order applied is remembered, so both are acked without a write.
    #[test]
    fn ordered_created_acks_an_earlier_order_applied_already_whoever_came_after() {
        let held_by_b = Ticket {
            applied_orders: vec![1, 2],
            ..ticket(Some(2), None)
        };
        let freed_by_b = Ticket {
            order_id: None,
            ..held_by_b.clone()
        };
        for held in [held_by_b, freed_by_b] {
            assert_eq!(
                decide_order_created(true, false, &held, 1),
                ReservationDecision::Drop(DropReason::AlreadyApplied)
            );
            // And A's cancellation, again: applied already.
            assert_eq!(
                decide_order_cancelled(true, false, &held, 1),
                ReservationDecision::Drop(DropReason::AlreadyApplied)
            );
        }
    }

    #[test]
    fn ordered_cancelled_frees_only_the_order_it_names() {
        assert_eq!(
            decide_order_cancelled(true, false, &ticket(Some(3), Some(3)), 3),
            ReservationDecision::Apply(None)
        );
        // Cancelled before created: the ticket never named order 3, so it waits (no ack).
        for held in [
            ticket(None, None),
            ticket(None, Some(2)),
            ticket(Some(2), Some(2)),
        ] {
            assert_eq!(
                decide_order_cancelled(true, false, &held, 3),
                ReservationDecision::Refuse(Refusal::OrderNotApplied)
            );
        }
        // Applied already: a duplicate is acked without a change.
        assert_eq!(
            decide_order_cancelled(true, false, &ticket(None, Some(3)), 3),
            ReservationDecision::Drop(DropReason::AlreadyApplied)
        );
    }

    #[test]
    fn dedup_acks_an_order_event_whose_effect_is_there_already() {
        let dedup = |f: fn(bool, bool, &Ticket, OrderId) -> ReservationDecision, held| {
            f(false, true, &ticket(held, None), 3)
        };
        let applied = ReservationDecision::Drop(DropReason::AlreadyApplied);
        // A redelivered creation of the order the ticket names: no second write.
        assert_eq!(dedup(decide_order_created, Some(3)), applied);
        assert_eq!(
            dedup(decide_order_created, Some(2)),
            ReservationDecision::Apply(Some(3))
        );
        // A cancellation of an order while the next one holds the ticket leaves it held (the
        // stale expiration's second order:cancelled).
        assert_eq!(dedup(decide_order_cancelled, Some(2)), applied);
        // A free ticket is freed as taught: its order's creation may still be on its way.
        assert_eq!(
            dedup(decide_order_cancelled, None),
            ReservationDecision::Apply(None)
        );
        assert_eq!(
            dedup(decide_order_cancelled, Some(3)),
            ReservationDecision::Apply(None)
        );
    }

    #[test]
    fn duplicate_created_is_acked_only_by_dedup() {
        assert_eq!(on_duplicate_created(Occ::Off), Err(Refusal::DuplicateKey));
        assert_eq!(on_duplicate_created(Occ::On), Err(Refusal::DuplicateKey));
        assert_eq!(on_duplicate_created(Occ::Dedup), Ok(()));
    }
}
