//! What the demo shows as a race's cure, and how it names it: a mode of the course's design
//! (OCC, or OCC with deduplication), or `[cures]` switches run with OCC as taught (or with the
//! mode the table names beside them). A scenario's `[cure]` table says which; without one, the
//! expectations do.

use crate::harness::error::Error;
use crate::model::decisions::Refusal;
use crate::model::occ::Occ;
use crate::model::store::WriteError;
use crate::present::report::{reproduce, Report};
use crate::scenario::cure::{CureTable, Switch};
use crate::scenario::expect::Claim;
use crate::scenario::schema::{Cures, Scenario};
use std::path::{Path, PathBuf};

/// The cure the demo shows beside a race.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cure {
    /// A mode of the course's design (`on` or `dedup`).
    Mode(Occ),
    /// These `[cures]` switches on, in this mode: OCC as taught (`--occ on`) unless the
    /// `[cure]` table names another.
    Switches(Cures, Occ),
}

impl Cure {
    /// The cure of `scenario`'s race: its `[cure]` table's (`none`: OCC as taught, to show what
    /// OCC does to a race it does not cure); without one, the first of `on` and `dedup` that the
    /// scenario expects to converge, else `on`.
    pub fn of(scenario: &Scenario) -> Cure {
        if let Some(table) = &scenario.cure {
            return Cure::declared(table).unwrap_or(Cure::Mode(Occ::On));
        }
        [Occ::On, Occ::Dedup]
            .into_iter()
            .find(|&occ| scenario.expect.get(occ).contains(&Claim::Converges))
            .map_or(Cure::Mode(Occ::On), Cure::Mode)
    }

    /// The cure `table` declares; `None` when it declares that none is modelled.
    pub fn declared(table: &CureTable) -> Option<Cure> {
        if let (Some(mode), None) = (table.mode, &table.switches) {
            return Some(Cure::Mode(mode));
        }
        let switches = table.switches.as_ref()?;
        let cures = switches.iter().fold(Cures::default(), |c, &s| c.with(s));
        Some(Cure::Switches(cures, table.mode.unwrap_or(Occ::On)))
    }

    /// The mode the cure runs in.
    pub fn occ(self) -> Occ {
        match self {
            Cure::Mode(occ) | Cure::Switches(_, occ) => occ,
        }
    }

    /// `scenario` with the cure's switches on (itself, for a mode).
    pub fn apply(self, scenario: &Scenario) -> Scenario {
        let mut s = scenario.clone();
        if let Cure::Switches(cures, _) = self {
            s.cures = cures.on().into_iter().fold(s.cures, Cures::with);
        }
        s
    }

    /// Its name in a sentence: "OCC", "OCC and deduplication", "a unique partial index on
    /// active orders", "a transactional outbox and deduplication" (switches that need
    /// `dedup`).
    pub fn name(self) -> String {
        match self {
            Cure::Mode(Occ::Dedup) => "OCC and deduplication".to_owned(),
            // Beside a race that only OCC makes, with no cure: the run without it.
            Cure::Mode(Occ::Off) => "no OCC".to_owned(),
            Cure::Mode(_) => "OCC".to_owned(),
            Cure::Switches(cures, occ) => {
                let mut words: Vec<&str> = cures.on().into_iter().map(Switch::words).collect();
                if occ == Occ::Dedup {
                    words.push("deduplication");
                }
                words.join(" and ")
            }
        }
    }

    /// How to ask for it: "--occ on"; "[cures] unique-active-order, --occ on".
    pub fn flags(self) -> String {
        match self {
            Cure::Mode(occ) => format!("--occ {occ}"),
            Cure::Switches(_, occ) => format!("[cures] {}, --occ {occ}", self.keys()),
        }
    }

    /// The switches' keys, "unique-active-order" (empty for a mode).
    pub fn keys(self) -> String {
        match self {
            Cure::Mode(_) => String::new(),
            Cure::Switches(cures, _) => cures
                .on()
                .into_iter()
                .map(Switch::key)
                .collect::<Vec<_>>()
                .join(", "),
        }
    }

    /// The cure's side opening a sentence: "With OCC", or "Without OCC" beside a race that
    /// only OCC makes.
    pub fn beside(self) -> String {
        match self {
            Cure::Mode(Occ::Off) => "Without OCC".to_owned(),
            _ => format!("With {}", self.name()),
        }
    }

    /// "with OCC (--occ on)", "with a unique partial index on active orders ([cures]
    /// unique-active-order, --occ on)".
    pub fn with_flag(self) -> String {
        match self {
            Cure::Mode(Occ::Off) => "without OCC (--occ off)".to_owned(),
            _ => format!("with {} ({})", self.name(), self.flags()),
        }
    }

    /// How often the cure acted in `report`: the deliveries it refused, and for switches also
    /// the writes it refused, the steps its status guards stopped and the pending events a
    /// restarted relay found (what the outbox kept through a crash).
    pub fn acted(self, report: &Report) -> u64 {
        self.refused_deliveries(report)
            + self.refused_writes(report)
            + self.guarded(report)
            + self.kept(report)
    }

    /// The steps status guards stopped (`[cures] status-guards`): requests refused, events
    /// acked without a change, payments refunded. None for a mode.
    pub fn guarded(self, report: &Report) -> u64 {
        match self {
            Cure::Mode(_) => 0,
            Cure::Switches(..) => report.stats.guarded,
        }
    }

    /// The events the outbox kept through a crash (`[cures] transactional-outbox`): those the
    /// relay of a restarted process found pending. None for a mode.
    pub fn kept(self, report: &Report) -> u64 {
        match self {
            Cure::Mode(_) => 0,
            Cure::Switches(..) => report.stats.outbox_found,
        }
    }

    /// The deliveries the cure refused (not acked). For a mode, every refusal: OCC's are the
    /// cure. For switches, only those the ordered order events make (`order-not-applied`,
    /// `reserved-by-another-order`): the not-found and version conflicts of the mode they run
    /// in, beside them, are not the switches acting. An already-applied order event is acked,
    /// not refused, so it is not counted.
    pub fn refused_deliveries(self, report: &Report) -> u64 {
        let stats = &report.stats;
        match self {
            Cure::Mode(_) => stats.failed_handlers,
            Cure::Switches(..) => [Refusal::OrderNotApplied, Refusal::ReservedByAnotherOrder]
                .iter()
                .filter_map(|r| stats.failed_handlers_by_reason.get(r))
                .sum(),
        }
    }

    /// The writes the cure refused: for switches, the orders the unique index on active orders
    /// refused as a duplicate key (a mode refuses none of its own: its conflicts end in refused
    /// deliveries, counted there).
    pub fn refused_writes(self, report: &Report) -> u64 {
        match self {
            Cure::Mode(_) => 0,
            Cure::Switches(..) => report
                .stats
                .order_conflicts_by_error
                .get(&WriteError::DuplicateKey)
                .copied()
                .unwrap_or(0),
        }
    }

    /// "after 3 refused deliveries" (a mode); "after 16 refused writes", "after 2 refused
    /// deliveries", "after 2 refused deliveries and 1 refused write", "after 1 event kept
    /// through a crash" (switches: a count of zero is left out, unless all are). Only what the
    /// cure did is counted ([`Cure::refused_deliveries`], [`Cure::refused_writes`],
    /// [`Cure::guarded`], [`Cure::kept`]).
    pub fn after(self, report: &Report) -> String {
        let count =
            |n: u64, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
        let refused = self.refused_deliveries(report);
        let deliveries = count(refused, "refused delivery", "refused deliveries");
        match self {
            Cure::Mode(_) => format!("after {deliveries}"),
            Cure::Switches(..) => {
                let writes = self.refused_writes(report);
                let written = count(writes, "refused write", "refused writes");
                let (guarded, kept) = (self.guarded(report), self.kept(report));
                let parts: Vec<String> = [
                    (refused, deliveries),
                    (writes, written.clone()),
                    (
                        guarded,
                        count(
                            guarded,
                            "step stopped by a status guard",
                            "steps stopped by a status guard",
                        ),
                    ),
                    (
                        kept,
                        count(
                            kept,
                            "event kept through a crash",
                            "events kept through a crash",
                        ),
                    ),
                ]
                .into_iter()
                .filter(|(n, _)| *n > 0)
                .map(|(_, words)| words)
                .collect();
                match parts.as_slice() {
                    [] => format!("after {written}"),
                    [one] => format!("after {one}"),
                    [first @ .., last] => format!("after {} and {last}", first.join(", ")),
                }
            }
        }
    }

    /// The scenario file beside `scenario`'s (its catalogue) that runs exactly `scenario` with
    /// this cure's switches on: the same settings and workload, its `[cures]` this cure's, its
    /// `[explore]` scope the same; `None` for a mode, or when there is none.
    pub fn twin(self, scenario: &Scenario) -> Option<PathBuf> {
        let Cure::Switches(..) = self else {
            return None;
        };
        let cured = self.apply(scenario);
        let dir = scenario
            .source
            .parent()
            .filter(|d| !d.as_os_str().is_empty());
        let mut paths: Vec<PathBuf> = std::fs::read_dir(dir.unwrap_or(Path::new(".")))
            .ok()?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "toml") && *p != scenario.source)
            .collect();
        paths.sort();
        paths
            .into_iter()
            .find(|p| Scenario::load(p).is_ok_and(|twin| same_runs(&twin, &cured)))
    }

    /// The command that runs `scenario` (with the cure applied, so `cured`) on `seed` with the
    /// cure: the twin's when there is one; else `scenario`'s file, with a note of the switches
    /// to add to it.
    pub fn reproduce(self, cured: &Scenario, twin: Option<&Path>, seed: u64) -> String {
        match (self, twin) {
            (Cure::Mode(occ), _) => reproduce(cured, seed, occ),
            (Cure::Switches(_, occ), Some(twin)) => {
                let mut s = cured.clone();
                s.source = twin.to_owned();
                reproduce(&s, seed, occ)
            }
            (Cure::Switches(_, occ), None) => self.unwritten(reproduce(cured, seed, occ)),
        }
    }

    /// The switches as `[cures]` lines say them: "unique-active-order = true" (empty for a
    /// mode).
    pub fn settings(self) -> String {
        match self {
            Cure::Mode(_) => String::new(),
            Cure::Switches(cures, _) => cures
                .on()
                .into_iter()
                .map(|switch| format!("{} = true", switch.key()))
                .collect::<Vec<_>>()
                .join(", "),
        }
    }

    /// `command`, which runs a file without this cure's switches, with a note of what to add
    /// to its `[cures]` (a mode's command is left as it is: its flag is the cure).
    pub fn unwritten(self, command: String) -> String {
        match self {
            Cure::Mode(_) => command,
            Cure::Switches(..) => {
                format!("{command}  # with {} added to its [cures]", self.settings())
            }
        }
    }

    /// For a cure of switches, the TOML of `minimal` (the demo's shrunk scenario, written at
    /// `path`'s sibling) with the switches on, to be written at `path`: so that the cured run
    /// has a command that runs as pasted. `None` for a mode, whose cure is a flag.
    ///
    /// # Errors
    /// The scenario cannot be written as TOML.
    pub fn minimal_file(
        self,
        minimal: &Scenario,
        seed: u64,
        path: &Path,
    ) -> Result<Option<String>, Error> {
        let Cure::Switches(..) = self else {
            return Ok(None);
        };
        let mut cured = self.apply(minimal);
        cured.name = format!("{}-cured", minimal.name);
        cured.description = format!(
            "{} with {} in its [cures]: the same run, cured.",
            minimal.name,
            self.settings()
        );
        cured.source = path.to_owned();
        let body = toml::to_string(&cured)
            .map_err(|e| Error::Usage(format!("cannot write the cured scenario as TOML: {e}")))?;
        Ok(Some(format!(
            "# {}, cured: {} in its [cures].\n# Reproduce it with:\n#   {}\n\n{body}",
            minimal.name,
            self.settings(),
            reproduce(&cured, seed, self.occ()),
        )))
    }
}

/// The line that says no cure of `scenario`'s race is modelled, and why, when its `[cure]`
/// table says so.
pub fn none_note(scenario: &Scenario) -> Option<String> {
    let why = scenario.cure.as_ref()?.none.as_ref()?;
    let beside = match race_mode(scenario) {
        Occ::Off => "OCC as taught",
        _ => "the course's design without OCC",
    };
    Some(format!(
        "No cure is modelled: {} Beside the race runs {beside}.",
        why.trim()
    ))
}

/// Whether `twin` runs what `cured` runs: every setting equal but the name, the description,
/// the expectations and the declarations, and the same `[explore]` scope.
fn same_runs(twin: &Scenario, cured: &Scenario) -> bool {
    let scope = |s: &Scenario| {
        s.explore
            .as_ref()
            .map(|t| (t.tickets, t.updates, t.orders, t.replicas))
    };
    let like = Scenario {
        name: cured.name.clone(),
        description: cured.description.clone(),
        expect: cured.expect.clone(),
        explore: cured.explore.clone(),
        cure: cured.cure.clone(),
        source: cured.source.clone(),
        is_scope: cured.is_scope,
        ..twin.clone()
    };
    scope(twin) == scope(cured) && like == *cured
}

/// The mode a scenario's race is shown in: without OCC (`off`), unless the scenario expects
/// `off` to converge; then the first of `on` and `dedup` it does not expect to converge (a race
/// that only OCC makes, such as catalogue #4's version gap). `off` when every mode converges.
pub fn race_mode(scenario: &Scenario) -> Occ {
    let converges = |occ| scenario.expect.get(occ).contains(&Claim::Converges);
    if !converges(Occ::Off) {
        return Occ::Off;
    }
    [Occ::On, Occ::Dedup]
        .into_iter()
        .find(|&occ| !converges(occ))
        .unwrap_or(Occ::Off)
}

/// The race's mode in words: "without OCC (--occ off)", "with OCC as taught (--occ on)"; without
/// the flag when `flag` is false.
pub fn race_words(race: Occ, flag: bool) -> String {
    let words = match race {
        Occ::Off => "without OCC",
        Occ::On => "with OCC as taught",
        Occ::Dedup => "with OCC and deduplication",
    };
    if flag {
        format!("{words} (--occ {race})")
    } else {
        words.to_owned()
    }
}

/// The race's mode opening a sentence ("Without OCC"), and with `flag` the Markdown heading
/// "Without OCC (`--occ off`)".
pub fn race_heading(race: Occ, flag: bool) -> String {
    let words = race_words(race, false);
    let mut chars = words.chars();
    let first = chars.next().map(|c| c.to_uppercase().to_string());
    let head = format!("{}{}", first.unwrap_or_default(), chars.as_str());
    if flag {
        format!("{head} (`--occ {race}`)")
    } else {
        head
    }
}
