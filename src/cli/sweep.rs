//! `ticketsim sweep`: scenarios over a seed range in every mode, judged, compared with the
//! baselines or recorded as new ones.

use crate::cli::options::{parse_jobs, Modes};
use crate::cli::output;
use crate::cli::progress::progress_bar;
use crate::harness::catalogue;
use crate::harness::error::Error;
use crate::harness::files::write_files;
use crate::harness::sweep::baseline::{self, Baseline};
use crate::harness::sweep::explored;
use crate::harness::sweep::plan::{Plan, Seeds, Shard};
use crate::harness::sweep::report::SweepReport;
use crate::harness::sweep::workers::{self, default_jobs};
use crate::model::occ::Occ;
use crate::scenario::schema::Scenario;
use clap::Args;
use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};

/// `ticketsim sweep`.
#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  ticketsim sweep                                     every scenario, seeds 0..500, every mode
  ticketsim sweep scenarios/did-it-work.toml --seeds 0..10000 --occ off
  ticketsim sweep --check                             compare with reports/*.baseline.toml
  ticketsim sweep --update-baselines                  record the outcomes as the new baselines
  ticketsim sweep --shard 1/2 --json > a.json         half the runs, for one of two CI jobs

Each seed is converged, diverged or stuck; violations counts the seeds that broke an invariant;
each claim held, FAILED, or is undecided in a shard. docs/outcomes.md defines every word.

Exit codes: 0 every expectation held (and, with --check, every seed matched its baseline);
1 an expectation failed, a seed's outcome changed, or a run panicked; 2 bad input or usage.")]
pub struct SweepArgs {
    /// Scenario files. Without any, every *.toml in scenarios/.
    pub scenarios: Vec<PathBuf>,
    /// The seeds: A..B (B excluded) or A..=B.
    #[arg(long, value_name = "A..B", default_value_t = Seeds::REGRESSION, conflicts_with = "check")]
    pub seeds: Seeds,
    /// The concurrency-control modes to run.
    #[arg(long, value_enum, default_value_t = Modes::All)]
    pub occ: Modes,
    /// Worker threads (1 to 256). Default: one per core. The results do not depend on it.
    #[arg(long, value_name = "N", value_parser = parse_jobs)]
    pub jobs: Option<NonZeroUsize>,
    /// Run only part K of N of the sweep, so that N CI jobs share it (`ticketsim merge`
    /// combines their --json reports).
    #[arg(long, value_name = "K/N", default_value_t = Shard::WHOLE)]
    pub shard: Shard,
    /// Print the report as JSON instead of the summary.
    #[arg(long)]
    pub json: bool,
    /// Run each scenario's baseline range and fail on any seed whose outcome changed.
    #[arg(long)]
    pub check: bool,
    /// Write each scenario's outcomes as its new baseline (every mode; seeds from --seeds).
    #[arg(long, conflicts_with_all = ["check", "occ", "shard"])]
    pub update_baselines: bool,
    /// Where the baselines live.
    #[arg(long, value_name = "DIR", default_value = "reports")]
    pub reports: PathBuf,
}

/// Run it.
pub fn execute(args: SweepArgs) -> Result<u8, Error> {
    let paths = if args.scenarios.is_empty() {
        catalogue::files()?
    } else {
        args.scenarios.clone()
    };
    let scenarios = paths
        .iter()
        .map(|p| Scenario::load(p))
        .collect::<Result<Vec<_>, _>>()?;
    one_baseline_each(&scenarios, &args.reports)?;
    let baselines = if args.check {
        let loaded = scenarios
            .iter()
            .map(|s| Baseline::load_for(&args.reports, s))
            .collect::<Result<Vec<_>, _>>()?;
        Some(loaded)
    } else {
        None
    };
    let modes = if args.update_baselines {
        Occ::ALL.to_vec()
    } else {
        args.occ.list()
    };
    let seeds = |i: usize| baselines.as_ref().map_or(args.seeds, |b| b[i].seeds);
    within_limits(&scenarios, modes.len(), seeds, args.shard)?;
    let plan = Plan::grid(scenarios.len(), &modes, seeds, args.shard);
    let jobs = args.jobs.unwrap_or_else(default_jobs);
    let bar = progress_bar(plan.shard_runs());
    let outcomes = workers::run(&scenarios, &plan, jobs, &|| bar.inc(1));
    bar.finish_and_clear();

    let check = baselines.map(|b| baseline::check(&plan, &scenarios, &b, &outcomes.tallies));
    if args.update_baselines {
        if !outcomes.panics.is_empty() {
            return Err(Error::Usage(format!(
                "{} runs panicked; not writing baselines (run without --update-baselines to see them)",
                outcomes.panics.len()
            )));
        }
        // The plan is scenario-major over `Occ::ALL`: one chunk of tallies per scenario.
        let files: Vec<(PathBuf, String)> = scenarios
            .iter()
            .zip(outcomes.tallies.chunks(Occ::ALL.len()))
            .map(|(s, t)| {
                let text = Baseline::render(s, args.seeds, [&t[0], &t[1], &t[2]]);
                (Baseline::path(&args.reports, s), text)
            })
            .collect();
        // All of them or none: a failure leaves every baseline as it was.
        write_files(&files)?;
        for (path, _) in &files {
            output::note(&format!("wrote {}", path.display()));
        }
    }
    let mut report = SweepReport::new(&scenarios, &plan, outcomes, check);
    // The [explore] claims are judged once: by a whole sweep, or by its first shard.
    if args.shard.index == 1 {
        report.add_explorations(explored::judge(&scenarios, &modes, jobs.get())?);
    }
    print_sweep(&report, args.json)?;
    Ok(u8::from(!report.passed))
}

/// The most runs one sweep process makes: its tallies keep the seeds that diverged, got stuck
/// or broke an invariant, so this bounds their memory (under 200 MB) as well as the report.
pub const MAX_RUNS: u64 = 10_000_000;

/// The most requests one sweep process simulates, summed over its runs: about two hours on two
/// cores at the course script's 1.3 µs a request.
pub const MAX_REQUESTS: u128 = 10_000_000_000;

/// Refuse a sweep this process could not finish in bounded memory and time (a seed range
/// typed with a digit too many, `--seeds 0..18446744073709551615`), saying how to split it.
fn within_limits(
    scenarios: &[Scenario],
    modes: usize,
    seeds: impl Fn(usize) -> Seeds,
    shard: Shard,
) -> Result<(), Error> {
    let count = u128::from(shard.count);
    let (mut runs, mut requests) = (0u128, 0u128);
    for (i, s) in scenarios.iter().enumerate() {
        let n = u128::from(seeds(i).len()) * modes as u128;
        runs += n;
        requests += n * u128::from(s.total_requests());
    }
    let split = "narrow --seeds, or split the sweep with --shard K/N and `ticketsim merge`";
    if runs > u128::from(u64::MAX) {
        return Err(Error::Usage(format!(
            "this sweep makes {runs} runs, more than a sweep can number: narrow --seeds"
        )));
    }
    let (runs, requests) = (runs.div_ceil(count), requests.div_ceil(count));
    if runs > u128::from(MAX_RUNS) {
        return Err(Error::Usage(format!(
            "this sweep makes {runs} runs{}; one process makes at most {MAX_RUNS}: {split}",
            if shard.is_whole() {
                ""
            } else {
                " in this shard"
            }
        )));
    }
    if requests > MAX_REQUESTS {
        return Err(Error::Usage(format!(
            "this sweep simulates {requests} requests{} (its scenarios' requests times their runs); one process simulates at most {MAX_REQUESTS}, about two hours on two cores: {split}",
            if shard.is_whole() { "" } else { " in this shard" }
        )));
    }
    Ok(())
}

/// Refuse scenarios that would share a baseline file (their file names are the same), naming
/// both: one would check against, or overwrite, the other's.
fn one_baseline_each(scenarios: &[Scenario], reports: &Path) -> Result<(), Error> {
    for (i, a) in scenarios.iter().enumerate() {
        for b in &scenarios[..i] {
            let path = Baseline::path(reports, a);
            if path == Baseline::path(reports, b) {
                return Err(Error::Usage(format!(
                    "{} and {} would share the baseline {}: give them different file names",
                    b.source.display(),
                    a.source.display(),
                    path.display()
                )));
            }
        }
    }
    Ok(())
}

/// Print a sweep's report, as JSON or as the summary.
pub fn print_sweep(report: &SweepReport, json: bool) -> Result<(), Error> {
    if json {
        output::print_json(&report.to_json())
    } else {
        output::print(&report.render())
    }
}
