//! The concurrency-control mode the whole system runs in (DESIGN §4): the `--occ` switch.
//!
//! `off` is the course's code before the lecture "Clear Concurrency Issues" (no versions),
//! `on` is the code after it (mongoose-update-if-current and versioned events), and `dedup` is
//! the usual cure for what `on` leaves open, beyond the course.

use serde::{Deserialize, Serialize};
use std::fmt;

/// The concurrency-control mode of the whole system (DESIGN §4), the `--occ` switch.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    clap::ValueEnum,
)]
#[serde(rename_all = "kebab-case")]
pub enum Occ {
    /// No versions: events carry none, saves are last-write-wins.
    Off,
    /// As taught: events carry the version, a replica applies only version `stored + 1`, saves
    /// are conditional. A duplicate of an applied event is never acked.
    On,
    /// Beyond the course: as `on`, but an event at or below the stored version is acked and
    /// dropped, and a duplicate `ticket:created` is acked.
    Dedup,
}

impl Occ {
    /// Every mode, in the order reports list them.
    pub const ALL: [Occ; 3] = [Occ::Off, Occ::On, Occ::Dedup];

    /// Whether records are versioned and saves conditional (mongoose-update-if-current).
    pub fn versioned(self) -> bool {
        self != Occ::Off
    }

    /// The mode's name as the CLI and reports spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            Occ::Off => "off",
            Occ::On => "on",
            Occ::Dedup => "dedup",
        }
    }
}

impl fmt::Display for Occ {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
