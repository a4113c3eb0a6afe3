//! The runtime's side of the model's interface: a handler on a node ([`Handler`], the
//! model's [`Service`]), and the NATS Streaming transport it publishes through and is
//! delivered by.
//!
//! A publish travels to the bus (half the publish latency, in order with the process's
//! earlier publishes: one connection per process), gets its sequence number in
//! [`crate::model::nats::Bus`], and is sent to one member of every subscribed queue group; the
//! server's ack travels back (the other half). Each delivery travels to its member (delivery
//! latency, in order with what the bus sent that member before) and runs the member's
//! listener, which acks or not; a sweeper per queue group redelivers what its ack wait let
//! expire. A partition holds what crosses a node's connection until it ends; a crashed node
//! loses what is sent to it.
//!
//! Why the handler and the transport share a file: a publish spawns deliveries, a delivery runs
//! a listener, a listener publishes. Split in two, the files would import each other.

use crate::model::databases::Stored;
use crate::model::decisions::Handled;
use crate::model::documents::{ChargeId, OrderId, PaymentId, Price, Ticket, TicketId};
use crate::model::events::{Event as Payload, Message, Subject};
use crate::model::http::Cause;
use crate::model::nats::{Expired, Sent};
use crate::model::node::Node;
use crate::model::occ::Occ;
use crate::model::service::{Note, PublishFailed, Service};
use crate::model::services;
use crate::model::store::{Save, WriteError};
use crate::sim::process;
use crate::sim::record::{Event, Loss};
use crate::sim::tape::ChoiceOf;
use crate::sim::world::{Wire, World};
use std::future::Future;
use std::rc::Rc;

/// A handler (a route's or a listener's) running on `node`: what the model's code calls.
pub struct Handler<'a> {
    /// The world it runs in.
    pub world: &'a World,
    /// The node it runs on: its database calls and publishes are recorded there.
    pub node: Node,
}

// Each method hands back the world's future itself rather than awaiting it in a wrapper, so a
// handler's future is no larger than it was when the handlers called the world directly.
impl Service for Handler<'_> {
    fn occ(&self) -> Occ {
        self.world.occ
    }

    fn now_ms(&self) -> u64 {
        self.world.exec.now_us() / 1000
    }

    fn next_ticket_id(&self) -> TicketId {
        self.world.next_ticket_id()
    }

    fn next_order_id(&self) -> OrderId {
        self.world.next_order_id()
    }

    fn next_payment_id(&self) -> PaymentId {
        self.world.next_payment_id()
    }

    fn expiration_window_ms(&self) -> u64 {
        self.world.expiration_window_ms
    }

    fn status_guards(&self) -> bool {
        self.world.status_guards
    }

    fn add_expiration_job(
        &self,
        order: OrderId,
        ticket: TicketId,
        due_ms: u64,
    ) -> impl Future<Output = ()> {
        self.world
            .add_expiration_job(self.node, order, ticket, due_ms)
    }

    fn charge(
        &self,
        order: OrderId,
        ticket: TicketId,
        amount: Price,
    ) -> impl Future<Output = ChargeId> {
        self.world.charge(self.node, order, ticket, amount)
    }

    fn refund(
        &self,
        charge: ChargeId,
        order: OrderId,
        ticket: TicketId,
    ) -> impl Future<Output = ()> {
        self.world.refund(self.node, charge, order, ticket)
    }

    fn publish_on_reserve(&self) -> bool {
        self.world.publish_on_reserve
    }

    fn ordered_order_events(&self) -> bool {
        self.world.ordered_order_events
    }

    fn transactional_outbox(&self) -> bool {
        self.world.transactional_outbox
    }

    fn find<D: Stored>(&self, id: u32) -> impl Future<Output = Option<D>> {
        self.world.find(id)
    }

    fn find_reserving_order(&self, ticket: TicketId) -> impl Future<Output = Option<OrderId>> {
        self.world.find_reserving_order(ticket)
    }

    fn insert<D: Stored>(&self, by: Cause, doc: D) -> impl Future<Output = Result<D, WriteError>> {
        self.world.insert(self.node, by, doc, |_| ())
    }

    fn save_with<D: Stored>(
        &self,
        by: Cause,
        read: &D,
        doc: D,
        mode: Save,
    ) -> impl Future<Output = Result<D, WriteError>> {
        self.world.save_with(self.node, by, read, doc, mode, |_| ())
    }

    fn insert_with_event(
        &self,
        by: Cause,
        doc: Ticket,
        subject: Subject,
    ) -> impl Future<Output = Result<Ticket, WriteError>> {
        self.world.insert_with_event(self.node, by, doc, subject)
    }

    fn save_with_event(
        &self,
        by: Cause,
        read: &Ticket,
        doc: Ticket,
        subject: Subject,
    ) -> impl Future<Output = Result<Ticket, WriteError>> {
        let mode = if self.world.occ.versioned() {
            Save::Conditional
        } else {
            Save::Overwrite
        };
        self.world
            .save_with_event(self.node, by, read, doc, mode, subject)
    }

    fn publish(&self, event: Payload) -> impl Future<Output = Result<(), PublishFailed>> {
        publish(self.world, self.node, event)
    }

    fn publish_unawaited(&self, event: Payload) {
        publish_unawaited(self.world, self.node, event)
    }

    fn note(&self, note: Note) {
        match note {
            Note::ReservedCheck { ticket, order } => self.world.record(
                self.node,
                Event::ReservedCheck {
                    replica: self.node,
                    ticket,
                    order,
                },
            ),
            Note::Guarded { order, ticket } => self
                .world
                .record(self.node, Event::Guarded { order, ticket }),
        }
    }

    fn stall(&self) -> impl Future<Output = ()> {
        self.world.stall(self.node)
    }
}

/// Spawn the ack-wait sweeper of every queue group, on the bus node, for the whole run.
pub fn start(world: &World) {
    for group in 0..world.nats().group_count() {
        let w = world.handle();
        world
            .exec
            .spawn(Node::Bus, async move { sweep(&w, group).await });
    }
}

/// Publish `event` from `node` and wait for the server's ack: the message travels to the bus
/// (half the publish latency, after anything `node` published before it), is stored with its
/// sequence number and sent to one member of every subscribed group, and the ack travels back
/// (the other half). A crash of `node` on the way back leaves the message stored and the
/// publisher never hearing of it.
///
/// While `node` is cut off, its connection holds the publish and delivers it when the
/// partition ends (nats.js buffers while disconnected). If the server's ack cannot come back
/// within 30 s, the client's timer fails the publish first (node-nats-streaming's `ackTimeout`,
/// `lib/stan.js` 0.2.6 44, 597-606); the message still reaches the bus later, if the process
/// still lives. A client the server has closed gets the publish refused.
///
/// As in JavaScript, where a promise starts when it is made, the publish is written to the
/// connection when this is called; the model awaits it at once.
pub fn publish(
    world: &World,
    node: Node,
    event: Payload,
) -> impl Future<Output = Result<(), PublishFailed>> + use<'_> {
    let wired = put_on_wire(world, node);
    complete(world, node, event, wired, true)
}

/// How long node-nats-streaming waits for the server's ack of a publish (`ackTimeout`).
pub const PUBLISH_ACK_TIMEOUT_US: u64 = 30_000_000;

/// `publish(...)` called without `await`: the message leaves now, in order with `node`'s other
/// publishes, and the handler goes on at once. Nothing waits for the server's ack, so a failure
/// is an unhandled rejection.
pub fn publish_unawaited(world: &World, node: Node, event: Payload) {
    let wired = put_on_wire(world, node);
    let w = world.handle();
    world.exec.spawn(node, async move {
        if complete(&w, node, event, wired, false).await.is_err() {
            process::unhandled_rejection(&w, node);
        }
    });
}

/// A publish written to a process's connection: when it was made, when it reaches the bus, and
/// when the server's answer is back.
struct Wired {
    called: u64,
    stored_at: u64,
    acked_at: u64,
}

/// A publish written to `node`'s connection now, after whatever `node` wrote before it.
fn put_on_wire(world: &World, node: Node) -> Wired {
    let latency = world.draw(&world.latency().publish, ChoiceOf::Publish);
    let there = latency / 2;
    let stored_at = world.on_wire(node, Wire::ToBus, there);
    Wired {
        called: world.exec.now_us(),
        stored_at,
        acked_at: world.reachable_at(node, stored_at + (latency - there)),
    }
}

/// The rest of a written publish: stored (or refused) at the bus, then, if `awaited`, the
/// server's answer back. If that answer cannot come back within the client's 30 s, the publish
/// fails then, and its message still crosses when the partition ends.
#[allow(clippy::manual_async_fn)] // an `async fn` would keep its arguments twice
fn complete(
    world: &World,
    node: Node,
    event: Payload,
    wired: Wired,
    awaited: bool,
) -> impl Future<Output = Result<(), PublishFailed>> + use<'_> {
    // An async block, not an `async fn`: an `async fn` keeps its arguments twice in its state.
    async move {
        if wired.acked_at > wired.called + PUBLISH_ACK_TIMEOUT_US {
            let failed = failed_line(&event, Loss::Timeout);
            store_later(world, node, event, wired.stored_at);
            world
                .exec
                .sleep_until(wired.called + PUBLISH_ACK_TIMEOUT_US)
                .await;
            world.record(node, failed);
            return Err(PublishFailed);
        }
        world.exec.sleep_until(wired.stored_at).await;
        let stored = store(world, node, event);
        if awaited {
            // The server's answer, an ack or a refusal, travels back.
            world.exec.sleep_until(wired.acked_at).await;
        }
        stored
    }
}

/// The `publish-failed` line of `event`.
fn failed_line(event: &Payload, reason: Loss) -> Event {
    Event::PublishFailed {
        subject: event.subject(),
        ticket: event.ticket_id(),
        version: event.version(),
        reason,
    }
}

/// A publish held in `node`'s connection reaches the bus at `at`, if the process still lives
/// then; nobody hears of it.
fn store_later(world: &World, node: Node, event: Payload, at: u64) {
    let w = world.handle();
    world.exec.spawn(node, async move {
        w.exec.sleep_until(at).await;
        let _ = store(&w, node, event);
    });
}

/// A publish from `node` reaches the server: it is stored and sent to the subscribed groups,
/// or refused if the server has closed `node`'s client (`processClientPublish` checks the
/// client, server.go v0.17.0).
fn store(world: &World, node: Node, event: Payload) -> Result<(), PublishFailed> {
    if world.client_of(node).closed {
        world.record(node, failed_line(&event, Loss::Closed));
        return Err(PublishFailed);
    }
    let message = world.nats().append(event);
    let (title, price) = match &message.event {
        Payload::TicketCreated(t) | Payload::TicketUpdated(t) => {
            (Some(t.title.clone()), Some(t.price))
        }
        Payload::OrderCreated(o) | Payload::OrderCancelled(o) => (None, o.price),
        Payload::ExpirationComplete(_) | Payload::PaymentCreated(_) => (None, None),
    };
    world.record(
        node,
        Event::Publish {
            subject: message.subject,
            seq: message.seq,
            ticket: message.event.ticket_id(),
            version: message.event.version(),
            title,
            price,
            order: message.event.order_id(),
        },
    );
    send_to_groups(world, &message);
    if world.strikes(world.faults().publisher_retry, ChoiceOf::PublisherRetry) {
        let copy = world.nats().append(message.event.clone());
        world.record(
            Node::Bus,
            Event::Duplicate {
                subject: copy.subject,
                seq: copy.seq,
                of: message.seq,
            },
        );
        send_to_groups(world, &copy);
    }
    Ok(())
}

/// Send a freshly appended message to one member of every group subscribed to its channel
/// (or keep it for the first to join, in a group with none).
fn send_to_groups(world: &World, message: &Rc<Message>) {
    for &group in world.nats().groups_for(message.subject) {
        let now = world.exec.now_us();
        let (member, wake) = world.nats().send(group, message.clone(), now);
        if wake {
            world.sweeper(group).notify(&world.exec);
        }
        if let Some(member) = member {
            let (replica, _) = world.nats().member(group, member);
            world.record(
                Node::Bus,
                Event::Send {
                    subject: message.subject,
                    seq: message.seq,
                    replica,
                    redelivered: false,
                },
            );
            spawn_delivery(world, group, member, message.clone(), false);
        }
    }
}

/// Send a message the bus kept for a member that joined: as a first send, or again.
pub fn send_to_member(world: &World, group: usize, sent: Sent) {
    let (replica, _) = world.nats().member(group, sent.member);
    let (subject, seq) = (sent.message.subject, sent.message.seq);
    let event = if sent.attempt == 1 {
        Event::Send {
            subject,
            seq,
            replica,
            redelivered: false,
        }
    } else {
        Event::Redeliver {
            subject,
            seq,
            replica,
            redelivered: true,
            attempt: sent.attempt,
        }
    };
    world.record(Node::Bus, event);
    world.sweeper(group).notify(&world.exec);
    spawn_delivery(world, group, sent.member, sent.message, sent.attempt > 1);
}

fn spawn_delivery(
    world: &World,
    group: usize,
    member: usize,
    message: Rc<Message>,
    redelivered: bool,
) {
    let (node, _) = world.nats().member(group, member);
    if world.exec.is_down(node) {
        record_lost(world, &message, node, Loss::Down);
        return;
    }
    let latency = world.draw(&world.latency().delivery, ChoiceOf::Delivery);
    let arrives_at = world.on_wire(node, Wire::FromBus, latency);
    let client = world.client_of(node).generation;
    let to = Addressed {
        group,
        member,
        client,
        arrives_at,
    };
    world
        .exec
        .spawn(node, deliver(world.handle(), to, message, redelivered));
}

/// Where and when a delivery goes: a member of a group, through the client it had when the
/// bus sent it, arriving at `arrives_at`.
pub struct Addressed {
    /// The queue group.
    pub group: usize,
    /// The member.
    pub member: usize,
    /// The generation of the member's process the bus sent it to.
    pub client: u32,
    /// When it arrives (after whatever the bus sent that member before, and after any
    /// partition of it).
    pub arrives_at: u64,
}

/// One delivery: the message travels to the member, its listener runs, and it acks or not.
/// What was sent to a client that has since been replaced by a restart never arrives.
#[allow(clippy::manual_async_fn)] // an `async fn` would keep its arguments twice
pub fn deliver(
    world: Rc<World>,
    to: Addressed,
    message: Rc<Message>,
    redelivered: bool,
) -> impl Future<Output = ()> {
    // An async block, not an `async fn`: an `async fn` keeps its arguments twice in its state.
    async move {
        let world = &*world;
        world.exec.sleep_until(to.arrives_at).await;
        let group = to.group;
        let (replica, listener) = world.nats().member(group, to.member);
        let (subject, seq) = (message.subject, message.seq);
        if world.client_of(replica).generation != to.client {
            record_lost(world, &message, replica, Loss::Down);
            return;
        }
        world.record(
            replica,
            Event::Deliver {
                subject,
                seq,
                replica,
                redelivered,
            },
        );
        let handler = Handler {
            world,
            node: replica,
        };
        let handled = services::listen(&handler, listener, &message).await;
        let (event, acks) = match handled {
            Handled::Ack => (
                Event::Ack {
                    subject,
                    seq,
                    replica,
                },
                true,
            ),
            Handled::Drop(reason) => (
                Event::Drop {
                    subject,
                    seq,
                    replica,
                    reason,
                },
                true,
            ),
            Handled::Nack(reason) => (
                Event::Nack {
                    subject,
                    seq,
                    replica,
                    reason,
                },
                false,
            ),
        };
        world.record(replica, event);
        if acks {
            send_ack(world, group, replica, subject, seq);
        } else {
            // The listener threw inside `onMessage`, which nothing awaits.
            process::unhandled_rejection(world, replica);
        }
    }
}

/// A message sent to `replica` that never reached it.
fn record_lost(world: &World, message: &Message, replica: Node, reason: Loss) {
    world.record(
        Node::Bus,
        Event::Lost {
            subject: message.subject,
            seq: message.seq,
            replica,
            reason,
        },
    );
}

/// The listener's ack on its way to the bus, unless the `lost-ack` fault swallows it or the
/// server has closed the client (it ignores the acks of a client it no longer knows). A cut-off
/// replica's connection holds the ack until the partition ends.
fn send_ack(world: &World, group: usize, replica: Node, subject: Subject, seq: u64) {
    if world.strikes(world.faults().lost_ack, ChoiceOf::LostAck) {
        return ack_lost(world, replica, subject, seq, Loss::Dropped);
    }
    let now = world.exec.now_us();
    let arrives = world.reachable_at(replica, now);
    if arrives == now {
        ack_arrives(world, group, replica, subject, seq);
        return;
    }
    let w = world.handle();
    world.exec.spawn(replica, async move {
        w.exec.sleep_until(arrives).await;
        ack_arrives(&w, group, replica, subject, seq);
    });
}

/// An ack that never counts at the bus, and why.
fn ack_lost(world: &World, replica: Node, subject: Subject, seq: u64, reason: Loss) {
    world.record(
        replica,
        Event::AckLost {
            subject,
            seq,
            replica,
            reason,
        },
    );
}

/// An ack reaches the server.
fn ack_arrives(world: &World, group: usize, replica: Node, subject: Subject, seq: u64) {
    if world.client_of(replica).closed {
        ack_lost(world, replica, subject, seq, Loss::Closed);
    } else {
        world.nats().ack(group, seq);
    }
}

/// The ack-wait timer of one group: sleeps until the earliest pending deadline, redelivers what
/// expired, and parks while nothing is pending. Runs on the bus node for the whole run.
pub async fn sweep(world: &World, group: usize) {
    loop {
        let Some(deadline) = world.nats().next_deadline(group) else {
            world.sweeper(group).wait(&world.exec).await;
            continue;
        };
        world.exec.sleep_until(deadline).await;
        redeliver_expired(world, group);
    }
}

/// Redeliver every message of `group` whose time has come, or report its loop.
pub fn redeliver_expired(world: &World, group: usize) {
    let now = world.exec.now_us();
    for expired in world.nats().expire(group, now) {
        match expired {
            Expired::Redeliver {
                message,
                member,
                attempt,
            } => {
                let (replica, _) = world.nats().member(group, member);
                world.record(
                    Node::Bus,
                    Event::Redeliver {
                        subject: message.subject,
                        seq: message.seq,
                        replica,
                        redelivered: true,
                        attempt,
                    },
                );
                spawn_delivery(world, group, member, message, true);
            }
            Expired::Loop {
                message,
                deliveries,
            } => {
                world.record(
                    Node::Bus,
                    Event::RedeliveryLoop {
                        subject: message.subject,
                        seq: message.seq,
                        ticket: message.event.ticket_id(),
                        version: message.event.version(),
                        deliveries,
                    },
                );
            }
        }
    }
}
