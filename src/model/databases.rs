//! The system's MongoDB state: the tickets service's database (its `tickets` collection) and
//! the orders service's database (its own `tickets` collection, the replica, and `orders`),
//! with the ids each service hands out.
//!
//! A document type lives in exactly one collection ([`Stored`]), so a handler asks for a
//! `ReplicaTicket` as the course's code asks `Ticket.findById` of the orders service's model.
//! Each operation here is one atomic single-document step; the runtime adds the latency around
//! it and records it in the trace.
//!
//! Ids are dense counters from 1 in creation order, where the course's services generate
//! ObjectIds: a stated simplification (nothing in the course compares ids by value).

use crate::model::by_id::ById;
use crate::model::documents::{Order, OrderId, ReplicaTicket, Ticket, TicketId};
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
    /// The ids of each ticket's orders, in the order they were inserted: the index the
    /// is-reserved query reads instead of scanning every order (MongoDB would use one too).
    orders_by_ticket: RefCell<ById<Vec<OrderId>>>,
    next_ticket_id: Cell<TicketId>,
    next_order_id: Cell<OrderId>,
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
    fn inserted(&self, dbs: &Databases) {
        dbs.orders_by_ticket
            .borrow_mut()
            .entry(self.ticket)
            .get_or_insert_with(Vec::new)
            .push(self.id);
    }
}

impl Default for Databases {
    fn default() -> Self {
        Databases {
            tickets_db: RefCell::new(Collection::new(Db::Tickets)),
            orders_db: RefCell::new(Collection::new(Db::Orders)),
            orders: RefCell::new(Collection::new(Db::Orders)),
            orders_by_ticket: RefCell::new(ById::default()),
            next_ticket_id: Cell::new(1),
            next_order_id: Cell::new(1),
        }
    }
}

impl Databases {
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

    /// The database documents of type `D` live in.
    pub fn db<D: Stored>(&self) -> Db {
        D::collection(self).borrow().db()
    }

    /// `findById`: a copy of the stored document.
    pub fn find<D: Stored>(&self, id: u32) -> Option<D> {
        D::collection(self).borrow().find(id)
    }

    /// `insert` of a new document; fails on an existing id.
    pub fn insert<D: Stored>(&self, doc: D) -> Result<D, WriteError> {
        let stored = D::collection(self).borrow_mut().insert(doc)?;
        stored.inserted(self);
        Ok(stored)
    }

    /// `save()` of `doc`, loaded earlier as `read`, in the given mode.
    pub fn save<D: Stored>(&self, read: &D, doc: D, mode: Save) -> Result<Saved<D>, WriteError> {
        D::collection(self).borrow_mut().save(read, doc, mode)
    }

    /// The orders service's `isReserved` query (`orders/src/models/ticket.ts`): an order for
    /// `ticket` whose status reserves it (the first, by id).
    pub fn reserving_order(&self, ticket: TicketId) -> Option<OrderId> {
        let orders = self.orders.borrow();
        let index = self.orders_by_ticket.borrow();
        index
            .get(ticket)?
            .iter()
            .copied()
            .filter(|&id| orders.get(id).is_some_and(|o| o.status.reserves()))
            .min()
    }
}
