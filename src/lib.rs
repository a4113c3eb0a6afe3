//! ticketsim: a deterministic concurrency simulator and test harness for the ticketing system of
//! the "Microservices with Node JS and React" course.
//!
//! A tickets service, a queue group of orders-service replicas, a NATS Streaming bus with manual
//! acks and redelivery, and MongoDB collections versioned for optimistic concurrency control run
//! inside one seeded [madsim] runtime per run. A run executes a scripted workload from a
//! [`scenario`] file and [`check`]s whether the orders service's copy of every ticket converges
//! with the tickets service's, with and without OCC ([`Occ`]).
//!
//! ```text
//!  clients ──HTTP──▶ tickets service ──publish──▶ ┌──── bus ────┐ ──deliver──▶ orders ×N
//!                        (tickets db)             │ channels,   │              (orders db)
//!                                                 │ queue groups│ ◀────ack────
//!                                                 └─────────────┘
//! ```
//!
//! Layout, one concept per module: [`domain`] (records, events and the pure decisions the
//! services make), [`store`] (MongoDB with the version plugin), [`exec`] (the scheduler model
//! futures run on), [`bus`] (NATS Streaming), [`services`] (the async handlers), [`world`] (all
//! mutable state of one run and the run loop), [`trace`], [`check`], [`report`], [`scenario`]; and over many runs,
//! [`sweep`] (seed sweeps on worker threads) and [`baseline`] (committed regression outcomes);
//! and to show one: [`story`] (one ticket's history in words), [`shrink`] (the smallest run
//! that fails the same way), [`diagram`] (Mermaid and SVG sequence diagrams) and [`demo`].

#[cfg(not(madsim))]
compile_error!(
    "ticketsim only builds in madsim's simulation mode (`--cfg madsim`). `.cargo/config.toml` sets \
     it; a RUSTFLAGS environment variable replaces those flags, so add `--cfg madsim` to it \
     (RUSTFLAGS=\"--cfg madsim ...\") or unset it."
);

/// Serialize a type as its `Display` string and deserialize it through `FromStr`, so that JSON
/// and baselines spell it as the command line does (`0..500`, `1/4`).
macro_rules! serde_as_string {
    ($t:ty) => {
        impl From<$t> for String {
            fn from(value: $t) -> String {
                value.to_string()
            }
        }

        impl TryFrom<String> for $t {
            type Error = String;
            fn try_from(s: String) -> Result<Self, String> {
                s.parse()
            }
        }
    };
}

// Without madsim the crate is only the error above, not a page of follow-on errors.
#[cfg(madsim)]
pub mod baseline;
#[cfg(madsim)]
pub mod bus;
#[cfg(madsim)]
pub mod check;
#[cfg(madsim)]
pub mod cli;
#[cfg(madsim)]
pub mod demo;
#[cfg(madsim)]
pub mod diagram;
#[cfg(madsim)]
pub mod domain;
#[cfg(madsim)]
pub mod error;
#[cfg(madsim)]
pub mod exec;
#[cfg(madsim)]
pub mod report;
#[cfg(madsim)]
pub mod scenario;
#[cfg(madsim)]
pub mod services;
#[cfg(madsim)]
pub mod shrink;
#[cfg(madsim)]
pub mod store;
#[cfg(madsim)]
pub mod story;
#[cfg(madsim)]
pub mod sweep;
#[cfg(madsim)]
pub mod timers;
#[cfg(madsim)]
pub mod trace;
#[cfg(madsim)]
pub mod world;

#[cfg(madsim)]
pub use domain::Occ;
#[cfg(madsim)]
pub use error::Error;
#[cfg(madsim)]
pub use report::{Outcome, Report};
#[cfg(madsim)]
pub use scenario::Scenario;
#[cfg(madsim)]
pub use world::{run, run_report, RunResult};
