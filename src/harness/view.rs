//! The race and its cure as a page to step through in a browser ([`crate::present::html`]):
//! the demo's page (its seed, the smallest failing run, the first failing schedule of the
//! smallest scope), and `ticketsim view`'s, for any run by its seed or its tape.
//!
//! Each view is a pair of runs with their traces kept: the race, and the cure the scenario
//! declares on the same seed, or on the same schedule (the same deviations from the nominal
//! run, which another mode may not be able to make: then the page says why, beside the race).
//! A race that only OCC makes is shown beside the run without OCC, as the demo tells it.

use crate::harness::demo::cure::{race_heading, race_words};
use crate::harness::demo::{self, Cure, Demo, Files, Shown, Told};
use crate::harness::error::Error;
use crate::harness::run::{run_driven_traced, RunResult};
use crate::harness::shrink::{Budget, Failure, Size};
use crate::model::documents::TicketId;
use crate::model::occ::Occ;
use crate::present::html::{self, Page, Side, View};
use crate::present::report::{reproduce, reproduce_tape, shell_quote};
use crate::scenario::schema::Scenario;
use crate::sim::choice::Drive;
use crate::sim::tape::Tape;
use std::path::Path;

/// The heading of a run in a mode: "Without OCC (--occ off)", "With OCC as taught (--occ on)".
pub fn race_title(occ: Occ) -> String {
    format!("{} (--occ {occ})", race_heading(occ, false))
}

/// The heading of the cure's run: "With OCC (--occ on)"; "Without OCC (--occ off)" beside a
/// race that only OCC makes.
pub fn cure_title(cure: Cure) -> String {
    format!("{} ({})", cure.beside(), cure.flags())
}

/// What `ticketsim view` shows beside a run in mode `occ`: the scenario's cure; the run
/// without OCC when that cure is the run's own mode (a race that only OCC makes).
fn beside(scenario: &Scenario, occ: Occ) -> Cure {
    match Cure::of(scenario) {
        Cure::Mode(cure) if cure == occ => Cure::Mode(Occ::Off),
        cure => cure,
    }
}

/// What a race is shown beside, named: the cure ("OCC"), or the run without OCC beside a race
/// that only OCC makes.
fn cure_name(cure: Cure) -> String {
    match cure {
        Cure::Mode(Occ::Off) => "the run without OCC".to_owned(),
        cure => cure.name(),
    }
}

/// The same, for a heading: "its cure", or "the run without OCC".
fn beside_words(cure: Cure) -> String {
    match cure {
        Cure::Mode(Occ::Off) => cure_name(cure),
        _ => "its cure".to_owned(),
    }
}

fn replicas(scenario: &Scenario) -> u8 {
    scenario.topology.orders_replicas.min(u32::from(u8::MAX)) as u8
}

/// The demo's page: its seed's race and cure, the smallest failing run, and the first failing
/// schedule of the smallest scope, each when the demo found one.
///
/// # Errors
/// A schedule the demo explored does not replay (a ticketsim bug).
pub fn demo_page(demo: &Demo) -> Result<String, Error> {
    let s = &demo.scenario;
    let cure = demo.cure;
    let ticket = demo.told.as_ref().map_or(1, |t| t.ticket);
    let seed = demo.seed;
    let mut views = vec![seed_view(
        s,
        seed,
        demo.race,
        &demo.off,
        &demo.on,
        cure,
        ticket,
        demo.told.as_ref(),
    )];
    if seed != demo.asked_seed {
        views[0].about.insert(
            0,
            format!(
                "Seed {} does not go wrong {} (the race needs unlucky timing); seed {seed} is the next one that does.",
                demo.asked_seed,
                race_words(demo.race, false)
            ),
        );
    }
    if let Some(told) = &demo.told {
        views.push(smallest_view(s, demo.race, cure, told, &demo.files, true));
    }
    let schedule = match demo.explored.as_ref().and_then(|e| e.told.as_ref().map(|t| (e, t))) {
        Some((explored, told)) => Some(Schedule::replay(
            &explored.scope,
            cure,
            demo.twin.as_deref(),
            &Tape::from_token(&told.counterexample.tape).map_err(|e| {
                Error::Usage(format!("the demo's first failing schedule does not replay ({e}): this is a ticketsim bug"))
            })?,
            Occ::Off,
        )?),
        None => None,
    };
    if let (Some(schedule), Some(explored)) = (&schedule, &demo.explored) {
        let told = explored.told.as_ref().expect("a schedule told");
        let mut about = vec![format!(
            "The scenario's [explore] table names its smallest scope: {}. Of every schedule within {} deviations from the nominal run, this is the first that fails, with {}:",
            Size::of(&explored.scope),
            explored.bound.deviations,
            told.counterexample.deviations.len()
        )];
        about.extend(
            told.counterexample
                .deviations
                .iter()
                .enumerate()
                .map(|(i, d)| format!("{}. {} (choice {})", i + 1, d.words(), d.choice)),
        );
        views.push(schedule.view(
            "schedule",
            "The first failing schedule of the smallest scope".to_owned(),
            about,
        ));
    }
    let page = Page {
        title: match cure {
            Cure::Mode(Occ::Off) => format!(
                "{}, seed {seed}: the race beside {}",
                s.name,
                cure_name(cure)
            ),
            _ => format!("{}, seed {seed}: the race and {}", s.name, cure.name()),
        },
        description: s.description.clone(),
        made_by: format!(
            "ticketsim demo {} --seed {}",
            shell_quote(&s.source.display().to_string()),
            demo.asked_seed
        ),
        views,
    };
    Ok(html::render(&page))
}

/// The view of one seed: the race in mode `occ`, the cure beside it, following `ticket`.
#[allow(clippy::too_many_arguments)]
fn seed_view<'a>(
    s: &Scenario,
    seed: u64,
    occ: Occ,
    race: &'a Shown,
    cured: &'a Shown,
    cure: Cure,
    ticket: TicketId,
    told: Option<&Told>,
) -> View<'a> {
    let acts = match cure {
        Cure::Mode(Occ::Off) => "OCC first acts",
        _ => "the cure first acts",
    };
    let mut about = vec![format!(
        "Both runs use seed {seed}: the same random draws, so they take the same steps until {acts}. Step through them and watch each database's copy of ticket {ticket}, the messages NATS holds and every check, at the same moment in both."
    )];
    if told.is_some() {
        about.push(
            "The smallest run that fails the same way is in this page too: the button above loads it."
                .to_owned(),
        );
    }
    View {
        id: "seed".to_owned(),
        name: format!("Seed {seed} \u{b7} ticket {ticket}"),
        heading: format!(
            "Seed {seed}: ticket {ticket}, the race beside {}",
            beside_words(cure)
        ),
        about,
        ticket,
        race: Side {
            title: race_title(occ),
            trace: &race.trace,
            report: &race.report,
            replicas: replicas(s),
            reproduce: reproduce(s, seed, occ),
        },
        cure: Ok(Side {
            title: cure_title(cure),
            trace: &cured.trace,
            report: &cured.report,
            replicas: replicas(s),
            reproduce: cure.reproduce(&cure.apply(s), cure.twin(s).as_deref(), seed),
        }),
        attachment: None,
    }
}

/// The view of the smallest failing run in mode `race`, with its scenario file as text;
/// `written` says whether that file was written beside the page (the demo writes it; `view`
/// does not).
fn smallest_view<'a>(
    s: &Scenario,
    race: Occ,
    cure: Cure,
    told: &'a Told,
    files: &Files,
    written: bool,
) -> View<'a> {
    let seed = told.shrunk.seed;
    let minimal = &told.minimal;
    let cured_file = told
        .minimal_cured_toml
        .as_ref()
        .map(|_| files.minimal_cured.as_path());
    let name = files
        .minimal
        .file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
    let note = if written {
        format!(
            "The demo wrote this scenario as {}.",
            files.minimal.display()
        )
    } else {
        format!(
            "`ticketsim view` writes only the page: save this text as {} to run the commands above.",
            files.minimal.display()
        )
    };
    View {
        id: "smallest".to_owned(),
        name: "Load the smallest failing run".to_owned(),
        heading: format!(
            "The smallest run that fails the same way: {}, seed {seed}",
            Size::of(minimal)
        ),
        about: vec![
            format!(
                "Shrunk from {} ({}): {} it {}, the same way as the seed before.",
                s.name,
                Size::of(s),
                race_words(race, false),
                told.failure
            ),
            format!(
                "Its story is the race at its smallest: ticket {}.",
                told.minimal_off_story.ticket
            ),
        ],
        ticket: told.minimal_off_story.ticket,
        race: Side {
            title: race_title(race),
            trace: &told.minimal_off.trace,
            report: &told.minimal_off.report,
            replicas: replicas(minimal),
            reproduce: reproduce(minimal, seed, race),
        },
        cure: Ok(Side {
            title: cure_title(cure),
            trace: &told.minimal_on.trace,
            report: &told.minimal_on.report,
            replicas: replicas(minimal),
            reproduce: cure.reproduce(&cure.apply(minimal), cured_file, seed),
        }),
        attachment: Some((name, note, told.minimal_toml.clone())),
    }
}

/// One schedule (a tape) replayed in its mode, and its deviations in the cure's mode.
pub struct Schedule {
    scope: Scenario,
    occ: Occ,
    cure: Cure,
    race: RunResult,
    race_reproduce: String,
    /// The cure's run and the command that replays it; or why the deviations do not make the
    /// same schedule there.
    cured: Result<(RunResult, String), String>,
    ticket: TicketId,
}

impl Schedule {
    /// Replay `tape` on `scope` in mode `occ`, and its deviations with `cure` (named by the
    /// `twin` file, when there is one).
    ///
    /// # Errors
    /// The tape does not fit the scenario, the mode or the model.
    pub fn replay(
        scope: &Scenario,
        cure: Cure,
        twin: Option<&Path>,
        tape: &Tape,
        occ: Occ,
    ) -> Result<Schedule, Error> {
        let (race, made) = run_driven_traced(scope, occ, &Drive::Tape(tape.clone()));
        if let Some(why) = made.misfit {
            return Err(Error::Usage(format!(
                "this tape no longer fits the model, the scenario or the mode: {why}. View a tape with the scenario file and --occ mode it was printed for, with the ticketsim that printed it"
            )));
        }
        let schedule = Drive::Schedule(tape.deviations.clone());
        let (_, asked) = run_driven_traced(scope, occ, &schedule);
        let mut cured_scope = cure.apply(scope);
        if let Some(twin) = twin {
            cured_scope.source = twin.to_owned();
        }
        let (cured, made) = run_driven_traced(&cured_scope, cure.occ(), &schedule);
        let same = match &made.misfit {
            Some(why) => Err(why.clone()),
            None => tape
                .deviations
                .iter()
                .find(|&&(i, _)| asked.points.get(i as usize) != made.points.get(i as usize))
                .map_or(Ok(()), |&(i, _)| {
                    Err(format!("choice {i} is another kind of choice there"))
                }),
        };
        let cured = same
            .map(|()| {
                let token = made.tape.as_ref().map(Tape::token).unwrap_or_default();
                let command = reproduce_tape(&cured_scope, &token, cure.occ());
                let command = if twin.is_some() {
                    command
                } else {
                    cure.unwritten(command)
                };
                (cured, command)
            })
            .map_err(|why| {
                format!(
                    "The same deviations do not make the same schedule with {} ({why}), so there is no same schedule to show.",
                    cure.name()
                )
            });
        let ticket = Failure::of(&race.report)
            .and_then(|f| f.tickets(&race.report).first().copied())
            .unwrap_or(1);
        Ok(Schedule {
            scope: scope.clone(),
            occ,
            cure,
            race_reproduce: reproduce_tape(scope, &tape.token(), occ),
            race,
            cured,
            ticket,
        })
    }

    /// The schedule as a view.
    fn view<'s>(&'s self, id: &str, heading: String, about: Vec<String>) -> View<'s> {
        let replicas = replicas(&self.scope);
        let side = |result: &'s RunResult, title: String, reproduce: String| Side {
            title,
            trace: &result.trace,
            report: &result.report,
            replicas,
            reproduce,
        };
        View {
            id: id.to_owned(),
            name: heading.clone(),
            heading,
            about,
            ticket: self.ticket,
            race: side(
                &self.race,
                race_title(self.occ),
                self.race_reproduce.clone(),
            ),
            cure: match &self.cured {
                Ok((run, command)) => Ok(side(run, cure_title(self.cure), command.clone())),
                Err(why) => Err(why.clone()),
            },
            attachment: None,
        }
    }
}

/// What `ticketsim view` shows: a run by its seed or by its tape.
pub enum Run {
    /// A seed.
    Seed(u64),
    /// A tape: every choice of the run.
    Tape(Tape),
}

/// `ticketsim view`'s page of `scenario` (its `[explore]` scope, when asked for and driven by a
/// tape): the run in mode `occ` beside the scenario's cure on the same seed or schedule (beside
/// the run without OCC when the cure is that mode); for a seed that fails, also the smallest
/// run that fails the same way in that mode (shrunk within `budget`, its scenario carried as
/// text, to be saved as `out`'s sibling).
///
/// # Errors
/// The scenario is too large to keep two traces of, or the tape does not fit.
pub fn view_page(
    scenario: &Scenario,
    run: &Run,
    occ: Occ,
    budget: Budget,
    out: &Path,
    progress: &dyn Fn(&str),
) -> Result<String, Error> {
    demo::keeps_two_traces(scenario, "a page keeps two runs' whole traces", "")?;
    let cure = beside(scenario, occ);
    let file = shell_quote(&scenario.source.display().to_string());
    let scoped = if scenario.is_scope { " --scoped" } else { "" };
    match run {
        Run::Seed(seed) => {
            let seed = *seed;
            let race = Shown::run(scenario, seed, occ);
            let cured = Shown::run(&cure.apply(scenario), seed, cure.occ());
            let dir = out.parent().unwrap_or(Path::new(""));
            let files = Files::new(dir, scenario);
            let told = match Failure::of(&race.report) {
                Some(failure) => Some(demo::tell(
                    scenario,
                    (seed, occ),
                    failure,
                    &race,
                    &cured,
                    cure,
                    budget,
                    &files,
                    progress,
                )?),
                None => None,
            };
            let ticket = match (&told, Failure::of(&race.report)) {
                (Some(t), _) => t.ticket,
                (None, Some(f)) => f.tickets(&race.report).first().copied().unwrap_or(1),
                (None, None) => 1,
            };
            let mut views = vec![seed_view(
                scenario,
                seed,
                occ,
                &race,
                &cured,
                cure,
                ticket,
                told.as_ref(),
            )];
            if let Some(told) = &told {
                views.push(smallest_view(scenario, occ, cure, told, &files, false));
            }
            let page = Page {
                title: format!(
                    "{}, seed {seed}: the race beside {}",
                    scenario.name,
                    cure_name(cure)
                ),
                description: scenario.description.clone(),
                made_by: format!("ticketsim view {file}{scoped} --seed {seed} --occ {occ}"),
                views,
            };
            Ok(html::render(&page))
        }
        Run::Tape(tape) => {
            let twin = cure.twin(scenario);
            let schedule = Schedule::replay(scenario, cure, twin.as_deref(), tape, occ)?;
            let about = vec![format!(
                "The run the tape names ({} choices, {} of them not the nominal option), beside the same deviations {}.",
                tape.choices,
                tape.deviations.len(),
                cure.with_flag()
            )];
            let heading = format!("This schedule, beside {}", beside_words(cure));
            let view = schedule.view("tape", heading, about);
            let page = Page {
                title: format!("{}: a schedule beside {}", scenario.name, cure_name(cure)),
                description: scenario.description.clone(),
                made_by: format!(
                    "ticketsim view {file}{scoped} --tape {} --occ {occ}",
                    shell_quote(&tape.token())
                ),
                views: vec![view],
            };
            Ok(html::render(&page))
        }
    }
}
