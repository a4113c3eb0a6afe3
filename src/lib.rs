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
//! The layers, bottom to top; an import only ever points down (`tests/it/layers.rs` holds it):
//!
//! ```text
//!  cli/          one file per subcommand: parse arguments, call the harness, map errors to exit codes
//!   └─ harness/      a run judged; many runs: sweep (baselines, shards, merge), shrink, demo
//!       └─ present/      what people read: the report and its summary, the story, diagrams
//!           └─ check/        judges a run from its recorded history: convergence, invariants,
//!               │            properties
//!               └─ sim/          the deterministic runtime: executor, timers, the random stream,
//!                  │             the world, NATS transport, faults, clients, the trace
//!                  └─ model/     the course's system: documents, events, pure decisions, the
//!                                services' routes and listeners, MongoDB, NATS Streaming
//!  scenario/     the input: the scenario file's schema, limits and parsing (read by sim and above)
//! ```
//!
//! [`model`] is written against a narrow interface of what a handler can do
//! ([`model::service::Service`]), which [`sim`] implements; the checks read only the trace;
//! the report is built from the checks' findings after the run.

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
pub mod check;
#[cfg(madsim)]
pub mod cli;
#[cfg(madsim)]
pub mod harness;
#[cfg(madsim)]
pub mod model;
#[cfg(madsim)]
pub mod present;
#[cfg(madsim)]
pub mod scenario;
#[cfg(madsim)]
pub mod sim;

#[cfg(madsim)]
pub use check::findings::Outcome;
#[cfg(madsim)]
pub use harness::error::Error;
#[cfg(madsim)]
pub use harness::run::{run, run_report, RunResult};
#[cfg(madsim)]
pub use model::occ::Occ;
#[cfg(madsim)]
pub use present::report::Report;
#[cfg(madsim)]
pub use scenario::schema::Scenario;
