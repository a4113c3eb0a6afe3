//! The sweep's workers: every run of a shard of a [`Plan`] on worker threads, each run in its
//! own madsim runtime, folded into one [`Tally`] per group. A run that panics (a bug in
//! ticketsim) is caught and reported with the command that reproduces it.

use crate::harness::run::run_report;
use crate::harness::sweep::plan::Plan;
use crate::harness::sweep::tally::{RunSummary, Tally};
use crate::model::occ::Occ;
use crate::present::report::reproduce;
use crate::scenario::schema::Scenario;
use serde::{Deserialize, Serialize};
use std::num::NonZeroUsize;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

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
/// Each run gets its own madsim runtime; a worker keeps only the run's summary (`RunSummary`), so
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
                    match catch_unwind(AssertUnwindSafe(|| run_report(scenario, seed, g.occ))) {
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
