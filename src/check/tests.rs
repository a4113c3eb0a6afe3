//! The checks' unit tests, on hand-made histories: each check fed the few records that make
//! or break it.

use crate::check::checker::{judge, Checker};
use crate::check::findings::{Divergence, Findings, PriceCount, Violation};
use crate::model::documents::{OrderId, OrderStatus, Price, TicketId};
use crate::model::events::Subject;
use crate::model::http::{Cause, Route};
use crate::model::node::Node;
use crate::model::occ::Occ;
use crate::model::store::Db;
use crate::scenario::expect::{Invariant, Property};
use crate::sim::exec::Halt;
use crate::sim::record::{Event, OrdersCollection, Record};
use crate::sim::run::Ending;
use crate::sim::trace::Trace;
use serde_json::json;

fn write(t_us: u64, db: Db, ticket: TicketId, version: u64, price: Price) -> Record {
    Record {
        t_us,
        node: if db == Db::Tickets {
            Node::Tickets
        } else {
            Node::Orders(1)
        },
        event: Event::DbWrite {
            db,
            by: Cause::Request(Route::UpdateTicket),
            ticket,
            version,
            title: "t".into(),
            price,
            order_id: None,
        },
    }
}

/// The violations seen while reading `trace`, before the end-of-run checks.
fn history_violations(trace: &Trace) -> Vec<Violation> {
    let mut checker = Checker::new(&[]);
    for record in trace.records() {
        checker.observe(record);
    }
    checker.violations
}

fn exercised(trace: &Trace, property: Property) -> bool {
    judge(Occ::On, trace, &idle(), &[property]).exercised == [property]
}

fn idle() -> Ending {
    Ending {
        halt: Halt::Idle,
        unacked: 0,
        open_requests: 0,
        now_us: 10,
        limit_us: 600_000_000,
        held: Vec::new(),
        waiting: Vec::new(),
        steps: 0,
        timers: 0,
    }
}

#[test]
fn a_stale_price_in_the_orders_db_is_a_divergence() {
    let mut trace = Trace::default();
    trace.push(&write(1, Db::Tickets, 1, 0, 15));
    trace.push(&write(2, Db::Orders, 1, 0, 10));
    let findings = judge(Occ::Off, &trace, &idle(), &[]);
    assert!(!findings.databases_agree);
    assert_eq!(
        findings.divergences,
        vec![Divergence {
            ticket: 1,
            field: "price",
            tickets_db: json!(15),
            orders_db: json!(10)
        }]
    );
    assert_eq!(
        findings.price_counts,
        vec![
            PriceCount {
                price: 10,
                tickets_db: 0,
                orders_db: 1
            },
            PriceCount {
                price: 15,
                tickets_db: 1,
                orders_db: 0
            }
        ]
    );
}

#[test]
fn versions_count_only_with_occ() {
    let mut trace = Trace::default();
    trace.push(&write(1, Db::Tickets, 1, 2, 15));
    trace.push(&write(2, Db::Orders, 1, 1, 15));
    assert!(judge(Occ::Off, &trace, &idle(), &[]).databases_agree);
    let on = judge(Occ::On, &trace, &idle(), &[]);
    assert_eq!(on.divergences[0].field, "version");
}

#[test]
fn a_missing_replica_is_a_divergence() {
    let mut trace = Trace::default();
    trace.push(&write(1, Db::Tickets, 4, 0, 5));
    let findings = judge(Occ::On, &trace, &idle(), &[]);
    assert_eq!(findings.divergences[0].field, "exists");
}

#[test]
fn a_version_going_down_is_a_violation() {
    let mut trace = Trace::default();
    trace.push(&write(1, Db::Orders, 1, 2, 15));
    trace.push(&write(2, Db::Orders, 1, 1, 10));
    let findings = judge(Occ::On, &trace, &idle(), &[]);
    assert_eq!(
        findings.violations,
        vec![Violation::VersionRegressed {
            ticket: 1,
            node: Node::Orders(1),
            from: 2,
            to: 1,
            t_us: 2
        }]
    );
}

#[test]
fn unacked_work_or_a_limit_means_not_quiescent() {
    let trace = Trace::default();
    let unacked = Ending {
        unacked: 1,
        ..idle()
    };
    assert!(!judge(Occ::On, &trace, &unacked, &[]).quiescent);
    let limit = Ending {
        halt: Halt::TimeLimit,
        ..idle()
    };
    let findings = judge(Occ::On, &trace, &limit, &[]);
    assert!(!findings.quiescent);
    assert!(matches!(
        findings.violations[0],
        Violation::TimeLimit { .. }
    ));
    assert!(judge(Occ::On, &trace, &idle(), &[]).quiescent);
}

fn at(t_us: u64, node: Node, event: Event) -> Record {
    Record { t_us, node, event }
}

fn order(t_us: u64, id: OrderId, ticket: TicketId, status: OrderStatus, by: Route) -> Record {
    at(
        t_us,
        Node::Orders(1),
        Event::OrderWrite {
            db: Db::Orders,
            collection: OrdersCollection,
            by: Cause::Request(by),
            order: id,
            version: 0,
            status,
            ticket,
            user_id: 1,
        },
    )
}

fn reserved(t_us: u64, ticket: TicketId, order_id: Option<OrderId>, by: Cause) -> Record {
    at(
        t_us,
        Node::Tickets,
        Event::DbWrite {
            db: Db::Tickets,
            by,
            ticket,
            version: 1,
            title: "t".into(),
            price: 5,
            order_id,
        },
    )
}

fn invariants(findings: &Findings) -> Vec<Invariant> {
    findings
        .violations
        .iter()
        .filter_map(Violation::invariant)
        .collect()
}

#[test]
fn two_orders_reserving_one_ticket_is_reported_once_with_both_orders() {
    use OrderStatus::*;
    let mut trace = Trace::default();
    trace.push(&order(5, 1, 7, Created, Route::CreateOrder));
    trace.push(&order(6, 2, 7, Created, Route::CreateOrder));
    trace.push(&order(8, 3, 7, Created, Route::CreateOrder));
    trace.push(&order(9, 4, 8, Created, Route::CreateOrder));
    let v = history_violations(&trace);
    assert_eq!(
        v,
        [Violation::DoubleReservation {
            ticket: 7,
            orders: vec![1, 2],
            t_us: 6
        }]
    );
    // A cancellation in between frees the ticket: no violation.
    let mut trace = Trace::default();
    trace.push(&order(5, 1, 7, Created, Route::CreateOrder));
    trace.push(&order(6, 1, 7, Cancelled, Route::CancelOrder));
    trace.push(&order(8, 2, 7, Created, Route::CreateOrder));
    assert_eq!(history_violations(&trace), []);
}

#[test]
fn at_quiescence_the_order_id_must_name_the_reserving_order() {
    use OrderStatus::*;
    let by = Cause::Message(Subject::OrderCreated, 1);
    // Reserved by a cancelled order: stale.
    let mut trace = Trace::default();
    trace.push(&order(1, 1, 7, Created, Route::CreateOrder));
    trace.push(&order(2, 1, 7, Cancelled, Route::CancelOrder));
    trace.push(&reserved(3, 7, Some(1), by));
    let findings = judge(Occ::On, &trace, &idle(), &[]);
    assert_eq!(
        findings.violations,
        [Violation::StaleReservation {
            ticket: 7,
            order_id: Some(1),
            reserving_orders: vec![],
            t_us: 3
        }]
    );
    // The same state, but the run did not quiesce: nothing is judged yet.
    let unfinished = Ending {
        unacked: 1,
        ..idle()
    };
    assert_eq!(invariants(&judge(Occ::On, &trace, &unfinished, &[])), []);
    // Free but ordered: also stale.
    let mut trace = Trace::default();
    trace.push(&order(1, 1, 7, Created, Route::CreateOrder));
    trace.push(&reserved(3, 7, None, by));
    assert_eq!(
        invariants(&judge(Occ::On, &trace, &idle(), &[])),
        [Invariant::OrderIdNamesActiveOrder]
    );
    // Reserved by the order that holds it: fine.
    let mut trace = Trace::default();
    trace.push(&order(1, 1, 7, Created, Route::CreateOrder));
    trace.push(&reserved(3, 7, Some(1), by));
    assert_eq!(invariants(&judge(Occ::On, &trace, &idle(), &[])), []);
}

#[test]
fn only_an_edit_saved_onto_a_reserved_ticket_breaks_the_edit_invariant() {
    let mut trace = Trace::default();
    trace.push(&reserved(
        1,
        7,
        Some(3),
        Cause::Message(Subject::OrderCreated, 1),
    ));
    trace.push(&reserved(2, 8, None, Cause::Request(Route::UpdateTicket)));
    trace.push(&reserved(
        4,
        7,
        Some(3),
        Cause::Request(Route::UpdateTicket),
    ));
    assert_eq!(
        history_violations(&trace),
        [Violation::ReservedTicketEdited {
            ticket: 7,
            order: 3,
            t_us: 4
        }]
    );
}

fn publish(subject: Subject, seq: u64, ticket: TicketId, order: Option<OrderId>) -> Record {
    at(
        0,
        Node::Tickets,
        Event::Publish {
            subject,
            seq,
            ticket,
            version: None,
            title: None,
            price: None,
            order,
        },
    )
}

fn deliver(subject: Subject, seq: u64, redelivered: bool) -> Record {
    at(
        1,
        Node::Orders(1),
        Event::Deliver {
            subject,
            seq,
            replica: Node::Orders(1),
            redelivered,
        },
    )
}

fn trace_of(records: Vec<Record>) -> Trace {
    let mut trace = Trace::default();
    for r in &records {
        trace.push(r);
    }
    trace
}

#[test]
fn reordering_is_a_later_event_of_a_stream_delivered_before_an_earlier_one() {
    use Subject::*;
    let in_order = trace_of(vec![
        publish(TicketCreated, 1, 1, None),
        publish(TicketUpdated, 1, 1, None),
        publish(TicketCreated, 2, 2, None),
        deliver(TicketCreated, 2, false),
        deliver(TicketCreated, 1, false),
        deliver(TicketUpdated, 1, false),
        // A redelivery of an event already delivered overtakes nothing.
        deliver(TicketCreated, 1, true),
    ]);
    assert!(!exercised(&in_order, Property::Reordering));
    let overtaken = trace_of(vec![
        publish(TicketCreated, 1, 1, None),
        publish(TicketUpdated, 1, 1, None),
        deliver(TicketUpdated, 1, false),
    ]);
    assert!(exercised(&overtaken, Property::Reordering));
    // An order's cancellation before its creation, across two channels.
    let orders = trace_of(vec![
        publish(OrderCreated, 1, 9, Some(4)),
        publish(OrderCancelled, 1, 9, Some(4)),
        deliver(OrderCancelled, 1, false),
    ]);
    assert!(exercised(&orders, Property::Reordering));
    assert!(!exercised(&orders, Property::Redelivery));
    assert!(exercised(&in_order, Property::Redelivery));
}

#[test]
fn orders_race_when_two_checks_pass_before_an_insert() {
    let check = |ticket| {
        at(
            1,
            Node::Orders(1),
            Event::ReservedCheck {
                replica: Node::Orders(1),
                ticket,
                order: None,
            },
        )
    };
    let one_after_the_other = trace_of(vec![
        check(7),
        order(2, 1, 7, OrderStatus::Created, Route::CreateOrder),
        check(7),
        check(8),
    ]);
    assert!(!exercised(&one_after_the_other, Property::OrdersRaced));
    let raced = trace_of(vec![check(7), check(8), check(7)]);
    assert!(exercised(&raced, Property::OrdersRaced));
}

#[test]
fn a_crash_exercises_a_handler_only_if_it_dropped_work() {
    let crash = |dropped_tasks| {
        trace_of(vec![at(
            1,
            Node::Faults,
            Event::Crash {
                target: Node::Orders(2),
                dropped_tasks,
            },
        )])
    };
    assert!(!exercised(&crash(0), Property::CrashMidHandler));
    assert!(exercised(&crash(2), Property::CrashMidHandler));
    assert_eq!(
        judge(Occ::On, &crash(2), &idle(), &Property::ALL).exercised,
        [Property::CrashMidHandler],
        "only the properties exercised, of those asked for"
    );
}

#[test]
fn a_crash_after_a_listener_wrote_and_before_it_acked_is_a_crash_after_write() {
    let replica = Node::Orders(2);
    let written = at(
        1,
        replica,
        Event::DbWrite {
            db: Db::Orders,
            by: Cause::Message(Subject::TicketUpdated, 5),
            ticket: 1,
            version: 1,
            title: "t".into(),
            price: 10,
            order_id: None,
        },
    );
    let acked = at(
        2,
        replica,
        Event::Ack {
            subject: Subject::TicketUpdated,
            seq: 5,
            replica,
        },
    );
    let crash = |target| {
        at(
            3,
            Node::Faults,
            Event::Crash {
                target,
                dropped_tasks: 1,
            },
        )
    };
    let unacked = trace_of(vec![written.clone(), crash(replica)]);
    assert!(exercised(&unacked, Property::CrashAfterWrite));
    let acked_first = trace_of(vec![written.clone(), acked, crash(replica)]);
    assert!(!exercised(&acked_first, Property::CrashAfterWrite));
    let another_node = trace_of(vec![written, crash(Node::Orders(1))]);
    assert!(!exercised(&another_node, Property::CrashAfterWrite));
}
