//! A service's process ending on its own, and Kubernetes starting it again: what
//! `[services] unhandled-rejection = "exit"` turns on.
//!
//! The course's listeners call `onMessage` without `await` or `catch` (SG
//! `common/src/events/base-listener.ts` 36-41), and the orders routes publish without `await`
//! (SG `orders/src/routes/new.ts` 60, `delete.ts` 31): a throw there is an unhandled
//! rejection. Under Node 14, which the course ran, that is a warning. Under Node 15 and later,
//! which the Dockerfiles' unpinned `FROM node:alpine` builds today, it ends the process, and
//! `ts-node-dev` without `--respawn` ends with it, so the container exits. Kubernetes then
//! restarts it: at once the first time, then after 10 s, 20 s, 40 s and so on up to five
//! minutes, the count starting again once a container has run ten minutes (the kubelet's
//! CrashLoopBackOff). The service then needs `startup-ms` to compile and connect.
//!
//! The same happens when a process's NATS client closes (see [`crate::sim::connection`]):
//! the course's `close` handler calls `process.exit()`.

use crate::model::node::Node;
use crate::scenario::schema::UnhandledRejection;
use crate::sim::record::Event;
use crate::sim::session::{ExitReason, SessionEvent};
use crate::sim::world::World;

/// A promise on `node` was rejected with no handler. Under `exit` the process ends (see
/// [`exit`]); under `warn` nothing happens.
pub fn unhandled_rejection(world: &World, node: Node) {
    if world.services().unhandled_rejection == UnhandledRejection::Exit {
        exit(world, node, ExitReason::UnhandledRejection);
    }
}

/// `node`'s process ends: its in-flight work is dropped (the caller's own task included, which
/// must return right after), and Kubernetes restarts it after its back-off and start-up.
pub fn exit(world: &World, node: Node, reason: ExitReason) {
    let now = world.exec.now_us();
    let after_us = world
        .lives
        .exit(node, now, world.services().startup_ms * 1000);
    let dropped_tasks = world.exec.crash(node);
    world.record(
        node,
        Event::Exit {
            target: node,
            reason,
            dropped_tasks,
            restart_after_ms: after_us / 1000,
        },
    );
    world.session(node, SessionEvent::Died);
    let w = world.handle();
    world.exec.spawn(Node::Faults, async move {
        w.exec.sleep_until(now + after_us).await;
        w.lives.started(node, w.exec.now_us());
        // It runs once its NATS client has connected.
        w.session(node, SessionEvent::Restarted);
    });
}
