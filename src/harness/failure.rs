//! How a run fails, in the terms shrinking and exploring keep: its first broken invariant,
//! else its redelivery loop, else the limit it hit, else its first divergence. A smaller run
//! (or another schedule) "fails the same way" when it shows the same failure.

use crate::check::findings::{Outcome, Violation};
use crate::model::documents::TicketId;
use crate::model::events::Subject;
use crate::present::report::Report;
use crate::scenario::expect::Invariant;
use serde::Serialize;
use std::fmt;

/// How a run fails, in the terms shrinking keeps: a smaller run "fails the same way" when it
/// shows this failure.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Failure {
    /// An invariant broke.
    Violates {
        /// Which.
        invariant: Invariant,
    },
    /// A message was delivered again and again without an ack, until NATS gave up on it.
    RedeliveryLoop {
        /// The message's channel.
        subject: Subject,
    },
    /// A limit cut the run off with work left.
    Unfinished,
    /// Quiescent, but the databases disagree on a field of some ticket.
    Diverged {
        /// `exists`, `title`, `price` or `version`.
        field: &'static str,
    },
}

impl Failure {
    /// The failure a run shows, if any: its first broken invariant, else its redelivery loop,
    /// else the limit it hit, else its first divergence.
    pub fn of(report: &Report) -> Option<Failure> {
        report
            .violations
            .iter()
            .find_map(|v| {
                v.invariant()
                    .map(|invariant| Failure::Violates { invariant })
            })
            .or_else(|| {
                report.why_stuck.iter().find_map(|v| match v {
                    Violation::RedeliveryLoop { subject, .. } => {
                        Some(Failure::RedeliveryLoop { subject: *subject })
                    }
                    _ => None,
                })
            })
            .or_else(|| (report.outcome == Outcome::Stuck).then_some(Failure::Unfinished))
            .or_else(|| {
                report
                    .divergences
                    .first()
                    .map(|d| Failure::Diverged { field: d.field })
            })
    }

    /// Whether `report` shows this failure (among whatever else it shows).
    pub fn shown_by(self, report: &Report) -> bool {
        match self {
            Failure::Violates { invariant } => report
                .violations
                .iter()
                .any(|v| v.invariant() == Some(invariant)),
            Failure::RedeliveryLoop { subject } => report.why_stuck.iter().any(
                |v| matches!(v, Violation::RedeliveryLoop { subject: s, .. } if *s == subject),
            ),
            Failure::Unfinished => report.outcome == Outcome::Stuck,
            Failure::Diverged { field } => {
                report.outcome == Outcome::Diverged
                    && report.divergences.iter().any(|d| d.field == field)
            }
        }
    }

    /// The tickets a report's instances of this failure are about, in the report's order
    /// (for a run stopped by a limit: its diverged tickets, if any).
    pub fn tickets(self, report: &Report) -> Vec<TicketId> {
        let mut out: Vec<TicketId> = match self {
            Failure::Violates { invariant } => report
                .violations
                .iter()
                .filter(|v| v.invariant() == Some(invariant))
                .filter_map(Violation::ticket)
                .collect(),
            Failure::RedeliveryLoop { subject } => report
                .why_stuck
                .iter()
                .filter(
                    |v| matches!(v, Violation::RedeliveryLoop { subject: s, .. } if *s == subject),
                )
                .filter_map(Violation::ticket)
                .collect(),
            Failure::Unfinished => report.divergences.iter().map(|d| d.ticket).collect(),
            Failure::Diverged { field } => report
                .divergences
                .iter()
                .filter(|d| d.field == field)
                .map(|d| d.ticket)
                .collect(),
        };
        let mut seen = std::collections::BTreeSet::new();
        out.retain(|t| seen.insert(*t));
        out
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Violates { invariant } => write!(f, "breaks {invariant}"),
            Failure::RedeliveryLoop { subject } => write!(f, "redelivers a {subject} forever"),
            Failure::Unfinished => f.write_str("does not finish within its limits"),
            Failure::Diverged { field: "exists" } => {
                f.write_str("diverges: a ticket is missing from the orders database")
            }
            Failure::Diverged { field } => {
                write!(f, "diverges: the databases disagree on a ticket's {field}")
            }
        }
    }
}
