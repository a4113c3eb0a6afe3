//! `ticketsim explore`: every schedule of a small scope within a bound of deviations from the
//! nominal run, per mode: how many, how many distinct histories, and the smallest failing one
//! as a tape.

use crate::cli::options::{parse_jobs, Modes};
use crate::cli::output;
use crate::cli::progress::explore_spinner;
use crate::harness::error::Error;
use crate::harness::explore::{self, Explored, Reduce, Sampling, Scope};
use crate::harness::sweep::workers::default_jobs;
use crate::present::story::wrap;
use crate::scenario::schema::Scenario;
use clap::Args;
use std::fmt::Write as _;
use std::num::NonZeroUsize;
use std::path::PathBuf;
use tabled::builder::Builder;
use tabled::settings::Style;

/// `ticketsim explore`.
#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  ticketsim explore reports/demo/did-it-work.minimal.toml --occ off
  ticketsim explore tests/fixtures/explore-u2r2.toml --deviations 4 --occ on

The nominal run takes option 0 at every choice: the first ready task, every latency at its
minimum, no slow tail, no fault. A deviation is one choice made otherwise: a latency at another
of --latency-points points of its range, another ready task first, a slow tail, a fault
striking. Explore runs every schedule with at most --deviations of them. For a small scope
(a ticket or two, a few updates, two replicas) that is every way the scope can go within the
bound: a cure that converges in every schedule is certified for it, and a race is shown by the
fewest deviations that make it, with a tape `ticketsim run --tape` replays. Tie orders that
only reorder independent steps are pruned with sleep sets (--reduce none runs them all): the
histories, verdicts and fewest failing deviations found are the same (docs/explore.md).

Exit codes: 0 the exploration ran (a failing schedule is a finding, not an error); 2 bad input.")]
pub struct ExploreArgs {
    /// The scenario file: keep its scope small (see the examples).
    pub scenario: PathBuf,
    /// The concurrency-control modes to explore.
    #[arg(long, value_enum, default_value_t = Modes::All)]
    pub occ: Modes,
    /// Deviations from the nominal run, at most (0 to 8). Default: the scenario's
    /// explore.deviations, else 2.
    #[arg(long, value_name = "K",
          value_parser = clap::value_parser!(u32).range(0..=8))]
    pub deviations: Option<u32>,
    /// Points of a latency's range a deviation may take, its minimum included (2 to 16): 2 is
    /// the minimum and the maximum. Default: the scenario's explore.latency-points, else 2.
    #[arg(long, value_name = "N",
          value_parser = clap::value_parser!(u32).range(2..=16))]
    pub latency_points: Option<u32>,
    /// Schedules to run at most per mode; past it the exploration says it was cut short.
    #[arg(long, value_name = "N", default_value_t = 1_000_000,
          value_parser = clap::value_parser!(u64).range(1..=100_000_000))]
    pub max_schedules: u64,
    /// How to explore: every schedule within the bound, or a sample of them.
    #[arg(long, value_enum, default_value_t = Strategy::Bounded)]
    pub strategy: Strategy,
    /// How to reduce equivalent tie orders (--strategy bounded): sleep sets prune a schedule
    /// as soon as it is equivalent to one that runs (the same history, no more deviations);
    /// none runs every tie order.
    #[arg(long, value_enum, default_value_t = Reduce::SleepSets)]
    pub reduce: Reduce,
    /// With --strategy sample: samples to draw (1 to 10,000,000).
    #[arg(long, value_name = "N", default_value_t = 10_000,
          value_parser = clap::value_parser!(u64).range(1..=10_000_000))]
    pub runs: u64,
    /// With --strategy sample: the seed every sample's draws derive from.
    #[arg(long, value_name = "S", default_value_t = 0)]
    pub seed: u64,
    /// Worker threads (1 to 256). Default: one per core. The result does not depend on it.
    #[arg(long, value_name = "N", value_parser = parse_jobs)]
    pub jobs: Option<NonZeroUsize>,
    /// Print what was found as JSON.
    #[arg(long)]
    pub json: bool,
}

/// How `explore` explores.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Strategy {
    /// Every schedule within --deviations of the nominal run: a certificate for the scope.
    Bounded,
    /// --runs samples of 1 to --deviations deviations, each placed at random: for scopes too
    /// large to run every schedule; it prints the probability it guarantees, not a certificate.
    Sample,
}

/// What `ticketsim explore --json` prints.
#[derive(serde::Serialize)]
struct ExploreReport<'a> {
    scenario: &'a str,
    scope: Scope,
    modes: &'a [Explored],
    coverage: String,
}

/// Run it.
pub fn execute(args: ExploreArgs) -> Result<u8, Error> {
    let loaded = Scenario::load(&args.scenario)?;
    let (scenario, scope) = explore::target(
        &loaded,
        args.deviations,
        args.latency_points,
        args.max_schedules,
        args.reduce,
    );
    let jobs = args.jobs.unwrap_or_else(default_jobs).get();
    let spinner = explore_spinner();
    let mut modes = Vec::new();
    for occ in args.occ.list() {
        let progress = |n| spinner.set_message(format!("occ {occ}: {n} schedules"));
        let found = match args.strategy {
            Strategy::Bounded => explore::explore(&scenario, occ, scope, jobs, &progress)?,
            Strategy::Sample => {
                let sampling = Sampling {
                    runs: args.runs,
                    seed: args.seed,
                };
                explore::sample(&scenario, occ, scope, sampling, jobs, &progress)?
            }
        };
        modes.push(found);
    }
    spinner.finish_and_clear();
    let cut_short = modes.iter().any(|m| m.cut_short);
    // Sampled: the weakest of the modes' guarantees (the widest choice of a next deviation).
    let weakest = modes
        .iter()
        .filter_map(|m| m.sampled.as_ref())
        .max_by_key(|s| s.widest);
    let coverage = match weakest {
        Some(sampled) => explore::sample_coverage(scope, sampled),
        None => explore::coverage(scope, cut_short, scenario.faults.has_crashes()),
    };
    if args.json {
        let report = ExploreReport {
            scenario: &scenario.name,
            scope,
            modes: &modes,
            coverage,
        };
        output::print_json(
            &serde_json::to_string_pretty(&report).expect("an exploration serializes"),
        )?;
    } else {
        output::print(&render(&scenario, scope, &modes, &coverage))?;
    }
    Ok(0)
}

fn render(scenario: &Scenario, scope: Scope, modes: &[Explored], coverage: &str) -> String {
    let mut out = format!(
        "ticketsim explore · {} · at most {} deviation{} · {} latency points\n",
        scenario.name,
        scope.deviations,
        if scope.deviations == 1 { "" } else { "s" },
        scope.latency_points
    );
    if scenario.is_scope {
        let _ = writeln!(
            out,
            "  the scope of its [explore] table: {}",
            crate::harness::shrink::Size::of(scenario)
        );
    }
    let mut table = Builder::default();
    table.push_record([
        "occ",
        "choices",
        "schedules",
        "pruned",
        "histories",
        "failing",
        "verdict",
    ]);
    for m in modes {
        let verdict = match &m.counterexample {
            None if m.cut_short || m.sampled.is_some() => {
                "no failure in the schedules run".to_owned()
            }
            None => "converges in every schedule".to_owned(),
            Some(c) => format!(
                "FAILS with {} deviation{}",
                c.deviations.len(),
                if c.deviations.len() == 1 { "" } else { "s" }
            ),
        };
        table.push_record([
            m.occ.to_string(),
            m.nominal_choices.total.to_string(),
            m.schedules.to_string(),
            m.pruned.to_string(),
            m.histories.to_string(),
            m.failing.to_string(),
            verdict,
        ]);
    }
    let _ = writeln!(out, "{}", table.build().with(Style::rounded()));
    let _ = writeln!(
        out,
        "choices: in the nominal run; pruned: schedules stopped as equivalent to one that ran; histories: distinct traces among the schedules."
    );
    for m in modes {
        let Some(c) = &m.counterexample else {
            continue;
        };
        let _ = writeln!(
            out,
            "\nocc {}: the run {}, with {}:",
            m.occ,
            c.failure,
            if c.deviations.is_empty() {
                "no deviation: the nominal run".to_owned()
            } else {
                format!(
                    "{} deviation{}",
                    c.deviations.len(),
                    if c.deviations.len() == 1 { "" } else { "s" }
                )
            }
        );
        for d in &c.deviations {
            let _ = writeln!(out, "  - {}", d.describe());
        }
        let _ = writeln!(out, "  replay: {}", c.reproduce);
    }
    let _ = write!(out, "\n{}", wrap(coverage, 96, ""));
    out
}
