//! `ticketsim demo`: the race and its cure on one seed, told, shrunk and drawn.

use crate::cli::options::{ColorWhen, ShrinkBudget};
use crate::cli::output;
use crate::cli::progress::shrink_spinner;
use crate::harness::catalogue::{self, Entry};
use crate::harness::demo::{Cure, Demo, DEFAULT_SCENARIO, DEFAULT_SEED};
use crate::harness::error::Error;
use crate::harness::files::write_file;
use crate::harness::view;
use crate::present::story::wrap;
use crate::scenario::cure::CureTable;
use crate::scenario::schema::Scenario;
use clap::Args;
use std::path::PathBuf;

/// `ticketsim demo`.
#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  ticketsim demo                                       the course's script (did-it-work), seed 4
  ticketsim demo scenarios/edit-races-reservation.toml --seed 3
  ticketsim demo --out /tmp/demo --color never
  ticketsim demo --list                                every scenario of the race catalogue

The cure shown is the one the scenario's [cure] table declares: a mode, or [cures] switches run
with --occ on (a catalogue file with those switches on names the replays); without the table,
or when it says none is modelled, the first of --occ on and --occ dedup that the scenario
expects to converge (OCC as taught when neither does). For a scenario with an [explore] table the demo then explores
that smallest scope without OCC, tells the first failing schedule as a story, replays it in the
cure's mode, and says what exploring in that mode certifies (see `ticketsim explore`); that part
does not depend on --seed.

Writes, under --out: <name>.md (the story, with Mermaid sequence diagrams), <name>.html (the
race and its cure to step through in a browser, one self-contained file), <name>.svg (the
smallest failing run as sequence diagrams) and <name>.minimal.toml (that run as a scenario);
when the cure is a [cures] switch, also <name>.minimal-cured.toml (that run with the switch on).")]
pub struct DemoArgs {
    /// Name every scenario of the race catalogue (scenarios/), with what it shows, and stop.
    #[arg(long, conflicts_with_all = ["scenario", "seed", "out"])]
    pub list: bool,
    /// The scenario file.
    #[arg(default_value = DEFAULT_SCENARIO)]
    pub scenario: PathBuf,
    /// The seed to show. When it does not go wrong without OCC, the next one that does is shown.
    #[arg(long, default_value_t = DEFAULT_SEED)]
    pub seed: u64,
    /// Where to write the Markdown report, the page, the SVG and the minimal scenario.
    #[arg(long, value_name = "DIR", default_value = "reports/demo")]
    pub out: PathBuf,
    /// Colour the output.
    #[arg(long, value_enum, default_value_t = ColorWhen::Auto)]
    pub color: ColorWhen,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub shrink: ShrinkBudget,
}

/// Run it.
pub fn execute(args: DemoArgs) -> Result<u8, Error> {
    if args.list {
        output::print(&list(&catalogue::entries()?))?;
        return Ok(0);
    }
    let scenario = Scenario::load(&args.scenario)?;
    let spinner = shrink_spinner();
    let demo = Demo::build(
        &scenario,
        args.seed,
        args.shrink.budget(),
        &args.out,
        &|step| spinner.set_message(step.to_owned()),
    )?;
    spinner.finish_and_clear();
    let page = view::demo_page(&demo)?;
    demo.write()?;
    write_file(&demo.files.html, &page)?;
    output::print(&demo.render(args.color.paint()))?;
    Ok(0)
}

/// What cures a race, as its `[cure]` table declares: "cure: OCC (--occ on)", "no cure: why".
fn cure_line(table: &CureTable) -> String {
    match (Cure::declared(table), &table.none) {
        (Some(cure), _) => format!("cure: {} ({})", cure.name(), cure.flags()),
        (None, why) => format!("no cure: {}", why.as_deref().unwrap_or("").trim()),
    }
}

/// The catalogue, one scenario per line: its number, its name, and what it shows; under a
/// race, what cures it.
fn list(entries: &[Entry]) -> String {
    let width = entries.iter().map(|e| e.name.len()).max().unwrap_or(0);
    let mut out = format!(
        "The race catalogue ({}/): `ticketsim demo {}/NAME.toml` tells one.\n\n",
        catalogue::DIR,
        catalogue::DIR
    );
    for e in entries {
        let number = e.number.map_or_else(|| "-".to_owned(), |n| format!("#{n}"));
        out.push_str(&format!("{number:>4}  {:<width$}  {}\n", e.name, e.summary));
        let indent = " ".repeat(width + 8);
        if let Some(line) = e.cure.as_ref().map(cure_line) {
            out.push_str(&wrap(
                &line,
                100usize.saturating_sub(indent.len()).max(40),
                &indent,
            ));
        }
    }
    out
}
