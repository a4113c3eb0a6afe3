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
use crate::sim::choice::{ChoiceCounts, Drive};
use crate::sim::exec::Halt;
use crate::sim::run::Ending;
use crate::sim::trace::Trace;
use serde::{Deserialize, Serialize};

/// What the evidence at hand (one run, a sweep, a shard of one) says of a declared
/// expectation. The same three words for a run and a sweep: `docs/outcomes.md`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// The evidence shows it (for an "on some seed" claim: a seed that shows it).
    Held,
    /// The evidence refutes it: `converges` on a seed that does not, or an "on some seed"
    /// claim that no seed of a whole sweep shows.
    Failed,
    /// An "on some seed" claim that this run, or this shard, does not show: a wider range
    /// decides (`ticketsim sweep` for a run, `ticketsim merge` for shards). Not a failure.
    Undecided,
}

impl Verdict {
    /// Every verdict.
    pub const ALL: [Verdict; 3] = [Verdict::Held, Verdict::Failed, Verdict::Undecided];

    /// The verdict as reports spell it (the terminal capitalises `FAILED`).
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Held => "held",
            Verdict::Failed => "failed",
            Verdict::Undecided => "undecided",
        }
    }

    /// The verdict as the terminal shows it.
    pub fn shout(self) -> &'static str {
        match self {
            Verdict::Failed => "FAILED",
            v => v.as_str(),
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
    /// The seed, when a seed drove the run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    /// The run's choice tape: the one that drove it (`--tape`), or the one it made, when asked
    /// for (`--print-tape`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tape: Option<String>,
    /// Whether the run was of its file's `[explore]` scope (`run --scoped`): its commands say
    /// so.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub scoped: bool,
    /// The choices the run made, by kind, when its tape was recorded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub choices: Option<ChoiceCounts>,
    /// The mode.
    pub occ: Occ,
    /// The verdict: stuck unless quiescent, else diverged unless the databases agree.
    pub outcome: Outcome,
    /// The two databases agree on every ticket (for a stuck run: where it stopped).
    pub databases_agree: bool,
    /// Everything acked and answered within the limits.
    pub quiescent: bool,
    /// Disagreements between the databases.
    pub divergences: Vec<Divergence>,
    /// Broken invariants: what sweep's violations column counts.
    pub violations: Vec<Violation>,
    /// Why the run is stuck (a redelivery loop, a limit hit); empty unless it is.
    pub why_stuck: Vec<Violation>,
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
        drive: &Drive,
        occ: Occ,
        findings: Findings,
        trace: &Trace,
        ending: &Ending,
    ) -> Self {
        let outcome = findings.outcome();
        let (violations, why_stuck): (Vec<Violation>, Vec<Violation>) = findings
            .violations
            .into_iter()
            .partition(Violation::is_invariant);
        let broken = |i| violations.iter().any(|v| v.invariant() == Some(i));
        let invariants_hold = violations.is_empty();
        let shows = |yes: bool| {
            if yes {
                Verdict::Held
            } else {
                Verdict::Undecided
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
                    Claim::Exercises(p) => shows(findings.exercised.contains(&p)),
                },
            })
            .collect();
        // What drove the run, and the command that drives it again. An explored schedule's
        // command is its recorded tape's, which the explorer fills in.
        let (seed, tape, reproduce) = match drive {
            Drive::Seed(seed) => (Some(*seed), None, reproduce(scenario, *seed, occ)),
            Drive::Tape(tape) => {
                let token = tape.token();
                let command = reproduce_tape(scenario, &token, occ);
                (None, Some(token), command)
            }
            Drive::Schedule(_) => (None, None, String::new()),
        };
        Report {
            scenario: scenario.name.clone(),
            seed,
            tape,
            choices: None,
            scoped: scenario.is_scope,
            occ,
            outcome,
            databases_agree: findings.databases_agree,
            quiescent: findings.quiescent,
            divergences: findings.divergences,
            violations,
            why_stuck,
            stats: findings.stats,
            price_counts: findings.price_counts,
            trace_hash: trace.hash(),
            sim_time_ms: sim_time_us(trace, ending) / 1000,
            exercised: findings.exercised,
            expectations,
            reproduce,
        }
    }

    /// Whether the run contradicts one of its scenario's expectations (exit code 1).
    pub fn expectation_failed(&self) -> bool {
        self.expectations
            .iter()
            .any(|e| e.verdict == Verdict::Failed)
    }

    /// The command that replays this run's choices from `token`.
    pub fn reproduce_by_tape(&self, scenario: &Scenario, token: &str) -> String {
        reproduce_tape(scenario, token, self.occ)
    }

    /// The report as pretty JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a report always serializes")
    }
}

/// The command that reproduces one run of `scenario`, ready to paste into a shell.
pub fn reproduce(scenario: &Scenario, seed: u64, occ: Occ) -> String {
    format!("{} --seed {seed} --occ {occ}", run_command(scenario))
}

/// `ticketsim run FILE`, with `--scoped` when `scenario` is its file's `[explore]` scope.
fn run_command(scenario: &Scenario) -> String {
    format!(
        "ticketsim run {}{}",
        shell_quote(&scenario.source.display().to_string()),
        if scenario.is_scope { " --scoped" } else { "" }
    )
}

/// The command that replays `token` on `scenario`, ready to paste into a shell.
pub fn reproduce_tape(scenario: &Scenario, token: &str, occ: Occ) -> String {
    format!(
        "{} --tape {} --occ {occ}",
        run_command(scenario),
        shell_quote(token)
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
        Halt::TimeLimit | Halt::StepLimit | Halt::Redundant => ending.now_us,
    }
}
