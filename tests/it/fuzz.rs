//! A fuzz test that stays: mutated scenario files. Reading one never panics, every refusal names
//! the file and a line, and every accepted scenario runs to an outcome within its limits.
//!
//! `cargo test --release fuzz` runs 200 cases; `PROPTEST_CASES=20000 cargo test --release
//! fuzz` runs a longer search (docs/scenarios.md says so). A failure prints the mutated file.

use crate::support::*;
use proptest::prelude::*;
use std::path::Path;
use ticketsim::{Occ, Scenario};

/// The texts the mutations start from: every bundled scenario.
fn seeds() -> Vec<String> {
    let mut paths: Vec<_> = std::fs::read_dir(root().join("scenarios"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    paths.sort();
    paths
        .iter()
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect()
}

/// Values a mutation may put in place of another.
const VALUES: [&str; 24] = [
    "0",
    "1",
    "-1",
    "7",
    "5000",
    "100000",
    "4294967296",
    "18446744073709551615",
    "1e400",
    "0.5",
    "-0.0",
    "nan",
    "\"\"",
    "\"orders-9\"",
    "\"tickets\"",
    "\"converges\"",
    "true",
    "[]",
    "[1, 2]",
    "[[1]]",
    "{}",
    "{ min-us = 1, max-us = 0 }",
    "\"../x\"",
    "\"after-response\"",
];

/// Keys a mutation may add.
const KEYS: [&str; 10] = [
    "tickets",
    "orders-replicas",
    "ack-wait-ms",
    "heal-at-ms",
    "lost-ack",
    "unhandled-rejection",
    "sim-time-ms",
    "deliveries-per-message",
    "typo-key",
    "updates",
];

/// One edit of a scenario's text.
#[derive(Clone, Debug)]
enum Edit {
    /// Replace the value of line `line` (after its `=`) with `VALUES[v]`.
    Value { line: usize, v: usize },
    /// Remove line `line`.
    Remove { line: usize },
    /// Repeat line `line`.
    Repeat { line: usize },
    /// Insert `KEYS[k] = VALUES[v]` before line `line`.
    Insert { line: usize, k: usize, v: usize },
    /// Cut the text at byte `at` (rounded to a character).
    Cut { at: usize },
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        4 => (any::<usize>(), 0..VALUES.len()).prop_map(|(line, v)| Edit::Value { line, v }),
        2 => any::<usize>().prop_map(|line| Edit::Remove { line }),
        1 => any::<usize>().prop_map(|line| Edit::Repeat { line }),
        2 => (any::<usize>(), 0..KEYS.len(), 0..VALUES.len())
            .prop_map(|(line, k, v)| Edit::Insert { line, k, v }),
        1 => any::<usize>().prop_map(|at| Edit::Cut { at }),
    ]
}

fn apply(text: &str, edit: &Edit) -> String {
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    if lines.is_empty() {
        lines.push(String::new());
    }
    let n = lines.len();
    match *edit {
        Edit::Value { line, v } => {
            let l = &mut lines[line % n];
            if let Some(eq) = l.find('=') {
                *l = format!("{}= {}", &l[..eq], VALUES[v]);
            }
        }
        Edit::Remove { line } => {
            lines.remove(line % n);
        }
        Edit::Repeat { line } => {
            let l = lines[line % n].clone();
            lines.insert(line % n, l);
        }
        Edit::Insert { line, k, v } => {
            lines.insert(line % n, format!("{} = {}", KEYS[k], VALUES[v]));
        }
        Edit::Cut { at } => {
            let mut cut = at % (text.len() + 1);
            while !text.is_char_boundary(cut) {
                cut -= 1;
            }
            return text[..cut].to_owned();
        }
    }
    lines.join("\n") + "\n"
}

/// Whether running `s` is cheap enough for the bounded test: the requests times the deliveries
/// a message may take, and the simulated time, stay small. (A longer search may raise it.)
fn cheap(s: &Scenario) -> bool {
    s.total_requests() * u64::from(s.limits.deliveries_per_message) <= 40_000
        && s.limits.sim_time_ms <= 3_600_000
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(200),
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn mutated_scenarios_are_read_or_refused_and_run(
        base in 0usize..64,
        edits in prop::collection::vec(edit(), 1..4),
        seed in 0u64..1000,
    ) {
        let bases = seeds();
        let mut text = bases[base % bases.len()].clone();
        for e in &edits {
            text = apply(&text, e);
        }
        match Scenario::parse(&text, Path::new("fuzz.toml")) {
            Err(error) => {
                let said = error.to_string();
                // The file, and a line: `fuzz.toml:LINE:COL: ...`.
                let line = said
                    .strip_prefix("fuzz.toml:")
                    .and_then(|rest| rest.split(':').next())
                    .and_then(|l| l.parse::<usize>().ok());
                prop_assert!(line.is_some(), "no line in {said:?} for:\n{text}");
            }
            Ok(scenario) if cheap(&scenario) => {
                let occ = Occ::ALL[(seed % 3) as usize];
                let report = ticketsim::run_report(&scenario, seed, occ);
                // An outcome within its limits: no later than the time limit allows.
                prop_assert!(report.sim_time_ms <= scenario.limits.sim_time_ms, "{text}");
            }
            Ok(_) => {}
        }
    }
}
