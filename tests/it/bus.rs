//! NATS Streaming semantics: ack wait, redelivery, the redelivered flag, queue-group choice.

use crate::support::*;
use std::collections::BTreeMap;
use ticketsim::model::events::{Event, Subject};
use ticketsim::model::node::Node;
use ticketsim::sim::record::{Event as T, Record};
use ticketsim::Occ;

#[test]
fn an_unacked_message_is_redelivered_after_the_ack_wait_flagged_redelivered() {
    // Version 2 on a replica at version 0: refused on every delivery.
    let stored = replica(7, 0, "concert", 20);
    let event = Event::TicketUpdated(data(7, Some(2), "gig", 30));
    let (_, records) = deliver_once(Occ::On, 2, Some(stored), event);
    let sent = records
        .iter()
        .find(|r| matches!(r.event, T::Send { .. }))
        .unwrap();
    let redeliveries: Vec<&Record> = records
        .iter()
        .filter(|r| matches!(r.event, T::Redeliver { .. }))
        .collect();
    assert_eq!(redeliveries.len(), 19);
    // Each redelivery comes exactly one ack wait (5000 ms) after the previous send.
    let mut last_send = sent.t_us;
    for r in &redeliveries {
        assert_eq!(r.t_us, last_send + 5_000_000);
        last_send = r.t_us;
    }
    let flags: Vec<bool> = records
        .iter()
        .filter_map(|r| match r.event {
            T::Deliver { redelivered, .. } => Some(redelivered),
            _ => None,
        })
        .collect();
    assert_eq!(flags.len(), 20);
    assert!(!flags[0]);
    assert!(flags[1..].iter().all(|&f| f));
}

/// Replays a trace's sends, redeliveries and acks against NATS Streaming 0.17.0's
/// `findBestQueueSub` (server.go 3349-3383), written out again here: per queue group, scan
/// the members in list order, take the first with strictly the fewest pending acks, and move
/// it to the end of the list if it was the head. A redelivery is chosen while the original
/// member still counts the message (3640-3652). Checks every choice the trace shows.
fn assert_server_choices(records: &[Record], replicas: u8) -> usize {
    let mut pending: BTreeMap<(Subject, Node), u32> = BTreeMap::new();
    let mut lists: BTreeMap<Subject, Vec<Node>> = BTreeMap::new();
    let mut owner: BTreeMap<(Subject, u64), Node> = BTreeMap::new();
    let mut choices = 0;
    let mut choose = |pending: &BTreeMap<(Subject, Node), u32>, subject, replica, t_us| {
        let list = lists
            .entry(subject)
            .or_insert_with(|| (1..=replicas).map(Node::Orders).collect());
        let count = |n: &Node| pending.get(&(subject, *n)).copied().unwrap_or(0);
        let mut best = list[0];
        for n in list.iter() {
            if count(n) < count(&best) {
                best = *n;
            }
        }
        if list.len() > 1 && best == list[0] {
            list.rotate_left(1);
        }
        assert_eq!(
            replica, best,
            "{subject} at {t_us} µs went to {replica}, not to the server's choice"
        );
        choices += 1;
    };
    for r in records {
        match &r.event {
            T::Send {
                subject,
                seq,
                replica,
                ..
            } => {
                choose(&pending, *subject, *replica, r.t_us);
                *pending.entry((*subject, *replica)).or_default() += 1;
                owner.insert((*subject, *seq), *replica);
            }
            T::Redeliver {
                subject,
                seq,
                replica,
                ..
            } => {
                choose(&pending, *subject, *replica, r.t_us);
                let old = owner[&(*subject, *seq)];
                *pending.get_mut(&(*subject, old)).unwrap() -= 1;
                *pending.entry((*subject, *replica)).or_default() += 1;
                owner.insert((*subject, *seq), *replica);
            }
            T::Ack { subject, seq, .. } | T::Drop { subject, seq, .. } => {
                if let Some(old) = owner.remove(&(*subject, *seq)) {
                    *pending.get_mut(&(*subject, old)).unwrap() -= 1;
                }
            }
            T::RedeliveryLoop { subject, seq, .. } => {
                let old = owner.remove(&(*subject, *seq)).unwrap();
                *pending.get_mut(&(*subject, old)).unwrap() -= 1;
            }
            _ => {}
        }
    }
    choices
}

#[test]
fn every_delivery_goes_to_the_member_the_nats_server_would_choose() {
    let scenario = scenario("price-burst");
    let mut redelivered = 0;
    for seed in 0..5 {
        let result = ticketsim::run(&scenario, seed, Occ::On);
        let choices = assert_server_choices(result.trace.records(), 4);
        assert_eq!(choices as u64, result.report.stats.delivered);
        redelivered += result.report.stats.redelivered;
    }
    assert!(
        redelivered > 0,
        "the check must see redeliveries to mean anything"
    );
}
