//! A run's report (DESIGN §8): what the checks found, the outcome, the scenario's expectations
//! for the mode judged on this run, the trace's hash and the command that reproduces the run.
//! Its JSON has stable field names; [`crate::present::summary`] renders it for a terminal.
//!
//! The report is built from the checker's findings and the run's ending, after the run: the
//! runtime never sees it.

use crate::check::findings::{Divergence, Findings, Outcome, PriceCount, Stats, Violation};
use crate::model::occ::Occ;
use crate::scenario::expect::{Claim, Property};
use crate::scenario::schema::Scenario;
use crate::sim::exec::Halt;
use crate::sim::run::Ending;
use crate::sim::trace::Trace;
use serde::Serialize;

/// What one run says of a declared expectation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// This run agrees with it (for an "on some seed" claim: this seed is one).
    Held,
    /// This run refutes it.
    Failed,
    /// It is about a range of seeds and this seed does not show it: `ticketsim sweep` judges it.
    NeedsSweep,
    /// This run did not exercise what the scenario is meant to exercise. Not a failure of
    /// the run; a sweep where no seed exercises it fails.
    NotExercised,
}

impl Verdict {
    /// How the human summary says it.
    pub fn describe(self) -> &'static str {
        match self {
            Verdict::Held => "held",
            Verdict::Failed => "FAILED",
            Verdict::NeedsSweep => "not on this seed; `ticketsim sweep` judges it over a range",
            Verdict::NotExercised => "NOT EXERCISED by this run",
        }
    }
}

/// One of the scenario's expectations for the run's mode, and what the run says of it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct ExpectationCheck {
    /// What the scenario declares for this mode.
    pub expected: Claim,
    /// What this run says of it.
    pub verdict: Verdict,
}

/// Everything a run found.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Report {
    /// Scenario name.
    pub scenario: String,
    /// The seed.
    pub seed: u64,
    /// The mode.
    pub occ: Occ,
    /// The verdict.
    pub outcome: Outcome,
    /// No divergence.
    pub converged: bool,
    /// Everything acked and answered within the limits.
    pub quiescent: bool,
    /// Disagreements between the databases.
    pub divergences: Vec<Divergence>,
    /// Broken invariants and limits hit.
    pub violations: Vec<Violation>,
    /// Counts over the trace.
    pub stats: Stats,
    /// Tickets per price in each database (the course's check).
    pub price_counts: Vec<PriceCount>,
    /// Hash of the full trace: equal hashes, equal runs.
    pub trace_hash: String,
    /// Simulated time when the run ended.
    pub sim_time_ms: u64,
    /// Which of the properties the scenario is meant to exercise this run exercised.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub exercised: Vec<Property>,
    /// The scenario's expectations for this mode, each judged on this run.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub expectations: Vec<ExpectationCheck>,
    /// The command that reproduces this run.
    pub reproduce: String,
}

impl Report {
    /// Assemble the report of a finished run.
    pub fn new(
        scenario: &Scenario,
        seed: u64,
        occ: Occ,
        findings: Findings,
        trace: &Trace,
        ending: &Ending,
    ) -> Self {
        let outcome = findings.outcome();
        let broken = |i| findings.violations.iter().any(|v| v.invariant() == Some(i));
        let invariants_hold = !findings.violations.iter().any(Violation::is_invariant);
        let shows = |yes: bool| {
            if yes {
                Verdict::Held
            } else {
                Verdict::NeedsSweep
            }
        };
        let expectations = scenario
            .expect
            .get(occ)
            .into_iter()
            .map(|expected| ExpectationCheck {
                expected,
                verdict: match expected {
                    Claim::Converges if outcome == Outcome::Converged && invariants_hold => {
                        Verdict::Held
                    }
                    Claim::Converges => Verdict::Failed,
                    Claim::DivergesOnSomeSeed => shows(outcome == Outcome::Diverged),
                    Claim::StuckOnSomeSeed => shows(outcome == Outcome::Stuck),
                    Claim::Violates(i) => shows(broken(i)),
                    Claim::Exercises(p) if findings.exercised.contains(&p) => Verdict::Held,
                    Claim::Exercises(_) => Verdict::NotExercised,
                },
            })
            .collect();
        Report {
            scenario: scenario.name.clone(),
            seed,
            occ,
            outcome,
            converged: findings.converged,
            quiescent: findings.quiescent,
            divergences: findings.divergences,
            violations: findings.violations,
            stats: findings.stats,
            price_counts: findings.price_counts,
            trace_hash: trace.hash(),
            sim_time_ms: sim_time_us(trace, ending) / 1000,
            exercised: findings.exercised,
            expectations,
            reproduce: reproduce(scenario, seed, occ),
        }
    }

    /// Whether the run contradicts one of its scenario's expectations (exit code 1).
    pub fn expectation_failed(&self) -> bool {
        self.expectations
            .iter()
            .any(|e| e.verdict == Verdict::Failed)
    }

    /// The report as pretty JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a report always serializes")
    }
}

/// The command that reproduces one run of `scenario`, ready to paste into a shell.
pub fn reproduce(scenario: &Scenario, seed: u64, occ: Occ) -> String {
    format!(
        "ticketsim run {} --seed {seed} --occ {occ}",
        shell_quote(&scenario.source.display().to_string())
    )
}

/// `word` as a POSIX shell reads it back: as it is when it holds only characters no shell
/// treats specially, else in single quotes (a quote inside written `'\''`).
pub fn shell_quote(word: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "_./:=@%+,-".contains(c);
    if !word.is_empty() && word.chars().all(plain) {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', "'\\''"))
    }
}

/// When the run's last observable step happened; for a run cut off by a limit, when it stopped.
/// (The bus's ack-wait timer may fire once more after the last ack and find nothing to do; that
/// wake-up is not part of what the run did.)
fn sim_time_us(trace: &Trace, ending: &Ending) -> u64 {
    match ending.halt {
        Halt::Idle => trace.last_t_us(),
        Halt::TimeLimit | Halt::StepLimit => ending.now_us,
    }
}
