//! A sweep's report: per scenario × mode tallies, expectations judged over the range, the
//! baseline comparison and the combined hash; as JSON, as a terminal summary, and merged from
//! the reports of a sweep's shards.

use super::{HashSum, Outcomes, Plan, Seeds, Shard, Tally};
use crate::baseline::BaselineCheck;
use crate::domain::Occ;
use crate::scenario::{Claim, Scenario};
use serde::{Deserialize, Serialize};
use std::fmt::Write as _;
use tabled::builder::Builder;
use tabled::settings::Style;

/// A whole sweep (or one shard of it).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SweepReport {
    /// Which part of the sweep this is (`1/1` for all of it).
    pub shard: Shard,
    /// Runs in the whole sweep, all shards together.
    pub total_runs: u64,
    /// Runs this report covers.
    pub runs: u64,
    /// One per scenario and mode.
    pub groups: Vec<GroupReport>,
    /// Runs that panicked: bugs in ticketsim.
    pub panics: Vec<Panicked>,
    /// The comparison with the committed baselines, with `--check`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baseline: Option<BaselineCheck>,
    /// The sum of every run's report hash: equal for every `--jobs`, and the shards' hashes
    /// add up (wrapping) to the whole sweep's.
    pub combined_hash: HashSum,
    /// No expectation failed, no run panicked, no baseline mismatch.
    pub passed: bool,
}

/// One scenario in one mode.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GroupReport {
    /// The scenario's name.
    pub scenario: String,
    /// Its file, as given.
    pub file: String,
    /// The mode.
    pub occ: Occ,
    /// The seed range.
    pub seeds: Seeds,
    /// What happened.
    #[serde(flatten)]
    pub tally: Tally,
    /// The smallest seed that diverged, got stuck or broke an invariant.
    pub first_failing_seed: Option<u64>,
    /// The command that reproduces that seed.
    pub reproduce: Option<String>,
    /// The scenario's expectations for this mode, judged over the range.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub expectations: Vec<Judgement>,
}

/// An expectation judged over a range of seeds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Judgement {
    /// What the scenario declares.
    pub expected: Claim,
    /// What the sweep says of it.
    pub verdict: RangeVerdict,
    /// Why, in a sentence.
    pub why: String,
}

/// The verdict on an expectation over a range.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RangeVerdict {
    /// It holds over the range.
    Held,
    /// The range refutes it.
    Failed,
    /// "On some seed", and this shard has none: the merged shards decide (`ticketsim merge`).
    Undecided,
}

impl RangeVerdict {
    /// The verdict as the summary spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            RangeVerdict::Held => "held",
            RangeVerdict::Failed => "FAILED",
            RangeVerdict::Undecided => "undecided",
        }
    }
}

/// A run that panicked.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Panicked {
    /// The scenario's name.
    pub scenario: String,
    /// The mode.
    pub occ: Occ,
    /// The seed.
    pub seed: u64,
    /// The panic's message.
    pub message: String,
    /// The command that reproduces it.
    pub reproduce: String,
}

fn judge(expected: Claim, t: &Tally, whole: bool) -> Judgement {
    use RangeVerdict::{Failed, Held, Undecided};
    let first = |seeds: &[u64]| {
        seeds
            .first()
            .map_or(String::new(), |s| format!(" (first: seed {s})"))
    };
    // An "on some seed" claim: held if `n` seeds show it, else failed, or undecided in a shard.
    let some = |n: u64, what: String, seeds: &[u64]| match (n, whole) {
        (0, true) => (Failed, format!("no seed of {} {what}", t.runs)),
        (0, false) => (
            Undecided,
            format!(
                "no seed of this shard's {} {what}; merge the shards to judge",
                t.runs
            ),
        ),
        (n, _) => (
            Held,
            format!("{n} of {} seeds {what}{}", t.runs, first(seeds)),
        ),
    };
    let (verdict, why) = match expected {
        Claim::Converges => {
            if t.converged == t.runs && t.violations == 0 {
                (Held, format!("all {} seeds converged", t.runs))
            } else {
                let mut failed = Vec::new();
                if t.diverged > 0 {
                    failed.push(format!(
                        "{} diverged{}",
                        t.diverged,
                        first(&t.diverged_seeds)
                    ));
                }
                if t.stuck > 0 {
                    failed.push(format!("{} got stuck{}", t.stuck, first(&t.stuck_seeds)));
                }
                if t.violations > 0 {
                    failed.push(format!(
                        "{} broke an invariant{}",
                        t.violations,
                        first(&t.violation_seeds)
                    ));
                }
                (
                    Failed,
                    format!("of {} seeds, {}", t.runs, failed.join(", ")),
                )
            }
        }
        Claim::DivergesOnSomeSeed => some(t.diverged, "diverged".into(), &t.diverged_seeds),
        Claim::StuckOnSomeSeed => some(t.stuck, "got stuck".into(), &t.stuck_seeds),
        Claim::Violates(i) => {
            let seeds = t.invariant_seeds.get(&i).map_or(&[][..], Vec::as_slice);
            some(seeds.len() as u64, format!("broke {i}"), seeds)
        }
        Claim::Exercises(p) => {
            let n = t.exercised.get(&p).copied().unwrap_or(0);
            some(n, format!("exercised {p}"), &[])
        }
    };
    Judgement {
        expected,
        verdict,
        why,
    }
}

impl GroupReport {
    fn new(scenario: &Scenario, occ: Occ, seeds: Seeds, tally: Tally, whole: bool) -> GroupReport {
        let mut g = GroupReport {
            scenario: scenario.name.clone(),
            file: scenario.source.display().to_string(),
            occ,
            seeds,
            tally,
            first_failing_seed: None,
            reproduce: None,
            expectations: scenario
                .expect
                .get(occ)
                .into_iter()
                .map(|e| Judgement {
                    expected: e,
                    verdict: RangeVerdict::Undecided,
                    why: String::new(),
                })
                .collect(),
        };
        g.rejudge(whole);
        g
    }

    /// Recompute what derives from the tally.
    fn rejudge(&mut self, whole: bool) {
        self.first_failing_seed = self.tally.first_failing_seed();
        self.reproduce = self.first_failing_seed.map(|seed| {
            format!(
                "ticketsim run {} --seed {seed} --occ {}",
                self.file, self.occ
            )
        });
        for j in &mut self.expectations {
            *j = judge(j.expected, &self.tally, whole);
        }
    }

    fn count(&self, verdict: RangeVerdict) -> usize {
        self.expectations
            .iter()
            .filter(|j| j.verdict == verdict)
            .count()
    }

    fn failed(&self) -> bool {
        self.count(RangeVerdict::Failed) > 0
    }
}

impl SweepReport {
    /// The report of a finished sweep.
    pub fn new(
        scenarios: &[Scenario],
        plan: &Plan,
        outcomes: Outcomes,
        baseline: Option<BaselineCheck>,
    ) -> SweepReport {
        let whole = plan.shard.is_whole();
        let groups = plan
            .groups
            .iter()
            .zip(outcomes.tallies)
            .map(|(g, tally)| {
                GroupReport::new(&scenarios[g.scenario], g.occ, g.seeds, tally, whole)
            })
            .collect();
        let mut report = SweepReport {
            shard: plan.shard,
            total_runs: plan.total_runs(),
            runs: 0,
            groups,
            panics: outcomes.panics,
            baseline,
            combined_hash: HashSum::default(),
            passed: false,
        };
        report.sum_up();
        report
    }

    fn sum_up(&mut self) {
        self.runs =
            self.groups.iter().map(|g| g.tally.runs).sum::<u64>() + self.panics.len() as u64;
        self.combined_hash = HashSum::default();
        for g in &self.groups {
            self.combined_hash.add(g.tally.hash.0);
        }
        let mismatched = self
            .baseline
            .as_ref()
            .is_some_and(|b| !b.mismatches.is_empty());
        self.passed =
            self.panics.is_empty() && !mismatched && !self.groups.iter().any(GroupReport::failed);
    }

    /// Combine the reports of every shard of one sweep into the report of the whole sweep.
    pub fn merge(parts: Vec<SweepReport>) -> Result<SweepReport, String> {
        let mut parts = parts;
        parts.sort_by_key(|p| p.shard.index);
        let Some(first) = parts.first() else {
            return Err("no shard reports to merge".into());
        };
        let count = first.shard.count;
        let indices: Vec<u64> = parts.iter().map(|p| p.shard.index).collect();
        if parts.iter().any(|p| p.shard.count != count)
            || indices != (1..=count).collect::<Vec<_>>()
        {
            let have: Vec<String> = parts.iter().map(|p| p.shard.to_string()).collect();
            return Err(format!(
                "the reports must be every shard of one sweep, once each (1/{count} to {count}/{count}); got {}",
                have.join(", ")
            ));
        }
        let key = |g: &GroupReport| (g.scenario.clone(), g.file.clone(), g.occ, g.seeds);
        let mut parts = parts.into_iter();
        let mut whole = parts.next().expect("checked above");
        for part in parts {
            let same = whole.total_runs == part.total_runs
                && whole.groups.len() == part.groups.len()
                && whole
                    .groups
                    .iter()
                    .zip(&part.groups)
                    .all(|(a, b)| key(a) == key(b))
                && whole.baseline.is_some() == part.baseline.is_some();
            if !same {
                return Err(format!(
                    "shard {} is not a shard of the same sweep as shard 1: its scenarios, modes, seeds or --check differ",
                    part.shard
                ));
            }
            for (into, g) in whole.groups.iter_mut().zip(part.groups) {
                into.tally.merge(g.tally);
            }
            whole.panics.extend(part.panics);
            if let (Some(into), Some(b)) = (&mut whole.baseline, part.baseline) {
                into.compared += b.compared;
                into.mismatches.extend(b.mismatches);
            }
        }
        whole.shard = Shard::WHOLE;
        for g in &mut whole.groups {
            g.rejudge(true);
        }
        whole
            .panics
            .sort_by(|a, b| (&a.scenario, a.occ, a.seed).cmp(&(&b.scenario, b.occ, b.seed)));
        if let Some(b) = &mut whole.baseline {
            b.mismatches.sort();
        }
        whole.sum_up();
        Ok(whole)
    }

    /// The report as pretty JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a sweep report always serializes")
    }

    /// The terminal summary. It does not mention the number of threads: it is the same text
    /// whatever `--jobs`.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let scenarios = {
            let mut names: Vec<&str> = self.groups.iter().map(|g| g.scenario.as_str()).collect();
            names.dedup();
            names.len()
        };
        let mut ranges: Vec<String> = self.groups.iter().map(|g| g.seeds.to_string()).collect();
        ranges.sort();
        ranges.dedup();
        let _ = write!(
            out,
            "ticketsim sweep · {scenarios} scenario{} · seeds {} · {} runs",
            plural(scenarios),
            ranges.join(", "),
            self.total_runs
        );
        if !self.shard.is_whole() {
            let _ = write!(out, " · shard {}: {} of them", self.shard, self.runs);
        }
        out.push('\n');

        let mut table = Builder::default();
        table.push_record([
            "scenario",
            "occ",
            "seeds",
            "converged",
            "diverged",
            "stuck",
            "violations",
            "first failing",
            "expectation",
        ]);
        for g in &self.groups {
            let t = &g.tally;
            let n = g.expectations.len();
            let expectation = match (
                g.count(RangeVerdict::Failed),
                g.count(RangeVerdict::Undecided),
            ) {
                _ if n == 0 => "—".to_owned(),
                (0, 0) => format!("{n}/{n} held"),
                (0, u) => format!("{}/{n} held, {u} undecided", n - u),
                (f, _) => format!("{f}/{n} FAILED"),
            };
            table.push_record([
                g.scenario.clone(),
                g.occ.to_string(),
                t.runs.to_string(),
                t.converged.to_string(),
                t.diverged.to_string(),
                t.stuck.to_string(),
                t.violations.to_string(),
                g.first_failing_seed
                    .map_or("—".to_owned(), |s| s.to_string()),
                expectation,
            ]);
        }
        let _ = writeln!(out, "{}", table.build().with(Style::rounded()));
        let declared: Vec<&GroupReport> = self
            .groups
            .iter()
            .filter(|g| !g.expectations.is_empty())
            .collect();
        if !declared.is_empty() {
            let _ = writeln!(out, "\nexpectations:");
            for g in declared {
                let claims: Vec<String> = g
                    .expectations
                    .iter()
                    .map(|j| format!("{} {}", j.expected, j.verdict.as_str()))
                    .collect();
                let _ = writeln!(out, "  {} · {}: {}", g.scenario, g.occ, claims.join(" · "));
            }
        }

        let failing: Vec<&GroupReport> = self
            .groups
            .iter()
            .filter(|g| g.reproduce.is_some())
            .collect();
        if !failing.is_empty() {
            let _ = writeln!(out, "\nfirst failing seed of each row, to reproduce:");
            for g in failing {
                let _ = writeln!(
                    out,
                    "  {} · {}: {}",
                    g.scenario,
                    g.occ,
                    g.reproduce.as_deref().unwrap_or_default()
                );
            }
        }
        let undecided: usize = self
            .groups
            .iter()
            .map(|g| g.count(RangeVerdict::Undecided))
            .sum();
        for g in &self.groups {
            for j in g
                .expectations
                .iter()
                .filter(|j| j.verdict == RangeVerdict::Failed)
            {
                let _ = writeln!(
                    out,
                    "\nEXPECTATION FAILED: {} · occ {} expects `{}`, but {}.",
                    g.scenario, g.occ, j.expected, j.why
                );
                if let (Claim::Converges, Some(r)) = (j.expected, &g.reproduce) {
                    let _ = writeln!(out, "  reproduce: {r}");
                }
            }
        }
        if undecided > 0 {
            let _ = writeln!(
                out,
                "\n{undecided} \"on some seed\" expectation{} not seen in this shard: `ticketsim merge` of all shards' --json reports judges {}.",
                plural(undecided),
                if undecided == 1 { "it" } else { "them" }
            );
        }
        for p in &self.panics {
            let _ = writeln!(
                out,
                "\nPANIC (a bug in ticketsim, please report it): {} · occ {} · seed {}: {}\n  reproduce: {}",
                p.scenario, p.occ, p.seed, p.message, p.reproduce
            );
        }
        if let Some(b) = &self.baseline {
            if b.mismatches.is_empty() {
                let _ = writeln!(out, "\nbaselines: all {} seeds match", b.compared);
            } else {
                let _ = writeln!(
                    out,
                    "\nBASELINE CHANGED: {} of {} seeds have a new outcome:",
                    b.mismatches.len(),
                    b.compared
                );
                for m in &b.mismatches {
                    let _ = writeln!(
                        out,
                        "  {} · occ {} · seed {}: baseline {}, now {}\n    reproduce: {}",
                        m.scenario, m.occ, m.seed, m.baseline, m.now, m.reproduce
                    );
                }
                let _ = writeln!(
                    out,
                    "  If the change is intended, record it: ticketsim sweep --update-baselines"
                );
            }
        }
        let _ = writeln!(
            out,
            "\ncombined hash {}{}",
            self.combined_hash,
            if self.shard.is_whole() {
                ""
            } else {
                " (this shard's; the shards' hashes add up to the whole sweep's)"
            }
        );
        let _ = writeln!(out, "{}", if self.passed { "PASSED" } else { "FAILED" });
        out
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}
