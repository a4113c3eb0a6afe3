//! The recorded history of a run: its [`Record`]s in the order they happened, and a digest of
//! them kept as they are pushed.
//!
//! The trace is the single source the checks and statistics read (DESIGN §5, §8), and the
//! `db.write` lines alone give both databases' final contents ([`Trace::final_state`]).

use crate::model::documents::{OrderId, OrderStatus, Price, TicketId};
use crate::model::store::Db;
use crate::sim::hash::StableHasher;
use crate::sim::record::{Event, Record};
use std::collections::BTreeMap;
use std::hash::{Hash, Hasher};
use std::io::{self, Write};
use std::rc::Rc;

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

/// Watches each record as the run makes it: the checks do, so that a sweep need not keep the
/// records to judge a run.
pub trait Observer {
    /// The next record of the run.
    fn observe(&mut self, record: &Record);
}

/// Nothing watching.
impl Observer for () {
    fn observe(&mut self, _: &Record) {}
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

    /// Append a copy of `record` if the trace keeps records; hash it either way.
    #[inline]
    pub fn push(&mut self, record: &Record) {
        record.hash(&mut self.digest);
        self.len += 1;
        self.last_t_us = record.t_us;
        if self.keep {
            self.records.push(record.clone());
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::events::Subject;
    use crate::model::http::{Cause, Route};
    use crate::model::node::Node;

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
                t.push(r);
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
        trace.push(&write(1, Db::Tickets, 0, 5));
        trace.push(&write(2, Db::Orders, 0, 5));
        trace.push(&write(3, Db::Tickets, 1, 10));
        let state = trace.final_state().tickets;
        assert_eq!(state[&(Db::Tickets, 1)].price, 10);
        assert_eq!(state[&(Db::Orders, 1)].price, 5);
    }
}
