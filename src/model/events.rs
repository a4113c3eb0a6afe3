//! The events the services publish, as the course's `common/src/events/*-event.ts` define them,
//! and a message as NATS Streaming stores it: an event with its channel's sequence number.

use crate::model::documents::{
    ChargeId, Order, OrderId, OrderStatus, PaymentId, Price, Ticket, TicketId, UserId,
};
use crate::model::occ::Occ;
use serde::Serialize;
use std::fmt;
use std::rc::Rc;

/// A NATS Streaming channel name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Subject {
    /// `ticket:created`
    #[serde(rename = "ticket:created")]
    TicketCreated,
    /// `ticket:updated`
    #[serde(rename = "ticket:updated")]
    TicketUpdated,
    /// `order:created`
    #[serde(rename = "order:created")]
    OrderCreated,
    /// `order:cancelled`
    #[serde(rename = "order:cancelled")]
    OrderCancelled,
    /// `expiration:complete`
    #[serde(rename = "expiration:complete")]
    ExpirationComplete,
    /// `payment:created`
    #[serde(rename = "payment:created")]
    PaymentCreated,
}

impl Subject {
    /// Every subject, in declaration order.
    pub const ALL: [Subject; 6] = [
        Subject::TicketCreated,
        Subject::TicketUpdated,
        Subject::OrderCreated,
        Subject::OrderCancelled,
        Subject::ExpirationComplete,
        Subject::PaymentCreated,
    ];

    /// The subject's position in [`Subject::ALL`], for tables indexed by channel.
    pub fn index(self) -> usize {
        self as usize
    }

    /// The subject as the course spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Subject::TicketCreated => "ticket:created",
            Subject::TicketUpdated => "ticket:updated",
            Subject::OrderCreated => "order:created",
            Subject::OrderCancelled => "order:cancelled",
            Subject::ExpirationComplete => "expiration:complete",
            Subject::PaymentCreated => "payment:created",
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
    /// The order reserving the ticket (`ticket:updated` only; absent when not reserved).
    pub order_id: Option<OrderId>,
}

/// The data of `order:created` and `order:cancelled` (DESIGN §2). `order:cancelled` carries
/// only the id, the version and the ticket's id; the other fields are then those of the order
/// as saved, and listeners do not read them.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct OrderData {
    /// The order's id.
    pub id: OrderId,
    /// The order's version; `None` when OCC is off.
    pub version: Option<u64>,
    /// Status at the time of the save.
    pub status: OrderStatus,
    /// Who ordered.
    pub user_id: UserId,
    /// When the reservation expires, in simulated ms.
    pub expires_at_ms: u64,
    /// The ticket ordered (`ticket.id`).
    pub ticket: TicketId,
    /// Its price as the orders service knew it (`ticket.price`, `order:created` only).
    pub price: Option<Price>,
}

/// The data of `expiration:complete` (common `expiration-complete-event.ts` 5-7: `{ orderId }`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ExpirationData {
    /// The order whose reservation ran out.
    pub order_id: OrderId,
    /// The order's ticket, for the trace only: the course's event does not carry it, and no
    /// listener reads it.
    pub ticket: TicketId,
}

/// The data of `payment:created` (common `payment-created-event.ts` 5-9: `{ id, orderId,
/// stripeId }`, no version).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct PaymentData {
    /// The payment's id.
    pub id: PaymentId,
    /// The order paid.
    pub order_id: OrderId,
    /// The charge's id at the card processor.
    pub stripe_id: ChargeId,
    /// The order's ticket, for the trace only: the course's event does not carry it, and no
    /// listener reads it.
    pub ticket: TicketId,
}

/// A message's payload on the bus.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Event {
    /// Published by the tickets service after inserting a ticket.
    TicketCreated(TicketData),
    /// Published by the tickets service after saving a change to a ticket.
    TicketUpdated(TicketData),
    /// Published by the orders service after inserting an order.
    OrderCreated(OrderData),
    /// Published by the orders service after cancelling an order.
    OrderCancelled(OrderData),
    /// Published by the expiration service's Bull processor when an order's delay is over.
    ExpirationComplete(ExpirationData),
    /// Published by the payments service after saving a payment.
    PaymentCreated(PaymentData),
}

impl Event {
    /// The channel this event is published on.
    pub fn subject(&self) -> Subject {
        match self {
            Event::TicketCreated(_) => Subject::TicketCreated,
            Event::TicketUpdated(_) => Subject::TicketUpdated,
            Event::OrderCreated(_) => Subject::OrderCreated,
            Event::OrderCancelled(_) => Subject::OrderCancelled,
            Event::ExpirationComplete(_) => Subject::ExpirationComplete,
            Event::PaymentCreated(_) => Subject::PaymentCreated,
        }
    }

    /// The ticket the event is about (for an order event, the ordered ticket).
    pub fn ticket_id(&self) -> TicketId {
        match self {
            Event::TicketCreated(t) | Event::TicketUpdated(t) => t.id,
            Event::OrderCreated(o) | Event::OrderCancelled(o) => o.ticket,
            Event::ExpirationComplete(e) => e.ticket,
            Event::PaymentCreated(p) => p.ticket,
        }
    }

    /// The version the event carries (of the ticket, or of the order); `None` without OCC.
    pub fn version(&self) -> Option<u64> {
        match self {
            Event::TicketCreated(t) | Event::TicketUpdated(t) => t.version,
            Event::OrderCreated(o) | Event::OrderCancelled(o) => o.version,
            Event::ExpirationComplete(_) | Event::PaymentCreated(_) => None,
        }
    }

    /// The order the event concerns: an order event's own id, or the order reserving the
    /// ticket of a `ticket:updated`.
    pub fn order_id(&self) -> Option<OrderId> {
        match self {
            Event::TicketCreated(t) | Event::TicketUpdated(t) => t.order_id,
            Event::OrderCreated(o) | Event::OrderCancelled(o) => Some(o.id),
            Event::ExpirationComplete(e) => Some(e.order_id),
            Event::PaymentCreated(p) => Some(p.order_id),
        }
    }
}

/// A message on a channel.
#[derive(Debug)]
pub struct Message {
    /// Channel.
    pub subject: Subject,
    /// Sequence number in the channel, from 1.
    pub seq: u64,
    /// Payload.
    pub event: Event,
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
            order_id: self.order_id,
        }
    }
}

impl Order {
    /// The data the orders service publishes after saving this order; `price` is the ticket's
    /// price for `order:created`.
    pub fn event_data(&self, occ: Occ, price: Option<Price>) -> OrderData {
        OrderData {
            id: self.id,
            version: occ.versioned().then_some(self.version),
            status: self.status,
            user_id: self.user_id,
            expires_at_ms: self.expires_at_ms,
            ticket: self.ticket,
            price,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_carry_versions_only_with_occ() {
        let t = Ticket {
            id: 3,
            version: 2,
            title: "t".into(),
            price: 5,
            user_id: 1,
            order_id: None,
            applied_orders: Vec::new(),
        };
        assert_eq!(t.event_data(Occ::Off).version, None);
        assert_eq!(t.event_data(Occ::On).version, Some(2));
    }
}
