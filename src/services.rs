//! The services' async code, shaped like the course's route handlers and listeners: each
//! `.await` (a database call, a publish) is where another request or delivery can run.
//!
//! The decisions between the awaits are the pure functions of [`crate::domain`].

use crate::bus::{self, Listener};
use crate::domain::{
    decide_ticket_updated, on_duplicate_created, replica_from_created, Event, Price, Refusal,
    Ticket, TicketData, TicketId, UpdateDecision, UserId,
};
use crate::exec::Node;
use crate::store::{Save, WriteError};
use crate::trace::{DropReason, Route};
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

/// A request to the tickets service.
#[derive(Clone, Debug)]
pub enum Request {
    /// `POST /api/tickets`
    Create {
        /// Title.
        title: Rc<str>,
        /// Price.
        price: Price,
        /// The signed-in user.
        user_id: UserId,
    },
    /// `PUT /api/tickets/:id`
    Update {
        /// Which ticket.
        id: TicketId,
        /// New title.
        title: Rc<str>,
        /// New price.
        price: Price,
    },
}

impl Request {
    /// The route this request takes.
    pub fn route(&self) -> Route {
        match self {
            Request::Create { .. } => Route::CreateTicket,
            Request::Update { .. } => Route::UpdateTicket,
        }
    }

    /// The price asked for.
    pub fn price(&self) -> Price {
        match self {
            Request::Create { price, .. } | Request::Update { price, .. } => *price,
        }
    }
}

/// A response from the tickets service.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Response {
    /// HTTP status.
    pub status: u16,
    /// The ticket concerned, when known.
    pub ticket: Option<TicketId>,
}

impl Response {
    fn error(status: u16, ticket: Option<TicketId>) -> Self {
        Self { status, ticket }
    }
}

/// The tickets service's route handlers (`new.ts`, `update.ts`).
pub async fn serve(world: &World, request: Request) -> Response {
    match request {
        Request::Create {
            title,
            price,
            user_id,
        } => create_ticket(world, title, price, user_id).await,
        Request::Update { id, title, price } => update_ticket(world, id, title, price).await,
    }
}

async fn create_ticket(world: &World, title: Rc<str>, price: Price, user_id: UserId) -> Response {
    let ticket = Ticket {
        id: world.next_ticket_id(),
        version: 0,
        title,
        price,
        user_id,
    };
    let id = ticket.id;
    let saved = match world.insert(Node::Tickets, &world.tickets_db, ticket).await {
        Ok(saved) => saved,
        Err(_) => return Response::error(500, Some(id)),
    };
    let event = Event::TicketCreated(saved.event_data(world.occ));
    if bus::publish(world, Node::Tickets, event).await.is_err() {
        // The ticket is saved, its event lost; the course's error handler answers 500.
        return Response::error(500, Some(id));
    }
    Response {
        status: 201,
        ticket: Some(id),
    }
}

async fn update_ticket(world: &World, id: TicketId, title: Rc<str>, price: Price) -> Response {
    let Some(mut ticket) = world.find(&world.tickets_db, id).await else {
        return Response::error(404, Some(id));
    };
    ticket.title = title;
    ticket.price = price;
    let saved = match world.save(Node::Tickets, &world.tickets_db, ticket).await {
        Ok(saved) => saved,
        // A concurrent update saved first: mongoose throws a VersionError and the course's
        // error handler answers 400 "Something went wrong".
        Err(WriteError::VersionConflict | WriteError::DuplicateKey) => {
            return Response::error(400, Some(id))
        }
    };
    let event = Event::TicketUpdated(saved.event_data(world.occ));
    if bus::publish(world, Node::Tickets, event).await.is_err() {
        return Response::error(500, Some(id));
    }
    Response {
        status: 200,
        ticket: Some(id),
    }
}

/// Run `listener` on `replica` for one delivered event.
pub async fn listen(world: &World, replica: Node, listener: Listener, event: &Event) -> Handled {
    match (listener, event) {
        (Listener::OrdersTicketCreated, Event::TicketCreated(data)) => {
            ticket_created(world, replica, data).await
        }
        (Listener::OrdersTicketUpdated, Event::TicketUpdated(data)) => {
            ticket_updated(world, replica, data).await
        }
        (listener, event) => unreachable!(
            "the bus routes by subject: {listener:?} never receives {:?}",
            event.subject()
        ),
    }
}

/// The orders service's `TicketCreatedListener`: build the replica, save, ack.
async fn ticket_created(world: &World, replica: Node, data: &TicketData) -> Handled {
    world.stall(replica).await;
    match world
        .insert(replica, &world.orders_db, replica_from_created(data))
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
async fn ticket_updated(world: &World, replica: Node, data: &TicketData) -> Handled {
    let stored = world.find(&world.orders_db, data.id).await;
    world.stall(replica).await;
    match decide_ticket_updated(world.occ, stored.as_ref(), data) {
        UpdateDecision::Apply { doc, conditional } => {
            let mode = if conditional {
                Save::Conditional
            } else {
                Save::Overwrite
            };
            match world.save_with(replica, &world.orders_db, doc, mode).await {
                Ok(_) => Handled::Ack,
                Err(_) => Handled::Nack(Refusal::VersionConflict),
            }
        }
        UpdateDecision::Drop => Handled::Drop(DropReason::Stale),
        UpdateDecision::Refuse(refusal) => Handled::Nack(refusal),
    }
}
