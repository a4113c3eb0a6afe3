//! A scenario's `[explore]` table: the small scope to explore every schedule of, the bound,
//! and what each mode must show within it (`ticketsim sweep` and `cargo test` judge it).
//!
//! ```toml
//! [explore]
//! tickets = 1          # every workload step's tickets (and a create step's count)
//! replicas = 2         # topology.orders-replicas
//! updates = 2          # the first N price updates of each step
//! deviations = 4       # the bound
//! off = "fails-within-2"
//! on = "converges"
//! dedup = "converges"
//! ```

use crate::model::occ::Occ;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// What a mode must show within the bound.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(into = "String", try_from = "String")]
pub enum ExploreClaim {
    /// No schedule within the bound fails: the mode is certified for the scope.
    Converges,
    /// Some schedule with at most this many deviations fails.
    FailsWithin(u32),
}

impl fmt::Display for ExploreClaim {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExploreClaim::Converges => f.write_str("converges"),
            ExploreClaim::FailsWithin(k) => write!(f, "fails-within-{k}"),
        }
    }
}

impl FromStr for ExploreClaim {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        if s == "converges" {
            return Ok(ExploreClaim::Converges);
        }
        s.strip_prefix("fails-within-")
            .and_then(|k| k.parse().ok())
            .map(ExploreClaim::FailsWithin)
            .ok_or_else(|| {
                format!("`{s}` is not an exploration claim: write converges or fails-within-K (K deviations, e.g. fails-within-2)")
            })
    }
}

serde_as_string!(ExploreClaim);

/// The `[explore]` table.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct ExploreTable {
    /// Tickets of every workload step, in the explored scope (default: as the scenario says).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tickets: Option<u32>,
    /// Orders-service replicas in the explored scope.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replicas: Option<u32>,
    /// Price updates kept of each workload step (the first N).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updates: Option<u32>,
    /// Concurrent orders per ticket of each reservation step.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub orders: Option<u32>,
    /// Deviations from the nominal run, at most (0 to 8, default 2).
    #[serde(default = "default_deviations")]
    pub deviations: u32,
    /// Points of a latency's range a deviation may take (2 to 16, default 2).
    #[serde(default = "default_latency_points")]
    pub latency_points: u32,
    /// What `--occ off` must show.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub off: Option<ExploreClaim>,
    /// What `--occ on` must show.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on: Option<ExploreClaim>,
    /// What `--occ dedup` must show.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dedup: Option<ExploreClaim>,
}

fn default_deviations() -> u32 {
    2
}
fn default_latency_points() -> u32 {
    2
}

/// The most schedules an exploration a scenario claims may run: a claim must be cheap enough
/// for every `cargo test`.
pub const MAX_CLAIMED_SCHEDULES: u64 = 2_000_000;

impl ExploreTable {
    /// The claim for `occ`, if any.
    pub fn claim(&self, occ: Occ) -> Option<ExploreClaim> {
        match occ {
            Occ::Off => self.off,
            Occ::On => self.on,
            Occ::Dedup => self.dedup,
        }
    }
}
