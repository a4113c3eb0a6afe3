//! Terminal colours for what people read: on only when asked or when standard output is a
//! terminal and `NO_COLOR` is unset. Colour never carries meaning alone: every coloured mark
//! is also said in words.

use crate::check::findings::Outcome;
use crate::present::report::Report;
use crate::present::story::Mark;

/// Terminal colours, or none.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Paint {
    /// Whether to emit ANSI colour codes.
    pub enabled: bool,
}

impl Paint {
    fn wrap(self, code: &str, text: &str) -> String {
        if self.enabled {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    }

    /// Bold.
    pub fn bold(self, text: &str) -> String {
        self.wrap("1", text)
    }

    /// Dimmed.
    pub fn dim(self, text: &str) -> String {
        self.wrap("2", text)
    }

    /// The colour of a story's mark.
    pub fn mark(self, mark: Mark, text: &str) -> String {
        match mark {
            Mark::Plain => text.to_owned(),
            Mark::Stale => self.wrap("1;31", text),
            Mark::Refused => self.wrap("33", text),
            Mark::Applied => self.wrap("32", text),
            Mark::Fault => self.wrap("35", text),
        }
    }

    /// The colour of a run's outcome: green for a run that converged and broke no invariant.
    pub fn outcome(self, report: &Report, text: &str) -> String {
        match (report.outcome, has_invariant_violation(report)) {
            (Outcome::Converged, false) => self.wrap("32", text),
            _ => self.wrap("1;31", text),
        }
    }
}

/// Whether a run broke an invariant of the system.
pub fn has_invariant_violation(report: &Report) -> bool {
    report.violations.iter().any(|v| v.is_invariant())
}
