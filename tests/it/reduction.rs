//! The reduction of tie orders (`explore --reduce sleep-sets`, the default) against running
//! every tie order (`--reduce none`): on every scope below, the same set of distinct histories,
//! the same distinct failing histories, the same verdict and the same fewest deviations of a
//! failing schedule. A difference would mean a pruned schedule had no equivalent that ran: the
//! reduction would be unsound, and must be made more conservative, not this test weaker.

use crate::support::*;
use ticketsim::harness::explore::{explore, target, Explored, Reduce, Scope};
use ticketsim::{Occ, Scenario};

fn fixture(name: &str) -> Scenario {
    Scenario::load(&root().join(format!("tests/fixtures/{name}.toml"))).unwrap()
}

fn run(scenario: &Scenario, occ: Occ, deviations: u32, reduce: Reduce, jobs: usize) -> Explored {
    let scope = Scope {
        deviations,
        latency_points: 2,
        max_schedules: 1_000_000,
        reduce,
    };
    explore(scenario, occ, scope, jobs, &|_| {}).unwrap()
}

/// Explore `scenario` in `occ` within `deviations` both ways, check they agree, and return the
/// reduced exploration and the full one.
fn agree(scenario: &Scenario, occ: Occ, deviations: u32) -> (Explored, Explored) {
    let full = run(scenario, occ, deviations, Reduce::None, 2);
    let reduced = run(scenario, occ, deviations, Reduce::SleepSets, 2);
    let at = format!("{} · {occ} · ≤{deviations}", scenario.name);
    assert!(!full.cut_short && !reduced.cut_short, "{at}");
    assert_eq!(full.pruned, 0, "{at}");
    assert!(
        reduced.traces.all == full.traces.all,
        "{at}: {} histories reduced, {} in full; {} only in full",
        reduced.histories,
        full.histories,
        full.traces.all.difference(&reduced.traces.all).count()
    );
    assert_eq!(reduced.traces.failing, full.traces.failing, "{at}");
    assert_eq!(reduced.passed(), full.passed(), "{at}");
    let depth = |e: &Explored| e.counterexample.as_ref().map(|c| c.deviations.len());
    assert_eq!(depth(&reduced), depth(&full), "{at}");
    assert!(reduced.schedules + reduced.pruned <= full.schedules, "{at}");
    (reduced, full)
}

#[test]
fn the_course_race_loses_no_history_to_the_reduction() {
    let scope = fixture("explore-u2r2");
    for (occ, every, run, pruned) in [(Occ::Off, 23275, 9982, 763), (Occ::On, 24096, 10566, 802)] {
        let (reduced, full) = agree(&scope, occ, 4);
        assert_eq!(full.schedules, every, "{occ}");
        assert_eq!((reduced.schedules, reduced.pruned), (run, pruned), "{occ}");
    }
    agree(&fixture("explore-u3r2"), Occ::On, 3);
}

#[test]
fn a_duplicate_publish_loses_no_history_to_the_reduction() {
    let scope = fixture("explore-duplicate");
    for occ in [Occ::On, Occ::Dedup] {
        agree(&scope, occ, 3);
    }
}

/// Every scope the catalogue claims, in every mode, at its own bound: crashes, reservations,
/// cancellations and orders among them.
#[test]
fn every_claimed_scope_of_the_catalogue_loses_no_history_to_the_reduction() {
    let mut scopes = 0;
    for entry in std::fs::read_dir(root().join("scenarios")).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_stem().unwrap().to_str().unwrap().to_owned();
        let s = scenario(&name);
        if s.explore.is_none() {
            continue;
        }
        let (scoped, bound) = target(&s, None, None, 1_000_000, Reduce::None);
        for occ in Occ::ALL {
            agree(&scoped, occ, bound.deviations);
        }
        scopes += 1;
    }
    assert_eq!(scopes, 12);
}

#[test]
fn the_reduction_is_the_same_on_any_number_of_threads() {
    let scope = fixture("explore-u2r2");
    let one = run(&scope, Occ::Off, 3, Reduce::SleepSets, 1);
    let three = run(&scope, Occ::Off, 3, Reduce::SleepSets, 3);
    assert_eq!(one, three);
    assert!(one.pruned > 0);
}
