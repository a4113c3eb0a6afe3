//! The services' async code, shaped like the course's route handlers and listeners: each
//! `.await` (a database call, a publish) is where another request or delivery can run.
//!
//! The decisions between the awaits are the pure functions of [`crate::domain`].

use crate::bus::{self, Listener, Message};
use crate::domain::{
    decide_ticket_updated, on_duplicate_created, replica_from_created, Event, Order, OrderData,
    OrderId, OrderStatus, Price, Refusal, Ticket, TicketData, TicketId, UpdateDecision, UserId,
    ORDER_EXPIRATION_MS,
};
use crate::exec::Node;
use crate::store::{Save, WriteError};
use crate::trace::{Cause, DropReason, Event as TraceEvent, Route};
use crate::world::World;
use std::rc::Rc;

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

/// A request to the tickets service or the orders service.
#[derive(Clone, Debug)]
pub enum Request {
    /// `POST /api/tickets`
    CreateTicket {
        /// Title.
        title: Rc<str>,
        /// Price.
        price: Price,
        /// The signed-in user.
        user_id: UserId,
    },
    /// `PUT /api/tickets/:id`
    UpdateTicket {
        /// Which ticket.
        id: TicketId,
        /// New title.
        title: Rc<str>,
        /// New price.
        price: Price,
    },
    /// `POST /api/orders`
    CreateOrder {
        /// The ticket to reserve.
        ticket: TicketId,
        /// The signed-in user.
        user_id: UserId,
    },
    /// `DELETE /api/orders/:id`
    CancelOrder {
        /// Which order.
        order: OrderId,
    },
}

impl Request {
    /// The route this request takes.
    pub fn route(&self) -> Route {
        match self {
            Request::CreateTicket { .. } => Route::CreateTicket,
            Request::UpdateTicket { .. } => Route::UpdateTicket,
            Request::CreateOrder { .. } => Route::CreateOrder,
            Request::CancelOrder { .. } => Route::CancelOrder,
        }
    }

    /// The price asked for, on the ticket routes.
    pub fn price(&self) -> Option<Price> {
        match self {
            Request::CreateTicket { price, .. } | Request::UpdateTicket { price, .. } => {
                Some(*price)
            }
            Request::CreateOrder { .. } | Request::CancelOrder { .. } => None,
        }
    }
}

/// A response from a service.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Response {
    /// HTTP status.
    pub status: u16,
    /// The ticket concerned, when known.
    pub ticket: Option<TicketId>,
    /// The order concerned, when known.
    pub order: Option<OrderId>,
}

impl Response {
    fn ticket(status: u16, ticket: TicketId) -> Self {
        Self {
            status,
            ticket: Some(ticket),
            order: None,
        }
    }

    fn order(status: u16, ticket: Option<TicketId>, order: OrderId) -> Self {
        Self {
            status,
            ticket,
            order: Some(order),
        }
    }
}

/// The route handlers: the tickets service's `new.ts` and `update.ts`, the orders service's
/// `new.ts` and `delete.ts`, running on `node`.
pub async fn serve(world: &World, node: Node, request: Request) -> Response {
    match request {
        Request::CreateTicket {
            title,
            price,
            user_id,
        } => create_ticket(world, title, price, user_id).await,
        Request::UpdateTicket { id, title, price } => update_ticket(world, id, title, price).await,
        Request::CreateOrder { ticket, user_id } => {
            create_order(world, node, ticket, user_id).await
        }
        Request::CancelOrder { order } => cancel_order(world, node, order).await,
    }
}

async fn create_ticket(world: &World, title: Rc<str>, price: Price, user_id: UserId) -> Response {
    let ticket = Ticket {
        id: world.next_ticket_id(),
        version: 0,
        title,
        price,
        user_id,
        order_id: None,
    };
    let id = ticket.id;
    let by = Cause::Request(Route::CreateTicket);
    let saved = match world
        .insert(Node::Tickets, by, &world.tickets_db, ticket)
        .await
    {
        Ok(saved) => saved,
        Err(_) => return Response::ticket(500, id),
    };
    let event = Event::TicketCreated(saved.event_data(world.occ));
    if bus::publish(world, Node::Tickets, event).await.is_err() {
        // The ticket is saved, its event lost; the course's error handler answers 500.
        return Response::ticket(500, id);
    }
    Response::ticket(201, id)
}

async fn update_ticket(world: &World, id: TicketId, title: Rc<str>, price: Price) -> Response {
    let Some(read) = world.find(&world.tickets_db, id).await else {
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
    let saved = match world
        .save(Node::Tickets, by, &world.tickets_db, &read, ticket)
        .await
    {
        Ok(saved) => saved,
        // A concurrent write saved first: mongoose throws a VersionError and the course's
        // error handler answers 400 "Something went wrong".
        Err(WriteError::VersionConflict | WriteError::DuplicateKey) => {
            return Response::ticket(400, id)
        }
    };
    let event = Event::TicketUpdated(saved.event_data(world.occ));
    if bus::publish(world, Node::Tickets, event).await.is_err() {
        return Response::ticket(500, id);
    }
    Response::ticket(200, id)
}

/// The orders service's `POST /api/orders`: find the ticket, check that no order reserves it,
/// insert the order, publish `order:created`. The check and the insert are separate steps.
async fn create_order(world: &World, node: Node, ticket: TicketId, user_id: UserId) -> Response {
    let Some(replica) = world.find(&world.orders_db, ticket).await else {
        return Response::ticket(404, ticket);
    };
    let reserving = world.find_reserving_order(ticket).await;
    world.record(
        node,
        TraceEvent::ReservedCheck {
            replica: node,
            ticket,
            order: reserving,
        },
    );
    if reserving.is_some() {
        // BadRequestError("Ticket is already reserved").
        return Response::ticket(400, ticket);
    }
    let order = Order {
        id: world.next_order_id(),
        version: 0,
        status: OrderStatus::Created,
        user_id,
        expires_at_ms: world.exec.now_us() / 1000 + ORDER_EXPIRATION_MS,
        ticket,
    };
    let id = order.id;
    let by = Cause::Request(Route::CreateOrder);
    let Ok(saved) = world.insert_order(node, by, order).await else {
        return Response::order(500, Some(ticket), id);
    };
    let event = Event::OrderCreated(saved.event_data(world.occ, Some(replica.price)));
    if bus::publish(world, node, event).await.is_err() {
        return Response::order(500, Some(ticket), id);
    }
    Response::order(201, Some(ticket), id)
}

/// The orders service's `DELETE /api/orders/:id`: set the status to cancelled, save, publish
/// `order:cancelled`.
async fn cancel_order(world: &World, node: Node, id: OrderId) -> Response {
    let Some(read) = world.find(&world.orders, id).await else {
        return Response::order(404, None, id);
    };
    let order = Order {
        status: OrderStatus::Cancelled,
        ..read.clone()
    };
    let ticket = Some(read.ticket);
    let by = Cause::Request(Route::CancelOrder);
    let Ok(saved) = world.save(node, by, &world.orders, &read, order).await else {
        return Response::order(400, ticket, id);
    };
    let event = Event::OrderCancelled(saved.event_data(world.occ, None));
    if bus::publish(world, node, event).await.is_err() {
        return Response::order(500, ticket, id);
    }
    Response::order(204, ticket, id)
}

/// Run `listener` on `node` for one delivered message.
pub async fn listen(world: &World, node: Node, listener: Listener, message: &Message) -> Handled {
    let by = Cause::Message(message.subject, message.seq);
    match (listener, &message.event) {
        (Listener::OrdersTicketCreated, Event::TicketCreated(data)) => {
            ticket_created(world, node, by, data).await
        }
        (Listener::OrdersTicketUpdated, Event::TicketUpdated(data)) => {
            ticket_updated(world, node, by, data).await
        }
        (Listener::TicketsOrderCreated, Event::OrderCreated(data)) => {
            reserve(world, by, data, Some(data.id)).await
        }
        (Listener::TicketsOrderCancelled, Event::OrderCancelled(data)) => {
            reserve(world, by, data, None).await
        }
        (listener, event) => unreachable!(
            "the bus routes by subject: {listener:?} never receives {:?}",
            event.subject()
        ),
    }
}

/// The orders service's `TicketCreatedListener`: build the replica, save, ack.
async fn ticket_created(world: &World, replica: Node, by: Cause, data: &TicketData) -> Handled {
    world.stall(replica).await;
    match world
        .insert(replica, by, &world.orders_db, replica_from_created(data))
        .await
    {
        Ok(_) => Handled::Ack,
        Err(_) => match on_duplicate_created(world.occ) {
            Ok(()) => Handled::Drop(DropReason::Duplicate),
            Err(refusal) => Handled::Nack(refusal),
        },
    }
}

/// The orders service's `TicketUpdatedListener`: find, set title and price, save, ack.
async fn ticket_updated(world: &World, replica: Node, by: Cause, data: &TicketData) -> Handled {
    let stored = world.find(&world.orders_db, data.id).await;
    world.stall(replica).await;
    match decide_ticket_updated(world.occ, stored.as_ref(), data) {
        UpdateDecision::Apply { doc, conditional } => {
            let mode = if conditional {
                Save::Conditional
            } else {
                Save::Overwrite
            };
            let read = stored.expect("an applied update read its replica");
            match world
                .save_with(replica, by, &world.orders_db, &read, doc, mode)
                .await
            {
                Ok(_) => Handled::Ack,
                Err(_) => Handled::Nack(Refusal::VersionConflict),
            }
        }
        UpdateDecision::Drop => Handled::Drop(DropReason::Stale),
        UpdateDecision::Refuse(refusal) => Handled::Nack(refusal),
    }
}

/// The tickets service's `OrderCreatedListener` (`order_id` = the order) and
/// `OrderCancelledListener` (`order_id` = none), as taught: find the ticket, set its order id,
/// save, publish `ticket:updated`, ack. Neither looks at the order's version, nor checks that
/// a cancellation is for the order that holds the ticket.
async fn reserve(world: &World, by: Cause, data: &OrderData, order_id: Option<OrderId>) -> Handled {
    let Some(read) = world.find(&world.tickets_db, data.ticket).await else {
        return Handled::Nack(Refusal::NotFound);
    };
    world.stall(Node::Tickets).await;
    let ticket = Ticket {
        order_id,
        ..read.clone()
    };
    let Ok(saved) = world
        .save(Node::Tickets, by, &world.tickets_db, &read, ticket)
        .await
    else {
        return Handled::Nack(Refusal::VersionConflict);
    };
    // The course publishes after reserving; `publish-on-reserve = false` shows what follows
    // when that line is missing. A cancellation always publishes.
    if order_id.is_none() || world.publish_on_reserve {
        let event = Event::TicketUpdated(saved.event_data(world.occ));
        if bus::publish(world, Node::Tickets, event).await.is_err() {
            return Handled::Nack(Refusal::PublishFailed);
        }
    }
    Handled::Ack
}
