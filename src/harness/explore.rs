//! Exploring every schedule of a small scope within a bound of deviations.
//!
//! The *nominal* run makes option 0 at every choice (`sim::tape`): the first ready task of a
//! tie, every latency at its minimum, no slow tail, no fault strike. A *deviation* is one
//! choice made otherwise. Exploring with bound K runs every schedule that deviates from the
//! nominal run at most K times: depth first, each schedule adding one deviation at a choice
//! after its last one, so that every set of deviations is run once. A latency deviates to a
//! few representative points of its range (`latency_points`, the minimum being nominal); a tie
//! to each other ready task; a slow tail or a fault strike to its happening.
//!
//! With [`Reduce::SleepSets`] (the default), a schedule stops as soon as it has become
//! equivalent to one the search runs anyway (`sim::sleep_sets`): it is *pruned*, and no
//! deviation is added after the point where it stopped. The set of histories found, the
//! failing ones among them and the fewest deviations that fail are the same as without it.
//!
//! The search is sequential and deterministic: the same scope gives the same counts, the same
//! counterexample and the same tapes on every run. Among the failing schedules, the
//! counterexample is one with the fewest deviations (the first found, depth first), so it is a
//! minimal one. Every schedule's run is judged as `ticketsim run` judges one; a schedule fails
//! as shrinking defines it ([`Failure`]).

use crate::harness::error::Error;
use crate::harness::failure::Failure;
use crate::harness::run::{in_one_runtime, run_schedule};
use crate::model::occ::Occ;
use crate::present::report::reproduce_tape;
use crate::scenario::schema::Scenario;
use crate::sim::choice::{ChoiceCounts, Made};
use crate::sim::tape::ChoiceKind;
use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;
use serde::Serialize;
use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

mod deviation;
mod in_order;
pub use deviation::Deviation;
use in_order::in_order;

/// How far to look.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Scope {
    /// Deviations from the nominal run, at most.
    pub deviations: u32,
    /// Points of a latency's range a deviation may take, the minimum (nominal) included: 2 is
    /// the minimum and the maximum.
    pub latency_points: u32,
    /// Schedules to run at most, pruned ones included; past it the exploration stops and says
    /// it was cut short.
    pub max_schedules: u64,
    /// How equivalent tie orders are reduced.
    pub reduce: Reduce,
}

/// How equivalent tie orders are reduced (`--reduce`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Reduce {
    /// Sleep sets: a schedule stops when a task put to sleep at one of its ties runs, and
    /// running it first there would have reached the same state with no more deviations.
    #[default]
    SleepSets,
    /// Every tie order within the bound runs.
    None,
}

/// A failing schedule with the fewest deviations found.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Counterexample {
    /// How it fails.
    pub failure: Failure,
    /// What makes it, choice by choice.
    pub deviations: Vec<Deviation>,
    /// Its tape: `ticketsim run --tape` replays it.
    pub tape: String,
    /// The command that replays it.
    pub reproduce: String,
}

/// What exploring one mode found.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Explored {
    /// The mode.
    pub occ: Occ,
    /// The nominal run's choices, by kind.
    pub nominal_choices: ChoiceCounts,
    /// Schedules run to their end and judged.
    pub schedules: u64,
    /// Schedules stopped as redundant: each, and every schedule that adds deviations after the
    /// point where it stopped, has an equivalent among those run.
    pub pruned: u64,
    /// Distinct histories among them (distinct trace hashes).
    pub histories: u64,
    /// Distinct histories among the failing schedules.
    pub failing_histories: u64,
    /// The trace hashes of the schedules run, and of the failing ones among them (not printed:
    /// for comparing two explorations).
    #[serde(skip)]
    pub traces: Traces,
    /// Schedules that failed.
    pub failing: u64,
    /// Schedules per number of deviations, from 0.
    pub by_deviations: Vec<u64>,
    /// Whether `max_schedules` stopped the search before the bound was covered.
    pub cut_short: bool,
    /// A failing schedule with the fewest deviations, if any failed.
    pub counterexample: Option<Counterexample>,
    /// With `--strategy sample`: what was sampled, and the probability it guarantees.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sampled: Option<SampleBound>,
}

/// The distinct trace hashes an exploration met.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Traces {
    /// Of every schedule run to its end.
    pub all: BTreeSet<u64>,
    /// Of the failing ones.
    pub failing: BTreeSet<u64>,
}

/// `--strategy sample`: how many samples, from which seed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Sampling {
    /// Samples to draw.
    pub runs: u64,
    /// The seed every sample's draws derive from.
    pub seed: u64,
}

/// What a sample run guarantees: a failure that needs `d` specific deviations, in order, is
/// hit by one sample with probability at least `per_run[d-1]`, and by some sample of all of
/// them with probability at least `over_all[d-1]`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SampleBound {
    /// Samples drawn.
    pub runs: u64,
    /// Their seed.
    pub seed: u64,
    /// The most places a sample's next deviation could go (choice and option), over every
    /// schedule met: each pick has probability at least its inverse.
    pub widest: u64,
    /// For d = 1 to the bound.
    pub per_run: Vec<f64>,
    /// For d = 1 to the bound.
    pub over_all: Vec<f64>,
}

impl Explored {
    /// Whether every schedule explored converged and broke no invariant.
    pub fn passed(&self) -> bool {
        self.failing == 0
    }
}

/// The options a deviation at a choice of `kind` among `options` may take.
fn alternatives(kind: ChoiceKind, options: u64, latency_points: u32) -> Vec<u64> {
    match kind {
        ChoiceKind::Latency => {
            let top = options - 1;
            let n = u64::from(latency_points.max(2)) - 1;
            let mut points: Vec<u64> = (1..=n).map(|i| (i * top).div_ceil(n)).collect();
            points.dedup();
            points.retain(|&p| p > 0);
            points
        }
        ChoiceKind::Tie | ChoiceKind::CrashNode => (1..options).collect(),
        ChoiceKind::SlowTail | ChoiceKind::Strike => vec![1],
        // A crash gap is a clock draw: not explored (the scenario is refused before).
        ChoiceKind::CrashGap => Vec::new(),
    }
}

/// One depth-first search: of the whole space, or of one subtree under the nominal run.
struct Search<'a> {
    /// The exploration it is part of.
    on: &'a Explore<'a>,
    /// Schedules this search may run.
    cap: u64,
    schedules: u64,
    pruned: u64,
    /// The distinct trace hashes met.
    traces: Traces,
    failing: u64,
    by_deviations: Vec<u64>,
    cut_short: bool,
    best: Option<Counterexample>,
}

impl<'a> Search<'a> {
    fn new(on: &'a Explore<'a>, cap: u64) -> Search<'a> {
        Search {
            on,
            cap,
            schedules: 0,
            pruned: 0,
            traces: Traces::default(),
            failing: 0,
            by_deviations: vec![0; on.scope.deviations as usize + 1],
            cut_short: false,
            best: None,
        }
    }

    /// Schedules run, to their end or pruned.
    fn runs(&self) -> u64 {
        self.schedules + self.pruned
    }

    /// Run the schedule `deviations` and account for it; what its chooser made (up to where
    /// it stopped, if pruned), or `None` when the cap is reached.
    fn run_one(&mut self, deviations: &[(u64, u64)], reduce: Reduce) -> Option<Made> {
        if self.runs() >= self.cap || self.on.stop.load(Ordering::Relaxed) {
            self.cut_short = true;
            return None;
        }
        let reduce = reduce == Reduce::SleepSets;
        let (report, made) =
            run_schedule(self.on.scenario, self.on.occ, deviations.to_vec(), reduce);
        let all = self.on.all.fetch_add(1, Ordering::Relaxed) + 1;
        if all % 1024 == 0 {
            (self.on.progress)(all);
        }
        let Some(report) = report else {
            self.pruned += 1;
            return Some(made);
        };
        self.schedules += 1;
        self.by_deviations[deviations.len()] += 1;
        let trace =
            u64::from_str_radix(&report.trace_hash, 16).expect("a trace hash is 16 hex digits");
        self.traces.all.insert(trace);
        if let Some(failure) = Failure::of(&report) {
            self.failing += 1;
            self.traces.failing.insert(trace);
            let fewer = self
                .best
                .as_ref()
                .is_none_or(|b| deviations.len() < b.deviations.len());
            if fewer {
                let tape = made.tape.as_ref().expect("an explored run records").token();
                self.best = Some(Counterexample {
                    failure,
                    deviations: deviations
                        .iter()
                        .map(|&(choice, option)| {
                            let (kind, of, options) = made.points[choice as usize];
                            Deviation {
                                choice,
                                kind,
                                of,
                                options,
                                option,
                            }
                        })
                        .collect(),
                    reproduce: reproduce_tape(self.on.scenario, &tape, self.on.occ),
                    tape,
                });
            }
        }
        Some(made)
    }

    /// Run the schedule `deviations`, then every schedule that adds one deviation after its
    /// last one, while the bound allows.
    fn visit(&mut self, deviations: &mut Vec<(u64, u64)>) {
        let Some(made) = self.run_one(deviations, self.on.scope.reduce) else {
            return;
        };
        if deviations.len() < self.on.scope.deviations as usize {
            let from = deviations.last().map_or(0, |&(i, _)| i + 1);
            for (j, option) in children(&made, from, self.on.scope) {
                deviations.push((j, option));
                self.visit(deviations);
                deviations.pop();
                if self.cut_short {
                    return;
                }
            }
        }
    }

    /// One sample: from the nominal run `nominal`, `k` deviations (k drawn from 1 to the bound),
    /// each at a place drawn uniformly among the choices after the last and their options,
    /// every schedule on the way run and counted. Returns the widest choice of a place met.
    fn sample_one(&mut self, nominal: &Made, rng: &mut Xoshiro256PlusPlus) -> u64 {
        let k = rng.gen_range(1..=self.on.scope.deviations.max(1));
        let mut deviations: Vec<(u64, u64)> = Vec::new();
        let mut widest = 0;
        let mut made: Option<Made> = None;
        for _ in 0..k {
            let from = deviations.last().map_or(0, |&(i, _)| i + 1);
            let places = children(made.as_ref().unwrap_or(nominal), from, self.on.scope);
            widest = widest.max(places.len() as u64);
            if places.is_empty() {
                break;
            }
            deviations.push(places[rng.gen_range(0..places.len())]);
            let Some(next) = self.run_one(&deviations, Reduce::None) else {
                break;
            };
            made = Some(next);
        }
        widest
    }

    /// Add a later search's findings, as if this search had gone on into its subtree.
    /// What this search found, as the report of its exploration: `nominal` the nominal run's
    /// choices, `sampled` what a sampler guarantees.
    fn explored(self, nominal: ChoiceCounts, sampled: Option<SampleBound>) -> Explored {
        Explored {
            occ: self.on.occ,
            nominal_choices: nominal,
            schedules: self.schedules,
            pruned: self.pruned,
            histories: self.traces.all.len() as u64,
            failing_histories: self.traces.failing.len() as u64,
            failing: self.failing,
            by_deviations: self.by_deviations,
            cut_short: self.cut_short,
            counterexample: self.best,
            traces: self.traces,
            sampled,
        }
    }

    fn absorb(&mut self, later: Search<'_>) {
        self.schedules += later.schedules;
        self.pruned += later.pruned;
        self.traces.all.extend(later.traces.all);
        self.traces.failing.extend(later.traces.failing);
        self.failing += later.failing;
        for (into, n) in self.by_deviations.iter_mut().zip(later.by_deviations) {
            *into += n;
        }
        self.cut_short |= later.cut_short;
        if let Some(b) = later.best {
            if self
                .best
                .as_ref()
                .is_none_or(|mine| b.deviations.len() < mine.deviations.len())
            {
                self.best = Some(b);
            }
        }
    }
}

/// The schedules one deviation deeper than `made`'s, at its choices from `from` on, in order.
fn children(made: &Made, from: u64, scope: Scope) -> Vec<(u64, u64)> {
    made.points
        .iter()
        .enumerate()
        .skip(from as usize)
        .flat_map(|(j, &(kind, _, options))| {
            alternatives(kind, options, scope.latency_points)
                .into_iter()
                .map(move |option| (j as u64, option))
        })
        .collect()
}

/// What every search of one exploration shares.
struct Explore<'a> {
    scenario: &'a Scenario,
    occ: Occ,
    scope: Scope,
    /// Schedules run by every search of this exploration, for progress.
    all: AtomicU64,
    /// Set when the searches' results will not be used: each stops at its next schedule.
    stop: AtomicBool,
    progress: &'a (dyn Fn(u64) + Sync),
}

impl<'a> Explore<'a> {
    /// An exploration of `scenario`.
    fn new(
        scenario: &'a Scenario,
        occ: Occ,
        scope: Scope,
        progress: &'a (dyn Fn(u64) + Sync),
    ) -> Explore<'a> {
        Explore {
            scenario,
            occ,
            scope,
            all: AtomicU64::new(0),
            stop: AtomicBool::new(false),
            progress,
        }
    }
}

/// What to explore: the scenario, cut down to its `[explore]` scope when it has one, and the
/// bound: `deviations` and `latency_points` if given, else the table's, else 2 and 2.
pub fn target(
    scenario: &Scenario,
    deviations: Option<u32>,
    latency_points: Option<u32>,
    max_schedules: u64,
    reduce: Reduce,
) -> (Scenario, Scope) {
    let table = scenario.explore.as_ref();
    let scope = Scope {
        deviations: deviations.or(table.map(|t| t.deviations)).unwrap_or(2),
        latency_points: latency_points
            .or(table.map(|t| t.latency_points))
            .unwrap_or(2),
        max_schedules,
        reduce,
    };
    match table {
        Some(t) => (scenario.scoped(t), scope),
        None => (scenario.clone(), scope),
    }
}

/// Explore `scenario` in mode `occ` within `scope`, on `jobs` threads. `progress` hears the
/// schedules run so far now and then.
///
/// The subtrees under the nominal run (one per first deviation) are searched in parallel and
/// committed in order, each as the sequential search would have met it: the counts, the
/// counterexample and its tape are the same on any number of threads. A subtree that would
/// pass the schedule cap is searched again, alone, with what is left of the cap, so a cut-short
/// exploration stops where the sequential one does.
pub fn explore(
    scenario: &Scenario,
    occ: Occ,
    scope: Scope,
    jobs: usize,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<Explored, Error> {
    let shared = Explore::new(scenario, occ, scope, progress);
    let mut root = Search::new(&shared, scope.max_schedules);
    let made = in_one_runtime(|| root.run_one(&[], scope.reduce)).expect("the cap is at least 1");
    let nominal = made.counts().expect("an explored run records");
    let subtrees = if scope.deviations > 0 {
        children(&made, 0, scope)
    } else {
        Vec::new()
    };
    fn subtree<'a>(on: &'a Explore<'a>, first: (u64, u64), cap: u64) -> Search<'a> {
        let mut search = Search::new(on, cap);
        in_one_runtime(|| search.visit(&mut vec![first]));
        search
    }
    // Each subtree runs speculatively with all of the cap the root leaves; they are committed
    // in order, and the first that would cross the cap stops the rest.
    let speculative_cap = scope.max_schedules - 1;
    let mut crossing = None;
    in_order(
        subtrees.len(),
        jobs,
        &shared.stop,
        &|i| subtree(&shared, subtrees[i], speculative_cap),
        &mut |i, found| {
            let left = scope.max_schedules - root.runs();
            if found.runs() <= left && !found.cut_short {
                root.absorb(found);
                true
            } else if found.cap == left {
                // Nothing before it was committed: its speculative run is the sequential one.
                root.absorb(found);
                root.cut_short = true;
                false
            } else {
                crossing = Some((i, left));
                false
            }
        },
    );
    if let Some((i, left)) = crossing {
        // This subtree as the sequential search meets it, with what is left of the cap; then
        // the search ends there.
        let alone = Explore::new(scenario, occ, scope, progress);
        root.absorb(subtree(&alone, subtrees[i], left));
        root.cut_short = true;
    }
    Ok(root.explored(nominal, None))
}

/// Samples per block: blocks are searched on worker threads and committed in order, so the
/// result does not depend on the number of threads.
const SAMPLE_BLOCK: u64 = 64;

/// Sample `sampling.runs` schedules of at most `scope.deviations` deviations (`--strategy
/// sample`): for scopes too large to run every schedule. Each sample draws from its own
/// generator, derived from the seed and its index; blocks of samples run on `jobs` threads and
/// are committed in order: the result is the same on any number of threads.
pub fn sample(
    scenario: &Scenario,
    occ: Occ,
    scope: Scope,
    sampling: Sampling,
    jobs: usize,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<Explored, Error> {
    if scope.deviations == 0 {
        return Err(Error::Usage(
            "--strategy sample places 1 to --deviations deviations: give --deviations 1 or more"
                .to_owned(),
        ));
    }
    let shared = Explore::new(scenario, occ, scope, progress);
    let mut root = Search::new(&shared, u64::MAX);
    let nominal = in_one_runtime(|| root.run_one(&[], Reduce::None)).expect("no cap");
    let blocks = sampling.runs.div_ceil(SAMPLE_BLOCK) as usize;
    let mut widest = 0;
    in_order(
        blocks,
        jobs,
        &shared.stop,
        &|b| {
            let b = b as u64;
            let mut search = Search::new(&shared, u64::MAX);
            let mut widest = 0;
            in_one_runtime(|| {
                let end = ((b + 1) * SAMPLE_BLOCK).min(sampling.runs);
                for i in b * SAMPLE_BLOCK..end {
                    let mut rng = Xoshiro256PlusPlus::seed_from_u64(
                        sampling.seed ^ i.wrapping_mul(0x9e37_79b9_7f4a_7c15),
                    );
                    widest = widest.max(search.sample_one(&nominal, &mut rng));
                }
            });
            (search, widest)
        },
        &mut |_, (search, w)| {
            widest = widest.max(w);
            root.absorb(search);
            true
        },
    );
    let k = scope.deviations.max(1);
    let per_run: Vec<f64> = (1..=k)
        .map(|d| 1.0 / f64::from(k) / (widest.max(1) as f64).powi(d as i32))
        .collect();
    let over_all = per_run
        .iter()
        .map(|p| 1.0 - (1.0 - p).powf(sampling.runs as f64))
        .collect();
    let sampled = SampleBound {
        runs: sampling.runs,
        seed: sampling.seed,
        widest,
        per_run,
        over_all,
    };
    Ok(root.explored(
        nominal.counts().expect("an explored run records"),
        Some(sampled),
    ))
}

/// The sentence that says what an exploration covered, and what it did not.
pub fn coverage(scope: Scope, cut_short: bool, crashes: bool) -> String {
    let points = match scope.latency_points {
        2 => "its minimum and its maximum".to_owned(),
        n => format!("{n} points from its minimum to its maximum"),
    };
    let (nominal_crash, crash, not_crash) = if crashes {
        (
            ", a named crash at its time",
            ", and a crash striking at any await of its node (a named one before its time, crash-rate's at an orders replica's, before the heal)",
            ", a named crash after its time",
        )
    } else {
        ("", "", "")
    };
    let covered = format!(
        "Covered: every schedule that deviates from the nominal run (the first ready task runs, every latency at its minimum, no slow tail, no fault{nominal_crash}) at most {} time{}, a latency taking {points}{crash}.",
        scope.deviations,
        if scope.deviations == 1 { "" } else { "s" }
    );
    let covered = match scope.reduce {
        Reduce::SleepSets => format!(
            "{covered} A schedule pruned by sleep sets has one with the same history, the same verdict and no more deviations among those run."
        ),
        Reduce::None => covered,
    };
    let not = format!("Not covered: more deviations, latencies between those points{not_crash}, and faults the scenario does not name.");
    if cut_short {
        format!(
            "{covered} Cut short at {} schedules (--max-schedules): not every such schedule ran; explore a smaller scope (an [explore] table with tickets = 1, replicas = 2), fewer deviations, or sample (--strategy sample). {not}",
            scope.max_schedules
        )
    } else {
        format!("{covered} {not}")
    }
}

/// What a sample covered, and the probability it guarantees.
pub fn sample_coverage(scope: Scope, sampled: &SampleBound) -> String {
    let k = scope.deviations.max(1);
    let bounds: Vec<String> = (1..=k as usize)
        .map(|d| {
            format!(
                "{d} deviation{}: {:.2e} per sample, {:.2e} over all",
                if d == 1 { "" } else { "s" },
                sampled.per_run[d - 1],
                sampled.over_all[d - 1]
            )
        })
        .collect();
    format!(
        "Sampled: {} samples of 1 to {k} deviations from the nominal run (seed {}), each deviation placed uniformly among the at most {} choices and options after the last one; a latency takes {} points. Not a certificate. A failure that needs d specific deviations, in order, is hit with probability at least: {}.",
        sampled.runs,
        sampled.seed,
        sampled.widest,
        scope.latency_points,
        bounds.join("; ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latency_points_spread_over_the_range_and_skip_the_minimum() {
        assert_eq!(alternatives(ChoiceKind::Latency, 1501, 2), vec![1500]);
        assert_eq!(alternatives(ChoiceKind::Latency, 1501, 3), vec![750, 1500]);
        assert_eq!(alternatives(ChoiceKind::Latency, 3, 5), vec![1, 2]);
        assert_eq!(alternatives(ChoiceKind::Latency, 1, 2), Vec::<u64>::new());
        assert_eq!(alternatives(ChoiceKind::Tie, 3, 2), vec![1, 2]);
        assert_eq!(alternatives(ChoiceKind::Strike, 2, 2), vec![1]);
    }
}
