//! One deviation of a schedule, and the words for it: the one vocabulary `ticketsim explore`,
//! sweep's claims and the demo use to say which choices make a schedule ("a delivery is slow:
//! its latency falls in the slow tail", "then a database call takes its longest ordinary
//! latency").

use crate::sim::tape::{ChoiceKind, ChoiceOf};
use serde::Serialize;

/// One deviation of a schedule, for a reader.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Deviation {
    /// Index of the choice in the run.
    pub choice: u64,
    /// Its kind.
    pub kind: ChoiceKind,
    /// What it is about.
    pub of: ChoiceOf,
    /// Among how many options.
    pub options: u64,
    /// The option taken (0 is nominal).
    pub option: u64,
}

impl Deviation {
    /// The deviation in a sentence of a story: "a delivery is slow: its latency falls in the
    /// slow tail".
    pub fn words(&self) -> String {
        let d = self;
        let of = d.of.name();
        match d.kind {
            ChoiceKind::Latency if d.of == ChoiceOf::SlowHandler && d.option + 1 == d.options => {
                "a stalled handler stalls as long as it can".to_owned()
            }
            ChoiceKind::Latency if d.option + 1 == d.options => {
                format!("{of} takes its longest ordinary latency")
            }
            ChoiceKind::Latency => format!(
                "{of} takes a latency {}% of the way from its shortest to its longest ordinary one",
                (d.option * 100 + (d.options - 1) / 2) / (d.options - 1).max(1)
            ),
            ChoiceKind::SlowTail => format!("{of} is slow: its latency falls in the slow tail"),
            ChoiceKind::Strike => match d.of {
                ChoiceOf::LostAck => "an ack is lost on its way to NATS".to_owned(),
                ChoiceOf::PublisherRetry => {
                    "a publish is retried, so NATS stores it twice".to_owned()
                }
                ChoiceOf::SlowHandler => "a handler stalls".to_owned(),
                ChoiceOf::Crash(node) => {
                    format!("{node} crashes at this await, its crash in faults.crash moved earlier")
                }
                ChoiceOf::RandomCrash(node) => format!("{node} crashes at this await"),
                _ => format!("{of} strikes"),
            },
            ChoiceKind::Tie => format!(
                "of {} tasks ready at the same moment, the {} in line runs first",
                d.options,
                ordinal(d.option + 1)
            ),
            ChoiceKind::CrashGap | ChoiceKind::CrashNode => {
                format!("{of}: {} option {}", d.kind, d.option)
            }
        }
    }

    /// "choice 5: a delivery is slow: its latency falls in the slow tail".
    pub fn describe(&self) -> String {
        format!("choice {}: {}", self.choice, self.words())
    }

    /// A deviation at choice 3, for the tests of what is said of deviations.
    #[cfg(test)]
    pub(crate) fn at_choice_3(kind: ChoiceKind, of: ChoiceOf, options: u64, option: u64) -> Self {
        Deviation {
            choice: 3,
            kind,
            of,
            options,
            option,
        }
    }
}

fn ordinal(n: u64) -> String {
    let suffix = match (n % 10, n % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deviations_read_as_sentences() {
        let words = |k, of, n, o| Deviation::at_choice_3(k, of, n, o).words();
        assert_eq!(
            words(ChoiceKind::SlowTail, ChoiceOf::Delivery, 2, 1),
            "a delivery is slow: its latency falls in the slow tail"
        );
        assert_eq!(
            words(ChoiceKind::Latency, ChoiceOf::Db, 1501, 1500),
            "a database call takes its longest ordinary latency"
        );
        assert_eq!(
            words(ChoiceKind::Latency, ChoiceOf::Db, 1501, 750),
            "a database call takes a latency 50% of the way from its shortest to its longest ordinary one"
        );
        assert_eq!(
            words(ChoiceKind::Tie, ChoiceOf::Ready, 3, 1),
            "of 3 tasks ready at the same moment, the 2nd in line runs first"
        );
        assert_eq!(
            words(ChoiceKind::Strike, ChoiceOf::LostAck, 2, 1),
            "an ack is lost on its way to NATS"
        );
        assert_eq!(
            Deviation::at_choice_3(
                ChoiceKind::Strike,
                ChoiceOf::RandomCrash(crate::model::node::Node::Orders(1)),
                2,
                1
            )
            .words(),
            "orders-1 crashes at this await"
        );
        assert_eq!(
            Deviation::at_choice_3(
                ChoiceKind::Strike,
                ChoiceOf::Crash(crate::model::node::Node::Tickets),
                2,
                1
            )
            .words(),
            "tickets crashes at this await, its crash in faults.crash moved earlier"
        );
        assert_eq!(ordinal(11), "11th");
        assert_eq!(ordinal(22), "22nd");
    }

    #[test]
    fn a_deviation_is_described_with_its_choice() {
        let d = Deviation::at_choice_3(ChoiceKind::SlowTail, ChoiceOf::Delivery, 2, 1);
        assert_eq!(
            d.describe(),
            "choice 3: a delivery is slow: its latency falls in the slow tail"
        );
    }
}
