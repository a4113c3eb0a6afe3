//! ticketsim's integration tests: one binary, one module per area.

mod bus;
mod catalogue;
mod cli;
mod cures;
mod declared;
mod demo;
mod determinism;
mod explore;
mod faults;
mod fidelity;
mod fuzz;
mod later;
mod layers;
mod listeners;
mod pinned;
mod readme;
mod reduction;
mod reservations;
mod robustness;
mod scenario_docs;
mod scenario_errors;
mod support;
mod sweep;
mod tape;
mod trace;
mod words;
