//! One step of a run's history: a [`Record`] of what happened, where and when.
//!
//! Written out with `--trace FILE` each record is one JSON line with `t_us` (simulated
//! microseconds), `node` and `kind`; the kind names and field names are stable, because tools
//! parse them. Every `db.write` line carries the whole stored state of the document it wrote:
//! ticket documents (in either database) by `ticket`, `version`, `title`, `price` and
//! `order_id` when reserved; orders, which live in the orders database's `orders` collection,
//! by `"collection": "orders"`, `order`, `version`, `status`, `ticket`. Each write also names
//! what caused it (`by`): an HTTP route, or a message as `subject#seq`. With `[cures]
//! transactional-outbox`, `outbox.add`, `outbox.found` and `outbox.remove` lines follow each
//! pending event, by its `id`, from the write that stored it to the relay's removal of it.

use crate::model::bull::JobId;
use crate::model::databases::PendingId;
use crate::model::decisions::{DropReason, Refusal};
use crate::model::documents::{ChargeId, OrderId, OrderStatus, PaymentId, Price, TicketId, UserId};
use crate::model::events::Subject;
use crate::model::http::{Cause, Route};
use crate::model::node::Node;
use crate::model::store::{Db, WriteError};
use crate::sim::session::ExitReason;
use serde::Serialize;
use std::rc::Rc;

/// Why a message or an ack did not arrive.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Loss {
    /// The `lost-ack` fault.
    Dropped,
    /// The node was crashed, or has restarted since: what was sent to its old client never
    /// reaches the new one.
    Down,
    /// The server had closed the node's client: it refuses the client's acks and publishes.
    Closed,
    /// No ack for a publish came back within the client's 30 s.
    Timeout,
}

/// What happened. The serialized `kind` names are stable: tools parse them.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(tag = "kind")]
pub enum Event {
    /// A service answered a request.
    #[serde(rename = "http")]
    Http {
        /// The route.
        request: Route,
        /// The ticket concerned (the new id for a create), if any.
        #[serde(skip_serializing_if = "Option::is_none")]
        ticket: Option<TicketId>,
        /// The order concerned (the new id for an order), if any.
        #[serde(skip_serializing_if = "Option::is_none")]
        order: Option<OrderId>,
        /// The price the request asked for (ticket routes).
        #[serde(skip_serializing_if = "Option::is_none")]
        price: Option<Price>,
        /// HTTP status of the response.
        status: u16,
    },
    /// A message reached the bus and was given the next sequence number of its channel.
    #[serde(rename = "publish")]
    Publish {
        /// Channel.
        subject: Subject,
        /// Sequence number in the channel.
        seq: u64,
        /// The ticket the event is about (an order event's ticket).
        ticket: TicketId,
        /// The event's version (of the ticket, or of the order; absent when OCC is off).
        #[serde(skip_serializing_if = "Option::is_none")]
        version: Option<u64>,
        /// Title carried (ticket events).
        #[serde(skip_serializing_if = "Option::is_none")]
        title: Option<Rc<str>>,
        /// Price carried.
        #[serde(skip_serializing_if = "Option::is_none")]
        price: Option<Price>,
        /// The order: an order event's own id, or the order a `ticket:updated` says reserves
        /// the ticket.
        #[serde(skip_serializing_if = "Option::is_none")]
        order: Option<OrderId>,
    },
    /// The bus sent a message to a queue-group member for the first time; its ack wait starts.
    #[serde(rename = "send")]
    Send {
        /// Channel.
        subject: Subject,
        /// Sequence number.
        seq: u64,
        /// The member it was sent to.
        replica: Node,
        /// Always false for a first send.
        redelivered: bool,
    },
    /// The ack wait of a message ran out and the bus sent it again.
    #[serde(rename = "redeliver")]
    Redeliver {
        /// Channel.
        subject: Subject,
        /// Sequence number.
        seq: u64,
        /// The member it was sent to (the one with the fewest pending acks).
        replica: Node,
        /// Always true.
        redelivered: bool,
        /// Which delivery of this message this is (2 for the first redelivery).
        attempt: u32,
    },
    /// A message arrived at a replica and its listener started.
    #[serde(rename = "deliver")]
    Deliver {
        /// Channel.
        subject: Subject,
        /// Sequence number.
        seq: u64,
        /// The receiving replica.
        replica: Node,
        /// NATS's redelivered flag.
        redelivered: bool,
    },
    /// The listener acked the message.
    #[serde(rename = "ack")]
    Ack {
        /// Channel.
        subject: Subject,
        /// Sequence number.
        seq: u64,
        /// The acking replica.
        replica: Node,
    },
    /// The listener threw: no ack, so the bus redelivers after the ack wait.
    #[serde(rename = "nack")]
    Nack {
        /// Channel.
        subject: Subject,
        /// Sequence number.
        seq: u64,
        /// The replica whose listener failed.
        replica: Node,
        /// Why.
        reason: Refusal,
    },
    /// The listener acked the message without applying it.
    #[serde(rename = "drop")]
    Drop {
        /// Channel.
        subject: Subject,
        /// Sequence number.
        seq: u64,
        /// The replica.
        replica: Node,
        /// Why it was not applied.
        reason: DropReason,
    },
    /// A ticket document was written; the fields are its whole stored state afterwards.
    #[serde(rename = "db.write")]
    DbWrite {
        /// Which database.
        db: Db,
        /// What wrote it.
        by: Cause,
        /// Document id.
        ticket: TicketId,
        /// Stored version.
        version: u64,
        /// Stored title.
        title: Rc<str>,
        /// Stored price.
        price: Price,
        /// The order reserving it (tickets database only; absent when free).
        #[serde(skip_serializing_if = "Option::is_none")]
        order_id: Option<OrderId>,
    },
    /// A write of a ticket document failed; the fields are what the writer tried to store.
    #[serde(rename = "db.conflict")]
    DbConflict {
        /// Which database.
        db: Db,
        /// What tried to write it.
        by: Cause,
        /// Document id.
        ticket: TicketId,
        /// The version the writer had read.
        version: u64,
        /// Title it tried to store.
        title: Rc<str>,
        /// Price it tried to store.
        price: Price,
        /// The order it tried to store.
        #[serde(skip_serializing_if = "Option::is_none")]
        order_id: Option<OrderId>,
        /// Why the write failed.
        error: WriteError,
    },
    /// An order was written (orders database, `orders` collection); the fields are its whole
    /// stored state afterwards.
    #[serde(rename = "db.write")]
    OrderWrite {
        /// Always the orders database.
        db: Db,
        /// Always `orders`: tells order lines from ticket lines.
        collection: OrdersCollection,
        /// What wrote it.
        by: Cause,
        /// Order id.
        order: OrderId,
        /// Stored version.
        version: u64,
        /// Stored status.
        status: OrderStatus,
        /// The ticket ordered.
        ticket: TicketId,
        /// Who ordered.
        user_id: UserId,
    },
    /// A write of an order failed; the fields are what the writer tried to store.
    #[serde(rename = "db.conflict")]
    OrderConflict {
        /// Always the orders database.
        db: Db,
        /// Always `orders`.
        collection: OrdersCollection,
        /// What tried to write it.
        by: Cause,
        /// Order id.
        order: OrderId,
        /// The version the writer had read.
        version: u64,
        /// The status it tried to store.
        status: OrderStatus,
        /// The ticket ordered.
        ticket: TicketId,
        /// Why the write failed.
        error: WriteError,
    },
    /// The orders service's is-reserved check for a new order returned (DESIGN §2): `order`
    /// is the reserving order it found; absent, the ticket looked free.
    #[serde(rename = "reserved-check")]
    ReservedCheck {
        /// The replica handling the request.
        replica: Node,
        /// The ticket asked for.
        ticket: TicketId,
        /// The order found reserving it.
        #[serde(skip_serializing_if = "Option::is_none")]
        order: Option<OrderId>,
    },
    /// A listener's ack did not reach the bus; the message stays pending.
    #[serde(rename = "ack-lost")]
    AckLost {
        /// Channel.
        subject: Subject,
        /// Sequence number.
        seq: u64,
        /// The replica whose ack was lost.
        replica: Node,
        /// Why.
        reason: Loss,
    },
    /// A message sent to a replica never arrived; its ack wait runs out and it is redelivered.
    #[serde(rename = "lost")]
    Lost {
        /// Channel.
        subject: Subject,
        /// Sequence number.
        seq: u64,
        /// The replica it was sent to.
        replica: Node,
        /// Why.
        reason: Loss,
    },
    /// The bus holds a second copy of a message under a new sequence number, as if its
    /// publisher retried (the `publisher-retry` fault, beyond the course).
    #[serde(rename = "duplicate")]
    Duplicate {
        /// Channel.
        subject: Subject,
        /// The copy's sequence number.
        seq: u64,
        /// The original's.
        of: u64,
    },
    /// A publish failed: its promise rejected. `timeout`: the publisher was cut off for 30 s
    /// (the message may still reach the bus when the partition ends); `closed`: the server no
    /// longer knew the publisher's client, and the event is lost.
    #[serde(rename = "publish-failed")]
    PublishFailed {
        /// Channel.
        subject: Subject,
        /// The ticket the event was about.
        ticket: TicketId,
        /// Its version.
        #[serde(skip_serializing_if = "Option::is_none")]
        version: Option<u64>,
        /// Why.
        reason: Loss,
    },
    /// The server's heartbeat to a client went unanswered: it stops choosing the client's
    /// members until one is answered.
    #[serde(rename = "heartbeat-missed")]
    HeartbeatMissed {
        /// The process whose client missed it.
        target: Node,
    },
    /// A client that had missed heartbeats answered one again.
    #[serde(rename = "heartbeat-answered")]
    HeartbeatAnswered {
        /// The process.
        target: Node,
    },
    /// The server closed a client (three heartbeats missed, or replaced by a restart): its
    /// members left their groups and their pending messages moved to the others.
    #[serde(rename = "client-closed")]
    ClientClosed {
        /// The process whose client it was.
        target: Node,
        /// Pending messages moved to other members (or kept for the next to join).
        moved: usize,
    },
    /// A restarted process's client connected and subscribed again.
    #[serde(rename = "client-connected")]
    ClientConnected {
        /// The process.
        target: Node,
    },
    /// A client's script stopped early: one of its requests failed (axios rejects on a status
    /// outside 2xx or a reset connection, and the script's chain throws), so the requests after
    /// it were never sent.
    #[serde(rename = "chain-abandoned")]
    ChainAbandoned {
        /// The script's ticket, if it was created.
        #[serde(skip_serializing_if = "Option::is_none")]
        ticket: Option<TicketId>,
        /// The failed response's status; absent when the connection was reset.
        #[serde(skip_serializing_if = "Option::is_none")]
        status: Option<u16>,
        /// Requests the script did not send.
        unsent: u32,
    },
    /// A listener stalled mid-handler.
    #[serde(rename = "stall")]
    Stall {
        /// The replica.
        replica: Node,
        /// For how long.
        ms: u64,
    },
    /// A node crashed: its in-flight work is gone.
    #[serde(rename = "crash")]
    Crash {
        /// The node.
        target: Node,
        /// Tasks dropped (handlers and deliveries in flight).
        dropped_tasks: usize,
    },
    /// A service's process exited on its own (an unhandled rejection under Node 15 and later,
    /// or its NATS client closed): its in-flight work is gone, and Kubernetes restarts it.
    #[serde(rename = "exit")]
    Exit {
        /// The node.
        target: Node,
        /// Why.
        reason: ExitReason,
        /// Tasks dropped (handlers and deliveries in flight).
        dropped_tasks: usize,
        /// When it runs again: Kubernetes's back-off and the service's start-up.
        restart_after_ms: u64,
    },
    /// A crashed node started again, empty.
    #[serde(rename = "restart")]
    Restart {
        /// The node.
        target: Node,
    },
    /// A node stopped running for a while.
    #[serde(rename = "pause")]
    Pause {
        /// The node.
        target: Node,
        /// For how long.
        for_ms: u64,
    },
    /// A paused node runs again, from where each task stopped.
    #[serde(rename = "resume")]
    Resume {
        /// The node.
        target: Node,
    },
    /// A node was cut off from the bus.
    #[serde(rename = "partition")]
    Partition {
        /// The node.
        target: Node,
        /// For how long.
        for_ms: u64,
    },
    /// A partition ended.
    #[serde(rename = "partition-healed")]
    PartitionHealed {
        /// The node.
        target: Node,
    },
    /// Faults stop here; every node is up, running and connected.
    #[serde(rename = "heal")]
    Heal,
    /// A message exceeded the redelivery bound; the bus stops sending it and the run is stuck.
    #[serde(rename = "redelivery-loop")]
    RedeliveryLoop {
        /// Channel.
        subject: Subject,
        /// Sequence number.
        seq: u64,
        /// The ticket the message is about.
        ticket: TicketId,
        /// The message's version.
        #[serde(skip_serializing_if = "Option::is_none")]
        version: Option<u64>,
        /// How many times it was delivered.
        deliveries: u32,
    },
    /// The payments service's copy of an order was written (payments database, `orders`
    /// collection); the fields are its whole stored state afterwards.
    #[serde(rename = "db.write")]
    PaymentsOrderWrite {
        /// Always the payments database.
        db: Db,
        /// Always `orders`.
        collection: OrdersCollection,
        /// What wrote it.
        by: Cause,
        /// Order id.
        order: OrderId,
        /// Stored version.
        version: u64,
        /// Stored status.
        status: OrderStatus,
        /// The order's ticket (kept for the trace; the course's document has no ticket).
        ticket: TicketId,
    },
    /// A write of the payments service's copy of an order failed; the fields are what the
    /// writer tried to store.
    #[serde(rename = "db.conflict")]
    PaymentsOrderConflict {
        /// Always the payments database.
        db: Db,
        /// Always `orders`.
        collection: OrdersCollection,
        /// What tried to write it.
        by: Cause,
        /// Order id.
        order: OrderId,
        /// The version the writer had read.
        version: u64,
        /// The status it tried to store.
        status: OrderStatus,
        /// The order's ticket.
        ticket: TicketId,
        /// Why the write failed.
        error: WriteError,
    },
    /// A payment was saved (payments database, `payments` collection).
    #[serde(rename = "db.write")]
    PaymentWrite {
        /// Always the payments database.
        db: Db,
        /// Always `payments`.
        collection: PaymentsCollection,
        /// What wrote it.
        by: Cause,
        /// Payment id.
        payment: PaymentId,
        /// The order paid.
        order: OrderId,
        /// The charge it records.
        charge: ChargeId,
    },
    /// A payment could not be saved.
    #[serde(rename = "db.conflict")]
    PaymentConflict {
        /// Always the payments database.
        db: Db,
        /// Always `payments`.
        collection: PaymentsCollection,
        /// What tried to write it.
        by: Cause,
        /// Payment id.
        payment: PaymentId,
        /// The order paid.
        order: OrderId,
        /// The charge it records.
        charge: ChargeId,
        /// Why the write failed.
        error: WriteError,
    },
    /// The card processor charged the buyer of an order (`stripe.charges.create`).
    #[serde(rename = "charge")]
    Charge {
        /// The charge's id.
        charge: ChargeId,
        /// The order charged for.
        order: OrderId,
        /// The order's ticket.
        ticket: TicketId,
        /// How much, in whole currency units.
        amount: Price,
    },
    /// The card processor refunded a charge (`[cures] status-guards` only).
    #[serde(rename = "refund")]
    Refund {
        /// The charge refunded.
        charge: ChargeId,
        /// The order it was for.
        order: OrderId,
        /// The order's ticket.
        ticket: TicketId,
    },
    /// A route refused to change an order not in the status it expects (`[cures]
    /// status-guards`).
    #[serde(rename = "guarded")]
    Guarded {
        /// The order.
        order: OrderId,
        /// Its ticket.
        ticket: TicketId,
    },
    /// The expiration service added a job to its Bull queue (in Redis).
    #[serde(rename = "job.added")]
    JobAdded {
        /// The job's id.
        job: JobId,
        /// The order it expires.
        order: OrderId,
        /// The order's ticket.
        ticket: TicketId,
        /// When it falls due, in simulated ms.
        due_ms: u64,
    },
    /// The Bull worker took a job that fell due, and runs its processor.
    #[serde(rename = "job.active")]
    JobActive {
        /// The job.
        job: JobId,
        /// Its order.
        order: OrderId,
        /// Its order's ticket.
        ticket: TicketId,
        /// Which run of the job this is (2 after a stall).
        run: u32,
    },
    /// The worker moved a job to `completed`.
    #[serde(rename = "job.completed")]
    JobCompleted {
        /// The job.
        job: JobId,
        /// Its order.
        order: OrderId,
    },
    /// A job was active when its worker's process died: it will run again once its lock
    /// lapses, or, stalled once too often, never.
    #[serde(rename = "job.stalled")]
    JobStalled {
        /// The job.
        job: JobId,
        /// Its order.
        order: OrderId,
        /// When it runs again, in simulated ms; absent when it failed for good.
        #[serde(skip_serializing_if = "Option::is_none")]
        retry_at_ms: Option<u64>,
    },
    /// A write stored an event with its ticket, as pending, in the ticket's outbox (`[cures]
    /// transactional-outbox`): the `db.write` line before it, at the same instant, is that
    /// write's.
    #[serde(rename = "outbox.add")]
    OutboxAdd {
        /// The pending event's id: ids grow in the order events are stored.
        id: PendingId,
        /// Its channel.
        subject: Subject,
        /// The ticket.
        ticket: TicketId,
        /// The version it carries (absent when OCC is off).
        #[serde(skip_serializing_if = "Option::is_none")]
        version: Option<u64>,
        /// The price it carries.
        price: Price,
    },
    /// The relay of a process that had just started found this event pending: its process
    /// before had stored it, and may or may not have published it.
    #[serde(rename = "outbox.found")]
    OutboxFound {
        /// The pending event's id.
        id: PendingId,
        /// Its channel.
        subject: Subject,
        /// The ticket.
        ticket: TicketId,
        /// The version it carries (absent when OCC is off).
        #[serde(skip_serializing_if = "Option::is_none")]
        version: Option<u64>,
        /// The price it carries.
        price: Price,
    },
    /// The relay removed a pending event from its ticket's outbox, its publish acked.
    #[serde(rename = "outbox.remove")]
    OutboxRemove {
        /// The pending event's id.
        id: PendingId,
        /// Its channel.
        subject: Subject,
        /// The ticket.
        ticket: TicketId,
        /// The version it carries (absent when OCC is off).
        #[serde(skip_serializing_if = "Option::is_none")]
        version: Option<u64>,
        /// The price it carries.
        price: Price,
    },
}

/// One line of the trace.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct Record {
    /// Simulated time in microseconds.
    pub t_us: u64,
    /// The node where it happened.
    pub node: Node,
    /// What happened.
    #[serde(flatten)]
    pub event: Event,
}

/// The `"collection": "orders"` of order lines: a constant, so it takes no room in a record.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct OrdersCollection;

impl Serialize for OrdersCollection {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str("orders")
    }
}

/// The `"collection": "payments"` of payment lines.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PaymentsCollection;

impl Serialize for PaymentsCollection {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str("payments")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_trace_line_has_time_node_and_kind_first() {
        let record = Record {
            t_us: 1500,
            node: Node::Orders(2),
            event: Event::Deliver {
                subject: Subject::TicketUpdated,
                seq: 4,
                replica: Node::Orders(2),
                redelivered: true,
            },
        };
        let line = serde_json::to_string(&record).unwrap();
        assert_eq!(
            line,
            r#"{"t_us":1500,"node":"orders-2","kind":"deliver","subject":"ticket:updated","seq":4,"replica":"orders-2","redelivered":true}"#
        );
    }
}
