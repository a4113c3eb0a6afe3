//! Seed sweeps: results independent of threads and shards, expectations judged over a range,
//! and the regression over the committed baselines.

use crate::support::*;
use std::num::NonZeroUsize;
use std::path::Path;
use ticketsim::harness::sweep::baseline::{self, Baseline};
use ticketsim::harness::sweep::{self, Plan, Seeds, Shard, SweepReport};
use ticketsim::present::report::Verdict;
use ticketsim::scenario::Scenario;
use ticketsim::Occ;
use ticketsim::Outcome;

fn jobs(n: usize) -> NonZeroUsize {
    NonZeroUsize::new(n).unwrap()
}

/// Scenarios with every kind of step: reordering alone, reservations, faults.
fn bundled() -> Vec<Scenario> {
    [
        "did-it-work",
        "price-burst",
        "edit-races-reservation",
        "cancelled-before-created",
        "duplicate-update",
    ]
    .map(scenario)
    .to_vec()
}

fn sweep(scenarios: &[Scenario], seeds: Seeds, shard: Shard, threads: usize) -> SweepReport {
    let plan = Plan::grid(scenarios.len(), &Occ::ALL, |_| seeds, shard);
    let outcomes = sweep::run(scenarios, &plan, jobs(threads), &|| {});
    SweepReport::new(scenarios, &plan, outcomes, None)
}

const SEEDS: Seeds = Seeds { start: 0, end: 40 };

#[test]
fn the_number_of_threads_does_not_change_the_report() {
    let scenarios = bundled();
    let one = sweep(&scenarios, SEEDS, Shard::WHOLE, 1);
    let three = sweep(&scenarios, SEEDS, Shard::WHOLE, 3);
    assert_eq!(one.to_json(), three.to_json());
    assert_eq!(one.render(), three.render());
    assert_eq!(one.runs, 5 * 3 * 40);
}

#[test]
fn shards_merge_into_exactly_the_whole_sweep() {
    let scenarios = bundled();
    let whole = sweep(&scenarios, SEEDS, Shard::WHOLE, 2);
    let parts: Vec<SweepReport> = (1..=3)
        .map(|index| sweep(&scenarios, SEEDS, Shard { index, count: 3 }, 2))
        .collect();
    assert_eq!(parts.iter().map(|p| p.runs).sum::<u64>(), whole.runs);
    let added = parts
        .iter()
        .fold(0u64, |h, p| h.wrapping_add(p.combined_hash.0));
    assert_eq!(added, whole.combined_hash.0);
    // Through JSON, as CI jobs hand them over, and in any order.
    let mut handed_over: Vec<SweepReport> = parts
        .iter()
        .rev()
        .map(|p| serde_json::from_str(&p.to_json()).unwrap())
        .collect();
    handed_over.swap(0, 1);
    let merged = SweepReport::merge(handed_over).unwrap();
    assert_eq!(merged.to_json(), whole.to_json());

    let missing = SweepReport::merge(parts[..2].to_vec()).unwrap_err();
    assert!(missing.contains("every shard of one sweep"), "{missing}");
}

#[test]
fn a_sweep_tallies_what_single_runs_find() {
    let scenarios = vec![scenario("did-it-work")];
    let seeds = Seeds { start: 0, end: 20 };
    let plan = Plan::grid(1, &[Occ::Off], |_| seeds, Shard::WHOLE);
    let tally = sweep::run(&scenarios, &plan, jobs(2), &|| {})
        .tallies
        .remove(0);
    let diverged: Vec<u64> = (0..20)
        .filter(|&seed| {
            ticketsim::run(&scenarios[0], seed, Occ::Off).report.outcome == Outcome::Diverged
        })
        .collect();
    assert_eq!(tally.diverged_seeds, diverged);
    assert_eq!(tally.converged + tally.diverged, 20);
    // The pinned seeds of the core: all but 2 and 10 diverge.
    assert_eq!(tally.converged, 2);
    assert_eq!(tally.first_failing_seed(), Some(0));
}

/// did-it-work with the expectations turned around.
fn misjudged() -> Scenario {
    let text = std::fs::read_to_string(root().join("scenarios/did-it-work.toml")).unwrap();
    // Its [expect] table only: the [explore] table's claims stay out of it.
    let text = text.split("[explore]").next().unwrap();
    let text = text
        .replace("off = \"diverges-on-some-seed\"", "off = \"converges\"")
        .replace("on = \"converges\"", "on = \"diverges-on-some-seed\"")
        .replace("dedup = \"converges\"", "dedup = \"stuck-on-some-seed\"");
    Scenario::parse(&text, Path::new("scenarios/misjudged.toml")).unwrap()
}

#[test]
fn expectations_are_judged_over_the_range() {
    let scenarios = vec![misjudged()];
    let report = sweep(&scenarios, Seeds { start: 0, end: 10 }, Shard::WHOLE, 2);
    let verdicts: Vec<_> = report
        .groups
        .iter()
        .map(|g| {
            let j = &g.expectations[0];
            (g.occ, j.verdict, j.why.as_str())
        })
        .collect();
    assert_eq!(
        verdicts,
        [
            (
                Occ::Off,
                Verdict::Failed,
                "of 10 seeds, 10 diverged (first: seed 0)"
            ),
            (Occ::On, Verdict::Failed, "no seed of 10 diverged"),
            (Occ::Dedup, Verdict::Failed, "no seed of 10 got stuck"),
        ]
    );
    assert!(!report.passed);
    let text = report.render();
    assert!(
        text.contains("EXPECTATION FAILED: did-it-work · occ off expects `converges`, but of 10 seeds, 10 diverged (first: seed 0).\n  reproduce: ticketsim run scenarios/misjudged.toml --seed 0 --occ off"),
        "{text}"
    );
    assert!(text.ends_with("FAILED\n"));

    // The bundled expectations hold on the same seeds.
    assert!(
        sweep(
            &[scenario("did-it-work")],
            Seeds { start: 0, end: 10 },
            Shard::WHOLE,
            2
        )
        .passed
    );
}

#[test]
fn a_shard_leaves_some_seed_expectations_to_the_merge() {
    // Seeds 12..15 of did-it-work off: 12 diverges, 13 and 14 converge. Shard 2/3 of the
    // single group holds only seed 13, so it cannot tell whether "diverges on some seed" holds.
    let scenarios = vec![scenario("did-it-work")];
    let seeds = Seeds { start: 12, end: 15 };
    let part = |index| {
        let plan = Plan::grid(1, &[Occ::Off], |_| seeds, Shard { index, count: 3 });
        SweepReport::new(
            &scenarios,
            &plan,
            sweep::run(&scenarios, &plan, jobs(1), &|| {}),
            None,
        )
    };
    let second = part(2);
    let j = &second.groups[0].expectations[0];
    assert_eq!(j.verdict, Verdict::Undecided);
    assert!(
        second.passed,
        "an undecided shard does not fail CI on its own"
    );
    let merged = SweepReport::merge(vec![part(1), second, part(3)]).unwrap();
    let j = &merged.groups[0].expectations[0];
    assert_eq!(
        (j.verdict, j.why.as_str()),
        (Verdict::Held, "1 of 3 seeds diverged (first: seed 12)")
    );
}

/// The regression suite: every bundled scenario, every mode, every seed of its baseline's
/// range, against the outcomes committed in reports/. `ticketsim sweep --check` does the same.
#[test]
fn every_scenario_matches_its_committed_baseline() {
    let paths = catalogue_files();
    assert!(paths.len() >= 2);
    let scenarios: Vec<Scenario> = paths.iter().map(|p| Scenario::load(p).unwrap()).collect();
    let baselines: Vec<Baseline> = scenarios
        .iter()
        .map(|s| Baseline::load_for(&root().join("reports"), s).unwrap())
        .collect();
    let plan = Plan::grid(
        scenarios.len(),
        &Occ::ALL,
        |i| baselines[i].seeds,
        Shard::WHOLE,
    );
    let outcomes = sweep::run(&scenarios, &plan, sweep::default_jobs(), &|| {});
    let check = baseline::check(&plan, &scenarios, &baselines, &outcomes.tallies);
    let report = SweepReport::new(&scenarios, &plan, outcomes, Some(check.clone()));
    assert!(check.mismatches.is_empty(), "{}", report.render());
    assert_eq!(check.compared, plan.total_runs());
    assert!(report.passed, "{}", report.render());
}

#[test]
fn sweep_check_names_every_seed_whose_outcome_changed() {
    let reports = tempfile::tempdir().unwrap();
    let dir = reports.path().to_str().unwrap();
    let args = ["sweep", "scenarios/price-burst.toml", "--reports", dir];
    let (code, _, stderr) =
        ticketsim(&[&args[..], &["--update-baselines", "--seeds", "0..4"]].concat());
    assert_eq!(code, 0, "{stderr}");
    let (code, stdout, _) = ticketsim(&[&args[..], &["--check"]].concat());
    assert_eq!(code, 0, "{stdout}");
    assert!(stdout.contains("baselines: all 12 seeds match"), "{stdout}");

    // Pretend seed 0 converged without OCC when the baseline was written.
    let file = reports.path().join("price-burst.baseline.toml");
    let written = std::fs::read_to_string(&file).unwrap();
    let edited = written
        .replacen(
            "converged = 0\ndiverged = 4",
            "converged = 1\ndiverged = 3",
            1,
        )
        .replacen("    0, 1, 2, 3,", "    1, 2, 3,", 1);
    assert_ne!(
        edited, written,
        "seeds 0..4 of price-burst all diverge without OCC"
    );
    std::fs::write(&file, edited).unwrap();
    let (code, stdout, _) = ticketsim(&[&args[..], &["--check"]].concat());
    assert_eq!(code, 1, "{stdout}");
    assert!(
        stdout.contains("BASELINE CHANGED: 1 of 12 seeds have a new outcome:\n  price-burst · occ off · seed 0: baseline converged, now diverged\n    reproduce: ticketsim run scenarios/price-burst.toml --seed 0 --occ off\n"),
        "{stdout}"
    );
    assert!(stdout.ends_with("FAILED\n"));
}

#[test]
fn update_baselines_writes_what_is_committed() {
    let reports = tempfile::tempdir().unwrap();
    let dir = reports.path().to_str().unwrap();
    let (code, stdout, stderr) = ticketsim(&["sweep", "--update-baselines", "--reports", dir]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    for name in ["did-it-work", "price-burst"] {
        let file = format!("{name}.baseline.toml");
        let written = std::fs::read_to_string(reports.path().join(&file)).unwrap();
        let committed = std::fs::read_to_string(root().join("reports").join(&file)).unwrap();
        assert_eq!(
            written, committed,
            "{file} is out of date: run `ticketsim sweep --update-baselines`"
        );
    }
    assert!(stderr.contains("wrote "), "{stderr}");
}

#[test]
fn sweep_prints_a_table_and_nothing_on_stderr_when_piped() {
    let (code, stdout, stderr) = ticketsim(&[
        "sweep",
        "scenarios/did-it-work.toml",
        "--seeds",
        "0..=9",
        "--jobs",
        "2",
    ]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    // No progress bar when stderr is not a terminal; only the note on how to paste the
    // commands shown, since the tests launch the binary by its path.
    assert!(
        stderr
            .lines()
            .all(|l| l.starts_with("note: the commands above start with `ticketsim`")),
        "{stderr}"
    );
    assert!(
        stdout.starts_with("ticketsim sweep · 1 scenario · seeds 0..10 · 30 runs\n"),
        "{stdout}"
    );
    assert!(stdout.contains("│ did-it-work │ off   │ 10    │ 0         │ 10       │ 0     │ 0          │ 0             │ 2/2 held    │"), "{stdout}");
    assert!(
        stdout.contains(
            "  did-it-work · off: diverges-on-some-seed held · exercises-reordering held\n"
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains(
            "  did-it-work · off: ticketsim run scenarios/did-it-work.toml --seed 0 --occ off\n"
        ),
        "{stdout}"
    );
    assert!(stdout.ends_with("PASSED\n"));
}

#[test]
fn sweep_json_has_the_documented_fields() {
    let (code, stdout, _) = ticketsim(&[
        "sweep",
        "scenarios/price-burst.toml",
        "--seeds",
        "0..4",
        "--occ",
        "on",
        "--json",
    ]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(v["runs"], 4);
    assert_eq!(v["passed"], true);
    assert_eq!(v["combined_hash"].as_str().unwrap().len(), 16);
    let g = &v["groups"][0];
    assert_eq!(g["scenario"], "price-burst");
    assert_eq!(g["occ"], "on");
    assert_eq!(g["seeds"], "0..4");
    assert_eq!(g["converged"], 4);
    assert_eq!(g["diverged_seeds"], serde_json::json!([]));
    assert_eq!(g["first_failing_seed"], serde_json::Value::Null);
    assert_eq!(g["expectations"][0]["expected"], "converges");
    assert_eq!(g["expectations"][0]["verdict"], "held");
    // Totals over the four runs: 5 tickets, each created and updated 20 times, per seed.
    let stats = &g["stats"];
    assert_eq!(stats["tickets"], 20);
    assert_eq!(stats["http_requests"], 4 * 5 * 21);
    let n = |k: &str| stats[k].as_u64().unwrap();
    assert_eq!(
        n("delivered"),
        n("acked") + n("dropped") + n("failed_handlers")
    );
}

#[test]
fn sweep_and_merge_usage_errors_exit_2() {
    let cases: &[(&[&str], &str)] = &[
        (&["sweep", "--seeds", "5..5"], "holds no seeds"),
        (&["sweep", "--seeds", "7"], "write A..B"),
        (&["sweep", "--shard", "3/2"], "K must be between 1 and N"),
        (
            &["sweep", "--update-baselines", "--shard", "1/2"],
            "cannot be used with",
        ),
        (
            &["sweep", "--check", "--seeds", "0..5"],
            "cannot be used with",
        ),
        (&["sweep", "--jobs", "0"], "--jobs"),
        (
            &["sweep", "--check", "--reports", "no/such/dir"],
            "no/such/dir/cancel-completed-order-cured.baseline.toml: cannot read the baseline",
        ),
        (&["sweep", "scenarios/nope.toml"], "scenarios/nope.toml"),
        (
            &["merge", "Cargo.toml"],
            "is not a `ticketsim sweep --json` report",
        ),
    ];
    for (args, needle) in cases {
        let (code, _, stderr) = ticketsim(args);
        assert_eq!(code, 2, "{args:?}: {stderr}");
        assert!(stderr.contains(needle), "{args:?}: {stderr}");
    }
}

#[test]
fn merge_combines_shard_files_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    for k in 1..=2 {
        let shard = format!("{k}/2");
        let (code, stdout, _) = ticketsim(&[
            "sweep",
            "scenarios/did-it-work.toml",
            "--seeds",
            "0..6",
            "--shard",
            &shard,
            "--json",
        ]);
        assert_eq!(code, 0);
        let file = dir.path().join(format!("shard-{k}.json"));
        std::fs::write(&file, stdout).unwrap();
        files.push(file.to_str().unwrap().to_owned());
    }
    let (code, merged, _) = ticketsim(&["merge", &files[1], &files[0], "--json"]);
    assert_eq!(code, 0);
    let (_, whole, _) = ticketsim(&[
        "sweep",
        "scenarios/did-it-work.toml",
        "--seeds",
        "0..6",
        "--json",
    ]);
    assert_eq!(merged, whole);
}
