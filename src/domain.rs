//! The ticketing system's data and the decisions its services make, as plain data and pure
//! functions. Nothing here knows about the bus, the scheduler or simulated time: the async
//! shells in [`crate::services`] call these functions between their awaits, and the unit tests
//! below exercise them without a runtime.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::rc::Rc;

/// Identifier of a ticket (MongoDB's `_id`), assigned by the tickets service in creation order.
pub type TicketId = u32;

/// A price in whole currency units. The course's scripts use whole prices (5, 10, 15).
pub type Price = u32;

/// Identifier of the user who owns a ticket or places an order.
pub type UserId = u32;

/// Identifier of an order (MongoDB's `_id`), assigned by the orders service in creation order.
pub type OrderId = u32;

/// How long a new order holds its ticket (the course's `EXPIRATION_WINDOW_SECONDS`), in ms.
pub const ORDER_EXPIRATION_MS: u64 = 60_000;

/// The concurrency-control mode of the whole system (DESIGN §4), the `--occ` switch.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    clap::ValueEnum,
)]
#[serde(rename_all = "kebab-case")]
pub enum Occ {
    /// No versions: events carry none, saves are last-write-wins.
    Off,
    /// As taught: events carry the version, a replica applies only version `stored + 1`, saves
    /// are conditional. A duplicate of an applied event is never acked.
    On,
    /// Beyond the course: as `on`, but an event at or below the stored version is acked and
    /// dropped, and a duplicate `ticket:created` is acked.
    Dedup,
}

impl Occ {
    /// Every mode, in the order reports list them.
    pub const ALL: [Occ; 3] = [Occ::Off, Occ::On, Occ::Dedup];

    /// Whether records are versioned and saves conditional (mongoose-update-if-current).
    pub fn versioned(self) -> bool {
        self != Occ::Off
    }

    /// The mode's name as the CLI and reports spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            Occ::Off => "off",
            Occ::On => "on",
            Occ::Dedup => "dedup",
        }
    }
}

impl fmt::Display for Occ {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

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
}

impl Subject {
    /// Every subject, in declaration order.
    pub const ALL: [Subject; 4] = [
        Subject::TicketCreated,
        Subject::TicketUpdated,
        Subject::OrderCreated,
        Subject::OrderCancelled,
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
}

impl Event {
    /// The channel this event is published on.
    pub fn subject(&self) -> Subject {
        match self {
            Event::TicketCreated(_) => Subject::TicketCreated,
            Event::TicketUpdated(_) => Subject::TicketUpdated,
            Event::OrderCreated(_) => Subject::OrderCreated,
            Event::OrderCancelled(_) => Subject::OrderCancelled,
        }
    }

    /// The ticket the event is about (for an order event, the ordered ticket).
    pub fn ticket_id(&self) -> TicketId {
        match self {
            Event::TicketCreated(t) | Event::TicketUpdated(t) => t.id,
            Event::OrderCreated(o) | Event::OrderCancelled(o) => o.ticket,
        }
    }

    /// The version the event carries (of the ticket, or of the order); `None` without OCC.
    pub fn version(&self) -> Option<u64> {
        match self {
            Event::TicketCreated(t) | Event::TicketUpdated(t) => t.version,
            Event::OrderCreated(o) | Event::OrderCancelled(o) => o.version,
        }
    }

    /// The order the event concerns: an order event's own id, or the order reserving the
    /// ticket of a `ticket:updated`.
    pub fn order_id(&self) -> Option<OrderId> {
        match self {
            Event::TicketCreated(t) | Event::TicketUpdated(t) => t.order_id,
            Event::OrderCreated(o) | Event::OrderCancelled(o) => Some(o.id),
        }
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
    order_id
});
impl_document!(ReplicaTicket { title, price });
impl_document!(Order {
    status,
    expires_at_ms
});

/// Why a listener did not ack a message (it "threw", in the course's words).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
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
}

impl Refusal {
    /// The reason as trace lines and reports spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            Refusal::NotFound => "not-found",
            Refusal::VersionConflict => "version-conflict",
            Refusal::DuplicateKey => "duplicate-key",
            Refusal::PublishFailed => "publish-failed",
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

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn duplicate_created_is_acked_only_by_dedup() {
        assert_eq!(on_duplicate_created(Occ::Off), Err(Refusal::DuplicateKey));
        assert_eq!(on_duplicate_created(Occ::On), Err(Refusal::DuplicateKey));
        assert_eq!(on_duplicate_created(Occ::Dedup), Ok(()));
    }

    #[test]
    fn a_save_sets_only_the_fields_the_handler_changed() {
        let read = Ticket {
            id: 3,
            version: 0,
            title: "t".into(),
            price: 10,
            user_id: 1,
            order_id: None,
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

    #[test]
    fn events_carry_versions_only_with_occ() {
        let t = Ticket {
            id: 3,
            version: 2,
            title: "t".into(),
            price: 5,
            user_id: 1,
            order_id: None,
        };
        assert_eq!(t.event_data(Occ::Off).version, None);
        assert_eq!(t.event_data(Occ::On).version, Some(2));
    }
}
