//! The story of one ticket in one run: every step of the trace that concerns it, in simulated
//! time, told as plain sentences for a learner and drawn as arrows between lanes (tickets
//! service, NATS, each orders replica, the orders database) for a sequence diagram.
//!
//! A [`Story`] is read from the trace alone, like the checks. It marks what a learner should
//! look at: the stale write that leaves the orders database behind, the event a replica refuses
//! (and does not ack), and the faults.
//!
//! The work is split so that each part can change alone: `step` names what a story is made of
//! (lanes, arrows, marks, steps), `reader` walks the trace and decides which records concern the
//! ticket and what they are, `wording` says how each step is told and `ending` how the story
//! ends and why; `outbox` remembers and tells the ticket's outbox (`[cures]
//! transactional-outbox`). This file puts them together into a [`Story`] and renders it as text.

mod ending;
mod later;
mod outbox;
mod reader;
mod step;
mod wording;

pub use crate::present::story::step::{Arrow, Lane, Line, Mark, Step};
pub use crate::present::story::wording::format_ms;
pub(crate) use crate::present::story::wording::wrap;

use crate::check::findings::Violation;
use crate::model::documents::TicketId;
use crate::model::occ::Occ;
use crate::present::report::Report;
use crate::present::story::reader::Reader;
use crate::sim::trace::Trace;
use std::fmt::Write as _;

/// One ticket's history in one run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Story {
    /// The ticket.
    pub ticket: TicketId,
    /// The run's mode.
    pub occ: Occ,
    /// The orders replicas of the run (the diagram's lanes).
    pub replicas: u8,
    /// Every step that concerns the ticket, in order.
    pub steps: Vec<Step>,
    /// How it ends, in a sentence or two.
    pub ending: String,
}

impl Story {
    /// The story of `ticket` in the run `report` judged, whose trace is `trace`, with
    /// `replicas` orders replicas.
    pub fn of(trace: &Trace, report: &Report, replicas: u8, ticket: TicketId) -> Story {
        Story::of_indexed(trace, report, replicas, ticket).0
    }

    /// [`Story::of`], with the index in `trace` of the record each step tells (one record
    /// makes at most one step), for a view that shows the record beside its sentence.
    pub fn of_indexed(
        trace: &Trace,
        report: &Report,
        replicas: u8,
        ticket: TicketId,
    ) -> (Story, Vec<usize>) {
        let occ = report.occ;
        let mut reader = Reader::new(ticket, occ);
        let mut records = Vec::new();
        for (i, record) in trace.records().iter().enumerate() {
            reader.read(record.t_us, record.node, &record.event);
            records.resize(reader.steps_so_far(), i);
        }
        let broken: Vec<&Violation> = report
            .violations
            .iter()
            .filter(|v| v.is_invariant() && v.ticket() == Some(ticket))
            .collect();
        let ending = reader.ending(report.outcome, &broken);
        let story = Story {
            ticket,
            occ,
            replicas,
            steps: reader.into_steps(),
            ending,
        };
        (story, records)
    }

    /// Whether a replica refused one of the ticket's events in this story.
    pub fn has_refusal(&self) -> bool {
        self.steps.iter().any(|s| s.mark == Mark::Refused)
    }

    /// Whether the story has a stale write.
    pub fn has_stale_write(&self) -> bool {
        self.steps.iter().any(|s| s.mark == Mark::Stale)
    }

    /// The story as lines of text: time, actor, sentence; `paint` colours the marked steps.
    /// Long stories keep their first and last steps.
    pub fn render(&self, paint: &dyn Fn(Mark, &str) -> String) -> String {
        const HEAD: usize = 30;
        const TAIL: usize = 10;
        let width = self
            .steps
            .iter()
            .map(|s| format_ms(s.t_us).len())
            .max()
            .unwrap_or(0);
        let mut out = String::new();
        let line = |out: &mut String, s: &Step| {
            let _ = writeln!(
                out,
                "  {:>width$}  {:<9} {}",
                format_ms(s.t_us),
                s.actor.name(),
                paint(s.mark, &s.text)
            );
        };
        if self.steps.len() <= HEAD + TAIL + 1 {
            self.steps.iter().for_each(|s| line(&mut out, s));
        } else {
            self.steps[..HEAD].iter().for_each(|s| line(&mut out, s));
            let _ = writeln!(
                out,
                "  {:>width$}  … {} more steps like these …",
                "",
                self.steps.len() - HEAD - TAIL
            );
            self.steps[self.steps.len() - TAIL..]
                .iter()
                .for_each(|s| line(&mut out, s));
        }
        for paragraph in self.ending.lines() {
            out.push_str(&wrap(paragraph.trim(), 96, "  "));
        }
        out
    }
}
