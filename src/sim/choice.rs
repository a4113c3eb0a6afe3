//! The one chooser every random decision of a run goes through.
//!
//! A choice has a [`ChoiceKind`] and a number of options; the chooser answers with one of
//! them. Driven by a seed, it draws uniformly from the stream of the choice's kind
//! ([`Streams`]); driven by a [`Tape`], it answers from the tape. Either way it can record the
//! run's own tape.

use crate::sim::rng::Streams;
use crate::sim::tape::{ChoiceKind, ChoiceOf, Fingerprint, Tape};
use madsim::rand::Rng;

/// What drives a run's choices: a seed, or a tape.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Drive {
    /// Draws from the generator this seeds.
    Seed(u64),
    /// Answers from this tape.
    Tape(Tape),
    /// One schedule of an exploration: the nominal choice everywhere but at these
    /// (index, option) deviations, by index.
    Schedule(Vec<(u64, u64)>),
}

impl Drive {
    /// The seed of madsim's runtime for this run: a tape run draws nothing from it.
    pub fn runtime_seed(&self) -> u64 {
        match self {
            Drive::Seed(seed) => *seed,
            Drive::Tape(_) | Drive::Schedule(_) => 0,
        }
    }
}

/// Where the answers come from.
enum Source {
    /// The run's seeded streams, one per kind.
    Seeded(Streams),
    /// A tape: its deviations, and the next one not yet reached. A `strict` replay checks the
    /// run's choice count and fingerprint against the tape's; an explored schedule (the
    /// deviations alone) does not.
    Tape {
        tape: Tape,
        next: usize,
        strict: bool,
    },
}

/// A replayed tape that does not fit the model: the first choice where they part.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Misfit {
    /// Index of the choice.
    pub index: u64,
    /// What the model asked there.
    pub kind: ChoiceKind,
    /// Among how many options.
    pub options: u64,
    /// The option the tape gives.
    pub option: u64,
}

/// The choices a run made, and the tape it was driven by, if any, checked against them.
pub struct Made {
    /// The run's own tape, if recording was asked for, or if it replayed one.
    pub tape: Option<Tape>,
    /// Choices per kind, in [`ChoiceKind::ALL`] order.
    pub per_kind: [u64; 6],
    /// Why the replayed tape does not fit the run, if it does not.
    pub misfit: Option<String>,
    /// Every choice's kind, subject and number of options, in order, when exploring.
    pub points: Vec<(ChoiceKind, ChoiceOf, u64)>,
}

/// How many choices a run made, of each kind, and how many were not the nominal option.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct ChoiceCounts {
    /// Every choice.
    pub total: u64,
    /// The choices that were not option 0.
    pub not_nominal: u64,
    /// Per kind, the kinds the run made at least one choice of, by name.
    pub by_kind: std::collections::BTreeMap<&'static str, u64>,
}

impl Made {
    /// The counts of what was made, if it was recorded.
    pub fn counts(&self) -> Option<ChoiceCounts> {
        let tape = self.tape.as_ref()?;
        Some(ChoiceCounts {
            total: tape.choices,
            not_nominal: tape.deviations.len() as u64,
            by_kind: ChoiceKind::ALL
                .iter()
                .zip(self.per_kind)
                .filter(|&(_, n)| n > 0)
                .map(|(k, n)| (k.as_str(), n))
                .collect(),
        })
    }
}

/// The chooser.
pub struct Chooser {
    source: Source,
    /// Recording: the choices so far, their fingerprint and deviations (boxed: the seeded
    /// path without it stays small).
    log: Option<Box<Log>>,
    misfit: Option<Misfit>,
    /// Whether the run's faults are anchored to events: asked for by the tape, and in effect
    /// (the scenario has crashes to anchor).
    anchored: bool,
}

#[derive(Default)]
struct Log {
    choices: u64,
    fingerprint: Fingerprint,
    deviations: Vec<(u64, u64)>,
    per_kind: [u64; 6],
    /// Every choice's kind, subject and options, when exploring.
    points: Option<Vec<(ChoiceKind, ChoiceOf, u64)>>,
}

impl Chooser {
    /// Answers drawn from `streams`, not recorded.
    pub fn seeded(streams: Streams) -> Chooser {
        Chooser {
            source: Source::Seeded(streams),
            log: None,
            misfit: None,
            anchored: false,
        }
    }

    /// Record the run's tape from here on (at the start of a run).
    pub fn record(&mut self) {
        self.log = Some(Box::default());
    }

    /// Answer from `tape` from here on (at the start of a run); the run's own tape is recorded
    /// to check the two against each other.
    pub fn replay(&mut self, tape: Tape) {
        self.source = Source::Tape {
            tape,
            next: 0,
            strict: true,
        };
        self.record();
    }

    /// Make the nominal choice everywhere but at `deviations` ((index, option), by index), and
    /// record every choice's kind and options (at the start of a run): one schedule of an
    /// exploration.
    pub fn explore(&mut self, deviations: Vec<(u64, u64)>) {
        self.source = Source::Tape {
            tape: Tape {
                choices: 0,
                fingerprint: 0,
                deviations,
                anchored: true,
            },
            next: 0,
            strict: false,
        };
        self.log = Some(Box::new(Log {
            points: Some(Vec::new()),
            ..Log::default()
        }));
    }

    /// How many choices have been made so far, when recording (0 otherwise).
    pub fn choices_so_far(&self) -> u64 {
        self.log.as_ref().map_or(0, |l| l.choices)
    }

    /// Whether the run is to have its faults anchored to events (`sim::faults`): an explored
    /// schedule, or the replay of the tape of one that had. A seeded run never does.
    pub fn anchors_faults(&self) -> bool {
        match &self.source {
            Source::Seeded(_) => false,
            Source::Tape { tape, .. } => tape.anchored,
        }
    }

    /// The fault injector anchors this run's faults to events (there are crashes to anchor):
    /// its tape says so, and replays the same way.
    pub fn faults_anchored(&mut self) {
        self.anchored = true;
    }

    /// One of `options` (at least one) choices of `kind` about `of`: 0 is the nominal one.
    #[inline]
    pub fn choose(&mut self, kind: ChoiceKind, of: ChoiceOf, options: u64) -> u64 {
        debug_assert!(options > 0);
        let option = match &mut self.source {
            Source::Seeded(streams) => streams.of(kind).gen_range(0..options),
            Source::Tape { .. } => self.answer_from_tape(kind, options),
        };
        if let Some(log) = &mut self.log {
            log.note(kind, of, options, option);
        }
        option
    }

    /// A choice that is 1 with probability `p` under a seed. Certain outcomes (`p` at most 0,
    /// or at least 1) are not choices: nothing is drawn or recorded.
    #[inline]
    pub fn chance(&mut self, kind: ChoiceKind, of: ChoiceOf, p: f64) -> bool {
        if p <= 0.0 {
            return false;
        }
        if p >= 1.0 {
            return true;
        }
        let option = match &mut self.source {
            Source::Seeded(streams) => u64::from(streams.of(kind).gen_bool(p)),
            Source::Tape { .. } => self.answer_from_tape(kind, 2),
        };
        if let Some(log) = &mut self.log {
            log.note(kind, of, 2, option);
        }
        option == 1
    }

    #[cold]
    #[inline(never)]
    fn answer_from_tape(&mut self, kind: ChoiceKind, options: u64) -> u64 {
        let index = self.log.as_ref().map_or(0, |l| l.choices);
        let Source::Tape { tape, next, .. } = &mut self.source else {
            unreachable!("only a tape answers from a tape");
        };
        let option = match tape.deviations.get(*next) {
            Some(&(at, option)) if at == index => {
                *next += 1;
                option
            }
            _ => 0,
        };
        if option < options {
            return option;
        }
        if self.misfit.is_none() {
            self.misfit = Some(Misfit {
                index,
                kind,
                options,
                option,
            });
        }
        0
    }

    /// What the run chose, and whether the tape it replayed (if any) fits it: once, at the end
    /// of the run, taking the record (not copying it).
    pub fn made(&mut self) -> Made {
        let Some(log) = self.log.take() else {
            return Made {
                tape: None,
                per_kind: [0; 6],
                misfit: None,
                points: Vec::new(),
            };
        };
        let tape = Tape {
            choices: log.choices,
            fingerprint: log.fingerprint.finish(),
            deviations: log.deviations,
            anchored: self.anchored,
        };
        let misfit = match &self.source {
            Source::Seeded(_) => None,
            Source::Tape {
                tape: replayed,
                strict,
                ..
            } => {
                if let Some(m) = &self.misfit {
                    Some(format!(
                        "at choice {} the model asks for a {} among {} options, and the tape gives option {}",
                        m.index, m.kind, m.options, m.option
                    ))
                } else if !strict {
                    None
                } else if replayed.choices != tape.choices {
                    Some(format!(
                        "the tape holds {} choices and the run made {}",
                        replayed.choices, tape.choices
                    ))
                } else if replayed.fingerprint != tape.fingerprint {
                    Some(
                        "the run asked for other kinds of choice, or other numbers of options, than the tape recorded"
                            .to_owned(),
                    )
                } else {
                    None
                }
            }
        };
        Made {
            tape: Some(tape),
            per_kind: log.per_kind,
            misfit,
            points: log.points.unwrap_or_default(),
        }
    }
}

impl Log {
    #[inline(never)]
    fn note(&mut self, kind: ChoiceKind, of: ChoiceOf, options: u64, option: u64) {
        self.fingerprint.add(kind, of, options);
        if option != 0 {
            self.deviations.push((self.choices, option));
        }
        self.per_kind[kind as usize] += 1;
        self.choices += 1;
        if let Some(points) = &mut self.points {
            points.push((kind, of, options));
        }
    }
}
