//! The model follows the real system (docs/model.md): a write is applied before its reply, the
//! course's script stops on a failed request, a process's NATS connection keeps order, the
//! orders routes do not wait for their publishes, and the ack wait is whole seconds.

use crate::support::*;
use std::collections::BTreeMap;
use std::path::Path;
use ticketsim::model::events::{Event, Subject};
use ticketsim::model::http::{Cause, Route};
use ticketsim::model::node::Node;
use ticketsim::scenario::Scenario;
use ticketsim::sim::bus;
use ticketsim::sim::record::{Event as T, Record};
use ticketsim::{Occ, Outcome};

/// Each place in `records` where a replica crashed after one of its listeners wrote for a
/// message and before that listener acked it: (replica, subject, seq).
fn crashes_after_write(records: &[Record]) -> Vec<(Node, Subject, u64)> {
    let mut open: Vec<(Node, Subject, u64)> = Vec::new();
    let mut found = Vec::new();
    for r in records {
        match &r.event {
            T::DbWrite {
                by: Cause::Message(subject, seq),
                ..
            } => open.push((r.node, *subject, *seq)),
            T::Ack {
                subject,
                seq,
                replica,
            }
            | T::Drop {
                subject,
                seq,
                replica,
                ..
            }
            | T::Nack {
                subject,
                seq,
                replica,
                ..
            } => open.retain(|&o| o != (*replica, *subject, *seq)),
            T::Crash { target, .. } => {
                found.extend(open.iter().filter(|o| o.0 == *target));
                open.retain(|o| o.0 != *target);
            }
            _ => {}
        }
    }
    found
}

#[test]
fn a_replica_that_dies_between_its_save_and_its_ack_leaves_the_write_and_gets_it_again() {
    let scenario = scenario("crash-after-save");
    let (mut looped, mut dropped) = (0, 0);
    for seed in 0..6 {
        for occ in [Occ::On, Occ::Dedup] {
            let run = ticketsim::run(&scenario, seed, occ);
            let records = run.trace.records();
            for (replica, subject, seq) in crashes_after_write(records) {
                let at = format!("seed {seed} {occ}: {subject}#{seq} on {replica}");
                let same = |s: &Subject, q: &u64| (*s, *q) == (subject, seq);
                assert!(
                    records.iter().any(
                        |r| matches!(&r.event, T::Redeliver { subject: s, seq: q, .. } if same(s, q))
                    ),
                    "{at}: redelivered"
                );
                match occ {
                    // As taught, the redelivery finds its own effect and throws, forever.
                    Occ::On => {
                        assert!(
                            records.iter().any(|r| matches!(
                                &r.event,
                                T::RedeliveryLoop { subject: s, seq: q, .. } if same(s, q)
                            )),
                            "{at}: loops"
                        );
                        assert_eq!(run.report.outcome, Outcome::Stuck, "{at}");
                        looped += 1;
                    }
                    // dedup sees the effect already stored, acks and drops it.
                    _ => {
                        assert!(
                            records.iter().any(
                                |r| matches!(&r.event, T::Drop { subject: s, seq: q, .. } if same(s, q))
                            ),
                            "{at}: dropped"
                        );
                        assert_eq!(run.report.outcome, Outcome::Converged, "{at}");
                        dropped += 1;
                    }
                }
            }
        }
    }
    assert!(looped > 0 && dropped > 0, "{looped} loops, {dropped} drops");
}

#[test]
fn the_course_script_sends_nothing_more_after_a_failed_request() {
    let scenario = scenario("crash-before-publish");
    let mut abandoned = 0;
    for seed in 0..4 {
        let run = ticketsim::run(&scenario, seed, Occ::On);
        let records = run.trace.records();
        let mut counted = 0;
        for (i, r) in records.iter().enumerate() {
            let T::ChainAbandoned {
                ticket: Some(ticket),
                status,
                unsent,
            } = r.event
            else {
                continue;
            };
            counted += 1;
            // The crash reset the connection: no status, and one update was left to send.
            assert_eq!((status, unsent), (None, 1), "seed {seed} ticket {ticket}");
            let later_update = records[i..].iter().any(|r| {
                matches!(
                    &r.event,
                    T::Http { request: Route::UpdateTicket, ticket: Some(t), .. } if *t == ticket
                )
            });
            assert!(!later_update, "seed {seed}: ticket {ticket} updated after");
        }
        assert_eq!(run.report.stats.abandoned_chains, counted, "seed {seed}");
        assert_eq!(run.report.stats.unsent_requests, counted, "seed {seed}");
        abandoned += counted;
    }
    assert!(abandoned > 0);
}

#[test]
fn each_replica_receives_its_messages_in_the_order_the_bus_sent_them() {
    let scenario = scenario("did-it-work");
    for seed in 0..3 {
        let run = ticketsim::run(&scenario, seed, Occ::On);
        let mut sent: BTreeMap<Node, Vec<(Subject, u64)>> = BTreeMap::new();
        let mut arrived: BTreeMap<Node, Vec<(Subject, u64)>> = BTreeMap::new();
        for r in run.trace.records() {
            match r.event {
                T::Send {
                    subject,
                    seq,
                    replica,
                    ..
                }
                | T::Redeliver {
                    subject,
                    seq,
                    replica,
                    ..
                } => sent.entry(replica).or_default().push((subject, seq)),
                T::Deliver {
                    subject,
                    seq,
                    replica,
                    ..
                } => arrived.entry(replica).or_default().push((subject, seq)),
                _ => {}
            }
        }
        // No orders are placed, so only the four orders replicas subscribe.
        assert_eq!(sent.len(), 4, "seed {seed}");
        assert_eq!(sent, arrived, "seed {seed}");
    }
}

#[test]
fn a_process_publishes_reach_the_bus_in_the_order_it_made_them() {
    let order = with_world(Occ::On, 2, |w| {
        let w2 = w.clone();
        w.exec.spawn(Node::Tickets, async move {
            for id in 1..=50 {
                bus::publish_unawaited(
                    &w2,
                    Node::Tickets,
                    Event::TicketCreated(data(id, Some(0), "t", 5)),
                );
            }
        });
        run_to_end(w);
        w.trace()
            .records()
            .iter()
            .filter_map(|r| match r.event {
                T::Publish { ticket, .. } => Some(ticket),
                _ => None,
            })
            .collect::<Vec<_>>()
    });
    assert_eq!(order, (1..=50).collect::<Vec<_>>());
}

#[test]
fn the_orders_service_answers_before_its_publish_reaches_the_bus() {
    let run = ticketsim::run(&scenario("double-reservation"), 0, Occ::On);
    let records = run.trace.records();
    let answered: BTreeMap<u32, u64> = records
        .iter()
        .filter_map(|r| match r.event {
            T::Http {
                request: Route::CreateOrder,
                order: Some(order),
                status: 201,
                ..
            } => Some((order, r.t_us)),
            _ => None,
        })
        .collect();
    let published: BTreeMap<u32, u64> = records
        .iter()
        .filter_map(|r| match r.event {
            T::Publish {
                subject: Subject::OrderCreated,
                order: Some(order),
                ..
            } => Some((order, r.t_us)),
            _ => None,
        })
        .collect();
    assert!(!answered.is_empty());
    assert_eq!(
        answered.keys().collect::<Vec<_>>(),
        published.keys().collect::<Vec<_>>(),
        "every placed order's event is published"
    );
    let first = answered.iter().filter(|(o, t)| **t < published[o]).count();
    assert!(first > 0, "the route does not wait for its publish");
}

#[test]
fn an_ack_wait_the_client_cannot_send_is_refused() {
    let text = r#"
        name = "ack"
        description = "ack wait"
        topology = { ack-wait-ms = 1500 }
        [[workload.create-tickets]]
        count = 1
        price = 1
    "#;
    let error = Scenario::parse(text, Path::new("ack.toml"))
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("ack.toml:4:")
            && error.contains("topology.ack-wait-ms")
            && error.contains("whole seconds (1000 or 2000, not 1500)"),
        "{error}"
    );
}
