//! One vocabulary: `docs/outcomes.md` defines every outcome, verdict, invariant, claim and sweep
//! column the program prints, and a run, its JSON and a sweep of the same seed use those words
//! with one meaning.

use crate::support::*;
use ticketsim::present::report::Verdict;
use ticketsim::scenario::expect::{Claim, Invariant, Property};
use ticketsim::Outcome;

/// The first cell of every table row of docs/outcomes.md, without its backquotes.
fn defined() -> Vec<String> {
    let doc = std::fs::read_to_string(root().join("docs/outcomes.md")).unwrap();
    doc.lines()
        .filter_map(|l| l.strip_prefix("| `"))
        .filter_map(|l| l.split_once("` |"))
        .map(|(word, _)| word.to_owned())
        .collect()
}

#[test]
fn the_outcomes_page_defines_every_word_the_reports_use() {
    let defined = defined();
    let missing = |words: Vec<String>| -> Vec<String> {
        words.into_iter().filter(|w| !defined.contains(w)).collect()
    };
    let outcomes = Outcome::ALL.iter().map(|o| o.as_str().to_owned()).collect();
    assert_eq!(missing(outcomes), Vec::<String>::new(), "outcomes");
    let verdicts = Verdict::ALL.iter().map(|v| v.shout().to_owned()).collect();
    assert_eq!(missing(verdicts), Vec::<String>::new(), "verdicts");
    let invariants = Invariant::ALL
        .iter()
        .map(|i| i.as_str().to_owned())
        .collect();
    assert_eq!(missing(invariants), Vec::<String>::new(), "invariants");
    // Every claim form, with its invariant or property written as a placeholder.
    let i = Invariant::ALL[0];
    let p = Property::ALL[0];
    let claims = [
        Claim::Converges.to_string(),
        Claim::DivergesOnSomeSeed.to_string(),
        Claim::StuckOnSomeSeed.to_string(),
        Claim::Violates(i)
            .to_string()
            .replace(i.as_str(), "<invariant>"),
        Claim::Exercises(p)
            .to_string()
            .replace(p.as_str(), "<property>"),
    ];
    assert_eq!(missing(claims.to_vec()), Vec::<String>::new(), "claims");
    // The sweep's columns, read from its header row.
    let (_, stdout, _) = ticketsim(&[
        "sweep",
        "scenarios/did-it-work.toml",
        "--seeds",
        "0..1",
        "--occ",
        "on",
    ]);
    let header = stdout
        .lines()
        .find(|l| l.contains("scenario") && l.contains("expectation"))
        .unwrap_or_else(|| panic!("{stdout}"));
    let columns: Vec<String> = header
        .split('│')
        .map(str::trim)
        .filter(|c| !c.is_empty() && *c != "scenario" && *c != "occ")
        .map(str::to_owned)
        .collect();
    assert_eq!(columns.len(), 7, "{header}");
    assert_eq!(missing(columns), Vec::<String>::new(), "sweep columns");
}

/// crash-after-save without OCC, seed 21: a replica crash-loops, so the run never settles,
/// and where it stopped 79 of its 200 tickets differ.
#[test]
fn a_stuck_run_whose_databases_disagree_is_stuck_everywhere() {
    let args = [
        "run",
        "scenarios/crash-after-save.toml",
        "--seed",
        "23",
        "--occ",
        "off",
    ];
    let (code, text, _) = ticketsim(&args);
    assert_eq!(code, 0, "{text}");
    assert!(
        text.contains(
            "outcome: STUCK — the run never settled; where it stopped, 80 of 200 tickets differ\n"
        ),
        "{text}"
    );
    assert!(text.contains("\n  stuck: redelivery loop: "), "{text}");
    assert!(!text.contains("violation:"), "{text}");
    // Its claims: a stuck seed shows stuck-on-some-seed, and leaves diverges-on-some-seed to a
    // sweep.
    assert!(
        text.contains(
            "  diverges-on-some-seed — undecided: this seed does not show it; `ticketsim sweep` judges it over seeds\n  stuck-on-some-seed — held: this seed shows it\n"
        ),
        "{text}"
    );

    let (_, json, _) = ticketsim(&[&args[..], &["--json"]].concat());
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["outcome"], "stuck");
    assert_eq!(v["quiescent"], false);
    assert_eq!(v["databases_agree"], false);
    assert_eq!(v["violations"], serde_json::json!([]));
    assert_eq!(v["why_stuck"][0]["kind"], "redelivery-loop");
    let verdicts: Vec<(&str, &str)> = v["expectations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["expected"].as_str().unwrap(),
                e["verdict"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        verdicts,
        [
            ("diverges-on-some-seed", "undecided"),
            ("stuck-on-some-seed", "held"),
            ("exercises-crash-after-write", "held"),
        ]
    );

    // The sweep of that one seed counts it stuck, not diverged, and no violation; over one
    // seed, diverges-on-some-seed fails, and the cell says so the way every cell does.
    let (code, sweep, _) = ticketsim(&[
        "sweep",
        "scenarios/crash-after-save.toml",
        "--seeds",
        "23..24",
        "--occ",
        "off",
    ]);
    assert_eq!(code, 1, "{sweep}");
    assert!(
        sweep.contains(
            "│ crash-after-save │ off │ 1     │ 0         │ 0        │ 1     │ 0          │ 23            │ 2/3 held, 1 FAILED │"
        ),
        "{sweep}"
    );
    assert!(
        sweep.contains("expects `diverges-on-some-seed`, but no seed of 1 diverged."),
        "{sweep}"
    );
}

#[test]
fn a_run_that_converges_and_breaks_an_invariant_says_both() {
    let (code, text, _) = ticketsim(&[
        "run",
        "scenarios/double-reservation.toml",
        "--seed",
        "0",
        "--occ",
        "off",
    ]);
    assert_eq!(code, 0, "{text}");
    let headline = text
        .lines()
        .find(|l| l.starts_with("outcome: "))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(headline.starts_with("outcome: CONVERGED — "), "{headline}");
    assert!(headline.contains("invariant violation"), "{headline}");
    assert!(text.contains("\n  violation: "), "{text}");
    assert!(!text.contains("stuck:"), "{text}");
}
