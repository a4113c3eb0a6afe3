//! The decisions of the later services about an order's life (expiry, payment, cancellation),
//! as pure functions over plain data, the companions of [`crate::model::decisions`] for the
//! expiration and payments sections of the course.
//!
//! As taught ([course-later-services.md](../../docs/course-later-services.md) §2, §3):
//! `ExpirationCompleteListener` cancels any order that is not complete; `PaymentCreatedListener`
//! completes any order; `DELETE /api/orders/:id` cancels whatever it finds; `POST /api/payments`
//! refuses only a cancelled order, as the payments service's replica says. Two switches change
//! that: `dedup` (every listener acks without a write an event whose effect is there already)
//! and `[cures] status-guards` (each step changes only an order in the status it expects).

use crate::model::decisions::{DropReason, Refusal};
use crate::model::documents::{Order, OrderStatus, PaymentsOrder};
use crate::model::occ::Occ;

/// What a listener of the later services does with an order it read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OrderDecision {
    /// Save the order in this status, then go on (publish, ack).
    Set(OrderStatus),
    /// Ack without writing.
    Drop(DropReason),
    /// Throw: no ack, so NATS redelivers after the ack wait.
    Refuse(Refusal),
    /// Refund the payment's charge, then ack without writing (`[cures] status-guards`: a
    /// payment for an order no longer payable).
    Refund,
}

/// The orders service's `ExpirationCompleteListener` (SG
/// `orders/src/events/listeners/expiration-complete-listener.ts` 24-31), given the order it
/// found: ack a complete order, cancel any other, a cancelled one included (its version bumps
/// and `order:cancelled` goes out again). With `dedup`, a cancelled order is acked as it is;
/// with status guards, only a created order is cancelled.
pub fn decide_expiration(occ: Occ, guards: bool, order: &Order) -> OrderDecision {
    match order.status {
        OrderStatus::Complete => OrderDecision::Drop(DropReason::OrderComplete),
        OrderStatus::Created | OrderStatus::AwaitingPayment => {
            OrderDecision::Set(OrderStatus::Cancelled)
        }
        OrderStatus::Cancelled if guards => OrderDecision::Drop(DropReason::StatusGuard),
        OrderStatus::Cancelled if occ == Occ::Dedup => {
            OrderDecision::Drop(DropReason::AlreadyApplied)
        }
        OrderStatus::Cancelled => OrderDecision::Set(OrderStatus::Cancelled),
    }
}

/// The orders service's `PaymentCreatedListener` (SG
/// `orders/src/events/listeners/payment-created-listener.ts` 16-25), given the order it found:
/// complete it, whatever its status (a cancelled order becomes complete). With `dedup`, a
/// complete order is acked as it is; with status guards, a cancelled order is not completed:
/// its charge is refunded (a step the course has no code for).
pub fn decide_payment_created(occ: Occ, guards: bool, order: &Order) -> OrderDecision {
    match order.status {
        OrderStatus::Cancelled if guards => OrderDecision::Refund,
        OrderStatus::Complete if occ == Occ::Dedup || guards => {
            OrderDecision::Drop(DropReason::AlreadyApplied)
        }
        _ => OrderDecision::Set(OrderStatus::Complete),
    }
}

/// Whether `DELETE /api/orders/:id` may cancel `order`: as taught, always (SG
/// `orders/src/routes/delete.ts` 27-28 has no status check, so a complete order is cancelled);
/// with status guards, only a created one.
pub fn may_cancel(guards: bool, order: &Order) -> bool {
    !guards || order.status == OrderStatus::Created
}

/// Whether `POST /api/payments` may charge for `order`, the payments service's replica: as
/// taught, unless it is cancelled (SG `payments/src/routes/new.ts` 35-37); with status guards,
/// only while it is created.
pub fn may_pay(guards: bool, order: &PaymentsOrder) -> bool {
    match order.status {
        OrderStatus::Cancelled => false,
        OrderStatus::Created => true,
        OrderStatus::AwaitingPayment | OrderStatus::Complete => !guards,
    }
}

/// The payments service's `OrderCancelledListener` (SG
/// `payments/src/events/listeners/order-cancelled-listener.ts` 16-26): find the order at the
/// version before the event's, cancel it. `stored` is the order as read by id (any version),
/// `version` the event's. Without OCC the event has no version and the order is found by id;
/// with `dedup` an event at or below the stored version is acked as applied.
pub fn decide_payments_cancelled(
    occ: Occ,
    stored: Option<&PaymentsOrder>,
    version: Option<u64>,
) -> OrderDecision {
    let Some(stored) = stored else {
        return OrderDecision::Refuse(Refusal::NotFound);
    };
    let cancel = OrderDecision::Set(OrderStatus::Cancelled);
    match (occ, version) {
        (Occ::Off, _) => cancel,
        (_, Some(v)) if v == stored.version + 1 => cancel,
        (Occ::Dedup, Some(v)) if v <= stored.version => {
            OrderDecision::Drop(DropReason::AlreadyApplied)
        }
        _ => OrderDecision::Refuse(Refusal::NotFound),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn order(status: OrderStatus) -> Order {
        Order {
            id: 1,
            version: 1,
            status,
            user_id: 2,
            expires_at_ms: 60_000,
            ticket: 3,
        }
    }

    fn replica(status: OrderStatus, version: u64) -> PaymentsOrder {
        PaymentsOrder {
            id: 1,
            version,
            status,
            user_id: 2,
            price: 20,
            ticket: 3,
        }
    }

    use OrderStatus::{Cancelled, Complete, Created};

    #[test]
    fn as_taught_an_expiration_cancels_anything_but_a_complete_order() {
        for occ in [Occ::Off, Occ::On] {
            assert_eq!(
                decide_expiration(occ, false, &order(Created)),
                OrderDecision::Set(Cancelled)
            );
            // A cancelled order is cancelled again: the course's only check is `Complete`.
            assert_eq!(
                decide_expiration(occ, false, &order(Cancelled)),
                OrderDecision::Set(Cancelled)
            );
            assert_eq!(
                decide_expiration(occ, false, &order(Complete)),
                OrderDecision::Drop(DropReason::OrderComplete)
            );
        }
        assert_eq!(
            decide_expiration(Occ::Dedup, false, &order(Cancelled)),
            OrderDecision::Drop(DropReason::AlreadyApplied)
        );
        assert_eq!(
            decide_expiration(Occ::On, true, &order(Cancelled)),
            OrderDecision::Drop(DropReason::StatusGuard)
        );
    }

    #[test]
    fn as_taught_a_payment_completes_any_order_even_a_cancelled_one() {
        for status in [Created, Cancelled, Complete] {
            assert_eq!(
                decide_payment_created(Occ::On, false, &order(status)),
                OrderDecision::Set(Complete),
                "{status:?}"
            );
        }
        assert_eq!(
            decide_payment_created(Occ::On, true, &order(Cancelled)),
            OrderDecision::Refund
        );
        assert_eq!(
            decide_payment_created(Occ::Dedup, false, &order(Complete)),
            OrderDecision::Drop(DropReason::AlreadyApplied)
        );
    }

    #[test]
    fn the_routes_refuse_only_what_the_course_or_the_guards_refuse() {
        assert!(may_cancel(false, &order(Complete)), "no guard in delete.ts");
        assert!(!may_cancel(true, &order(Complete)));
        assert!(may_cancel(true, &order(Created)));
        assert!(!may_pay(false, &replica(Cancelled, 1)));
        assert!(may_pay(false, &replica(Complete, 1)));
        assert!(!may_pay(true, &replica(Complete, 1)));
        assert!(may_pay(true, &replica(Created, 0)));
    }

    #[test]
    fn the_payments_replica_is_cancelled_only_at_the_next_version() {
        let at0 = replica(Created, 0);
        let cancel = OrderDecision::Set(Cancelled);
        let missing = OrderDecision::Refuse(Refusal::NotFound);
        assert_eq!(
            decide_payments_cancelled(Occ::On, Some(&at0), Some(1)),
            cancel
        );
        // A version gap (a payment bumped the order in the orders service) is never found.
        assert_eq!(
            decide_payments_cancelled(Occ::On, Some(&at0), Some(2)),
            missing
        );
        assert_eq!(decide_payments_cancelled(Occ::On, None, Some(1)), missing);
        // A redelivery of an applied cancellation: found by dedup only.
        let at1 = replica(Cancelled, 1);
        assert_eq!(
            decide_payments_cancelled(Occ::On, Some(&at1), Some(1)),
            missing
        );
        assert_eq!(
            decide_payments_cancelled(Occ::Dedup, Some(&at1), Some(1)),
            OrderDecision::Drop(DropReason::AlreadyApplied)
        );
        assert_eq!(
            decide_payments_cancelled(Occ::Off, Some(&at1), None),
            cancel
        );
    }
}
