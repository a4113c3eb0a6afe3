//! The NATS Streaming server as the runtime reaches it: [`crate::model::nats::Bus`] behind a
//! view whose every call names the state it touches (`sim::footprint`), so an exploration that
//! reduces tie orders knows which steps of the bus commute.
//!
//! A channel's sequence numbers and each queue group's state are resources of their own; who
//! subscribes to what, and each group's members and listener, never change during a run. What
//! only a process's session changes (a member's missed heartbeats, a client closing, one
//! joining) counts as touching everything, as does reading the server's state after a run.

use crate::model::events::{Event, Message, Subject};
use crate::model::nats::{Bus, Expired, Sent};
use crate::model::node::Node;
use crate::model::services::Listener;
use crate::sim::exec::Executor;
use crate::sim::footprint::Resource;
use std::rc::Rc;

/// The server, as a step of the run reaches it.
pub struct Nats<'a> {
    bus: &'a Bus,
    exec: &'a Executor,
}

impl<'a> Nats<'a> {
    /// The view of `bus` for the steps `exec` runs.
    #[inline]
    pub fn new(bus: &'a Bus, exec: &'a Executor) -> Self {
        Nats { bus, exec }
    }

    /// Number of subscriptions (fixed).
    #[inline]
    pub fn group_count(&self) -> usize {
        self.bus.group_count()
    }

    /// The groups subscribed to `subject` (fixed).
    #[inline]
    pub fn groups_for(&self, subject: Subject) -> &'a [usize] {
        self.bus.groups_for(subject)
    }

    /// The node of member `member` of group `group`, and the group's listener (fixed).
    #[inline]
    pub fn member(&self, group: usize, member: usize) -> (Node, Listener) {
        self.bus.member(group, member)
    }

    /// [`Bus::append`]: the channel's next sequence number.
    #[inline]
    pub fn append(&self, event: Event) -> Rc<Message> {
        self.exec.touch(Resource::Channel(event.subject()), true);
        self.bus.append(event)
    }

    /// [`Bus::send`]: the group's state.
    #[inline]
    pub fn send(&self, group: usize, message: Rc<Message>, now_us: u64) -> (Option<usize>, bool) {
        self.exec.touch(Resource::Group(group), true);
        self.bus.send(group, message, now_us)
    }

    /// [`Bus::ack`]: the group's state.
    #[inline]
    pub fn ack(&self, group: usize, seq: u64) -> bool {
        self.exec.touch(Resource::Group(group), true);
        self.bus.ack(group, seq)
    }

    /// [`Bus::next_deadline`]: the group's state, written (it drops stale deadlines, which a
    /// later send reads).
    #[inline]
    pub fn next_deadline(&self, group: usize) -> Option<u64> {
        self.exec.touch(Resource::Group(group), true);
        self.bus.next_deadline(group)
    }

    /// [`Bus::expire`]: the group's state.
    #[inline]
    pub fn expire(&self, group: usize, now_us: u64) -> Vec<Expired> {
        self.exec.touch(Resource::Group(group), true);
        self.bus.expire(group, now_us)
    }

    /// [`Bus::set_failed_hb`]: everything.
    #[inline]
    pub fn set_failed_hb(&self, node: Node, failed: bool) {
        self.exec.touch_everything();
        self.bus.set_failed_hb(node, failed);
    }

    /// [`Bus::close`]: everything.
    #[inline]
    pub fn close(&self, node: Node, now_us: u64) -> (usize, Vec<usize>) {
        self.exec.touch_everything();
        self.bus.close(node, now_us)
    }

    /// [`Bus::join`]: everything.
    #[inline]
    pub fn join(&self, node: Node, now_us: u64) -> Vec<(usize, Sent)> {
        self.exec.touch_everything();
        self.bus.join(node, now_us)
    }

    /// [`Bus::waiting`], after a run: everything.
    #[inline]
    pub fn waiting(&self, n: usize) -> Vec<(Subject, u64, Option<Node>)> {
        self.exec.touch_everything();
        self.bus.waiting(n)
    }

    /// [`Bus::unacked`], after a run: everything.
    #[inline]
    pub fn unacked(&self) -> usize {
        self.exec.touch_everything();
        self.bus.unacked()
    }
}
