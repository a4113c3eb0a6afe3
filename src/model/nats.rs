//! A model of the NATS Streaming server as the course configures it (DESIGN §2, "Bus"):
//! channels, durable queue groups, manual acks, the ack wait and redelivery.
//!
//! ```text
//!  publish ──▶ channel (next seq) ──▶ queue group: first member with fewest pending acks
//!                                        │  send ── delivery latency ──▶ listener ── ack ──▶ done
//!                                        └─ no ack within ack wait ──▶ redeliver (redelivered = true)
//! ```
//!
//! Every subscription is a durable queue subscription with manual acks
//! (`common/src/events/base-listener.ts`: `setManualAckMode(true)`, `setAckWait`,
//! `setDeliverAllAvailable`, `setDurableName`). A message goes to one member of its group; if
//! the group's ack wait passes without an ack it is sent again, to the member that then has the
//! fewest pending acks (the original member still counting it), ties going to the first in the
//! server's rotating list order. There is no redelivery limit in NATS: the bound here
//! ([`crate::scenario::schema::Limits::deliveries_per_message`]) only decides when the
//! simulator calls a message a redelivery loop and stops sending it, so a run always ends.
//!
//! This is the server's state and its decisions, synchronous; the runtime's `sim::bus` carries
//! messages and acks to and from it with their latencies and faults.

use crate::model::by_id::ById;
use crate::model::events::{Event, Message, Subject};
use crate::model::node::Node;
use crate::model::services::{Listener, Subscription};
use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::rc::Rc;

/// A durable queue subscription: one per (subject, queue group).
pub struct Group {
    /// Queue group name.
    pub name: &'static str,
    /// Channel it subscribes to.
    pub subject: Subject,
    /// The listener its members run.
    pub listener: Listener,
    /// Members, in join order.
    pub members: Vec<Node>,
    ack_wait_us: u64,
    /// Messages sent and not acked, by sequence number.
    pending: ById<Pending>,
    pending_by_member: Vec<u32>,
    /// The members in the server's list order (indices into `members`): a choice scans it and
    /// the chosen head moves to the end ([`best_member`]).
    order: Vec<usize>,
    /// (deadline, seq, delivery number), in send order; deadlines never decrease because the
    /// ack wait is fixed and time only moves forward.
    deadlines: VecDeque<(u64, u64, u32)>,
}

struct Pending {
    member: usize,
    deliveries: u32,
    message: Rc<Message>,
}

/// What the bus does when a message's ack wait has passed.
#[derive(Debug)]
pub enum Expired {
    /// Send it again to `member`.
    Redeliver {
        /// The message.
        message: Rc<Message>,
        /// Index of the member chosen.
        member: usize,
        /// Which delivery this is (2 for the first redelivery).
        attempt: u32,
    },
    /// It was delivered `deliveries` times already: give up and report a loop.
    Loop {
        /// The message.
        message: Rc<Message>,
        /// How many times it was delivered.
        deliveries: u32,
    },
}

/// The NATS Streaming server.
pub struct Bus {
    groups: RefCell<Vec<Group>>,
    /// Per channel (by [`Subject::index`]): the groups subscribed, and the last sequence number.
    subscribed: [Vec<usize>; 4],
    last_seq: [Cell<u64>; 4],
    max_deliveries: u32,
}

/// A sequence number as a [`ById`] key: every message takes at least one scheduler step, so
/// a run (`sim::run::MAX_STEPS`) never numbers 2^32 of them.
pub fn seq_key(seq: u64) -> u32 {
    u32::try_from(seq).expect("fewer than 2^32 messages in a run")
}

impl Bus {
    /// A bus with these subscriptions. The ack wait is in microseconds.
    pub fn new(subscriptions: Vec<Subscription>, ack_wait_us: u64, max_deliveries: u32) -> Self {
        let groups: Vec<Group> = subscriptions
            .into_iter()
            .map(|s| Group {
                name: s.queue_group,
                subject: s.subject,
                listener: s.listener,
                pending_by_member: vec![0; s.members.len()],
                order: (0..s.members.len()).collect(),
                members: s.members,
                ack_wait_us,
                pending: ById::default(),
                deadlines: VecDeque::new(),
            })
            .collect();
        let subscribed = Subject::ALL.map(|subject| {
            (0..groups.len())
                .filter(|&g| groups[g].subject == subject)
                .collect()
        });
        Self {
            groups: RefCell::new(groups),
            subscribed,
            last_seq: Default::default(),
            max_deliveries,
        }
    }

    /// Number of subscriptions.
    pub fn group_count(&self) -> usize {
        self.groups.borrow().len()
    }

    /// Append `event` to its channel with the next sequence number.
    pub fn append(&self, event: Event) -> Rc<Message> {
        let subject = event.subject();
        let last = &self.last_seq[subject.index()];
        let seq = last.get() + 1;
        last.set(seq);
        Rc::new(Message {
            subject,
            seq,
            event,
        })
    }

    /// The groups subscribed to `subject`.
    pub fn groups_for(&self, subject: Subject) -> &[usize] {
        &self.subscribed[subject.index()]
    }

    /// The node of member `member` of group `group`, and the group's listener.
    pub fn member(&self, group: usize, member: usize) -> (Node, Listener) {
        let groups = self.groups.borrow();
        (groups[group].members[member], groups[group].listener)
    }

    /// Record a first send of `message` to group `group` at `now_us`, to the member
    /// [`best_member`] chooses. Returns the chosen member's index and whether the group's
    /// sweeper must be woken.
    pub fn send(&self, group: usize, message: Rc<Message>, now_us: u64) -> (usize, bool) {
        let mut groups = self.groups.borrow_mut();
        let g = &mut groups[group];
        let member = best_member(&mut g.order, &g.pending_by_member);
        g.pending_by_member[member] += 1;
        let seq = message.seq;
        let old = g.pending.insert(
            seq_key(seq),
            Pending {
                member,
                deliveries: 1,
                message,
            },
        );
        debug_assert!(old.is_none(), "a sequence number sent twice");
        let was_empty = g.deadlines.is_empty();
        g.deadlines.push_back((now_us + g.ack_wait_us, seq, 1));
        (member, was_empty)
    }

    /// An ack for `seq` from any delivery of it. Returns false if nothing was pending (an ack
    /// after a redelivery was already acked, or of a message given up as a loop).
    pub fn ack(&self, group: usize, seq: u64) -> bool {
        let mut groups = self.groups.borrow_mut();
        let g = &mut groups[group];
        match g.pending.remove(seq_key(seq)) {
            Some(p) => {
                g.pending_by_member[p.member] -= 1;
                true
            }
            None => false,
        }
    }

    /// The earliest deadline of a message still pending in `group`, after dropping the entries
    /// of messages acked or redelivered since.
    pub fn next_deadline(&self, group: usize) -> Option<u64> {
        let mut groups = self.groups.borrow_mut();
        let g = &mut groups[group];
        while let Some(&(at, seq, delivery)) = g.deadlines.front() {
            if g.pending
                .get(seq_key(seq))
                .is_some_and(|p| p.deliveries == delivery)
            {
                return Some(at);
            }
            g.deadlines.pop_front();
        }
        None
    }

    /// Take every message of `group` whose ack wait has passed at `now_us`, or passes within
    /// the next [`REDELIVERY_BATCH_US`], and decide its fate, in deadline order.
    ///
    /// As `performAckExpirationRedelivery` does (server.go v0.17.0 3589-3660): the member for
    /// a redelivery is chosen while the original member still counts the message as pending,
    /// and only then is the original's count released (the implicit ack of 3651).
    pub fn expire(&self, group: usize, now_us: u64) -> Vec<Expired> {
        let mut out = Vec::new();
        let mut groups = self.groups.borrow_mut();
        let g = &mut groups[group];
        while let Some(&(at, seq, delivery)) = g.deadlines.front() {
            if at > now_us + REDELIVERY_BATCH_US {
                break;
            }
            g.deadlines.pop_front();
            let Some(p) = g.pending.get(seq_key(seq)) else {
                continue;
            };
            if p.deliveries != delivery {
                continue;
            }
            let old = p.member;
            if delivery >= self.max_deliveries {
                g.pending_by_member[old] -= 1;
                let p = g
                    .pending
                    .remove(seq_key(seq))
                    .expect("pending entry checked above");
                out.push(Expired::Loop {
                    message: p.message,
                    deliveries: delivery,
                });
                continue;
            }
            let member = best_member(&mut g.order, &g.pending_by_member);
            g.pending_by_member[old] -= 1;
            g.pending_by_member[member] += 1;
            let p = g
                .pending
                .get_mut(seq_key(seq))
                .expect("pending entry checked above");
            p.member = member;
            p.deliveries += 1;
            let (attempt, message) = (p.deliveries, p.message.clone());
            g.deadlines
                .push_back((now_us + g.ack_wait_us, seq, attempt));
            out.push(Expired::Redeliver {
                message,
                member,
                attempt,
            });
        }
        out
    }

    /// Messages sent and not yet acked, over all groups.
    pub fn unacked(&self) -> usize {
        self.groups.borrow().iter().map(|g| g.pending.len()).sum()
    }
}

/// How far ahead of its timer the server redelivers: messages whose ack wait ends within
/// 15 ms of the timer's firing go out together ("limit is now plus a buffer of 15ms to avoid
/// repeated timer callbacks", server.go v0.17.0 3591-3592).
pub const REDELIVERY_BATCH_US: u64 = 15_000;

/// `findBestQueueSub` (server.go v0.17.0 3349-3383): scan the members in list order and take
/// the first with strictly the fewest pending acks; if that is the head of the list, move it
/// to the end. So equally loaded members take turns, and no draw is made.
pub fn best_member(order: &mut [usize], pending: &[u32]) -> usize {
    let mut best = order[0];
    for &m in order.iter() {
        if pending[m] < pending[best] {
            best = m;
        }
    }
    if order.len() > 1 && best == order[0] {
        order.rotate_left(1);
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::events::TicketData;
    use crate::model::services::subscriptions;

    /// A bus with two orders replicas, an ack wait of 5 s, and no bound that matters.
    fn two_members() -> Bus {
        let replicas = [Node::Orders(1), Node::Orders(2)];
        Bus::new(subscriptions(&replicas, false), 5_000_000, 100)
    }

    fn created(id: u32) -> Event {
        Event::TicketCreated(TicketData {
            id,
            version: Some(0),
            title: "t".into(),
            price: 5,
            user_id: 1,
            order_id: None,
        })
    }

    fn redelivered_to(expired: &[Expired]) -> Vec<(u64, usize)> {
        expired
            .iter()
            .map(|e| match e {
                Expired::Redeliver {
                    message, member, ..
                } => (message.seq, *member),
                Expired::Loop { .. } => panic!("no loop here"),
            })
            .collect()
    }

    #[test]
    fn a_redelivery_is_chosen_while_the_original_member_still_counts_it() {
        let bus = two_members();
        // Both idle: the head of the list, member 0, which then moves to the end.
        let (member, _) = bus.send(0, bus.append(created(1)), 0);
        assert_eq!(member, 0);
        // Member 0 still holds message 1 when its ack wait ends: member 1 gets it, although
        // without that count the two would be tied and member 1 is no longer the head.
        let expired = bus.expire(0, 5_000_000);
        assert_eq!(redelivered_to(&expired), [(1, 1)]);
    }

    #[test]
    fn expiries_within_15_ms_are_redelivered_together() {
        let bus = two_members();
        for (i, at_ms) in [0, 10, 20].into_iter().enumerate() {
            bus.send(0, bus.append(created(i as u32 + 1)), at_ms * 1000);
        }
        let first = bus.expire(0, 5_000_000);
        assert_eq!(
            first.len(),
            2,
            "messages 1 and 2 (due at 5.000 and 5.010 s), not 3 (due at 5.020 s)"
        );
        assert_eq!(bus.next_deadline(0), Some(5_020_000));
    }

    #[test]
    fn the_best_member_is_the_first_least_loaded_and_a_chosen_head_moves_last() {
        let mut order = vec![0, 1, 2, 3];
        assert_eq!(best_member(&mut order, &[3, 1, 2, 1]), 1);
        assert_eq!(order, [0, 1, 2, 3], "not the head: no rotation");
        assert_eq!(best_member(&mut order, &[0, 0, 0, 0]), 0);
        assert_eq!(order, [1, 2, 3, 0]);
        assert_eq!(best_member(&mut order, &[0, 0, 0, 0]), 1);
        assert_eq!(order, [2, 3, 0, 1]);
        // Idle members take turns: four sends reach four members.
        let mut order = vec![0, 1, 2, 3];
        let picks: Vec<usize> = (0..4).map(|_| best_member(&mut order, &[0; 4])).collect();
        assert_eq!(picks, [0, 1, 2, 3]);
        let mut one = vec![0];
        assert_eq!(best_member(&mut one, &[5]), 0);
    }
}
