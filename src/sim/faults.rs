//! The fault injector: crashes, pauses and partitions on the scenario's schedule, crashes at a
//! random rate, and the heal, each a task on the `faults` node.
//!
//! The probabilistic faults (lost acks, duplicates, slow handlers) strike where the work is
//! done ([`crate::sim::bus`], [`World::stall`]); this file only schedules the ones that happen
//! to a node. After the heal no fault starts and every node is back: the run then has to
//! converge and quiesce on its own.
//!
//! **Faults anchored to events.** A clock time is a poor anchor for exploring: a crash at
//! 57 ms lands between two awaits of its node that the latencies decide, and two latency
//! points rarely put it where a race needs it. So in an explored schedule (and the replay of
//! its tape) crashes are also choices at the awaits of the node they hit. After each step of a
//! node, that is at each of its awaits, a crash of `faults.crash` not yet happened may strike
//! it there instead of at its time (a deviation), and `faults.crash-rate` may crash the orders
//! replica that just stepped (a deviation per crash) instead of at drawn times; nominally
//! neither does, so a named crash happens at its time and crash-rate not at all. Each crash
//! restarts as the scenario says. A seeded run has no such choices and draws what it always
//! drew.

use crate::model::node::Node;
use crate::scenario::schema::Faults;
use crate::sim::connection;
use crate::sim::record::Event;
use crate::sim::tape::{ChoiceKind, ChoiceOf};
use crate::sim::world::World;
use std::cell::Cell;
use std::rc::Rc;

/// Spawn the tasks that crash, pause, partition and heal nodes on the scenario's schedule.
pub fn start(world: &World) {
    let f = world.faults();
    let anchored = world.exec.chooser().anchors_faults();
    // Per crash of `faults.crash`: whether it is still to come (it may strike at an await
    // before its time when faults are anchored to events).
    let to_come: Rc<[Cell<bool>]> = f.crash.iter().map(|_| Cell::new(true)).collect();
    for (i, c) in f.crash.iter().enumerate() {
        let (node, at_us, down) = (c.node.0, c.at_ms * 1000, c.restart_after_ms * 1000);
        let to_come = to_come.clone();
        at(world, at_us, move |w| {
            if to_come[i].replace(false) {
                crash_for(w, node, down);
            }
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
    if anchored && f.has_crashes() {
        world.exec.chooser().faults_anchored();
        let w = world.handle();
        world
            .exec
            .after_each_step(Rc::new(move |node| at_await(&w, node, &to_come)));
    }
    if let (Some(rate), Some(heal_ms), false) = (f.crash_rate, f.heal_at_ms, anchored) {
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
                    crash_for(&w, node, rate.restart_after_ms * 1000);
                }
            }
        });
    }
    if let Some(heal_ms) = f.heal_at_ms {
        at(world, heal_ms * 1000, heal);
    }
}

/// After a step of `node`, at its await: with faults anchored to events, the earliest crash
/// still to come of `node` may strike here, and so may `faults.crash-rate` if `node`
/// is an orders replica. Nominally neither does.
fn at_await(world: &World, node: Node, to_come: &[Cell<bool>]) {
    if world.healed.get() || world.exec.is_down(node) {
        return;
    }
    let f: &Faults = world.faults();
    // The earliest crash of `node` still to come (the file may list them in any order).
    let named = (0..to_come.len())
        .filter(|&i| to_come[i].get() && f.crash[i].node.0 == node)
        .min_by_key(|&i| (f.crash[i].at_ms, i));
    if let Some(i) = named {
        if world
            .exec
            .choose_in(ChoiceKind::Strike, ChoiceOf::Crash(node), 0..2)
            == 1
        {
            to_come[i].set(false);
            crash_for(world, node, f.crash[i].restart_after_ms * 1000);
            return;
        }
    }
    if let (Some(rate), Node::Orders(_)) = (f.crash_rate, node) {
        if world
            .exec
            .choose_in(ChoiceKind::Strike, ChoiceOf::RandomCrash(node), 0..2)
            == 1
        {
            crash_for(world, node, rate.restart_after_ms * 1000);
        }
    }
}

/// Crash `node` now and restart it `down_us` later (or at the heal).
fn crash_for(world: &World, node: Node, down_us: u64) {
    crash(world, node);
    at(
        world,
        until_heal(world, world.exec.now_us() + down_us),
        move |w| restart(w, node),
    );
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
    for node in world.processes() {
        restart(world, node);
        resume(world, node);
        end_partition(world, node);
    }
}
