//! `ticketsim shrink`: a failing run shrunk to the smallest scenario and seed that fail the
//! same way, written as a scenario file that `ticketsim run` reproduces exactly.

use crate::cli::options::ShrinkBudget;
use crate::cli::output;
use crate::cli::progress::shrink_spinner;
use crate::harness::error::Error;
use crate::harness::run::run_report;
use crate::harness::shrink::{self, Failure, Size};
use crate::model::occ::Occ;
use crate::present::report::reproduce;
use crate::present::report::shell_quote;
use crate::scenario::schema::Scenario;
use clap::Args;
use std::path::PathBuf;

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
    /// Concurrency control of the failing run. Without it, the first of off, on and dedup in
    /// which this seed fails.
    #[arg(long, value_enum)]
    pub occ: Option<Occ>,
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

/// What `ticketsim shrink --json` prints.
#[derive(serde::Serialize)]
struct ShrinkReport<'a> {
    scenario: &'a str,
    seed: u64,
    occ: Occ,
    failure: Failure,
    original: Size,
    minimal: Size,
    minimal_seed: u64,
    steps: &'a [String],
    tries: u64,
    requests_simulated: u64,
    budget_cut_short: bool,
    file: String,
    reproduce: String,
}

/// Run it.
pub fn execute(args: ShrinkArgs) -> Result<u8, Error> {
    let scenario = Scenario::load(&args.scenario)?;
    let seed = args.seed;
    let modes = args.occ.map_or(Occ::ALL.to_vec(), |occ| vec![occ]);
    let failing = modes
        .iter()
        .find_map(|&occ| Failure::of(&run_report(&scenario, seed, occ)).map(|f| (occ, f)));
    let Some((occ, failure)) = failing else {
        let file = shell_quote(&args.scenario.display().to_string());
        let (how, sweep) = match args.occ {
            Some(occ) => (
                format!("with --occ {occ}"),
                format!("ticketsim sweep {file} --occ {occ}"),
            ),
            None => (
                "in every mode".to_owned(),
                format!("ticketsim sweep {file}"),
            ),
        };
        return Err(Error::Usage(format!(
            "{file} converges with seed {seed} {how}: there is no failure to shrink (`{sweep}` lists failing seeds)"
        )));
    };
    let path = args.out.clone().unwrap_or_else(|| {
        PathBuf::from("reports/shrunk").join(format!("{}-seed{seed}-{occ}.toml", scenario.name))
    });
    let fails = move |s: &Scenario, seed: u64| failure.shown_by(&run_report(s, seed, occ));
    let spinner = shrink_spinner();
    let shrunk = shrink::shrink(&scenario, seed, args.shrink.budget(), &fails, &|step| {
        spinner.set_message(step.to_owned())
    });
    spinner.finish_and_clear();
    let (minimal, text) = shrink::minimal_file(&shrunk, &scenario, seed, occ, failure, &path)?;
    let rerun = run_report(&minimal, shrunk.seed, occ);
    shrink::write_minimal(&text, &path, shrunk.seed, occ, &rerun)?;
    let reproduce = reproduce(&minimal, shrunk.seed, occ);
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
            requests_simulated: shrunk.requests,
            budget_cut_short: shrunk.cut_short,
            file: path.display().to_string(),
            reproduce,
        };
        output::print_json(
            &serde_json::to_string_pretty(&report).expect("a shrink report serializes"),
        )?;
    } else {
        let mut text = format!(
            "ticketsim shrink · {} · seed {seed} · occ {occ}\n",
            scenario.name
        );
        text += &format!("  the run {failure}\n");
        text += &format!(
            "  smallest found: {} (the original: {}), seed {}\n",
            Size::of(&minimal),
            Size::of(&scenario),
            shrunk.seed
        );
        text += &format!(
            "  tried {} scenario-and-seed pairs, kept {} changes:\n",
            shrunk.tries,
            shrunk.steps.len()
        );
        for step in &shrunk.steps {
            text += &format!("    - {step}\n");
        }
        if let Some(note) = shrink::cut_short_note(&shrunk) {
            text += &format!("  {note}\n");
        }
        text += &format!("wrote {}\nreproduce: {reproduce}\n", path.display());
        output::print(&text)?;
    }
    Ok(0)
}
