//! `ticketsim run`: one scenario under one seed (or one tape), its report, and optionally its
//! trace and its tape.

use crate::cli::output;
use crate::harness::error::Error;
use crate::harness::files::{not_the_input, write_with};
use crate::harness::run::{run_driven, Driven, DrivenError};
use crate::model::occ::Occ;
use crate::scenario::schema::Scenario;
use crate::sim::choice::Drive;
use crate::sim::tape::Tape;
use clap::Args;
use std::io::BufWriter;
use std::path::PathBuf;

/// `ticketsim run`.
#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  ticketsim run scenarios/did-it-work.toml --seed 7 --occ off
  ticketsim run reports/demo/did-it-work.minimal.toml --seed 466 --occ off --print-tape
  ticketsim run reports/demo/did-it-work.minimal.toml --tape TOKEN --occ off

The run is converged, diverged or stuck; a broken invariant is a violation; each claim of the
scenario held, FAILED, or is undecided on one seed. docs/outcomes.md defines every word.

Exit codes: 0 no claim one run can judge failed; 1 one did; 2 bad input or usage.")]
pub struct RunArgs {
    /// The scenario file (see scenarios/).
    pub scenario: PathBuf,
    /// The seed that drives every random choice. Without it (and without --tape), one is
    /// picked and printed.
    #[arg(long, conflicts_with = "tape")]
    pub seed: Option<u64>,
    /// Replay a choice tape instead of drawing from a seed: every choice of the run (which
    /// ready task runs, each latency, each fault strike) as the token gives it. A token that no
    /// longer fits the model, the scenario or the mode is refused (exit 2).
    #[arg(long, value_name = "TOKEN", value_parser = Tape::from_token)]
    pub tape: Option<Tape>,
    /// Run the scenario's [explore] scope (its tickets, replicas, updates and orders) instead
    /// of its whole workload: what `ticketsim explore` explored, and its tapes replay on.
    #[arg(long)]
    pub scoped: bool,
    /// Also print the run's choice tape, the token --tape replays (its length grows with the
    /// run's choices: a shrunk scenario's is a few dozen characters).
    #[arg(long)]
    pub print_tape: bool,
    /// Concurrency control.
    #[arg(long, value_enum, default_value_t = Occ::On)]
    pub occ: Occ,
    /// Print the report as JSON instead of the human summary.
    #[arg(long)]
    pub json: bool,
    /// Also write the full trace to FILE as JSON lines (one event per line).
    #[arg(long, value_name = "FILE")]
    pub trace: Option<PathBuf>,
}

/// Run it.
pub fn execute(args: RunArgs) -> Result<u8, Error> {
    let scenario = Scenario::load(&args.scenario)?;
    let scenario = if args.scoped {
        let Some(table) = &scenario.explore else {
            return Err(Error::Usage(format!(
                "{} has no [explore] table, so no scope to run: leave out --scoped",
                args.scenario.display()
            )));
        };
        scenario.scoped(table)
    } else {
        scenario
    };
    let drive = match (args.tape, args.seed) {
        (Some(tape), _) => Drive::Tape(tape),
        (None, Some(seed)) => Drive::Seed(seed),
        (None, None) => {
            let seed = pick_seed();
            output::note(&format!("no --seed given: picked seed {seed}"));
            Drive::Seed(seed)
        }
    };
    let misfit = |e: DrivenError| {
        match e {
        DrivenError::Misfit(why) => Error::Usage(format!(
            "this tape no longer fits the model, the scenario or the mode: {why}. Replay a tape on the scenario file and --occ mode it was printed for, with the ticketsim that printed it"
        )),
        DrivenError::Io(e) => Error::Output(e),
    }
    };
    fn how<W>(drive: &Drive, record: bool, out: Option<W>) -> Driven<W> {
        Driven {
            drive: drive.clone(),
            record,
            out,
        }
    }
    let record = args.print_tape;
    // Without --trace nothing of the trace is kept; with it, the trace goes to its file as
    // the run makes it. Either way memory stays flat however long the run.
    let report = match &args.trace {
        None => run_driven::<std::io::Sink>(&scenario, args.occ, how(&drive, record, None))
            .map_err(misfit)?,
        Some(path) => {
            not_the_input(path, &args.scenario, "--trace")?;
            if let Drive::Tape(_) = drive {
                // A tape that does not fit writes no trace: check it first.
                run_driven::<std::io::Sink>(&scenario, args.occ, how(&drive, record, None))
                    .map_err(misfit)?;
            }
            write_with(path, |file| {
                run_driven(
                    &scenario,
                    args.occ,
                    how(&drive, record, Some(BufWriter::new(file))),
                )
                .map_err(|e| match e {
                    DrivenError::Io(e) => e,
                    DrivenError::Misfit(why) => std::io::Error::other(why),
                })
            })?
        }
    };
    if args.json {
        output::print_json(&report.to_json())?;
    } else {
        output::print(&report.render(&scenario))?;
    }
    Ok(u8::from(report.expectation_failed()))
}

/// A fresh seed from the operating system, for runs without `--seed`. This happens outside
/// any simulation; the seed is printed and recorded in the report, so the run reproduces.
fn pick_seed() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u8(0);
    hasher.finish() % 1_000_000_000
}
