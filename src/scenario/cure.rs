//! `[cure]`: what cures a scenario's race, as the scenario declares it. Exactly one of a mode
//! of the course's design (`mode`), switches of `[cures]` (`switches`), or why no cure is
//! modelled (`none`). The declaration changes no run: the demo reads it to show the cure
//! beside the race, and the catalogue's tests check it against the scenario's expectations.

use crate::model::occ::Occ;
use serde::{Deserialize, Serialize};

/// `[cure]`: exactly one key is set (checked in [`crate::scenario::limits`]).
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct CureTable {
    /// A mode of the course's design that cures the race: `on` or `dedup`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<Occ>,
    /// The `[cures]` switches that cure it, run with OCC as taught.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub switches: Option<Vec<Switch>>,
    /// No cure is modelled, and why, in a sentence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub none: Option<String>,
}

impl CureTable {
    /// How many of its keys are set (a valid table sets exactly one).
    pub fn keys_set(&self) -> usize {
        usize::from(self.mode.is_some())
            + usize::from(self.switches.is_some())
            + usize::from(self.none.is_some())
    }
}

/// A switch of `[cures]`, by its key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Switch {
    /// `cures.unique-active-order`.
    UniqueActiveOrder,
    /// `cures.ordered-order-events`.
    OrderedOrderEvents,
}

impl Switch {
    /// Every switch, in the order `[cures]` lists them.
    pub const ALL: [Switch; 2] = [Switch::UniqueActiveOrder, Switch::OrderedOrderEvents];

    /// Its key in `[cures]`.
    pub fn key(self) -> &'static str {
        match self {
            Switch::UniqueActiveOrder => "unique-active-order",
            Switch::OrderedOrderEvents => "ordered-order-events",
        }
    }

    /// What it is, in a few words that fit in a sentence ("with ...").
    pub fn words(self) -> &'static str {
        match self {
            Switch::UniqueActiveOrder => "a unique partial index on active orders",
            Switch::OrderedOrderEvents => "order listeners that take an order's events in order",
        }
    }
}
