//! `ticketsim run`: one scenario under one seed, its report, and optionally its trace.

use crate::cli::output;
use crate::harness::error::Error;
use crate::harness::files::{not_the_input, write_with};
use crate::harness::run::{run_report, run_streaming};
use crate::model::occ::Occ;
use crate::scenario::schema::Scenario;
use clap::Args;
use std::io::BufWriter;
use std::path::PathBuf;

/// `ticketsim run`.
#[derive(Debug, Args)]
#[command(after_help = "\
Example:
  ticketsim run scenarios/did-it-work.toml --seed 7 --occ off

The run is converged, diverged or stuck; a broken invariant is a violation; each claim of the
scenario held, FAILED, or is undecided on one seed. docs/outcomes.md defines every word.

Exit codes: 0 no claim one run can judge failed; 1 one did; 2 bad input or usage.")]
pub struct RunArgs {
    /// The scenario file (see scenarios/).
    pub scenario: PathBuf,
    /// The seed that drives every random choice. Without it, one is picked and printed.
    #[arg(long)]
    pub seed: Option<u64>,
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
    let seed = args.seed.unwrap_or_else(|| {
        let seed = pick_seed();
        output::note(&format!("no --seed given: picked seed {seed}"));
        seed
    });
    // Without --trace nothing of the trace is kept; with it, the trace goes to its file as
    // the run makes it. Either way memory stays flat however long the run.
    let report = match &args.trace {
        None => run_report(&scenario, seed, args.occ),
        Some(path) => {
            not_the_input(path, &args.scenario, "--trace")?;
            write_with(path, |file| {
                run_streaming(&scenario, seed, args.occ, BufWriter::new(file))
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
