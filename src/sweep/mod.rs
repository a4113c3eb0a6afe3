//! Seed sweeps: every (scenario, mode, seed) of a [`Plan`] on worker threads, folded into one
//! [`Tally`] per scenario and mode.
//!
//! A tally is a sum: counts, sorted seed lists and a commutative hash of the reports. So the
//! result is the same whatever the number of threads and whichever order runs finish in, and
//! the tallies of the shards of a sweep add up to the tally of the whole sweep.

mod summary;

pub use summary::{GroupReport, Judgement, Panicked, RangeVerdict, SweepReport};

use crate::check::{Invariant, Property, Stats};
use crate::domain::Occ;
use crate::report::{reproduce, Outcome, Report};
use crate::scenario::Scenario;
use crate::trace::StableHasher;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::hash::Hasher;
use std::num::NonZeroUsize;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

/// The seeds of a sweep: `A..B`, from A up to but not including B.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub struct Seeds {
    /// The first seed.
    pub start: u64,
    /// One past the last seed.
    pub end: u64,
}

impl Seeds {
    /// The fixed regression range: what `--update-baselines` records unless told otherwise.
    pub const REGRESSION: Seeds = Seeds { start: 0, end: 500 };

    /// How many seeds.
    pub fn len(self) -> u64 {
        self.end - self.start
    }

    /// Whether there are none (never true for a parsed range).
    pub fn is_empty(self) -> bool {
        self.end <= self.start
    }

    /// Whether `seed` is in the range.
    pub fn contains(self, seed: u64) -> bool {
        (self.start..self.end).contains(&seed)
    }
}

impl fmt::Display for Seeds {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}..{}", self.start, self.end)
    }
}

impl FromStr for Seeds {
    type Err = String;

    /// `A..B` (B excluded) or `A..=B` (B included).
    fn from_str(s: &str) -> Result<Self, String> {
        let usage =
            || format!("`{s}` is not a seed range: write A..B (B excluded, e.g. 0..1000) or A..=B");
        let number = |n: &str| n.trim().parse::<u64>().map_err(|_| usage());
        let (start, end) = if let Some((a, b)) = s.split_once("..=") {
            let b = number(b)?;
            let end = b
                .checked_add(1)
                .ok_or_else(|| format!("`{s}`: the last seed is too large"))?;
            (number(a)?, end)
        } else if let Some((a, b)) = s.split_once("..") {
            (number(a)?, number(b)?)
        } else {
            return Err(usage());
        };
        if end <= start {
            return Err(format!(
                "`{s}` holds no seeds: the end must be above the start"
            ));
        }
        Ok(Seeds { start, end })
    }
}

serde_as_string!(Seeds);

/// Part K of N of a sweep (`K/N`, 1-based): the runs whose index in the whole sweep is K-1
/// modulo N. Interleaving keeps the shards equally heavy.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub struct Shard {
    /// K, from 1.
    pub index: u64,
    /// N.
    pub count: u64,
}

impl Shard {
    /// The whole sweep, `1/1`.
    pub const WHOLE: Shard = Shard { index: 1, count: 1 };

    /// Whether this shard is the whole sweep.
    pub fn is_whole(self) -> bool {
        self.count == 1
    }

    fn holds(self, global_index: u64) -> bool {
        global_index % self.count == self.index - 1
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl FromStr for Shard {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let usage = || format!("`{s}` is not a shard: write K/N, e.g. 1/4 for the first of four");
        let (k, n) = s.split_once('/').ok_or_else(usage)?;
        let index: u64 = k.trim().parse().map_err(|_| usage())?;
        let count: u64 = n.trim().parse().map_err(|_| usage())?;
        if count == 0 || index == 0 || index > count {
            return Err(format!(
                "`{s}`: K must be between 1 and N, and N at least 1"
            ));
        }
        Ok(Shard { index, count })
    }
}

serde_as_string!(Shard);

/// One scenario in one mode over a range of seeds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Group {
    /// Index into the sweep's scenarios.
    pub scenario: usize,
    /// The mode.
    pub occ: Occ,
    /// The seeds.
    pub seeds: Seeds,
}

/// What a sweep runs: groups in order, and which shard of them.
#[derive(Clone, Debug)]
pub struct Plan {
    /// Scenario × mode × seed range, in the order reports list them.
    pub groups: Vec<Group>,
    /// The part of the runs this process does.
    pub shard: Shard,
    /// Where each group's runs start in the whole sweep's numbering.
    offsets: Vec<u64>,
}

impl Plan {
    /// A plan over `groups`, doing the part `shard`.
    pub fn new(groups: Vec<Group>, shard: Shard) -> Plan {
        let mut offsets = Vec::with_capacity(groups.len());
        let mut total = 0;
        for g in &groups {
            offsets.push(total);
            total += g.seeds.len();
        }
        Plan {
            groups,
            shard,
            offsets,
        }
    }

    /// Every scenario (by index, `0..scenarios`) in every mode of `modes`, each over the
    /// seeds `seeds(scenario)`, in that order.
    pub fn grid(
        scenarios: usize,
        modes: &[Occ],
        seeds: impl Fn(usize) -> Seeds,
        shard: Shard,
    ) -> Plan {
        let groups = (0..scenarios)
            .flat_map(|scenario| {
                let seeds = seeds(scenario);
                modes.iter().map(move |&occ| Group {
                    scenario,
                    occ,
                    seeds,
                })
            })
            .collect();
        Plan::new(groups, shard)
    }

    /// Runs in the whole sweep, all shards together.
    pub fn total_runs(&self) -> u64 {
        self.groups.iter().map(|g| g.seeds.len()).sum()
    }

    /// Runs in this shard.
    pub fn shard_runs(&self) -> u64 {
        let total = self.total_runs();
        let first = self.shard.index - 1;
        if total <= first {
            0
        } else {
            (total - first).div_ceil(self.shard.count)
        }
    }

    /// Whether this shard runs `seed` of group `group`.
    pub fn in_shard(&self, group: usize, seed: u64) -> bool {
        let g = &self.groups[group];
        g.seeds.contains(seed) && self.shard.holds(self.offsets[group] + seed - g.seeds.start)
    }

    /// The `n`th run of this shard: (group, seed).
    fn nth_run(&self, n: u64) -> (usize, u64) {
        let global = self.shard.index - 1 + n * self.shard.count;
        let group = self.offsets.partition_point(|&o| o <= global) - 1;
        (
            group,
            self.groups[group].seeds.start + global - self.offsets[group],
        )
    }
}

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
    fn add_run(&mut self, seed: u64, run: &RunSummary) {
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
struct RunSummary {
    outcome: Outcome,
    /// The invariants it broke, each once, in order.
    broken: Vec<Invariant>,
    exercised: Vec<Property>,
    stats: Stats,
    digest: u64,
}

impl RunSummary {
    fn of(mut report: Report) -> RunSummary {
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

/// The result of running a plan: one tally per group, and the runs that panicked.
#[derive(Debug)]
pub struct Outcomes {
    /// One per group of the plan, in its order.
    pub tallies: Vec<Tally>,
    /// Runs that panicked (a bug in ticketsim), by group and seed.
    pub panics: Vec<Panicked>,
}

/// The default number of worker threads: one per core.
pub fn default_jobs() -> NonZeroUsize {
    std::thread::available_parallelism().unwrap_or(NonZeroUsize::MIN)
}

/// Run this shard of `plan` on `jobs` threads; `progress` is called after every run.
///
/// Each run gets its own madsim runtime; a worker keeps only the run's [`RunSummary`], so
/// memory stays flat however many seeds run.
pub fn run(
    scenarios: &[Scenario],
    plan: &Plan,
    jobs: NonZeroUsize,
    progress: &(dyn Fn() + Sync),
) -> Outcomes {
    let runs = plan.shard_runs();
    let next = AtomicU64::new(0);
    let results = Mutex::new(Vec::new());
    let workers = (jobs.get() as u64).min(runs.max(1));
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                let mut tallies = vec![Tally::default(); plan.groups.len()];
                let mut panics = Vec::new();
                loop {
                    let n = next.fetch_add(1, Ordering::Relaxed);
                    if n >= runs {
                        break;
                    }
                    let (group, seed) = plan.nth_run(n);
                    let g = plan.groups[group];
                    let scenario = &scenarios[g.scenario];
                    match catch_unwind(AssertUnwindSafe(|| {
                        crate::run_report(scenario, seed, g.occ)
                    })) {
                        Ok(report) => {
                            tallies[group].add_run(seed, &RunSummary::of(report));
                        }
                        Err(payload) => panics.push(Panicked {
                            scenario: scenario.name.clone(),
                            occ: g.occ,
                            seed,
                            message: panic_message(&payload),
                            reproduce: reproduce(scenario, seed, g.occ),
                        }),
                    }
                    progress();
                }
                results
                    .lock()
                    .expect("a worker panicked outside a run")
                    .push((tallies, panics));
            });
        }
    });
    let mut tallies = vec![Tally::default(); plan.groups.len()];
    let mut panics = Vec::new();
    for (worker_tallies, worker_panics) in results.into_inner().expect("workers finished") {
        for (into, t) in tallies.iter_mut().zip(worker_tallies) {
            into.merge(t);
        }
        panics.extend(worker_panics);
    }
    panics.sort_by(|a, b| (&a.scenario, a.occ, a.seed).cmp(&(&b.scenario, b.occ, b.seed)));
    Outcomes { tallies, panics }
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "a panic without a message".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seed_ranges_parse_both_spellings_and_reject_empty_ones() {
        assert_eq!("0..100".parse(), Ok(Seeds { start: 0, end: 100 }));
        assert_eq!("5..=7".parse(), Ok(Seeds { start: 5, end: 8 }));
        assert!("7..7".parse::<Seeds>().unwrap_err().contains("no seeds"));
        assert!("100".parse::<Seeds>().unwrap_err().contains("A..B"));
        assert!("a..b".parse::<Seeds>().is_err());
        assert!(format!("0..={}", u64::MAX).parse::<Seeds>().is_err());
    }

    #[test]
    fn shards_parse_and_reject_out_of_range_parts() {
        assert_eq!("2/3".parse(), Ok(Shard { index: 2, count: 3 }));
        assert!("0/3".parse::<Shard>().is_err());
        assert!("4/3".parse::<Shard>().is_err());
        assert!("1/0".parse::<Shard>().is_err());
        assert!("1-3".parse::<Shard>().is_err());
    }

    fn groups() -> Vec<Group> {
        vec![
            Group {
                scenario: 0,
                occ: Occ::Off,
                seeds: Seeds { start: 10, end: 17 },
            },
            Group {
                scenario: 1,
                occ: Occ::On,
                seeds: Seeds { start: 0, end: 4 },
            },
        ]
    }

    #[test]
    fn shards_partition_every_run_exactly_once() {
        for count in 1..=5 {
            let mut seen = Vec::new();
            for index in 1..=count {
                let plan = Plan::new(groups(), Shard { index, count });
                let runs: Vec<_> = (0..plan.shard_runs()).map(|n| plan.nth_run(n)).collect();
                for &(g, seed) in &runs {
                    assert!(plan.in_shard(g, seed), "{index}/{count}: {g} {seed}");
                }
                let in_shard = (0..2)
                    .flat_map(|g| {
                        let s = plan.groups[g].seeds;
                        (s.start..s.end).map(move |seed| (g, seed))
                    })
                    .filter(|&(g, seed)| plan.in_shard(g, seed))
                    .count();
                assert_eq!(in_shard, runs.len());
                seen.extend(runs);
            }
            seen.sort_unstable();
            let all: Vec<_> = (10..17)
                .map(|s| (0, s))
                .chain((0..4).map(|s| (1, s)))
                .collect();
            assert_eq!(seen, all, "{count} shards");
        }
    }

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
