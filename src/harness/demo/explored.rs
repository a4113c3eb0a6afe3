//! The demo's explored part: every schedule of the scenario's smallest scope (its `[explore]`
//! table), explored without OCC within the table's bound; the first failing schedule's
//! deviations in plain words; the story of its failing ticket, replayed from its tape; the same
//! deviations with OCC; and what exploring with OCC shows (a certificate, when every schedule
//! converges). None of it depends on the demo's seed, and an exploration gives the same result
//! on any number of threads, so the demo still prints the same bytes every time.

use crate::harness::demo::cure::Cure;
use crate::harness::error::Error;
use crate::harness::explore::{
    explore, target, Counterexample, Deviation, Explored, Reduce, Scope,
};
use crate::harness::run::run_driven_traced;
use crate::harness::shrink::Size;
use crate::model::documents::TicketId;
use crate::model::occ::Occ;
use crate::present::diagram;
use crate::present::paint::Paint;
use crate::present::report::{reproduce_tape, Report};
use crate::present::story::{wrap, Mark, Story};
use crate::present::summary::plural;
use crate::scenario::explore::{ExploreClaim, MAX_CLAIMED_SCHEDULES};
use crate::scenario::schema::Scenario;
use crate::sim::choice::{Drive, Made};
use crate::sim::tape::{ChoiceKind, ChoiceOf, Tape};
use std::fmt::Write as _;
use std::path::Path;

/// The section's heading.
pub const HEADING: &str = "Every schedule of the smallest scope";

/// Every schedule of a scenario's `[explore]` scope, explored and told.
pub struct ScopeStory {
    /// The mode shown as the cure.
    pub cure: Cure,
    /// The scope: the scenario cut down to its `[explore]` table.
    pub scope: Scenario,
    /// The bound explored: the table's.
    pub bound: Scope,
    /// Every schedule without OCC.
    pub off: Explored,
    /// The first failing schedule without OCC, told, if one failed.
    pub told: Option<ToldSchedule>,
    /// Every schedule in the cure's mode, when the table claims what that mode shows: the
    /// claim, and what exploring found.
    pub on: Option<(ExploreClaim, Explored)>,
}

/// The first failing schedule without OCC (a counterexample with the fewest deviations), told.
pub struct ToldSchedule {
    /// The schedule: its failure, its deviations, its tape and the command that replays it.
    pub counterexample: Counterexample,
    /// The ticket whose story is told.
    pub ticket: TicketId,
    /// The schedule without OCC, replayed from its tape.
    pub off: Replayed,
    /// The same deviations in the cure's mode; or why they do not make the same schedule there.
    pub on: Result<Replayed, String>,
    /// The cure's mode.
    pub cure: Cure,
}

/// One schedule, replayed with its trace kept.
pub struct Replayed {
    /// Its report.
    pub report: Report,
    /// The story of the ticket followed.
    pub story: Story,
    /// The command that replays it (by its own tape).
    pub reproduce: String,
}

impl ScopeStory {
    /// Explore `scenario`'s `[explore]` scope, if it has one, on `jobs` threads (the result
    /// does not depend on them), and tell its first failing schedule without OCC.
    pub fn build(
        scenario: &Scenario,
        cure: Cure,
        twin: Option<&Path>,
        jobs: usize,
    ) -> Result<Option<ScopeStory>, Error> {
        let Some(table) = &scenario.explore else {
            return Ok(None);
        };
        let (scope, bound) = target(
            scenario,
            None,
            None,
            MAX_CLAIMED_SCHEDULES,
            Reduce::SleepSets,
        );
        let off = explore(&scope, Occ::Off, bound, jobs, &|_| {})?;
        // The cured scope: the scope with the cure's switches on, named by the twin's file
        // when there is one (so that its replays run as printed). A declared switch cure
        // claims that every schedule of it converges.
        let mut cured = cure.apply(&scope);
        if let Some(twin) = twin {
            cured.source = twin.to_owned();
        }
        let claim = match cure {
            Cure::Mode(occ) => table.claim(occ),
            Cure::Switches(..) => Some(ExploreClaim::Converges),
        };
        let on = match claim {
            Some(claim) => Some((claim, explore(&cured, cure.occ(), bound, jobs, &|_| {})?)),
            None => None,
        };
        let told = match &off.counterexample {
            Some(c) => Some(tell(&scope, &cured, c, cure, twin.is_some())?),
            None => None,
        };
        Ok(Some(ScopeStory {
            cure,
            scope,
            bound,
            off,
            told,
            on,
        }))
    }

    /// The terminal text of the section, from its heading on.
    pub fn render(&self, paint: Paint) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "{}", paint.bold(HEADING));
        out.push_str(&self.summary("  "));
        let mark = |m: Mark, t: &str| paint.mark(m, t);
        if let Some(told) = &self.told {
            let _ = writeln!(out, "\n{}", paint.bold(&told.off_heading()));
            out.push_str(&told.off.story.render(&mark));
            let _ = writeln!(out, "\n{}", paint.bold(&self.on_heading()));
            out.push_str(&told.on_text(&mark, "  "));
        }
        out.push_str(&self.certificate("  "));
        out
    }

    /// The section in Markdown, from its `##` heading on.
    pub fn markdown(&self) -> String {
        let plain = |_: Mark, t: &str| t.to_owned();
        let mut out = format!("## {HEADING}\n\n```text\n{}```\n", self.summary(""));
        if let Some(told) = &self.told {
            let _ = writeln!(
                out,
                "\n### {}\n\n```text\n{}```\n\n```mermaid\n{}```",
                told.off_heading(),
                told.off.story.render(&plain),
                diagram::mermaid(&told.off.story)
            );
            let _ = write!(
                out,
                "\n### {}\n\n```text\n{}```\n",
                self.on_heading(),
                told.on_text(&plain, "  ")
            );
            if let Ok(on) = &told.on {
                let _ = writeln!(out, "\n```mermaid\n{}```", diagram::mermaid(&on.story));
            }
        }
        let certificate = self.certificate("");
        let certificate = certificate.trim_start_matches('\n');
        if !certificate.is_empty() {
            let _ = write!(out, "\n```text\n{certificate}```\n");
        }
        out
    }

    fn on_heading(&self) -> String {
        format!("The same schedule {}", self.cure.with_flag())
    }

    /// The scope, the exploration without OCC and its first failing schedule, deviation by
    /// deviation, with the command that replays it.
    fn summary(&self, indent: &str) -> String {
        let mut out = wrap(
            &format!(
                "The scenario's [explore] table names its smallest scope: {}. The nominal run makes every choice the first way (the first ready task runs, every latency at its minimum, no slow tail, no fault); a schedule deviates from it at {} choice{} at most.",
                Size::of(&self.scope),
                self.bound.deviations,
                plural(u64::from(self.bound.deviations))
            ),
            96,
            indent,
        );
        let off = &self.off;
        let k = self.bound.deviations;
        let within = within(k);
        let ran = if off.cut_short {
            format!(
                "Without OCC, {} schedules {within} ran before the demo's cap of {MAX_CLAIMED_SCHEDULES} stopped the search (not every schedule ran)",
                off.schedules
            )
        } else {
            format!(
                "Without OCC, every schedule {within} was covered{}: {} schedules ran",
                pruned(off),
                off.schedules
            )
        };
        let Some(c) = &off.counterexample else {
            let none = if off.cut_short {
                "and none failed"
            } else {
                "and every one converged"
            };
            out.push_str(&wrap(&format!("{ran}, {none}."), 96, indent));
            return out;
        };
        let d = c.deviations.len();
        let first = match (d, off.cut_short) {
            (0, _) => "Even the nominal run fails, with no deviation.".to_owned(),
            (_, true) => format!("The failing one with the fewest deviations found has {d}:"),
            (1, false) => {
                "None fails without a deviation; the first that fails needs 1:".to_owned()
            }
            (_, false) => format!(
                "None with fewer than {d} deviations fails; the first that fails needs {d}:"
            ),
        };
        out.push_str(&wrap(
            &format!("{ran}, {} of them failing. {first}", off.failing),
            96,
            indent,
        ));
        for (i, deviation) in c.deviations.iter().enumerate() {
            let then = if i == 0 { "" } else { "then " };
            let _ = writeln!(
                out,
                "{indent}  {}. {then}{} (choice {})",
                i + 1,
                deviation.words(),
                deviation.choice
            );
        }
        let _ = writeln!(
            out,
            "{indent}In it the run {}. Replay it:\n{indent}  {}",
            c.failure, c.reproduce
        );
        out
    }

    /// What exploring in the cure's mode showed: a certificate when every schedule converged.
    fn certificate(&self, indent: &str) -> String {
        let Some((claim, on)) = &self.on else {
            return String::new();
        };
        let within = within(self.bound.deviations);
        let mut replay = None;
        let (mut text, held) = match &on.counterexample {
            None if on.cut_short => (
                format!(
                    "With {}, none of the {} schedules that ran before the demo's cap failed, but not every schedule {within} ran: nothing is certified.",
                    self.cure.name(),
                    on.schedules
                ),
                false,
            ),
            None => (
                format!(
                    "With {}, every schedule {within} converges{}: all {} that ran. A certificate for this scope and bound (docs/explore.md says what one covers).",
                    self.cure.name(),
                    pruned(on),
                    on.schedules
                ),
                *claim == ExploreClaim::Converges,
            ),
            Some(c) => {
                let d = c.deviations.len();
                let too = if self.off.counterexample.is_some() { " too" } else { "" };
                let shown = self
                    .told
                    .as_ref()
                    .and_then(|t| t.on.as_ref().ok())
                    .is_some_and(|r| r.reproduce == c.reproduce);
                let which = if shown {
                    ": the schedule above"
                } else {
                    replay = Some(c.reproduce.clone());
                    ""
                };
                let how_many = if on.failing == on.schedules {
                    format!("all {} schedules", on.schedules)
                } else {
                    format!("{} of the {} schedules", on.failing, on.schedules)
                };
                let first = if d == 0 {
                    "even the nominal run fails".to_owned()
                } else {
                    format!("the first that fails needs {d} deviation{}", plural(d as u64))
                };
                (
                    format!(
                        "With {}, {how_many} {within} fail{too}; {first}{which}.",
                        self.cure.name()
                    ),
                    matches!(claim, ExploreClaim::FailsWithin(w) if d as u64 <= u64::from(*w)),
                )
            }
        };
        if !held {
            let _ = write!(
                text,
                " The table claims on = \"{claim}\", which does not hold."
            );
        }
        if replay.is_some() {
            text.push_str(" Replay it:");
        }
        let mut out = format!("\n{}", wrap(&text, 96, indent));
        if let Some(command) = replay {
            let _ = writeln!(out, "{indent}  {command}");
        }
        out
    }
}

impl ToldSchedule {
    fn off_heading(&self) -> String {
        format!(
            "What happened to ticket {} in that schedule without OCC (--occ off)",
            self.ticket
        )
    }

    /// The story with OCC and the command that replays it, or why there is none.
    fn on_text(&self, paint: &dyn Fn(Mark, &str) -> String, indent: &str) -> String {
        match &self.on {
            Ok(on) => {
                let mut out = on.story.render(paint);
                let _ = writeln!(out, "{indent}Replay it:\n{indent}  {}", on.reproduce);
                out
            }
            Err(why) => wrap(
                &format!(
                    "The same deviations do not make the same schedule with {} ({why}), so there is no same schedule to show.",
                    self.cure.name()
                ),
                96,
                indent,
            ),
        }
    }
}

/// Replay `c` without OCC from its tape, and its deviations in the cure's mode, both with their traces
/// kept, and tell the story of the failing ticket in each.
fn tell(
    scope: &Scenario,
    cured: &Scenario,
    c: &Counterexample,
    cure: Cure,
    twin: bool,
) -> Result<ToldSchedule, Error> {
    let replicas = scope.topology.orders_replicas as u8;
    let broken = |why: String| {
        Error::Usage(format!(
            "the first failing schedule of {}'s [explore] scope does not replay ({why}): this is a ticketsim bug; `ticketsim explore {}` shows the schedule",
            scope.name,
            scope.source.display()
        ))
    };
    let tape = Tape::from_token(&c.tape).map_err(|e| broken(e.to_string()))?;
    let (off, made) = run_driven_traced(scope, Occ::Off, &Drive::Tape(tape));
    if let Some(misfit) = made.misfit {
        return Err(broken(misfit));
    }
    if !c.failure.shown_by(&off.report) {
        return Err(broken(format!("the replay does not {}", c.failure)));
    }
    let ticket = c.failure.tickets(&off.report).first().copied().unwrap_or(1);
    let off = Replayed {
        story: Story::of(&off.trace, &off.report, replicas, ticket),
        report: off.report,
        reproduce: c.reproduce.clone(),
    };
    let schedule = Drive::Schedule(c.deviations.iter().map(|d| (d.choice, d.option)).collect());
    let (on, made) = run_driven_traced(cured, cure.occ(), &schedule);
    let on = same_schedule(&c.deviations, &made).map(|()| {
        let token = made.tape.as_ref().map(Tape::token).unwrap_or_default();
        Replayed {
            story: Story::of(&on.trace, &on.report, replicas, ticket),
            reproduce: if twin {
                reproduce_tape(cured, &token, cure.occ())
            } else {
                cure.unwritten(reproduce_tape(cured, &token, cure.occ()))
            },
            report: on.report,
        }
    });
    Ok(ToldSchedule {
        counterexample: c.clone(),
        ticket,
        off,
        on,
        cure,
    })
}

/// Whether a run driven by `deviations` made each of them at the choice it was made at before:
/// the same kind of choice, about the same thing, among as many options. (In another mode the
/// run may ask other questions before a deviation's index, and then it is another schedule.)
fn same_schedule(deviations: &[Deviation], made: &Made) -> Result<(), String> {
    if let Some(misfit) = &made.misfit {
        return Err(misfit.clone());
    }
    for d in deviations {
        match made.points.get(d.choice as usize) {
            Some(&(kind, of, options)) if (kind, of, options) == (d.kind, d.of, d.options) => {}
            Some(&(kind, of, options)) => {
                return Err(format!(
                    "choice {} is {} there, not {}",
                    d.choice,
                    choice_words(kind, of, options),
                    choice_words(d.kind, d.of, d.options)
                ))
            }
            None => {
                return Err(format!(
                    "the run makes {} choice{} there, so no choice {}",
                    made.points.len(),
                    plural(made.points.len() as u64),
                    d.choice
                ))
            }
        }
    }
    Ok(())
}

/// A choice, as a reader says it: "the latency of a delivery".
fn choice_words(kind: ChoiceKind, of: ChoiceOf, options: u64) -> String {
    let of = of.name();
    match kind {
        ChoiceKind::Tie => format!("a choice among {options} ready tasks"),
        ChoiceKind::Latency => format!("the latency of {of}"),
        ChoiceKind::SlowTail => format!("whether {of} is slow"),
        ChoiceKind::Strike => format!("whether {of} strikes"),
        ChoiceKind::CrashGap | ChoiceKind::CrashNode => format!("a {kind} choice"),
    }
}

/// " (763 of them pruned as equivalent to ones that ran)" when sleep sets pruned any.
fn pruned(explored: &Explored) -> String {
    match explored.pruned {
        0 => String::new(),
        n => format!(" ({n} of them pruned as equivalent to ones that ran)"),
    }
}

/// "within 4 deviations".
fn within(k: u32) -> String {
    format!("within {k} deviation{}", plural(u64::from(k)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deviations_that_name_other_choices_in_another_mode_are_not_the_same_schedule() {
        let slow = Deviation::at_choice_3(ChoiceKind::SlowTail, ChoiceOf::Delivery, 2, 1);
        let made = |points: Vec<(ChoiceKind, ChoiceOf, u64)>, misfit: Option<&str>| Made {
            tape: None,
            per_kind: [0; 6],
            misfit: misfit.map(str::to_owned),
            points,
        };
        let fill = |at: (ChoiceKind, ChoiceOf, u64)| {
            let mut points = vec![(ChoiceKind::Latency, ChoiceOf::Db, 1501); 3];
            points.push(at);
            points
        };
        let same = made(fill((ChoiceKind::SlowTail, ChoiceOf::Delivery, 2)), None);
        assert_eq!(same_schedule(std::slice::from_ref(&slow), &same), Ok(()));
        let other = made(fill((ChoiceKind::Tie, ChoiceOf::Ready, 2)), None);
        assert_eq!(
            same_schedule(std::slice::from_ref(&slow), &other),
            Err(
                "choice 3 is a choice among 2 ready tasks there, not whether a delivery is slow"
                    .to_owned()
            )
        );
        let short = made(vec![(ChoiceKind::Tie, ChoiceOf::Ready, 2)], None);
        assert_eq!(
            same_schedule(std::slice::from_ref(&slow), &short),
            Err("the run makes 1 choice there, so no choice 3".to_owned())
        );
        let misfit = made(Vec::new(), Some("at choice 3 …"));
        assert_eq!(
            same_schedule(&[slow], &misfit),
            Err("at choice 3 …".to_owned())
        );
    }
}
