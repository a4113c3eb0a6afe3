//! `ticketsim view`: a run (by its seed) or a schedule (by its tape) beside its cure, as one
//! self-contained HTML page to step through in a browser. It takes the arguments of the
//! `ticketsim run` it shows, so a printed replay command becomes a page by changing one word.

use crate::cli::options::ShrinkBudget;
use crate::cli::output;
use crate::cli::progress::shrink_spinner;
use crate::harness::error::Error;
use crate::harness::files::{not_the_input, write_file};
use crate::harness::view::{view_page, Run};
use crate::model::occ::Occ;
use crate::scenario::schema::Scenario;
use crate::sim::hash::StableHasher;
use crate::sim::tape::Tape;
use clap::Args;
use std::hash::Hasher;
use std::path::PathBuf;

/// `ticketsim view`.
#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  ticketsim view scenarios/did-it-work.toml --seed 4
  ticketsim view reports/demo/did-it-work.minimal.toml --seed 199 --out /tmp/race.html
  ticketsim view scenarios/did-it-work.toml --scoped --tape TOKEN --occ off

The page shows the run in the --occ mode (default off) beside the cure the scenario declares
(beside the run without OCC when that cure is the --occ mode), on the same seed, or on the same
deviations of a tape; for a seed that fails, also the smallest run that fails the same way in
that mode (shrunk as `ticketsim demo` does, its scenario carried in the page as text). One file: no server, no network; it opens offline in any current browser.

An existing file is not overwritten without --force. Exit codes: 0 written; 2 bad input or
usage.")]
pub struct ViewArgs {
    /// The scenario file (see scenarios/).
    pub scenario: PathBuf,
    /// The seed of the run.
    #[arg(long, conflicts_with = "tape", required_unless_present = "tape")]
    pub seed: Option<u64>,
    /// The run's choice tape instead of a seed (what `ticketsim run --print-tape` and
    /// `ticketsim explore` print). A token that does not fit is refused (exit 2).
    #[arg(long, value_name = "TOKEN", value_parser = Tape::from_token)]
    pub tape: Option<Tape>,
    /// Run the scenario's [explore] scope instead of its whole workload, as `ticketsim run
    /// --scoped` does (explored tapes replay on it).
    #[arg(long)]
    pub scoped: bool,
    /// The mode of the run shown beside the cure.
    #[arg(long, value_enum, default_value_t = Occ::Off)]
    pub occ: Occ,
    /// Where to write the page. Default: reports/view/<name>-seed<N>-<occ>.html (a tape's
    /// name holds a hash of the tape instead of a seed).
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Overwrite the file if it exists.
    #[arg(long)]
    pub force: bool,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub shrink: ShrinkBudget,
}

/// Run it.
pub fn execute(args: ViewArgs) -> Result<u8, Error> {
    let scenario = Scenario::load(&args.scenario)?;
    let scenario = if args.scoped {
        let Some(table) = &scenario.explore else {
            return Err(Error::Usage(format!(
                "{} has no [explore] table, so no scope to view: leave out --scoped",
                args.scenario.display()
            )));
        };
        scenario.scoped(table)
    } else {
        scenario
    };
    let run = match (args.tape, args.seed) {
        (Some(tape), _) => Run::Tape(tape),
        (None, Some(seed)) => Run::Seed(seed),
        (None, None) => return Err(Error::Usage("give --seed N or --tape TOKEN".to_owned())),
    };
    let occ = args.occ;
    let path = args.out.clone().unwrap_or_else(|| {
        let scope = if args.scoped { "-scope" } else { "" };
        let which = match &run {
            Run::Seed(seed) => format!("seed{seed}"),
            Run::Tape(tape) => {
                let mut h = StableHasher::default();
                h.write(tape.token().as_bytes());
                format!("tape{:08x}", h.finish() as u32)
            }
        };
        PathBuf::from("reports/view").join(format!("{}{scope}-{which}-{occ}.html", scenario.name))
    });
    not_the_input(&path, &args.scenario, "--out")?;
    if path.exists() && !args.force {
        return Err(Error::Usage(format!(
            "{} exists already: pass --force to overwrite it, or --out to write elsewhere",
            path.display()
        )));
    }
    let spinner = shrink_spinner();
    let page = view_page(&scenario, &run, occ, args.shrink.budget(), &path, &|step| {
        spinner.set_message(step.to_owned())
    })?;
    spinner.finish_and_clear();
    write_file(&path, &page)?;
    output::print(&format!(
        "wrote {} ({} KB): open it in a browser to step through the run beside its cure\n",
        path.display(),
        page.len().div_ceil(1024)
    ))?;
    Ok(0)
}
