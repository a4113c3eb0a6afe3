//! The tickets service, the source of truth for tickets (StephenGrider/ticketing `tickets/`):
//! its routes `POST /api/tickets` (`src/routes/new.ts`) and `PUT /api/tickets/:id`
//! (`src/routes/update.ts`), and its listeners for `order:created` and `order:cancelled`
//! (`src/events/listeners/order-created-listener.ts`, `order-cancelled-listener.ts`).
//!
//! Each `.await` below is one of the course's: a database call or a publish. The routes await
//! their publishes as the section-19 code does (chesterheng/microservices-node-react
//! `section-19/ticketing/tickets/src/routes/new.ts` 29, `update.ts` 45); StephenGrider's final
//! code does not.
//!
//! With `[cures] transactional-outbox` (beyond the course) each of them stores its event with
//! the ticket, in the same write, and publishes nothing: a route answers, a listener acks, as
//! soon as that write is done, and the relay of [`crate::model::outbox`] publishes the event.

use crate::model::decisions::{
    decide_order_cancelled, decide_order_created, Handled, Refusal, ReservationDecision,
};
use crate::model::documents::{OrderId, Price, Ticket, TicketId, UserId};
use crate::model::events::{Event, OrderData, Subject};
use crate::model::http::{Cause, Response, Route};
use crate::model::occ::Occ;
use crate::model::service::Service;
use crate::model::store::WriteError;
use std::future::Future;
use std::rc::Rc;

/// `POST /api/tickets`: build the ticket, save it, publish `ticket:created`.
pub async fn create_ticket<S: Service>(
    svc: &S,
    title: Rc<str>,
    price: Price,
    user_id: UserId,
) -> Response {
    let ticket = Ticket {
        id: svc.next_ticket_id(),
        version: 0,
        title,
        price,
        user_id,
        order_id: None,
        applied_orders: Vec::new(),
    };
    let id = ticket.id;
    let by = Cause::Request(Route::CreateTicket);
    if svc.transactional_outbox() {
        // The ticket and its `ticket:created` in one write; the relay publishes it.
        return match svc
            .insert_with_event(by, ticket, Subject::TicketCreated)
            .await
        {
            Ok(_) => Response::ticket(201, id),
            Err(_) => Response::ticket(400, id),
        };
    }
    let saved = match svc.insert(by, ticket).await {
        Ok(saved) => saved,
        Err(_) => return Response::ticket(400, id),
    };
    let event = Event::TicketCreated(saved.event_data(svc.occ()));
    if svc.publish(event).await.is_err() {
        // The ticket is saved, its event lost; the rejection reaches the course's error
        // handler, which answers 400 "Something went wrong" (common `error-handler.ts` 15-17).
        return Response::ticket(400, id);
    }
    Response::ticket(201, id)
}

/// `PUT /api/tickets/:id`: find the ticket (404), refuse a reserved one (400), set title and
/// price, save, publish `ticket:updated`.
pub async fn update_ticket<S: Service>(
    svc: &S,
    id: TicketId,
    title: Rc<str>,
    price: Price,
) -> Response {
    let Some(read) = svc.find::<Ticket>(id).await else {
        return Response::ticket(404, id);
    };
    if read.order_id.is_some() {
        // BadRequestError("Cannot edit a reserved ticket").
        return Response::ticket(400, id);
    }
    let ticket = Ticket {
        title,
        price,
        ..read.clone()
    };
    let by = Cause::Request(Route::UpdateTicket);
    if svc.transactional_outbox() {
        // The change and its `ticket:updated` in one write (a VersionError still answers 400).
        return match svc
            .save_with_event(by, &read, ticket, Subject::TicketUpdated)
            .await
        {
            Ok(_) => Response::ticket(200, id),
            Err(_) => Response::ticket(400, id),
        };
    }
    let saved = match svc.save(by, &read, ticket).await {
        Ok(saved) => saved,
        // A concurrent write saved first: mongoose throws a VersionError and the course's
        // error handler answers 400 "Something went wrong".
        Err(WriteError::VersionConflict | WriteError::DuplicateKey) => {
            return Response::ticket(400, id)
        }
    };
    let event = Event::TicketUpdated(saved.event_data(svc.occ()));
    if svc.publish(event).await.is_err() {
        return Response::ticket(400, id);
    }
    Response::ticket(200, id)
}

/// `OrderCreatedListener`: mark the ticket reserved by the order.
pub fn order_created<'a, S: Service>(
    svc: &'a S,
    by: Cause,
    data: &'a OrderData,
) -> impl Future<Output = Handled> + use<'a, S> {
    reserve(svc, by, data, Some(data.id))
}

/// `OrderCancelledListener`: mark the ticket free again.
pub fn order_cancelled<'a, S: Service>(
    svc: &'a S,
    by: Cause,
    data: &'a OrderData,
) -> impl Future<Output = Handled> + use<'a, S> {
    reserve(svc, by, data, None)
}

/// Both reservation listeners: find the ticket, set its order id, save, publish
/// `ticket:updated`, ack. As taught neither looks at the order's version, nor checks that a
/// cancellation is for the order that holds the ticket; with `[cures] ordered-order-events`
/// they decide between the read and the write ([`decide_order_created`],
/// [`decide_order_cancelled`]), and a creation adds its order to the ticket's
/// `applied_orders`. With `[cures] transactional-outbox` the save stores `ticket:updated` with
/// the ticket and the listener acks once it is done.
async fn reserve<S: Service>(
    svc: &S,
    by: Cause,
    data: &OrderData,
    order_id: Option<OrderId>,
) -> Handled {
    let Some(read) = svc.find::<Ticket>(data.ticket).await else {
        return Handled::Nack(Refusal::NotFound);
    };
    svc.stall().await;
    let ordered = svc.ordered_order_events();
    let dedup = svc.occ() == Occ::Dedup;
    let decision = match order_id {
        Some(_) => decide_order_created(ordered, dedup, &read, data.id),
        None => decide_order_cancelled(ordered, dedup, &read, data.id),
    };
    let ticket = match decision {
        ReservationDecision::Apply(order_id) => {
            let mut applied_orders = read.applied_orders.clone();
            if ordered {
                applied_orders.extend(order_id);
            }
            Ticket {
                order_id,
                applied_orders,
                ..read.clone()
            }
        }
        ReservationDecision::Drop(reason) => return Handled::Drop(reason),
        ReservationDecision::Refuse(reason) => return Handled::Nack(reason),
    };
    // The course publishes after reserving; `publish-on-reserve = false` shows what follows
    // when that line is missing. A cancellation always publishes.
    let publishes = order_id.is_none() || svc.publish_on_reserve();
    if publishes && svc.transactional_outbox() {
        return match svc
            .save_with_event(by, &read, ticket, Subject::TicketUpdated)
            .await
        {
            Ok(_) => Handled::Ack,
            Err(_) => Handled::Nack(Refusal::VersionConflict),
        };
    }
    let Ok(saved) = svc.save(by, &read, ticket).await else {
        return Handled::Nack(Refusal::VersionConflict);
    };
    if publishes {
        let event = Event::TicketUpdated(saved.event_data(svc.occ()));
        if svc.publish(event).await.is_err() {
            return Handled::Nack(Refusal::PublishFailed);
        }
    }
    Handled::Ack
}
