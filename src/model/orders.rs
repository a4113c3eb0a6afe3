//! The orders service (StephenGrider/ticketing `orders/`), every replica of it: its routes
//! `POST /api/orders` (`src/routes/new.ts`) and `DELETE /api/orders/:id`
//! (`src/routes/delete.ts`), its listeners for `ticket:created` and `ticket:updated`
//! (`src/events/listeners/ticket-created-listener.ts`, `ticket-updated-listener.ts`), which
//! keep its own copy of every ticket, and, from section 20 on, its listeners for
//! `expiration:complete` and `payment:created` (`expiration-complete-listener.ts`,
//! `payment-created-listener.ts`), which end an order's life.
//!
//! Each `.await` below is one of the course's: a database call or a publish. The decision
//! between a listener's read and its write is a call into [`crate::model::decisions`].

use crate::model::decisions::{
    decide_ticket_updated, on_duplicate_created, replica_from_created, DropReason, Handled,
    Refusal, UpdateDecision,
};
use crate::model::documents::{Order, OrderId, OrderStatus, ReplicaTicket, TicketId, UserId};
use crate::model::events::{Event, ExpirationData, PaymentData, TicketData};
use crate::model::http::{Cause, Response, Route};
use crate::model::lifecycle::{
    decide_expiration, decide_payment_created, may_cancel, OrderDecision,
};
use crate::model::service::{Note, Service};
use crate::model::store::Save;

/// `POST /api/orders`: find the ticket (404), check that no order reserves it (400 "Ticket is
/// already reserved"), insert the order, publish `order:created` without waiting for it. The check and the insert are
/// separate steps: two concurrent requests can both pass the check.
pub async fn create_order<S: Service>(svc: &S, ticket: TicketId, user_id: UserId) -> Response {
    let Some(replica) = svc.find::<ReplicaTicket>(ticket).await else {
        return Response::ticket(404, ticket);
    };
    let reserving = svc.find_reserving_order(ticket).await;
    svc.note(Note::ReservedCheck {
        ticket,
        order: reserving,
    });
    if reserving.is_some() {
        // BadRequestError("Ticket is already reserved").
        return Response::ticket(400, ticket);
    }
    let order = Order {
        id: svc.next_order_id(),
        version: 0,
        status: OrderStatus::Created,
        user_id,
        expires_at_ms: svc.now_ms() + svc.expiration_window_ms(),
        ticket,
    };
    let id = order.id;
    let by = Cause::Request(Route::CreateOrder);
    let Ok(saved) = svc.insert(by, order).await else {
        return Response::order(400, Some(ticket), id);
    };
    // `new OrderCreatedPublisher(...).publish(...)` without `await` (SG `new.ts` 60): the
    // route answers 201 whatever becomes of the event.
    let event = Event::OrderCreated(saved.event_data(svc.occ(), Some(replica.price)));
    svc.publish_unawaited(event);
    Response::order(201, Some(ticket), id)
}

/// `DELETE /api/orders/:id`: find the order (404) and its ticket, set its status to cancelled,
/// save, publish `order:cancelled` without waiting for it.
pub async fn cancel_order<S: Service>(svc: &S, id: OrderId) -> Response {
    // `Order.findById(orderId).populate('ticket')` (SG `delete.ts` 19): the order, then, in a
    // second round trip, its ticket.
    let Some(read) = svc.find::<Order>(id).await else {
        return Response::order(404, None, id);
    };
    let populated = svc.find::<ReplicaTicket>(read.ticket).await;
    if !may_cancel(svc.status_guards(), &read) {
        // `[cures] status-guards`: only a created order can be cancelled.
        svc.note(Note::Guarded {
            order: id,
            ticket: read.ticket,
        });
        return Response::order(400, Some(read.ticket), id);
    }
    let order = Order {
        status: OrderStatus::Cancelled,
        ..read.clone()
    };
    let ticket = Some(read.ticket);
    let by = Cause::Request(Route::CancelOrder);
    let Ok(saved) = svc.save(by, &read, order).await else {
        return Response::order(400, ticket, id);
    };
    if populated.is_none() {
        // `order.ticket` is null: building the event's `ticket.id` (SG `delete.ts` 34) throws
        // after the save, and the error handler answers 400.
        return Response::order(400, ticket, id);
    }
    // Published without `await` (SG `delete.ts` 31), as on creation.
    let event = Event::OrderCancelled(saved.event_data(svc.occ(), None));
    svc.publish_unawaited(event);
    Response::order(204, ticket, id)
}

/// `TicketCreatedListener`: build the replica, save it, ack.
pub async fn ticket_created<S: Service>(svc: &S, by: Cause, data: &TicketData) -> Handled {
    svc.stall().await;
    match svc.insert(by, replica_from_created(data)).await {
        Ok(_) => Handled::Ack,
        Err(_) => match on_duplicate_created(svc.occ()) {
            Ok(()) => Handled::Drop(DropReason::Duplicate),
            Err(refusal) => Handled::Nack(refusal),
        },
    }
}

/// `TicketUpdatedListener`: find the ticket by the event (`findByEvent`: its id, at the
/// version before the event's), set title and price, save, ack.
pub async fn ticket_updated<S: Service>(svc: &S, by: Cause, data: &TicketData) -> Handled {
    let stored = svc.find::<ReplicaTicket>(data.id).await;
    svc.stall().await;
    match decide_ticket_updated(svc.occ(), stored.as_ref(), data) {
        UpdateDecision::Apply { doc, conditional } => {
            let mode = if conditional {
                Save::Conditional
            } else {
                Save::Overwrite
            };
            let read = stored.expect("an applied update read its replica");
            match svc.save_with(by, &read, doc, mode).await {
                Ok(_) => Handled::Ack,
                Err(_) => Handled::Nack(Refusal::VersionConflict),
            }
        }
        UpdateDecision::Drop => Handled::Drop(DropReason::Stale),
        UpdateDecision::Refuse(refusal) => Handled::Nack(refusal),
    }
}

/// `ExpirationCompleteListener` (SG lines 18-41): `Order.findById(orderId).populate('ticket')`
/// (the order, then its ticket), throw if none, ack a complete order, otherwise set cancelled,
/// save, `await` the publish of `order:cancelled` (unlike DELETE's), ack.
pub async fn expiration_complete<S: Service>(svc: &S, by: Cause, data: &ExpirationData) -> Handled {
    let Some(read) = svc.find::<Order>(data.order_id).await else {
        return Handled::Nack(Refusal::NotFound);
    };
    let populated = svc.find::<ReplicaTicket>(read.ticket).await;
    svc.stall().await;
    let doc = match decide_expiration(svc.occ(), svc.status_guards(), &read) {
        OrderDecision::Set(status) => Order {
            status,
            ..read.clone()
        },
        OrderDecision::Drop(reason) => return Handled::Drop(reason),
        OrderDecision::Refuse(refusal) => return Handled::Nack(refusal),
        OrderDecision::Refund => unreachable!("an expiry never refunds"),
    };
    let Ok(saved) = svc.save(by, &read, doc).await else {
        return Handled::Nack(Refusal::VersionConflict);
    };
    if populated.is_none() {
        // `ticket: { id: order.ticket.id }` of a null ticket throws after the save.
        return Handled::Nack(Refusal::NotFound);
    }
    let event = Event::OrderCancelled(saved.event_data(svc.occ(), None));
    if svc.publish(event).await.is_err() {
        return Handled::Nack(Refusal::PublishFailed);
    }
    Handled::Ack
}

/// `PaymentCreatedListener` (SG lines 15-28): `Order.findById(orderId)` (no version: the event
/// carries none), throw if none, set complete with no status check, save, ack. It publishes
/// nothing, so the order's new version reaches no other service.
pub async fn payment_created<S: Service>(svc: &S, by: Cause, data: &PaymentData) -> Handled {
    let Some(read) = svc.find::<Order>(data.order_id).await else {
        return Handled::Nack(Refusal::NotFound);
    };
    svc.stall().await;
    let doc = match decide_payment_created(svc.occ(), svc.status_guards(), &read) {
        OrderDecision::Set(status) => Order {
            status,
            ..read.clone()
        },
        OrderDecision::Drop(reason) => return Handled::Drop(reason),
        OrderDecision::Refuse(refusal) => return Handled::Nack(refusal),
        OrderDecision::Refund => {
            svc.refund(data.stripe_id, data.order_id, read.ticket).await;
            return Handled::Drop(DropReason::StatusGuard);
        }
    };
    match svc.save(by, &read, doc).await {
        Ok(_) => Handled::Ack,
        Err(_) => Handled::Nack(Refusal::VersionConflict),
    }
}
