//! What one step of a run touched: the shared state a task's poll read or wrote, for the
//! explorer's reduction of tie orders (`sim::sleep_sets`).
//!
//! A *step* is one poll of one task by the executor. Two steps are *independent* when neither
//! writes what the other reads or writes; then running them in either order leaves every piece
//! of state the same (the executor's own order of ready tasks aside, which the reduction
//! compares on its own). What counts as state, and how it is named here:
//!
//! - the trace ([`Resource::Trace`]): every record is written to it, and the order of two
//!   records is the history, so two steps that both record are dependent;
//! - a database document by collection and id, and the orders of a ticket as the is-reserved
//!   query reads them; the tickets' outboxes, as the relay reads them; each service's id
//!   counter;
//! - at the NATS server: a channel's sequence numbers, a queue group's state (its pending
//!   messages, members and ack deadlines); a process's session; each direction of a process's
//!   connection (what was last sent on it);
//! - the ingress's round robin;
//! - a wake-up or reply channel between two tasks, by address; a task's readiness (a wake, its
//!   own poll);
//! - the timers set for one instant: they wake their tasks in the order they were set, and that
//!   becomes the ready order, which decides what the nominal run does next.
//!
//! Anything else a step may do (crash, pause, resume or restart a node, the fault injector's
//! work, a process's session with the server, a spawn on a crashed node) counts as touching
//! [`Footprint::everything`]: dependent with every other step. The state only such steps write
//! (which nodes are down, paused or cut off, the sessions' generations, the heal) is read
//! elsewhere without being named, which is sound because every write of it conflicts with
//! everything. The requests-open counter is only added to and subtracted from, and read after the
//! run: its updates commute and are not named either.
//!
//! The world reaches its shared state through methods that name what they touch
//! ([`crate::sim::world::World`]'s database calls, its NATS view, [`crate::sim::sync`]'s
//! channels, the executor's wakes and timers). Recording happens only while exploring with the
//! reduction on: otherwise each of those calls costs one untaken branch.

use crate::model::databases::DocKind;
use crate::model::documents::TicketId;
use crate::model::events::Subject;
use crate::model::node::Node;
use crate::sim::task::TaskId;

/// A piece of shared state a step can read or write.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Resource {
    /// The run's history.
    Trace,
    /// A database document: its collection and id.
    Doc(DocKind, u32),
    /// The orders of a ticket, as the is-reserved query reads them.
    OrdersOf(TicketId),
    /// Every ticket's pending events (`[cures] transactional-outbox`): a write that adds one,
    /// the relay's query of them, its removal of one.
    Outbox,
    /// The id counter of a collection (tickets, orders).
    NextId(DocKind),
    /// A NATS channel's sequence numbers.
    Channel(Subject),
    /// A queue group's state at the server.
    Group(usize),
    /// A process's session with the server (read only: only steps that touch everything change
    /// it).
    Session(Node),
    /// One direction of a process's NATS connection (true: towards the bus), by slot.
    Wire(bool, usize),
    /// The ingress's round robin over the orders replicas.
    Ingress,
    /// A wake-up or reply channel between tasks, by the number the executor gave it in the run.
    Sync(u64),
    /// A task's readiness: waking it, polling it.
    Task(TaskId),
    /// The timers set for one instant, in microseconds.
    Timers(u64),
    /// The expiration service's Bull queue in Redis.
    Queue,
    /// The card processor's charges.
    Charges,
}

/// What one step touched.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Footprint {
    /// Each resource touched, and whether it was written (a resource read and written is
    /// listed once, as written).
    pub touched: Vec<(Resource, bool)>,
    /// The step did something not named by a resource: it is dependent with every step.
    pub everything: bool,
}

impl Footprint {
    /// Note that `resource` was read (`write` false) or written.
    pub fn note(&mut self, resource: Resource, write: bool) {
        match self.touched.iter_mut().find(|(r, _)| *r == resource) {
            Some((_, w)) => *w |= write,
            None => self.touched.push((resource, write)),
        }
    }

    /// Forget everything noted.
    pub fn clear(&mut self) {
        self.touched.clear();
        self.everything = false;
    }

    /// Whether the two steps are dependent: one touched everything, or both touched a resource
    /// and at least one of them wrote it.
    pub fn conflicts(&self, other: &Footprint) -> bool {
        self.everything
            || other.everything
            || self
                .touched
                .iter()
                .any(|&(r, w)| other.touched.iter().any(|&(s, v)| r == s && (w || v)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn footprint(touched: &[(Resource, bool)]) -> Footprint {
        let mut f = Footprint::default();
        for &(r, w) in touched {
            f.note(r, w);
        }
        f
    }

    #[test]
    fn steps_conflict_on_a_shared_resource_that_one_of_them_writes() {
        let read = footprint(&[(Resource::Doc(DocKind::Replica, 1), false)]);
        let other_read = footprint(&[(Resource::Doc(DocKind::Replica, 1), false)]);
        let write = footprint(&[(Resource::Doc(DocKind::Replica, 1), true)]);
        let elsewhere = footprint(&[(Resource::Doc(DocKind::Replica, 2), true)]);
        assert!(!read.conflicts(&other_read), "two reads commute");
        assert!(read.conflicts(&write) && write.conflicts(&read));
        assert!(!write.conflicts(&elsewhere), "another document");
        let traced = footprint(&[(Resource::Trace, true)]);
        assert!(traced.conflicts(&traced.clone()), "two records are ordered");
        let all = Footprint {
            everything: true,
            ..Footprint::default()
        };
        assert!(all.conflicts(&Footprint::default()));
        assert!(Footprint::default().conflicts(&all));
        assert!(!Footprint::default().conflicts(&Footprint::default()));
    }

    #[test]
    fn a_resource_read_then_written_is_noted_once_as_written() {
        let mut f = Footprint::default();
        f.note(Resource::Group(0), false);
        f.note(Resource::Group(0), true);
        f.note(Resource::Group(0), false);
        assert_eq!(f.touched, [(Resource::Group(0), true)]);
    }
}
