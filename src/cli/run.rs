//! `ticketsim run`: one scenario under one seed, its report, and optionally its trace.

use crate::harness::error::Error;
use crate::harness::run::run;
use crate::model::occ::Occ;
use crate::scenario::schema::Scenario;
use clap::Args;
use std::fs::File;
use std::io::BufWriter;
use std::path::PathBuf;

/// `ticketsim run`.
#[derive(Debug, Args)]
#[command(after_help = "Example:\n  ticketsim run scenarios/did-it-work.toml --seed 7 --occ off")]
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
        eprintln!("no --seed given: picked seed {seed}");
        seed
    });
    let result = run(&scenario, seed, args.occ);
    if let Some(path) = &args.trace {
        let write = |path: &PathBuf| -> std::io::Result<()> {
            result
                .trace
                .write_jsonl(BufWriter::new(File::create(path)?))
        };
        write(path).map_err(|source| Error::Write {
            path: path.clone(),
            source,
        })?;
    }
    if args.json {
        println!("{}", result.report.to_json());
    } else {
        print!("{}", result.report.render(&scenario));
    }
    Ok(u8::from(result.report.expectation_failed()))
}

/// A fresh seed from the operating system, for runs without `--seed`. This happens outside
/// any simulation; the seed is printed and recorded in the report, so the run reproduces.
fn pick_seed() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u8(0);
    hasher.finish() % 1_000_000_000
}
