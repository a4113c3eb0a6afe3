//! The command line: one file per subcommand, each an `Args` struct whose doc comments are the
//! help text and an `execute` that calls into the harness; errors become exit codes here, in
//! one place (0 the command did its job, 1 an expectation failed, 2 bad input or usage).

pub mod demo;
pub mod explore;
pub mod logging;
pub mod merge;
pub mod options;
pub mod output;
pub mod progress;
pub mod run;
pub mod shrink;
pub mod sweep;
pub mod view;

use crate::harness::error::Error;
use clap::{Parser, Subcommand};
use std::process::ExitCode;

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
    Run(run::RunArgs),
    /// Run scenarios over a range of seeds in every mode, judge their expectations, and
    /// compare with the committed baselines.
    Sweep(sweep::SweepArgs),
    /// Combine the --json reports of every shard of a sweep into the whole sweep's report.
    Merge(merge::MergeArgs),
    /// Watch the race, then watch its cure: one seed without OCC and in the mode that cures it
    /// (OCC, or OCC with deduplication) side by side, the story of one ticket, and the
    /// smallest run that fails the same way, drawn.
    Demo(demo::DemoArgs),
    /// Shrink a failing run to the smallest scenario (and a seed) that fails the same way, and
    /// write it as a scenario file that `ticketsim run` reproduces exactly.
    Shrink(shrink::ShrinkArgs),
    /// Run every schedule of a small scope within a bound of deviations from the nominal run:
    /// certify a cure for that scope, or show a race by the fewest deviations that make it.
    Explore(explore::ExploreArgs),
    /// Write a run, or a schedule by its tape, beside its cure as one HTML page to step
    /// through in a browser.
    View(view::ViewArgs),
}

/// Run the parsed command; returns the exit code for a command that did its job (0, or 1 when
/// an expectation failed).
pub fn execute(cli: Cli) -> Result<u8, Error> {
    match cli.command {
        Command::Run(args) => run::execute(args),
        Command::Sweep(args) => sweep::execute(args),
        Command::Merge(args) => merge::execute(args),
        Command::Demo(args) => demo::execute(args),
        Command::Shrink(args) => shrink::execute(args),
        Command::Explore(args) => explore::execute(args),
        Command::View(args) => view::execute(args),
    }
}

/// What clap has to say instead of a command: the help or the version (on stdout, exit 0, or 2
/// when stdout cannot be written), or a usage error (on stderr, exit 2).
fn usage(e: clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    match e.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
            use std::io::IsTerminal;
            let rendered = e.render();
            let text = if std::io::stdout().is_terminal() {
                rendered.ansi().to_string()
            } else {
                rendered.to_string()
            };
            match output::print(&text) {
                Ok(()) => ExitCode::SUCCESS,
                Err(error) => {
                    output::note(&format!("error: {error}"));
                    ExitCode::from(error.exit_code())
                }
            }
        }
        _ => {
            let _ = e.print();
            ExitCode::from(2)
        }
    }
}

/// The whole program: logging, the command line, its run, and the exit code.
pub fn main() -> ExitCode {
    logging::init();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return usage(e),
    };
    match execute(cli) {
        Ok(code) => {
            output::launcher_hint();
            ExitCode::from(code)
        }
        Err(error) => {
            output::note(&format!("error: {error}"));
            ExitCode::from(error.exit_code())
        }
    }
}
