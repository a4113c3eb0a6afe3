//! A sweep's report: per scenario × mode tallies, each scenario's expectations judged over the
//! range, the baseline comparison, the runs that panicked and the combined hash. Its JSON is
//! what `ticketsim merge` reads back; [`crate::harness::sweep::render`] prints it.

use crate::harness::sweep::baseline::BaselineCheck;
use crate::harness::sweep::explored::ExploreJudgement;
use crate::harness::sweep::plan::{Plan, Seeds, Shard};
use crate::harness::sweep::tally::{HashSum, Tally};
use crate::harness::sweep::workers::{Outcomes, Panicked};
use crate::model::occ::Occ;
use crate::present::report::{shell_quote, Verdict};
use crate::scenario::expect::Claim;
use crate::scenario::schema::Scenario;
use crate::sim::hash::StableHasher;
use serde::{Deserialize, Serialize};

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
    /// The scenarios' `[explore]` claims, judged (by a whole sweep, or its shard 1).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub explorations: Vec<ExploreJudgement>,
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
    /// A hash of the scenario as it ran (every setting, not the file's comments): `merge`
    /// refuses shards that ran one file with different contents.
    #[serde(default)]
    pub scenario_hash: String,
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
    pub verdict: Verdict,
    /// Why, in a sentence.
    pub why: String,
}

fn judge(expected: Claim, t: &Tally, whole: bool) -> Judgement {
    use Verdict::{Failed, Held, Undecided};
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

/// A stable hash of every setting of `scenario`, as 16 hex digits. Its `[cure]` declaration,
/// which changes no run, is left out: declaring a cure moves no report.
pub fn scenario_hash(scenario: &Scenario) -> String {
    use std::hash::Hasher;
    let declared = Scenario {
        cure: None,
        ..scenario.clone()
    };
    let text = toml::to_string(&declared).expect("a scenario serializes");
    let mut h = StableHasher::default();
    h.write(text.as_bytes());
    format!("{:016x}", h.finish())
}

impl GroupReport {
    fn new(scenario: &Scenario, occ: Occ, seeds: Seeds, tally: Tally, whole: bool) -> GroupReport {
        let mut g = GroupReport {
            scenario: scenario.name.clone(),
            file: scenario.source.display().to_string(),
            scenario_hash: scenario_hash(scenario),
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
                    verdict: Verdict::Undecided,
                    why: String::new(),
                })
                .collect(),
        };
        g.rejudge(whole);
        g
    }

    /// Recompute what derives from the tally.
    pub(super) fn rejudge(&mut self, whole: bool) {
        self.first_failing_seed = self.tally.first_failing_seed();
        self.reproduce = self.first_failing_seed.map(|seed| {
            format!(
                "ticketsim run {} --seed {seed} --occ {}",
                shell_quote(&self.file),
                self.occ
            )
        });
        for j in &mut self.expectations {
            *j = judge(j.expected, &self.tally, whole);
        }
    }

    pub(super) fn count(&self, verdict: Verdict) -> usize {
        self.expectations
            .iter()
            .filter(|j| j.verdict == verdict)
            .count()
    }

    fn failed(&self) -> bool {
        self.count(Verdict::Failed) > 0
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
            explorations: Vec::new(),
            combined_hash: HashSum::default(),
            passed: false,
        };
        report.sum_up();
        report
    }

    pub(super) fn sum_up(&mut self) {
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
        let explored = self.explorations.iter().all(|e| e.verdict == Verdict::Held);
        self.passed = self.panics.is_empty()
            && !mismatched
            && explored
            && !self.groups.iter().any(GroupReport::failed);
    }

    /// Add the judgements of the scenarios' `[explore]` claims.
    pub fn add_explorations(&mut self, explorations: Vec<ExploreJudgement>) {
        self.explorations = explorations;
        self.sum_up();
    }

    /// The report as pretty JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a sweep report always serializes")
    }
}
