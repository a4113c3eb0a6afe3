//! The vocabulary of a story's steps: the lanes that act, how a step is drawn (a note or an
//! arrow, and its line) and what kind of step it is for the eye.
//!
//! These are the plain types that the reader produces, the story renders and the sequence
//! diagram draws, kept apart from all of them so that each can name a step without depending
//! on how the others read, tell or draw it.

use crate::model::node::Node;

/// A lane of the sequence diagram: who acts or is acted on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Lane {
    /// The tickets service (with its database).
    Tickets,
    /// NATS Streaming.
    Bus,
    /// Orders-service replica `n`.
    Replica(u8),
    /// The orders service's database, shared by the replicas.
    OrdersDb,
    /// The expiration service, with its Bull queue in Redis.
    Expiration,
    /// The payments service, with its database.
    Payments,
}

impl Lane {
    /// The lane a node of the trace acts on; the client and the fault injector act through
    /// the tickets service, the only lane a learner sees them touch.
    pub(super) fn of(node: Node) -> Lane {
        match node {
            Node::Orders(n) => Lane::Replica(n),
            Node::Bus => Lane::Bus,
            Node::Expiration => Lane::Expiration,
            Node::Payments => Lane::Payments,
            Node::Tickets | Node::Client | Node::Faults => Lane::Tickets,
        }
    }

    /// The node behind a lane that writes (a replica, or the tickets service).
    pub(super) fn node(self) -> Node {
        match self {
            Lane::Replica(n) => Node::Orders(n),
            Lane::Bus => Node::Bus,
            Lane::Expiration => Node::Expiration,
            Lane::Payments => Node::Payments,
            Lane::Tickets | Lane::OrdersDb => Node::Tickets,
        }
    }

    /// How the story names it.
    pub fn name(self) -> String {
        match self {
            Lane::Tickets => "tickets".to_owned(),
            Lane::Bus => "NATS".to_owned(),
            Lane::Replica(n) => format!("orders-{n}"),
            Lane::OrdersDb => "orders db".to_owned(),
            Lane::Expiration => "expiration".to_owned(),
            Lane::Payments => "payments".to_owned(),
        }
    }

    /// How a diagram's lane header names it.
    pub fn title(self) -> String {
        match self {
            Lane::Tickets => "tickets service".to_owned(),
            Lane::Bus => "NATS Streaming".to_owned(),
            Lane::Replica(n) => format!("orders-{n}"),
            Lane::OrdersDb => "orders database".to_owned(),
            Lane::Expiration => "expiration service".to_owned(),
            Lane::Payments => "payments service".to_owned(),
        }
    }
}

/// What a step is, for the eye.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mark {
    /// An ordinary step.
    Plain,
    /// A write that puts an older value over a newer one: the race.
    Stale,
    /// A listener refuses an event or a save fails: no ack, NATS will redeliver.
    Refused,
    /// A redelivered or late event is applied, in order: the cure.
    Applied,
    /// A fault: something lost, crashed, paused or cut off.
    Fault,
}

/// How a step is drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Arrow {
    /// A note over one lane.
    Note(Lane),
    /// A message from one lane to another.
    Message {
        /// Sender.
        from: Lane,
        /// Receiver.
        to: Lane,
        /// Line style.
        style: Line,
    },
}

/// The line of an arrow.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Line {
    /// A call or a message.
    Solid,
    /// A reply (an ack).
    Dashed,
    /// Something that never arrived, or was refused.
    Cross,
}

/// One step of a story.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Step {
    /// Simulated time, microseconds.
    pub t_us: u64,
    /// Who does it.
    pub actor: Lane,
    /// The sentence, after the actor's name.
    pub text: String,
    /// How a sequence diagram draws it.
    pub arrow: Arrow,
    /// The diagram's short label.
    pub label: String,
    /// What kind of step it is.
    pub mark: Mark,
}
