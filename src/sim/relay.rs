//! The tickets service's outbox relay in motion (`[cures] transactional-outbox`): the model's
//! [`relay`](crate::model::outbox::relay) run as a task on the tickets service's node, started
//! with its process (at the start of the run, and each time the process runs again after a
//! crash or an exit), and dropped with it.
//!
//! Its query and its removals are database round trips like a handler's, its publishes are
//! the process's publishes (in order on its one NATS connection), and it waits on a wake-up
//! that each write adding a pending event notifies once its reply is back. Nothing here runs
//! unless the switch is on: a scenario without it makes exactly the draws it made before the
//! relay existed.
//!
//! Here too are the world's calls that the outbox adds: the writes that store an event with
//! their ticket, the relay's query and removal, and the `outbox.*` lines they record.

use crate::model::databases::{Pending, PendingId};
use crate::model::documents::{Price, Ticket};
use crate::model::events::{Event as Payload, Subject};
use crate::model::http::Cause;
use crate::model::node::Node;
use crate::model::outbox::{self, Relay, RELAY_RETRY_MS};
use crate::model::service::PublishFailed;
use crate::model::store::{Save, WriteError};
use crate::sim::bus;
use crate::sim::footprint::Resource;
use crate::sim::record::Event;
use crate::sim::sync::Signal;
use crate::sim::world::World;
use std::future::Future;
use std::rc::Rc;

/// The tickets service's process started: with the switch on, start its relay, woken by a
/// wake-up of its own.
pub fn start(world: &World) {
    if !world.transactional_outbox || world.exec.is_down(Node::Tickets) {
        return;
    }
    let wake = world.new_relay_wake();
    let w = world.handle();
    world.exec.spawn(Node::Tickets, async move {
        let on = On {
            world: &w,
            wake: &wake,
        };
        outbox::relay(&on).await;
    });
}

/// The relay on the tickets service's node.
struct On<'a> {
    world: &'a World,
    wake: &'a Signal,
}

impl Relay for On<'_> {
    fn pending(&self) -> impl Future<Output = Vec<Pending>> {
        self.world.pending_events()
    }

    fn found(&self, pending: &[Pending]) {
        for p in pending {
            let line = outbox_line(OutboxStep::Found, p.id, &p.event);
            self.world.record(Node::Tickets, line);
        }
    }

    fn publish(&self, event: Payload) -> impl Future<Output = Result<(), PublishFailed>> {
        bus::publish(self.world, Node::Tickets, event)
    }

    fn remove(&self, id: PendingId) -> impl Future<Output = ()> {
        self.world.remove_pending(Node::Tickets, id)
    }

    fn woken(&self) -> impl Future<Output = ()> {
        self.wake.wait(&self.world.exec)
    }

    fn retry_later(&self) -> impl Future<Output = ()> {
        self.world.exec.sleep(RELAY_RETRY_MS * 1000)
    }
}

impl World {
    /// With `[cures] transactional-outbox`: the insert of a new ticket with its event of
    /// `subject` in its outbox, one atomic write; once the reply is back, the writer wakes
    /// the relay of its process.
    pub async fn insert_with_event(
        &self,
        node: Node,
        by: Cause,
        doc: Ticket,
        subject: Subject,
    ) -> Result<Ticket, WriteError> {
        let result = self
            .insert(node, by, doc, |t| self.add_pending(node, subject, t))
            .await;
        if result.is_ok() {
            self.wake_relay();
        }
        result
    }

    /// With `[cures] transactional-outbox`: the save of a ticket with its event of `subject`
    /// in its outbox, one atomic write; once the reply is back, the writer wakes the relay of
    /// its process. (An `async fn`, unlike the world's other calls: it runs only with the cure
    /// on, so the size of its state is no concern of the course's runs.)
    pub async fn save_with_event(
        &self,
        node: Node,
        by: Cause,
        read: &Ticket,
        doc: Ticket,
        mode: Save,
        subject: Subject,
    ) -> Result<Ticket, WriteError> {
        let result = self
            .save_with(node, by, read, doc, mode, |t| {
                self.add_pending(node, subject, t)
            })
            .await;
        if result.is_ok() {
            self.wake_relay();
        }
        result
    }

    /// The event of `subject` made from `saved` joins the outbox, recorded as `outbox.add`:
    /// part of the write of `saved`.
    fn add_pending(&self, node: Node, subject: Subject, saved: &Ticket) {
        self.exec.touch(Resource::Outbox, true);
        let event = outbox::event_of(subject, saved, self.occ);
        let line = |id| outbox_line(OutboxStep::Add, id, &event);
        let id = self.dbs.outbox.borrow_mut().add(event.clone());
        self.record(node, line(id));
    }

    /// The relay's query: every pending event, oldest first, as the server holds them when
    /// the query arrives.
    pub fn pending_events(&self) -> impl Future<Output = Vec<Pending>> + use<'_> {
        self.round_trip(move || {
            self.exec.touch(Resource::Outbox, false);
            self.dbs.outbox.borrow().pending()
        })
    }

    /// The relay's `$pull` of the pending event `id`, applied at the server and recorded there
    /// as `outbox.remove`.
    pub fn remove_pending(&self, node: Node, id: PendingId) -> impl Future<Output = ()> + use<'_> {
        self.round_trip(move || {
            self.exec.touch(Resource::Outbox, true);
            let removed = self.dbs.outbox.borrow_mut().remove(id);
            if let Some(p) = removed {
                self.record(node, outbox_line(OutboxStep::Remove, p.id, &p.event));
            }
        })
    }

    /// A new relay's wake-up, in place of its predecessor's (which died with its process).
    pub fn new_relay_wake(&self) -> Rc<Signal> {
        let signal = Rc::new(Signal::default());
        *self.relay_wake.borrow_mut() = signal.clone();
        signal
    }

    /// Wake the tickets service's relay: a write added a pending event.
    fn wake_relay(&self) {
        let signal = self.relay_wake.borrow().clone();
        signal.notify(&self.exec);
    }
}

/// Which `outbox.*` line tells of a pending event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum OutboxStep {
    /// `outbox.add`.
    Add,
    /// `outbox.found`.
    Found,
    /// `outbox.remove`.
    Remove,
}

/// The `outbox.*` line of `step` for the pending event `id`, `event`.
fn outbox_line(step: OutboxStep, id: PendingId, event: &Payload) -> Event {
    let (subject, ticket, version) = (event.subject(), event.ticket_id(), event.version());
    let price = match event {
        Payload::TicketCreated(t) | Payload::TicketUpdated(t) => t.price,
        Payload::OrderCreated(o) | Payload::OrderCancelled(o) => o.price.unwrap_or_default(),
        // The outbox holds only the tickets service's events; these carry no price.
        Payload::ExpirationComplete(_) | Payload::PaymentCreated(_) => Price::default(),
    };
    match step {
        OutboxStep::Add => Event::OutboxAdd {
            id,
            subject,
            ticket,
            version,
            price,
        },
        OutboxStep::Found => Event::OutboxFound {
            id,
            subject,
            ticket,
            version,
            price,
        },
        OutboxStep::Remove => Event::OutboxRemove {
            id,
            subject,
            ticket,
            version,
            price,
        },
    }
}
