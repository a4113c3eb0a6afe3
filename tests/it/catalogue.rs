//! The race catalogue (scenarios/): pinned outcomes of seeds 0..20 in every mode, and every
//! declared expectation holding over seeds 0..100.

use crate::support::*;
use std::num::NonZeroUsize;
use ticketsim::harness::sweep::{self, Plan, Seeds, Shard, SweepReport};
use ticketsim::present::report::Verdict;
use ticketsim::scenario::expect::Claim;
use ticketsim::scenario::expect::Invariant;
use ticketsim::Occ;
use ticketsim::Outcome;

/// One letter per seed: C converged, D diverged, S stuck; lower case when the run also broke
/// an invariant.
fn classes(name: &str, occ: Occ, seeds: std::ops::Range<u64>) -> String {
    let scenario = scenario(name);
    let declared: Vec<Invariant> = scenario
        .expect
        .get(occ)
        .into_iter()
        .filter_map(|c| match c {
            Claim::Violates(i) => Some(i),
            _ => None,
        })
        .collect();
    seeds
        .map(|seed| {
            let report = ticketsim::run(&scenario, seed, occ).report;
            let letter = match report.outcome {
                Outcome::Converged => 'C',
                Outcome::Diverged => 'D',
                Outcome::Stuck => 'S',
            };
            let broken: Vec<Invariant> = report
                .violations
                .iter()
                .filter_map(|v| v.invariant())
                .collect();
            for i in &broken {
                assert!(
                    declared.contains(i),
                    "{name} {occ} seed {seed} broke {i}, which the scenario does not declare"
                );
            }
            if broken.is_empty() {
                letter
            } else {
                letter.to_ascii_lowercase()
            }
        })
        .collect()
}

#[test]
fn catalogue_outcomes_of_seeds_0_to_20_are_pinned() {
    let pinned = [
        ("cancel-completed-order", Occ::Off, "cccccccccccccccccccc"),
        ("cancel-completed-order", Occ::On, "ssssssssssssssssssss"),
        ("cancel-completed-order", Occ::Dedup, "ssssssssssssssssssss"),
        ("cancelled-before-created", Occ::Off, "cccCcccccCcCcccccccc"),
        ("cancelled-before-created", Occ::On, "cccCCccccCcCCccccccc"),
        (
            "cancelled-before-created",
            Occ::Dedup,
            "cccCCccccCcCCccccccc",
        ),
        ("charge-without-record", Occ::Off, "cccccccccccccccccccc"),
        ("charge-without-record", Occ::On, "cccccccccccccccccccc"),
        ("charge-without-record", Occ::Dedup, "cccccccccccccccccccc"),
        ("crash-after-save", Occ::Off, "SSCDDCDCCCDDCCSSCCCD"),
        ("crash-after-save", Occ::On, "SSSSSCSCCCSSCCSSCCCS"),
        ("crash-after-save", Occ::Dedup, "CCCCCCCCCCCCCCCCCCCC"),
        ("crash-before-publish", Occ::Off, "DDDDDDDDDDDDDDDDDDDD"),
        ("crash-before-publish", Occ::On, "DDDDDDDDDDDDDDDDDDDD"),
        ("crash-before-publish", Occ::Dedup, "DDDDDDDDDDDDDDDDDDDD"),
        ("double-reservation", Occ::Off, "cccccccccccccccccccc"),
        ("double-reservation", Occ::On, "cccccccccccccccccccc"),
        ("double-reservation", Occ::Dedup, "cccccccccccccccccccc"),
        (
            "duplicate-order-in-payments",
            Occ::Off,
            "CCSCCCCSCCSCCCSCCSCC",
        ),
        (
            "duplicate-order-in-payments",
            Occ::On,
            "CCSCCCCSCCSCCCSCCSCC",
        ),
        (
            "duplicate-order-in-payments",
            Occ::Dedup,
            "CCCCCCCCCCCCCCCCCCCC",
        ),
        ("duplicate-update", Occ::Off, "CSCSCCSSCCCSCCSSCCSS"),
        ("duplicate-update", Occ::On, "CSSSSCSSSCSSCCSSSSSS"),
        ("duplicate-update", Occ::Dedup, "CCCCCCCCCCCCCCCCCCCC"),
        ("edit-races-reservation", Occ::Off, "ddddddddddddddcddddd"),
        ("edit-races-reservation", Occ::On, "CCCCCCCCCCCCCCCCCCCC"),
        ("edit-races-reservation", Occ::Dedup, "CCCCCCCCCCCCCCCCCCCC"),
        ("missing-update-event", Occ::Off, "CCCCCCCCCCCCCCCCCCCC"),
        ("missing-update-event", Occ::On, "SSSSSSSSSSSSSSSSSSSS"),
        ("missing-update-event", Occ::Dedup, "SSSSSSSSSSSSSSSSSSSS"),
        ("payment-after-expiration", Occ::Off, "cccccccccccccccccccc"),
        ("payment-after-expiration", Occ::On, "cccccccccccccccccccc"),
        (
            "payment-after-expiration",
            Occ::Dedup,
            "cccccccccccccccccccc",
        ),
        ("refusal-exits-replica", Occ::Off, "SSDDSDSDSSDDSCCDSSSD"),
        ("refusal-exits-replica", Occ::On, "SSSSSSSSSSSSSCCSSSSS"),
        ("refusal-exits-replica", Occ::Dedup, "SSSSSCSSSSSSSCCSSSSC"),
        ("stale-expiration", Occ::Off, "cccccccccccccccccccc"),
        ("stale-expiration", Occ::On, "cccccccccccccccccccc"),
        ("stale-expiration", Occ::Dedup, "CCCCCCCCCCCCCCCCCCCC"),
        ("updated-before-created", Occ::Off, "CCCCCCCCCCCCCCCCCCCC"),
        ("updated-before-created", Occ::On, "CCCCCCCCCCCCCCCCCCCC"),
        ("updated-before-created", Occ::Dedup, "CCCCCCCCCCCCCCCCCCCC"),
    ];
    let mut failed = Vec::new();
    for (name, occ, expected) in pinned {
        let got = classes(name, occ, 0..20);
        if got != expected {
            failed.push(format!("{name} {occ}: expected {expected}, got {got}"));
        }
    }
    assert!(failed.is_empty(), "{}", failed.join("\n"));
}

#[test]
fn every_declared_expectation_holds_on_seeds_0_to_100_in_every_mode() {
    let files: Vec<String> = std::fs::read_dir(root().join("scenarios"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    let mut names = files;
    names.sort();
    let scenarios: Vec<_> = names.iter().map(|n| scenario(n)).collect();
    let plan = Plan::grid(
        scenarios.len(),
        &Occ::ALL,
        |_| Seeds { start: 0, end: 100 },
        Shard::WHOLE,
    );
    let jobs = NonZeroUsize::new(2).unwrap();
    let report = SweepReport::new(
        &scenarios,
        &plan,
        sweep::run(&scenarios, &plan, jobs, &|| {}),
        None,
    );
    for g in &report.groups {
        assert!(
            !g.expectations.is_empty(),
            "{} {} declares nothing",
            g.scenario,
            g.occ
        );
        for j in &g.expectations {
            assert_eq!(
                j.verdict,
                Verdict::Held,
                "{} {}: {} — {}",
                g.scenario,
                g.occ,
                j.expected,
                j.why
            );
        }
    }
    assert!(report.passed);
}

#[test]
fn a_scenario_that_exercises_nothing_is_told_so() {
    let file = "tests/fixtures/never-exercised.toml";
    // One run: reported, not a failure of the run.
    let (code, stdout, _) = ticketsim(&["run", file, "--seed", "1", "--occ", "on"]);
    assert_eq!(code, 0, "{stdout}");
    assert!(
        stdout.contains("  exercises-crash-mid-handler — undecided: this seed does not exercise it; `ticketsim sweep` judges it over seeds\n"),
        "{stdout}"
    );
    let (_, json, _) = ticketsim(&["run", file, "--seed", "1", "--occ", "on", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["expectations"][1]["verdict"], "undecided");
    // A sweep where no seed exercised it fails, naming it.
    let (code, stdout, _) = ticketsim(&["sweep", file, "--seeds", "0..3", "--occ", "on"]);
    assert_eq!(code, 1, "{stdout}");
    // The expectation column counts what held, then what did not.
    assert!(stdout.contains("│ 1/2 held, 1 FAILED │"), "{stdout}");
    assert!(
        stdout.contains(
            "expects `exercises-crash-mid-handler`, but no seed of 3 exercised crash-mid-handler."
        ),
        "{stdout}"
    );
}
