//! What a run checks (DESIGN §5), judged from its recorded history alone, never from the
//! world: the runtime hands each record to the [`checker::Checker`] as it is made, and the
//! checker's [`findings::Findings`] go into the report.
//!
//! - [`convergence`] (safety): the orders database's copy of every ticket agrees with the
//!   tickets database's at the end.
//! - Quiescence (liveness, in [`checker`]): every message acked and every request answered
//!   within the limits; a message delivered more often than the bound is a redelivery loop.
//! - [`invariants`]: reservations and versions, along the history and at quiescence.
//! - [`properties`]: whether the run exercised what its scenario is meant to exercise.

pub mod checker;
pub mod convergence;
pub mod findings;
pub mod invariants;
pub mod properties;

#[cfg(test)]
mod tests;
