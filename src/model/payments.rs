//! The payments service (StephenGrider/ticketing `payments/`): its replica of the orders, kept
//! by its listeners for `order:created` and `order:cancelled`
//! (`src/events/listeners/order-created-listener.ts`, `order-cancelled-listener.ts`), and its
//! route `POST /api/payments` (`src/routes/new.ts`), which charges the card processor, saves a
//! payment and publishes `payment:created` without waiting for it.
//!
//! Each `.await` below is one of the course's: a database call, the charge, or a publish.

use crate::model::decisions::{on_duplicate_created, DropReason, Handled, Refusal};
use crate::model::documents::{OrderId, Payment, PaymentsOrder};
use crate::model::events::{Event, OrderData, PaymentData};
use crate::model::http::{Cause, Response, Route};
use crate::model::lifecycle::{decide_payments_cancelled, may_pay, OrderDecision};
use crate::model::service::{Note, Service};

/// `OrderCreatedListener` (SG lines 10-21): build the replica from the event, insert it, ack.
/// mongoose stores version 0 whatever `build` is given (course-later-services.md §3.1), which
/// is what every `order:created` carries. A duplicate `_id` throws (E11000) and the message
/// comes back forever, unless `dedup` recognises it.
pub async fn order_created<S: Service>(svc: &S, by: Cause, data: &OrderData) -> Handled {
    let order = PaymentsOrder {
        id: data.id,
        version: 0,
        status: data.status,
        user_id: data.user_id,
        price: data.price.unwrap_or_default(),
        ticket: data.ticket,
    };
    svc.stall().await;
    match svc.insert(by, order).await {
        Ok(_) => Handled::Ack,
        Err(_) => match on_duplicate_created(svc.occ()) {
            Ok(()) => Handled::Drop(DropReason::Duplicate),
            Err(refusal) => Handled::Nack(refusal),
        },
    }
}

/// `OrderCancelledListener` (SG lines 15-29): `findOne({ _id, version: version - 1 })`, throw
/// if none, set cancelled, save, ack.
pub async fn order_cancelled<S: Service>(svc: &S, by: Cause, data: &OrderData) -> Handled {
    let stored = svc.find::<PaymentsOrder>(data.id).await;
    svc.stall().await;
    match decide_payments_cancelled(svc.occ(), stored.as_ref(), data.version) {
        OrderDecision::Set(status) => {
            let read = stored.expect("a cancellation applied read its order");
            let doc = PaymentsOrder {
                status,
                ..read.clone()
            };
            match svc.save(by, &read, doc).await {
                Ok(_) => Handled::Ack,
                Err(_) => Handled::Nack(Refusal::VersionConflict),
            }
        }
        OrderDecision::Drop(reason) => Handled::Drop(reason),
        OrderDecision::Refuse(refusal) => Handled::Nack(refusal),
        OrderDecision::Refund => unreachable!("a cancellation never refunds"),
    }
}

/// `POST /api/payments` (SG lines 18-57): find the order in the payments service's replica
/// (404), refuse a cancelled one (400), charge `price * 100` cents, save the payment, publish
/// `payment:created` without `await`, answer 201. The requester is the order's owner (the
/// workload pays its own orders), so the 401 of lines 32-34 never happens.
pub async fn create_payment<S: Service>(svc: &S, order_id: OrderId) -> Response {
    let Some(order) = svc.find::<PaymentsOrder>(order_id).await else {
        return Response::order(404, None, order_id);
    };
    let ticket = Some(order.ticket);
    if !may_pay(svc.status_guards(), &order) {
        if may_pay(false, &order) {
            // Payable as taught: refused by `[cures] status-guards`.
            svc.note(Note::Guarded {
                order: order_id,
                ticket: order.ticket,
            });
        }
        // BadRequestError('Cannot pay for an cancelled order').
        return Response::order(400, ticket, order_id);
    }
    let stripe_id = svc.charge(order_id, order.ticket, order.price).await;
    let payment = Payment {
        id: svc.next_payment_id(),
        version: 0,
        order_id,
        stripe_id,
    };
    let by = Cause::Request(Route::CreatePayment);
    let Ok(saved) = svc.insert(by, payment).await else {
        return Response::order(400, ticket, order_id);
    };
    // `new PaymentCreatedPublisher(...).publish(...)` without `await` (SG `new.ts` 49-53).
    svc.publish_unawaited(Event::PaymentCreated(PaymentData {
        id: saved.id,
        order_id,
        stripe_id,
        ticket: order.ticket,
    }));
    Response::order(201, ticket, order_id)
}
