//! Faults (DESIGN §3): each one happens when named, has the consequence it stands for, is
//! deterministic, and is absent when not named.

use crate::support::*;
use serde_json::Value;
use std::path::Path;
use ticketsim::scenario::Scenario;
use ticketsim::Occ;
use ticketsim::{Outcome, RunResult};

/// 40 of the course's chains (create at 5, update to 10, 15) with `faults` as the [faults] table.
fn faulty(faults: &str) -> Scenario {
    let text = format!(
        r#"
        name = "faulty"
        description = "faults under test"
        [faults]
        {faults}
        [[workload.price-chain]]
        tickets = 40
        price = 5
        updates = [10, 15]
        "#
    );
    Scenario::parse(&text, Path::new("faulty.toml")).unwrap()
}

fn records(result: &RunResult) -> Vec<Value> {
    json_records(result.trace.records())
}

fn of_kind<'a>(records: &'a [Value], kind: &str) -> Vec<&'a Value> {
    records.iter().filter(|r| r["kind"] == kind).collect()
}

const FAULT_KINDS: [&str; 12] = [
    "ack-lost",
    "lost",
    "duplicate",
    "publish-failed",
    "stall",
    "crash",
    "restart",
    "pause",
    "resume",
    "partition",
    "partition-healed",
    "heal",
];

#[test]
fn faults_that_are_not_named_change_nothing() {
    let explicit_zero = faulty("lost-ack = 0.0\nduplicate-delivery = 0.0");
    let none = faulty("");
    for occ in Occ::ALL {
        for seed in 0..5 {
            let a = ticketsim::run(&explicit_zero, seed, occ);
            let b = ticketsim::run(&none, seed, occ);
            assert_eq!(
                a.report.trace_hash, b.report.trace_hash,
                "{occ} seed {seed}"
            );
            let kinds = kinds(a.trace.records());
            for k in FAULT_KINDS {
                assert!(!kinds.iter().any(|x| x == k), "{k} without the fault");
            }
        }
    }
}

#[test]
fn every_fault_is_deterministic() {
    let all = faulty(
        r#"
        heal-at-ms = 20000
        lost-ack = 0.05
        duplicate-delivery = 0.05
        slow-handler = { probability = 0.05, min-ms = 4000, max-ms = 9000 }
        crash-rate = { mean-interval-ms = 3000, restart-after-ms = 500 }
        crash = [{ node = "tickets", at-ms = 12, restart-after-ms = 2 }]
        pause = [{ node = "orders-2", at-ms = 2, for-ms = 7000 }]
        partition = [{ node = "orders-3", at-ms = 1, for-ms = 6000 }]
        "#,
    );
    for occ in Occ::ALL {
        let a = ticketsim::run(&all, 11, occ);
        let b = ticketsim::run(&all, 11, occ);
        assert_eq!(a.report, b.report, "{occ}");
        assert_eq!(records(&a), records(&b), "{occ}");
        let kinds = kinds(a.trace.records());
        for k in [
            "ack-lost",
            "lost",
            "duplicate",
            "stall",
            "crash",
            "pause",
            "partition",
            "heal",
        ] {
            assert!(kinds.iter().any(|x| x == k), "{occ}: no {k}");
        }
    }
}

#[test]
fn a_lost_ack_is_redelivered_and_as_taught_loops_forever() {
    let s = faulty("lost-ack = 0.05");
    let on = ticketsim::run(&s, 2, Occ::On);
    let recs = records(&on);
    let lost = of_kind(&recs, "ack-lost");
    assert!(!lost.is_empty());
    for l in &lost {
        assert_eq!(l["reason"], "dropped");
        let redelivered = recs.iter().any(|r| {
            r["kind"] == "redeliver"
                && r["subject"] == l["subject"]
                && r["seq"] == l["seq"]
                && r["t_us"].as_u64() > l["t_us"].as_u64()
        });
        assert!(redelivered, "{l}");
    }
    // The redelivered message was already applied: `on` refuses it forever.
    assert_eq!(on.report.outcome, Outcome::Stuck);
    assert!(on.report.stats.acks_lost >= 1);
    // `dedup` acks and drops it.
    let dedup = ticketsim::run(&s, 2, Occ::Dedup);
    assert_eq!(dedup.report.outcome, Outcome::Converged);
    assert!(dedup.report.stats.dropped >= 1);
}

#[test]
fn the_publisher_retry_fault_is_read_under_its_earlier_name_too() {
    let new = faulty("publisher-retry = 0.05");
    let old = faulty("duplicate-delivery = 0.05");
    assert_eq!(new.faults, old.faults);
    let both = Scenario::parse(
        "name = \"x\"\ndescription = \"x\"\n[faults]\npublisher-retry = 0.1\nduplicate-delivery = 0.1\n[[workload.create-tickets]]\ncount = 1\nprice = 1\n",
        Path::new("both.toml"),
    )
    .unwrap_err()
    .to_string();
    assert!(
        both.contains("both.toml:3:") && both.contains("duplicate field `publisher-retry`"),
        "{both}"
    );
}

#[test]
fn a_duplicate_is_a_second_message_with_its_own_sequence_number() {
    let s = faulty("publisher-retry = 0.05");
    let dedup = ticketsim::run(&s, 1, Occ::Dedup);
    let recs = records(&dedup);
    let dups = of_kind(&recs, "duplicate");
    assert!(!dups.is_empty());
    for d in &dups {
        assert_ne!(d["seq"], d["of"]);
        let sent = recs
            .iter()
            .any(|r| r["kind"] == "send" && r["subject"] == d["subject"] && r["seq"] == d["seq"]);
        assert!(sent, "the copy is sent like any message: {d}");
    }
    assert_eq!(dedup.report.stats.duplicates, dups.len() as u64);
    assert_eq!(dedup.report.outcome, Outcome::Converged);
    assert_eq!(
        ticketsim::run(&s, 1, Occ::On).report.outcome,
        Outcome::Stuck
    );
}

#[test]
fn a_slow_handler_outlives_the_ack_wait_and_its_message_is_redelivered_meanwhile() {
    let s = faulty("slow-handler = { probability = 0.05, min-ms = 6000, max-ms = 8000 }");
    let run = ticketsim::run(&s, 3, Occ::On);
    let recs = records(&run);
    let stalls = of_kind(&recs, "stall");
    assert!(!stalls.is_empty());
    let mut overlapped = 0;
    for st in &stalls {
        let ms = st["ms"].as_u64().unwrap();
        assert!((6000..=8000).contains(&ms), "{st}");
        // The delivery that stalled: the last `deliver` at that replica before the stall.
        let t = st["t_us"].as_u64().unwrap();
        let delivery = recs
            .iter()
            .rfind(|r| {
                r["kind"] == "deliver"
                    && r["replica"] == st["replica"]
                    && r["t_us"].as_u64().unwrap() <= t
            })
            .unwrap();
        let redelivered_during = recs.iter().any(|r| {
            r["kind"] == "redeliver"
                && r["seq"] == delivery["seq"]
                && r["subject"] == delivery["subject"]
                && (t..t + ms * 1000).contains(&r["t_us"].as_u64().unwrap())
        });
        overlapped += usize::from(redelivered_during);
    }
    assert!(
        overlapped >= 1,
        "some stalled message was redelivered while its handler slept"
    );
    assert_eq!(run.report.outcome, Outcome::Converged);
}

#[test]
fn a_crashed_replica_does_nothing_until_it_restarts_and_its_work_is_redelivered() {
    let s = faulty(r#"crash = [{ node = "orders-1", at-ms = 4, restart-after-ms = 3000 }]"#);
    let run = ticketsim::run(&s, 5, Occ::On);
    let recs = records(&run);
    let crash = of_kind(&recs, "crash")[0];
    let restart = of_kind(&recs, "restart")[0];
    assert_eq!(crash["target"], "orders-1");
    assert!(
        crash["dropped_tasks"].as_u64().unwrap() >= 1,
        "it was busy at 4 ms"
    );
    assert_eq!(crash["t_us"], 4000);
    // Back at 3004 ms, its new client connects; the server first pings the old one and waits
    // 500 ms for an answer that does not come, closes it, and only then answers.
    assert_eq!(restart["t_us"], 3504000);
    let closed = of_kind(&recs, "client-closed")[0];
    assert_eq!(
        (&closed["target"], &closed["t_us"]),
        (&Value::from("orders-1"), &Value::from(3504000))
    );
    let silent = recs.iter().all(|r| {
        let t = r["t_us"].as_u64().unwrap();
        r["node"] != "orders-1" || !(4000..3504000).contains(&t)
    });
    assert!(silent, "nothing runs on a crashed replica");
    assert!(run.report.stats.redelivered >= 1);
    assert_eq!(run.report.outcome, Outcome::Converged);
}

#[test]
fn a_paused_replica_resumes_in_the_middle_of_its_handlers() {
    let s = faulty(r#"pause = [{ node = "orders-2", at-ms = 8, for-ms = 7000 }]"#);
    let run = ticketsim::run(&s, 6, Occ::On);
    let recs = records(&run);
    let (from, to) = (8000, 7_008_000);
    assert_eq!(of_kind(&recs, "resume")[0]["t_us"], to);
    let quiet = recs.iter().all(|r| {
        let t = r["t_us"].as_u64().unwrap();
        r["node"] != "orders-2" || !(from..to).contains(&t) || t == from
    });
    assert!(quiet, "nothing runs on a paused replica");
    // A delivery that started before the pause finishes after it: same task, resumed.
    let resumed = of_kind(&recs, "deliver").iter().any(|d| {
        d["replica"] == "orders-2"
            && d["t_us"].as_u64().unwrap() < from
            && recs.iter().any(|r| {
                (r["kind"] == "ack" || r["kind"] == "nack")
                    && r["replica"] == "orders-2"
                    && r["seq"] == d["seq"]
                    && r["subject"] == d["subject"]
                    && r["t_us"].as_u64().unwrap() >= to
            })
    });
    assert!(resumed);
    assert_eq!(run.report.outcome, Outcome::Converged);
}

#[test]
fn a_short_partition_delays_what_crosses_it_and_loses_nothing() {
    let s = faulty(r#"partition = [{ node = "orders-3", at-ms = 0, for-ms = 6000 }]"#);
    let run = ticketsim::run(&s, 7, Occ::On);
    let recs = records(&run);
    assert!(of_kind(&recs, "lost").is_empty(), "held, not lost");
    let late: Vec<u64> = of_kind(&recs, "deliver")
        .iter()
        .filter(|d| d["replica"] == "orders-3")
        .map(|d| d["t_us"].as_u64().unwrap())
        .collect();
    assert!(!late.is_empty());
    assert!(late.iter().all(|&t| t >= 6_000_000), "{late:?}");
    // Shorter than the client's patience (four pings) and the server's first heartbeat miss.
    for kind in ["exit", "heartbeat-missed", "client-closed"] {
        assert!(of_kind(&recs, kind).is_empty(), "{kind}");
    }
    assert_eq!(run.report.outcome, Outcome::Converged);

    // The tickets service cut off for 3 ms: its publishes wait in its connection, in order.
    let s = faulty(r#"partition = [{ node = "tickets", at-ms = 2, for-ms = 3 }]"#);
    let run = ticketsim::run(&s, 7, Occ::On);
    let recs = records(&run);
    assert!(of_kind(&recs, "publish-failed").is_empty());
    let held = of_kind(&recs, "publish")
        .iter()
        .filter(|p| p["t_us"] == 5000)
        .count();
    assert!(
        held >= 1,
        "what was sent during the partition arrives when it ends"
    );
    assert_eq!(run.report.outcome, Outcome::Converged);
}

#[test]
fn a_long_partition_ends_the_process_and_the_server_closes_its_client() {
    let s = faulty(r#"partition = [{ node = "orders-3", at-ms = 0, for-ms = 40000 }]"#);
    let run = ticketsim::run(&s, 7, Occ::On);
    let recs = records(&run);
    let at = |kind: &str| -> Vec<u64> {
        of_kind(&recs, kind)
            .iter()
            .filter(|r| r["target"] == "orders-3")
            .map(|r| r["t_us"].as_u64().unwrap())
            .collect()
    };
    // The server's heartbeat asked at 5 s goes unanswered by 10 s: it stops choosing orders-3.
    assert_eq!(at("heartbeat-missed"), [10_000_000]);
    // The client's pings at 5, 10 and 15 s go unanswered; at 20 s it closes, and the course's
    // close handler exits the process.
    assert_eq!(at("exit"), [20_000_000]);
    assert_eq!(of_kind(&recs, "exit")[0]["reason"], "nats-closed");
    // The third missed heartbeat (asked at 25 s) closes the client at 30 s.
    assert_eq!(at("client-closed"), [30_000_000]);
    // Kubernetes restarts it at once (a first exit) plus 5 s to start; it connects when the
    // partition ends.
    assert_eq!(at("restart"), [40_000_000]);
    assert_eq!(at("client-connected"), [40_000_000]);
    assert_eq!(run.report.stats.exits, 1);
    assert_eq!(run.report.outcome, Outcome::Converged);
}

#[test]
fn a_crash_of_the_tickets_service_resets_its_open_requests() {
    let s = faulty(r#"crash = [{ node = "tickets", at-ms = 2, restart-after-ms = 5 }]"#);
    let run = ticketsim::run(&s, 8, Occ::On);
    let crash = of_kind(&records(&run), "crash")[0].clone();
    assert!(crash["dropped_tasks"].as_u64().unwrap() >= 1);
    // Fewer than the 120 requests were answered: the dropped ones got a reset connection.
    assert!(run.report.stats.http_requests < 120);
    assert!(
        run.report.quiescent,
        "clients do not hang on a reset connection"
    );
}

#[test]
fn after_the_heal_no_fault_strikes_and_every_node_is_back() {
    let s = faulty(
        r#"
        heal-at-ms = 8000
        lost-ack = 0.1
        slow-handler = { probability = 0.1, min-ms = 1000, max-ms = 2000 }
        crash-rate = { mean-interval-ms = 500, restart-after-ms = 60000 }
        pause = [{ node = "orders-1", at-ms = 5, for-ms = 60000 }]
        "#,
    );
    // Nothing of the 60 s faults is left to run after the heal: the run ends well within 40 s.
    let mut s = s;
    s.limits.sim_time_ms = 40_000;
    for seed in 0..3 {
        let run = ticketsim::run(&s, seed, Occ::Dedup);
        let recs = records(&run);
        let heal = of_kind(&recs, "heal")[0]["t_us"].as_u64().unwrap();
        assert_eq!(heal, 8_000_000);
        for r in &recs {
            let t = r["t_us"].as_u64().unwrap();
            if ["ack-lost", "stall", "crash", "pause"].contains(&r["kind"].as_str().unwrap()) {
                assert!(t < heal, "{r}");
            }
        }
        // The long pause and the crashes' 60 s downtime end at the heal, and nothing of them
        // is left to run afterwards.
        assert!(
            run.report.sim_time_ms < 60_000,
            "seed {seed}: {}",
            run.report.sim_time_ms
        );
        assert_eq!(of_kind(&recs, "resume")[0]["t_us"], 8_000_000);
        let crashes = of_kind(&recs, "crash").len();
        assert!(crashes >= 2, "seed {seed}: {crashes}");
        // Restarted at the heal, each runs once its client has replaced the old one: 500 ms
        // later, or at once if the server had closed the old one already.
        let restarts_at_heal = of_kind(&recs, "restart")
            .iter()
            .filter(|r| (8_000_000..=8_500_000).contains(&r["t_us"].as_u64().unwrap()))
            .count();
        assert!(restarts_at_heal >= 1);
        assert_eq!(run.report.outcome, Outcome::Converged, "seed {seed}");
    }
}

#[test]
fn fault_settings_are_validated_with_the_key_named() {
    let cases = [
        ("lost-ack = 1.5", "faults.lost-ack", "probability"),
        (
            r#"crash = [{ node = "orders-9", at-ms = 1, restart-after-ms = 1 }]"#,
            "faults.crash[0].node",
            "orders-replicas is 4",
        ),
        (
            r#"pause = [{ node = "bus", at-ms = 1, for-ms = 1 }]"#,
            "faults.pause[0].node",
            "not a node",
        ),
        (
            "crash-rate = { mean-interval-ms = 10, restart-after-ms = 1 }",
            "faults.crash-rate.mean-interval-ms",
            "heal-at-ms",
        ),
        (
            "heal-at-ms = 10\npartition = [{ node = \"tickets\", at-ms = 10, for-ms = 1 }]",
            "faults.partition[0].at-ms",
            "not before faults.heal-at-ms",
        ),
        ("lost-acks = 0.1", "faults", "unknown field `lost-acks`"),
    ];
    for (faults, key, message) in cases {
        let text = format!(
            "name = \"x\"\ndescription = \"x\"\n[faults]\n{faults}\n[[workload.create-tickets]]\ncount = 1\nprice = 1\n"
        );
        let err = Scenario::parse(&text, Path::new("x.toml")).unwrap_err();
        let shown = err.to_string();
        assert!(shown.contains(key), "{faults}: {shown}");
        assert!(shown.contains(message), "{faults}: {shown}");
        assert!(err.position.is_some(), "{faults}: {shown}");
    }
}
