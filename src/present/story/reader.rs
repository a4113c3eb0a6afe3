//! The reader that walks a run's trace, record by record, and decides which records concern
//! one ticket and what each is: who acts, how the diagram draws it, and whether it is the
//! race, a refusal, the cure or a fault.
//!
//! Deciding that takes memory of what came before: which messages carry the ticket (and in
//! what order the ticket's own events were published), what the orders database's copy holds
//! and which message wrote it, when each replica received each message, which replicas are in
//! the middle of a handler, and the first stale write. The reader keeps that state and hands
//! the facts to the wording, which alone says how a step is told.

use crate::check::findings::{Outcome, Violation};
use crate::model::decisions::Refusal;
use crate::model::documents::{OrderId, Price, TicketId};
use crate::model::events::Subject;
use crate::model::http::Cause;
use crate::model::node::Node;
use crate::model::occ::Occ;
use crate::model::store::Db;
use crate::present::story::ending::{self, End, Race, Written};
use crate::present::story::later;
use crate::present::story::outbox::{self, Outbox};
use crate::present::story::step::{Arrow, Lane, Line, Mark, Step};
use crate::present::story::wording::{self, Payload, Save, Voice};
use crate::sim::record::Event;
use std::collections::{BTreeMap, BTreeSet};

/// A message about the ticket, as published.
#[derive(Clone, Copy)]
struct Published {
    payload: Payload,
    /// Position among the ticket's own events (created, updated), in publish order.
    rank: Option<usize>,
}

/// The orders database's copy of the ticket.
#[derive(Clone, Copy)]
struct Copy {
    price: Price,
    version: u64,
    rank: Option<usize>,
    /// The message it came from, and the replica that wrote it.
    from: Option<(Subject, u64)>,
    writer: Node,
}

/// When a replica last received a message.
#[derive(Clone, Copy)]
struct Receipt {
    t_us: u64,
    replica: Node,
    redelivered: bool,
}

/// The first stale write: the message written, the one it overwrote, and who wrote each.
#[derive(Clone, Copy)]
struct StaleWrite {
    price: Price,
    from: (Subject, u64),
    writer: Node,
    over: Copy,
}

/// What the story knows so far while reading the trace.
pub(super) struct Reader {
    voice: Voice,
    messages: BTreeMap<(Subject, u64), Published>,
    ticket_events: usize,
    copy: Option<Copy>,
    /// The tickets database's price and version.
    source: Option<(Price, u64)>,
    /// Replicas handling one of the ticket's messages right now.
    busy: BTreeSet<Node>,
    receipts: BTreeMap<(Subject, u64), Receipt>,
    stale: Option<StaleWrite>,
    refused: bool,
    /// Whether the tickets service refused an order's event until the one before it was
    /// applied (`[cures] ordered-order-events`), which `refused` leaves out.
    waited: bool,
    /// The orders of the ticket (from their `order:created`), whose later steps (payment,
    /// expiry) the story follows.
    mine: Vec<OrderId>,
    /// The ticket's outbox (`[cures] transactional-outbox`).
    outbox: Outbox,
    steps: Vec<Step>,
}

impl Reader {
    /// A reader of `ticket`'s story in a run in mode `occ`, before the first record.
    pub(super) fn new(ticket: TicketId, occ: Occ) -> Reader {
        Reader {
            voice: Voice {
                ticket,
                versioned: occ.versioned(),
            },
            messages: BTreeMap::new(),
            ticket_events: 0,
            copy: None,
            source: None,
            busy: BTreeSet::new(),
            receipts: BTreeMap::new(),
            stale: None,
            refused: false,
            waited: false,
            mine: Vec::new(),
            outbox: Outbox::default(),
            steps: Vec::new(),
        }
    }

    /// The steps read so far, in order.
    pub(super) fn into_steps(self) -> Vec<Step> {
        self.steps
    }

    /// How many steps have been read so far.
    pub(super) fn steps_so_far(&self) -> usize {
        self.steps.len()
    }

    fn versioned(&self) -> bool {
        self.voice.versioned
    }

    fn push(&mut self, t_us: u64, actor: Lane, said: wording::Said, arrow: Arrow, mark: Mark) {
        let (text, label) = said;
        self.steps.push(Step {
            t_us,
            actor,
            text,
            arrow,
            label,
            mark,
        });
    }

    fn message(&self, subject: Subject, seq: u64) -> Option<Published> {
        self.messages.get(&(subject, seq)).copied()
    }

    /// Reads one record of the trace: `node` did `event` at `t_us`.
    pub(super) fn read(&mut self, t_us: u64, node: Node, event: &Event) {
        let me = self.voice.ticket;
        let at = Lane::of(node);
        match event {
            Event::Publish {
                subject,
                seq,
                ticket,
                version,
                price,
                order,
                ..
            } if *ticket == me => {
                let rank =
                    matches!(subject, Subject::TicketCreated | Subject::TicketUpdated).then(|| {
                        self.ticket_events += 1;
                        self.ticket_events
                    });
                let payload = Payload {
                    version: *version,
                    price: *price,
                    order: *order,
                };
                if let (Subject::OrderCreated, Some(o)) = (subject, order) {
                    if !self.mine.contains(o) {
                        self.mine.push(*o);
                    }
                }
                self.messages
                    .insert((*subject, *seq), Published { payload, rank });
                let relayed = match node {
                    Node::Tickets => self.outbox.relayed(*subject, *seq, *version, *price),
                    _ => None,
                };
                let said = match relayed {
                    Some(r) => outbox::relay(self.voice, *subject, *seq, payload, &r),
                    None => self.voice.publish(*subject, *seq, payload),
                };
                let arrow = Arrow::Message {
                    from: at,
                    to: Lane::Bus,
                    style: Line::Solid,
                };
                self.push(t_us, at, said, arrow, Mark::Plain);
            }
            Event::Duplicate { subject, seq, of } => {
                if let Some(m) = self.message(*subject, *of) {
                    self.messages.insert((*subject, *seq), m);
                    let said = wording::duplicate(*subject, *of, *seq);
                    self.note(t_us, Lane::Bus, said, Mark::Fault);
                }
            }
            Event::Redeliver {
                subject,
                seq,
                replica,
                attempt,
                ..
            } if self.message(*subject, *seq).is_some() => {
                let said = wording::redeliver(*subject, *seq, *replica, *attempt);
                self.note(t_us, Lane::Bus, said, Mark::Plain);
            }
            Event::Deliver {
                subject,
                seq,
                replica,
                redelivered,
            } => {
                if let Some(m) = self.message(*subject, *seq) {
                    self.busy.insert(*replica);
                    self.receipts.insert(
                        (*subject, *seq),
                        Receipt {
                            t_us,
                            replica: *replica,
                            redelivered: *redelivered,
                        },
                    );
                    let said = self.voice.deliver(*subject, *seq, m.payload, *redelivered);
                    let arrow = Arrow::Message {
                        from: Lane::Bus,
                        to: Lane::of(*replica),
                        style: Line::Solid,
                    };
                    self.push(t_us, Lane::of(*replica), said, arrow, Mark::Plain);
                }
            }
            Event::Ack {
                subject,
                seq,
                replica,
            } if self.message(*subject, *seq).is_some() => {
                let said = wording::ack(*subject, *seq);
                self.reply(t_us, *replica, Line::Dashed, said, Mark::Plain);
            }
            Event::Nack {
                subject,
                seq,
                replica,
                reason,
            } => {
                if let Some(m) = self.message(*subject, *seq) {
                    let copy_version = self.copy.map(|c| c.version);
                    let (order, version) = (m.payload.order, m.payload.version);
                    let said = if later::tells(*subject, *replica) {
                        later::nack(*subject, *seq, order, version, *reason)
                    } else {
                        self.voice
                            .nack(*subject, *seq, m.payload, *reason, copy_version)
                    };
                    match reason {
                        Refusal::OrderNotApplied | Refusal::ReservedByAnotherOrder => {
                            self.waited = true;
                        }
                        _ => self.refused = true,
                    }
                    self.reply(t_us, *replica, Line::Cross, said, Mark::Refused);
                }
            }
            Event::Drop {
                subject,
                seq,
                replica,
                reason,
            } => {
                if let Some(m) = self.message(*subject, *seq) {
                    self.outbox.dropped = true;
                    let copy_version = self.copy.map(|c| c.version);
                    let said = if later::tells(*subject, *replica) {
                        later::not_applied(*subject, *seq, m.payload.order, *reason)
                    } else {
                        wording::not_applied(*subject, *seq, *reason, m.payload, copy_version)
                    };
                    self.reply(t_us, *replica, Line::Dashed, said, Mark::Plain);
                }
            }
            Event::Lost {
                subject,
                seq,
                replica,
                reason,
            } if self.message(*subject, *seq).is_some() => {
                let arrow = Arrow::Message {
                    from: Lane::Bus,
                    to: Lane::of(*replica),
                    style: Line::Cross,
                };
                let said = wording::lost(*seq, *replica, *reason);
                self.push(t_us, Lane::Bus, said, arrow, Mark::Fault);
            }
            Event::AckLost {
                subject,
                seq,
                replica,
                reason,
            } if self.message(*subject, *seq).is_some() => {
                let said = wording::ack_lost(*subject, *seq, *replica, *reason);
                self.reply(t_us, *replica, Line::Cross, said, Mark::Fault);
            }
            Event::DbWrite {
                db,
                by,
                ticket,
                version,
                price,
                order_id,
                ..
            } if *ticket == me => self.write(t_us, at, *db, *by, *version, *price, *order_id),
            Event::DbConflict {
                db,
                by,
                ticket,
                version,
                price,
                order_id,
                ..
            } if *ticket == me => {
                let (actor, arrow) = match db {
                    Db::Tickets | Db::Payments => (Lane::Tickets, Arrow::Note(Lane::Tickets)),
                    Db::Orders => (
                        at,
                        Arrow::Message {
                            from: at,
                            to: Lane::OrdersDb,
                            style: Line::Cross,
                        },
                    ),
                };
                let said = self.voice.conflict(*by, *version, *price, *order_id);
                self.push(t_us, actor, said, arrow, Mark::Refused);
            }
            Event::OrderWrite {
                by,
                order,
                status,
                ticket,
                ..
            } if *ticket == me => {
                let arrow = Arrow::Message {
                    from: at,
                    to: Lane::OrdersDb,
                    style: Line::Solid,
                };
                let said = match later::order_life(*by, *order, *status) {
                    Some(text) => (text, format!("save order {order}")),
                    None => self.voice.order_write(*by, *order, *status),
                };
                self.push(t_us, at, said, arrow, Mark::Plain);
            }
            Event::OrderConflict {
                by,
                order,
                version,
                status,
                ticket,
                error,
                ..
            } if *ticket == me => {
                let arrow = Arrow::Message {
                    from: at,
                    to: Lane::OrdersDb,
                    style: Line::Cross,
                };
                let said = self
                    .voice
                    .order_conflict(*by, *order, *status, *version, *error);
                self.push(t_us, at, said, arrow, Mark::Refused);
            }
            Event::ReservedCheck {
                replica,
                ticket,
                order,
            } if *ticket == me => {
                let arrow = Arrow::Message {
                    from: Lane::of(*replica),
                    to: Lane::OrdersDb,
                    style: Line::Solid,
                };
                let said = self.voice.reserved_check(*order);
                self.push(t_us, Lane::of(*replica), said, arrow, Mark::Plain);
            }
            Event::Http {
                request,
                ticket: Some(ticket),
                order,
                price,
                status,
            } if *ticket == me
                && (request.is_orders() || request.is_payments() || *status >= 400) =>
            {
                let what = later::http(*request, *status, *order)
                    .unwrap_or_else(|| wording::http(*request, *status, *order, *price));
                let mark = if *status >= 400 {
                    Mark::Refused
                } else {
                    Mark::Plain
                };
                self.push(t_us, at, (what.clone(), what), Arrow::Note(at), mark);
            }
            Event::Stall { replica, ms } if self.busy.contains(replica) => {
                self.note(t_us, Lane::of(*replica), wording::stall(*ms), Mark::Fault);
            }
            Event::PublishFailed {
                subject,
                ticket,
                reason,
                ..
            } if *ticket == me => {
                let said = wording::publish_failed(*subject, *reason);
                self.note(t_us, at, said, Mark::Fault);
            }
            Event::ChainAbandoned {
                ticket: Some(ticket),
                status,
                unsent,
            } if *ticket == me => {
                let said = wording::chain_abandoned(*status, *unsent);
                self.note(t_us, at, said, Mark::Refused);
            }
            Event::RedeliveryLoop {
                subject,
                seq,
                ticket,
                deliveries,
                ..
            } if *ticket == me => {
                let said = wording::redelivery_loop(*subject, *seq, *deliveries);
                self.note(t_us, Lane::Bus, said, Mark::Refused);
            }
            Event::Crash {
                target,
                dropped_tasks,
            } => {
                self.busy.remove(target);
                self.fault(t_us, *target, wording::crash(*dropped_tasks));
            }
            Event::Exit {
                target,
                reason,
                dropped_tasks,
                restart_after_ms,
            } => {
                self.busy.remove(target);
                let said = wording::exit(*reason, *dropped_tasks, *restart_after_ms);
                self.fault(t_us, *target, said);
            }
            Event::Restart { target } => self.fault(t_us, *target, wording::restart()),
            Event::HeartbeatMissed { target } => {
                let said = wording::heartbeat_missed(*target);
                self.note(t_us, Lane::Bus, said, Mark::Fault);
            }
            Event::ClientClosed { target, moved } => {
                let said = wording::client_closed(*target, *moved);
                self.note(t_us, Lane::Bus, said, Mark::Fault);
            }
            Event::Pause { target, for_ms } => self.fault(t_us, *target, wording::pause(*for_ms)),
            Event::Resume { target } => self.fault(t_us, *target, wording::resume()),
            Event::Partition { target, for_ms } => {
                self.fault(t_us, *target, wording::partition(*for_ms))
            }
            Event::PartitionHealed { target } => {
                self.fault(t_us, *target, wording::partition_healed())
            }
            Event::OutboxAdd {
                id,
                subject,
                ticket,
                version,
                price,
            } if *ticket == me => {
                self.outbox.added(*id, *subject, *version, *price);
                let (text, label) = outbox::stored(*subject);
                // Part of the write just told, at the same instant: said with it.
                match self.steps.last_mut() {
                    Some(last) if last.t_us == t_us && last.actor == Lane::Tickets => {
                        last.text.push_str(&text);
                        last.label.push_str(&label);
                    }
                    _ => self.note(t_us, Lane::Tickets, (text, label), Mark::Plain),
                }
            }
            Event::OutboxFound {
                id,
                subject,
                ticket,
                version,
                price,
            } if *ticket == me => {
                if let Some(published) = self.outbox.found(*id) {
                    let payload = Payload {
                        version: *version,
                        price: Some(*price),
                        order: None,
                    };
                    let said = outbox::found(self.voice, *subject, payload, published);
                    self.note(t_us, Lane::Tickets, said, Mark::Applied);
                }
            }
            Event::OutboxRemove {
                id,
                subject,
                ticket,
                ..
            } if *ticket == me && self.outbox.removed(*id) => {
                self.note(t_us, Lane::Tickets, outbox::removed(*subject), Mark::Plain);
            }
            _ => {
                if let Some((lane, said, arrow, mark)) = later::read(event, at, me, &self.mine) {
                    self.push(t_us, lane, said, arrow, mark);
                }
            }
        }
    }

    /// A replica's answer to NATS about a message (an ack, a refusal, a lost ack): its
    /// handler is done.
    fn reply(&mut self, t_us: u64, replica: Node, style: Line, said: wording::Said, mark: Mark) {
        self.busy.remove(&replica);
        let lane = Lane::of(replica);
        let arrow = Arrow::Message {
            from: lane,
            to: Lane::Bus,
            style,
        };
        self.push(t_us, lane, said, arrow, mark);
    }

    /// A step drawn as a note over the lane that takes it.
    fn note(&mut self, t_us: u64, lane: Lane, said: wording::Said, mark: Mark) {
        self.push(t_us, lane, said, Arrow::Note(lane), mark);
    }

    fn fault(&mut self, t_us: u64, target: Node, said: wording::Said) {
        self.note(t_us, Lane::of(target), said, Mark::Fault);
    }

    #[allow(clippy::too_many_arguments)]
    fn write(
        &mut self,
        t_us: u64,
        at: Lane,
        db: Db,
        by: Cause,
        version: u64,
        price: Price,
        order_id: Option<OrderId>,
    ) {
        match db {
            // The payments service keeps no ticket documents.
            Db::Payments => {}
            Db::Tickets => {
                let said = self.voice.tickets_write(by, version, price, order_id);
                self.source = Some((price, version));
                self.note(t_us, Lane::Tickets, said, Mark::Plain);
            }
            Db::Orders => {
                let rank = match by {
                    Cause::Message(subject, seq) => self.message(subject, seq).and_then(|m| m.rank),
                    Cause::Request(_) => None,
                };
                let previous = self.copy;
                let stale = matches!(
                    (rank, previous.and_then(|c| c.rank)),
                    (Some(new), Some(old)) if new < old
                );
                let overwritten = previous.filter(|c| c.price != price);
                let (save, mark) = if stale {
                    (Save::Stale(overwritten.map(|c| c.price)), Mark::Stale)
                } else if previous.is_none() {
                    (Save::First, Mark::Plain)
                } else if self.versioned() && self.refused && self.redelivered(by) {
                    (Save::InOrder, Mark::Applied)
                } else {
                    (Save::InOrder, Mark::Plain)
                };
                let said = self.voice.orders_write(save, version, price);
                let from = match by {
                    Cause::Message(subject, seq) => Some((subject, seq)),
                    Cause::Request(_) => None,
                };
                if let (Mark::Stale, None, Some(from), Some(over)) =
                    (mark, self.stale, from, previous)
                {
                    self.stale = Some(StaleWrite {
                        price,
                        from,
                        writer: at.node(),
                        over,
                    });
                }
                self.copy = Some(Copy {
                    price,
                    version,
                    rank,
                    from,
                    writer: at.node(),
                });
                let arrow = Arrow::Message {
                    from: at,
                    to: Lane::OrdersDb,
                    style: Line::Solid,
                };
                self.push(t_us, at, said, arrow, mark);
            }
        }
    }

    /// Whether the message that caused a write had been sent again: after a refusal, that is
    /// an early event applied in order at last, the cure OCC brings.
    fn redelivered(&self, by: Cause) -> bool {
        match by {
            Cause::Message(subject, seq) => self
                .receipts
                .get(&(subject, seq))
                .is_some_and(|r| r.redelivered),
            Cause::Request(_) => false,
        }
    }

    /// How the story ends, given the run's `outcome` and the invariants `broken` on this
    /// ticket.
    pub(super) fn ending(&self, outcome: Outcome, broken: &[&Violation]) -> String {
        ending::tell(
            self.voice,
            &End {
                outcome,
                source: self.source,
                copy: self.copy.map(|c| (c.price, c.version)),
                race: self.race(),
                refused: self.refused,
                waited: self.waited,
                kept: self.outbox.kept,
                twice: self.outbox.twice,
                dropped: self.outbox.dropped,
                broken,
            },
        )
    }

    /// The first stale write and the write it overwrote, with when and where each message
    /// arrived; `None` when there is none, or it cannot be traced to both messages.
    fn race(&self) -> Option<Race> {
        let stale = self.stale?;
        let newer = stale.over.from?;
        let old_got = self.receipts.get(&stale.from)?;
        let new_got = self.receipts.get(&newer)?;
        Some(Race {
            old: Written {
                price: stale.price,
                seq: stale.from.1,
                received_us: old_got.t_us,
                receiver: old_got.replica,
                redelivered: old_got.redelivered,
                writer: stale.writer,
            },
            new: Written {
                price: stale.over.price,
                seq: newer.1,
                received_us: new_got.t_us,
                receiver: new_got.replica,
                redelivered: new_got.redelivered,
                writer: stale.over.writer,
            },
        })
    }
}
