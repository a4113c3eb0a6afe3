//! The state of each service process's life, kept by the world: its exits for Kubernetes's
//! back-off ([`Lives`]), and its NATS Streaming session ([`Connections`]). What changes it is
//! [`crate::sim::process`]'s and [`crate::sim::connection`]'s business; this file holds only
//! the state and the arithmetic, so that the world can own it.

use crate::model::node::{Node, PROCESS_SLOTS};
use serde::Serialize;
use std::cell::RefCell;

/// The kubelet's first back-off, doubled per exit after the first, and its cap.
const BACK_OFF_US: u64 = 10_000_000;
const MAX_BACK_OFF_US: u64 = 300_000_000;
/// A container that runs this long has its back-off reset.
const RESET_AFTER_US: u64 = 600_000_000;

/// Every service process's exits so far, for the back-off.
#[derive(Default)]
pub struct Lives {
    /// Per node that has exited: exits since the back-off was last reset, when it last
    /// started, and whether it is down now, waiting for its restart.
    lives: RefCell<Vec<Life>>,
}

struct Life {
    node: Node,
    exits: u32,
    started_us: u64,
    down: bool,
}

impl Lives {
    /// Whether `node` exited and waits for Kubernetes to restart it (the fault injector's
    /// restarts and the heal leave it alone).
    pub fn is_waiting(&self, node: Node) -> bool {
        self.lives.borrow().iter().any(|l| l.node == node && l.down)
    }

    /// `node` exits at `now_us`: how long until it runs again.
    pub fn exit(&self, node: Node, now_us: u64, startup_us: u64) -> u64 {
        let mut lives = self.lives.borrow_mut();
        let life = match lives.iter().position(|l| l.node == node) {
            Some(i) => &mut lives[i],
            None => {
                lives.push(Life {
                    node,
                    exits: 0,
                    started_us: 0,
                    down: false,
                });
                lives.last_mut().expect("just pushed")
            }
        };
        if now_us.saturating_sub(life.started_us) >= RESET_AFTER_US {
            life.exits = 0;
        }
        let back_off = back_off_us(life.exits);
        life.exits += 1;
        life.down = true;
        back_off + startup_us
    }

    /// `node` runs again from `now_us`.
    pub fn started(&self, node: Node, now_us: u64) {
        if let Some(life) = self.lives.borrow_mut().iter_mut().find(|l| l.node == node) {
            life.down = false;
            life.started_us = now_us;
        }
    }
}

/// The kubelet's back-off before restarting a container that has exited `exits` times since
/// its back-off was reset: none the first time, then 10 s doubling, at most five minutes.
pub fn back_off_us(exits: u32) -> u64 {
    match exits {
        0 => 0,
        n => BACK_OFF_US
            .saturating_mul(1 << (n - 1).min(10))
            .min(MAX_BACK_OFF_US),
    }
}

/// Every service process's session with the server.
pub struct Connections {
    conns: RefCell<Vec<Conn>>,
}

impl Default for Connections {
    /// A session for every process a run can have (the tickets service, the orders replicas,
    /// the later services), all connected at 0.
    fn default() -> Self {
        Self {
            conns: RefCell::new(vec![Conn::default(); PROCESS_SLOTS]),
        }
    }
}

/// One process's session.
#[derive(Clone, Copy, Default)]
pub struct Conn {
    /// Which start of the process this is: a restart is a new client with a new inbox, and
    /// what the server sent the old one never reaches it.
    pub generation: u32,
    /// When the current client connected: the phase of its pings and of the server's
    /// heartbeats.
    pub since_us: u64,
    /// The server has closed the client this process holds (or the process's restart has not
    /// connected yet).
    pub closed: bool,
    /// The server's heartbeat watch of this client is running.
    pub watched: bool,
    /// Bumped by every start and every death of the process: a start in progress (waiting
    /// for its connection) that sees it change was overtaken, and gives up.
    pub attempt: u32,
}

impl Connections {
    fn slot(node: Node) -> usize {
        node.process_index()
            .unwrap_or_else(|| unreachable!("{node} has no NATS client"))
    }

    /// The session of `node`'s current process.
    pub fn get(&self, node: Node) -> Conn {
        self.conns.borrow()[Self::slot(node)]
    }

    /// Change the session of `node`'s current process.
    pub fn update(&self, node: Node, f: impl FnOnce(&mut Conn)) {
        f(&mut self.conns.borrow_mut()[Self::slot(node)]);
    }

    /// Which start of `node`'s process holds its client now.
    pub fn generation(&self, node: Node) -> u32 {
        self.get(node).generation
    }

    /// Whether the server no longer knows `node`'s client: its publishes and acks are
    /// refused.
    pub fn is_closed(&self, node: Node) -> bool {
        self.get(node).closed
    }
}

/// The first tick of a 5-second cycle that began at `since_us`, strictly after `t_us`.
pub fn next_tick(since_us: u64, period_us: u64, t_us: u64) -> u64 {
    since_us + (t_us.saturating_sub(since_us) / period_us + 1) * period_us
}

/// Why a service's process ended on its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ExitReason {
    /// A promise rejected with no handler, under Node 15 and later.
    UnhandledRejection,
    /// Its NATS Streaming client closed, and the course's `close` handler called
    /// `process.exit()`.
    NatsClosed,
}

/// What happened to a process that its NATS session must follow.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SessionEvent {
    /// It died: it crashed or exited.
    Died,
    /// It started again.
    Restarted,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_back_off_is_none_then_10_s_doubling_up_to_five_minutes() {
        let secs: Vec<u64> = (0..8).map(|n| back_off_us(n) / 1_000_000).collect();
        assert_eq!(secs, [0, 10, 20, 40, 80, 160, 300, 300]);
        assert_eq!(back_off_us(u32::MAX), MAX_BACK_OFF_US);
    }

    #[test]
    fn ten_minutes_of_running_reset_the_back_off() {
        let lives = Lives::default();
        let node = Node::Orders(1);
        assert_eq!(lives.exit(node, 1_000, 5), 5);
        lives.started(node, 10_000);
        assert_eq!(lives.exit(node, 20_000, 5), 10_000_005);
        assert!(lives.is_waiting(node));
        lives.started(node, 30_000);
        assert!(!lives.is_waiting(node));
        assert_eq!(lives.exit(node, 30_000 + RESET_AFTER_US, 5), 5);
    }

    #[test]
    fn ticks_are_counted_from_the_connection() {
        assert_eq!(next_tick(0, 5, 0), 5);
        assert_eq!(next_tick(0, 5, 4), 5);
        assert_eq!(next_tick(0, 5, 5), 10);
        assert_eq!(next_tick(3, 5, 2), 8);
    }
}
