//! `ticketsim explore`: every schedule within a bound of deviations, pinned for the shrunk
//! catalogue scopes; its counterexamples replay as tapes.

use crate::support::*;
use ticketsim::harness::explore::{explore, Explored, Scope};
use ticketsim::harness::run::{run_driven, Driven};
use ticketsim::harness::shrink::Failure;
use ticketsim::sim::choice::Drive;
use ticketsim::sim::tape::{ChoiceKind, ChoiceOf, Tape};
use ticketsim::{Occ, Scenario};

fn fixture(name: &str) -> Scenario {
    Scenario::load(&root().join(format!("tests/fixtures/{name}.toml"))).unwrap()
}

fn explored(scenario: &Scenario, occ: Occ, deviations: u32) -> Explored {
    let scope = Scope {
        deviations,
        latency_points: 2,
        max_schedules: 1_000_000,
    };
    explore(scenario, occ, scope, &|_| {}).unwrap()
}

/// (schedules, distinct histories, failing, schedules per number of deviations)
fn counts(e: &Explored) -> (u64, u64, u64, Vec<u64>) {
    (e.schedules, e.histories, e.failing, e.by_deviations.clone())
}

#[test]
fn the_course_race_needs_two_deviations_and_occ_is_certified_within_four() {
    let scope = fixture("explore-u2r2");
    let off = explored(&scope, Occ::Off, 2);
    assert_eq!(counts(&off), (385, 197, 8, vec![1, 27, 357]));
    assert_eq!(off.nominal_choices.total, 26);
    assert!(!off.cut_short);
    let c = off.counterexample.clone().unwrap();
    assert_eq!(c.failure, Failure::Diverged { field: "price" });
    let made: Vec<(u64, ChoiceKind, u64)> = c
        .deviations
        .iter()
        .map(|d| (d.choice, d.kind, d.option))
        .collect();
    assert_eq!(
        made,
        [
            (5, ChoiceKind::SlowTail, 1),
            (11, ChoiceKind::Latency, 1500)
        ],
        "a slow delivery, then a database call at its longest"
    );
    // Within one deviation nothing fails: two is the minimum.
    assert_eq!(explored(&scope, Occ::Off, 1).failing, 0);

    // The counterexample's tape replays it exactly, through the same path as `run --tape`.
    let tape = Tape::from_token(&c.tape).unwrap();
    let report = run_driven::<std::io::Sink>(
        &scope,
        Occ::Off,
        Driven {
            drive: Drive::Tape(tape),
            record: false,
            out: None,
        },
    )
    .unwrap();
    assert_eq!(Failure::of(&report), Some(c.failure));
    assert!(c
        .reproduce
        .ends_with(&format!("--tape {} --occ off", c.tape)));

    // With OCC, every schedule within four deviations converges.
    let on = explored(&scope, Occ::On, 4);
    assert_eq!(counts(&on), (24096, 6287, 0, vec![1, 27, 357, 3133, 20578]));
    assert!(on.counterexample.is_none() && on.passed());
}

#[test]
fn a_duplicate_publish_is_one_deviation_and_dedup_is_certified_within_three() {
    let scope = fixture("explore-duplicate");
    let on = explored(&scope, Occ::On, 1);
    assert_eq!(counts(&on), (28, 23, 3, vec![1, 27]));
    let c = on.counterexample.unwrap();
    assert_eq!(c.deviations.len(), 1);
    assert_eq!(c.deviations[0].kind, ChoiceKind::Strike);
    assert_eq!(c.deviations[0].of, ChoiceOf::PublisherRetry);
    assert!(matches!(c.failure, Failure::RedeliveryLoop { .. }));
    let dedup = explored(&scope, Occ::Dedup, 3);
    assert_eq!(dedup.schedules, 4411);
    assert_eq!(dedup.failing, 0);
}

#[test]
fn explore_prints_the_same_on_every_run_and_says_what_it_covered() {
    let args = [
        "explore",
        "tests/fixtures/explore-u2r2.toml",
        "--deviations",
        "2",
    ];
    let (code, text, stderr) = ticketsim(&args);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(ticketsim(&args).1, text);
    assert!(
        text.contains(
            "│ off   │ 26      │ 385       │ 197       │ 8       │ FAILS with 2 deviations     │"
        ),
        "{text}"
    );
    assert!(
        text.contains(
            "│ on    │ 26      │ 385       │ 197       │ 0       │ converges in every schedule │"
        ),
        "{text}"
    );
    assert!(
        text.contains(
            "  - choice 5: a delivery is slow (its latency's slow tail)\n  - choice 11: a database call takes its longest ordinary latency\n  replay: ticketsim run tests/fixtures/explore-u2r2.toml --tape t1"
        ),
        "{text}"
    );
    assert!(text.contains("Covered: every schedule that deviates from the nominal run"));
    assert!(text.contains("Not covered: more deviations"));
    let (_, json, _) = ticketsim(&[&args[..], &["--json"]].concat());
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["modes"][0]["schedules"], 385);
    assert_eq!(
        v["modes"][0]["counterexample"]["deviations"][0]["kind"],
        "slow-tail"
    );

    // A cap on schedules cuts it short, and it says so.
    let (code, text, _) = ticketsim(&[
        "explore",
        "tests/fixtures/explore-u2r2.toml",
        "--occ",
        "on",
        "--max-schedules",
        "10",
    ]);
    assert_eq!(code, 0);
    assert!(text.contains("no failure in the schedules run"), "{text}");
    assert!(text.contains("Cut short at 10 schedules"), "{text}");
}

#[test]
fn explore_refuses_what_it_cannot_enumerate() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("rate.toml");
    std::fs::write(
        &file,
        r#"
        name = "rate"
        description = "crashes at random times"
        faults = { crash-rate = { mean-interval-ms = 100, restart-after-ms = 10 }, heal-at-ms = 1000 }
        [[workload.price-chain]]
        tickets = 1
        title = "t"
        price = 5
        updates = [10]
        "#,
    )
    .unwrap();
    let (code, _, stderr) = ticketsim(&["explore", file.to_str().unwrap()]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("explore does not take faults.crash-rate"),
        "{stderr}"
    );
    let (code, _, stderr) = ticketsim(&[
        "explore",
        "tests/fixtures/explore-u2r2.toml",
        "--deviations",
        "9",
    ]);
    assert_eq!(code, 2);
    assert!(stderr.contains("9 is not in 0..=8"), "{stderr}");
}
