//! The documents the services keep in MongoDB, and the ids and values they are made of.
//!
//! Each type mirrors a mongoose model of the course (StephenGrider/ticketing):
//! [`Ticket`] is `tickets/src/models/ticket.ts`, [`ReplicaTicket`] the orders service's own
//! `orders/src/models/ticket.ts`, and [`Order`] `orders/src/models/order.ts`. [`Document`] is
//! what the update-if-current plugin needs of a document: its id, its version, and which of its
//! fields a handler may `$set`.

use serde::Serialize;
use std::rc::Rc;

/// Identifier of a ticket (MongoDB's `_id`), assigned by the tickets service in creation order.
pub type TicketId = u32;

/// A price in whole currency units. The course's scripts use whole prices (5, 10, 15).
pub type Price = u32;

/// Identifier of the user who owns a ticket or places an order.
pub type UserId = u32;

/// Identifier of an order (MongoDB's `_id`), assigned by the orders service in creation order.
pub type OrderId = u32;

/// Identifier of a payment (MongoDB's `_id` in the payments service), in creation order.
pub type PaymentId = u32;

/// Identifier of a charge at the card processor (Stripe's `ch_...`), in creation order.
pub type ChargeId = u32;

/// How long a new order holds its ticket by default (the course's `EXPIRATION_WINDOW_SECONDS`,
/// `1 * 60` in SG `orders/src/routes/new.ts` 18; section 19's code had `15 * 60`), in ms. A
/// scenario sets it with `[topology] expiration-window-ms`.
pub const EXPIRATION_WINDOW_MS: u64 = 60_000;

/// The status of an order (the course's `OrderStatus`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum OrderStatus {
    /// Created; the ticket is reserved.
    #[serde(rename = "created")]
    Created,
    /// Cancelled by the user (or expired): the ticket is free again.
    #[serde(rename = "cancelled")]
    Cancelled,
    /// Waiting for the payment.
    #[serde(rename = "awaiting:payment")]
    AwaitingPayment,
    /// Paid.
    #[serde(rename = "complete")]
    Complete,
}

impl OrderStatus {
    /// The status as the course spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            OrderStatus::Created => "created",
            OrderStatus::Cancelled => "cancelled",
            OrderStatus::AwaitingPayment => "awaiting:payment",
            OrderStatus::Complete => "complete",
        }
    }

    /// Whether an order in this status reserves its ticket (the course's `isReserved` query:
    /// any status but cancelled).
    pub fn reserves(self) -> bool {
        self != OrderStatus::Cancelled
    }
}

/// A document in a versioned MongoDB collection.
pub trait Document: Clone {
    /// The document's `_id`.
    fn id(&self) -> u32;
    /// The version field the update-if-current plugin maintains.
    fn version(&self) -> u64;
    /// Sets the version (only the store does this, when a save succeeds).
    fn set_version(&mut self, version: u64);
    /// mongoose's `save()` of a loaded document sends `$set` of its modified paths only: copy
    /// into `self` (the stored document) each field on which `doc` differs from `read`, the
    /// state it was loaded in. A field another writer changed meanwhile is left as it is.
    fn set_modified(&mut self, read: &Self, doc: &Self);
}

/// The tickets service's record of a ticket: the source of truth.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ticket {
    /// `_id`.
    pub id: TicketId,
    /// Version (stays 0 when OCC is off: nothing increments it).
    pub version: u64,
    /// Title.
    pub title: Rc<str>,
    /// Price.
    pub price: Price,
    /// Owner.
    pub user_id: UserId,
    /// The order reserving it, if any.
    pub order_id: Option<OrderId>,
    /// Every order whose `order:created` the listeners applied, in the order applied, kept
    /// after its cancellation (`[cures] ordered-order-events` only; always empty in the
    /// course's design).
    pub applied_orders: Vec<OrderId>,
}

/// The orders service's record of an order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Order {
    /// `_id`.
    pub id: OrderId,
    /// Version.
    pub version: u64,
    /// Status.
    pub status: OrderStatus,
    /// Who ordered.
    pub user_id: UserId,
    /// When the reservation expires, in simulated ms.
    pub expires_at_ms: u64,
    /// The ticket ordered.
    pub ticket: TicketId,
}

/// The orders service's replica of a ticket (its own `tickets` collection).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReplicaTicket {
    /// `_id`, the same as the tickets service's.
    pub id: TicketId,
    /// Version of the last applied event (0 after `ticket:created`).
    pub version: u64,
    /// Title.
    pub title: Rc<str>,
    /// Price.
    pub price: Price,
}

/// The payments service's replica of an order (SG `payments/src/models/order.ts` 5-60): built
/// from `order:created`, cancelled by `order:cancelled`, versioned by the update-if-current
/// plugin. It has no ticket, and its status has no enum.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PaymentsOrder {
    /// `_id`, the orders service's order id.
    pub id: OrderId,
    /// Version (0 on insert: mongoose resets it, whatever `build` was given).
    pub version: u64,
    /// Status, as the events said.
    pub status: OrderStatus,
    /// Who ordered.
    pub user_id: UserId,
    /// The price to charge (`ticket.price` of `order:created`).
    pub price: Price,
    /// The order's ticket (`ticket.id` of `order:created`). Not a field of the course's model:
    /// kept for the trace and the checks, and read by no handler.
    pub ticket: TicketId,
}

/// A payment record (SG `payments/src/models/payment.ts` 17-27): no version plugin, no unique
/// index on `orderId`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Payment {
    /// `_id`.
    pub id: PaymentId,
    /// Version (mongoose's `__v`; never incremented, payments are never saved again).
    pub version: u64,
    /// The order paid.
    pub order_id: OrderId,
    /// The charge's id at the card processor.
    pub stripe_id: ChargeId,
}

macro_rules! impl_document {
    ($ty:ty { $($field:ident),* }) => {
        impl Document for $ty {
            fn id(&self) -> u32 {
                self.id
            }
            fn version(&self) -> u64 {
                self.version
            }
            fn set_version(&mut self, version: u64) {
                self.version = version;
            }
            fn set_modified(&mut self, read: &Self, doc: &Self) {
                let _ = (&read, &doc); // a document no handler changes has no field to copy
                $(
                    if doc.$field != read.$field {
                        self.$field = doc.$field.clone();
                    }
                )*
            }
        }
    };
}
// The fields a handler can change; ids, owners and versions are never `$set` by a handler.
impl_document!(Ticket {
    title,
    price,
    order_id,
    applied_orders
});
impl_document!(ReplicaTicket { title, price });
impl_document!(Order {
    status,
    expires_at_ms
});
impl_document!(PaymentsOrder { status });
impl_document!(Payment {});

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_save_sets_only_the_fields_the_handler_changed() {
        let read = Ticket {
            id: 3,
            version: 0,
            title: "t".into(),
            price: 10,
            user_id: 1,
            order_id: None,
            applied_orders: Vec::new(),
        };
        // Meanwhile the order:created listener reserved the ticket.
        let mut stored = Ticket {
            order_id: Some(4),
            ..read.clone()
        };
        let edited = Ticket {
            price: 20,
            ..read.clone()
        };
        stored.set_modified(&read, &edited);
        assert_eq!((stored.price, stored.order_id), (20, Some(4)));
    }

    #[test]
    fn only_cancelled_orders_leave_the_ticket_free() {
        use OrderStatus::*;
        let reserving: Vec<_> = [Created, Cancelled, AwaitingPayment, Complete]
            .into_iter()
            .filter(|s| s.reserves())
            .collect();
        assert_eq!(reserving, [Created, AwaitingPayment, Complete]);
    }
}
