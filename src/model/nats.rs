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
    /// Every process that subscribes to it, by member index; whether it is subscribed now is
    /// `order`'s business.
    pub members: Vec<Node>,
    ack_wait_us: u64,
    /// Messages sent and not acked, by sequence number.
    pending: ById<Pending>,
    pending_by_member: Vec<u32>,
    /// The members subscribed now, in the server's list order (indices into `members`): a
    /// choice scans it and the chosen head moves to the end ([`best_member`]); a closed client
    /// leaves it, a reconnected one joins at its end.
    order: Vec<usize>,
    /// Per member: the server has missed a heartbeat of its client, and skips it.
    failed_hb: Vec<bool>,
    /// Messages waiting for a member because the group had none subscribed (the durable
    /// group's shadow), in sequence order.
    parked: Vec<u64>,
    /// (redeliver at, seq, delivery number) of messages moved off a closed member: the
    /// server makes their new member's ack timer fire 100 ms later.
    transferred: VecDeque<(u64, u64, u32)>,
    /// (deadline, seq, delivery number), in send order; deadlines never decrease because the
    /// ack wait is fixed and time only moves forward.
    deadlines: VecDeque<(u64, u64, u32)>,
}

struct Pending {
    /// The member holding it; `None` while parked in a group with no member subscribed.
    member: Option<usize>,
    deliveries: u32,
    message: Rc<Message>,
}

/// A message the bus sends to a member: a first send, a redelivery, or a parked message sent to
/// a member that joined.
#[derive(Debug)]
pub struct Sent {
    /// The message.
    pub message: Rc<Message>,
    /// Index of the member.
    pub member: usize,
    /// Which delivery this is (1 for a first send).
    pub attempt: u32,
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
    subscribed: [Vec<usize>; Subject::ALL.len()],
    last_seq: [Cell<u64>; Subject::ALL.len()],
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
                failed_hb: vec![false; s.members.len()],
                parked: Vec::new(),
                transferred: VecDeque::new(),
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
    /// [`best_member`] chooses: that member's index, or `None` when no member is subscribed and
    /// the message waits for one. Also whether the group's sweeper must be woken.
    pub fn send(&self, group: usize, message: Rc<Message>, now_us: u64) -> (Option<usize>, bool) {
        let mut groups = self.groups.borrow_mut();
        let g = &mut groups[group];
        let seq = message.seq;
        let member = best_member(&mut g.order, &g.pending_by_member, &g.failed_hb);
        let old = g.pending.insert(
            seq_key(seq),
            Pending {
                member,
                deliveries: u32::from(member.is_some()),
                message,
            },
        );
        debug_assert!(old.is_none(), "a sequence number sent twice");
        let Some(member) = member else {
            g.parked.push(seq);
            return (None, false);
        };
        g.pending_by_member[member] += 1;
        let was_empty = g.deadlines.is_empty() && g.transferred.is_empty();
        g.deadlines.push_back((now_us + g.ack_wait_us, seq, 1));
        (Some(member), was_empty)
    }

    /// An ack for `seq` from any delivery of it. Returns false if nothing was pending (an ack
    /// after a redelivery was already acked, or of a message given up as a loop).
    pub fn ack(&self, group: usize, seq: u64) -> bool {
        let mut groups = self.groups.borrow_mut();
        let g = &mut groups[group];
        match g.pending.remove(seq_key(seq)) {
            Some(p) => {
                match p.member {
                    Some(m) => g.pending_by_member[m] -= 1,
                    None => g.parked.retain(|&s| s != seq),
                }
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
        let due = |q: &mut VecDeque<(u64, u64, u32)>, pending: &ById<Pending>| {
            while let Some(&(at, seq, delivery)) = q.front() {
                if is_live(pending, seq, delivery) {
                    return Some(at);
                }
                q.pop_front();
            }
            None
        };
        let a = due(&mut g.deadlines, &g.pending);
        let b = due(&mut g.transferred, &g.pending);
        a.into_iter().chain(b).min()
    }

    /// Take every message of `group` whose ack wait has passed at `now_us`, or passes within
    /// the next [`REDELIVERY_BATCH_US`], and every message moved off a closed member whose
    /// time has come, and decide each one's fate, in deadline order.
    ///
    /// As `performAckExpirationRedelivery` does (server.go v0.17.0 3589-3660): the member for
    /// a redelivery is chosen while the original member still counts the message as pending,
    /// and only then is the original's count released (the implicit ack of 3651).
    pub fn expire(&self, group: usize, now_us: u64) -> Vec<Expired> {
        let mut out = Vec::new();
        let mut groups = self.groups.borrow_mut();
        let g = &mut groups[group];
        let limit = now_us + REDELIVERY_BATCH_US;
        loop {
            // The earlier of the two queues' fronts.
            let front = |q: &VecDeque<(u64, u64, u32)>| q.front().copied().filter(|e| e.0 <= limit);
            let (entry, from_transfer) = match (front(&g.deadlines), front(&g.transferred)) {
                (Some(a), Some(b)) if b.0 < a.0 => (b, true),
                (Some(a), _) => (a, false),
                (None, Some(b)) => (b, true),
                (None, None) => break,
            };
            if from_transfer {
                g.transferred.pop_front();
            } else {
                g.deadlines.pop_front();
            }
            let (_, seq, delivery) = entry;
            if !is_live(&g.pending, seq, delivery) {
                continue;
            }
            let p = g.pending.get(seq_key(seq)).expect("live entry");
            let Some(old) = p.member else { continue };
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
            let Some(member) = best_member(&mut g.order, &g.pending_by_member, &g.failed_hb) else {
                continue;
            };
            g.pending_by_member[old] -= 1;
            g.pending_by_member[member] += 1;
            let p = g
                .pending
                .get_mut(seq_key(seq))
                .expect("pending entry checked above");
            p.member = Some(member);
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

    /// Set whether the server has missed heartbeats of `node`'s client: a member that has is
    /// skipped when choosing where to send (server.go 3116-3147, 3364).
    pub fn set_failed_hb(&self, node: Node, failed: bool) {
        for g in self.groups.borrow_mut().iter_mut() {
            for (m, &n) in g.members.iter().enumerate() {
                if n == node {
                    g.failed_hb[m] = failed;
                }
            }
        }
    }

    /// The server closes `node`'s client at `now_us` (`closeClient`, server.go 3156; its queue
    /// subscriptions leave their groups, `subStore.Remove` 1053-1270): in each group, its
    /// pending messages move to the remaining members in turn, to be redelivered 100 ms later;
    /// in a group left empty they wait for a member. Returns how many messages moved, and the
    /// groups whose sweeper must run at `now_us + 100 ms`.
    pub fn close(&self, node: Node, now_us: u64) -> (usize, Vec<usize>) {
        let mut moved = 0;
        let mut wake = Vec::new();
        for (gi, g) in self.groups.borrow_mut().iter_mut().enumerate() {
            let Some(m) = g.members.iter().position(|&n| n == node) else {
                continue;
            };
            let Some(at) = g.order.iter().position(|&o| o == m) else {
                continue;
            };
            g.order.remove(at);
            g.failed_hb[m] = false;
            let mut held: Vec<u64> = g
                .pending
                .iter()
                .filter(|(_, p)| p.member == Some(m))
                .map(|(_, p)| p.message.seq)
                .collect();
            held.sort_unstable();
            g.pending_by_member[m] = 0;
            for (i, seq) in held.iter().enumerate() {
                let p = g.pending.get_mut(seq_key(*seq)).expect("held");
                if g.order.is_empty() {
                    p.member = None;
                    g.parked.push(*seq);
                } else {
                    let to = g.order[i % g.order.len()];
                    p.member = Some(to);
                    g.pending_by_member[to] += 1;
                    g.transferred
                        .push_back((now_us + TRANSFER_REDELIVERY_US, *seq, p.deliveries));
                }
            }
            if !g.order.is_empty() && !held.is_empty() {
                wake.push(gi);
            }
            moved += held.len();
        }
        (moved, wake)
    }

    /// `node`'s client subscribes again after it connected: it joins the end of each of its
    /// groups' lists. A group that had no member sends it every message that waited, at once
    /// (the durable group's shadow, `performDurableRedelivery`).
    pub fn join(&self, node: Node, now_us: u64) -> Vec<(usize, Sent)> {
        let mut out = Vec::new();
        for (gi, g) in self.groups.borrow_mut().iter_mut().enumerate() {
            let Some(m) = g.members.iter().position(|&n| n == node) else {
                continue;
            };
            if g.order.contains(&m) {
                continue;
            }
            g.order.push(m);
            g.failed_hb[m] = false;
            for seq in std::mem::take(&mut g.parked) {
                let p = g.pending.get_mut(seq_key(seq)).expect("parked");
                p.member = Some(m);
                p.deliveries += 1;
                g.pending_by_member[m] += 1;
                g.deadlines
                    .push_back((now_us + g.ack_wait_us, seq, p.deliveries));
                out.push((
                    gi,
                    Sent {
                        message: p.message.clone(),
                        member: m,
                        attempt: p.deliveries,
                    },
                ));
            }
        }
        out
    }

    /// The first `n` messages still pending, group by group in sequence order: channel,
    /// sequence number, and the node of the member holding it (`None` while it waits for one).
    pub fn waiting(&self, n: usize) -> Vec<(Subject, u64, Option<Node>)> {
        let groups = self.groups.borrow();
        groups
            .iter()
            .flat_map(|g| {
                g.pending
                    .iter()
                    .map(move |(_, p)| (g.subject, p.message.seq, p.member.map(|m| g.members[m])))
            })
            .take(n)
            .collect()
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

/// How long after a closed member's messages move to another member they are redelivered
/// ("Make the timer fire soon", server.go 1256-1270).
pub const TRANSFER_REDELIVERY_US: u64 = 100_000;

/// Whether a deadline entry `(seq, delivery)` still stands: its message is pending, held by a
/// member, and has not been delivered again since.
fn is_live(pending: &ById<Pending>, seq: u64, delivery: u32) -> bool {
    pending
        .get(seq_key(seq))
        .is_some_and(|p| p.deliveries == delivery && p.member.is_some())
}

/// `findBestQueueSub` (server.go v0.17.0 3349-3383): scan the subscribed members in list order
/// and take the first with strictly the fewest pending acks, skipping those whose client missed
/// a heartbeat (the first in the list if all did); if that is the head of the list, move it to
/// the end. So equally loaded members take turns, and no draw is made. `None` when no member
/// is subscribed.
pub fn best_member(order: &mut [usize], pending: &[u32], failed_hb: &[bool]) -> Option<usize> {
    let mut best: Option<usize> = None;
    for &m in order.iter() {
        if !failed_hb[m] && best.is_none_or(|b| pending[m] < pending[b]) {
            best = Some(m);
        }
    }
    let head = *order.first()?;
    let best = best.unwrap_or(head);
    if order.len() > 1 && best == head {
        order.rotate_left(1);
    }
    Some(best)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::events::TicketData;
    use crate::model::services::subscriptions;

    /// A bus with two orders replicas, an ack wait of 5 s, and no bound that matters.
    fn two_members() -> Bus {
        let replicas = [Node::Orders(1), Node::Orders(2)];
        Bus::new(
            subscriptions(&replicas, false, Default::default()),
            5_000_000,
            100,
        )
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
        assert_eq!(member, Some(0));
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
        let ok = [false; 4];
        let mut order = vec![0, 1, 2, 3];
        assert_eq!(best_member(&mut order, &[3, 1, 2, 1], &ok), Some(1));
        assert_eq!(order, [0, 1, 2, 3], "not the head: no rotation");
        assert_eq!(best_member(&mut order, &[0, 0, 0, 0], &ok), Some(0));
        assert_eq!(order, [1, 2, 3, 0]);
        assert_eq!(best_member(&mut order, &[0, 0, 0, 0], &ok), Some(1));
        assert_eq!(order, [2, 3, 0, 1]);
        // Idle members take turns: four sends reach four members.
        let mut order = vec![0, 1, 2, 3];
        let picks: Vec<_> = (0..4)
            .map(|_| best_member(&mut order, &[0; 4], &ok))
            .collect();
        assert_eq!(picks, [Some(0), Some(1), Some(2), Some(3)]);
        let mut one = vec![0];
        assert_eq!(best_member(&mut one, &[5], &ok), Some(0));
        assert_eq!(best_member(&mut [], &[], &[]), None);
        // A member whose client missed a heartbeat is skipped; if all did, the head is taken.
        let mut order = vec![0, 1];
        assert_eq!(best_member(&mut order, &[0, 3], &[true, false]), Some(1));
        assert_eq!(best_member(&mut order, &[0, 0], &[true, true]), Some(0));
    }
}
