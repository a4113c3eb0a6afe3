//! The system's MongoDB state: the tickets service's database (its `tickets` collection) and
//! the orders service's database (its own `tickets` collection, the replica, and `orders`),
//! with the ids each service hands out.
//!
//! A document type lives in exactly one collection ([`Stored`]), so a handler asks for a
//! `ReplicaTicket` as the course's code asks `Ticket.findById` of the orders service's model.
//! Each operation here is one atomic single-document step; the runtime adds the latency around
//! it and records it in the trace.
//!
//! With the unique partial index on `orders` ([`Databases::with_unique_active_order`], a cure
//! beyond the course), a write that would leave two orders of one ticket in a status that
//! reserves it fails with a duplicate key, as MongoDB's unique index with a
//! `partialFilterExpression` refuses it, in the same atomic step as the write.
//!
//! With a transactional outbox ([`Outbox`], a cure beyond the course), the tickets database
//! also keeps every ticket's pending events: an event is stored in the same atomic write as the
//! ticket it describes, and removed once the relay has published it.
//!
//! Ids are dense counters from 1 in creation order, where the course's services generate
//! ObjectIds: a stated simplification (nothing in the course compares ids by value).

use crate::model::by_id::ById;
use crate::model::documents::{
    Order, OrderId, Payment, PaymentId, PaymentsOrder, ReplicaTicket, Ticket, TicketId,
};
use crate::model::events::Event;
use crate::model::store::{Collection, Db, Save, Saved, WriteError};
use std::cell::{Cell, RefCell};

/// Both services' databases.
pub struct Databases {
    /// The tickets service's `tickets` collection: the source of truth.
    pub tickets_db: RefCell<Collection<Ticket>>,
    /// The orders service's `tickets` collection, shared by its replicas.
    pub orders_db: RefCell<Collection<ReplicaTicket>>,
    /// The orders service's `orders` collection, in the same database.
    pub orders: RefCell<Collection<Order>>,
    /// The payments service's `orders` collection: its replica of the orders.
    pub payments_orders: RefCell<Collection<PaymentsOrder>>,
    /// The payments service's `payments` collection.
    pub payments: RefCell<Collection<Payment>>,
    /// Every ticket's pending events, in the order they were stored (`[cures]
    /// transactional-outbox`; always empty in the course's design).
    pub outbox: RefCell<Outbox>,
    /// The ids of each ticket's orders, in the order they were inserted: the index the
    /// is-reserved query reads instead of scanning every order (MongoDB would use one too).
    orders_by_ticket: RefCell<ById<Vec<OrderId>>>,
    /// The unique partial index `{ ticket: 1 }`, `{ unique: true, partialFilterExpression:
    /// { status: { $in: [created, awaiting:payment, complete] } } }` exists on `orders`.
    unique_active_order: bool,
    next_ticket_id: Cell<TicketId>,
    next_order_id: Cell<OrderId>,
    next_payment_id: Cell<PaymentId>,
}

/// A document as the trace describes it: which kind it is, and its fields.
#[derive(Clone, Copy, Debug)]
pub enum Doc<'a> {
    /// A ticket of the tickets service.
    Ticket(&'a Ticket),
    /// The orders service's copy of a ticket.
    Replica(&'a ReplicaTicket),
    /// An order.
    Order(&'a Order),
    /// The payments service's copy of an order.
    PaymentsOrder(&'a PaymentsOrder),
    /// A payment.
    Payment(&'a Payment),
}

/// Which collection a document lives in, as a name (the explorer tells documents apart by it).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DocKind {
    /// The tickets service's `tickets`.
    Ticket,
    /// The orders service's `tickets`.
    Replica,
    /// The orders service's `orders`.
    Order,
    /// The payments service's `orders`.
    PaymentsOrder,
    /// The payments service's `payments`.
    Payment,
}

/// A document type and the one collection it is stored in.
pub trait Stored: crate::model::documents::Document {
    /// Its collection, by name.
    const KIND: DocKind;
    /// The ticket whose index of orders a write of this document changes (an order's).
    fn indexed_under(&self) -> Option<TicketId> {
        None
    }
    /// The collection of this type in `dbs`.
    fn collection(dbs: &Databases) -> &RefCell<Collection<Self>>;
    /// The document, for the trace.
    fn doc(&self) -> Doc<'_>;
    /// Keep any index of the collection up to date after `self` was inserted.
    fn inserted(&self, _dbs: &Databases) {}
    /// Whether the collection has a unique index besides `_id` that `dbs` may enforce (only
    /// then does a save compute the document it would store, to check it first).
    const UNIQUE_INDEXED: bool = false;
    /// Whether storing `self` (as it would be stored) breaks a unique index of the collection
    /// in `dbs`: another document holds its key.
    fn breaks_unique_index(&self, _dbs: &Databases) -> bool {
        false
    }
}

impl Stored for Ticket {
    const KIND: DocKind = DocKind::Ticket;
    fn collection(dbs: &Databases) -> &RefCell<Collection<Self>> {
        &dbs.tickets_db
    }
    fn doc(&self) -> Doc<'_> {
        Doc::Ticket(self)
    }
}

impl Stored for ReplicaTicket {
    const KIND: DocKind = DocKind::Replica;
    fn collection(dbs: &Databases) -> &RefCell<Collection<Self>> {
        &dbs.orders_db
    }
    fn doc(&self) -> Doc<'_> {
        Doc::Replica(self)
    }
}

impl Stored for Order {
    const KIND: DocKind = DocKind::Order;
    fn indexed_under(&self) -> Option<TicketId> {
        Some(self.ticket)
    }
    fn collection(dbs: &Databases) -> &RefCell<Collection<Self>> {
        &dbs.orders
    }
    fn doc(&self) -> Doc<'_> {
        Doc::Order(self)
    }
    const UNIQUE_INDEXED: bool = true;
    fn breaks_unique_index(&self, dbs: &Databases) -> bool {
        dbs.unique_active_order
            && self.status.reserves()
            && dbs
                .reserving_order_but(self.ticket, Some(self.id))
                .is_some()
    }
    fn inserted(&self, dbs: &Databases) {
        dbs.orders_by_ticket
            .borrow_mut()
            .entry(self.ticket)
            .get_or_insert_with(Vec::new)
            .push(self.id);
    }
}

impl Stored for PaymentsOrder {
    const KIND: DocKind = DocKind::PaymentsOrder;
    fn collection(dbs: &Databases) -> &RefCell<Collection<Self>> {
        &dbs.payments_orders
    }
    fn doc(&self) -> Doc<'_> {
        Doc::PaymentsOrder(self)
    }
}

impl Stored for Payment {
    const KIND: DocKind = DocKind::Payment;
    fn collection(dbs: &Databases) -> &RefCell<Collection<Self>> {
        &dbs.payments
    }
    fn doc(&self) -> Doc<'_> {
        Doc::Payment(self)
    }
}

impl Default for Databases {
    fn default() -> Self {
        Databases {
            tickets_db: RefCell::new(Collection::new(Db::Tickets)),
            orders_db: RefCell::new(Collection::new(Db::Orders)),
            orders: RefCell::new(Collection::new(Db::Orders)),
            payments_orders: RefCell::new(Collection::new(Db::Payments)),
            payments: RefCell::new(Collection::new(Db::Payments)),
            outbox: RefCell::new(Outbox::default()),
            orders_by_ticket: RefCell::new(ById::default()),
            unique_active_order: false,
            next_ticket_id: Cell::new(1),
            next_order_id: Cell::new(1),
            next_payment_id: Cell::new(1),
        }
    }
}

impl Databases {
    /// Empty databases, and on `orders` the unique partial index of active orders by ticket
    /// when `on` (the `unique-active-order` cure). The index exists before the first order is
    /// inserted, as mongoose's `autoIndex` builds it when the service starts.
    pub fn with_unique_active_order(on: bool) -> Databases {
        Databases {
            unique_active_order: on,
            ..Databases::default()
        }
    }

    /// The id the tickets service gives its next ticket.
    pub fn next_ticket_id(&self) -> TicketId {
        let id = self.next_ticket_id.get();
        self.next_ticket_id.set(id + 1);
        id
    }

    /// The id the orders service gives its next order.
    pub fn next_order_id(&self) -> OrderId {
        let id = self.next_order_id.get();
        self.next_order_id.set(id + 1);
        id
    }

    /// The id the payments service gives its next payment.
    pub fn next_payment_id(&self) -> PaymentId {
        let id = self.next_payment_id.get();
        self.next_payment_id.set(id + 1);
        id
    }

    /// The database documents of type `D` live in.
    pub fn db<D: Stored>(&self) -> Db {
        D::collection(self).borrow().db()
    }

    /// `findById`: a copy of the stored document.
    pub fn find<D: Stored>(&self, id: u32) -> Option<D> {
        D::collection(self).borrow().find(id)
    }

    /// `insert` of a new document; fails on an existing id, or a key a unique index holds.
    pub fn insert<D: Stored>(&self, doc: D) -> Result<D, WriteError> {
        if doc.breaks_unique_index(self) {
            return Err(WriteError::DuplicateKey);
        }
        let stored = D::collection(self).borrow_mut().insert(doc)?;
        stored.inserted(self);
        Ok(stored)
    }

    /// `save()` of `doc`, loaded earlier as `read`, in the given mode.
    ///
    /// With a unique index, the update is checked against it once its filter matched, as
    /// MongoDB applies an update and then its index entries: a version conflict comes first.
    pub fn save<D: Stored>(&self, read: &D, doc: D, mode: Save) -> Result<Saved<D>, WriteError> {
        if D::UNIQUE_INDEXED && self.unique_active_order {
            let after = D::collection(self).borrow().would_store(read, &doc, mode)?;
            if after.breaks_unique_index(self) {
                return Err(WriteError::DuplicateKey);
            }
        }
        D::collection(self).borrow_mut().save(read, doc, mode)
    }

    /// The orders service's `isReserved` query (`orders/src/models/ticket.ts`): an order for
    /// `ticket` whose status reserves it (the first, by id).
    pub fn reserving_order(&self, ticket: TicketId) -> Option<OrderId> {
        self.reserving_order_but(ticket, None)
    }

    /// An order for `ticket` other than `except` whose status reserves it (the first, by id):
    /// the is-reserved query, and the key the unique partial index looks up.
    fn reserving_order_but(&self, ticket: TicketId, except: Option<OrderId>) -> Option<OrderId> {
        let orders = self.orders.borrow();
        let index = self.orders_by_ticket.borrow();
        index
            .get(ticket)?
            .iter()
            .copied()
            .filter(|&id| Some(id) != except)
            .filter(|&id| orders.get(id).is_some_and(|o| o.status.reserves()))
            .min()
    }
}

/// The id of a pending event. Ids grow in the order events are stored, as a MongoDB
/// ObjectId's do, so sorting by id is sorting by when each was stored.
pub type PendingId = u64;

/// An event stored with its ticket, in the same write, waiting for the relay to publish it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pending {
    /// Its id.
    pub id: PendingId,
    /// The event, as the write made it.
    pub event: Event,
}

/// Every ticket's outbox at once: each ticket's pending events, as `outbox` arrays on the
/// ticket documents hold them (`[cures] transactional-outbox`). Adding one is part of its
/// ticket's write, `$push` beside the `$set`, so a concurrent save of another field never loses
/// it; removing one is `$pull` by id, which leaves the ticket's version alone (an `updateOne`,
/// not a `save`, so the version plugin does not see it).
#[derive(Debug)]
pub struct Outbox {
    pending: Vec<Pending>,
    next_id: PendingId,
}

impl Default for Outbox {
    fn default() -> Self {
        Outbox {
            pending: Vec::new(),
            next_id: 1,
        }
    }
}

impl Outbox {
    /// Store `event` as pending: its id.
    pub fn add(&mut self, event: Event) -> PendingId {
        let id = self.next_id;
        self.next_id += 1;
        self.pending.push(Pending { id, event });
        id
    }

    /// Remove the pending event `id`: it, if it was still there.
    pub fn remove(&mut self, id: PendingId) -> Option<Pending> {
        let at = self.pending.iter().position(|p| p.id == id)?;
        Some(self.pending.remove(at))
    }

    /// Every pending event, oldest first: what the relay's query returns.
    pub fn pending(&self) -> Vec<Pending> {
        self.pending.clone()
    }

    /// How many events are pending.
    pub fn len(&self) -> usize {
        self.pending.len()
    }

    /// Whether no event is pending.
    pub fn is_empty(&self) -> bool {
        self.pending.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::documents::OrderStatus;
    use crate::model::events::TicketData;

    fn order(id: OrderId, status: OrderStatus) -> Order {
        Order {
            id,
            version: 0,
            status,
            user_id: id,
            expires_at_ms: 60_000,
            ticket: 8,
        }
    }

    /// `save()` of `status` over the stored order `id`, as the course's routes save.
    fn set_status(dbs: &Databases, id: OrderId, status: OrderStatus) -> Result<Order, WriteError> {
        let read = dbs.find::<Order>(id).unwrap();
        let doc = Order {
            status,
            ..read.clone()
        };
        dbs.save(&read, doc, Save::Conditional).map(|s| s.stored)
    }

    #[test]
    fn the_index_allows_one_active_order_per_ticket() {
        let dbs = Databases::with_unique_active_order(true);
        dbs.insert(order(1, OrderStatus::Created)).unwrap();
        for status in [
            OrderStatus::Created,
            OrderStatus::AwaitingPayment,
            OrderStatus::Complete,
        ] {
            assert_eq!(
                dbs.insert(order(2, status)),
                Err(WriteError::DuplicateKey),
                "{status:?}"
            );
        }
        // Another ticket's order is another key.
        let other = Order {
            ticket: 9,
            ..order(3, OrderStatus::Created)
        };
        assert!(dbs.insert(other).is_ok());
        // A cancelled order is outside the index: it may be inserted...
        assert!(dbs.insert(order(4, OrderStatus::Cancelled)).is_ok());
        // ...and an order's own save does not collide with itself.
        assert!(set_status(&dbs, 1, OrderStatus::AwaitingPayment).is_ok());
        assert_eq!(dbs.reserving_order(8), Some(1));
        assert_eq!(dbs.orders.borrow().len(), 3);
    }

    // The index is partial: once the reserving order is cancelled, a new order of the ticket
    // can be inserted, and the cancelled one cannot be made active again beside it.
    #[test]
    fn a_cancelled_order_does_not_block_a_new_one() {
        let dbs = Databases::with_unique_active_order(true);
        dbs.insert(order(1, OrderStatus::Created)).unwrap();
        set_status(&dbs, 1, OrderStatus::Cancelled).unwrap();
        assert!(dbs.insert(order(2, OrderStatus::Created)).is_ok());
        assert_eq!(dbs.reserving_order(8), Some(2));
        assert_eq!(
            set_status(&dbs, 1, OrderStatus::Created),
            Err(WriteError::DuplicateKey)
        );
        assert_eq!(
            dbs.find::<Order>(1).unwrap().status,
            OrderStatus::Cancelled,
            "a refused save changes nothing"
        );
    }

    // MongoDB matches the update's filter first: a stale save is a version conflict, whatever
    // the index would say.
    #[test]
    fn a_stale_save_is_a_version_conflict_before_the_index_is_asked() {
        let dbs = Databases::with_unique_active_order(true);
        dbs.insert(order(1, OrderStatus::Cancelled)).unwrap();
        let stale = dbs.find::<Order>(1).unwrap();
        set_status(&dbs, 1, OrderStatus::Cancelled).unwrap(); // version 1 now
        dbs.insert(order(2, OrderStatus::Created)).unwrap();
        let doc = Order {
            status: OrderStatus::Created,
            ..stale.clone()
        };
        assert_eq!(
            dbs.save(&stale, doc, Save::Conditional),
            Err(WriteError::VersionConflict)
        );
    }

    #[test]
    fn without_the_index_two_orders_can_reserve_one_ticket() {
        let dbs = Databases::default();
        dbs.insert(order(1, OrderStatus::Created)).unwrap();
        assert!(dbs.insert(order(2, OrderStatus::Created)).is_ok());
        set_status(&dbs, 1, OrderStatus::Cancelled).unwrap();
        assert!(set_status(&dbs, 1, OrderStatus::Created).is_ok());
    }

    fn updated(id: TicketId, price: u32) -> Event {
        Event::TicketUpdated(TicketData {
            id,
            version: None,
            title: "concert".into(),
            price,
            user_id: 1,
            order_id: None,
        })
    }

    // The relay reads the pending events oldest first, whichever ticket each is of, and
    // removing one (after its publish) leaves the others in their order.
    #[test]
    fn the_outbox_keeps_events_in_the_order_stored_until_each_is_removed() {
        let mut outbox = Outbox::default();
        let ids: Vec<PendingId> = [(1, 10), (2, 10), (1, 15)]
            .into_iter()
            .map(|(t, p)| outbox.add(updated(t, p)))
            .collect();
        assert_eq!(ids, [1, 2, 3]);
        assert_eq!(outbox.remove(2).map(|p| p.event), Some(updated(2, 10)));
        assert_eq!(outbox.remove(2), None, "removed already");
        let left: Vec<(PendingId, Event)> = outbox
            .pending()
            .into_iter()
            .map(|p| (p.id, p.event))
            .collect();
        assert_eq!(left, [(1, updated(1, 10)), (3, updated(1, 15))]);
        // A later event gets a later id, even after removals.
        assert_eq!(outbox.add(updated(2, 20)), 4);
        assert_eq!(outbox.len(), 3);
    }
}
