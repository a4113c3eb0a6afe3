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
//! mutable state of one run and the run loop), [`trace`], [`check`], [`report`], [`scenario`].

#[cfg(not(madsim))]
compile_error!(
    "ticketsim only builds in madsim's simulation mode (`--cfg madsim`). `.cargo/config.toml` sets \
     it; a RUSTFLAGS environment variable replaces those flags, so add `--cfg madsim` to it \
     (RUSTFLAGS=\"--cfg madsim ...\") or unset it."
);

pub mod bus;
pub mod check;
pub mod cli;
pub mod domain;
pub mod error;
pub mod exec;
pub mod report;
pub mod scenario;
pub mod services;
pub mod store;
pub mod trace;
pub mod world;

pub use domain::Occ;
pub use error::Error;
pub use report::{Outcome, Report};
pub use scenario::Scenario;
pub use world::{run, RunResult};
