//! One run, judged: a fresh madsim runtime seeded with the run's seed, a world whose every
//! record the checker observes as it is made, the run to its end, then the checker's findings
//! and the report. The runtime produces the history; judging it happens here, after the run.

use crate::check::checker::Checker;
use crate::model::occ::Occ;
use crate::present::report::Report;
use crate::scenario::schema::Scenario;
use crate::sim::run::simulate;
use crate::sim::trace::Trace;
use crate::sim::world::World;
use std::cell::RefCell;
use std::rc::Rc;

/// The result of one run: its report and its full trace.
pub struct RunResult {
    /// What happened, judged.
    pub report: Report,
    /// Every step, in order.
    pub trace: Trace,
}

/// Run `scenario` under `seed` in mode `occ`, in a fresh madsim runtime, keeping the trace.
pub fn run(scenario: &Scenario, seed: u64, occ: Occ) -> RunResult {
    in_runtime(seed, || run_in_current_runtime(scenario, seed, occ))
}

/// [`run`]'s report alone, faster: the trace's records are checked and hashed as they are
/// made, and not kept. Sweeps and shrinking run this; the report is the one [`run`] gives.
pub fn run_report(scenario: &Scenario, seed: u64, occ: Occ) -> Report {
    in_runtime(seed, || {
        judged(scenario, seed, occ, Trace::digest_only()).report
    })
}

/// The body of [`run`], for a caller already inside a madsim runtime seeded with `seed` (the
/// determinism test runs it inside madsim's `check_determinism`).
pub fn run_in_current_runtime(scenario: &Scenario, seed: u64, occ: Occ) -> RunResult {
    let trace = Trace::with_capacity(World::trace_capacity(scenario));
    judged(scenario, seed, occ, trace)
}

fn in_runtime<T>(seed: u64, f: impl FnOnce() -> T) -> T {
    let runtime = madsim::runtime::Runtime::with_seed_and_config(seed, madsim::Config::default());
    runtime.block_on(async { f() })
}

/// Run a world recording into `trace` with a checker watching, and judge it.
fn judged(scenario: &Scenario, seed: u64, occ: Occ, trace: Trace) -> RunResult {
    let checker = Rc::new(RefCell::new(Checker::new(&scenario.expect.properties())));
    let world = World::observed(scenario, occ, trace, checker.clone());
    let (ending, trace) = simulate(&world, scenario);
    let findings = checker.replace(Checker::new(&[])).finish(occ, &ending);
    let report = Report::new(scenario, seed, occ, findings, &trace, &ending);
    RunResult { report, trace }
}
