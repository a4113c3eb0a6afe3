//! The data a page carries: for each side of each view, the records of the run's trace that
//! concern the ticket followed (as the JSON lines of `--trace`), the story's sentence for each
//! step with the record it tells, the checks with when each was first broken, and the aligned
//! rows. The page draws and folds these; it recomputes nothing of the model.
//!
//! Records are kept whole and generic: the page finds lanes, databases and messages in their
//! fields (`node`, `db`, `collection`, `subject`, `seq`, `replica`, `by`), so a record kind or a
//! node this file has never heard of still shows, as a plain labelled step. A record the story
//! tells is kept whatever it names: the later services' records about one of the ticket's
//! orders (a payment saved, a job stalled) carry only the order.

use crate::check::findings::{Outcome, Violation};
use crate::model::documents::TicketId;
use crate::present::html::align::{align, Keyed};
use crate::present::html::page::{Side, View};
use crate::present::report::Report;
use crate::present::story::{format_ms, Mark, Story};
use crate::present::summary::{describe_violation, differ};
use crate::scenario::expect::Invariant;
use crate::sim::record::Event;
use crate::sim::trace::Trace;
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeSet;

/// The collections whose copies a run's outcome compares (converged or diverged): the
/// tickets, in the tickets and orders databases. An order's copy in the payments database is
/// that service's own view: the page shows where it differs, and checks nothing of it.
pub(super) const COMPARED: [&str; 1] = ["tickets"];

/// The whole page's data.
#[derive(Serialize)]
pub(super) struct PageData {
    pub(super) title: String,
    pub(super) description: String,
    pub(super) made_by: String,
    /// [`COMPARED`].
    pub(super) compared: Vec<&'static str>,
    pub(super) views: Vec<ViewData>,
}

/// One view: a pair of runs aligned, or a race alone with why there is no cure beside it.
#[derive(Serialize)]
pub(super) struct ViewData {
    id: String,
    name: String,
    heading: String,
    about: Vec<String>,
    ticket: TicketId,
    sides: Vec<SideData>,
    #[serde(skip_serializing_if = "Option::is_none")]
    no_cure: Option<String>,
    /// Each row: the index of the race's step on it and the cure's (`null` when absent).
    rows: Vec<(Option<usize>, Option<usize>)>,
    #[serde(skip_serializing_if = "Option::is_none")]
    attachment: Option<Attachment>,
}

/// A file the view carries as text (the smallest failing run as a scenario).
#[derive(Serialize)]
struct Attachment {
    name: String,
    note: String,
    text: String,
}

/// One run of a view.
#[derive(Serialize)]
struct SideData {
    title: String,
    occ: String,
    versioned: bool,
    reproduce: String,
    outcome: String,
    outcome_kind: &'static str,
    ending: String,
    records: Vec<Value>,
    steps: Vec<StepData>,
    checks: Vec<CheckData>,
}

/// One step of the story: the record it tells (an index into the side's records), and its
/// words; `word`, when present, says its mark in words instead of the page's word for the
/// mark.
#[derive(Serialize)]
struct StepData {
    r: usize,
    t: u64,
    time: String,
    actor: String,
    text: String,
    label: String,
    mark: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    word: Option<&'static str>,
}

/// A check, and when it was first broken in the run (never, when `at_us` is absent).
#[derive(Serialize)]
struct CheckData {
    id: String,
    name: String,
    what: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    at_us: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    broken: Option<String>,
}

impl ViewData {
    /// The data of `view`.
    pub(super) fn of(view: &View) -> ViewData {
        let race = SideData::of(&view.race, view.ticket);
        let (cure, no_cure) = match &view.cure {
            Ok(side) => (Some(SideData::of(side, view.ticket)), None),
            Err(why) => (None, Some(why.clone())),
        };
        let keys = |s: &SideData| -> Vec<Keyed> {
            s.steps
                .iter()
                .map(|step| Keyed {
                    key: event_key(&s.records[step.r]),
                    t_us: step.t,
                })
                .collect()
        };
        let rows = match &cure {
            Some(cure) => align(&keys(&race), &keys(cure)),
            None => (0..race.steps.len()).map(|i| (Some(i), None)).collect(),
        };
        ViewData {
            id: view.id.clone(),
            name: view.name.clone(),
            heading: view.heading.clone(),
            about: view.about.clone(),
            ticket: view.ticket,
            sides: std::iter::once(race).chain(cure).collect(),
            no_cure,
            rows,
            attachment: view
                .attachment
                .as_ref()
                .map(|(name, note, text)| Attachment {
                    name: name.clone(),
                    note: note.clone(),
                    text: text.clone(),
                }),
        }
    }
}

impl SideData {
    fn of(side: &Side, ticket: TicketId) -> SideData {
        let (story, at) = Story::of_indexed(side.trace, side.report, side.replicas, ticket);
        let (records, index) = concerning(side.trace, ticket, &at);
        let steps: Vec<StepData> = story
            .steps
            .iter()
            .zip(&at)
            .map(|(step, &i)| StepData {
                r: index[i],
                t: step.t_us,
                time: format_ms(step.t_us),
                actor: step.actor.name(),
                text: step.text.clone(),
                label: step.label.clone(),
                mark: mark_name(step.mark),
                word: mark_word(step.mark, &records[index[i]]),
            })
            .collect();
        SideData {
            title: side.title.clone(),
            occ: side.report.occ.to_string(),
            versioned: side.report.occ.versioned(),
            reproduce: side.reproduce.clone(),
            outcome: outcome(side.report),
            outcome_kind: if side.report.violations.iter().any(|v| v.is_invariant()) {
                "violated"
            } else {
                side.report.outcome.as_str()
            },
            ending: story.ending.clone(),
            checks: checks(side.report, side.trace, &story, ticket),
            records,
            steps,
        }
    }
}

/// The name a page gives a mark (its CSS class and its word).
fn mark_name(mark: Mark) -> &'static str {
    match mark {
        Mark::Plain => "plain",
        Mark::Stale => "stale",
        Mark::Refused => "refused",
        Mark::Applied => "applied",
        Mark::Fault => "fault",
    }
}

/// The word for a step's mark, when the page's own word for it would be wrong: the cure
/// applied is an event applied in order, save a record that writes nothing (a refund, when a
/// status guard cures a late payment), which is the cure all the same.
fn mark_word(mark: Mark, record: &Value) -> Option<&'static str> {
    let writes = record.get("kind").and_then(Value::as_str) == Some("db.write");
    (mark == Mark::Applied && !writes).then_some("CURED")
}

/// The records of `trace` that concern `ticket` (those naming it, and those about a message
/// published about it or a copy of one), and every record a step tells (`steps`, indices into
/// the trace); with, for each record of the trace kept, its index among those kept.
fn concerning(trace: &Trace, ticket: TicketId, steps: &[usize]) -> (Vec<Value>, Vec<usize>) {
    let told: BTreeSet<usize> = steps.iter().copied().collect();
    let mut messages: BTreeSet<(String, u64)> = BTreeSet::new();
    let mut kept = Vec::new();
    let mut index = vec![usize::MAX; trace.records().len()];
    for (i, record) in trace.records().iter().enumerate() {
        let value = serde_json::to_value(record).expect("a trace record serializes");
        let about_ticket = value.get("ticket").and_then(Value::as_u64) == Some(u64::from(ticket));
        let message = message_of(&value);
        let kind = value.get("kind").and_then(Value::as_str).unwrap_or("");
        if let (Some(m), true) = (&message, about_ticket && kind == "publish") {
            messages.insert(m.clone());
        }
        let copy_of = match (&message, value.get("of").and_then(Value::as_u64)) {
            (Some((subject, _)), Some(of)) => messages.contains(&(subject.clone(), of)),
            _ => false,
        };
        if let (Some(m), true) = (&message, copy_of) {
            messages.insert(m.clone());
        }
        let about_message = message.as_ref().is_some_and(|m| messages.contains(m));
        if about_ticket || about_message || told.contains(&i) {
            index[i] = kept.len();
            kept.push(value);
        }
    }
    (kept, index)
}

/// The message a record is about, as (subject, seq), when it names one.
fn message_of(value: &Value) -> Option<(String, u64)> {
    let subject = value.get("subject")?.as_str()?;
    let seq = value.get("seq")?.as_u64()?;
    Some((subject.to_owned(), seq))
}

/// The event a step's record is, named the same in both runs of a seed: its kind (a message's
/// handling, whatever its result: a write, a failed write, a refusal, a drop), where, and which
/// message or request.
fn event_key(value: &Value) -> String {
    let text = |k: &str| value.get(k).and_then(Value::as_str).unwrap_or("");
    let kind = text("kind");
    let message = match message_of(value) {
        Some((subject, seq)) => format!("{subject}#{seq}"),
        None => text("by").to_owned(),
    };
    let by_message = text("by").contains('#');
    let class = match kind {
        "nack" | "drop" => "handled",
        "db.write" | "db.conflict" if by_message => "handled",
        "deliver" if value.get("redelivered").and_then(Value::as_bool) == Some(true) => {
            "deliver-again"
        }
        other => other,
    };
    let collection = text("collection");
    format!("{class}|{}|{collection}|{message}", text("node"))
}

/// The run's outcome, as the demo's table says it.
fn outcome(report: &Report) -> String {
    let base = match report.outcome {
        Outcome::Converged => "converged".to_owned(),
        Outcome::Diverged => format!(
            "DIVERGED: {}",
            differ(report.diverged_tickets(), report.stats.tickets)
        ),
        Outcome::Stuck => "STUCK: never settled".to_owned(),
    };
    let broken = report
        .violations
        .iter()
        .filter(|v| v.is_invariant())
        .count();
    match broken {
        0 => base,
        1 => format!("{base}, 1 invariant violation"),
        n => format!("{base}, {n} invariant violations"),
    }
}

/// Every check the page shows a status for, with when each was first broken on `ticket`: no
/// stale write (from the story's marks), each invariant, and settling (a redelivery loop).
/// Whether the copies agree so far the page reads from the databases' records itself.
fn checks(report: &Report, trace: &Trace, story: &Story, ticket: TicketId) -> Vec<CheckData> {
    let stale = story.steps.iter().find(|s| s.mark == Mark::Stale);
    let mut out = vec![CheckData {
        id: "stale".to_owned(),
        name: "no stale write".to_owned(),
        what: "no replica writes an older event's value over a newer one".to_owned(),
        at_us: stale.map(|s| s.t_us),
        broken: stale.map(|s| format!("{} {}", s.actor.name(), s.text)),
    }];
    let about = |v: &&Violation| v.ticket().is_none_or(|t| t == ticket);
    let when = |v: &Violation| broken_at(v, trace);
    for invariant in Invariant::ALL {
        let first = report
            .violations
            .iter()
            .filter(about)
            .find(|v| v.invariant() == Some(invariant));
        out.push(CheckData {
            id: invariant.as_str().to_owned(),
            name: invariant.as_str().replace('-', " "),
            what: format!("the invariant {}", invariant.as_str()),
            at_us: first.and_then(when),
            broken: first.map(describe_violation),
        });
    }
    let stuck = report
        .why_stuck
        .iter()
        .chain(&report.violations)
        .filter(about)
        .find(|v| !v.is_invariant());
    out.push(CheckData {
        id: "settles".to_owned(),
        name: "settles".to_owned(),
        what: "every message is acked and every request answered, within the limits".to_owned(),
        at_us: stuck.and_then(when).or(match report.outcome {
            Outcome::Stuck => Some(report.sim_time_ms.saturating_mul(1000)),
            _ => None,
        }),
        broken: stuck.map(describe_violation).or(match report.outcome {
            Outcome::Stuck => Some("the run never settles".to_owned()),
            _ => None,
        }),
    });
    out
}

/// When `v` first holds in the run whose trace is `trace`: its own time; for a paid order
/// found not complete at quiescence, the later of its payment and the last write of its
/// status (from then on it stays paid and not complete).
fn broken_at(v: &Violation, trace: &Trace) -> Option<u64> {
    if let Violation::PaidOrderNotComplete { order, paid_us, .. } = v {
        let written = trace.records().iter().rev().find_map(|r| match r.event {
            Event::OrderWrite { order: o, .. } if o == *order => Some(r.t_us),
            _ => None,
        });
        return Some(written.map_or(*paid_us, |t| t.max(*paid_us)));
    }
    serde_json::to_value(v)
        .ok()
        .and_then(|j| j.get("t_us").and_then(Value::as_u64))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_messages_handling_is_one_event_whatever_its_result() {
        let saved = json!({"kind": "db.write", "node": "orders-1", "db": "orders",
            "by": "ticket:updated#2", "ticket": 1, "price": 15});
        let refused = json!({"kind": "nack", "node": "orders-1", "subject": "ticket:updated",
            "seq": 2, "replica": "orders-1", "reason": "not-found"});
        assert_eq!(event_key(&saved), event_key(&refused));
        let other = json!({"kind": "nack", "node": "orders-1", "subject": "ticket:updated",
            "seq": 1});
        assert_ne!(event_key(&saved), event_key(&other));
        let by_request = json!({"kind": "db.write", "node": "tickets", "db": "tickets",
            "by": "PUT /api/tickets/:id", "ticket": 1});
        assert_eq!(
            event_key(&by_request),
            "db.write|tickets||PUT /api/tickets/:id"
        );
        let unknown = json!({"kind": "payment:charged", "node": "payments"});
        assert_eq!(event_key(&unknown), "payment:charged|payments||");
    }

    #[test]
    fn the_cure_applied_is_cured_where_it_writes_nothing() {
        let save = json!({"kind": "db.write", "db": "orders", "ticket": 1});
        let refund = json!({"kind": "refund", "charge": 3, "order": 2, "ticket": 1});
        assert_eq!(mark_word(Mark::Applied, &save), None);
        assert_eq!(mark_word(Mark::Applied, &refund), Some("CURED"));
        assert_eq!(mark_word(Mark::Refused, &refund), None);
    }

    #[test]
    fn a_paid_order_not_complete_breaks_once_paid_and_last_written() {
        use crate::model::documents::OrderStatus;
        use crate::model::events::Subject;
        use crate::model::http::Cause;
        use crate::model::node::Node;
        use crate::model::store::Db;
        use crate::sim::record::{OrdersCollection, Record};
        let cancelled = |t_us| Record {
            t_us,
            node: Node::Orders(1),
            event: Event::OrderWrite {
                db: Db::Orders,
                collection: OrdersCollection,
                by: Cause::Message(Subject::ExpirationComplete, 1),
                order: 2,
                version: 1,
                status: OrderStatus::Cancelled,
                ticket: 1,
                user_id: 1,
            },
        };
        let v = Violation::PaidOrderNotComplete {
            ticket: 1,
            order: 2,
            status: OrderStatus::Cancelled,
            paid_us: 5_000,
        };
        let mut trace = Trace::with_capacity(1);
        trace.push(&cancelled(3_000));
        assert_eq!(broken_at(&v, &trace), Some(5_000), "cancelled, then paid");
        trace.push(&cancelled(9_000));
        assert_eq!(broken_at(&v, &trace), Some(9_000), "paid, then cancelled");
    }
}
