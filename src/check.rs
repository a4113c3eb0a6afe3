//! What a run checks (DESIGN §5), read from the recorded history alone.
//!
//! - **Convergence** (safety): at the end, every ticket's copy in the orders database has the
//!   tickets database's title and price, and, with OCC, its version.
//! - **Quiescence** (liveness): every message acked and every request answered within the
//!   limits; a message delivered more often than the bound is a redelivery loop.
//! - **Versions** never go backwards in the orders database.
//!
//! Both databases' final states come from the trace's `db.write` lines, which is also the proof
//! that the trace carries enough to recompute them.

use crate::domain::{Occ, Price, Subject, TicketId};
use crate::exec::{Halt, Node};
use crate::store::Db;
use crate::trace::{DocState, Event, Trace};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::collections::BTreeMap;

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
    }
}

impl Violation {
    /// Whether this breaks an invariant of the system (as opposed to a run that did not
    /// finish: a redelivery loop or a limit, which make the run stuck).
    pub fn is_invariant(&self) -> bool {
        match self {
            Violation::VersionRegressed { .. } => true,
            Violation::RedeliveryLoop { .. }
            | Violation::TimeLimit { .. }
            | Violation::StepLimit { .. } => false,
        }
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
}

/// Run every check over a finished run.
pub fn judge(occ: Occ, trace: &Trace, ending: &Ending) -> Findings {
    let state = trace.final_state();
    let divergences = divergences(occ, &state);
    let mut violations = history_violations(trace);
    match ending.halt {
        Halt::Idle => {}
        Halt::TimeLimit => violations.push(Violation::TimeLimit {
            sim_time_ms: ending.now_us / 1000,
            unacked: ending.unacked,
            open_requests: ending.open_requests,
        }),
        Halt::StepLimit => violations.push(Violation::StepLimit {
            unacked: ending.unacked,
            open_requests: ending.open_requests,
        }),
    }
    let looped = violations
        .iter()
        .any(|v| matches!(v, Violation::RedeliveryLoop { .. }));
    let quiescent =
        ending.halt == Halt::Idle && ending.unacked == 0 && ending.open_requests == 0 && !looped;
    Findings {
        converged: divergences.is_empty(),
        quiescent,
        divergences,
        violations,
        stats: stats(trace, &state),
        price_counts: price_counts(&state),
    }
}

fn divergences(occ: Occ, state: &BTreeMap<(Db, TicketId), DocState>) -> Vec<Divergence> {
    let mut out = Vec::new();
    let tickets = state.range((Db::Tickets, 0)..=(Db::Tickets, TicketId::MAX));
    for (&(_, id), source) in tickets {
        let Some(replica) = state.get(&(Db::Orders, id)) else {
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
    for (&(_, id), _) in state.range((Db::Orders, 0)..=(Db::Orders, TicketId::MAX)) {
        if !state.contains_key(&(Db::Tickets, id)) {
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

fn history_violations(trace: &Trace) -> Vec<Violation> {
    let mut out = Vec::new();
    let mut versions: BTreeMap<TicketId, u64> = BTreeMap::new();
    for record in trace.records() {
        match &record.event {
            Event::DbWrite {
                db: Db::Orders,
                ticket,
                version,
                ..
            } => {
                let last = versions.entry(*ticket).or_insert(*version);
                if *version < *last {
                    out.push(Violation::VersionRegressed {
                        ticket: *ticket,
                        node: record.node,
                        from: *last,
                        to: *version,
                        t_us: record.t_us,
                    });
                }
                *last = *version;
            }
            Event::RedeliveryLoop {
                subject,
                seq,
                ticket,
                version,
                deliveries,
            } => out.push(Violation::RedeliveryLoop {
                subject: *subject,
                seq: *seq,
                ticket: *ticket,
                version: *version,
                deliveries: *deliveries,
                t_us: record.t_us,
            }),
            _ => {}
        }
    }
    out
}

fn stats(trace: &Trace, state: &BTreeMap<(Db, TicketId), DocState>) -> Stats {
    let mut s = Stats {
        tickets: state.keys().filter(|(db, _)| *db == Db::Tickets).count() as u64,
        ..Stats::default()
    };
    for record in trace.records() {
        match &record.event {
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
            Event::DbConflict { .. } => s.db_conflicts += 1,
            Event::AckLost { .. } => s.acks_lost += 1,
            Event::Lost { .. } => s.deliveries_lost += 1,
            Event::Duplicate { .. } => s.duplicates += 1,
            Event::PublishFailed { .. } => s.publishes_failed += 1,
            Event::Stall { .. } => s.stalls += 1,
            Event::Crash { .. } => s.crashes += 1,
            Event::Pause { .. } => s.pauses += 1,
            Event::Partition { .. } => s.partitions += 1,
            Event::Send { .. }
            | Event::Redeliver { .. }
            | Event::RedeliveryLoop { .. }
            | Event::Restart { .. }
            | Event::Resume { .. }
            | Event::PartitionHealed { .. }
            | Event::Heal => {}
        }
    }
    s
}

fn price_counts(state: &BTreeMap<(Db, TicketId), DocState>) -> Vec<PriceCount> {
    let mut counts: BTreeMap<Price, (u64, u64)> = BTreeMap::new();
    for ((db, _), doc) in state {
        let entry = counts.entry(doc.price).or_default();
        match db {
            Db::Tickets => entry.0 += 1,
            Db::Orders => entry.1 += 1,
        }
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

#[cfg(test)]
mod tests {
    use super::*;
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
                ticket,
                version,
                title: "t".into(),
                price,
            },
        }
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
        let findings = judge(Occ::Off, &trace, &idle());
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
        assert!(judge(Occ::Off, &trace, &idle()).converged);
        let on = judge(Occ::On, &trace, &idle());
        assert_eq!(on.divergences[0].field, "version");
    }

    #[test]
    fn a_missing_replica_is_a_divergence() {
        let mut trace = Trace::default();
        trace.push(write(1, Db::Tickets, 4, 0, 5));
        let findings = judge(Occ::On, &trace, &idle());
        assert_eq!(findings.divergences[0].field, "exists");
    }

    #[test]
    fn a_version_going_down_is_a_violation() {
        let mut trace = Trace::default();
        trace.push(write(1, Db::Orders, 1, 2, 15));
        trace.push(write(2, Db::Orders, 1, 1, 10));
        let findings = judge(Occ::On, &trace, &idle());
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
        assert!(!judge(Occ::On, &trace, &unacked).quiescent);
        let limit = Ending {
            halt: Halt::TimeLimit,
            ..idle()
        };
        let findings = judge(Occ::On, &trace, &limit);
        assert!(!findings.quiescent);
        assert!(matches!(
            findings.violations[0],
            Violation::TimeLimit { .. }
        ));
        assert!(judge(Occ::On, &trace, &idle()).quiescent);
    }
}
