//! The outcomes of one scenario in one mode over a seed range, added up: counts, sorted seed
//! lists and a commutative hash of the runs' reports.
//!
//! A tally is a sum, so the result is the same whatever the number of threads and whichever
//! order runs finish in, and the tallies of a sweep's shards add up to the whole sweep's.

use crate::check::findings::{Outcome, Stats};
use crate::present::report::Report;
use crate::scenario::expect::{Invariant, Property};
use crate::sim::hash::StableHasher;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::hash::Hasher;
use std::str::FromStr;

/// The outcomes of one group's runs, added up.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Tally {
    /// Seeds run.
    pub runs: u64,
    /// Seeds that converged (and quiesced).
    pub converged: u64,
    /// Seeds that quiesced with the databases disagreeing.
    pub diverged: u64,
    /// Seeds that did not quiesce: a redelivery loop or a limit.
    pub stuck: u64,
    /// Seeds that broke an invariant (whatever their outcome).
    pub violations: u64,
    /// The diverged seeds, ascending.
    pub diverged_seeds: Vec<u64>,
    /// The stuck seeds, ascending.
    pub stuck_seeds: Vec<u64>,
    /// The seeds that broke an invariant, ascending.
    pub violation_seeds: Vec<u64>,
    /// The seeds that broke each invariant, ascending (invariants no seed broke are absent).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub invariant_seeds: BTreeMap<Invariant, Vec<u64>>,
    /// How many seeds exercised each property the scenario is meant to exercise.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub exercised: BTreeMap<Property, u64>,
    /// Counts over all runs.
    pub stats: Stats,
    /// The wrapping sum of the runs' report hashes, as 16 hex digits: independent of the
    /// order runs finish in, and additive over shards.
    pub hash: HashSum,
}

impl Tally {
    pub(crate) fn add_run(&mut self, seed: u64, run: &RunSummary) {
        self.runs += 1;
        match run.outcome {
            Outcome::Converged => self.converged += 1,
            Outcome::Diverged => {
                self.diverged += 1;
                self.diverged_seeds.push(seed);
            }
            Outcome::Stuck => {
                self.stuck += 1;
                self.stuck_seeds.push(seed);
            }
        }
        if !run.broken.is_empty() {
            self.violations += 1;
            self.violation_seeds.push(seed);
        }
        for &i in &run.broken {
            self.invariant_seeds.entry(i).or_default().push(seed);
        }
        for &p in &run.exercised {
            *self.exercised.entry(p).or_default() += 1;
        }
        self.stats.add(&run.stats);
        self.hash.add(run.digest);
    }

    /// Add another tally of the same group (another thread's or another shard's).
    pub fn merge(&mut self, other: Tally) {
        self.runs += other.runs;
        self.converged += other.converged;
        self.diverged += other.diverged;
        self.stuck += other.stuck;
        self.violations += other.violations;
        merge_sorted(&mut self.diverged_seeds, other.diverged_seeds);
        merge_sorted(&mut self.stuck_seeds, other.stuck_seeds);
        merge_sorted(&mut self.violation_seeds, other.violation_seeds);
        for (i, seeds) in other.invariant_seeds {
            merge_sorted(self.invariant_seeds.entry(i).or_default(), seeds);
        }
        for (p, n) in other.exercised {
            *self.exercised.entry(p).or_default() += n;
        }
        self.stats.add(&other.stats);
        self.hash.add(other.hash.0);
    }

    /// The smallest seed that diverged, got stuck or broke an invariant.
    pub fn first_failing_seed(&self) -> Option<u64> {
        [
            &self.diverged_seeds,
            &self.stuck_seeds,
            &self.violation_seeds,
        ]
        .into_iter()
        .filter_map(|seeds| seeds.first().copied())
        .min()
    }

    /// What happened to `seed`, if this tally ran it (the caller knows that it did).
    pub fn class_of(&self, seed: u64) -> SeedClass {
        SeedClass::of(
            seed,
            &self.diverged_seeds,
            &self.stuck_seeds,
            &self.violation_seeds,
        )
    }
}

fn merge_sorted(into: &mut Vec<u64>, more: Vec<u64>) {
    into.extend(more);
    into.sort_unstable();
}

/// A seed's result as a sweep keeps it: the outcome and whether an invariant broke.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SeedClass {
    /// The outcome.
    pub outcome: Outcome,
    /// Whether an invariant broke.
    pub invariant_broken: bool,
}

impl SeedClass {
    /// The class of `seed` given the sorted seed lists of a tally or a baseline; a seed in
    /// neither outcome list converged.
    pub fn of(seed: u64, diverged: &[u64], stuck: &[u64], violation: &[u64]) -> SeedClass {
        let outcome = if diverged.binary_search(&seed).is_ok() {
            Outcome::Diverged
        } else if stuck.binary_search(&seed).is_ok() {
            Outcome::Stuck
        } else {
            Outcome::Converged
        };
        SeedClass {
            outcome,
            invariant_broken: violation.binary_search(&seed).is_ok(),
        }
    }
}

impl fmt::Display for SeedClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.outcome.as_str())?;
        if self.invariant_broken {
            f.write_str(" with an invariant violation")?;
        }
        Ok(())
    }
}

/// A commutative, additive hash: the wrapping sum of 64-bit report hashes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub struct HashSum(pub u64);

impl HashSum {
    /// Add one hash.
    pub fn add(&mut self, h: u64) {
        self.0 = self.0.wrapping_add(h);
    }
}

impl fmt::Display for HashSum {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}", self.0)
    }
}

impl FromStr for HashSum {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        u64::from_str_radix(s, 16)
            .map(HashSum)
            .map_err(|_| format!("`{s}` is not a 16-digit hex hash"))
    }
}

serde_as_string!(HashSum);

/// What a sweep keeps of one run.
pub(crate) struct RunSummary {
    outcome: Outcome,
    /// The invariants it broke, each once, in order.
    broken: Vec<Invariant>,
    exercised: Vec<Property>,
    stats: Stats,
    digest: u64,
}

impl RunSummary {
    pub(crate) fn of(mut report: Report) -> RunSummary {
        // The reproducing command spells the scenario's path as it was given; the hash must
        // not depend on the working directory.
        report.reproduce.clear();
        let json = serde_json::to_vec(&report).expect("a report always serializes");
        let mut h = StableHasher::default();
        h.write(&json);
        let mut broken: Vec<Invariant> = report
            .violations
            .iter()
            .filter_map(|v| v.invariant())
            .collect();
        broken.sort_unstable();
        broken.dedup();
        RunSummary {
            outcome: report.outcome,
            broken,
            exercised: report.exercised,
            stats: report.stats,
            digest: h.finish(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merged_tallies_do_not_depend_on_order() {
        let run = |outcome, invariant_broken: bool, digest| RunSummary {
            outcome,
            broken: if invariant_broken {
                vec![Invariant::AtMostOneActiveOrder]
            } else {
                vec![]
            },
            exercised: vec![Property::Redelivery],
            stats: Stats {
                delivered: 3,
                ..Stats::default()
            },
            digest,
        };
        let mut a = Tally::default();
        a.add_run(4, &run(Outcome::Diverged, false, 1));
        a.add_run(9, &run(Outcome::Stuck, true, 2));
        let mut b = Tally::default();
        b.add_run(2, &run(Outcome::Diverged, false, u64::MAX));
        b.add_run(3, &run(Outcome::Converged, false, 5));
        let mut ab = a.clone();
        ab.merge(b.clone());
        let mut ba = b;
        ba.merge(a);
        assert_eq!(ab, ba);
        assert_eq!(ab.diverged_seeds, [2, 4]);
        assert_eq!(ab.first_failing_seed(), Some(2));
        assert_eq!(
            ab.hash,
            HashSum(8u64.wrapping_add(u64::MAX)),
            "1 + 2 + 5 + MAX"
        );
        assert_eq!(ab.stats.delivered, 12);
        assert_eq!(ab.exercised[&Property::Redelivery], 4);
        assert_eq!(ab.invariant_seeds[&Invariant::AtMostOneActiveOrder], [9]);
        assert_eq!(
            ab.class_of(9),
            SeedClass {
                outcome: Outcome::Stuck,
                invariant_broken: true
            }
        );
        assert_eq!(ab.class_of(3).outcome, Outcome::Converged);
    }
}
