//! The command line: one `Args` struct per subcommand, whose doc comments are the help text.

use crate::domain::Occ;
use crate::error::Error;
use crate::scenario::Scenario;
use clap::{Args, Parser, Subcommand};
use std::fs::File;
use std::io::BufWriter;
use std::path::PathBuf;

/// Deterministic concurrency simulator for the tickets and orders services of the
/// "Microservices with Node JS and React" course.
///
/// Runs scripted workloads against a tickets service, orders-service replicas in one queue
/// group, a NATS Streaming bus and MongoDB, under one seed, and checks whether the orders
/// database's copy of every ticket converges with the tickets database, with and without
/// optimistic concurrency control.
///
/// Exit codes: 0 the command did its job and every expectation held; 1 an expectation failed;
/// 2 bad input or usage.
#[derive(Debug, Parser)]
#[command(name = "ticketsim", version, about, long_about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run one scenario under one seed and check whether the databases converge.
    Run(RunArgs),
}

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

/// Run the parsed command; returns the exit code for a command that did its job (0, or 1 when
/// an expectation failed).
pub fn execute(cli: Cli) -> Result<u8, Error> {
    match cli.command {
        Command::Run(args) => run(args),
    }
}

fn run(args: RunArgs) -> Result<u8, Error> {
    let scenario = Scenario::load(&args.scenario)?;
    let seed = args.seed.unwrap_or_else(|| {
        let seed = pick_seed();
        eprintln!("no --seed given: picked seed {seed}");
        seed
    });
    let result = crate::run(&scenario, seed, args.occ);
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
