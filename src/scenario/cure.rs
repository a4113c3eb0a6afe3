//! `[cures]`, the design switches beyond the course that cure a race, and `[cure]`, what cures
//! a scenario's race as the scenario declares it: exactly one of a mode of the course's design
//! (`mode`), switches of `[cures]` (`switches`), or why no cure is modelled (`none`);
//! `switches` may come with a `mode`, the mode they need (OCC as taught when it is left out).
//! The declaration changes no run: the demo reads it to show the cure beside the race, and the
//! catalogue's tests check it against the scenario's expectations.

use crate::model::occ::Occ;
use serde::{Deserialize, Serialize};

/// `[cure]`: exactly one key is set, or `switches` and `mode` (checked in
/// [`crate::scenario::limits`]).
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct CureTable {
    /// A mode of the course's design that cures the race: `on` or `dedup`. Beside `switches`,
    /// the mode the switches run in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<Occ>,
    /// The `[cures]` switches that cure it, run with OCC as taught unless `mode` says
    /// otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub switches: Option<Vec<Switch>>,
    /// No cure is modelled, and why, in a sentence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub none: Option<String>,
}

impl CureTable {
    /// How many of its keys are set (a valid table sets exactly one, or `switches` and
    /// `mode`).
    pub fn keys_set(&self) -> usize {
        usize::from(self.mode.is_some())
            + usize::from(self.switches.is_some())
            + usize::from(self.none.is_some())
    }

    /// Whether the keys set make a declaration: exactly one, or `switches` with the `mode` they
    /// run in.
    pub fn keys_fit(&self) -> bool {
        self.keys_set() == 1 || (self.keys_set() == 2 && self.none.is_none())
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
    /// `cures.status-guards`.
    StatusGuards,
    /// `cures.transactional-outbox`.
    TransactionalOutbox,
}

impl Switch {
    /// Every switch, in the order `[cures]` lists them.
    pub const ALL: [Switch; 4] = [
        Switch::UniqueActiveOrder,
        Switch::OrderedOrderEvents,
        Switch::StatusGuards,
        Switch::TransactionalOutbox,
    ];

    /// Its key in `[cures]`.
    pub fn key(self) -> &'static str {
        match self {
            Switch::UniqueActiveOrder => "unique-active-order",
            Switch::OrderedOrderEvents => "ordered-order-events",
            Switch::StatusGuards => "status-guards",
            Switch::TransactionalOutbox => "transactional-outbox",
        }
    }

    /// What it is, in a few words that fit in a sentence ("with ...").
    pub fn words(self) -> &'static str {
        match self {
            Switch::UniqueActiveOrder => "a unique partial index on active orders",
            Switch::OrderedOrderEvents => "order listeners that take an order's events in order",
            Switch::StatusGuards => "status guards on expiry, payment and cancellation",
            Switch::TransactionalOutbox => "a transactional outbox",
        }
    }
}

/// `[cures]`: design changes beyond the course that cure a race, each off by default (the
/// course's design). Left out, a scenario serializes (and hashes) as it did before the table
/// existed.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Cures {
    /// A unique partial index on the orders service's `orders` collection: at most one order
    /// per ticket in a status that reserves it, enforced by MongoDB (default false). It cures
    /// the double reservation (catalogue #5): the second insert fails with a duplicate key.
    #[serde(default)]
    pub unique_active_order: bool,
    /// The tickets service's order listeners take an order's events in order and clear only
    /// the reservation of the order cancelled (default false). It cures the cancellation
    /// handled before the creation (catalogue #6): an `order:cancelled` for an order the
    /// ticket has not named yet is not acked, and comes back after the ack wait.
    #[serde(default)]
    pub ordered_order_events: bool,
    /// The later services change an order only from the status they expect (default false):
    /// an expiry or a cancellation only of a created order, a payment only of a created order
    /// (the payments service's replica says) and never of a cancelled one (the orders service
    /// says). It cures the stale expiration and the payment after expiry.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub status_guards: bool,
    /// The tickets service stores each event with its ticket, in the same write, and a relay
    /// publishes the stored events and removes each once NATS has acked it (default false). It
    /// cures the crash between saving and publishing (catalogue #8): a relay restarted with
    /// its process publishes what the crash left pending.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub transactional_outbox: bool,
}

impl Cures {
    /// Whether no cure is on: the course's design.
    pub fn is_none(&self) -> bool {
        *self == Cures::default()
    }

    /// These cures with `switch` on as well.
    pub fn with(mut self, switch: Switch) -> Cures {
        match switch {
            Switch::UniqueActiveOrder => self.unique_active_order = true,
            Switch::OrderedOrderEvents => self.ordered_order_events = true,
            Switch::StatusGuards => self.status_guards = true,
            Switch::TransactionalOutbox => self.transactional_outbox = true,
        }
        self
    }

    /// Whether `switch` is on.
    pub fn is_on(self, switch: Switch) -> bool {
        match switch {
            Switch::UniqueActiveOrder => self.unique_active_order,
            Switch::OrderedOrderEvents => self.ordered_order_events,
            Switch::StatusGuards => self.status_guards,
            Switch::TransactionalOutbox => self.transactional_outbox,
        }
    }

    /// The switches that are on, in the order the table lists them.
    pub fn on(self) -> Vec<Switch> {
        Switch::ALL.into_iter().filter(|&s| self.is_on(s)).collect()
    }
}
