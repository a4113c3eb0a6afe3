//! The runtime's side of the model's interface: a handler on a node ([`Handler`], the
//! model's [`Service`]), and the NATS Streaming transport it publishes through and is
//! delivered by.
//!
//! A publish travels to the bus (half the publish latency, in order with the process's
//! earlier publishes: one connection per process), gets its sequence number in
//! [`crate::model::nats::Bus`], and is sent to one member of every subscribed queue group; the
//! server's ack travels back (the other half). Each delivery travels to its member (delivery
//! latency, in order with what the bus sent that member before) and runs the member's
//! listener, which acks or not; a sweeper per queue group redelivers what its ack wait let expire. A partitioned or
//! crashed node loses what is sent to it and from it.
//!
//! Why the handler and the transport share a file: a publish spawns deliveries, a delivery runs
//! a listener, a listener publishes. Split in two, the files would import each other.

use crate::model::databases::Stored;
use crate::model::decisions::Handled;
use crate::model::documents::{OrderId, TicketId};
use crate::model::events::{Event as Payload, Message, Subject};
use crate::model::http::Cause;
use crate::model::nats::Expired;
use crate::model::node::Node;
use crate::model::occ::Occ;
use crate::model::service::{Note, PublishFailed, Service};
use crate::model::services;
use crate::model::store::{Save, WriteError};
use crate::sim::record::{Event, Loss};
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
        self.world.dbs.next_ticket_id()
    }

    fn next_order_id(&self) -> OrderId {
        self.world.dbs.next_order_id()
    }

    fn publish_on_reserve(&self) -> bool {
        self.world.publish_on_reserve
    }

    fn find<D: Stored>(&self, id: u32) -> impl Future<Output = Option<D>> {
        self.world.find(id)
    }

    fn find_reserving_order(&self, ticket: TicketId) -> impl Future<Output = Option<OrderId>> {
        self.world.find_reserving_order(ticket)
    }

    fn insert<D: Stored>(&self, by: Cause, doc: D) -> impl Future<Output = Result<D, WriteError>> {
        self.world.insert(self.node, by, doc)
    }

    fn save_with<D: Stored>(
        &self,
        by: Cause,
        read: &D,
        doc: D,
        mode: Save,
    ) -> impl Future<Output = Result<D, WriteError>> {
        self.world.save_with(self.node, by, read, doc, mode)
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
        }
    }

    fn stall(&self) -> impl Future<Output = ()> {
        self.world.stall(self.node)
    }
}

/// Spawn the ack-wait sweeper of every queue group, on the bus node, for the whole run.
pub fn start(world: &World) {
    for group in 0..world.bus.group_count() {
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
/// publisher never hearing of it. Fails when `node` is partitioned from the bus.
pub async fn publish(world: &World, node: Node, event: Payload) -> Result<(), PublishFailed> {
    let (stored_at, ack_us) = put_on_wire(world, node);
    world.exec.sleep_until(stored_at).await;
    store(world, node, event)?;
    world.exec.sleep(ack_us).await;
    Ok(())
}

/// `publish(...)` called without `await`: the message leaves now, in order with `node`'s other
/// publishes, and the handler goes on at once. Nothing waits for the server's ack.
pub fn publish_unawaited(world: &World, node: Node, event: Payload) {
    let (stored_at, _) = put_on_wire(world, node);
    let w = world.handle();
    world.exec.spawn(node, async move {
        w.exec.sleep_until(stored_at).await;
        let _ = store(&w, node, event);
    });
}

/// A publish written to `node`'s connection now: when it reaches the bus, and how long the
/// server's ack then takes to come back.
fn put_on_wire(world: &World, node: Node) -> (u64, u64) {
    let latency = world.draw(&world.latency().publish);
    let there = latency / 2;
    (world.on_wire(node, Wire::ToBus, there), latency - there)
}

/// A publish from `node` reaches the server: it is stored and sent to the subscribed groups,
/// or lost if `node` is partitioned from the bus.
fn store(world: &World, node: Node, event: Payload) -> Result<(), PublishFailed> {
    if world.is_partitioned(node) {
        world.record(
            node,
            Event::PublishFailed {
                subject: event.subject(),
                ticket: event.ticket_id(),
                version: event.version(),
            },
        );
        return Err(PublishFailed);
    }
    let message = world.bus.append(event);
    let (title, price) = match &message.event {
        Payload::TicketCreated(t) | Payload::TicketUpdated(t) => {
            (Some(t.title.clone()), Some(t.price))
        }
        Payload::OrderCreated(o) | Payload::OrderCancelled(o) => (None, o.price),
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
    if world.strikes(world.faults().duplicate_delivery) {
        let copy = world.bus.append(message.event.clone());
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

/// Send a freshly appended message to one member of every group subscribed to its channel.
fn send_to_groups(world: &World, message: &Rc<Message>) {
    for &group in world.bus.groups_for(message.subject) {
        let now = world.exec.now_us();
        let (member, wake) = world.bus.send(group, message.clone(), now);
        if wake {
            world.sweeper(group).notify(&world.exec);
        }
        let (replica, _) = world.bus.member(group, member);
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

fn spawn_delivery(
    world: &World,
    group: usize,
    member: usize,
    message: Rc<Message>,
    redelivered: bool,
) {
    let (node, _) = world.bus.member(group, member);
    if world.exec.is_down(node) {
        record_lost(world, &message, node, Loss::Down);
        return;
    }
    let latency = world.draw(&world.latency().delivery);
    let arrives_at = world.on_wire(node, Wire::FromBus, latency);
    let w = world.handle();
    world.exec.spawn(node, async move {
        deliver(&w, group, member, message, redelivered, arrives_at).await
    });
}

/// One delivery: the message travels to the member (arriving at `arrives_at`, after whatever
/// the bus sent that member before), its listener runs, and it acks or not.
pub async fn deliver(
    world: &World,
    group: usize,
    member: usize,
    message: Rc<Message>,
    redelivered: bool,
    arrives_at: u64,
) {
    world.exec.sleep_until(arrives_at).await;
    let (replica, listener) = world.bus.member(group, member);
    let (subject, seq) = (message.subject, message.seq);
    if world.is_partitioned(replica) {
        record_lost(world, &message, replica, Loss::Partition);
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
    match handled {
        Handled::Ack => {
            world.record(
                replica,
                Event::Ack {
                    subject,
                    seq,
                    replica,
                },
            );
            send_ack(world, group, replica, subject, seq);
        }
        Handled::Drop(reason) => {
            world.record(
                replica,
                Event::Drop {
                    subject,
                    seq,
                    replica,
                    reason,
                },
            );
            send_ack(world, group, replica, subject, seq);
        }
        Handled::Nack(reason) => world.record(
            replica,
            Event::Nack {
                subject,
                seq,
                replica,
                reason,
            },
        ),
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

/// The listener's ack on its way to the bus, unless a partition or the `lost-ack` fault
/// swallows it.
fn send_ack(world: &World, group: usize, replica: Node, subject: Subject, seq: u64) {
    let lost = if world.is_partitioned(replica) {
        Some(Loss::Partition)
    } else if world.strikes(world.faults().lost_ack) {
        Some(Loss::Dropped)
    } else {
        None
    };
    match lost {
        None => {
            world.bus.ack(group, seq);
        }
        Some(reason) => world.record(
            replica,
            Event::AckLost {
                subject,
                seq,
                replica,
                reason,
            },
        ),
    }
}

/// The ack-wait timer of one group: sleeps until the earliest pending deadline, redelivers what
/// expired, and parks while nothing is pending. Runs on the bus node for the whole run.
pub async fn sweep(world: &World, group: usize) {
    loop {
        let Some(deadline) = world.bus.next_deadline(group) else {
            world.sweeper(group).wait(&world.exec).await;
            continue;
        };
        world.exec.sleep_until(deadline).await;
        let now = world.exec.now_us();
        for expired in world.bus.expire(group, now) {
            match expired {
                Expired::Redeliver {
                    message,
                    member,
                    attempt,
                } => {
                    let (replica, _) = world.bus.member(group, member);
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
}
