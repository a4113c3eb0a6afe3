//! The course's system: what the tickets service, the orders service, NATS Streaming and
//! MongoDB do, and nothing about how a run is scheduled, timed, faulted, recorded or judged.
//!
//! ```text
//!  clients ──HTTP──▶ tickets service ──publish──▶ ┌──── NATS ───┐ ──deliver──▶ orders ×N
//!                        (tickets db)             │ channels,   │              (orders db)
//!                                                 │ queue groups│ ◀────ack────
//!                                                 └─────────────┘
//! ```
//!
//! - The data: [`documents`] (the mongoose models), [`events`] (the published events),
//!   [`http`] (routes, requests, responses), [`occ`] (the concurrency-control mode), [`node`]
//!   (the processes).
//! - The decisions, pure: [`decisions`].
//! - The handlers, async: [`tickets`] and [`orders`], and the services the course adds after
//!   section 19, [`expiration`] (with its Bull queue, [`bull`]) and [`payments`], written
//!   against [`service::Service`], the narrow interface of what a handler can do; their
//!   decisions about an order's life are in [`lifecycle`]; [`services`] wires them up.
//!   [`outbox`] is the tickets service's relay of a transactional outbox (a cure, off unless
//!   asked for).
//! - The infrastructure's state: [`store`] (a MongoDB collection with the version plugin),
//!   [`databases`] (both services' collections), [`nats`] (the NATS Streaming server),
//!   [`by_id`] (the dense-id map they keep documents and messages in).
//!
//! Nothing in this module imports from the runtime, the checks, the presentation or the
//! harness: a test (`tests/it/layers.rs`) holds that. `docs/model.md` is the model card: the
//! course's code each handler follows, file and line, and every stated difference from it.

pub mod bull;
pub mod by_id;
pub mod databases;
pub mod decisions;
pub mod documents;
pub mod events;
pub mod expiration;
pub mod http;
pub mod lifecycle;
pub mod nats;
pub mod node;
pub mod occ;
pub mod orders;
pub mod outbox;
pub mod payments;
pub mod service;
pub mod services;
pub mod store;
pub mod tickets;
