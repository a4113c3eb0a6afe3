//! The fault injector: crashes, pauses and partitions on the scenario's schedule, crashes at a
//! random rate, and the heal, each a task on the `faults` node.
//!
//! The probabilistic faults (lost acks, duplicates, slow handlers) strike where the work is
//! done ([`crate::sim::bus`], [`World::stall`]); this file only schedules the ones that happen
//! to a node. After the heal no fault starts and every node is back: the run then has to
//! converge and quiesce on its own.

use crate::model::node::Node;
use crate::sim::connection;
use crate::sim::record::Event;
use crate::sim::tape::{ChoiceKind, ChoiceOf};
use crate::sim::world::World;

/// Spawn the tasks that crash, pause, partition and heal nodes on the scenario's schedule.
pub fn start(world: &World) {
    let f = world.faults();
    for c in &f.crash {
        let (node, at_us, down) = (c.node.0, c.at_ms * 1000, c.restart_after_ms * 1000);
        at(world, at_us, move |w| {
            crash(w, node);
            at(w, until_heal(w, w.exec.now_us() + down), move |w| {
                restart(w, node)
            });
        });
    }
    for p in &f.pause {
        let (node, at_us, len) = (p.node.0, p.at_ms * 1000, p.for_ms);
        at(world, at_us, move |w| {
            w.exec.pause(node);
            connection::unresponsive(w, node);
            w.record(
                Node::Faults,
                Event::Pause {
                    target: node,
                    for_ms: len,
                },
            );
            at(w, until_heal(w, w.exec.now_us() + len * 1000), move |w| {
                resume(w, node)
            });
        });
    }
    for p in &f.partition {
        let (node, at_us, len) = (p.node.0, p.at_ms * 1000, p.for_ms);
        at(world, at_us, move |w| {
            w.partitioned.borrow_mut().push(node);
            w.record(
                Node::Faults,
                Event::Partition {
                    target: node,
                    for_ms: len,
                },
            );
            let end = until_heal(w, w.exec.now_us() + len * 1000);
            connection::partitioned(w, node);
            at(w, end, move |w| end_partition(w, node));
        });
    }
    if let (Some(rate), Some(heal_ms)) = (f.crash_rate, f.heal_at_ms) {
        let w = world.handle();
        let replicas = world.replicas().len() as u64;
        world.exec.spawn(Node::Faults, async move {
            let mean_us = rate.mean_interval_ms as f64 * 1000.0;
            loop {
                // Exponential gaps: a Poisson process of crashes.
                let u = w
                    .exec
                    .choose_in(ChoiceKind::CrashGap, ChoiceOf::CrashRate, 0..1 << 53)
                    as f64
                    / (1u64 << 53) as f64;
                let gap = (-mean_us * (1.0 - u).ln()) as u64;
                let at_us = w.exec.now_us() + gap.max(1);
                if at_us >= heal_ms * 1000 {
                    break;
                }
                w.exec.sleep_until(at_us).await;
                let node = w.replicas()[w.exec.choose_in(
                    ChoiceKind::CrashNode,
                    ChoiceOf::CrashRate,
                    0..replicas,
                ) as usize];
                if !w.exec.is_down(node) {
                    crash(&w, node);
                    let back = until_heal(&w, w.exec.now_us() + rate.restart_after_ms * 1000);
                    at(&w, back, move |w| restart(w, node));
                }
            }
        });
    }
    if let Some(heal_ms) = f.heal_at_ms {
        at(world, heal_ms * 1000, heal);
    }
}

/// `t_us`, or the heal if that comes first: a fault's end is never scheduled after the heal,
/// which ends it anyway, so no leftover timer keeps a healed run alive.
fn until_heal(world: &World, t_us: u64) -> u64 {
    world
        .faults()
        .heal_at_ms
        .map_or(t_us, |h| t_us.min(h * 1000))
}

/// Run `f` on the fault injector's node at `at_us`.
fn at(world: &World, at_us: u64, f: impl FnOnce(&World) + 'static) {
    let w = world.handle();
    world.exec.spawn(Node::Faults, async move {
        w.exec.sleep_until(at_us).await;
        f(&w);
    });
}

fn crash(world: &World, node: Node) {
    if world.healed.get() {
        return;
    }
    let dropped_tasks = world.exec.crash(node);
    world.record(
        Node::Faults,
        Event::Crash {
            target: node,
            dropped_tasks,
        },
    );
    connection::died(world, node);
}

/// `node` starts again: it runs once its NATS client has connected (`sim::connection`). A
/// process that exited on its own restarts on Kubernetes's schedule instead (`sim::process`).
fn restart(world: &World, node: Node) {
    if world.exec.is_down(node) && !world.lives.is_waiting(node) {
        connection::restarted(world, node);
    }
}

fn resume(world: &World, node: Node) {
    if world.exec.is_paused(node) {
        world.exec.resume(node);
        world.record(Node::Faults, Event::Resume { target: node });
    }
}

/// A partition's window ends. The node is reachable again unless another partition of it
/// still holds (overlapping windows make one cut).
fn end_partition(world: &World, node: Node) {
    let announced = world.partitioned.borrow().contains(&node);
    if announced && !world.is_partitioned(node) {
        world.partitioned.borrow_mut().retain(|&n| n != node);
        world.record(Node::Faults, Event::PartitionHealed { target: node });
    }
}

/// Faults stop: every node is restarted, resumed and reconnected.
fn heal(world: &World) {
    world.healed.set(true);
    world.record(Node::Faults, Event::Heal);
    for &node in [Node::Tickets].iter().chain(world.replicas()) {
        restart(world, node);
        resume(world, node);
        end_partition(world, node);
    }
}
