//! The recorded history of a run: one [`Record`] per observable step, in the order it happened.
//!
//! The trace is the single source the checks and statistics read (DESIGN §5, §8). Written out
//! with `--trace FILE` it becomes JSON lines, one event per line, each with `t_us` (simulated
//! microseconds), `node` and `kind`. Every `db.write` line carries the whole stored state of the
//! document it wrote, so both databases' final contents can be recomputed from those lines alone
//! (see [`Trace::final_state`]): ticket documents (in either database) by `ticket`, `version`,
//! `title`, `price` and `order_id` when reserved; orders, which live in the orders database's
//! `orders` collection, by `"collection": "orders"`, `order`, `version`, `status`, `ticket`.
//! Each write also names what caused it (`by`): an HTTP route, or a message as `subject#seq`.

use crate::domain::{
    Order, OrderId, OrderStatus, Price, Refusal, ReplicaTicket, Subject, Ticket, TicketId, UserId,
};
use crate::exec::Node;
use crate::store::{Db, WriteError};
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::io::{self, Write};
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
}

impl Route {
    /// The route as the course writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Route::CreateTicket => "POST /api/tickets",
            Route::UpdateTicket => "PUT /api/tickets/:id",
            Route::CreateOrder => "POST /api/orders",
            Route::CancelOrder => "DELETE /api/orders/:id",
        }
    }

    /// Whether the orders service serves this route (the tickets service serves the others).
    pub fn is_orders(self) -> bool {
        matches!(self, Route::CreateOrder | Route::CancelOrder)
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

/// Why a delivered message was acked without being applied (`dedup` only).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum DropReason {
    /// A `ticket:updated` at or below the stored version.
    Stale,
    /// A `ticket:created` for a ticket that exists.
    Duplicate,
}

/// Why a message or an ack did not arrive.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Loss {
    /// The `lost-ack` fault.
    Dropped,
    /// The node was partitioned from the bus.
    Partition,
    /// The node was crashed.
    Down,
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
    /// The publisher published a message again (its confirmation was lost): the bus holds a
    /// second copy under a new sequence number.
    #[serde(rename = "duplicate")]
    Duplicate {
        /// Channel.
        subject: Subject,
        /// The copy's sequence number.
        seq: u64,
        /// The original's.
        of: u64,
    },
    /// A publish failed (the publisher was partitioned from the bus): the event is lost.
    #[serde(rename = "publish-failed")]
    PublishFailed {
        /// Channel.
        subject: Subject,
        /// The ticket the event was about.
        ticket: TicketId,
        /// Its version.
        #[serde(skip_serializing_if = "Option::is_none")]
        version: Option<u64>,
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

/// How a document describes itself on `db.write` and `db.conflict` lines.
pub trait Traced {
    /// The `db.write` line after this document was stored in `db` because of `by`.
    fn write_line(&self, db: Db, by: Cause) -> Event;
    /// The `db.conflict` line of a failed attempt to store this document.
    fn conflict_line(&self, db: Db, by: Cause, error: WriteError) -> Event;
}

/// The ticket-document lines, shared by both databases' ticket collections.
fn ticket_lines(
    (ticket, version, title, price, order_id): (TicketId, u64, &Rc<str>, Price, Option<OrderId>),
    db: Db,
    by: Cause,
    error: Option<WriteError>,
) -> Event {
    let title = title.clone();
    match error {
        None => Event::DbWrite {
            db,
            by,
            ticket,
            version,
            title,
            price,
            order_id,
        },
        Some(error) => Event::DbConflict {
            db,
            by,
            ticket,
            version,
            title,
            price,
            order_id,
            error,
        },
    }
}

impl Traced for Ticket {
    fn write_line(&self, db: Db, by: Cause) -> Event {
        ticket_lines(self.fields(), db, by, None)
    }
    fn conflict_line(&self, db: Db, by: Cause, error: WriteError) -> Event {
        ticket_lines(self.fields(), db, by, Some(error))
    }
}

impl Traced for ReplicaTicket {
    fn write_line(&self, db: Db, by: Cause) -> Event {
        ticket_lines(self.fields(), db, by, None)
    }
    fn conflict_line(&self, db: Db, by: Cause, error: WriteError) -> Event {
        ticket_lines(self.fields(), db, by, Some(error))
    }
}

impl Ticket {
    fn fields(&self) -> (TicketId, u64, &Rc<str>, Price, Option<OrderId>) {
        (
            self.id,
            self.version,
            &self.title,
            self.price,
            self.order_id,
        )
    }
}

impl ReplicaTicket {
    fn fields(&self) -> (TicketId, u64, &Rc<str>, Price, Option<OrderId>) {
        (self.id, self.version, &self.title, self.price, None)
    }
}

impl Traced for Order {
    fn write_line(&self, db: Db, by: Cause) -> Event {
        Event::OrderWrite {
            db,
            collection: OrdersCollection,
            by,
            order: self.id,
            version: self.version,
            status: self.status,
            ticket: self.ticket,
            user_id: self.user_id,
        }
    }
    fn conflict_line(&self, db: Db, by: Cause, error: WriteError) -> Event {
        Event::OrderConflict {
            db,
            collection: OrdersCollection,
            by,
            order: self.id,
            version: self.version,
            status: self.status,
            ticket: self.ticket,
            error,
        }
    }
}

/// The stored state of one ticket document as `db.write` lines describe it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DocState {
    /// Version.
    pub version: u64,
    /// Title.
    pub title: Rc<str>,
    /// Price.
    pub price: Price,
    /// The order reserving it (tickets database).
    pub order_id: Option<OrderId>,
}

/// The stored state of one order as `db.write` lines describe it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OrderState {
    /// Version.
    pub version: u64,
    /// Status.
    pub status: OrderStatus,
    /// The ticket ordered.
    pub ticket: TicketId,
}

/// Both databases' contents as the `db.write` lines leave them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FinalState {
    /// Ticket documents of both databases, by database and id.
    pub tickets: BTreeMap<(Db, TicketId), DocState>,
    /// The orders database's orders, by id.
    pub orders: BTreeMap<OrderId, OrderState>,
}

/// A run's history: its records, and a digest of them kept as they are pushed.
///
/// A trace made with [`Trace::digest_only`] keeps no records, only their digest, count and last
/// time: a sweep needs the hash and the checks (which observe records as they are made) but not
/// the records, and writing 300 KB of them per run was a fifth of a run's time.
#[derive(Clone, Debug)]
pub struct Trace {
    records: Vec<Record>,
    keep: bool,
    len: u64,
    last_t_us: u64,
    digest: StableHasher,
}

impl Default for Trace {
    fn default() -> Self {
        Trace::with_capacity(0)
    }
}

impl Trace {
    /// An empty trace with room for `records` records.
    pub fn with_capacity(records: usize) -> Trace {
        Trace {
            records: Vec::with_capacity(records),
            keep: true,
            len: 0,
            last_t_us: 0,
            digest: StableHasher::default(),
        }
    }

    /// An empty trace that keeps only the digest, count and last time of what is pushed.
    pub fn digest_only() -> Trace {
        Trace {
            keep: false,
            ..Trace::default()
        }
    }

    /// Append a record.
    pub fn push(&mut self, record: Record) {
        record.hash(&mut self.digest);
        self.len += 1;
        self.last_t_us = record.t_us;
        if self.keep {
            self.records.push(record);
        }
    }

    /// All records, in order; none if the trace was made [`Trace::digest_only`].
    pub fn records(&self) -> &[Record] {
        &self.records
    }

    /// How many records were pushed (kept or not).
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether nothing was pushed.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The time of the last record pushed (0 if none).
    pub fn last_t_us(&self) -> u64 {
        self.last_t_us
    }

    /// A stable 64-bit hash of every record in order, then their count, as 16 hex digits. Two
    /// runs with the same hash took the same steps at the same simulated times. It is computed
    /// as records are pushed (so it needs no pass over them, nor their being kept).
    pub fn hash(&self) -> String {
        let mut h = self.digest;
        h.write_u64(self.len);
        format!("{:016x}", h.finish())
    }

    /// Write the trace as JSON lines.
    pub fn write_jsonl(&self, mut out: impl Write) -> io::Result<()> {
        for record in &self.records {
            serde_json::to_writer(&mut out, record)?;
            out.write_all(b"\n")?;
        }
        out.flush()
    }

    /// Both databases' final contents, recomputed from the `db.write` lines alone.
    pub fn final_state(&self) -> FinalState {
        let mut state = FinalState::default();
        for record in &self.records {
            match &record.event {
                Event::DbWrite {
                    db,
                    ticket,
                    version,
                    title,
                    price,
                    order_id,
                    ..
                } => {
                    state.tickets.insert(
                        (*db, *ticket),
                        DocState {
                            version: *version,
                            title: title.clone(),
                            price: *price,
                            order_id: *order_id,
                        },
                    );
                }
                Event::OrderWrite {
                    order,
                    version,
                    status,
                    ticket,
                    ..
                } => {
                    state.orders.insert(
                        *order,
                        OrderState {
                            version: *version,
                            status: *status,
                            ticket: *ticket,
                        },
                    );
                }
                _ => {}
            }
        }
        state
    }
}

/// A fast 64-bit hasher with a fixed definition (no random keys, integers fed little-endian),
/// so a trace hashes the same on every run, thread and platform. FxHash's word-at-a-time mixing,
/// finished with a murmur3 avalanche so every input bit reaches every output bit.
#[derive(Clone, Copy, Debug, Default)]
pub struct StableHasher(u64);

impl StableHasher {
    const K: u64 = 0x517c_c1b7_2722_0a95;

    #[inline]
    fn mix(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(Self::K);
    }
}

impl Hasher for StableHasher {
    fn finish(&self) -> u64 {
        let mut h = self.0;
        h ^= h >> 33;
        h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
        h ^= h >> 33;
        h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
        h ^ (h >> 33)
    }

    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            self.mix(u64::from_le_bytes(chunk.try_into().expect("8 bytes")));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut word = [0u8; 8];
            word[..rest.len()].copy_from_slice(rest);
            self.mix(u64::from_le_bytes(word) ^ ((rest.len() as u64) << 59));
        }
    }

    fn write_u8(&mut self, i: u8) {
        self.mix(u64::from(i));
    }
    fn write_u16(&mut self, i: u16) {
        self.mix(u64::from(i));
    }
    fn write_u32(&mut self, i: u32) {
        self.mix(u64::from(i));
    }
    fn write_u64(&mut self, i: u64) {
        self.mix(i);
    }
    fn write_usize(&mut self, i: usize) {
        self.mix(i as u64);
    }
    fn write_isize(&mut self, i: isize) {
        self.mix(i as u64);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stable_hash_is_pinned_and_sensitive_to_every_byte() {
        let hash = |bytes: &[u8]| {
            let mut h = StableHasher::default();
            h.write(bytes);
            h.finish()
        };
        // Pinned: the hash is part of every report, so its definition must not drift.
        assert_eq!(hash(b"ticket:updated"), 0x0bb3_8d7b_b3e2_4864);
        assert_ne!(hash(b"ticket:updated"), hash(b"ticket:updatee"));
        assert_ne!(hash(b"a"), hash(b"a\0"), "length is part of the tail");
    }

    #[test]
    fn a_trace_that_keeps_only_its_digest_hashes_as_one_that_keeps_everything() {
        let record = |t_us, seq| Record {
            t_us,
            node: Node::Bus,
            event: Event::Send {
                subject: Subject::TicketUpdated,
                seq,
                replica: Node::Orders(1),
                redelivered: false,
            },
        };
        let trace = |keep: bool, records: &[Record]| {
            let mut t = if keep {
                Trace::with_capacity(4)
            } else {
                Trace::digest_only()
            };
            for r in records {
                t.push(r.clone());
            }
            t
        };
        let (a, b) = (record(10, 1), record(20, 2));
        let full = trace(true, &[a.clone(), b.clone()]);
        let digest = trace(false, &[a.clone(), b.clone()]);
        assert_eq!(full.hash(), digest.hash());
        assert_eq!((full.records().len(), digest.records().len()), (2, 0));
        assert_eq!((digest.len(), digest.last_t_us()), (2, 20));
        // Order, content and count all count.
        assert_ne!(full.hash(), trace(true, &[b.clone(), a.clone()]).hash());
        assert_ne!(full.hash(), trace(true, &[a.clone(), record(20, 3)]).hash());
        assert_ne!(full.hash(), trace(true, std::slice::from_ref(&a)).hash());
        assert_ne!(Trace::default().hash(), trace(true, &[a]).hash());
    }

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

    #[test]
    fn order_lines_say_their_collection_and_writes_their_cause() {
        let order = Order {
            id: 2,
            version: 0,
            status: OrderStatus::Created,
            user_id: 5,
            expires_at_ms: 60_000,
            ticket: 1,
        };
        let line = serde_json::to_string(
            &order.write_line(Db::Orders, Cause::Message(Subject::OrderCreated, 3)),
        )
        .unwrap();
        assert_eq!(
            line,
            r#"{"kind":"db.write","db":"orders","collection":"orders","by":"order:created#3","order":2,"version":0,"status":"created","ticket":1,"user_id":5}"#
        );
    }

    #[test]
    fn final_state_keeps_the_last_write_per_document() {
        let write = |t_us, db, version, price| Record {
            t_us,
            node: Node::Tickets,
            event: Event::DbWrite {
                db,
                by: Cause::Request(Route::UpdateTicket),
                ticket: 1,
                version,
                title: "t".into(),
                price,
                order_id: None,
            },
        };
        let mut trace = Trace::default();
        trace.push(write(1, Db::Tickets, 0, 5));
        trace.push(write(2, Db::Orders, 0, 5));
        trace.push(write(3, Db::Tickets, 1, 10));
        let state = trace.final_state().tickets;
        assert_eq!(state[&(Db::Tickets, 1)].price, 10);
        assert_eq!(state[&(Db::Orders, 1)].price, 5);
    }
}
