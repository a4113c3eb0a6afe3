//! `ticketsim explore`: every schedule within a bound of deviations, pinned for the shrunk
//! catalogue scopes; its counterexamples replay as tapes.

use crate::support::*;
use ticketsim::harness::explore::{explore, Explored, Reduce, Scope};
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
        reduce: Reduce::SleepSets,
    };
    explore(scenario, occ, scope, 2, &|_| {}).unwrap()
}

/// (schedules run to their end, pruned, distinct histories, failing, schedules run to their end
/// per number of deviations)
fn counts(e: &Explored) -> (u64, u64, u64, u64, Vec<u64>) {
    (
        e.schedules,
        e.pruned,
        e.histories,
        e.failing,
        e.by_deviations.clone(),
    )
}

#[test]
fn the_course_race_needs_two_deviations_and_occ_is_certified_within_four() {
    let scope = fixture("explore-u2r2");
    let off = explored(&scope, Occ::Off, 2);
    // Every tie order: 385 schedules. Sleep sets stop 28 of them early as equivalent to one
    // that runs, and never start 100 more; the 197 histories are the same (tests/it/reduction.rs).
    assert_eq!(counts(&off), (257, 28, 197, 8, vec![1, 22, 234]));
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
    // Every tie order: 24,096 schedules.
    assert_eq!(
        counts(&on),
        (10566, 802, 6287, 0, vec![1, 22, 234, 1650, 8659])
    );
    assert!(on.counterexample.is_none() && on.passed());
}

#[test]
fn a_duplicate_publish_is_one_deviation_and_dedup_is_certified_within_three() {
    let scope = fixture("explore-duplicate");
    let on = explored(&scope, Occ::On, 1);
    // Every tie order: 28 schedules, 23 histories; the 5 tie deviations are all pruned.
    assert_eq!(counts(&on), (23, 5, 23, 3, vec![1, 22]));
    let c = on.counterexample.unwrap();
    assert_eq!(c.deviations.len(), 1);
    assert_eq!(c.deviations[0].kind, ChoiceKind::Strike);
    assert_eq!(c.deviations[0].of, ChoiceOf::PublisherRetry);
    assert!(matches!(c.failure, Failure::RedeliveryLoop { .. }));
    let dedup = explored(&scope, Occ::Dedup, 3);
    // Every tie order: 4,411.
    assert_eq!((dedup.schedules, dedup.pruned), (2562, 209));
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
            "│ off   │ 26      │ 257       │ 28     │ 197       │ 8       │ FAILS with 2 deviations     │"
        ),
        "{text}"
    );
    assert!(
        text.contains(
            "│ on    │ 26      │ 257       │ 28     │ 197       │ 0       │ converges in every schedule │"
        ),
        "{text}"
    );
    assert!(
        text.contains(
            "  - choice 5: a delivery is slow: its latency falls in the slow tail\n  - choice 11: a database call takes its longest ordinary latency\n  replay: ticketsim run tests/fixtures/explore-u2r2.toml --tape t1"
        ),
        "{text}"
    );
    assert!(text.contains("Covered: every schedule that deviates from the nominal run"));
    assert!(text.contains("A schedule pruned by sleep sets has one with the same history"));
    assert!(text.contains("Not covered: more deviations"));
    let (_, json, _) = ticketsim(&[&args[..], &["--json"]].concat());
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["modes"][0]["schedules"], 257);
    assert_eq!(v["modes"][0]["pruned"], 28);
    assert_eq!(v["scope"]["reduce"], "sleep-sets");
    // --reduce none runs every tie order, and says so.
    let (_, json, _) = ticketsim(&[&args[..], &["--json", "--reduce", "none"]].concat());
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(
        (&v["modes"][0]["schedules"], &v["modes"][0]["pruned"]),
        (&385.into(), &0.into())
    );
    assert_eq!(v["scope"]["reduce"], "none");
    assert!(!v["coverage"].as_str().unwrap().contains("sleep sets"));
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
    assert!(text.contains("or sample (--strategy sample)"), "{text}");
}

/// A crash is a choice at every await of its node: `faults.crash-rate`, whose crash times are
/// clock draws under a seed, explores as "crash this replica here", one deviation per crash.
#[test]
fn crashes_are_explored_at_the_awaits_of_their_node() {
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
    let file = file.to_str().unwrap();
    let (code, text, stderr) = ticketsim(&["explore", file, "--occ", "all", "--deviations", "1"]);
    assert_eq!(code, 0, "{stderr}");
    for row in [
        "│ off   │ 27      │ 27        │ 4      │ 23        │ 1       │ FAILS with 1 deviation      │",
        "│ on    │ 27      │ 27        │ 4      │ 23        │ 2       │ FAILS with 1 deviation      │",
        "│ dedup │ 27      │ 27        │ 4      │ 23        │ 0       │ converges in every schedule │",
    ] {
        assert!(text.contains(row), "{row}\n{text}");
    }
    // A replica crashes after saving its copy and before acking: ticket:created comes again
    // and hits the copy it saved, under `on` as under `off`.
    assert!(
        text.contains("occ on: the run redelivers a ticket:created forever, with 1 deviation:\n  - choice 12: orders-1 crashes at this await\n  replay: ticketsim run "),
        "{text}"
    );
    assert!(
        text.contains("a crash striking at any await of its node"),
        "{text}"
    );
    // Its tape is an explored one (faults anchored to events), and replays as one.
    let replay = text
        .lines()
        .filter_map(|l| l.trim().strip_prefix("replay: ticketsim "))
        .nth(1)
        .unwrap_or_else(|| panic!("{text}"));
    assert!(replay.contains(" --tape e1"), "{replay}");
    let args: Vec<&str> = replay.split(' ').collect();
    let (code, run, stderr) = ticketsim(&args);
    assert_eq!(code, 0, "{stderr}");
    assert!(run.contains("outcome: STUCK"), "{run}");
    assert!(
        run.contains("  stuck: redelivery loop: ticket:created #1"),
        "{run}"
    );
    // The same deviations as a seeded-run tape (t1) do not fit: that run draws its crash
    // times instead.
    let plain = replay.replacen(" --tape e1", " --tape t1", 1);
    let args: Vec<&str> = plain.split(' ').collect();
    let (code, _, stderr) = ticketsim(&args);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("no longer fits"), "{stderr}");
}

#[test]
fn explore_refuses_what_it_cannot_enumerate() {
    let (code, _, stderr) = ticketsim(&[
        "explore",
        "tests/fixtures/explore-u2r2.toml",
        "--deviations",
        "9",
    ]);
    assert_eq!(code, 2);
    assert!(stderr.contains("9 is not in 0..=8"), "{stderr}");
}

/// did-it-work with its [explore] claims for `off` turned around.
fn claims_turned_around(dir: &std::path::Path) -> String {
    let text = std::fs::read_to_string(root().join("scenarios/did-it-work.toml")).unwrap();
    let (expect, explore) = text.split_once("[explore]").unwrap();
    let explore = explore.replace("off = \"fails-within-2\"", "off = \"converges\"");
    let file = dir.join("turned.toml");
    std::fs::write(&file, format!("{expect}[explore]{explore}")).unwrap();
    file.to_str().unwrap().to_owned()
}

#[test]
fn a_sweep_judges_the_explore_claims_and_a_broken_one_fails_it() {
    // The catalogue's claims hold (the rest of `sweep --check` is the catalogue test's).
    let (code, text, _) = ticketsim(&["sweep", "scenarios/did-it-work.toml", "--seeds", "0..2"]);
    assert_eq!(code, 0, "{text}");
    assert!(
        text.contains("  did-it-work · on: converges held (all 10566 schedules within 4 deviations converged; 802 more pruned as equivalent to those)\n"),
        "{text}"
    );
    assert!(
        text.contains("  did-it-work · off: fails-within-2 held (762 of 9982 schedules fail, the first with 2 deviations; 763 more pruned as equivalent to those)\n"),
        "{text}"
    );

    let dir = tempfile::tempdir().unwrap();
    let file = claims_turned_around(dir.path());
    let (code, text, _) = ticketsim(&["sweep", &file, "--seeds", "0..2", "--occ", "off"]);
    assert_eq!(code, 1, "{text}");
    assert!(
        text.contains("EXPECTATION FAILED: did-it-work · occ off expects its [explore] scope to `converges`, but 762 of 9982 schedules within 4 deviations fail, the first with 2; 763 more pruned as equivalent to those.\n"),
        "{text}"
    );
    // Its reproduce command replays the failing schedule on the scope.
    let reproduce = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("reproduce: ticketsim "))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(reproduce.contains(" --scoped --tape t1"), "{reproduce}");
    let args: Vec<&str> = reproduce.split(' ').collect();
    let (code, run, stderr) = ticketsim(&args);
    assert_eq!(code, 0, "{stderr}");
    assert!(run.contains("outcome: DIVERGED"), "{run}");
    assert!(
        run.contains(" --scoped --tape "),
        "the run's own reproduce keeps --scoped: {run}"
    );
    // A shard other than the first leaves the claims to shard 1.
    let (_, json, _) = ticketsim(&[
        "sweep", &file, "--seeds", "0..2", "--occ", "off", "--shard", "2/2", "--json",
    ]);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert!(v.get("explorations").is_none(), "{json}");
    assert_eq!(v["passed"], true);
}

#[test]
fn explore_tables_are_checked_when_read() {
    let cases = [
        ("deviations = 9\non = \"converges\"", "key `explore.deviations`: must be from 0 to 8, not 9"),
        ("deviations = 2\noff = \"fails-within-3\"", "key `explore.off`: fails-within-3 asks for more deviations than explore.deviations (2)"),
        ("tickets = 1", "key `explore.off`: claims nothing"),
        ("tickets = 40\non = \"converges\"", "key `explore.tickets`: must be from 1 to 4, not 40"),
        ("on = \"sometimes\"", "is not an exploration claim: write converges or fails-within-K"),
        ("on = \"converges\"\nscope = 3", "unknown field `scope`"),
    ];
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("e.toml");
    for (table, says) in cases {
        std::fs::write(
            &file,
            format!(
                "name = \"e\"\ndescription = \"d\"\n[[workload.price-chain]]\ntickets = 2\ntitle = \"t\"\nprice = 5\nupdates = [10]\n[explore]\n{table}\n"
            ),
        )
        .unwrap();
        let (code, _, stderr) = ticketsim(&["explore", file.to_str().unwrap()]);
        assert_eq!(code, 2, "{table}: {stderr}");
        assert!(stderr.contains(says), "{table}: {stderr}");
    }
    // explore uses the table's scope and bound; run --scoped runs that scope.
    let (code, text, _) = ticketsim(&["explore", "scenarios/did-it-work.toml", "--occ", "on"]);
    assert_eq!(code, 0);
    assert!(
        text.starts_with("ticketsim explore · did-it-work · at most 4 deviations · 2 latency points\n  the scope of its [explore] table: 1 ticket, 2 price updates, 2 replicas\n"),
        "{text}"
    );
    let (code, _, stderr) = ticketsim(&["run", "tests/fixtures/explore-u2r2.toml", "--scoped"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("has no [explore] table"), "{stderr}");
}

#[test]
fn the_result_is_the_same_on_any_number_of_threads_even_cut_short() {
    let scope = fixture("explore-u2r2");
    for max_schedules in [1_000_000, 5_000, 27] {
        let bound = Scope {
            deviations: 4,
            latency_points: 2,
            max_schedules,
            reduce: Reduce::SleepSets,
        };
        let on = |jobs| explore(&scope, Occ::Off, bound, jobs, &|_| {}).unwrap();
        let one = on(1);
        // 9,982 run to their end and 763 pruned: 10,745 runs (23,275 with every tie order).
        assert_eq!(one.cut_short, max_schedules < 10745, "{max_schedules}");
        assert_eq!(one.schedules + one.pruned, max_schedules.min(10745));
        for jobs in [2, 3] {
            assert_eq!(on(jobs), one, "{jobs} threads, cap {max_schedules}");
        }
    }
}

#[test]
fn sampling_finds_the_race_says_its_bound_and_is_the_same_on_any_thread_count() {
    use ticketsim::harness::explore::{sample, Sampling};
    let scope = fixture("explore-u2r2");
    let bound = Scope {
        deviations: 2,
        latency_points: 2,
        max_schedules: 1_000_000,
        reduce: Reduce::SleepSets,
    };
    let sampling = Sampling { runs: 500, seed: 7 };
    let on = |occ, jobs| sample(&scope, occ, bound, sampling, jobs, &|_| {}).unwrap();
    let off = on(Occ::Off, 1);
    assert_eq!(on(Occ::Off, 2), off);
    let c = off
        .counterexample
        .clone()
        .expect("500 samples find a two-deviation race");
    assert_eq!(c.deviations.len(), 2);
    let s = off.sampled.clone().unwrap();
    // One sample picks k = d with probability 1/2, then each place with at least 1/widest.
    let w = s.widest as f64;
    assert!((s.per_run[0] - 1.0 / 2.0 / w).abs() < 1e-12);
    assert!((s.per_run[1] - 1.0 / 2.0 / (w * w)).abs() < 1e-12);
    assert!((s.over_all[1] - (1.0 - (1.0 - s.per_run[1]).powf(500.0))).abs() < 1e-12);
    // Its schedules are a subset of the bounded search's: no more failing ones than there.
    assert!(off.failing <= 8 && off.histories <= 197);
    assert_eq!(on(Occ::On, 2).failing, 0);
    // The tape of a sampled counterexample replays like any other.
    let (code, text, _) = ticketsim(&[
        "explore",
        "tests/fixtures/explore-u2r2.toml",
        "--strategy",
        "sample",
        "--runs",
        "500",
        "--seed",
        "7",
        "--occ",
        "off",
    ]);
    assert_eq!(code, 0);
    assert!(text.contains("Not a certificate."), "{text}");
    assert!(
        text.contains("Sampled: 500 samples of 1 to 2 deviations from the nominal run (seed 7)"),
        "{text}"
    );
}

#[test]
fn a_scoped_run_replays_scoped() {
    let (code, text, _) = ticketsim(&[
        "run",
        "scenarios/did-it-work.toml",
        "--scoped",
        "--seed",
        "3",
        "--occ",
        "off",
        "--print-tape",
    ]);
    assert_eq!(code, 0, "{text}");
    assert!(
        text.contains(
            "\nreproduce: ticketsim run scenarios/did-it-work.toml --scoped --seed 3 --occ off\n"
        ),
        "{text}"
    );
    let replay = text
        .lines()
        .find_map(|l| l.strip_prefix("replay: ticketsim "))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(
        replay.starts_with("run scenarios/did-it-work.toml --scoped --tape t1"),
        "{replay}"
    );
    let hash = |t: &str| {
        t.lines()
            .find_map(|l| l.split_once(" · trace ").map(|(_, h)| h.to_owned()))
    };
    let (code, again, stderr) = ticketsim(&replay.split(' ').collect::<Vec<_>>());
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(hash(&again), hash(&text));
    // Without --scoped the same tape does not fit the whole scenario.
    let whole: Vec<&str> = replay.split(' ').filter(|a| *a != "--scoped").collect();
    let (code, _, stderr) = ticketsim(&whole);
    assert_eq!(code, 2);
    assert!(stderr.contains("this tape no longer fits"), "{stderr}");
}

#[test]
fn review_findings_stay_fixed() {
    // A scope must be a valid scenario of its own: a crash of orders-4 with two replicas is not
    // (it used to panic in `explore`, `run --scoped` and `sweep`).
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("crash4.toml");
    std::fs::write(
        &file,
        "name = \"crash4\"\ndescription = \"d\"\n[topology]\norders-replicas = 4\n[faults]\ncrash = [{node=\"orders-4\", at-ms=3, restart-after-ms=20}]\n[[workload.price-chain]]\ntickets = 1\ntitle = \"t\"\nprice = 5\nupdates = [10]\n[explore]\nreplicas = 2\ndeviations = 1\noff = \"converges\"\n",
    )
    .unwrap();
    let (code, _, stderr) = ticketsim(&["explore", file.to_str().unwrap()]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("key `explore`: its scope is not a valid scenario: faults.crash[0].node: names orders-4, but topology.orders-replicas is 2"),
        "{stderr}"
    );
    // Sampling needs a deviation to place (it used to index out of bounds).
    let (code, _, stderr) = ticketsim(&[
        "explore",
        "tests/fixtures/explore-u2r2.toml",
        "--strategy",
        "sample",
        "--deviations",
        "0",
    ]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("give --deviations 1 or more"), "{stderr}");
    // A token claiming 2^50 deviations is refused, not allocated (it used to abort).
    let (code, _, stderr) = ticketsim(&[
        "run",
        "tests/fixtures/explore-u2r2.toml",
        "--tape",
        "t1gICAgICAgAIAgICAgICAgAI",
    ]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("is not a tape token (it is cut short)"),
        "{stderr}"
    );
}

/// Every catalogue scope's exploration, pinned: per mode, (schedules run, pruned, distinct
/// histories, failing, deviations of the counterexample). A change that moves one is a
/// decision: say in its commit which and why.
#[test]
fn every_catalogue_scope_explores_to_its_pinned_counts() {
    use ticketsim::harness::explore::{explore, target, Reduce};
    /// (schedules run, pruned, histories, failing, deviations of the counterexample).
    type Counts = (u64, u64, u64, u64, usize);
    const NONE: usize = usize::MAX;
    let pinned: &[(&str, Occ, Counts)] = &[
        ("cancelled-before-created", Occ::Off, (730, 170, 399, 60, 1)),
        ("cancelled-before-created", Occ::On, (740, 174, 402, 4, 2)),
        (
            "cancelled-before-created",
            Occ::Dedup,
            (740, 174, 402, 4, 2),
        ),
        // The same scope with the listeners taking an order's events in order: no schedule
        // leaves the ticket reserved by the cancelled order, or unsettled.
        (
            "cancelled-before-created-cured",
            Occ::Off,
            (738, 172, 401, 0, NONE),
        ),
        (
            "cancelled-before-created-cured",
            Occ::On,
            (738, 174, 401, 0, NONE),
        ),
        (
            "cancelled-before-created-cured",
            Occ::Dedup,
            (738, 174, 401, 0, NONE),
        ),
        ("crash-after-save", Occ::Off, (888, 39, 705, 307, 1)),
        ("crash-after-save", Occ::On, (914, 39, 731, 179, 1)),
        ("crash-after-save", Occ::Dedup, (866, 39, 683, 0, NONE)),
        ("crash-before-publish", Occ::Off, (525, 47, 174, 80, 1)),
        ("crash-before-publish", Occ::On, (525, 47, 174, 80, 1)),
        ("crash-before-publish", Occ::Dedup, (525, 47, 174, 80, 1)),
        // The same scope with a transactional outbox: no event is lost in any mode, but a
        // crash between a publish and its removal publishes a ticket:created twice, refused
        // forever without deduplication; with it every schedule converges.
        (
            "crash-before-publish-cured",
            Occ::Off,
            (1479, 128, 526, 96, 1),
        ),
        (
            "crash-before-publish-cured",
            Occ::On,
            (1513, 128, 560, 216, 1),
        ),
        (
            "crash-before-publish-cured",
            Occ::Dedup,
            (1441, 128, 488, 0, NONE),
        ),
        ("did-it-work", Occ::Off, (9982, 763, 6094, 762, 2)),
        ("did-it-work", Occ::On, (10566, 802, 6287, 0, NONE)),
        ("did-it-work", Occ::Dedup, (10566, 802, 6287, 0, NONE)),
        ("double-reservation", Occ::Off, (50, 16, 33, 44, 0)),
        ("double-reservation", Occ::On, (54, 17, 36, 48, 0)),
        ("double-reservation", Occ::Dedup, (54, 17, 36, 48, 0)),
        // The same scope with the unique partial index, one deviation further: no schedule
        // reserves the ticket twice.
        (
            "double-reservation-cured",
            Occ::Off,
            (567, 193, 268, 0, NONE),
        ),
        (
            "double-reservation-cured",
            Occ::On,
            (567, 193, 268, 0, NONE),
        ),
        (
            "double-reservation-cured",
            Occ::Dedup,
            (567, 193, 268, 0, NONE),
        ),
        ("duplicate-update", Occ::Off, (3062, 208, 2873, 1161, 1)),
        ("duplicate-update", Occ::On, (4561, 209, 4241, 3303, 1)),
        ("duplicate-update", Occ::Dedup, (2562, 209, 2372, 0, NONE)),
        (
            "edit-races-reservation",
            Occ::Off,
            (1839, 564, 1081, 125, 2),
        ),
        (
            "edit-races-reservation",
            Occ::On,
            (1827, 556, 1075, 0, NONE),
        ),
        (
            "edit-races-reservation",
            Occ::Dedup,
            (1827, 556, 1075, 0, NONE),
        ),
        ("missing-update-event", Occ::Off, (406, 144, 281, 0, NONE)),
        ("missing-update-event", Occ::On, (1035, 144, 825, 1035, 0)),
        (
            "missing-update-event",
            Occ::Dedup,
            (1035, 144, 825, 1035, 0),
        ),
        ("updated-before-created", Occ::Off, (500, 117, 346, 0, NONE)),
        ("updated-before-created", Occ::On, (500, 117, 346, 0, NONE)),
        (
            "updated-before-created",
            Occ::Dedup,
            (500, 117, 346, 0, NONE),
        ),
    ];
    let mut failed = Vec::new();
    for &(name, occ, expected) in pinned {
        let (scoped, bound) = target(&scenario(name), None, None, 2_000_000, Reduce::SleepSets);
        let e = explore(&scoped, occ, bound, 2, &|_| {}).unwrap();
        let first = e
            .counterexample
            .as_ref()
            .map_or(NONE, |c| c.deviations.len());
        let got = (e.schedules, e.pruned, e.histories, e.failing, first);
        if got != expected || e.cut_short {
            failed.push(format!("{name} {occ}: expected {expected:?}, got {got:?}"));
        }
    }
    assert!(failed.is_empty(), "{}", failed.join("\n"));
    // Every scenario with an [explore] table is pinned above.
    let tables = std::fs::read_dir(root().join("scenarios"))
        .unwrap()
        .filter(|e| {
            std::fs::read_to_string(e.as_ref().unwrap().path())
                .unwrap()
                .contains("\n[explore]\n")
        })
        .count();
    assert_eq!(tables * 3, pinned.len());
}

/// Crashes of one node strike early in the order of their times, not of the file: listing
/// crash-before-publish's two crashes of tickets the other way round explores the same. (The
/// second crash is given a longer restart, so that striking the wrong one early would show.)
#[test]
fn a_nodes_crashes_are_anchored_in_time_order_whatever_the_files_order() {
    use ticketsim::harness::explore::{explore, target, Reduce};
    let counts = |s: &ticketsim::Scenario| {
        let (scoped, bound) = target(s, None, None, 100_000, Reduce::SleepSets);
        let e = explore(&scoped, Occ::On, bound, 2, &|_| {}).unwrap();
        (e.schedules, e.pruned, e.failing, e.traces.all)
    };
    let mut file = scenario("crash-before-publish");
    file.faults.crash[1].restart_after_ms = 300;
    let mut reversed = file.clone();
    reversed.faults.crash.reverse();
    assert_ne!(file.faults.crash, reversed.faults.crash);
    assert_eq!(counts(&file), counts(&reversed));
}
