//! The story of one ticket in one run: every step of the trace that concerns it, in simulated
//! time, told as plain sentences for a learner and drawn as arrows between lanes (tickets
//! service, NATS, each orders replica, the orders database) for a sequence diagram.
//!
//! A [`Story`] is read from the trace alone, like the checks. It marks what a learner should
//! look at: the stale write that leaves the orders database behind, the event a replica refuses
//! (and does not ack), and the faults.

use crate::check::findings::{Outcome, Violation};
use crate::model::decisions::{DropReason, Refusal};
use crate::model::documents::{OrderId, OrderStatus, Price, TicketId};
use crate::model::events::Subject;
use crate::model::http::{Cause, Route};
use crate::model::node::Node;
use crate::model::occ::Occ;
use crate::model::store::Db;
use crate::present::report::Report;
use crate::present::summary::describe_violation;
use crate::sim::record::{Event, Loss};
use crate::sim::trace::Trace;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

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
}

impl Lane {
    fn of(node: Node) -> Lane {
        match node {
            Node::Orders(n) => Lane::Replica(n),
            Node::Bus => Lane::Bus,
            Node::Tickets | Node::Client | Node::Faults => Lane::Tickets,
        }
    }

    /// How the story names it.
    pub fn name(self) -> String {
        match self {
            Lane::Tickets => "tickets".to_owned(),
            Lane::Bus => "NATS".to_owned(),
            Lane::Replica(n) => format!("orders-{n}"),
            Lane::OrdersDb => "orders db".to_owned(),
        }
    }

    /// How a diagram's lane header names it.
    pub fn title(self) -> String {
        match self {
            Lane::Tickets => "tickets service".to_owned(),
            Lane::Bus => "NATS Streaming".to_owned(),
            Lane::Replica(n) => format!("orders-{n}"),
            Lane::OrdersDb => "orders database".to_owned(),
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

/// One ticket's history in one run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Story {
    /// The ticket.
    pub ticket: TicketId,
    /// The run's mode.
    pub occ: Occ,
    /// The orders replicas of the run (the diagram's lanes).
    pub replicas: u8,
    /// Every step that concerns the ticket, in order.
    pub steps: Vec<Step>,
    /// How it ends, in a sentence or two.
    pub ending: String,
}

/// A message about the ticket, as published.
#[derive(Clone, Copy)]
struct Published {
    version: Option<u64>,
    price: Option<Price>,
    order: Option<OrderId>,
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
struct Reader {
    ticket: TicketId,
    occ: Occ,
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
    steps: Vec<Step>,
}

impl Story {
    /// The story of `ticket` in the run `report` judged, whose trace is `trace`, with
    /// `replicas` orders replicas.
    pub fn of(trace: &Trace, report: &Report, replicas: u8, ticket: TicketId) -> Story {
        let occ = report.occ;
        let mut reader = Reader {
            ticket,
            occ,
            messages: BTreeMap::new(),
            ticket_events: 0,
            copy: None,
            source: None,
            busy: BTreeSet::new(),
            receipts: BTreeMap::new(),
            stale: None,
            refused: false,
            steps: Vec::new(),
        };
        for record in trace.records() {
            reader.read(record.t_us, record.node, &record.event);
        }
        let broken: Vec<&Violation> = report
            .violations
            .iter()
            .filter(|v| v.is_invariant() && v.ticket() == Some(ticket))
            .collect();
        let mut ending = reader.ending(report.outcome, broken.is_empty());
        for v in broken.iter().take(3) {
            ending.push_str(&format!("\n  Broken: {}.", describe_violation(v)));
        }
        Story {
            ticket,
            occ,
            replicas,
            steps: reader.steps,
            ending,
        }
    }

    /// Whether a replica refused one of the ticket's events in this story.
    pub fn has_refusal(&self) -> bool {
        self.steps.iter().any(|s| s.mark == Mark::Refused)
    }

    /// Whether the story has a stale write.
    pub fn has_stale_write(&self) -> bool {
        self.steps.iter().any(|s| s.mark == Mark::Stale)
    }

    /// The story as lines of text: time, actor, sentence; `paint` colours the marked steps.
    /// Long stories keep their first and last steps.
    pub fn render(&self, paint: &dyn Fn(Mark, &str) -> String) -> String {
        const HEAD: usize = 30;
        const TAIL: usize = 10;
        let width = self
            .steps
            .iter()
            .map(|s| format_ms(s.t_us).len())
            .max()
            .unwrap_or(0);
        let mut out = String::new();
        let line = |out: &mut String, s: &Step| {
            let _ = writeln!(
                out,
                "  {:>width$}  {:<9} {}",
                format_ms(s.t_us),
                s.actor.name(),
                paint(s.mark, &s.text)
            );
        };
        if self.steps.len() <= HEAD + TAIL + 1 {
            self.steps.iter().for_each(|s| line(&mut out, s));
        } else {
            self.steps[..HEAD].iter().for_each(|s| line(&mut out, s));
            let _ = writeln!(
                out,
                "  {:>width$}  … {} more steps like these …",
                "",
                self.steps.len() - HEAD - TAIL
            );
            self.steps[self.steps.len() - TAIL..]
                .iter()
                .for_each(|s| line(&mut out, s));
        }
        for paragraph in self.ending.lines() {
            out.push_str(&wrap(paragraph.trim(), 96, "  "));
        }
        out
    }
}

/// `text` in lines of at most `width` characters (a longer word gets a line of its own), each
/// after `indent`.
pub(crate) fn wrap(text: &str, width: usize, indent: &str) -> String {
    let mut out = String::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
            let _ = writeln!(out, "{indent}{line}");
            line.clear();
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        let _ = writeln!(out, "{indent}{line}");
    }
    out
}

/// `12.345 ms`, with a thin grouping of thousands so the ack wait's 5 s reads at a glance.
pub fn format_ms(t_us: u64) -> String {
    let ms = t_us / 1000;
    let frac = t_us % 1000;
    let digits = ms.to_string();
    let mut grouped = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            grouped.push(' ');
        }
        grouped.push(c);
    }
    format!("{grouped}.{frac:03} ms")
}

impl Reader {
    fn versioned(&self) -> bool {
        self.occ.versioned()
    }

    /// ", version 2" when OCC is on (without it every version stays 0 and says nothing).
    fn version(&self, v: Option<u64>) -> String {
        match v {
            Some(v) if self.versioned() => format!(", version {v}"),
            _ => String::new(),
        }
    }

    fn short_version(&self, v: Option<u64>) -> String {
        match v {
            Some(v) if self.versioned() => format!(" v{v}"),
            _ => String::new(),
        }
    }

    fn push(
        &mut self,
        t_us: u64,
        actor: Lane,
        text: String,
        arrow: Arrow,
        label: String,
        mark: Mark,
    ) {
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

    /// `ticket:updated #166 (price 10, version 1)`.
    fn describe(&self, subject: Subject, seq: u64, m: Published) -> String {
        let mut parts = Vec::new();
        match subject {
            Subject::TicketCreated | Subject::TicketUpdated => {
                if let Some(p) = m.price {
                    parts.push(format!("price {p}"));
                }
                if let (Some(v), true) = (m.version, self.versioned()) {
                    parts.push(format!("version {v}"));
                }
                if let (Some(o), Subject::TicketUpdated) = (m.order, subject) {
                    parts.push(format!("reserved by order {o}"));
                }
            }
            Subject::OrderCreated | Subject::OrderCancelled => {
                if let Some(o) = m.order {
                    parts.push(format!("order {o}"));
                }
                if let (Some(v), true) = (m.version, self.versioned()) {
                    parts.push(format!("version {v}"));
                }
            }
        }
        if parts.is_empty() {
            format!("{subject} #{seq}")
        } else {
            format!("{subject} #{seq} ({})", parts.join(", "))
        }
    }

    fn label(&self, subject: Subject, seq: u64, m: Published) -> String {
        let what = match subject {
            Subject::TicketCreated | Subject::TicketUpdated => {
                m.price.map(|p| format!(" · price {p}")).unwrap_or_default()
            }
            Subject::OrderCreated | Subject::OrderCancelled => {
                m.order.map(|o| format!(" · order {o}")).unwrap_or_default()
            }
        };
        format!("{subject} #{seq}{what}{}", self.short_version(m.version))
    }

    fn read(&mut self, t_us: u64, node: Node, event: &Event) {
        let me = self.ticket;
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
                let m = Published {
                    version: *version,
                    price: *price,
                    order: *order,
                    rank,
                };
                self.messages.insert((*subject, *seq), m);
                let text = format!("publishes {}", self.describe(*subject, *seq, m));
                let label = self.label(*subject, *seq, m);
                let arrow = Arrow::Message {
                    from: at,
                    to: Lane::Bus,
                    style: Line::Solid,
                };
                self.push(t_us, at, text, arrow, label, Mark::Plain);
            }
            Event::Duplicate { subject, seq, of } => {
                if let Some(m) = self.message(*subject, *of) {
                    self.messages.insert((*subject, *seq), m);
                    let text = format!(
                        "stores {subject} #{of} a second time, as #{seq}: the publisher never got its confirmation and published again"
                    );
                    let label = format!("duplicate: #{of} again as #{seq}");
                    self.note(t_us, Lane::Bus, text, label, Mark::Fault);
                }
            }
            Event::Redeliver {
                subject,
                seq,
                replica,
                attempt,
                ..
            } if self.message(*subject, *seq).is_some() => {
                let text = format!(
                        "has had no ack for {subject} #{seq} within the ack wait: sends it again, to {replica} (delivery {attempt})"
                    );
                let label = format!("no ack in time: resend #{seq}");
                self.note(t_us, Lane::Bus, text, label, Mark::Plain);
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
                    let again = if *redelivered { " again" } else { "" };
                    let text = format!("receives {}{again}", self.describe(*subject, *seq, m));
                    let label = if *redelivered {
                        format!("{subject} #{seq} again")
                    } else {
                        format!("{subject} #{seq}")
                    };
                    let arrow = Arrow::Message {
                        from: Lane::Bus,
                        to: Lane::of(*replica),
                        style: Line::Solid,
                    };
                    self.push(t_us, Lane::of(*replica), text, arrow, label, Mark::Plain);
                }
            }
            Event::Ack {
                subject,
                seq,
                replica,
            } if self.message(*subject, *seq).is_some() => {
                self.reply(
                    t_us,
                    *replica,
                    Line::Dashed,
                    format!("acks {subject} #{seq}"),
                    format!("ack {} #{seq}", short(*subject)),
                    Mark::Plain,
                );
            }
            Event::Nack {
                subject,
                seq,
                replica,
                reason,
            } => {
                if let Some(m) = self.message(*subject, *seq) {
                    let why = self.refusal(*subject, m, *reason);
                    let text = format!("{why}: throws, so no ack for {subject} #{seq}");
                    let label = format!("no ack for {} #{seq}", short(*subject));
                    self.refused = true;
                    self.reply(t_us, *replica, Line::Cross, text, label, Mark::Refused);
                }
            }
            Event::Drop {
                subject,
                seq,
                replica,
                reason,
            } => {
                if let Some(m) = self.message(*subject, *seq) {
                    let why = match (reason, self.copy) {
                        (DropReason::Stale, Some(c)) => format!(
                            "version {} is not newer than its copy's version {}",
                            m.version.unwrap_or(0),
                            c.version
                        ),
                        (DropReason::Stale, None) => "it is not newer than its copy".to_owned(),
                        (DropReason::Duplicate, _) => "it has the ticket already".to_owned(),
                    };
                    self.reply(
                        t_us,
                        *replica,
                        Line::Dashed,
                        format!("acks {subject} #{seq} without applying it: {why}"),
                        format!("ack {} #{seq}, not applied", short(*subject)),
                        Mark::Plain,
                    );
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
                self.push(
                    t_us,
                    Lane::Bus,
                    format!(
                        "sends #{seq} to {replica}, but it never arrives: {}",
                        loss(*reason, *replica)
                    ),
                    arrow,
                    format!("#{seq} lost"),
                    Mark::Fault,
                );
            }
            Event::AckLost {
                subject,
                seq,
                replica,
                reason,
            } if self.message(*subject, *seq).is_some() => {
                self.reply(
                    t_us,
                    *replica,
                    Line::Cross,
                    format!(
                        "acks {subject} #{seq}, but the ack never arrives: {}",
                        loss(*reason, *replica)
                    ),
                    format!("ack {} #{seq} lost", short(*subject)),
                    Mark::Fault,
                );
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
                    Db::Tickets => (Lane::Tickets, Arrow::Note(Lane::Tickets)),
                    Db::Orders => (
                        at,
                        Arrow::Message {
                            from: at,
                            to: Lane::OrdersDb,
                            style: Line::Cross,
                        },
                    ),
                };
                let what = match (by, order_id) {
                    (Cause::Message(..), Some(o)) => {
                        format!("mark ticket {me} reserved by order {o}")
                    }
                    (Cause::Message(Subject::OrderCancelled, _), None) => {
                        format!("mark ticket {me} free again")
                    }
                    _ => format!("save price {price}"),
                };
                let text = format!(
                    "tries to {what}, but the document changed since it was read at version {version}: version conflict"
                );
                self.push(
                    t_us,
                    actor,
                    text,
                    arrow,
                    format!("save {price}: conflict"),
                    Mark::Refused,
                );
            }
            Event::OrderWrite {
                by,
                order,
                status,
                ticket,
                ..
            } if *ticket == me => {
                let what = match (by, status) {
                    (Cause::Request(Route::CreateOrder), _) => {
                        format!("saves order {order} for ticket {me}")
                    }
                    (_, OrderStatus::Cancelled) => format!("saves order {order} as cancelled"),
                    (_, s) => format!("saves order {order} as {}", s.as_str()),
                };
                let arrow = Arrow::Message {
                    from: at,
                    to: Lane::OrdersDb,
                    style: Line::Solid,
                };
                self.push(
                    t_us,
                    at,
                    what,
                    arrow,
                    format!("save order {order}"),
                    Mark::Plain,
                );
            }
            Event::ReservedCheck {
                replica,
                ticket,
                order,
            } if *ticket == me => {
                let (text, label) = match order {
                    Some(o) => (
                        format!("asks whether ticket {me} is reserved: order {o} holds it"),
                        format!("reserved? yes, order {o}"),
                    ),
                    None => (
                        format!("asks whether ticket {me} is reserved: no order holds it"),
                        "reserved? no".to_owned(),
                    ),
                };
                let arrow = Arrow::Message {
                    from: Lane::of(*replica),
                    to: Lane::OrdersDb,
                    style: Line::Solid,
                };
                self.push(t_us, Lane::of(*replica), text, arrow, label, Mark::Plain);
            }
            Event::Http {
                request,
                ticket: Some(ticket),
                order,
                price,
                status,
            } if *ticket == me && (request.is_orders() || *status >= 400) => {
                let what = match (request, status, order) {
                    (Route::CreateOrder, 201, Some(o)) => format!("places order {o}: 201"),
                    (Route::CreateOrder, 400, _) => {
                        "refuses an order: 400, the ticket is reserved".to_owned()
                    }
                    (Route::CancelOrder, 204, Some(o)) => format!("cancels order {o}: 204"),
                    (Route::UpdateTicket, 400, _) => format!(
                        "refuses the update to price {}: 400",
                        price.unwrap_or_default()
                    ),
                    (r, s, _) => format!("answers {} with {s}", r.as_str()),
                };
                let mark = if *status >= 400 {
                    Mark::Refused
                } else {
                    Mark::Plain
                };
                self.push(t_us, at, what.clone(), Arrow::Note(at), what, mark);
            }
            Event::Stall { replica, ms } if self.busy.contains(replica) => {
                let text = format!("stalls for {ms} ms in the middle of its handler");
                self.note(
                    t_us,
                    Lane::of(*replica),
                    text,
                    format!("stalls {ms} ms"),
                    Mark::Fault,
                );
            }
            Event::PublishFailed {
                subject, ticket, ..
            } if *ticket == me => {
                let text = format!("cannot reach NATS: its {subject} is lost");
                self.note(t_us, at, text, format!("{subject} lost"), Mark::Fault);
            }
            Event::RedeliveryLoop {
                subject,
                seq,
                ticket,
                deliveries,
                ..
            } if *ticket == me => {
                let text = format!(
                    "gives up on {subject} #{seq} after {deliveries} deliveries: a redelivery loop, the run cannot finish"
                );
                self.note(
                    t_us,
                    Lane::Bus,
                    text,
                    format!("gives up on #{seq}"),
                    Mark::Refused,
                );
            }
            Event::Crash {
                target,
                dropped_tasks,
            } => {
                self.busy.remove(target);
                let text = format!("crashes; {dropped_tasks} tasks in flight are lost");
                self.fault(t_us, *target, text, "crash".to_owned());
            }
            Event::Restart { target } => self.fault(
                t_us,
                *target,
                "restarts, empty".to_owned(),
                "restart".to_owned(),
            ),
            Event::Pause { target, for_ms } => self.fault(
                t_us,
                *target,
                format!("pauses for {for_ms} ms"),
                format!("paused {for_ms} ms"),
            ),
            Event::Resume { target } => {
                self.fault(t_us, *target, "resumes".to_owned(), "resume".to_owned())
            }
            Event::Partition { target, for_ms } => self.fault(
                t_us,
                *target,
                format!("is cut off from NATS for {for_ms} ms"),
                format!("partitioned {for_ms} ms"),
            ),
            Event::PartitionHealed { target } => self.fault(
                t_us,
                *target,
                "reaches NATS again".to_owned(),
                "partition healed".to_owned(),
            ),
            _ => {}
        }
    }

    /// A replica's answer to NATS about a message (an ack, a refusal, a lost ack): its
    /// handler is done.
    fn reply(
        &mut self,
        t_us: u64,
        replica: Node,
        style: Line,
        text: String,
        label: String,
        mark: Mark,
    ) {
        self.busy.remove(&replica);
        let lane = Lane::of(replica);
        let arrow = Arrow::Message {
            from: lane,
            to: Lane::Bus,
            style,
        };
        self.push(t_us, lane, text, arrow, label, mark);
    }

    /// A step drawn as a note over the lane that takes it.
    fn note(&mut self, t_us: u64, lane: Lane, text: String, label: String, mark: Mark) {
        self.push(t_us, lane, text, Arrow::Note(lane), label, mark);
    }

    fn fault(&mut self, t_us: u64, target: Node, text: String, label: String) {
        self.note(t_us, Lane::of(target), text, label, Mark::Fault);
    }

    /// Why a listener refused a message.
    fn refusal(&self, subject: Subject, m: Published, reason: Refusal) -> String {
        let me = self.ticket;
        match (reason, subject, m.version, self.copy) {
            (Refusal::NotFound, Subject::TicketUpdated, Some(v), Some(c)) if self.versioned() => {
                format!(
                    "looks for version {} of ticket {me}, but its copy is at version {}",
                    v.saturating_sub(1),
                    c.version
                )
            }
            (Refusal::NotFound, Subject::TicketUpdated | Subject::TicketCreated, _, _) => {
                format!("finds no copy of ticket {me} yet")
            }
            (Refusal::NotFound, _, _, _) => format!("finds no ticket {me}"),
            (Refusal::VersionConflict, _, _, _) => "its save hits a version conflict".to_owned(),
            (Refusal::DuplicateKey, _, _, _) => {
                format!("cannot insert ticket {me}: it exists already (duplicate key)")
            }
            (Refusal::PublishFailed, _, _, _) => "its own publish fails".to_owned(),
        }
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
        let me = self.ticket;
        let v = self.version(Some(version));
        match db {
            Db::Tickets => {
                let text = match by {
                    Cause::Request(Route::CreateTicket) => {
                        format!("creates ticket {me} at price {price}{v}")
                    }
                    Cause::Request(_) => format!("saves ticket {me} at price {price}{v}"),
                    Cause::Message(Subject::OrderCreated, seq) => format!(
                        "marks ticket {me} reserved by order {} (order:created #{seq}){v}",
                        order_id.unwrap_or_default()
                    ),
                    Cause::Message(_, seq) => {
                        format!("marks ticket {me} free again (#{seq}){v}")
                    }
                };
                let label = match by {
                    Cause::Request(_) => {
                        format!("saves price {price}{}", self.short_version(Some(version)))
                    }
                    Cause::Message(..) => match order_id {
                        Some(o) => format!("reserved by order {o}"),
                        None => "free again".to_owned(),
                    },
                };
                self.source = Some((price, version));
                self.note(t_us, Lane::Tickets, text, label, Mark::Plain);
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
                let (text, mark) = match (stale, overwritten) {
                    (true, Some(old)) => (
                        format!(
                            "saves price {price} over {}{v}: a stale write, an older price over a newer one",
                            old.price
                        ),
                        Mark::Stale,
                    ),
                    (true, None) => (
                        format!("saves price {price}{v} again, from an older event"),
                        Mark::Stale,
                    ),
                    (false, _) if previous.is_none() => {
                        (format!("saves its copy of ticket {me} at price {price}{v}"), Mark::Plain)
                    }
                    (false, _) => {
                        let mark = if self.versioned() && self.refused && self.redelivered(by) {
                            Mark::Applied
                        } else {
                            Mark::Plain
                        };
                        (format!("saves price {price}{v}"), mark)
                    }
                };
                let label = match (mark, overwritten) {
                    (Mark::Stale, Some(old)) => format!("save {price} over {}", old.price),
                    _ => format!("save {price}{}", self.short_version(Some(version))),
                };
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
                        writer: node_of(at),
                        over,
                    });
                }
                self.copy = Some(Copy {
                    price,
                    version,
                    rank,
                    from,
                    writer: node_of(at),
                });
                let arrow = Arrow::Message {
                    from: at,
                    to: Lane::OrdersDb,
                    style: Line::Solid,
                };
                self.push(t_us, at, text, arrow, label, mark);
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

    /// How the story ends; `sound` when no invariant broke on this ticket.
    fn ending(&self, outcome: Outcome, sound: bool) -> String {
        let me = self.ticket;
        let source = self.source;
        let copy = self.copy;
        let at = |price: Price, version: u64| {
            if self.versioned() {
                format!("price {price} (version {version})")
            } else {
                format!("price {price}")
            }
        };
        let state = match (source, copy) {
            (Some((p, v)), Some(c)) if p == c.price => {
                format!("Both databases end with ticket {me} at {}.", at(p, v))
            }
            (Some((p, v)), Some(c)) => format!(
                "The orders database ends with ticket {me} at {}, the tickets database at {}: they disagree.",
                at(c.price, c.version),
                at(p, v)
            ),
            (Some((p, v)), None) => format!(
                "The orders database never gets ticket {me}; the tickets database has it at {}.",
                at(p, v)
            ),
            (None, _) => format!("The tickets database never saves ticket {me}."),
        };
        let mut ending = match outcome {
            Outcome::Stuck => {
                format!("{state} The run never settles: some message is never acked.")
            }
            Outcome::Diverged if source.map(|s| s.0) != copy.map(|c| c.price) => {
                format!("{state} Every message was acked, so nothing will ever put it right.")
            }
            _ => state,
        };
        if let Some(why) = self.why_stale() {
            ending.push_str("\n  ");
            ending.push_str(&why);
        } else if self.refused && sound && outcome == Outcome::Converged && self.versioned() {
            ending.push_str(
                "\n  Why it worked: a replica applies only the next version of a ticket. An event that \
                 comes too early is refused and not acked, so NATS sends it again after the ack wait, \
                 by when the one before it has been applied.",
            );
        }
        ending
    }

    /// Why the first stale write happened, in a sentence or two.
    fn why_stale(&self) -> Option<String> {
        let stale = self.stale?;
        let newer = stale.over.from?;
        let old_got = self.receipts.get(&stale.from)?;
        let new_got = self.receipts.get(&newer)?;
        let (a, b) = (stale.price, stale.over.price);
        let how = if old_got.redelivered {
            format!(
                "the update to {a} (#{}) was not acked at first, and NATS sent it again after the \
                 ack wait, at {}: by then {} had saved {b}, and {} saved {a} over it.",
                stale.from.1,
                format_ms(old_got.t_us),
                stale.over.writer,
                stale.writer
            )
        } else if old_got.t_us <= new_got.t_us {
            let other = if old_got.replica == new_got.replica {
                "it".to_owned()
            } else {
                new_got.replica.to_string()
            };
            format!(
                "{} received the update to {a} (#{}) at {}, before {other} received the update \
                 to {b} (#{}) at {}, but it was slower: it saved {a} after {b} had been saved.",
                old_got.replica,
                stale.from.1,
                format_ms(old_got.t_us),
                newer.1,
                format_ms(new_got.t_us)
            )
        } else {
            format!(
                "the update to {a} (#{}) was overtaken on its way: it reached {} at {}, after the \
                 update to {b} (#{}) had reached {} at {}.",
                stale.from.1,
                old_got.replica,
                format_ms(old_got.t_us),
                newer.1,
                new_got.replica,
                format_ms(new_got.t_us)
            )
        };
        let blind = if self.versioned() {
            ""
        } else {
            " Events carry no version, so no replica can tell an older price from a newer one."
        };
        Some(format!("Why: {how}{blind}"))
    }
}

/// The node behind a lane that writes (a replica, or the tickets service).
fn node_of(lane: Lane) -> Node {
    match lane {
        Lane::Replica(n) => Node::Orders(n),
        Lane::Bus => Node::Bus,
        Lane::Tickets | Lane::OrdersDb => Node::Tickets,
    }
}

/// A subject without its `ticket:` prefix, for short diagram labels.
fn short(subject: Subject) -> &'static str {
    match subject {
        Subject::TicketCreated => "created",
        Subject::TicketUpdated => "updated",
        Subject::OrderCreated => "order:created",
        Subject::OrderCancelled => "order:cancelled",
    }
}

fn loss(reason: Loss, replica: Node) -> String {
    match reason {
        Loss::Dropped => "the network dropped it".to_owned(),
        Loss::Partition => format!("{replica} is cut off from NATS"),
        Loss::Down => format!("{replica} is down"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrap_breaks_between_words_within_the_width() {
        assert_eq!(wrap("a bb ccc dddd", 6, "> "), "> a bb\n> ccc\n> dddd\n");
        assert_eq!(wrap("unbreakable-word x", 4, ""), "unbreakable-word\nx\n");
    }

    #[test]
    fn times_group_thousands_of_milliseconds() {
        assert_eq!(format_ms(0), "0.000 ms");
        assert_eq!(format_ms(12_345), "12.345 ms");
        assert_eq!(format_ms(5_012_864), "5 012.864 ms");
        assert_eq!(format_ms(1_234_567_000), "1 234 567.000 ms");
    }
}
