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
use ticketsim::sim::session::ExitReason;
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

/// 40 of the course's chains, with `tables` before them.
fn chains(tables: &str) -> Scenario {
    let text = format!(
        r#"
        name = "chains"
        description = "the course's script on 40 tickets"
        {tables}
        [[workload.price-chain]]
        tickets = 40
        price = 5
        updates = [10, 15]
        "#
    );
    Scenario::parse(&text, Path::new("chains.toml")).unwrap()
}

/// [`chains`] on Node 15 or later, with slow deliveries so that events overtake each other.
fn node_15() -> Scenario {
    chains(
        r#"
        [services]
        unhandled-rejection = "exit"
        [latency]
        delivery = { min-us = 500, max-us = 2000, slow-probability = 0.01, slow-max-us = 12000 }
        "#,
    )
}

#[test]
fn under_node_15_a_listener_that_throws_ends_its_process_and_kubernetes_backs_off() {
    let warn = {
        let mut s = node_15();
        s.services.unhandled_rejection = ticketsim::scenario::schema::UnhandledRejection::Warn;
        s
    };
    let mut exits_seen = 0;
    for seed in 0..4 {
        let run = ticketsim::run(&node_15(), seed, Occ::On);
        let records = run.trace.records();
        for (i, r) in records.iter().enumerate() {
            let T::Nack { replica, .. } = r.event else {
                continue;
            };
            // The very next record on that replica is its exit.
            let exit = records[i + 1..].iter().find(|n| n.node == replica).unwrap();
            assert!(
                matches!(exit.event, T::Exit { target, reason: ExitReason::UnhandledRejection, .. } if target == replica),
                "seed {seed}: {exit:?}"
            );
            assert_eq!(exit.t_us, r.t_us);
        }
        // Kubernetes's back-off per replica: at once, then 10 s, 20 s, 40 s..., each plus the
        // 5 s start-up (no replica runs ten minutes in between here).
        let mut by_replica: BTreeMap<Node, Vec<u64>> = BTreeMap::new();
        for r in records {
            if let T::Exit {
                target,
                restart_after_ms,
                ..
            } = r.event
            {
                by_replica.entry(target).or_default().push(restart_after_ms);
                exits_seen += 1;
            }
        }
        for (replica, delays) in by_replica {
            let expected: Vec<u64> = (0..delays.len())
                .map(|n| {
                    5000 + if n == 0 {
                        0
                    } else {
                        (10_000 << (n - 1)).min(300_000)
                    }
                })
                .collect();
            assert_eq!(delays, expected, "seed {seed} {replica}");
        }
        // Under Node 14 the same seed warns and runs on.
        let calm = ticketsim::run(&warn, seed, Occ::On);
        assert_eq!(calm.report.stats.exits, 0);
    }
    assert!(exits_seen > 0);
}

#[test]
fn the_server_stops_choosing_a_member_that_misses_heartbeats_and_moves_its_messages() {
    // orders-2 is paused for a minute: the server flags it after one missed heartbeat and
    // closes it after three; its messages move to the others.
    let s = chains(r#"faults = { pause = [{ node = "orders-2", at-ms = 8, for-ms = 60000 }] }"#);
    let run = ticketsim::run(&s, 3, Occ::Dedup);
    let records = run.trace.records();
    let when = |f: &dyn Fn(&T) -> bool| records.iter().find(|r| f(&r.event)).map(|r| r.t_us);
    let target = Node::Orders(2);
    let missed = when(&|e| matches!(e, T::HeartbeatMissed { target: t } if *t == target)).unwrap();
    let closed = when(&|e| matches!(e, T::ClientClosed { target: t, .. } if *t == target)).unwrap();
    assert_eq!((missed, closed), (10_000_000, 30_000_000));
    // Between the two, nothing new is sent to it while others can take it.
    let sent_to_it = records.iter().any(|r| {
        (missed..closed).contains(&r.t_us)
            && matches!(r.event, T::Send { replica, .. } | T::Redeliver { replica, .. } if replica == target)
    });
    assert!(!sent_to_it);
    // When it resumes, its next ping is answered "unknown client": it exits.
    let exit = when(
        &|e| matches!(e, T::Exit { target: t, reason: ExitReason::NatsClosed, .. } if *t == target),
    );
    assert!(exit.is_some_and(|t| t >= 60_008_000), "{exit:?}");
    assert_eq!(run.report.outcome, Outcome::Converged);
}

/// The `target` and time of every record of `kind` in `run`'s trace, as (kind, node, µs).
fn session_steps(run: &ticketsim::RunResult) -> Vec<(&'static str, Node, u64)> {
    run.trace
        .records()
        .iter()
        .filter_map(|r| {
            let (kind, node) = match r.event {
                T::HeartbeatMissed { target } => ("heartbeat-missed", target),
                T::HeartbeatAnswered { target } => ("heartbeat-answered", target),
                T::ClientClosed { target, .. } => ("client-closed", target),
                T::Exit { target, .. } => ("exit", target),
                T::PartitionHealed { target } => ("partition-healed", target),
                _ => return None,
            };
            Some((kind, node, r.t_us))
        })
        .collect()
}

#[test]
fn a_replica_that_dies_again_soon_after_its_restart_is_still_watched() {
    // Down at 1 s, back (and connected, after the server's 500 ms check) at 2.5 s, down again
    // at 3 s for good: its new client misses the heartbeat asked at 7.5 s, and the third
    // miss closes it at 32.5 s, so its messages can move on.
    let s = Scenario::parse(
        r#"
        name = "twice"
        description = "one replica crashes twice"
        topology = { orders-replicas = 2 }
        [faults]
        crash = [
            { node = "orders-1", at-ms = 1000, restart-after-ms = 1000 },
            { node = "orders-1", at-ms = 3000, restart-after-ms = 200000 },
        ]
        [[workload.create-tickets]]
        at-ms = 4000
        count = 3
        price = 5
        "#,
        Path::new("twice.toml"),
    )
    .unwrap();
    let run = ticketsim::run(&s, 1, Occ::On);
    let o1 = Node::Orders(1);
    assert_eq!(
        session_steps(&run),
        [
            ("client-closed", o1, 2_500_000),
            ("heartbeat-missed", o1, 12_500_000),
            ("client-closed", o1, 32_500_000),
        ]
    );
    assert_eq!(run.report.outcome, Outcome::Converged);
}

#[test]
fn overlapping_partitions_are_one_cut() {
    // Cut from 1 s to 11 s and from 5 s to 65 s: one cut of 64 s. The client gives up at its
    // fourth unanswered ping (20 s) and exits; the server closes it at 30 s; the node is
    // reachable again only at 65 s.
    let s = chains(
        r#"
        [faults]
        partition = [
            { node = "orders-1", at-ms = 1000, for-ms = 10000 },
            { node = "orders-1", at-ms = 5000, for-ms = 60000 },
        ]
        "#,
    );
    let run = ticketsim::run(&s, 1, Occ::On);
    let o1 = Node::Orders(1);
    assert_eq!(
        session_steps(&run),
        [
            ("heartbeat-missed", o1, 10_000_000),
            ("exit", o1, 20_000_000),
            ("client-closed", o1, 30_000_000),
            ("partition-healed", o1, 65_000_000),
        ]
    );
    assert_eq!(run.report.outcome, Outcome::Converged);
}
