//! One run, judged: a fresh madsim runtime seeded with the run's seed, a world whose every
//! record the checker observes as it is made, the run to its end, then the checker's findings
//! and the report. The runtime produces the history; judging it happens here, after the run.

use crate::check::checker::Checker;
use crate::model::occ::Occ;
use crate::present::report::Report;
use crate::scenario::schema::Scenario;
use crate::sim::choice::{Drive, Made};
use crate::sim::exec::Halt;
use crate::sim::record::Record;
use crate::sim::run::simulate;
use crate::sim::trace::{Observer, Trace};
use crate::sim::world::World;
use std::cell::RefCell;
use std::io::Write;
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
        unwritten(scenario, &Drive::Seed(seed), occ, Trace::digest_only()).report
    })
}

/// The body of [`run`], for a caller already inside a madsim runtime seeded with `seed` (the
/// determinism test runs it inside madsim's `check_determinism`).
pub fn run_in_current_runtime(scenario: &Scenario, seed: u64, occ: Occ) -> RunResult {
    let trace = Trace::with_capacity(World::trace_capacity(scenario));
    unwritten(scenario, &Drive::Seed(seed), occ, trace)
}

/// Run `f` inside one fresh madsim runtime: [`run_schedule`] runs there, many times over, with
/// no runtime to build per run.
pub fn in_one_runtime<T>(f: impl FnOnce() -> T) -> T {
    in_runtime(0, f)
}

/// One schedule of an exploration (inside [`in_one_runtime`]): the nominal choice everywhere
/// but at `deviations`; its report, and what its chooser made (its tape, and every choice's
/// kind and options). With `reduce_ties`, the run stops as soon as it is equivalent to one the
/// search runs anyway (`sim::sleep_sets`): then it has no report, and its choices end there.
pub fn run_schedule(
    scenario: &Scenario,
    occ: Occ,
    deviations: Vec<(u64, u64)>,
    reduce_ties: bool,
) -> (Option<Report>, Made) {
    let drive = Drive::Schedule(deviations);
    let how = How {
        record: true,
        reduce_ties,
    };
    let Ok((result, made)) =
        judged::<std::io::Sink>(scenario, &drive, how, occ, Trace::digest_only(), None)
    else {
        unreachable!("a run that writes nothing cannot fail to write");
    };
    (result.map(|r| r.report), made)
}

/// How [`run_driven`] runs.
pub struct Driven<W> {
    /// A seed or a tape.
    pub drive: Drive,
    /// Record the run's own tape into the report (a tape-driven run always does).
    pub record: bool,
    /// Where to write the trace as JSON lines as the run makes it (what [`Trace::write_jsonl`]
    /// writes), if anywhere: however long the trace, memory stays flat.
    pub out: Option<W>,
}

/// Why [`run_driven`] has no report.
#[derive(Debug, thiserror::Error)]
pub enum DrivenError {
    /// Writing the trace failed.
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// The tape does not fit the model (or this scenario, or this mode).
    #[error("this tape does not fit the model, this scenario or this mode: {0}")]
    Misfit(String),
}

/// A run as `ticketsim run` makes it: driven by a seed or a tape, its trace written as it goes
/// or not kept, its own tape recorded if asked. A tape that does not fit is an error, not a
/// report of something else.
pub fn run_driven<W: Write + 'static>(
    scenario: &Scenario,
    occ: Occ,
    how: Driven<W>,
) -> Result<Report, DrivenError> {
    let Driven { drive, record, out } = how;
    in_runtime(drive.runtime_seed(), || {
        let how = How {
            record,
            reduce_ties: false,
        };
        let (result, made) = judged(scenario, &drive, how, occ, Trace::digest_only(), out)?;
        let result = result.expect("only a reduced exploration stops a run");
        if let Some(misfit) = made.misfit {
            return Err(DrivenError::Misfit(misfit));
        }
        let mut report = result.report;
        report.choices = made.counts();
        if let (true, Some(tape)) = (report.tape.is_none(), made.tape) {
            report.tape = Some(tape.token());
        }
        Ok(report)
    })
}

/// A run driven by `drive` (a tape or a schedule, usually) with its whole trace kept, to tell
/// its story: its result, and what its chooser made (its own tape; every choice's kind and
/// options, when a schedule drove it; and, for a tape, whether it fits, in `misfit`).
pub fn run_driven_traced(scenario: &Scenario, occ: Occ, drive: &Drive) -> (RunResult, Made) {
    in_runtime(drive.runtime_seed(), || {
        let trace = Trace::with_capacity(World::trace_capacity(scenario));
        let how = How {
            record: true,
            reduce_ties: false,
        };
        let Ok((Some(result), made)) =
            judged::<std::io::Sink>(scenario, drive, how, occ, trace, None)
        else {
            unreachable!("a run that writes nothing and reduces nothing ends judged");
        };
        (result, made)
    })
}

/// What watches each record as the run makes it: the checks, and a JSON-lines writer if there
/// is one.
struct Watch<W> {
    checker: Checker,
    out: Option<W>,
    /// The first write that failed; nothing more is written after it.
    failed: Option<std::io::Error>,
}

impl<W: Write> Observer for Watch<W> {
    fn observe(&mut self, record: &Record) {
        self.checker.observe(record);
        if let (Some(out), None) = (&mut self.out, &self.failed) {
            let line = serde_json::to_writer(&mut *out, record)
                .map_err(std::io::Error::from)
                .and_then(|()| out.write_all(b"\n"));
            if let Err(error) = line {
                self.failed = Some(error);
            }
        }
    }
}

fn in_runtime<T>(seed: u64, f: impl FnOnce() -> T) -> T {
    let runtime = madsim::runtime::Runtime::with_seed_and_config(seed, madsim::Config::default());
    runtime.block_on(async { f() })
}

/// [`judged`] with nothing written as the run goes and no tape recorded.
fn unwritten(scenario: &Scenario, drive: &Drive, occ: Occ, trace: Trace) -> RunResult {
    let how = How {
        record: false,
        reduce_ties: false,
    };
    let Ok((Some(result), _)) = judged::<std::io::Sink>(scenario, drive, how, occ, trace, None)
    else {
        unreachable!("a run that writes nothing and reduces nothing ends judged");
    };
    result
}

/// How [`judged`] runs, beside its drive.
#[derive(Clone, Copy)]
struct How {
    /// Record the run's own tape.
    record: bool,
    /// Reduce tie orders (an exploration's schedule): the run may stop as redundant.
    reduce_ties: bool,
}

/// Run a world driven by `drive` recording into `trace`, with the checks (and `out`, if any)
/// watching each record as it is made, and judge it; with what its chooser made (its tape, if
/// `record` or if a tape drove it). A run that reduces tie orders and stops as redundant is
/// not judged (`None`).
fn judged<W: Write + 'static>(
    scenario: &Scenario,
    drive: &Drive,
    how: How,
    occ: Occ,
    trace: Trace,
    out: Option<W>,
) -> std::io::Result<(Option<RunResult>, Made)> {
    let How {
        record,
        reduce_ties,
    } = how;
    let watch = Rc::new(RefCell::new(Watch {
        checker: Checker::new(&scenario.expect.properties()),
        out,
        failed: None,
    }));
    let world = World::observed(scenario, occ, trace, watch.clone());
    match drive {
        Drive::Tape(tape) => world.exec.chooser().replay(tape.clone()),
        Drive::Schedule(deviations) => world.exec.chooser().explore(deviations.clone()),
        Drive::Seed(_) if record => world.exec.chooser().record(),
        Drive::Seed(_) => {}
    }
    if reduce_ties {
        world.exec.reduce_ties();
    }
    let (ending, trace) = simulate(&world, scenario);
    let made = world.exec.chooser().made();
    drop(world);
    if ending.halt == Halt::Redundant {
        return Ok((None, made));
    }
    let mut watch = watch.borrow_mut();
    if let Some(error) = watch.failed.take() {
        return Err(error);
    }
    if let Some(out) = &mut watch.out {
        out.flush()?;
    }
    let checker = std::mem::replace(&mut watch.checker, Checker::new(&[]));
    let findings = checker.finish(occ, &ending);
    let report = Report::new(scenario, drive, occ, findings, &trace, &ending);
    Ok((Some(RunResult { report, trace }), made))
}
