//! What a route handler or a listener can do: the narrow interface the model's async code is
//! written against. The runtime ([`crate::sim`]) implements it for a handler running on one
//! node; the model never sees the scheduler, the clock's implementation, the faults or the
//! trace.
//!
//! Each method that returns a future is one of the course's awaits: a database call
//! (`findById`, `save`, the `isReserved` query) or a publish. The runtime decides how long
//! each takes and what else runs meanwhile; the model decides only what to ask and what to do
//! with the answer. [`Service::stall`] is the one exception: the hook of the slow-handler
//! fault between a listener's read and its write. It has no await at all (so it is not an
//! interleaving point) unless a scenario injects that fault.
//!
//! Why a trait and not the runtime's type: the model stays a description of the course's code
//! that imports nothing from the runtime, and the same handlers could one day run against a
//! real broker and database through another implementation.

use crate::model::databases::Stored;
use crate::model::documents::{ChargeId, OrderId, PaymentId, Price, Ticket, TicketId};
use crate::model::events::{Event, Subject};
use crate::model::http::Cause;
use crate::model::occ::Occ;
use crate::model::store::{Save, WriteError};
use std::future::Future;

/// A publish that did not reach the bus: the event is lost.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PublishFailed;

/// A step a handler reports itself, beyond its database calls and publishes (which the runtime
/// records on its own).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Note {
    /// The orders service's is-reserved check for a new order returned: `order` is the
    /// reserving order it found; `None`, the ticket looked free.
    ReservedCheck {
        /// The ticket asked for.
        ticket: TicketId,
        /// The order found reserving it.
        order: Option<OrderId>,
    },
    /// A route refused a request because of `[cures] status-guards`: the order was not in the
    /// status the step expects (the course's code would have gone on).
    Guarded {
        /// The order.
        order: OrderId,
        /// Its ticket.
        ticket: TicketId,
    },
}

/// What a handler on one node of the system can do.
// The futures run on one thread (the simulator's executor), so no `Send` bound is wanted: the
// lint's concern (callers cannot require `Send`) does not apply.
#[allow(async_fn_in_trait)]
pub trait Service {
    /// The concurrency-control mode the system was built with.
    fn occ(&self) -> Occ;

    /// The handler's clock, in milliseconds (`new Date()`).
    fn now_ms(&self) -> u64;

    /// The `_id` of the tickets service's next ticket.
    fn next_ticket_id(&self) -> TicketId;

    /// The `_id` of the orders service's next order.
    fn next_order_id(&self) -> OrderId;

    /// The `_id` of the payments service's next payment.
    fn next_payment_id(&self) -> PaymentId;

    /// How long a new order holds its ticket (`EXPIRATION_WINDOW_SECONDS`), in ms.
    fn expiration_window_ms(&self) -> u64;

    /// Whether the routes and listeners of the later services check an order's status before
    /// changing it (`[cures] status-guards`).
    fn status_guards(&self) -> bool;

    /// Whether the tickets service's reservation listener publishes `ticket:updated` after
    /// saving (as taught; a scenario may turn it off to show what follows).
    fn publish_on_reserve(&self) -> bool;

    /// Whether the tickets service's order listeners take an order's events in order and clear
    /// only the reservation of the cancelled order (`[cures] ordered-order-events`).
    fn ordered_order_events(&self) -> bool;

    /// Whether the tickets service stores each event with its ticket, in the same write, for
    /// its relay to publish (`[cures] transactional-outbox`), rather than publishing it itself.
    fn transactional_outbox(&self) -> bool;

    /// `Model.findById(id)`: a copy of the stored document, if any.
    async fn find<D: Stored>(&self, id: u32) -> Option<D>;

    /// The orders service's `ticket.isReserved()` query: an order reserving `ticket`.
    async fn find_reserving_order(&self, ticket: TicketId) -> Option<OrderId>;

    /// `Model.build(doc).save()` of a new document; `by` is what made the handler write.
    async fn insert<D: Stored>(&self, by: Cause, doc: D) -> Result<D, WriteError>;

    /// `doc.save()` of a document loaded as `read` and changed into `doc`, in `mode`. Returns
    /// the writer's copy as mongoose's `save()` resolves it.
    async fn save_with<D: Stored>(
        &self,
        by: Cause,
        read: &D,
        doc: D,
        mode: Save,
    ) -> Result<D, WriteError>;

    /// `doc.save()` as the schema is built: conditional on the version (mongoose-update-if-
    /// current) when OCC is on, an overwrite otherwise.
    fn save<D: Stored>(
        &self,
        by: Cause,
        read: &D,
        doc: D,
    ) -> impl Future<Output = Result<D, WriteError>> {
        let mode = if self.occ().versioned() {
            Save::Conditional
        } else {
            Save::Overwrite
        };
        self.save_with(by, read, doc, mode)
    }

    /// With `[cures] transactional-outbox`: `ticket.outbox.push(event)` and `await
    /// ticket.save()` of a new ticket, the event of `subject` made from the ticket as saved,
    /// in the same single-document write; the tickets service's relay is woken to publish it.
    async fn insert_with_event(
        &self,
        by: Cause,
        doc: Ticket,
        subject: Subject,
    ) -> Result<Ticket, WriteError>;

    /// With `[cures] transactional-outbox`: `ticket.outbox.push(event)` and `await
    /// ticket.save()` of a ticket loaded as `read` and changed into `doc`, as [`Service::save`]
    /// saves it, the event of `subject` made from the ticket as saved (its version the one the
    /// save stores), in the same single-document write; the relay is woken to publish it.
    async fn save_with_event(
        &self,
        by: Cause,
        read: &Ticket,
        doc: Ticket,
        subject: Subject,
    ) -> Result<Ticket, WriteError>;

    /// `await new Publisher(client).publish(data)`: the event reaches the bus and the server's
    /// ack comes back, or the publish fails.
    async fn publish(&self, event: Event) -> Result<(), PublishFailed>;

    /// `new Publisher(client).publish(data)` without `await`: the event is written to the
    /// connection now and the handler goes on at once, whatever becomes of it.
    fn publish_unawaited(&self, event: Event);

    /// The expiration service's `expirationQueue.add({ orderId }, { delay })`: a round trip to
    /// Redis that adds a job falling due at `due_ms` (the order's `expiresAt`).
    async fn add_expiration_job(&self, order: OrderId, ticket: TicketId, due_ms: u64);

    /// The payments service's `stripe.charges.create(...)`: a round trip to the card processor
    /// that charges `amount` for `order` (of `ticket`, for the trace) and answers the charge's
    /// id.
    async fn charge(&self, order: OrderId, ticket: TicketId, amount: Price) -> ChargeId;

    /// A refund of `charge` (for `order` of `ticket`) at the card processor
    /// (`stripe.refunds.create({ charge })`): a round trip. Only `[cures] status-guards` asks
    /// for one; the course never refunds.
    async fn refund(&self, charge: ChargeId, order: OrderId, ticket: TicketId);

    /// Report a step of the handler.
    fn note(&self, note: Note);

    /// The slow-handler fault's hook, between a listener's read and its write.
    async fn stall(&self);
}
