//! One run of a world: start the bus's sweepers, the fault injector and the workload's clients,
//! run the executor until nothing is left to do or a limit is hit, and hand back how it ended
//! and the trace. Judging the run is not the runtime's business: the caller's observer (the
//! checks) watched every record, and the caller builds the report.

use crate::model::events::Subject;
use crate::model::node::Node;
use crate::scenario::schema::Scenario;
use crate::sim::exec::Halt;
use crate::sim::trace::Trace;
use crate::sim::world::World;
use crate::sim::{bus, connection, expiration, faults, relay, workload};
use serde::Serialize;

/// Task polls after which a run is abandoned as runaway. Far above any valid scenario's need
/// (the largest allowed workload takes ~40 M), so hitting it means a model bug, reported as such.
pub const MAX_STEPS: u64 = 500_000_000;

/// How a run ended, as the world saw it.
#[derive(Clone, Debug)]
pub struct Ending {
    /// Why the executor stopped.
    pub halt: Halt,
    /// Messages sent and never acked.
    pub unacked: usize,
    /// Requests never answered.
    pub open_requests: u64,
    /// Simulated time at the end, in microseconds.
    pub now_us: u64,
    /// The scenario's time limit, in microseconds.
    pub limit_us: u64,
    /// The service processes not running or not reachable at the end, and why.
    pub held: Vec<(Node, Hold)>,
    /// The first few messages still unacked at the end: channel, sequence number, and the
    /// member holding each (none while it waits for a member to join).
    pub waiting: Vec<(Subject, u64, Option<Node>)>,
    /// The scheduler's steps (task polls) of the run.
    pub steps: u64,
    /// Timers the run set.
    pub timers: u64,
}

/// Why a service process does nothing at the end of a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Hold {
    /// Crashed or exited, not yet restarted.
    Down,
    /// Paused.
    Paused,
    /// Cut off from NATS.
    CutOff,
}

/// How many unacked messages an [`Ending`] names.
const WAITING_SHOWN: usize = 8;

/// Spawn the bus's ack-wait sweepers, the fault injector and the workload's clients (and, with
/// `[cures] transactional-outbox`, the tickets service's relay).
pub fn start(world: &World, scenario: &Scenario) {
    world.set_session(connection::follow);
    bus::start(world);
    if world.later.expiration {
        expiration::started(world);
    }
    faults::start(world);
    workload::start(world, scenario);
    relay::start(world);
}

/// Start `world` (new, inside a madsim runtime) and run it to its end: how it ended, and its
/// trace. Every task is dropped afterwards, which frees the run's memory (futures hold handles
/// to the world).
pub fn simulate(world: &World, scenario: &Scenario) -> (Ending, Trace) {
    start(world, scenario);
    let limit_us = scenario.limits.sim_time_ms * 1000;
    let halt = world.exec.run(limit_us, MAX_STEPS);
    let held = world
        .processes()
        .into_iter()
        .filter_map(|node| {
            let hold = if world.exec.is_down(node) {
                Hold::Down
            } else if world.exec.is_paused(node) {
                Hold::Paused
            } else if world.is_partitioned(node) {
                Hold::CutOff
            } else {
                return None;
            };
            Some((node, hold))
        })
        .collect();
    let ending = Ending {
        halt,
        unacked: world.nats().unacked(),
        open_requests: world.open_requests(),
        now_us: world.exec.now_us(),
        limit_us,
        held,
        waiting: world.nats().waiting(WAITING_SHOWN),
        steps: world.exec.steps(),
        timers: world.exec.timers_set(),
    };
    world.exec.clear();
    (ending, world.take_trace())
}
