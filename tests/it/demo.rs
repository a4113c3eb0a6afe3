//! `ticketsim demo` and `ticketsim shrink`: the story, the shrinking, the diagrams, the files.

use crate::support::*;
use std::path::Path;
use ticketsim::harness::demo::explored::{ScopeStory, HEADING};
use ticketsim::harness::demo::{Cure, Demo, DEFAULT_SEED};
use ticketsim::harness::shrink::{self, Budget, Failure, Shrunk, Size};
use ticketsim::present::diagram;
use ticketsim::present::paint::Paint;
use ticketsim::present::story::{Mark, Story};
use ticketsim::Occ;
use ticketsim::Scenario;

const PLAIN: Paint = Paint { enabled: false };

fn budget(jobs: usize) -> Budget {
    Budget {
        jobs,
        ..Budget::default()
    }
}

/// The demo of the course's script, as `ticketsim demo` builds it (files under reports/demo).
fn did_it_work_demo() -> Demo {
    Demo::build(
        &scenario("did-it-work"),
        DEFAULT_SEED,
        budget(2),
        Path::new("reports/demo"),
        &|_| {},
    )
    .unwrap()
}

/// Shrink `name` at `seed` in `occ` the way `ticketsim shrink` does.
fn shrink_run(name: &str, seed: u64, occ: Occ, jobs: usize) -> (Scenario, Failure, Shrunk) {
    let s = scenario(name);
    let failure = Failure::of(&ticketsim::run(&s, seed, occ).report).expect("the run fails");
    let fails =
        move |c: &Scenario, seed: u64| failure.shown_by(&ticketsim::run(c, seed, occ).report);
    let shrunk = shrink::shrink(&s, seed, budget(jobs), &fails, &|_| {});
    (s, failure, shrunk)
}

#[test]
fn the_demo_tells_the_pinned_story() {
    let demo = did_it_work_demo();
    let text = demo.render(PLAIN);
    assert!(!text.contains('\x1b'), "plain text has no colour codes");
    insta::assert_snapshot!(text);
}

/// The replay command of `text`'s line that holds `--scoped --tape` and ends with `--occ occ`,
/// as the arguments after `ticketsim`.
fn replay_args(text: &str, occ: &str) -> Vec<String> {
    let line = text
        .lines()
        .map(str::trim)
        .find(|l| l.contains(" --scoped --tape ") && l.ends_with(&format!("--occ {occ}")))
        .unwrap_or_else(|| panic!("no --occ {occ} replay command in:\n{text}"));
    let args: Vec<String> = line.split_whitespace().map(str::to_owned).collect();
    assert_eq!(args[0], "ticketsim", "{line}");
    args[1..].to_vec()
}

#[test]
fn the_demo_tells_the_first_failing_schedule_of_the_scope() {
    let demo = did_it_work_demo();
    let text = demo.render(PLAIN);
    let explored = demo
        .explored
        .as_ref()
        .expect("did-it-work has an [explore] table");
    // Pinned: without OCC, the first failing schedule needs two deviations (the table claims
    // fails-within-2), and none with fewer fails.
    let c = explored
        .off
        .counterexample
        .as_ref()
        .expect("a failing schedule");
    assert_eq!(c.deviations.len(), 2);
    let told = explored.told.as_ref().expect("told");
    assert_eq!(told.counterexample, *c);
    assert_eq!(told.off.report.outcome, ticketsim::Outcome::Diverged);
    assert!(
        told.off.story.has_stale_write(),
        "the story shows the stale write"
    );
    // The same deviations with OCC make the same schedule, and it converges after a refusal.
    let on = told.on.as_ref().expect("the same schedule with OCC");
    assert_eq!(on.report.outcome, ticketsim::Outcome::Converged);
    assert!(on.report.violations.iter().all(|v| !v.is_invariant()));
    assert!(on.story.has_refusal());
    // With OCC, every schedule within the bound converges: the table's claim, certified.
    let (_, on_explored) = explored.on.as_ref().expect("the table claims on");
    assert!(on_explored.passed() && !on_explored.cut_short);
    // The section comes after the shrunk run and before the files, and says all this.
    let at = |s: &str| text.find(s).unwrap_or_else(|| panic!("{s:?} in:\n{text}"));
    assert!(at("The smallest run that fails the same way") < at(HEADING));
    assert!(at(HEADING) < at("\nWritten\n"));
    // Words, not line breaks: the section's paragraphs are wrapped.
    let flat = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
    let section = flat(&text[at(HEADING)..at("\nWritten\n")]);
    for said in [
        "None with fewer than 2 deviations fails; the first that fails needs 2:",
        "  1. a delivery is slow: its latency falls in the slow tail (choice 5)",
        "  2. then a database call takes its longest ordinary latency (choice 11)",
        "What happened to ticket 1 in that schedule without OCC (--occ off)",
        "The same schedule with OCC (--occ on)",
        &c.reproduce,
        &format!(
            "With OCC, every schedule within 4 deviations converges ({} of them pruned as equivalent to ones that ran): all {} that ran.",
            on_explored.pruned, on_explored.schedules
        ),
    ] {
        assert!(section.contains(&flat(said)), "{said:?} in:\n{section}");
    }
    // The Markdown holds it too.
    let markdown = demo.markdown();
    assert!(markdown.contains(&format!("## {HEADING}")));
    assert!(markdown.contains(&c.reproduce));
}

#[test]
fn the_demos_replay_commands_replay_the_schedule_in_both_modes() {
    let text = did_it_work_demo().render(PLAIN);
    for (occ, outcome) in [("off", "diverged"), ("on", "converged")] {
        let mut args = replay_args(&text, occ);
        args.push("--json".to_owned());
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let (code, stdout, stderr) = ticketsim(&args);
        assert_ne!(code, 2, "{args:?}: {stderr}");
        let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
        assert_eq!(report["outcome"], outcome, "{args:?}");
        assert_eq!(report["scoped"], true);
        if occ == "off" {
            assert_eq!(report["divergences"][0]["field"], "price");
        } else {
            assert!(report["stats"]["failed_handlers"].as_u64().unwrap() >= 1);
        }
    }
}

#[test]
fn the_explored_section_is_the_same_on_any_number_of_threads() {
    let s = scenario("did-it-work");
    let one = ScopeStory::build(&s, Cure::of(&s), None, 1)
        .unwrap()
        .unwrap();
    let four = ScopeStory::build(&s, Cure::of(&s), None, 4)
        .unwrap()
        .unwrap();
    assert_eq!(one.render(PLAIN), four.render(PLAIN));
    assert_eq!(one.markdown(), four.markdown());
}

#[test]
fn a_scenario_without_an_explore_table_has_no_explored_section() {
    let s = scenario("price-burst");
    assert!(s.explore.is_none());
    assert!(ScopeStory::build(&s, Cure::of(&s), None, 2)
        .unwrap()
        .is_none());
    let demo = Demo::build(
        &s,
        DEFAULT_SEED,
        budget(2),
        Path::new("reports/demo"),
        &|_| {},
    )
    .unwrap();
    assert!(demo.explored.is_none());
    assert!(!demo.render(PLAIN).contains(HEADING));
    assert!(!demo.markdown().contains(HEADING));
}

#[test]
fn the_story_shows_the_stale_write_then_the_refusal_and_the_cure() {
    let demo = did_it_work_demo();
    let told = demo.told.as_ref().expect("seed 4 diverges without OCC");
    assert_eq!(told.failure, Failure::Diverged { field: "price" });
    let marks = |s: &Story| s.steps.iter().map(|s| s.mark).collect::<Vec<_>>();
    // Without OCC: exactly one stale write, and it is the ticket's last write.
    let off = marks(&told.off);
    assert_eq!(off.iter().filter(|&&m| m == Mark::Stale).count(), 1);
    assert!(
        told.off.ending.contains("they disagree"),
        "{}",
        told.off.ending
    );
    // With OCC: an event is refused, and later applied in order; both databases agree.
    let on = marks(&told.on);
    let refused = on
        .iter()
        .position(|&m| m == Mark::Refused)
        .expect("a refusal");
    let applied = on.iter().position(|&m| m == Mark::Applied).expect("a cure");
    assert!(refused < applied);
    assert!(!on.contains(&Mark::Stale));
    assert!(
        told.on.ending.starts_with("Both databases end with"),
        "{}",
        told.on.ending
    );
    // The table is the course's check: 15 in each database, per mode.
    assert_eq!(demo.price(), Some(15));
}

#[test]
fn the_shrunk_did_it_work_has_at_most_two_updates_and_two_replicas() {
    let demo = did_it_work_demo();
    let told = demo.told.as_ref().unwrap();
    let size = Size::of(&told.minimal);
    assert!(size.price_updates <= 2 && size.replicas <= 2, "{size}");
    // Pinned: one ticket, its two updates, one replica, seed 199.
    assert_eq!(
        (
            size.tickets,
            size.price_updates,
            size.replicas,
            told.shrunk.seed
        ),
        (1, 2, 1, 199)
    );
    assert_eq!(told.minimal.workload.price_chain[0].updates, vec![10, 15]);
    // It fails the same way without OCC, and OCC cures it after refusing an event.
    assert!(told.failure.shown_by(&told.minimal_off.report));
    let on = &told.minimal_on.report;
    assert_eq!(on.outcome, ticketsim::Outcome::Converged);
    assert!(on.stats.failed_handlers >= 1);
}

#[test]
fn shrinking_is_deterministic_on_any_number_of_threads() {
    let (_, _, one) = shrink_run("did-it-work", 4, Occ::Off, 1);
    let (_, _, again) = shrink_run("did-it-work", 4, Occ::Off, 1);
    let (_, _, four) = shrink_run("did-it-work", 4, Occ::Off, 4);
    assert_eq!(one, again);
    assert_eq!(
        one, four,
        "the result and its tries do not depend on threads"
    );
}

/// Each kind of failure shrinks to a pinned minimal run that still fails the same way.
#[test]
fn shrunk_runs_still_fail_the_same_way() {
    /// (tickets, price updates, replicas, order requests, faults) of the minimal run.
    type Shape = (u64, u64, u32, u64, usize);
    let cases: [(&str, u64, Occ, &str, Shape, u64); 5] = [
        // scenario, seed, mode, failure, shape, the minimal run's seed
        (
            "did-it-work",
            4,
            Occ::Off,
            "diverged price",
            (1, 2, 1, 0, 0),
            199,
        ),
        (
            "crash-before-publish",
            3,
            Occ::On,
            "diverged price",
            (1, 2, 1, 0, 1),
            7,
        ),
        (
            "crash-after-save",
            1,
            Occ::On,
            "redelivery-loop ticket:created",
            (1, 0, 1, 0, 2),
            0,
        ),
        (
            "double-reservation",
            0,
            Occ::Off,
            "violates at-most-one-active-order",
            (1, 0, 1, 2, 0),
            0,
        ),
        (
            "edit-races-reservation",
            1,
            Occ::Off,
            "violates no-edit-of-reserved-ticket",
            (1, 1, 1, 1, 0),
            1,
        ),
    ];
    for (name, seed, occ, kind, size, minimal_seed) in cases {
        let (original, failure, shrunk) = shrink_run(name, seed, occ, 2);
        let described = match failure {
            Failure::Diverged { field } => format!("diverged {field}"),
            Failure::RedeliveryLoop { subject } => format!("redelivery-loop {subject}"),
            Failure::Violates { invariant } => format!("violates {invariant}"),
            Failure::Unfinished => "unfinished".to_owned(),
        };
        assert_eq!(described, kind, "{name}");
        let s = Size::of(&shrunk.scenario);
        assert_eq!(
            (s.tickets, s.price_updates, s.replicas, s.orders, s.faults),
            size,
            "{name}: {s}"
        );
        assert_eq!(shrunk.seed, minimal_seed, "{name}");
        assert!(s.tickets < Size::of(&original).tickets);
        let rerun = ticketsim::run(&shrunk.scenario, shrunk.seed, occ).report;
        assert!(
            failure.shown_by(&rerun),
            "{name}: the minimal run fails the same way"
        );
    }
}

#[test]
fn the_minimal_file_reads_back_as_the_same_scenario_and_run() {
    let (original, failure, shrunk) = shrink_run("crash-before-publish", 3, Occ::On, 2);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("minimal.toml");
    let (minimal, text) =
        shrink::minimal_file(&shrunk, &original, 3, Occ::On, failure, &path).unwrap();
    assert!(
        text.starts_with("# crash-before-publish, shrunk:"),
        "{text}"
    );
    assert!(text.contains(&format!("--seed {} --occ on", shrunk.seed)));
    let reread = Scenario::parse(&text, &path).unwrap();
    assert_eq!(reread, minimal, "TOML round trip");
    let expected = ticketsim::run(&minimal, shrunk.seed, Occ::On).report;
    shrink::write_minimal(&text, &path, shrunk.seed, Occ::On, &expected).unwrap();
    let from_file = ticketsim::run(&Scenario::load(&path).unwrap(), shrunk.seed, Occ::On).report;
    assert_eq!(from_file.trace_hash, expected.trace_hash);
    // A file that does not reproduce the run is refused, not written silently.
    let mut other = expected.clone();
    other.trace_hash = "0000000000000000".into();
    let err = shrink::write_minimal(&text, &path, shrunk.seed, Occ::On, &other).unwrap_err();
    assert!(err.to_string().contains("does not reproduce"), "{err}");
}

#[test]
fn the_svg_is_well_formed_xml_and_marks_the_stale_write_and_the_refusal() {
    let demo = did_it_work_demo();
    let svg = demo.svg().unwrap();
    let doc = roxmltree::Document::parse(&svg).expect("well-formed XML");
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "svg");
    assert_eq!(
        root.tag_name().namespace(),
        Some("http://www.w3.org/2000/svg")
    );
    let texts: Vec<&str> = doc
        .descendants()
        .filter(|n| n.has_tag_name("text"))
        .filter_map(|n| n.text())
        .collect();
    for lane in [
        "tickets service",
        "NATS Streaming",
        "orders-1",
        "orders database",
    ] {
        assert_eq!(
            texts.iter().filter(|t| **t == lane).count(),
            2,
            "{lane} heads both panels"
        );
    }
    assert!(texts.iter().any(|t| t.contains("stale write")));
    assert!(texts.iter().any(|t| t.contains("refused")));
    assert!(
        texts.iter().any(|t| t.contains("later")),
        "the ack wait is a gap"
    );
}

#[test]
fn mermaid_draws_every_lane_and_marks_the_stale_write() {
    let demo = did_it_work_demo();
    let told = demo.told.as_ref().unwrap();
    let off = diagram::mermaid(&told.minimal_off_story);
    assert!(off.starts_with("sequenceDiagram\n"));
    assert_eq!(off.matches("    participant ").count(), 4);
    let stale = off.find("stale write").expect("the stale write is named");
    let rect = off[..stale]
        .rfind("rect rgb(255, 205, 210)")
        .expect("and coloured");
    assert!(!off[rect..stale].contains("\n    end\n"));
    assert!(!off.contains("#1 "), "# is escaped for Mermaid: {off}");
    let on = diagram::mermaid(&told.minimal_on_story);
    assert!(
        on.contains("-xN: "),
        "the refusal is a crossed arrow to NATS"
    );
    assert!(on.contains("Note over T,DB: ⋯ "), "the ack wait is a gap");
}

#[test]
fn a_reservation_story_tells_the_orders() {
    let (_, _, shrunk) = shrink_run("double-reservation", 0, Occ::Off, 2);
    let result = ticketsim::run(&shrunk.scenario, shrunk.seed, Occ::Off);
    let story = Story::of(&result.trace, &result.report, 1, 1);
    let text = story.render(&|_, t| t.to_owned());
    assert_eq!(text.matches("no order holds it").count(), 2, "{text}");
    assert_eq!(text.matches("places order").count(), 2, "{text}");
    assert!(text.contains("marks ticket 1 reserved by order"), "{text}");
    assert!(
        text.contains("Broken: ticket 1 reserved by 2 orders at once"),
        "the story names the broken invariant: {text}"
    );
    assert!(!text.contains("Why it worked"), "{text}");
}

#[test]
fn the_committed_demo_files_are_what_the_demo_writes() {
    let demo = did_it_work_demo();
    let told = demo.told.as_ref().unwrap();
    let committed = |name: &str| {
        std::fs::read_to_string(root().join("reports/demo").join(name)).unwrap_or_else(|e| {
            panic!("reports/demo/{name}: {e}; run `cargo run --release -- demo`")
        })
    };
    assert_eq!(committed("did-it-work.md"), demo.markdown());
    assert_eq!(committed("did-it-work.svg"), demo.svg().unwrap());
    assert_eq!(committed("did-it-work.minimal.toml"), told.minimal_toml);
    assert_eq!(
        committed("did-it-work.html"),
        ticketsim::harness::view::demo_page(&demo).unwrap()
    );
}

#[test]
fn demo_writes_its_files_and_prints_plain_text_when_piped() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().to_str().unwrap();
    let (code, stdout, stderr) = ticketsim(&["demo", "--out", out]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr
            .lines()
            .all(|l| l.starts_with("note: the commands above start with `ticketsim`")),
        "no progress drawn when piped: {stderr}"
    );
    assert!(!stdout.contains('\x1b'));
    assert!(stdout.starts_with("ticketsim demo · did-it-work · seed 4\n"));
    for file in [
        "did-it-work.md",
        "did-it-work.html",
        "did-it-work.svg",
        "did-it-work.minimal.toml",
    ] {
        assert!(dir.path().join(file).is_file(), "{file}");
        assert!(
            stdout.contains(&format!("{out}/{file}")),
            "{file} is listed"
        );
    }
    let (code, coloured, _) = ticketsim(&["demo", "--out", out, "--color", "always"]);
    assert_eq!(code, 0);
    assert!(coloured.contains("\x1b[1;31m"), "the stale write is red");
}

#[test]
fn shrink_writes_a_scenario_that_run_reproduces() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("min.toml");
    let file = file.to_str().unwrap();
    let (code, stdout, stderr) = ticketsim(&[
        "shrink",
        "scenarios/double-reservation.toml",
        "--seed",
        "0",
        "--occ",
        "off",
        "--out",
        file,
        "--json",
    ]);
    assert_eq!(code, 0, "{stderr}");
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(report["failure"]["kind"], "violates");
    assert_eq!(report["failure"]["invariant"], "at-most-one-active-order");
    assert_eq!(report["minimal"]["tickets"], 1);
    let seed = report["minimal_seed"].as_u64().unwrap().to_string();
    assert_eq!(
        report["reproduce"],
        format!("ticketsim run {file} --seed {seed} --occ off")
    );
    let (_, run, _) = ticketsim(&["run", file, "--seed", &seed, "--occ", "off", "--json"]);
    let run: serde_json::Value = serde_json::from_str(&run).unwrap();
    assert_eq!(run["violations"][0]["kind"], "double-reservation");
}

#[test]
fn shrink_refuses_a_run_that_does_not_fail() {
    let (code, stdout, stderr) = ticketsim(&[
        "shrink",
        "scenarios/did-it-work.toml",
        "--seed",
        "4",
        "--occ",
        "on",
    ]);
    assert_eq!(code, 2);
    assert!(stdout.is_empty());
    assert!(
        stderr.contains("converges with seed 4 with --occ on: there is no failure to shrink"),
        "{stderr}"
    );
}

/// The demo shows each race beside the mode its scenario expects to cure it: OCC for the
/// course's script, OCC with deduplication for a duplicated event, and OCC as taught when no
/// mode cures the race.
#[test]
fn the_demo_shows_the_mode_that_cures_the_scenarios_race() {
    for (name, cure) in [
        ("did-it-work", Occ::On),
        ("edit-races-reservation", Occ::On),
        ("duplicate-update", Occ::Dedup),
        ("crash-after-save", Occ::Dedup),
        ("refusal-exits-replica", Occ::On),
    ] {
        assert_eq!(Cure::of(&scenario(name)), Cure::Mode(cure), "{name}");
    }
    // Without a [cure] table, the expectations say: double-reservation expects no mode to
    // converge, so OCC as taught.
    let mut undeclared = scenario("double-reservation");
    undeclared.cure = None;
    assert_eq!(Cure::of(&undeclared), Cure::Mode(Occ::On));
    let out = std::env::temp_dir().join(format!("ticketsim-demo-cure-{}", std::process::id()));
    let demo = Demo::build(
        &scenario("duplicate-update"),
        DEFAULT_SEED,
        budget(2),
        &out,
        &|_| {},
    )
    .unwrap();
    assert_eq!(demo.cure, Cure::Mode(Occ::Dedup));
    assert_eq!(demo.on.report.occ, Occ::Dedup);
    let text = demo.render(PLAIN);
    for expected in [
        "│ with OCC and deduplication (--occ dedup) │",
        "The same ticket with OCC and deduplication (--occ dedup), same seed",
        "With OCC and deduplication it converges",
        "--occ dedup\n",
        "The same schedule with OCC and deduplication (--occ dedup)",
        "With OCC and deduplication, every schedule within 3 deviations converges",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in:\n{text}");
    }
    assert!(!text.contains("--occ on"), "{text}");
    assert!(demo
        .markdown()
        .starts_with("# duplicate-update, seed 6: the race, and deduplication's cure"));
}
