//! Each service process's NATS Streaming session, as the server and the client keep it: the
//! server's heartbeats, the client's pings, closing a client, and connecting again after a
//! restart.
//!
//! The course runs the server with `-hbi 5s -hbt 5s -hbf 2` (SG `infra/k8s/nats-depl.yaml`)
//! and the client's defaults (node-nats-streaming 0.2.6: a ping every 5 s, at most 3
//! unanswered, `lib/stan.js` 61-62, 355-363). So, following nats-streaming-server v0.17.0:
//!
//! - While a process cannot answer (crashed, exited, paused, cut off), the server's heartbeat
//!   every 5 s times out after 5 s more. The first miss flags the client, and the server stops
//!   choosing its members (`checkClientHealth`, server.go 3068-3153; `findBestQueueSub` 3364);
//!   an answer clears the flag. The third miss closes the client (3110): its members leave
//!   their groups and their pending messages move to the others, redelivered 100 ms later
//!   (`subStore.Remove`, 1053-1270).
//! - A restarted process connects with the same client ID (the pod's name). If the old client
//!   is still registered the server first pings it, waits 500 ms for an answer that does not
//!   come, and closes it (`isDuplicateConnect` 2839-2852, `processConnect` 2999-3006); then the
//!   new client subscribes, joining the end of each group's list.
//! - A client that cannot reach the server for four ping intervals closes itself
//!   (`MAX_PINGS_EXCEEDED`, stan.js 357-359), and a client the server no longer knows is told so
//!   in its next ping's answer and closes too (stan.js 293-300). Either way the client emits
//!   `close`, and the course's handler calls `process.exit()` (SG `tickets/src/index.ts` 32-35,
//!   the same in orders): the process ends, and Kubernetes restarts it.

use crate::model::nats::TRANSFER_REDELIVERY_US;
use crate::model::node::Node;
use crate::sim::bus;
use crate::sim::expiration;
use crate::sim::process;
use crate::sim::record::Event;
use crate::sim::relay;
use crate::sim::session::{next_tick, Conn, ExitReason, SessionEvent};
use crate::sim::world::World;

/// The server's heartbeat interval and timeout (`-hbi 5s -hbt 5s`), and the misses it
/// tolerates (`-hbf 2`: the third closes the client).
const HEARTBEAT_US: u64 = 5_000_000;
const HEARTBEAT_TIMEOUT_US: u64 = 5_000_000;
const HEARTBEAT_FAILURES: u32 = 2;
/// The client's ping interval, and the pings it sends unanswered before it gives up.
const PING_US: u64 = 5_000_000;
const PINGS_OUT: u64 = 3;
/// How long the server waits for the old client of a reconnecting client ID to answer.
const DUPLICATE_CHECK_US: u64 = 500_000;

/// What the world reports of a process, followed here: the hook [`World::set_session`] is
/// given at the start of a run.
pub fn follow(world: &World, node: Node, event: SessionEvent) {
    // A session is not modelled piece by piece for the reduction of tie orders: its work, and
    // every task it starts, counts as touching everything (`sim::footprint`).
    world.exec.touch_everything();
    match event {
        SessionEvent::Died => died(world, node),
        SessionEvent::Restarted => restarted(world, node),
    }
}

/// `node`'s process died (crashed or exited): a start of it still waiting to connect is
/// abandoned, and the server's heartbeats to its client start to miss.
pub fn died(world: &World, node: Node) {
    world.conns.update(node, |c| c.attempt += 1);
    unresponsive(world, node);
    if node == Node::Expiration {
        // The Bull worker dies with its process: the job it held stalls (a crash by the fault
        // injector comes here directly, an exit through `follow`).
        expiration::died(world);
    }
}

/// Whether `node`'s current process answers its heartbeats now.
fn responsive(world: &World, node: Node) -> bool {
    !world.exec.is_down(node) && !world.exec.is_paused(node) && !world.is_partitioned(node)
}

/// `node` stopped answering (it crashed, exited, paused, or was cut off): the server's
/// heartbeats start to miss.
pub fn unresponsive(world: &World, node: Node) {
    world.exec.touch_everything();
    let conn = world.conns.get(node);
    if conn.watched || conn.closed {
        return;
    }
    world.conns.update(node, |c| c.watched = true);
    let w = world.handle();
    world
        .exec
        .spawn_opaque(Node::Bus, async move { watch(&w, node, conn).await });
}

/// The server's heartbeats to `node`'s client `conn` while it does not answer.
async fn watch(world: &World, node: Node, conn: Conn) {
    let same = |w: &World| {
        let now = w.conns.get(node);
        now.generation == conn.generation && !now.closed
    };
    let mut ask = next_tick(conn.since_us, HEARTBEAT_US, world.exec.now_us());
    let mut failures = 0;
    loop {
        world.exec.sleep_until(ask + HEARTBEAT_TIMEOUT_US).await;
        if !same(world) {
            break;
        }
        if responsive(world, node) {
            if failures > 0 {
                world.nats().set_failed_hb(node, false);
                world.record(Node::Bus, Event::HeartbeatAnswered { target: node });
            }
            break;
        }
        failures += 1;
        if failures == 1 {
            world.nats().set_failed_hb(node, true);
            world.record(Node::Bus, Event::HeartbeatMissed { target: node });
        }
        if failures > HEARTBEAT_FAILURES {
            close(world, node, conn);
            break;
        }
        // The timer is reset to the interval after each failed request.
        ask += HEARTBEAT_TIMEOUT_US + HEARTBEAT_US;
    }
    world.conns.update(node, |c| {
        if c.generation == conn.generation {
            c.watched = false;
        }
    });
}

/// The server closes `node`'s client `conn`: its members leave their groups and their messages
/// move on. If the process that holds it still runs, it learns of it at its next ping, and
/// exits.
fn close(world: &World, node: Node, conn: Conn) {
    let now = world.exec.now_us();
    let (moved, groups) = world.nats().close(node, now);
    world.conns.update(node, |c| c.closed = true);
    world.record(
        Node::Bus,
        Event::ClientClosed {
            target: node,
            moved,
        },
    );
    for group in groups {
        let w = world.handle();
        world.exec.spawn_opaque(Node::Bus, async move {
            w.exec.sleep_until(now + TRANSFER_REDELIVERY_US).await;
            bus::redeliver_expired(&w, group);
        });
    }
    if world.exec.is_down(node) || world.conns.generation(node) != conn.generation {
        return;
    }
    // The process's own ping timer: on the next tick it can send, the answer says the
    // client is unknown. On a paused node the task waits for the resume, as the timer does.
    let w = world.handle();
    world.exec.spawn_opaque(node, async move {
        let mut tick = next_tick(conn.since_us, PING_US, w.exec.now_us());
        loop {
            w.exec.sleep_until(tick).await;
            if w.conns.generation(node) != conn.generation {
                return;
            }
            if !w.is_partitioned(node) {
                process::exit(&w, node, ExitReason::NatsClosed);
                return;
            }
            tick += PING_US;
        }
    });
}

/// `node` is cut off from the bus: the server's heartbeats miss, and if the client's pings
/// go unanswered for four intervals of the whole cut (partitions that overlap or follow each
/// other make one), it closes and the process exits.
pub fn partitioned(world: &World, node: Node) {
    world.exec.touch_everything();
    unresponsive(world, node);
    let conn = world.conns.get(node);
    let now = world.exec.now_us();
    let (start, end) = world.cut_around(node, now);
    let gives_up =
        next_tick(conn.since_us, PING_US, start.max(conn.since_us)) + PINGS_OUT * PING_US;
    if end <= gives_up {
        return;
    }
    let w = world.handle();
    world.exec.spawn_opaque(node, async move {
        w.exec.sleep_until(gives_up).await;
        if w.conns.generation(node) == conn.generation && w.is_partitioned(node) {
            process::exit(&w, node, ExitReason::NatsClosed);
        }
    });
}

/// `node`'s process starts again: a new client with the same client ID connects, replacing
/// the old one; the process runs from then on (the course's services connect before they
/// listen, SG `tickets/src/index.ts` 27-43), and its client subscribes.
pub fn restarted(world: &World, node: Node) {
    world.conns.update(node, |c| c.attempt += 1);
    let attempt = world.conns.get(node).attempt;
    let w = world.handle();
    let reach = world.reachable_at(node, world.exec.now_us());
    world.exec.spawn_opaque(Node::Bus, async move {
        w.exec.sleep_until(reach).await;
        // Another start of the process may have overtaken this one, or the process died
        // while it waited to connect.
        let stale = |w: &World| !w.exec.is_down(node) || w.conns.get(node).attempt != attempt;
        if stale(&w) {
            return;
        }
        let old = w.conns.get(node);
        if !old.closed {
            // The old client is still registered: the server pings it and waits.
            w.exec.sleep(DUPLICATE_CHECK_US).await;
            if stale(&w) {
                return;
            }
            let old = w.conns.get(node);
            if !old.closed {
                close(&w, node, old);
            }
        }
        let now = w.exec.now_us();
        w.conns.update(node, |c| {
            c.generation += 1;
            c.closed = false;
            c.watched = false;
            c.since_us = now;
        });
        // `await natsWrapper.connect(...)` resolved: the service starts its listeners and
        // its HTTP server.
        w.exec.restart(node);
        w.record(node, Event::Restart { target: node });
        if node == Node::Expiration {
            // Bull's worker starts with the process (the model starts it once connected).
            expiration::started(&w);
        }
        w.record(Node::Bus, Event::ClientConnected { target: node });
        for (group, sent) in w.nats().join(node, now) {
            bus::send_to_member(&w, group, sent);
        }
        if node == Node::Tickets {
            // With a transactional outbox, the process's relay starts with it.
            relay::start(&w);
        }
    });
}
