//! The command line: one `Args` struct per subcommand, whose doc comments are the help text.

use crate::baseline::{self, Baseline};
use crate::domain::Occ;
use crate::error::Error;
use crate::scenario::Scenario;
use crate::sweep::{self, Plan, Seeds, Shard, SweepReport};
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::fs::File;
use std::io::{BufWriter, IsTerminal};
use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};

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
    /// Run scenarios over a range of seeds in every mode, judge their expectations, and
    /// compare with the committed baselines.
    Sweep(SweepArgs),
    /// Combine the --json reports of every shard of a sweep into the whole sweep's report.
    Merge(MergeArgs),
    /// Watch the race, then watch OCC cure it: one seed without and with OCC side by side,
    /// the story of one ticket, and the smallest run that fails the same way, drawn.
    Demo(DemoArgs),
    /// Shrink a failing run to the smallest scenario (and a seed) that fails the same way, and
    /// write it as a scenario file that `ticketsim run` reproduces exactly.
    Shrink(ShrinkArgs),
}

/// When to colour the output.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ColorWhen {
    /// When standard output is a terminal and NO_COLOR is not set.
    Auto,
    /// Always.
    Always,
    /// Never.
    Never,
}

impl ColorWhen {
    fn paint(self) -> crate::demo::Paint {
        let enabled = match self {
            ColorWhen::Always => true,
            ColorWhen::Never => false,
            ColorWhen::Auto => {
                std::io::stdout().is_terminal()
                    && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
            }
        };
        crate::demo::Paint { enabled }
    }
}

/// How hard shrinking looks.
#[derive(Debug, Args)]
pub struct ShrinkBudget {
    /// Seeds to try for each smaller scenario before giving it up (the current seed first,
    /// then 0, 1, 2, …).
    #[arg(long, value_name = "N", default_value_t = 1000)]
    pub search: u64,
    /// Worker threads for the seed search. Default: one per core. The result does not depend
    /// on it.
    #[arg(long, value_name = "N")]
    pub jobs: Option<NonZeroUsize>,
}

impl ShrinkBudget {
    fn budget(&self) -> crate::shrink::Budget {
        crate::shrink::Budget {
            seeds: self.search.max(1),
            jobs: self.jobs.unwrap_or_else(sweep::default_jobs).get(),
        }
    }
}

/// `ticketsim demo`.
#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  ticketsim demo                                       the course's script (did-it-work), seed 4
  ticketsim demo scenarios/edit-races-reservation.toml --seed 3
  ticketsim demo --out /tmp/demo --color never

Writes, under --out: <name>.md (the story, with Mermaid sequence diagrams), <name>.svg (the
smallest failing run as sequence diagrams) and <name>.minimal.toml (that run as a scenario).")]
pub struct DemoArgs {
    /// The scenario file.
    #[arg(default_value = crate::demo::DEFAULT_SCENARIO)]
    pub scenario: PathBuf,
    /// The seed to show. When it does not go wrong without OCC, the next one that does is shown.
    #[arg(long, default_value_t = crate::demo::DEFAULT_SEED)]
    pub seed: u64,
    /// Where to write the Markdown report, the SVG and the minimal scenario.
    #[arg(long, value_name = "DIR", default_value = "reports/demo")]
    pub out: PathBuf,
    /// Colour the output.
    #[arg(long, value_enum, default_value_t = ColorWhen::Auto)]
    pub color: ColorWhen,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub shrink: ShrinkBudget,
}

/// `ticketsim shrink`.
#[derive(Debug, Args)]
#[command(after_help = "\
Example:
  ticketsim shrink scenarios/crash-before-publish.toml --seed 3 --occ on

A run fails when it diverges, gets stuck (a redelivery loop, a limit) or breaks an invariant;
\"the same way\" means the same broken invariant, the same loop's channel, or a divergence on the
same field. Exit codes: 0 shrunk and written; 2 bad input, or the run does not fail.")]
pub struct ShrinkArgs {
    /// The scenario file.
    pub scenario: PathBuf,
    /// The seed of the failing run.
    #[arg(long)]
    pub seed: u64,
    /// Concurrency control of the failing run.
    #[arg(long, value_enum, default_value_t = Occ::On)]
    pub occ: Occ,
    /// Where to write the minimal scenario. Default: reports/shrunk/<name>-seed<N>-<occ>.toml.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Print what was found as JSON instead of the summary.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub shrink: ShrinkBudget,
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

/// Which modes a sweep runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Modes {
    /// Without OCC.
    Off,
    /// With OCC as taught.
    On,
    /// With OCC and deduplication.
    Dedup,
    /// All three.
    All,
}

impl Modes {
    fn list(self) -> Vec<Occ> {
        match self {
            Modes::Off => vec![Occ::Off],
            Modes::On => vec![Occ::On],
            Modes::Dedup => vec![Occ::Dedup],
            Modes::All => Occ::ALL.to_vec(),
        }
    }
}

/// `ticketsim sweep`.
#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  ticketsim sweep                                     every scenario, seeds 0..100, every mode
  ticketsim sweep scenarios/did-it-work.toml --seeds 0..10000 --occ off
  ticketsim sweep --check                             compare with reports/*.baseline.toml
  ticketsim sweep --update-baselines                  record the outcomes as the new baselines
  ticketsim sweep --shard 1/2 --json > a.json         half the runs, for one of two CI jobs

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
    /// Worker threads. Default: one per core. The results do not depend on it.
    #[arg(long, value_name = "N")]
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

/// `ticketsim merge`.
#[derive(Debug, Args)]
#[command(after_help = "Example:\n  ticketsim merge shard-1.json shard-2.json")]
pub struct MergeArgs {
    /// The `ticketsim sweep --shard K/N --json` reports, one per shard.
    #[arg(required = true)]
    pub reports: Vec<PathBuf>,
    /// Print the merged report as JSON instead of the summary.
    #[arg(long)]
    pub json: bool,
}

/// Run the parsed command; returns the exit code for a command that did its job (0, or 1 when
/// an expectation failed).
pub fn execute(cli: Cli) -> Result<u8, Error> {
    match cli.command {
        Command::Run(args) => run(args),
        Command::Sweep(args) => run_sweep(args),
        Command::Merge(args) => merge(args),
        Command::Demo(args) => demo(args),
        Command::Shrink(args) => shrink(args),
    }
}

/// The scenario files a sweep without arguments runs: `scenarios/*.toml`, by name.
fn bundled_scenarios() -> Result<Vec<PathBuf>, Error> {
    let dir = Path::new("scenarios");
    let entries = std::fs::read_dir(dir).map_err(|e| {
        Error::Usage(format!(
            "no scenario files given, and cannot read {}/ ({e}): run from the repository root or name the files",
            dir.display()
        ))
    })?;
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    paths.sort();
    if paths.is_empty() {
        return Err(Error::Usage(format!(
            "{}/ holds no .toml scenario files",
            dir.display()
        )));
    }
    Ok(paths)
}

fn run_sweep(args: SweepArgs) -> Result<u8, Error> {
    let paths = if args.scenarios.is_empty() {
        bundled_scenarios()?
    } else {
        args.scenarios.clone()
    };
    let scenarios = paths
        .iter()
        .map(|p| Scenario::load(p))
        .collect::<Result<Vec<_>, _>>()?;
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
    let plan = Plan::grid(scenarios.len(), &modes, seeds, args.shard);
    let jobs = args.jobs.unwrap_or_else(sweep::default_jobs);
    let bar = progress_bar(plan.shard_runs());
    let outcomes = sweep::run(&scenarios, &plan, jobs, &|| bar.inc(1));
    bar.finish_and_clear();

    let check = baselines.map(|b| baseline::check(&plan, &scenarios, &b, &outcomes.tallies));
    if args.update_baselines {
        if !outcomes.panics.is_empty() {
            return Err(Error::Usage(format!(
                "{} runs panicked; not writing baselines (run without --update-baselines to see them)",
                outcomes.panics.len()
            )));
        }
        std::fs::create_dir_all(&args.reports).map_err(|source| Error::Write {
            path: args.reports.clone(),
            source,
        })?;
        // The plan is scenario-major over `Occ::ALL`: one chunk of tallies per scenario.
        for (s, t) in scenarios
            .iter()
            .zip(outcomes.tallies.chunks(Occ::ALL.len()))
        {
            let text = Baseline::render(s, args.seeds, [&t[0], &t[1], &t[2]]);
            let path = Baseline::path(&args.reports, s);
            std::fs::write(&path, text).map_err(|source| Error::Write {
                path: path.clone(),
                source,
            })?;
            eprintln!("wrote {}", path.display());
        }
    }
    let report = SweepReport::new(&scenarios, &plan, outcomes, check);
    print_sweep(&report, args.json);
    Ok(u8::from(!report.passed))
}

fn progress_bar(runs: u64) -> indicatif::ProgressBar {
    use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(runs), ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template(
            "sweeping [{bar:32}] {human_pos}/{human_len} runs · {per_sec} · {eta} left",
        )
        .expect("a valid template")
        .progress_chars("=> "),
    );
    bar
}

/// A spinner on stderr naming the last change shrinking kept (none when stderr is piped).
fn shrink_spinner() -> indicatif::ProgressBar {
    use indicatif::{ProgressBar, ProgressStyle};
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let spinner = ProgressBar::new_spinner();
    spinner.set_style(
        ProgressStyle::with_template("{spinner} shrinking… kept: {wide_msg}")
            .expect("a valid template"),
    );
    spinner.enable_steady_tick(std::time::Duration::from_millis(100));
    spinner
}

fn print_sweep(report: &SweepReport, json: bool) {
    if json {
        println!("{}", report.to_json());
    } else {
        print!("{}", report.render());
    }
}

fn merge(args: MergeArgs) -> Result<u8, Error> {
    let mut parts = Vec::with_capacity(args.reports.len());
    for path in &args.reports {
        let text = std::fs::read_to_string(path).map_err(|e| Error::Input {
            path: path.clone(),
            message: format!("cannot read it: {e}"),
        })?;
        let part: SweepReport = serde_json::from_str(&text).map_err(|e| Error::Input {
            path: path.clone(),
            message: format!("is not a `ticketsim sweep --json` report: {e}"),
        })?;
        parts.push(part);
    }
    let report = SweepReport::merge(parts).map_err(Error::Usage)?;
    print_sweep(&report, args.json);
    Ok(u8::from(!report.passed))
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

fn demo(args: DemoArgs) -> Result<u8, Error> {
    let scenario = Scenario::load(&args.scenario)?;
    let spinner = shrink_spinner();
    let demo = crate::demo::Demo::build(
        &scenario,
        args.seed,
        args.shrink.budget(),
        &args.out,
        &|step| spinner.set_message(step.to_owned()),
    )?;
    spinner.finish_and_clear();
    demo.write()?;
    print!("{}", demo.render(args.color.paint()));
    Ok(0)
}

/// What `ticketsim shrink --json` prints.
#[derive(serde::Serialize)]
struct ShrinkReport<'a> {
    scenario: &'a str,
    seed: u64,
    occ: Occ,
    failure: crate::shrink::Failure,
    original: crate::shrink::Size,
    minimal: crate::shrink::Size,
    minimal_seed: u64,
    steps: &'a [String],
    tries: u64,
    file: String,
    reproduce: String,
}

fn shrink(args: ShrinkArgs) -> Result<u8, Error> {
    use crate::shrink::{self, Failure, Size};
    let scenario = Scenario::load(&args.scenario)?;
    let (seed, occ) = (args.seed, args.occ);
    let first = crate::run_report(&scenario, seed, occ);
    let Some(failure) = Failure::of(&first) else {
        return Err(Error::Usage(format!(
            "{} converges with seed {seed} and --occ {occ}: there is no failure to shrink \
             (`ticketsim sweep {} --occ {occ}` lists failing seeds)",
            args.scenario.display(),
            args.scenario.display()
        )));
    };
    let path = args.out.clone().unwrap_or_else(|| {
        PathBuf::from("reports/shrunk").join(format!("{}-seed{seed}-{occ}.toml", scenario.name))
    });
    let fails = move |s: &Scenario, seed: u64| failure.shown_by(&crate::run_report(s, seed, occ));
    let spinner = shrink_spinner();
    let shrunk = shrink::shrink(&scenario, seed, args.shrink.budget(), &fails, &|step| {
        spinner.set_message(step.to_owned())
    });
    spinner.finish_and_clear();
    let (minimal, text) = shrink::minimal_file(&shrunk, &scenario, seed, occ, failure, &path)?;
    let rerun = crate::run_report(&minimal, shrunk.seed, occ);
    shrink::write_minimal(&text, &path, shrunk.seed, occ, &rerun)?;
    let reproduce = crate::report::reproduce(&minimal, shrunk.seed, occ);
    if args.json {
        let report = ShrinkReport {
            scenario: &scenario.name,
            seed,
            occ,
            failure,
            original: Size::of(&scenario),
            minimal: Size::of(&minimal),
            minimal_seed: shrunk.seed,
            steps: &shrunk.steps,
            tries: shrunk.tries,
            file: path.display().to_string(),
            reproduce,
        };
        println!(
            "{}",
            serde_json::to_string_pretty(&report).expect("a shrink report serializes")
        );
    } else {
        println!(
            "ticketsim shrink · {} · seed {seed} · occ {occ}",
            scenario.name
        );
        println!("  the run {failure}");
        println!(
            "  smallest found: {} (the original: {}), seed {}",
            Size::of(&minimal),
            Size::of(&scenario),
            shrunk.seed
        );
        println!(
            "  tried {} scenario-and-seed pairs, kept {} changes:",
            shrunk.tries,
            shrunk.steps.len()
        );
        for step in &shrunk.steps {
            println!("    - {step}");
        }
        println!("wrote {}", path.display());
        println!("reproduce: {reproduce}");
    }
    Ok(0)
}
