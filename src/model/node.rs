//! The processes of the simulated system, and the two actors outside it whose steps the trace
//! also records: the HTTP clients that run the workload and the fault injector.
//!
//! Every piece of work belongs to one node, so a crash of a node drops exactly its work.

use std::fmt;

/// A process of the simulated system. Tasks belong to a node; a crash drops them all.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Node {
    /// The HTTP clients that run the workload.
    Client,
    /// The tickets service.
    Tickets,
    /// Orders-service replica number `n` (1-based).
    Orders(u8),
    /// The NATS Streaming server.
    Bus,
    /// The fault injector: crashes, pauses, partitions and the heal happen here.
    Faults,
    /// The expiration service (SG `expiration/`), with its Bull queue's worker.
    Expiration,
    /// The payments service (SG `payments/`).
    Payments,
}

/// The most orders replicas a scenario may have: the process slots after them belong to the
/// later services.
pub const MAX_REPLICAS: usize = 64;

/// How many service processes a run can have: the tickets service, the orders replicas, the
/// expiration service and the payments service.
pub const PROCESS_SLOTS: usize = MAX_REPLICAS + 3;

impl Node {
    /// The index of a process of the system: 0 for the tickets service, `n` for orders
    /// replica `n`, then the expiration and the payments service (below [`PROCESS_SLOTS`]);
    /// `None` for the clients, the bus and the fault injector.
    pub fn process_index(self) -> Option<usize> {
        match self {
            Node::Tickets => Some(0),
            Node::Orders(n) => Some(usize::from(n)),
            Node::Expiration => Some(MAX_REPLICAS + 1),
            Node::Payments => Some(MAX_REPLICAS + 2),
            Node::Client | Node::Bus | Node::Faults => None,
        }
    }
}

impl fmt::Display for Node {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Node::Client => f.write_str("client"),
            Node::Tickets => f.write_str("tickets"),
            Node::Orders(n) => write!(f, "orders-{n}"),
            Node::Bus => f.write_str("bus"),
            Node::Faults => f.write_str("faults"),
            Node::Expiration => f.write_str("expiration"),
            Node::Payments => f.write_str("payments"),
        }
    }
}

impl serde::Serialize for Node {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}
