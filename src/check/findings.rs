//! What the checks found in a run: divergences between the databases, broken invariants and
//! limits hit, counts, the course's own price check, the properties exercised, and the
//! one-word outcome. Plain data, serialized with stable field names into every report.

use crate::model::decisions::Refusal;
use crate::model::documents::{ChargeId, OrderId, OrderStatus, Price, TicketId};
use crate::model::events::Subject;
use crate::model::node::Node;
use crate::model::store::WriteError;
use crate::scenario::expect::{Invariant, Property};
use crate::sim::run::Hold;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

/// The one-word verdict of a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    /// Quiescent and the databases agree.
    Converged,
    /// Quiescent, but the databases disagree.
    Diverged,
    /// Not quiescent: a redelivery loop, or a limit hit with work left.
    Stuck,
}

impl Outcome {
    /// Every outcome, in the order reports list them.
    pub const ALL: [Outcome; 3] = [Outcome::Converged, Outcome::Diverged, Outcome::Stuck];

    /// The outcome as reports spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Converged => "converged",
            Outcome::Diverged => "diverged",
            Outcome::Stuck => "stuck",
        }
    }
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
    /// A second order of one ticket was completed: the ticket was sold twice.
    SoldTwice {
        /// The ticket.
        ticket: TicketId,
        /// The orders completed, by id.
        orders: Vec<OrderId>,
        /// When the second one was completed.
        t_us: u64,
    },
    /// A complete order was saved as cancelled.
    PaidOrderCancelled {
        /// The ticket.
        ticket: TicketId,
        /// The order.
        order: OrderId,
        /// When it was cancelled.
        t_us: u64,
    },
    /// At quiescence an order whose payment is recorded (and not refunded) is not complete.
    PaidOrderNotComplete {
        /// The ticket.
        ticket: TicketId,
        /// The order.
        order: OrderId,
        /// Its status at quiescence.
        status: OrderStatus,
        /// When its payment was recorded.
        paid_us: u64,
    },
    /// The tickets service released a ticket held by one order on the cancellation of another.
    ReleasedByAnotherOrder {
        /// The ticket.
        ticket: TicketId,
        /// The order that held it.
        held_by: OrderId,
        /// The order whose `order:cancelled` released it.
        cancelled: OrderId,
        /// When the release was saved.
        t_us: u64,
    },
    /// At quiescence, a charge at the card processor has no payment record and no refund.
    UnrecordedCharge {
        /// The ticket.
        ticket: TicketId,
        /// The order charged for.
        order: OrderId,
        /// The charge.
        charge: ChargeId,
        /// When the buyer was charged.
        t_us: u64,
    },
    /// The simulated time limit passed with work left.
    TimeLimit {
        /// The limit.
        sim_time_ms: u64,
        /// When the last thing happened before the limit (the run waited from then on).
        last_step_ms: u64,
        /// Service processes not running or cut off at the end, and why.
        #[serde(skip_serializing_if = "Vec::is_empty")]
        held: Vec<HeldNode>,
        /// The first few messages still unacked, as `subject#seq`, and the member holding
        /// each.
        #[serde(skip_serializing_if = "Vec::is_empty")]
        waiting: Vec<WaitingMessage>,
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

/// A service process that did nothing at the end of a run.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct HeldNode {
    /// The process.
    pub node: Node,
    /// Why: down, paused, or cut off from NATS.
    pub why: Hold,
}

/// A message still unacked at the end of a run.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct WaitingMessage {
    /// `subject#seq`.
    pub message: String,
    /// The member holding it, if one does.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub held_by: Option<Node>,
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
    /// `failed_handlers` by the reason the listener threw (`not-found`, `version-conflict`,
    /// `order-not-applied`, ...); a reason no listener gave is left out, and so is the whole
    /// map when none threw.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub failed_handlers_by_reason: BTreeMap<Refusal, u64>,
    /// The part of `db_conflicts` that were writes of orders, by error: `duplicate-key` is the
    /// unique index on active orders refusing one (`[cures] unique-active-order`),
    /// `version-conflict` a stale save. Left out when there were none.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub order_conflicts_by_error: BTreeMap<WriteError, u64>,
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
    /// Service processes that exited on an unhandled rejection (`unhandled-rejection = "exit"`).
    #[serde(default)]
    pub exits: u64,
    /// NATS clients the server closed (heartbeats missed, or replaced by a restart).
    #[serde(default)]
    pub clients_closed: u64,
    /// Pauses of a node.
    pub pauses: u64,
    /// Partitions of a node from the bus.
    pub partitions: u64,
    /// Orders placed (inserted by the orders service).
    pub orders: u64,
    /// Orders cancelled.
    pub cancellations: u64,
    /// Client scripts that stopped after a failed request, as the course's script does.
    #[serde(default)]
    pub abandoned_chains: u64,
    /// Requests those scripts never sent.
    #[serde(default)]
    pub unsent_requests: u64,
    /// The scheduler's steps (task polls): the unit of the simulator's cost, whatever the
    /// scenario.
    #[serde(default)]
    pub steps: u64,
    /// Timers set (every latency, wait and deadline).
    #[serde(default)]
    pub timers: u64,
    /// Charges at the card processor (the payments service).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub charges: u64,
    /// Payments recorded.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub payments: u64,
    /// Expiration jobs the expiration service's worker ran.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub expirations: u64,
    /// Steps `[cures] status-guards` stopped: a request refused, an event acked without a
    /// change, a payment refunded.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub guarded: u64,
    /// Events stored with their ticket in its outbox (`[cures] transactional-outbox`; absent
    /// from the JSON when none, as in the course's design).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub outbox_added: u64,
    /// Pending events a relay found when its process started again: what a crash or an exit
    /// left in the outbox.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub outbox_found: u64,
    /// Pending events the relay removed, their publish acked.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub outbox_removed: u64,
}

/// Whether a count is zero (serde leaves such counts out).
fn is_zero(n: &u64) -> bool {
    *n == 0
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
            failed_handlers_by_reason,
            order_conflicts_by_error,
            acks_lost,
            deliveries_lost,
            duplicates,
            publishes_failed,
            stalls,
            crashes,
            exits,
            clients_closed,
            pauses,
            partitions,
            orders,
            cancellations,
            abandoned_chains,
            unsent_requests,
            steps,
            timers,
            charges,
            payments,
            expirations,
            guarded,
            outbox_added,
            outbox_found,
            outbox_removed,
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
        for (&reason, n) in failed_handlers_by_reason {
            *self.failed_handlers_by_reason.entry(reason).or_default() += n;
        }
        for (&error, n) in order_conflicts_by_error {
            *self.order_conflicts_by_error.entry(error).or_default() += n;
        }
        self.acks_lost += acks_lost;
        self.deliveries_lost += deliveries_lost;
        self.duplicates += duplicates;
        self.publishes_failed += publishes_failed;
        self.stalls += stalls;
        self.crashes += crashes;
        self.exits += exits;
        self.clients_closed += clients_closed;
        self.pauses += pauses;
        self.partitions += partitions;
        self.orders += orders;
        self.cancellations += cancellations;
        self.abandoned_chains += abandoned_chains;
        self.unsent_requests += unsent_requests;
        self.steps += steps;
        self.timers += timers;
        self.charges += charges;
        self.payments += payments;
        self.expirations += expirations;
        self.guarded += guarded;
        self.outbox_added += outbox_added;
        self.outbox_found += outbox_found;
        self.outbox_removed += outbox_removed;
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
            Violation::SoldTwice { .. } => Some(Invariant::TicketSoldAtMostOnce),
            Violation::PaidOrderCancelled { .. } | Violation::PaidOrderNotComplete { .. } => {
                Some(Invariant::PaidOrderNeverCancelled)
            }
            Violation::ReleasedByAnotherOrder { .. } => {
                Some(Invariant::CancellationReleasesOnlyItsOrder)
            }
            Violation::UnrecordedCharge { .. } => Some(Invariant::EveryChargeRecorded),
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
            | Violation::VersionRegressed { ticket, .. }
            | Violation::SoldTwice { ticket, .. }
            | Violation::PaidOrderCancelled { ticket, .. }
            | Violation::PaidOrderNotComplete { ticket, .. }
            | Violation::ReleasedByAnotherOrder { ticket, .. }
            | Violation::UnrecordedCharge { ticket, .. } => Some(*ticket),
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
    /// No divergence: the two databases agree on every ticket (where the run stopped).
    pub databases_agree: bool,
    /// Everything acked and answered, within the limits, with no redelivery loop.
    pub quiescent: bool,
    /// Per-field disagreements, by ticket.
    pub divergences: Vec<Divergence>,
    /// Broken invariants, and why the run is stuck (loops, limits hit).
    pub violations: Vec<Violation>,
    /// Counts.
    pub stats: Stats,
    /// Tickets per price in each database.
    pub price_counts: Vec<PriceCount>,
    /// Which of the properties asked about the run exercised, in the order asked.
    pub exercised: Vec<Property>,
}

impl Findings {
    /// The one-word verdict: stuck unless quiescent, else diverged unless the databases agree.
    pub fn outcome(&self) -> Outcome {
        if !self.quiescent {
            Outcome::Stuck
        } else if !self.databases_agree {
            Outcome::Diverged
        } else {
            Outcome::Converged
        }
    }
}
