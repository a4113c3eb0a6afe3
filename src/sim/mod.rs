//! The deterministic runtime the model runs on: time, chance, faults, clients and the record
//! of what happened.
//!
//! - Scheduling: [`exec`] (the executor model futures run on, tasks owned by nodes, a ready set
//!   drawn from at random), [`task`], [`timers`] (its timing wheel), [`sync`] (wake-ups and
//!   reply channels), [`choice`] (the one chooser every random decision goes through),
//!   [`rng`] (the seeded stream it draws from, madsim's) and [`tape`] (a run's choices, as a
//!   token that replays them).
//! - Exploring: [`footprint`] (what a step touched) and [`sleep_sets`] (when a run of an
//!   exploration has become equivalent to one the search runs anyway).
//! - The system in motion: [`world`] (all mutable state of a run and the model's database
//!   calls), [`nats`] (the NATS server as a step reaches it), [`bus`] (handlers on nodes and the NATS transport between them), [`http`]
//!   (requests from clients), [`faults`] (the fault injector), [`process`] (a process exiting on
//!   its own and its restart), [`connection`] (each process's NATS session: heartbeats, pings,
//!   closing and reconnecting), [`session`] (their state), [`workload`] (the clients),
//!   [`relay`] (the tickets service's outbox relay, with `[cures] transactional-outbox`).
//! - The record: [`record`] (one step of the history, as `--trace` writes it), [`trace`] (the
//!   history, its digest and what watches it), [`hash`] (the stable hash).
//! - [`run`]: one run, start to end.
//!
//! Every random decision goes through the executor's chooser: a draw from one generator seeded
//! with the run's seed, or an answer from a tape; nothing here iterates an unordered map. The runtime imports the model and the
//! scenario, never the checks, the presentation or the harness.

pub mod bus;
pub mod choice;
pub mod connection;
pub mod exec;
pub mod expiration;
pub mod faults;
pub mod footprint;
pub mod hash;
pub mod http;
pub mod nats;
pub mod process;
pub mod record;
pub mod relay;
pub mod rng;
pub mod run;
pub mod session;
pub mod sleep_sets;
pub mod sync;
pub mod tape;
pub mod task;
pub mod timers;
pub mod trace;
pub mod traced;
pub mod workload;
pub mod world;
