//! Seed sweeps: every (scenario, mode, seed) of a [`Plan`] on worker threads, folded into one
//! [`Tally`] per scenario and mode, judged against each scenario's expectations and compared
//! with the committed baselines.
//!
//! [`plan`] says what runs (and which shard), [`workers`] runs it, [`tally`] adds the outcomes
//! up, [`baseline`] compares them with `reports/*.baseline.toml`, [`explored`] judges the
//! scenarios' `[explore]` claims, [`report`] judges them,
//! [`merge`] combines the shards of one sweep and [`render`] prints the result.

pub mod baseline;
pub mod explored;
pub mod merge;
pub mod plan;
pub mod render;
pub mod report;
pub mod tally;
pub mod workers;

pub use plan::{Group, Plan, Seeds, Shard};
pub use report::{GroupReport, Judgement, SweepReport};
pub use tally::{HashSum, SeedClass, Tally};
pub use workers::{default_jobs, run, Outcomes, Panicked};
