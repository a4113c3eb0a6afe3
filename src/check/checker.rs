//! Every check as one pass over a run's history: [`Checker::observe`] each record in order (as
//! the run records it, or afterwards from its trace), then [`Checker::finish`].
//!
//! Both databases' final states come from the trace's `db.write` lines, which is also the proof
//! that the trace carries enough to recompute them. Documents are kept by id in vectors (five
//! passes and `BTreeMap`s made the checks 18% of a run's time; the single pass is about 8%).
//! A run feeds its checker each record as it is recorded ([`Observer`]), so a sweep need not
//! keep the records at all.

use crate::check::convergence::{divergences, price_counts};
use crate::check::findings::{Findings, HeldNode, Stats, Violation, WaitingMessage};
use crate::check::invariants::{stale_reservations, Invariants};
use crate::check::properties::Properties;
use crate::model::by_id::ById;
use crate::model::decisions::DropReason;
use crate::model::documents::OrderId;
use crate::model::events::Subject;
use crate::model::http::{Cause, Route};
use crate::model::nats::seq_key;
use crate::model::occ::Occ;
use crate::model::store::Db;
use crate::scenario::expect::Property;
use crate::sim::exec::Halt;
use crate::sim::record::{Event, Record};
use crate::sim::run::Ending;
use crate::sim::trace::{DocState, Observer, OrderState, Trace};

/// Run every check over a finished run; `wanted` are the properties the scenario is meant to
/// exercise (only those are looked for).
pub fn judge(occ: Occ, trace: &Trace, ending: &Ending, wanted: &[Property]) -> Findings {
    let mut checker = Checker::new(wanted);
    for record in trace.records() {
        checker.observe(record);
    }
    checker.finish(occ, ending)
}

/// The checks, part way through a history.
pub struct Checker {
    /// Both databases' documents as the `db.write` lines leave them, by id (ids are dense
    /// from 1, so a vector is the map).
    tickets_db: ById<DocState>,
    orders_db: ById<DocState>,
    orders: ById<OrderState>,
    stats: Stats,
    /// Broken invariants and redelivery loops, in the order they happened.
    pub(crate) violations: Vec<Violation>,
    invariants: Invariants,
    properties: Properties,
    /// The order of each `order:cancelled` message, by sequence number.
    cancels: ById<OrderId>,
    last_t_us: u64,
}

impl Observer for Checker {
    #[inline]
    fn observe(&mut self, record: &Record) {
        Checker::observe(self, record);
    }
}

impl Checker {
    /// A checker that has seen nothing, looking for the properties in `wanted`.
    pub fn new(wanted: &[Property]) -> Self {
        Checker {
            tickets_db: ById::default(),
            orders_db: ById::default(),
            orders: ById::default(),
            stats: Stats::default(),
            violations: Vec::new(),
            invariants: Invariants::default(),
            properties: Properties::new(wanted),
            cancels: ById::default(),
            last_t_us: 0,
        }
    }

    /// The next record of the history.
    #[inline]
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
                        if let (Cause::Message(Subject::OrderCancelled, seq), None) = (by, order_id)
                        {
                            let held = self.tickets_db.get(*ticket).and_then(|d| d.order_id);
                            if let Some(&cancelled) = self.cancels.get(seq_key(*seq)) {
                                self.invariants.ticket_released(
                                    record.t_us,
                                    *ticket,
                                    held,
                                    cancelled,
                                    &mut self.violations,
                                );
                            }
                        }
                        *self.tickets_db.entry(*ticket) = Some(doc);
                        self.invariants.ticket_saved(
                            record.t_us,
                            *by,
                            *ticket,
                            *order_id,
                            &mut self.violations,
                        );
                    }
                    // The payments service keeps no ticket documents.
                    Db::Payments => {}
                    Db::Orders => {
                        *self.orders_db.entry(*ticket) = Some(doc);
                        self.invariants.replica_saved(
                            record.t_us,
                            record.node,
                            *ticket,
                            *version,
                            &mut self.violations,
                        );
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
                let slot = self.orders.entry(*order);
                let from = slot.as_ref().map(|o| o.status);
                *slot = Some(OrderState {
                    version: *version,
                    status: *status,
                    ticket: *ticket,
                });
                if from != Some(*status) {
                    self.invariants.order_changed(
                        record.t_us,
                        (*order, *ticket),
                        from,
                        *status,
                        &mut self.violations,
                    );
                }
                self.invariants.order_saved(
                    record.t_us,
                    *order,
                    *ticket,
                    *status,
                    &mut self.violations,
                );
            }
            Event::Publish {
                subject: Subject::OrderCancelled,
                seq,
                order: Some(order),
                ..
            } => {
                self.cancels.insert(seq_key(*seq), *order);
            }
            Event::Duplicate {
                subject: Subject::OrderCancelled,
                seq,
                of,
            } => {
                if let Some(&order) = self.cancels.get(seq_key(*of)) {
                    self.cancels.insert(seq_key(*seq), order);
                }
            }
            Event::Charge {
                charge,
                order,
                ticket,
                ..
            } => self
                .invariants
                .charged(record.t_us, *charge, *order, *ticket),
            Event::PaymentWrite { order, charge, .. } => {
                self.invariants
                    .payment_recorded(record.t_us, *order, *charge);
            }
            Event::Refund { charge, .. } => self.invariants.refunded(*charge),
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
        self.properties.observe(record);
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
            Event::Drop { reason, .. } => {
                s.dropped += 1;
                s.guarded += u64::from(*reason == DropReason::StatusGuard);
            }
            Event::Nack { reason, .. } => {
                s.failed_handlers += 1;
                *s.failed_handlers_by_reason.entry(*reason).or_default() += 1;
            }
            Event::DbWrite { .. } => s.db_writes += 1,
            Event::DbConflict { .. } => s.db_conflicts += 1,
            Event::OrderConflict { error, .. } => {
                s.db_conflicts += 1;
                *s.order_conflicts_by_error.entry(*error).or_default() += 1;
            }
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
            Event::ChainAbandoned { unsent, .. } => {
                s.abandoned_chains += 1;
                s.unsent_requests += u64::from(*unsent);
            }
            Event::Crash { .. } => s.crashes += 1,
            Event::Exit { .. } => s.exits += 1,
            Event::Pause { .. } => s.pauses += 1,
            Event::Partition { .. } => s.partitions += 1,
            Event::Send { .. }
            | Event::ReservedCheck { .. }
            | Event::Redeliver { .. }
            | Event::RedeliveryLoop { .. }
            | Event::Restart { .. }
            | Event::Resume { .. }
            | Event::PartitionHealed { .. }
            | Event::HeartbeatMissed { .. }
            | Event::HeartbeatAnswered { .. }
            | Event::ClientConnected { .. }
            | Event::Heal => {}
            Event::ClientClosed { .. } => s.clients_closed += 1,
            Event::PaymentsOrderWrite { .. } => s.db_writes += 1,
            Event::PaymentWrite { .. } => {
                s.db_writes += 1;
                s.payments += 1;
            }
            Event::PaymentsOrderConflict { .. } | Event::PaymentConflict { .. } => {
                s.db_conflicts += 1
            }
            Event::Charge { .. } => s.charges += 1,
            Event::JobActive { .. } => s.expirations += 1,
            Event::JobAdded { .. }
            | Event::JobCompleted { .. }
            | Event::JobStalled { .. }
            // A refund follows a guarded payment:created, counted with its drop.
            | Event::Refund { .. } => {}
            Event::Guarded { .. } => s.guarded += 1,
            Event::OutboxAdd { .. } => s.outbox_added += 1,
            Event::OutboxFound { .. } => s.outbox_found += 1,
            Event::OutboxRemove { .. } => s.outbox_removed += 1,
        }
    }

    /// Judge the run that ended as `ending` after the records observed.
    pub fn finish(mut self, occ: Occ, ending: &Ending) -> Findings {
        let divergences = divergences(&self.tickets_db, &self.orders_db, occ);
        match ending.halt {
            // A redundant run of an exploration is not judged; nothing holds it back either.
            Halt::Idle | Halt::Redundant => {}
            Halt::TimeLimit => self.violations.push(Violation::TimeLimit {
                sim_time_ms: ending.limit_us / 1000,
                last_step_ms: self.last_t_us / 1000,
                held: ending
                    .held
                    .iter()
                    .map(|&(node, why)| HeldNode { node, why })
                    .collect(),
                waiting: ending
                    .waiting
                    .iter()
                    .map(|&(subject, seq, held_by)| WaitingMessage {
                        message: format!("{subject}#{seq}"),
                        held_by,
                    })
                    .collect(),
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
            let stale = stale_reservations(&self.tickets_db, &self.orders, self.last_t_us);
            self.violations.extend(stale);
            self.violations
                .extend(self.invariants.at_quiescence(&self.orders));
        }
        self.stats.tickets = self.tickets_db.len() as u64;
        self.stats.steps = ending.steps;
        self.stats.timers = ending.timers;
        Findings {
            databases_agree: divergences.is_empty(),
            quiescent,
            divergences,
            price_counts: price_counts(&self.tickets_db, &self.orders_db),
            violations: self.violations,
            stats: self.stats,
            exercised: self.properties.exercised(),
        }
    }
}
