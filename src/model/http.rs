//! The HTTP side of the services: their routes, the requests and responses a client sends and
//! gets, and what caused a write (a request to a route, or a delivered message).

use crate::model::documents::{OrderId, Price, TicketId, UserId};
use crate::model::events::Subject;
use serde::Serialize;
use std::fmt;
use std::rc::Rc;

/// An HTTP route of the tickets or the orders service.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum Route {
    /// Create a ticket.
    #[serde(rename = "POST /api/tickets")]
    CreateTicket,
    /// Update a ticket's title and price.
    #[serde(rename = "PUT /api/tickets/:id")]
    UpdateTicket,
    /// Order (reserve) a ticket.
    #[serde(rename = "POST /api/orders")]
    CreateOrder,
    /// Cancel an order.
    #[serde(rename = "DELETE /api/orders/:id")]
    CancelOrder,
    /// Pay for an order (the payments service).
    #[serde(rename = "POST /api/payments")]
    CreatePayment,
}

impl Route {
    /// The route as the course writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Route::CreateTicket => "POST /api/tickets",
            Route::UpdateTicket => "PUT /api/tickets/:id",
            Route::CreateOrder => "POST /api/orders",
            Route::CancelOrder => "DELETE /api/orders/:id",
            Route::CreatePayment => "POST /api/payments",
        }
    }

    /// Whether the orders service serves this route.
    pub fn is_orders(self) -> bool {
        matches!(self, Route::CreateOrder | Route::CancelOrder)
    }

    /// Whether the payments service serves this route (the tickets service serves the ones
    /// neither the orders nor the payments service serves).
    pub fn is_payments(self) -> bool {
        self == Route::CreatePayment
    }
}

/// What made a service write to its database: a request to a route, or a delivered message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Cause {
    /// A route handler.
    Request(Route),
    /// A listener handling message `seq` of `subject`.
    Message(Subject, u64),
}

impl fmt::Display for Cause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Cause::Request(route) => f.write_str(route.as_str()),
            Cause::Message(subject, seq) => write!(f, "{subject}#{seq}"),
        }
    }
}

impl Serialize for Cause {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
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
    /// `POST /api/payments` with a card token (every token is a fresh one).
    CreatePayment {
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
            Request::CreatePayment { .. } => Route::CreatePayment,
        }
    }

    /// The price asked for, on the ticket routes.
    pub fn price(&self) -> Option<Price> {
        match self {
            Request::CreateTicket { price, .. } | Request::UpdateTicket { price, .. } => {
                Some(*price)
            }
            Request::CreateOrder { .. }
            | Request::CancelOrder { .. }
            | Request::CreatePayment { .. } => None,
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
    /// A response about a ticket.
    pub fn ticket(status: u16, ticket: TicketId) -> Self {
        Self {
            status,
            ticket: Some(ticket),
            order: None,
        }
    }

    /// A response about an order.
    pub fn order(status: u16, ticket: Option<TicketId>, order: OrderId) -> Self {
        Self {
            status,
            ticket,
            order: Some(order),
        }
    }
}
