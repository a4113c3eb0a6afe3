//! What a run checks (DESIGN §5), read from the recorded history alone.
//!
//! - **Convergence** (safety): at the end, every ticket's copy in the orders database has the
//!   tickets database's title and price, and, with OCC, its version.
//! - **Quiescence** (liveness): every message acked and every request answered within the
//!   limits; a message delivered more often than the bound is a redelivery loop.
//! - **Versions** never go backwards in the orders database.
//! - **Reservations**: at most one order that reserves a ticket at any time; at quiescence a
//!   ticket's `order_id` names the order reserving it, or is empty when none does; no edit of a
//!   ticket is accepted while it is reserved.
//! - **Sometimes-properties**: whether the run exercised what its scenario is meant to
//!   exercise (a reordering, a redelivery, a version conflict, ...), so a scenario cannot
//!   silently test nothing.
//!
//! Both databases' final states come from the trace's `db.write` lines, which is also the proof
//! that the trace carries enough to recompute them. Every check is one pass over the records
//! ([`Checker`]), with documents kept by id in vectors (five passes and `BTreeMap`s made the
//! checks 18% of a run's time; the single pass is about 8%). A run feeds its checker each record as
//! it is recorded, so a sweep need not keep the records at all ([`crate::world::run_report`]).

use crate::bus::seq_key;
use crate::domain::{Occ, OrderId, Price, Subject, TicketId};
use crate::exec::{Halt, Node};
use crate::store::{ById, Db, WriteError};
use crate::trace::{Cause, DocState, Event, OrderState, Record, Route, Trace};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

/// An invariant of the system (DESIGN §5), as expectations and reports name it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Invariant {
    /// At most one order that reserves a ticket (status not cancelled) at any time.
    AtMostOneActiveOrder,
    /// At quiescence a ticket's `order_id` names the order reserving it, or is empty when no
    /// order does.
    OrderIdNamesActiveOrder,
    /// No edit of a ticket is accepted while it is reserved.
    NoEditOfReservedTicket,
    /// A replica's version of a ticket never goes backwards.
    VersionsNeverGoBack,
}

impl Invariant {
    /// Every invariant.
    pub const ALL: [Invariant; 4] = [
        Invariant::AtMostOneActiveOrder,
        Invariant::OrderIdNamesActiveOrder,
        Invariant::NoEditOfReservedTicket,
        Invariant::VersionsNeverGoBack,
    ];

    /// The name scenario files and reports use.
    pub fn as_str(self) -> &'static str {
        match self {
            Invariant::AtMostOneActiveOrder => "at-most-one-active-order",
            Invariant::OrderIdNamesActiveOrder => "order-id-names-active-order",
            Invariant::NoEditOfReservedTicket => "no-edit-of-reserved-ticket",
            Invariant::VersionsNeverGoBack => "versions-never-go-back",
        }
    }
}

/// Something a scenario is meant to exercise; a run reports whether it did.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Property {
    /// A ticket's event was delivered before an event published earlier about the same ticket
    /// was first delivered.
    Reordering,
    /// A message was delivered again after its ack wait.
    Redelivery,
    /// The bus held a message twice.
    DuplicateDelivery,
    /// A conditional save failed its version check.
    VersionConflict,
    /// Two create-order requests for one ticket were between their is-reserved check and their
    /// insert at the same time.
    OrdersRaced,
    /// A crash dropped work in flight on the node it hit.
    CrashMidHandler,
}

impl Property {
    /// Every property.
    pub const ALL: [Property; 6] = [
        Property::Reordering,
        Property::Redelivery,
        Property::DuplicateDelivery,
        Property::VersionConflict,
        Property::OrdersRaced,
        Property::CrashMidHandler,
    ];

    /// The name scenario files and reports use.
    pub fn as_str(self) -> &'static str {
        match self {
            Property::Reordering => "reordering",
            Property::Redelivery => "redelivery",
            Property::DuplicateDelivery => "duplicate-delivery",
            Property::VersionConflict => "version-conflict",
            Property::OrdersRaced => "orders-raced",
            Property::CrashMidHandler => "crash-mid-handler",
        }
    }
}

macro_rules! named_enum {
    ($t:ty, $what:literal) => {
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $t {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                <$t>::ALL
                    .into_iter()
                    .find(|v| v.as_str() == s)
                    .ok_or_else(|| {
                        let names: Vec<&str> = <$t>::ALL.iter().map(|v| v.as_str()).collect();
                        format!("`{s}` is not {}: write one of {}", $what, names.join(", "))
                    })
            }
        }
    };
}
named_enum!(Invariant, "an invariant");
named_enum!(Property, "a property");

/// How a run ended, as the world saw it.
#[derive(Clone, Copy, Debug)]
pub struct Ending {
    /// Why the executor stopped.
    pub halt: Halt,
    /// Messages sent and never acked.
    pub unacked: usize,
    /// Requests never answered.
    pub open_requests: u64,
    /// Simulated time at the end, in microseconds.
    pub now_us: u64,
}

/// A field on which the two databases disagree about one ticket.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Divergence {
    /// The ticket.
    pub ticket: TicketId,
    /// `exists`, `title`, `price` or `version`.
    pub field: &'static str,
    /// The tickets database's value.
    pub tickets_db: Value,
    /// The orders database's value.
    pub orders_db: Value,
}

/// A broken invariant or an unfinished run.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Violation {
    /// A message was delivered `deliveries` times without an ack; the bus stopped sending it.
    RedeliveryLoop {
        /// Channel.
        subject: Subject,
        /// Sequence number.
        seq: u64,
        /// The ticket it is about.
        ticket: TicketId,
        /// Its version.
        #[serde(skip_serializing_if = "Option::is_none")]
        version: Option<u64>,
        /// Deliveries made.
        deliveries: u32,
        /// When the bus gave up.
        t_us: u64,
    },
    /// Two or more orders reserved one ticket at the same time (the is-reserved check and the
    /// insert of concurrent requests interleaved).
    DoubleReservation {
        /// The ticket.
        ticket: TicketId,
        /// The orders reserving it, by id.
        orders: Vec<OrderId>,
        /// When the second one was written.
        t_us: u64,
    },
    /// At quiescence the ticket's `order_id` does not name the order reserving it.
    StaleReservation {
        /// The ticket.
        ticket: TicketId,
        /// What the tickets database says reserves it.
        #[serde(skip_serializing_if = "Option::is_none")]
        order_id: Option<OrderId>,
        /// The orders that reserve it in the orders database.
        reserving_orders: Vec<OrderId>,
        /// When the run quiesced.
        t_us: u64,
    },
    /// An edit of the ticket's title or price was saved while an order reserved it.
    ReservedTicketEdited {
        /// The ticket.
        ticket: TicketId,
        /// The order holding it.
        order: OrderId,
        /// When the edit was saved.
        t_us: u64,
    },
    /// A replica's version of a ticket went down.
    VersionRegressed {
        /// The ticket.
        ticket: TicketId,
        /// The writer.
        node: Node,
        /// Version before.
        from: u64,
        /// Version after.
        to: u64,
        /// When.
        t_us: u64,
    },
    /// The simulated time limit passed with work left.
    TimeLimit {
        /// The limit.
        sim_time_ms: u64,
        /// Messages still unacked.
        unacked: usize,
        /// Requests still open.
        open_requests: u64,
    },
    /// The step limit was hit: a runaway model.
    StepLimit {
        /// Messages still unacked.
        unacked: usize,
        /// Requests still open.
        open_requests: u64,
    },
}

/// Counts over the trace.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stats {
    /// Tickets in the tickets database at the end.
    pub tickets: u64,
    /// Requests answered by the tickets service.
    pub http_requests: u64,
    /// Of those, answered with a status of 400 or more.
    pub http_errors: u64,
    /// Messages published.
    pub published: u64,
    /// Deliveries that reached a listener (first deliveries and redeliveries).
    pub delivered: u64,
    /// Deliveries flagged redelivered.
    pub redelivered: u64,
    /// Acks of applied messages.
    pub acked: u64,
    /// Acks of messages dropped as stale or duplicate (`dedup`).
    pub dropped: u64,
    /// Listener runs that threw and did not ack.
    pub failed_handlers: u64,
    /// Successful database writes.
    pub db_writes: u64,
    /// Failed database writes (version conflicts, duplicate keys).
    pub db_conflicts: u64,
    /// Acks that never reached the bus (lost, or from a partitioned replica).
    pub acks_lost: u64,
    /// Deliveries that never reached their replica (partitioned or crashed).
    pub deliveries_lost: u64,
    /// Messages the bus held twice.
    pub duplicates: u64,
    /// Publishes that failed: events lost.
    pub publishes_failed: u64,
    /// Listener runs that stalled mid-handler.
    pub stalls: u64,
    /// Crashes of a node.
    pub crashes: u64,
    /// Pauses of a node.
    pub pauses: u64,
    /// Partitions of a node from the bus.
    pub partitions: u64,
    /// Orders placed (inserted by the orders service).
    pub orders: u64,
    /// Orders cancelled.
    pub cancellations: u64,
}

impl Stats {
    /// Add another run's counts to these.
    pub fn add(&mut self, other: &Stats) {
        let Stats {
            tickets,
            http_requests,
            http_errors,
            published,
            delivered,
            redelivered,
            acked,
            dropped,
            failed_handlers,
            db_writes,
            db_conflicts,
            acks_lost,
            deliveries_lost,
            duplicates,
            publishes_failed,
            stalls,
            crashes,
            pauses,
            partitions,
            orders,
            cancellations,
        } = other;
        self.tickets += tickets;
        self.http_requests += http_requests;
        self.http_errors += http_errors;
        self.published += published;
        self.delivered += delivered;
        self.redelivered += redelivered;
        self.acked += acked;
        self.dropped += dropped;
        self.failed_handlers += failed_handlers;
        self.db_writes += db_writes;
        self.db_conflicts += db_conflicts;
        self.acks_lost += acks_lost;
        self.deliveries_lost += deliveries_lost;
        self.duplicates += duplicates;
        self.publishes_failed += publishes_failed;
        self.stalls += stalls;
        self.crashes += crashes;
        self.pauses += pauses;
        self.partitions += partitions;
        self.orders += orders;
        self.cancellations += cancellations;
    }
}

impl Violation {
    /// The invariant this breaks, if any (a redelivery loop or a limit breaks none: it makes
    /// the run stuck).
    pub fn invariant(&self) -> Option<Invariant> {
        match self {
            Violation::DoubleReservation { .. } => Some(Invariant::AtMostOneActiveOrder),
            Violation::StaleReservation { .. } => Some(Invariant::OrderIdNamesActiveOrder),
            Violation::ReservedTicketEdited { .. } => Some(Invariant::NoEditOfReservedTicket),
            Violation::VersionRegressed { .. } => Some(Invariant::VersionsNeverGoBack),
            Violation::RedeliveryLoop { .. }
            | Violation::TimeLimit { .. }
            | Violation::StepLimit { .. } => None,
        }
    }

    /// The ticket it is about, if one.
    pub fn ticket(&self) -> Option<TicketId> {
        match self {
            Violation::RedeliveryLoop { ticket, .. }
            | Violation::DoubleReservation { ticket, .. }
            | Violation::StaleReservation { ticket, .. }
            | Violation::ReservedTicketEdited { ticket, .. }
            | Violation::VersionRegressed { ticket, .. } => Some(*ticket),
            Violation::TimeLimit { .. } | Violation::StepLimit { .. } => None,
        }
    }

    /// Whether this breaks an invariant of the system.
    pub fn is_invariant(&self) -> bool {
        self.invariant().is_some()
    }
}

/// How many tickets each database holds at a price: the course's own check ("how many tickets
/// are priced 15 in each database?").
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PriceCount {
    /// The price.
    pub price: Price,
    /// Tickets at that price in the tickets database.
    pub tickets_db: u64,
    /// Tickets at that price in the orders database.
    pub orders_db: u64,
}

/// Everything the checks found.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Findings {
    /// No divergence.
    pub converged: bool,
    /// Everything acked and answered, within the limits, with no redelivery loop.
    pub quiescent: bool,
    /// Per-field disagreements, by ticket.
    pub divergences: Vec<Divergence>,
    /// Broken invariants and limits hit.
    pub violations: Vec<Violation>,
    /// Counts.
    pub stats: Stats,
    /// Tickets per price in each database.
    pub price_counts: Vec<PriceCount>,
    /// Which of the properties asked about the run exercised, in the order asked.
    pub exercised: Vec<Property>,
}

/// Run every check over a finished run; `wanted` are the properties the scenario is meant to
/// exercise (only those are looked for).
pub fn judge(occ: Occ, trace: &Trace, ending: &Ending, wanted: &[Property]) -> Findings {
    let mut checker = Checker::new(wanted);
    for record in trace.records() {
        checker.observe(record);
    }
    checker.finish(occ, ending)
}

/// The checks as one pass over the history: [`Checker::observe`] each record in order (as a
/// run records it, or afterwards from its trace), then [`Checker::finish`]. [`judge`] is that
/// pass over a whole trace; a run feeds its checker as it records, so nothing is read twice.
pub struct Checker {
    /// Both databases' documents as the `db.write` lines leave them, by id (ids are dense
    /// from 1, so a vector is the map).
    tickets_db: ById<DocState>,
    orders_db: ById<DocState>,
    orders: ById<OrderState>,
    stats: Stats,
    /// Broken invariants and redelivery loops, in the order they happened.
    violations: Vec<Violation>,
    /// The last version each orders-database ticket was written at.
    versions: ById<u64>,
    /// Orders that reserve each ticket, and tickets already reported as doubly reserved.
    reserving: ById<Vec<OrderId>>,
    doubly: Vec<TicketId>,
    /// One watch per property asked about, in the order asked.
    watches: Vec<(Property, Watch)>,
    last_t_us: u64,
}

/// What a property's watch has seen so far.
enum Watch {
    /// Seen: nothing more to look at.
    Seen,
    /// A property seen in one record: the test is [`Checker::observe`]'s.
    Simple,
    /// Create-order requests past a passed is-reserved check and not yet inserted, per ticket.
    OrdersRaced(ById<u32>),
    /// Per event stream, which of its events were delivered.
    Reordering(Box<Streams>),
}

/// Per stream (a ticket's events, an order's events: ids are dense from 1), how many of its
/// events were published, which were delivered, and the first undelivered; and for each
/// channel's sequence numbers, the event's stream and position.
#[derive(Default)]
struct Streams {
    tickets: ById<Stream>,
    orders: ById<Stream>,
    /// By channel and seq: (is an order stream, stream id, position in the stream).
    position: [ById<(bool, u32, usize)>; 4],
}

#[derive(Default)]
struct Stream {
    first_undelivered: usize,
    delivered: Vec<bool>,
}

impl Streams {
    fn stream(&mut self, is_order: bool, id: u32) -> &mut Stream {
        let streams = if is_order {
            &mut self.orders
        } else {
            &mut self.tickets
        };
        streams.entry(id).get_or_insert_with(Stream::default)
    }

    /// A record; true when it delivers an event of a stream before an earlier one of the same
    /// stream was first delivered.
    fn overtook(&mut self, event: &Event) -> bool {
        match event {
            Event::Publish {
                subject,
                seq,
                ticket,
                order,
                ..
            } => {
                let (is_order, id) = match (subject, order) {
                    (Subject::OrderCreated | Subject::OrderCancelled, Some(o)) => (true, *o),
                    _ => (false, *ticket),
                };
                let stream = self.stream(is_order, id);
                let position = stream.delivered.len();
                stream.delivered.push(false);
                self.position[subject.index()].insert(seq_key(*seq), (is_order, id, position));
                false
            }
            Event::Deliver { subject, seq, .. } => {
                let Some(&(is_order, id, i)) = self.position[subject.index()].get(seq_key(*seq))
                else {
                    return false;
                };
                let stream = self.stream(is_order, id);
                let overtook = i > stream.first_undelivered && !stream.delivered[i];
                stream.delivered[i] = true;
                while stream
                    .delivered
                    .get(stream.first_undelivered)
                    .is_some_and(|&d| d)
                {
                    stream.first_undelivered += 1;
                }
                overtook
            }
            _ => false,
        }
    }
}

impl Checker {
    /// A checker that has seen nothing, looking for the properties in `wanted`.
    pub fn new(wanted: &[Property]) -> Self {
        let watches = wanted
            .iter()
            .map(|&p| {
                let watch = match p {
                    Property::Reordering => Watch::Reordering(Box::default()),
                    Property::OrdersRaced => Watch::OrdersRaced(ById::default()),
                    Property::Redelivery
                    | Property::DuplicateDelivery
                    | Property::VersionConflict
                    | Property::CrashMidHandler => Watch::Simple,
                };
                (p, watch)
            })
            .collect();
        Checker {
            tickets_db: ById::default(),
            orders_db: ById::default(),
            orders: ById::default(),
            stats: Stats::default(),
            violations: Vec::new(),
            versions: ById::default(),
            reserving: ById::default(),
            doubly: Vec::new(),
            watches,
            last_t_us: 0,
        }
    }

    /// The next record of the history.
    pub fn observe(&mut self, record: &Record) {
        self.last_t_us = record.t_us;
        self.count(&record.event);
        match &record.event {
            Event::DbWrite {
                db,
                by,
                ticket,
                version,
                title,
                price,
                order_id,
            } => {
                let doc = DocState {
                    version: *version,
                    title: title.clone(),
                    price: *price,
                    order_id: *order_id,
                };
                match db {
                    Db::Tickets => {
                        *self.tickets_db.entry(*ticket) = Some(doc);
                        if let (Cause::Request(Route::UpdateTicket), Some(order)) = (by, order_id) {
                            self.violations.push(Violation::ReservedTicketEdited {
                                ticket: *ticket,
                                order: *order,
                                t_us: record.t_us,
                            });
                        }
                    }
                    Db::Orders => {
                        *self.orders_db.entry(*ticket) = Some(doc);
                        let last = self.versions.entry(*ticket).get_or_insert(*version);
                        if *version < *last {
                            self.violations.push(Violation::VersionRegressed {
                                ticket: *ticket,
                                node: record.node,
                                from: *last,
                                to: *version,
                                t_us: record.t_us,
                            });
                        }
                        *last = *version;
                    }
                }
            }
            Event::OrderWrite {
                order,
                version,
                status,
                ticket,
                ..
            } => {
                *self.orders.entry(*order) = Some(OrderState {
                    version: *version,
                    status: *status,
                    ticket: *ticket,
                });
                let orders = self.reserving.entry(*ticket).get_or_insert_with(Vec::new);
                orders.retain(|o| o != order);
                if status.reserves() {
                    orders.push(*order);
                    orders.sort_unstable();
                }
                if orders.len() > 1 && !self.doubly.contains(ticket) {
                    self.doubly.push(*ticket);
                    self.violations.push(Violation::DoubleReservation {
                        ticket: *ticket,
                        orders: orders.clone(),
                        t_us: record.t_us,
                    });
                }
            }
            Event::RedeliveryLoop {
                subject,
                seq,
                ticket,
                version,
                deliveries,
            } => self.violations.push(Violation::RedeliveryLoop {
                subject: *subject,
                seq: *seq,
                ticket: *ticket,
                version: *version,
                deliveries: *deliveries,
                t_us: record.t_us,
            }),
            _ => {}
        }
        for (property, watch) in &mut self.watches {
            if exercises(*property, watch, &record.event) {
                *watch = Watch::Seen;
            }
        }
    }

    fn count(&mut self, event: &Event) {
        let s = &mut self.stats;
        match event {
            Event::Http { status, .. } => {
                s.http_requests += 1;
                s.http_errors += u64::from(*status >= 400);
            }
            Event::Publish { .. } => s.published += 1,
            Event::Deliver { redelivered, .. } => {
                s.delivered += 1;
                s.redelivered += u64::from(*redelivered);
            }
            Event::Ack { .. } => s.acked += 1,
            Event::Drop { .. } => s.dropped += 1,
            Event::Nack { .. } => s.failed_handlers += 1,
            Event::DbWrite { .. } => s.db_writes += 1,
            Event::DbConflict { .. } | Event::OrderConflict { .. } => s.db_conflicts += 1,
            Event::AckLost { .. } => s.acks_lost += 1,
            Event::Lost { .. } => s.deliveries_lost += 1,
            Event::Duplicate { .. } => s.duplicates += 1,
            Event::OrderWrite { by, .. } => {
                s.db_writes += 1;
                match by {
                    Cause::Request(Route::CreateOrder) => s.orders += 1,
                    Cause::Request(Route::CancelOrder) => s.cancellations += 1,
                    _ => {}
                }
            }
            Event::PublishFailed { .. } => s.publishes_failed += 1,
            Event::Stall { .. } => s.stalls += 1,
            Event::Crash { .. } => s.crashes += 1,
            Event::Pause { .. } => s.pauses += 1,
            Event::Partition { .. } => s.partitions += 1,
            Event::Send { .. }
            | Event::ReservedCheck { .. }
            | Event::Redeliver { .. }
            | Event::RedeliveryLoop { .. }
            | Event::Restart { .. }
            | Event::Resume { .. }
            | Event::PartitionHealed { .. }
            | Event::Heal => {}
        }
    }

    /// Judge the run that ended as `ending` after the records observed.
    pub fn finish(mut self, occ: Occ, ending: &Ending) -> Findings {
        let divergences = self.divergences(occ);
        match ending.halt {
            Halt::Idle => {}
            Halt::TimeLimit => self.violations.push(Violation::TimeLimit {
                sim_time_ms: ending.now_us / 1000,
                unacked: ending.unacked,
                open_requests: ending.open_requests,
            }),
            Halt::StepLimit => self.violations.push(Violation::StepLimit {
                unacked: ending.unacked,
                open_requests: ending.open_requests,
            }),
        }
        let looped = self
            .violations
            .iter()
            .any(|v| matches!(v, Violation::RedeliveryLoop { .. }));
        let quiescent = ending.halt == Halt::Idle
            && ending.unacked == 0
            && ending.open_requests == 0
            && !looped;
        if quiescent {
            let stale = self.stale_reservations(self.last_t_us);
            self.violations.extend(stale);
        }
        self.stats.tickets = self.tickets_db.len() as u64;
        Findings {
            converged: divergences.is_empty(),
            quiescent,
            divergences,
            price_counts: self.price_counts(),
            violations: self.violations,
            stats: self.stats,
            exercised: self
                .watches
                .iter()
                .filter(|(_, w)| matches!(w, Watch::Seen))
                .map(|&(p, _)| p)
                .collect(),
        }
    }

    fn divergences(&self, occ: Occ) -> Vec<Divergence> {
        let mut out = Vec::new();
        for (id, source) in self.tickets_db.iter() {
            let Some(replica) = self.orders_db.get(id) else {
                out.push(Divergence {
                    ticket: id,
                    field: "exists",
                    tickets_db: json!(true),
                    orders_db: json!(false),
                });
                continue;
            };
            if source.title != replica.title {
                out.push(Divergence {
                    ticket: id,
                    field: "title",
                    tickets_db: json!(&*source.title),
                    orders_db: json!(&*replica.title),
                });
            }
            if source.price != replica.price {
                out.push(Divergence {
                    ticket: id,
                    field: "price",
                    tickets_db: json!(source.price),
                    orders_db: json!(replica.price),
                });
            }
            if occ.versioned() && source.version != replica.version {
                out.push(Divergence {
                    ticket: id,
                    field: "version",
                    tickets_db: json!(source.version),
                    orders_db: json!(replica.version),
                });
            }
        }
        for (id, _) in self.orders_db.iter() {
            if self.tickets_db.get(id).is_none() {
                out.push(Divergence {
                    ticket: id,
                    field: "exists",
                    tickets_db: json!(false),
                    orders_db: json!(true),
                });
            }
        }
        out
    }

    /// At quiescence, every ticket's `order_id` against the orders that reserve it.
    fn stale_reservations(&self, t_us: u64) -> Vec<Violation> {
        let mut reserving: BTreeMap<TicketId, Vec<OrderId>> = BTreeMap::new();
        for (id, order) in self.orders.iter() {
            if order.status.reserves() {
                reserving.entry(order.ticket).or_default().push(id);
            }
        }
        let mut out = Vec::new();
        for (ticket, doc) in self.tickets_db.iter() {
            let orders = reserving.remove(&ticket).unwrap_or_default();
            let ok = match doc.order_id {
                Some(id) => orders.contains(&id),
                None => orders.is_empty(),
            };
            if !ok {
                out.push(Violation::StaleReservation {
                    ticket,
                    order_id: doc.order_id,
                    reserving_orders: orders,
                    t_us,
                });
            }
        }
        out
    }

    fn price_counts(&self) -> Vec<PriceCount> {
        let mut counts: BTreeMap<Price, (u64, u64)> = BTreeMap::new();
        for (_, doc) in self.tickets_db.iter() {
            counts.entry(doc.price).or_default().0 += 1;
        }
        for (_, doc) in self.orders_db.iter() {
            counts.entry(doc.price).or_default().1 += 1;
        }
        counts
            .into_iter()
            .map(|(price, (tickets_db, orders_db))| PriceCount {
                price,
                tickets_db,
                orders_db,
            })
            .collect()
    }
}

/// Whether `event` shows `property`, given what its watch has seen.
fn exercises(property: Property, watch: &mut Watch, event: &Event) -> bool {
    match (property, watch) {
        (_, Watch::Seen) => false,
        (_, Watch::Reordering(streams)) => streams.overtook(event),
        (_, Watch::OrdersRaced(open)) => match event {
            Event::ReservedCheck {
                ticket,
                order: None,
                ..
            } => {
                let n = open.entry(*ticket).get_or_insert(0);
                *n += 1;
                *n > 1
            }
            Event::OrderWrite {
                ticket,
                by: Cause::Request(Route::CreateOrder),
                ..
            }
            | Event::OrderConflict {
                ticket,
                by: Cause::Request(Route::CreateOrder),
                ..
            } => {
                if let Some(n) = open.entry(*ticket).as_mut() {
                    *n = n.saturating_sub(1);
                }
                false
            }
            _ => false,
        },
        (Property::Redelivery, Watch::Simple) => matches!(
            event,
            Event::Deliver {
                redelivered: true,
                ..
            }
        ),
        (Property::DuplicateDelivery, Watch::Simple) => matches!(event, Event::Duplicate { .. }),
        (Property::VersionConflict, Watch::Simple) => matches!(
            event,
            Event::DbConflict {
                error: WriteError::VersionConflict,
                ..
            } | Event::OrderConflict {
                error: WriteError::VersionConflict,
                ..
            }
        ),
        (Property::CrashMidHandler, Watch::Simple) => {
            matches!(event, Event::Crash { dropped_tasks, .. } if *dropped_tasks > 0)
        }
        (Property::Reordering | Property::OrdersRaced, Watch::Simple) => {
            unreachable!("these properties have their own watches")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::OrderStatus;
    use crate::trace::Record;

    fn write(t_us: u64, db: Db, ticket: TicketId, version: u64, price: Price) -> Record {
        Record {
            t_us,
            node: if db == Db::Tickets {
                Node::Tickets
            } else {
                Node::Orders(1)
            },
            event: Event::DbWrite {
                db,
                by: Cause::Request(Route::UpdateTicket),
                ticket,
                version,
                title: "t".into(),
                price,
                order_id: None,
            },
        }
    }

    /// The violations seen while reading `trace`, before the end-of-run checks.
    fn history_violations(trace: &Trace) -> Vec<Violation> {
        let mut checker = Checker::new(&[]);
        for record in trace.records() {
            checker.observe(record);
        }
        checker.violations
    }

    fn exercised(trace: &Trace, property: Property) -> bool {
        judge(Occ::On, trace, &idle(), &[property]).exercised == [property]
    }

    fn idle() -> Ending {
        Ending {
            halt: Halt::Idle,
            unacked: 0,
            open_requests: 0,
            now_us: 10,
        }
    }

    #[test]
    fn a_stale_price_in_the_orders_db_is_a_divergence() {
        let mut trace = Trace::default();
        trace.push(write(1, Db::Tickets, 1, 0, 15));
        trace.push(write(2, Db::Orders, 1, 0, 10));
        let findings = judge(Occ::Off, &trace, &idle(), &[]);
        assert!(!findings.converged);
        assert_eq!(
            findings.divergences,
            vec![Divergence {
                ticket: 1,
                field: "price",
                tickets_db: json!(15),
                orders_db: json!(10)
            }]
        );
        assert_eq!(
            findings.price_counts,
            vec![
                PriceCount {
                    price: 10,
                    tickets_db: 0,
                    orders_db: 1
                },
                PriceCount {
                    price: 15,
                    tickets_db: 1,
                    orders_db: 0
                }
            ]
        );
    }

    #[test]
    fn versions_count_only_with_occ() {
        let mut trace = Trace::default();
        trace.push(write(1, Db::Tickets, 1, 2, 15));
        trace.push(write(2, Db::Orders, 1, 1, 15));
        assert!(judge(Occ::Off, &trace, &idle(), &[]).converged);
        let on = judge(Occ::On, &trace, &idle(), &[]);
        assert_eq!(on.divergences[0].field, "version");
    }

    #[test]
    fn a_missing_replica_is_a_divergence() {
        let mut trace = Trace::default();
        trace.push(write(1, Db::Tickets, 4, 0, 5));
        let findings = judge(Occ::On, &trace, &idle(), &[]);
        assert_eq!(findings.divergences[0].field, "exists");
    }

    #[test]
    fn a_version_going_down_is_a_violation() {
        let mut trace = Trace::default();
        trace.push(write(1, Db::Orders, 1, 2, 15));
        trace.push(write(2, Db::Orders, 1, 1, 10));
        let findings = judge(Occ::On, &trace, &idle(), &[]);
        assert_eq!(
            findings.violations,
            vec![Violation::VersionRegressed {
                ticket: 1,
                node: Node::Orders(1),
                from: 2,
                to: 1,
                t_us: 2
            }]
        );
    }

    #[test]
    fn unacked_work_or_a_limit_means_not_quiescent() {
        let trace = Trace::default();
        let unacked = Ending {
            unacked: 1,
            ..idle()
        };
        assert!(!judge(Occ::On, &trace, &unacked, &[]).quiescent);
        let limit = Ending {
            halt: Halt::TimeLimit,
            ..idle()
        };
        let findings = judge(Occ::On, &trace, &limit, &[]);
        assert!(!findings.quiescent);
        assert!(matches!(
            findings.violations[0],
            Violation::TimeLimit { .. }
        ));
        assert!(judge(Occ::On, &trace, &idle(), &[]).quiescent);
    }

    fn at(t_us: u64, node: Node, event: Event) -> Record {
        Record { t_us, node, event }
    }

    fn order(t_us: u64, id: OrderId, ticket: TicketId, status: OrderStatus, by: Route) -> Record {
        at(
            t_us,
            Node::Orders(1),
            Event::OrderWrite {
                db: Db::Orders,
                collection: crate::trace::OrdersCollection,
                by: Cause::Request(by),
                order: id,
                version: 0,
                status,
                ticket,
                user_id: 1,
            },
        )
    }

    fn reserved(t_us: u64, ticket: TicketId, order_id: Option<OrderId>, by: Cause) -> Record {
        at(
            t_us,
            Node::Tickets,
            Event::DbWrite {
                db: Db::Tickets,
                by,
                ticket,
                version: 1,
                title: "t".into(),
                price: 5,
                order_id,
            },
        )
    }

    fn invariants(findings: &Findings) -> Vec<Invariant> {
        findings
            .violations
            .iter()
            .filter_map(Violation::invariant)
            .collect()
    }

    #[test]
    fn two_orders_reserving_one_ticket_is_reported_once_with_both_orders() {
        use OrderStatus::*;
        let mut trace = Trace::default();
        trace.push(order(5, 1, 7, Created, Route::CreateOrder));
        trace.push(order(6, 2, 7, Created, Route::CreateOrder));
        trace.push(order(8, 3, 7, Created, Route::CreateOrder));
        trace.push(order(9, 4, 8, Created, Route::CreateOrder));
        let v = history_violations(&trace);
        assert_eq!(
            v,
            [Violation::DoubleReservation {
                ticket: 7,
                orders: vec![1, 2],
                t_us: 6
            }]
        );
        // A cancellation in between frees the ticket: no violation.
        let mut trace = Trace::default();
        trace.push(order(5, 1, 7, Created, Route::CreateOrder));
        trace.push(order(6, 1, 7, Cancelled, Route::CancelOrder));
        trace.push(order(8, 2, 7, Created, Route::CreateOrder));
        assert_eq!(history_violations(&trace), []);
    }

    #[test]
    fn at_quiescence_the_order_id_must_name_the_reserving_order() {
        use OrderStatus::*;
        let by = Cause::Message(Subject::OrderCreated, 1);
        // Reserved by a cancelled order: stale.
        let mut trace = Trace::default();
        trace.push(order(1, 1, 7, Created, Route::CreateOrder));
        trace.push(order(2, 1, 7, Cancelled, Route::CancelOrder));
        trace.push(reserved(3, 7, Some(1), by));
        let findings = judge(Occ::On, &trace, &idle(), &[]);
        assert_eq!(
            findings.violations,
            [Violation::StaleReservation {
                ticket: 7,
                order_id: Some(1),
                reserving_orders: vec![],
                t_us: 3
            }]
        );
        // The same state, but the run did not quiesce: nothing is judged yet.
        let unfinished = Ending {
            unacked: 1,
            ..idle()
        };
        assert_eq!(invariants(&judge(Occ::On, &trace, &unfinished, &[])), []);
        // Free but ordered: also stale.
        let mut trace = Trace::default();
        trace.push(order(1, 1, 7, Created, Route::CreateOrder));
        trace.push(reserved(3, 7, None, by));
        assert_eq!(
            invariants(&judge(Occ::On, &trace, &idle(), &[])),
            [Invariant::OrderIdNamesActiveOrder]
        );
        // Reserved by the order that holds it: fine.
        let mut trace = Trace::default();
        trace.push(order(1, 1, 7, Created, Route::CreateOrder));
        trace.push(reserved(3, 7, Some(1), by));
        assert_eq!(invariants(&judge(Occ::On, &trace, &idle(), &[])), []);
    }

    #[test]
    fn only_an_edit_saved_onto_a_reserved_ticket_breaks_the_edit_invariant() {
        let mut trace = Trace::default();
        trace.push(reserved(
            1,
            7,
            Some(3),
            Cause::Message(Subject::OrderCreated, 1),
        ));
        trace.push(reserved(2, 8, None, Cause::Request(Route::UpdateTicket)));
        trace.push(reserved(4, 7, Some(3), Cause::Request(Route::UpdateTicket)));
        assert_eq!(
            history_violations(&trace),
            [Violation::ReservedTicketEdited {
                ticket: 7,
                order: 3,
                t_us: 4
            }]
        );
    }

    fn publish(subject: Subject, seq: u64, ticket: TicketId, order: Option<OrderId>) -> Record {
        at(
            0,
            Node::Tickets,
            Event::Publish {
                subject,
                seq,
                ticket,
                version: None,
                title: None,
                price: None,
                order,
            },
        )
    }

    fn deliver(subject: Subject, seq: u64, redelivered: bool) -> Record {
        at(
            1,
            Node::Orders(1),
            Event::Deliver {
                subject,
                seq,
                replica: Node::Orders(1),
                redelivered,
            },
        )
    }

    fn trace_of(records: Vec<Record>) -> Trace {
        let mut trace = Trace::default();
        for r in records {
            trace.push(r);
        }
        trace
    }

    #[test]
    fn reordering_is_a_later_event_of_a_stream_delivered_before_an_earlier_one() {
        use Subject::*;
        let in_order = trace_of(vec![
            publish(TicketCreated, 1, 1, None),
            publish(TicketUpdated, 1, 1, None),
            publish(TicketCreated, 2, 2, None),
            deliver(TicketCreated, 2, false),
            deliver(TicketCreated, 1, false),
            deliver(TicketUpdated, 1, false),
            // A redelivery of an event already delivered overtakes nothing.
            deliver(TicketCreated, 1, true),
        ]);
        assert!(!exercised(&in_order, Property::Reordering));
        let overtaken = trace_of(vec![
            publish(TicketCreated, 1, 1, None),
            publish(TicketUpdated, 1, 1, None),
            deliver(TicketUpdated, 1, false),
        ]);
        assert!(exercised(&overtaken, Property::Reordering));
        // An order's cancellation before its creation, across two channels.
        let orders = trace_of(vec![
            publish(OrderCreated, 1, 9, Some(4)),
            publish(OrderCancelled, 1, 9, Some(4)),
            deliver(OrderCancelled, 1, false),
        ]);
        assert!(exercised(&orders, Property::Reordering));
        assert!(!exercised(&orders, Property::Redelivery));
        assert!(exercised(&in_order, Property::Redelivery));
    }

    #[test]
    fn orders_race_when_two_checks_pass_before_an_insert() {
        let check = |ticket| {
            at(
                1,
                Node::Orders(1),
                Event::ReservedCheck {
                    replica: Node::Orders(1),
                    ticket,
                    order: None,
                },
            )
        };
        let one_after_the_other = trace_of(vec![
            check(7),
            order(2, 1, 7, OrderStatus::Created, Route::CreateOrder),
            check(7),
            check(8),
        ]);
        assert!(!exercised(&one_after_the_other, Property::OrdersRaced));
        let raced = trace_of(vec![check(7), check(8), check(7)]);
        assert!(exercised(&raced, Property::OrdersRaced));
    }

    #[test]
    fn a_crash_exercises_a_handler_only_if_it_dropped_work() {
        let crash = |dropped_tasks| {
            trace_of(vec![at(
                1,
                Node::Faults,
                Event::Crash {
                    target: Node::Orders(2),
                    dropped_tasks,
                },
            )])
        };
        assert!(!exercised(&crash(0), Property::CrashMidHandler));
        assert!(exercised(&crash(2), Property::CrashMidHandler));
        assert_eq!(
            judge(Occ::On, &crash(2), &idle(), &Property::ALL).exercised,
            [Property::CrashMidHandler],
            "only the properties exercised, of those asked for"
        );
    }

    #[test]
    fn invariant_and_property_names_round_trip() {
        for i in Invariant::ALL {
            assert_eq!(i.as_str().parse(), Ok(i));
            assert_eq!(serde_json::to_value(i).unwrap(), i.as_str());
        }
        for p in Property::ALL {
            assert_eq!(p.as_str().parse(), Ok(p));
            assert_eq!(serde_json::to_value(p).unwrap(), p.as_str());
        }
        assert!("reorder"
            .parse::<Property>()
            .unwrap_err()
            .contains("reordering"));
    }
}
