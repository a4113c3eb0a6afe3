//! A sweep's judgement of its scenarios' `[explore]` claims: each claimed mode explored over
//! the table's scope and bound, and the claim held or failed. A whole sweep, and shard 1 of a
//! sharded one, explore; `merge` keeps shard 1's judgements.

use crate::harness::error::Error;
use crate::harness::explore::{explore, target, Reduce};
use crate::model::occ::Occ;
use crate::present::report::Verdict;
use crate::scenario::explore::{ExploreClaim, MAX_CLAIMED_SCHEDULES};
use crate::scenario::schema::Scenario;
use serde::{Deserialize, Serialize};

/// One `[explore]` claim, judged.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExploreJudgement {
    /// The scenario's name.
    pub scenario: String,
    /// The mode.
    pub occ: Occ,
    /// What the scenario claims.
    pub expected: ExploreClaim,
    /// The bound explored.
    pub deviations: u32,
    /// Schedules run.
    pub schedules: u64,
    /// Schedules pruned as equivalent to those run (the reduction of tie orders).
    #[serde(default)]
    pub pruned: u64,
    /// Of them, failing.
    pub failing: u64,
    /// The fewest deviations of a failing schedule, if one failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fewest_deviations: Option<u32>,
    /// Held or failed.
    pub verdict: Verdict,
    /// Why, in a sentence.
    pub why: String,
    /// The command that replays the smallest failing schedule, if one failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reproduce: Option<String>,
}

/// Judge every `[explore]` claim of `scenarios` for the `modes` a sweep runs, in order.
pub fn judge(
    scenarios: &[Scenario],
    modes: &[Occ],
    jobs: usize,
) -> Result<Vec<ExploreJudgement>, Error> {
    let mut out = Vec::new();
    for s in scenarios {
        let Some(table) = &s.explore else {
            continue;
        };
        let (scoped, scope) = target(s, None, None, MAX_CLAIMED_SCHEDULES, Reduce::default());
        for &occ in modes {
            let Some(expected) = table.claim(occ) else {
                continue;
            };
            let found = explore(&scoped, occ, scope, jobs, &|_| {})?;
            let fewest = found
                .counterexample
                .as_ref()
                .map(|c| c.deviations.len() as u32);
            let k = scope.deviations;
            let pruned = match found.pruned {
                0 => String::new(),
                p => format!("; {p} more pruned as equivalent to those"),
            };
            let (verdict, why) = match (expected, fewest) {
                _ if found.cut_short => (
                    Verdict::Failed,
                    format!(
                        "the exploration was cut short at {} schedules: make the [explore] scope or bound smaller",
                        found.schedules
                    ),
                ),
                (ExploreClaim::Converges, None) => (
                    Verdict::Held,
                    format!(
                        "all {} schedules within {k} deviations converged{pruned}",
                        found.schedules
                    ),
                ),
                (ExploreClaim::Converges, Some(d)) => (
                    Verdict::Failed,
                    format!(
                        "{} of {} schedules within {k} deviations fail, the first with {d}{pruned}",
                        found.failing, found.schedules
                    ),
                ),
                (ExploreClaim::FailsWithin(want), Some(d)) if d <= want => (
                    Verdict::Held,
                    format!(
                        "{} of {} schedules fail, the first with {d} deviation{}{pruned}",
                        found.failing,
                        found.schedules,
                        if d == 1 { "" } else { "s" }
                    ),
                ),
                (ExploreClaim::FailsWithin(want), _) => (
                    Verdict::Failed,
                    format!(
                        "no schedule with at most {want} deviations fails ({} schedules within {k}{pruned})",
                        found.schedules
                    ),
                ),
            };
            out.push(ExploreJudgement {
                scenario: s.name.clone(),
                occ,
                expected,
                deviations: k,
                schedules: found.schedules,
                pruned: found.pruned,
                failing: found.failing,
                fewest_deviations: fewest,
                verdict,
                why,
                reproduce: found.counterexample.map(|c| c.reproduce),
            });
        }
    }
    Ok(out)
}
