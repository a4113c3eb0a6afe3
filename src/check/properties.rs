//! The sometimes-properties (STYLE.md's two-sided properties): whether a run exercised what
//! its scenario is meant to exercise (a reordering, a redelivery, a duplicate, a version
//! conflict, two orders racing, a crash mid-handler, a crash between a write and its ack), so that a scenario cannot silently test
//! nothing. Only the properties a scenario asks about are watched.

use crate::model::by_id::ById;
use crate::model::events::Subject;
use crate::model::http::{Cause, Route};
use crate::model::nats::seq_key;
use crate::model::node::Node;
use crate::model::store::WriteError;
use crate::scenario::expect::Property;
use crate::sim::record::{Event, Record};

/// The watches of the properties asked about.
pub struct Properties {
    /// One watch per property asked about, in the order asked.
    watches: Vec<(Property, Watch)>,
}

impl Properties {
    /// Watches for the properties in `wanted`, none seen yet.
    pub fn new(wanted: &[Property]) -> Self {
        let watches = wanted
            .iter()
            .map(|&p| {
                let watch = match p {
                    Property::Reordering => Watch::Reordering(Box::default()),
                    Property::OrdersRaced => Watch::OrdersRaced(ById::default()),
                    Property::CrashAfterWrite => Watch::Unacked(Vec::new()),
                    Property::Redelivery
                    | Property::DuplicateDelivery
                    | Property::VersionConflict
                    | Property::CrashMidHandler
                    | Property::ProcessExit => Watch::Simple,
                };
                (p, watch)
            })
            .collect();
        Properties { watches }
    }

    /// The next record of the history.
    #[inline]
    pub fn observe(&mut self, record: &Record) {
        for (property, watch) in &mut self.watches {
            if exercises(*property, watch, record) {
                *watch = Watch::Seen;
            }
        }
    }

    /// The properties seen, in the order asked.
    pub fn exercised(&self) -> Vec<Property> {
        self.watches
            .iter()
            .filter(|(_, w)| matches!(w, Watch::Seen))
            .map(|&(p, _)| p)
            .collect()
    }
}

/// What a property's watch has seen so far.
enum Watch {
    /// Seen: nothing more to look at.
    Seen,
    /// A property seen in one record: the test is [`exercises`]'.
    Simple,
    /// Create-order requests past a passed is-reserved check and not yet inserted, per ticket.
    OrdersRaced(ById<u32>),
    /// Per event stream, which of its events were delivered.
    Reordering(Box<Streams>),
    /// Messages a listener has written for and not yet acked or refused, by the replica.
    Unacked(Vec<(Node, Subject, u64)>),
}

/// Per stream (a ticket's events, an order's events: ids are dense from 1), how many of its
/// events were published, which were delivered, and the first undelivered; and for each
/// channel's sequence numbers, the event's stream and position.
#[derive(Default)]
struct Streams {
    tickets: ById<Stream>,
    orders: ById<Stream>,
    /// By channel and seq: (is an order stream, stream id, position in the stream).
    position: [ById<(bool, u32, usize)>; Subject::ALL.len()],
}

#[derive(Default)]
struct Stream {
    first_undelivered: usize,
    delivered: Vec<bool>,
}

impl Streams {
    fn stream(&mut self, is_order: bool, id: u32) -> &mut Stream {
        let streams = if is_order {
            &mut self.orders
        } else {
            &mut self.tickets
        };
        streams.entry(id).get_or_insert_with(Stream::default)
    }

    /// A record; true when it delivers an event of a stream before an earlier one of the same
    /// stream was first delivered.
    fn overtook(&mut self, event: &Event) -> bool {
        match event {
            Event::Publish {
                subject,
                seq,
                ticket,
                order,
                ..
            } => {
                let (is_order, id) = match (subject, order) {
                    (Subject::OrderCreated | Subject::OrderCancelled, Some(o)) => (true, *o),
                    // The later services' events are not ordered by anyone: an order's
                    // expiration and payment race by design, and are judged by the invariants.
                    (Subject::ExpirationComplete | Subject::PaymentCreated, _) => return false,
                    _ => (false, *ticket),
                };
                let stream = self.stream(is_order, id);
                let position = stream.delivered.len();
                stream.delivered.push(false);
                self.position[subject.index()].insert(seq_key(*seq), (is_order, id, position));
                false
            }
            Event::Deliver { subject, seq, .. } => {
                let Some(&(is_order, id, i)) = self.position[subject.index()].get(seq_key(*seq))
                else {
                    return false;
                };
                let stream = self.stream(is_order, id);
                let overtook = i > stream.first_undelivered && !stream.delivered[i];
                stream.delivered[i] = true;
                while stream
                    .delivered
                    .get(stream.first_undelivered)
                    .is_some_and(|&d| d)
                {
                    stream.first_undelivered += 1;
                }
                overtook
            }
            _ => false,
        }
    }
}

/// Whether `record` shows `property`, given what its watch has seen.
fn exercises(property: Property, watch: &mut Watch, record: &Record) -> bool {
    let event = &record.event;
    match (property, watch) {
        (_, Watch::Seen) => false,
        (_, Watch::Unacked(open)) => match event {
            Event::DbWrite {
                by: Cause::Message(subject, seq),
                ..
            }
            | Event::OrderWrite {
                by: Cause::Message(subject, seq),
                ..
            }
            | Event::PaymentsOrderWrite {
                by: Cause::Message(subject, seq),
                ..
            } => {
                open.push((record.node, *subject, *seq));
                false
            }
            Event::Ack {
                subject,
                seq,
                replica,
            }
            | Event::Drop {
                subject,
                seq,
                replica,
                ..
            }
            | Event::Nack {
                subject,
                seq,
                replica,
                ..
            } => {
                open.retain(|&(n, s, q)| (n, s, q) != (*replica, *subject, *seq));
                false
            }
            Event::Crash { target, .. } | Event::Exit { target, .. } => {
                let hit = open.iter().any(|&(n, _, _)| n == *target);
                open.retain(|&(n, _, _)| n != *target);
                hit
            }
            _ => false,
        },
        (_, Watch::Reordering(streams)) => streams.overtook(event),
        (_, Watch::OrdersRaced(open)) => match event {
            Event::ReservedCheck {
                ticket,
                order: None,
                ..
            } => {
                let n = open.entry(*ticket).get_or_insert(0);
                *n += 1;
                *n > 1
            }
            Event::OrderWrite {
                ticket,
                by: Cause::Request(Route::CreateOrder),
                ..
            }
            | Event::OrderConflict {
                ticket,
                by: Cause::Request(Route::CreateOrder),
                ..
            } => {
                if let Some(n) = open.entry(*ticket).as_mut() {
                    *n = n.saturating_sub(1);
                }
                false
            }
            _ => false,
        },
        (Property::Redelivery, Watch::Simple) => matches!(
            event,
            Event::Deliver {
                redelivered: true,
                ..
            }
        ),
        (Property::DuplicateDelivery, Watch::Simple) => matches!(event, Event::Duplicate { .. }),
        (Property::VersionConflict, Watch::Simple) => matches!(
            event,
            Event::DbConflict {
                error: WriteError::VersionConflict,
                ..
            } | Event::OrderConflict {
                error: WriteError::VersionConflict,
                ..
            }
        ),
        (Property::ProcessExit, Watch::Simple) => matches!(event, Event::Exit { .. }),
        (Property::CrashMidHandler, Watch::Simple) => {
            matches!(event, Event::Crash { dropped_tasks, .. } if *dropped_tasks > 0)
        }
        (
            Property::Reordering | Property::OrdersRaced | Property::CrashAfterWrite,
            Watch::Simple,
        ) => {
            unreachable!("these properties have their own watches")
        }
    }
}
