//! `ticketsim demo`: watch the race, then watch its cure.
//!
//! One seed of a scenario runs without OCC and in the mode that cures its race ([`Cure`]: with
//! OCC, or with OCC and deduplication, as the scenario's expectations say: [`cure`]). The demo shows the course's check side
//! by side (tickets priced 15 in each database), tells the story of one ticket that went wrong
//! in both runs, shrinks the failure to the smallest run that fails the same way (and is cured
//! the same way), and draws that one as sequence diagrams. When the scenario has an `[explore]`
//! table, it then tells the first failing schedule of that smallest scope ([`explored`]).
//! Everything in it follows from the scenario and the seed: the same command prints the same
//! bytes.

pub mod cure;
pub mod explored;

use crate::check::findings::{Outcome, PriceCount};
pub use crate::harness::demo::cure::Cure;
use crate::harness::demo::cure::{none_note, race_heading, race_mode, race_words};
use crate::harness::demo::explored::ScopeStory;
use crate::harness::error::Error;
use crate::harness::files::write_file;
use crate::harness::run::{run, run_report};
use crate::harness::shrink::{self, Budget, Failure, Shrunk, Size};
use crate::model::documents::{Price, TicketId};
use crate::model::occ::Occ;
use crate::present::diagram::{self, Panel};
use crate::present::paint::{has_invariant_violation, Paint};
use crate::present::report::{reproduce, Report};
use crate::present::story::{wrap, Mark, Story};
use crate::present::summary::outcome_cell;
use crate::scenario::schema::Scenario;
use crate::sim::trace::Trace;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use tabled::builder::Builder;
use tabled::settings::Style;

/// The scenario the demo runs without arguments: the course's own concurrency script.
pub const DEFAULT_SCENARIO: &str = "scenarios/did-it-work.toml";

/// The seed the demo runs without `--seed`.
pub const DEFAULT_SEED: u64 = 4;

/// Seeds after the asked one the demo tries when that one does not fail without OCC.
pub const SEED_SEARCH: u64 = 1000;

/// One run of the demo, kept as what the demo shows of it.
pub struct Shown {
    /// Its report.
    pub report: Report,
    /// Its whole trace.
    pub trace: Trace,
}

impl Shown {
    /// Run `scenario` under `seed` in mode `occ`, keeping its trace.
    pub fn run(scenario: &Scenario, seed: u64, occ: Occ) -> Shown {
        let result = run(scenario, seed, occ);
        Shown {
            report: result.report,
            trace: result.trace,
        }
    }

    fn story(&self, scenario: &Scenario, ticket: TicketId) -> Story {
        Story::of(
            &self.trace,
            &self.report,
            scenario.topology.orders_replicas as u8,
            ticket,
        )
    }
}

/// A failure, told: the ticket's stories in both modes, and the shrunk counterexample.
pub struct Told {
    /// How the run without OCC fails.
    pub failure: Failure,
    /// Whether the run in the cure's mode converged (and so the demo shows a cure).
    pub cured: bool,
    /// The ticket whose story is told.
    pub ticket: TicketId,
    /// Its story without OCC.
    pub off: Story,
    /// Its story in the cure's mode, same seed.
    pub on: Story,
    /// The smallest scenario and seed found that fail the same way.
    pub shrunk: Shrunk,
    /// The minimal scenario as written (renamed, with its file as source).
    pub minimal: Scenario,
    /// Its TOML text.
    pub minimal_toml: String,
    /// The minimal scenario with the cure's switches on, as TOML, for a cure of switches.
    pub minimal_cured_toml: Option<String>,
    /// The minimal run without OCC.
    pub minimal_off: Shown,
    /// The minimal run in the cure's mode.
    pub minimal_on: Shown,
    /// The story of its failing ticket without OCC.
    pub minimal_off_story: Story,
    /// The same ticket in the cure's mode.
    pub minimal_on_story: Story,
}

/// Everything the demo shows.
pub struct Demo {
    /// The scenario.
    pub scenario: Scenario,
    /// The seed asked for.
    pub asked_seed: u64,
    /// The seed shown: the asked one, or the first after it that fails without OCC.
    pub seed: u64,
    /// The mode the race is shown in ([`race_mode`]): without OCC, unless the scenario
    /// expects that to converge.
    pub race: Occ,
    /// The run in the race's mode (without OCC, for most races).
    pub off: Shown,
    /// The mode shown as the cure.
    pub cure: Cure,
    /// The run in the cure's mode.
    pub on: Shown,
    /// The scenario file that runs this one with the cure's switches on, if there is one.
    pub twin: Option<PathBuf>,
    /// The story, when a seed fails.
    pub told: Option<Told>,
    /// Every schedule of the scenario's `[explore]` scope, when it has one, and the first
    /// failing one told.
    pub explored: Option<ScopeStory>,
    /// Where the files go.
    pub files: Files,
}

/// The files the demo writes.
pub struct Files {
    /// The Markdown report.
    pub markdown: PathBuf,
    /// The SVG sequence diagrams.
    pub svg: PathBuf,
    /// The minimal scenario.
    pub minimal: PathBuf,
    /// The minimal scenario with the cure's `[cures]` switches on (written only for such a
    /// cure: a mode's cure is a flag of the same command).
    pub minimal_cured: PathBuf,
    /// The page that steps through the race and its cure in a browser.
    pub html: PathBuf,
}

impl Files {
    /// The demo's files of `scenario` under `dir`.
    pub fn new(dir: &Path, scenario: &Scenario) -> Files {
        Files {
            markdown: dir.join(format!("{}.md", scenario.name)),
            svg: dir.join(format!("{}.svg", scenario.name)),
            minimal: dir.join(format!("{}.minimal.toml", scenario.name)),
            minimal_cured: dir.join(format!("{}.minimal-cured.toml", scenario.name)),
            html: dir.join(format!("{}.html", scenario.name)),
        }
    }
}

/// The largest workload the demo takes: it keeps two runs' whole traces (about eight records
/// a request) in memory to tell one ticket's story; 20,000 requests, thirty times the course's
/// script, keep that near 100 MB. (Its shrinking is bounded by `--budget`, in requests.)
pub const DEMO_MAX_REQUESTS: u64 = 20_000;

/// Refuse a scenario too large to keep two whole traces of (`why` the page or demo keeps them,
/// `also` another way out): the demo's and `ticketsim view`'s bound.
pub fn keeps_two_traces(scenario: &Scenario, why: &str, also: &str) -> Result<(), Error> {
    let requests = scenario.total_requests();
    if requests <= DEMO_MAX_REQUESTS {
        return Ok(());
    }
    Err(Error::Usage(format!(
        "{} sends {requests} requests; {why}, so it takes at most {DEMO_MAX_REQUESTS}: shrink the scenario first (`ticketsim shrink`){also}",
        crate::present::report::shell_quote(&scenario.source.display().to_string())
    )))
}

impl Demo {
    /// Run the demo of `scenario` from `seed`; `out` is where its files will go (their paths
    /// appear in the text).
    pub fn build(
        scenario: &Scenario,
        seed: u64,
        budget: Budget,
        out: &Path,
        progress: &dyn Fn(&str),
    ) -> Result<Demo, Error> {
        keeps_two_traces(
            scenario,
            "the demo keeps both runs' whole traces to tell their story",
            ", or use `ticketsim run`, which keeps no trace",
        )?;
        let files = Files::new(out, scenario);
        let race = race_mode(scenario);
        let mut shown_seed = seed;
        let mut off = Shown::run(scenario, seed, race);
        if Failure::of(&off.report).is_none() {
            let later = (seed.saturating_add(1)..seed.saturating_add(SEED_SEARCH))
                .find(|&s| Failure::of(&run_report(scenario, s, race)).is_some());
            if let Some(s) = later {
                shown_seed = s;
                off = Shown::run(scenario, s, race);
            }
        }
        let cure = match Cure::of(scenario) {
            // A race OCC makes, with no cure: beside it, the run without OCC.
            c if c.occ() == race => Cure::Mode(Occ::Off),
            c => c,
        };
        let twin = cure.twin(scenario);
        let on = Shown::run(&cure.apply(scenario), shown_seed, cure.occ());
        let told = match Failure::of(&off.report) {
            Some(failure) => Some(tell(
                scenario,
                (shown_seed, race),
                failure,
                &off,
                &on,
                cure,
                budget,
                &files,
                progress,
            )?),
            None => None,
        };
        let explored = ScopeStory::build(scenario, cure, twin.as_deref(), budget.jobs)?;
        Ok(Demo {
            scenario: scenario.clone(),
            asked_seed: seed,
            seed: shown_seed,
            race,
            off,
            cure,
            on,
            twin,
            told,
            explored,
            files,
        })
    }

    /// The price the side-by-side table counts: the one most tickets end at in the tickets
    /// database (15 for the course's script).
    pub fn price(&self) -> Option<Price> {
        self.off
            .report
            .price_counts
            .iter()
            .max_by_key(|p| (p.tickets_db, p.price))
            .map(|p| p.price)
    }

    /// The terminal text.
    pub fn render(&self, paint: Paint) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "{}",
            paint.bold(&format!(
                "ticketsim demo · {} · seed {}",
                self.scenario.name, self.seed
            ))
        );
        for line in self.scenario.description.trim().lines() {
            let _ = writeln!(out, "  {}", line.trim());
        }
        if self.seed != self.asked_seed {
            let _ = writeln!(
                out,
                "\n  Seed {} does not go wrong {} (the race needs unlucky timing); seed {} is the next one that does.",
                self.asked_seed, race_words(self.race, false), self.seed
            );
        }
        let _ = writeln!(out, "\n{}", paint.bold(&self.table_heading()));
        let _ = writeln!(out, "{}", self.table(paint));
        if let Some(note) = none_note(&self.scenario) {
            let _ = write!(out, "\n{}", wrap(&note, 96, "  "));
        }
        let Some(told) = &self.told else {
            let _ = writeln!(
                out,
                "\nNo seed from {} to {} goes wrong {}: there is no race to show.",
                self.asked_seed,
                self.asked_seed.saturating_add(SEED_SEARCH - 1),
                race_words(self.race, false)
            );
            if let Some(explored) = &self.explored {
                let _ = write!(out, "\n{}", explored.render(paint));
            }
            return out;
        };
        let mark = |m: Mark, t: &str| paint.mark(m, t);
        let _ = writeln!(
            out,
            "\n{}",
            paint.bold(&format!(
                "What happened to ticket {} {}",
                told.ticket,
                race_words(self.race, true)
            ))
        );
        out.push_str(&told.off.render(&mark));
        let _ = writeln!(
            out,
            "\n{}",
            paint.bold(&format!(
                "The same ticket {}, same seed",
                self.cure.with_flag()
            ))
        );
        out.push_str(&told.on.render(&mark));
        let _ = writeln!(
            out,
            "\n{}",
            paint.bold("The smallest run that fails the same way")
        );
        out.push_str(&self.shrink_summary(told, "  "));
        if let Some(explored) = &self.explored {
            let _ = write!(out, "\n{}", explored.render(paint));
        }
        let _ = writeln!(out, "\n{}", paint.bold("Written"));
        let written = self.written();
        let width = written
            .iter()
            .map(|(p, _)| p.display().to_string().chars().count())
            .max()
            .unwrap_or(0);
        for (path, what) in written {
            let path = path.display().to_string();
            let _ = writeln!(out, "  {path:<width$}  {}", paint.dim(what));
        }
        out
    }

    fn table_heading(&self) -> String {
        match self.price() {
            Some(p) => format!(
                "Did it work? The course's check: how many tickets are priced {p} in each database"
            ),
            None => "Did it work?".to_owned(),
        }
    }

    fn rows(&self) -> Vec<[String; 4]> {
        let price = self.price();
        [
            (&self.off, race_words(self.race, true)),
            (&self.on, self.cure.with_flag()),
        ]
        .into_iter()
        .map(|(run, mode)| {
            let count = |db: fn(&PriceCount) -> u64| {
                run.report
                    .price_counts
                    .iter()
                    .find(|p| Some(p.price) == price)
                    .map_or(0, db)
                    .to_string()
            };
            [
                mode,
                count(|p| p.tickets_db),
                count(|p| p.orders_db),
                outcome_cell(&run.report),
            ]
        })
        .collect()
    }

    fn table(&self, paint: Paint) -> String {
        let mut b = Builder::default();
        b.push_record(["", "tickets db", "orders db", "outcome"]);
        for (row, run) in self.rows().into_iter().zip([&self.off, &self.on]) {
            let [mode, t, o, verdict] = row;
            b.push_record([mode, t, o, paint.outcome(&run.report, &verdict)]);
        }
        b.build().with(Style::rounded()).to_string()
    }

    fn written(&self) -> Vec<(&Path, &'static str)> {
        let mut files = vec![(
            self.files.markdown.as_path(),
            "this story, with sequence diagrams (Mermaid)",
        )];
        let page = "the race and its cure to step through in a browser";
        files.push((self.files.html.as_path(), page));
        if self.told.is_some() {
            files.push((
                self.files.svg.as_path(),
                "the smallest run as sequence diagrams",
            ));
            files.push((
                self.files.minimal.as_path(),
                "the smallest run as a scenario file",
            ));
        }
        if self
            .told
            .as_ref()
            .is_some_and(|t| t.minimal_cured_toml.is_some())
        {
            files.push((
                self.files.minimal_cured.as_path(),
                "the smallest run with the cure, as a scenario file",
            ));
        }
        files
    }

    fn shrink_summary(&self, told: &Told, indent: &str) -> String {
        let mut out = String::new();
        let size = Size::of(&told.minimal);
        let original = Size::of(&self.scenario);
        out.push_str(&wrap(
            &format!(
                "{size} (the original: {original}), seed {}.",
                told.shrunk.seed
            ),
            96,
            indent,
        ));
        let cure = if told.cured {
            let on = &told.minimal_on.report;
            format!(
                " With {} it {} {}.",
                self.cure.name(),
                if on.outcome == Outcome::Converged {
                    "converges"
                } else {
                    "does not converge"
                },
                self.cure.after(on)
            )
        } else {
            format!(
                " {}: {}.",
                self.cure.beside(),
                outcome_cell(&told.minimal_on.report)
            )
        };
        let race = race_heading(self.race, false);
        let _ = writeln!(out, "{indent}{race} it {}.{cure}", told.failure);
        let _ = writeln!(
            out,
            "{indent}Shrinking tried {} scenario-and-seed pairs and kept {} changes:",
            told.shrunk.tries,
            told.shrunk.steps.len()
        );
        for step in &told.shrunk.steps {
            let _ = writeln!(out, "{indent}  - {step}");
        }
        if let Some(note) = shrink::cut_short_note(&told.shrunk) {
            let _ = writeln!(out, "{indent}{note}");
        }
        let _ = writeln!(out, "{indent}Run it:");
        let _ = writeln!(
            out,
            "{indent}  {}\n{indent}  {}",
            reproduce(&told.minimal, told.shrunk.seed, self.race),
            self.cure.reproduce(
                &self.cure.apply(&told.minimal),
                told.minimal_cured_toml
                    .as_ref()
                    .map(|_| self.files.minimal_cured.as_path()),
                told.shrunk.seed
            )
        );
        out
    }

    /// The Markdown report: the table, the stories, the shrunk run and its diagrams.
    pub fn markdown(&self) -> String {
        let mut out = String::new();
        let name = &self.scenario.name;
        let _ = writeln!(
            out,
            "# {name}, seed {}: the race, and {}\n",
            self.seed,
            match self.cure {
                Cure::Mode(Occ::Dedup) => "deduplication's cure".to_owned(),
                Cure::Mode(_) => "OCC's cure".to_owned(),
                Cure::Switches(..) => format!("its cure, {}", self.cure.name()),
            }
        );
        for line in self.scenario.description.trim().lines() {
            let _ = writeln!(out, "> {}", line.trim());
        }
        let _ = writeln!(
            out,
            "\nMade by `ticketsim demo {} --seed {}`; every time below is simulated.\n",
            self.scenario.source.display(),
            self.asked_seed
        );
        let _ = writeln!(out, "## {}\n", self.table_heading());
        let _ = writeln!(
            out,
            "| | tickets db | orders db | outcome |\n|---|---:|---:|---|"
        );
        for [mode, t, o, verdict] in self.rows() {
            let _ = writeln!(out, "| {mode} | {t} | {o} | {verdict} |");
        }
        if let Some(note) = none_note(&self.scenario) {
            let _ = writeln!(out, "\n{note}");
        }
        let Some(told) = &self.told else {
            let _ = writeln!(
                out,
                "\nNo seed goes wrong {}: there is no race to show.",
                race_words(self.race, false)
            );
            if let Some(explored) = &self.explored {
                let _ = write!(out, "\n{}", explored.markdown());
            }
            return out;
        };
        let plain = |_: Mark, t: &str| t.to_owned();
        let _ = writeln!(out, "\n## What happened to ticket {}\n", told.ticket);
        let _ = writeln!(
            out,
            "### {}\n\n```text\n{}```\n",
            race_heading(self.race, true),
            told.off.render(&plain)
        );
        let _ = writeln!(
            out,
            "### With {} (`{}`), same seed\n\n```text\n{}```\n",
            self.cure.name(),
            self.cure.flags(),
            told.on.render(&plain)
        );
        let _ = writeln!(out, "## The smallest run that fails the same way\n");
        let _ = writeln!(
            out,
            "[`{}`]({}) ({}; seed {}):\n",
            told.minimal.name,
            file_name(&self.files.minimal),
            Size::of(&told.minimal),
            told.shrunk.seed
        );
        out.push_str("```text\n");
        out.push_str(&self.shrink_summary(told, ""));
        out.push_str("```\n\n");
        for (title, story) in [
            (race_heading(self.race, false), &told.minimal_off_story),
            (
                format!("{}, same seed", self.cure.beside()),
                &told.minimal_on_story,
            ),
        ] {
            let _ = writeln!(
                out,
                "### {title}\n\n```text\n{}```\n\n```mermaid\n{}```\n",
                story.render(&plain),
                diagram::mermaid(story)
            );
        }
        let _ = writeln!(
            out,
            "The same diagrams as an image: [{}]({}).",
            file_name(&self.files.svg),
            file_name(&self.files.svg)
        );
        if let Some(explored) = &self.explored {
            let _ = write!(out, "\n{}", explored.markdown());
        }
        out
    }

    /// The minimal run's sequence diagrams, both modes, in one SVG.
    pub fn svg(&self) -> Option<String> {
        let told = self.told.as_ref()?;
        let title = format!(
            "{}, seed {}: ticket {}",
            told.minimal.name, told.shrunk.seed, told.minimal_off_story.ticket
        );
        Some(diagram::svg(
            &title,
            &[
                Panel {
                    title: format!("{} (--occ {})", race_heading(self.race, false), self.race),
                    story: &told.minimal_off_story,
                },
                Panel {
                    title: format!(
                        "With {} ({}), same seed",
                        self.cure.name(),
                        self.cure.flags()
                    ),
                    story: &told.minimal_on_story,
                },
            ],
        ))
    }

    /// Write the Markdown, the SVG and the minimal scenario, and for a cure of switches the
    /// minimal scenario with them on (each read back and rerun: it must reproduce its run
    /// exactly).
    pub fn write(&self) -> Result<(), Error> {
        write_file(&self.files.markdown, &self.markdown())?;
        if let (Some(told), Some(svg)) = (&self.told, self.svg()) {
            write_file(&self.files.svg, &svg)?;
            shrink::write_minimal(
                &told.minimal_toml,
                &self.files.minimal,
                told.shrunk.seed,
                self.race,
                &told.minimal_off.report,
            )?;
            if let Some(cured) = &told.minimal_cured_toml {
                shrink::write_minimal(
                    cured,
                    &self.files.minimal_cured,
                    told.shrunk.seed,
                    self.cure.occ(),
                    &told.minimal_on.report,
                )?;
            }
        }
        Ok(())
    }
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned())
}

/// Tell the failure: pick the ticket, tell its stories, shrink.
#[allow(clippy::too_many_arguments)]
pub fn tell(
    scenario: &Scenario,
    (seed, race): (u64, Occ),
    failure: Failure,
    off: &Shown,
    on: &Shown,
    cure: Cure,
    budget: Budget,
    files: &Files,
    progress: &dyn Fn(&str),
) -> Result<Told, Error> {
    // The run without OCC beside a race OCC makes is no cure.
    let cured = cure.occ() != Occ::Off
        && on.report.outcome == Outcome::Converged
        && !has_invariant_violation(&on.report);
    // The ticket to follow: the first that went wrong without OCC and whose events OCC
    // refused at least once with the same seed (so both halves of the story have something
    // to show); failing that, the first that went wrong.
    let tickets = failure.tickets(&off.report);
    let ticket = tickets
        .iter()
        .take(64)
        .copied()
        .find(|&t| {
            let off_story = off.story(scenario, t);
            let on_story = on.story(scenario, t);
            (off_story.has_stale_write() || !matches!(failure, Failure::Diverged { .. }))
                && (!cured || on_story.has_refusal())
        })
        .or_else(|| tickets.first().copied())
        .unwrap_or(1);
    let fails = move |s: &Scenario, seed: u64| {
        let off = run_report(s, seed, race);
        if !failure.shown_by(&off) {
            return false;
        }
        if !cured {
            return true;
        }
        let on = run_report(&cure.apply(s), seed, cure.occ());
        on.outcome == Outcome::Converged && !has_invariant_violation(&on) && cure.acted(&on) > 0
    };
    let shrunk = shrink::shrink(scenario, seed, budget, &fails, progress);
    let (minimal, minimal_toml) =
        shrink::minimal_file(&shrunk, scenario, seed, race, failure, &files.minimal)?;
    let minimal_off = Shown::run(&minimal, shrunk.seed, race);
    let minimal_on = Shown::run(&cure.apply(&minimal), shrunk.seed, cure.occ());
    let minimal_cured_toml = cure.minimal_file(&minimal, shrunk.seed, &files.minimal_cured)?;
    let minimal_ticket = failure
        .tickets(&minimal_off.report)
        .first()
        .copied()
        .unwrap_or(1);
    Ok(Told {
        failure,
        cured,
        ticket,
        off: off.story(scenario, ticket),
        on: on.story(scenario, ticket),
        minimal_off_story: minimal_off.story(&minimal, minimal_ticket),
        minimal_on_story: minimal_on.story(&minimal, minimal_ticket),
        shrunk,
        minimal,
        minimal_toml,
        minimal_cured_toml,
        minimal_off,
        minimal_on,
    })
}
