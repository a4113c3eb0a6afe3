//! Reservations as taught: create-order and cancel-order on the orders service, the tickets
//! service's order listeners, the 400 on a reserved edit, and the reservation invariants.

use crate::support::*;
use std::path::Path;
use ticketsim::check::findings::Violation;
use ticketsim::model::documents::OrderStatus;
use ticketsim::model::events::Subject;
use ticketsim::model::http::{Cause, Route};
use ticketsim::model::store::Db;
use ticketsim::scenario::expect::Invariant;
use ticketsim::sim::record::Event as T;
use ticketsim::Occ;
use ticketsim::{Outcome, Scenario};

/// One ticket ordered once, with `extra` appended to its `[[workload.reserve]]` step and
/// `head` before it.
fn reserve(head: &str, extra: &str) -> Scenario {
    let text = format!(
        r#"
        name = "reserve"
        description = "one ticket, one order"
        {head}
        [[workload.reserve]]
        tickets = 1
        title = "concert"
        price = 20
        {extra}
        "#
    );
    Scenario::parse(&text, Path::new("reserve.toml")).unwrap()
}

fn http(records: &[ticketsim::sim::record::Record], route: Route) -> Vec<u16> {
    records
        .iter()
        .filter_map(|r| match r.event {
            T::Http {
                request, status, ..
            } if request == route => Some(status),
            _ => None,
        })
        .collect()
}

#[test]
fn an_order_reserves_its_ticket_and_the_replica_follows() {
    for occ in Occ::ALL {
        let result = ticketsim::run(&reserve("", ""), 3, occ);
        let state = result.trace.final_state();
        let ticket = &state.tickets[&(Db::Tickets, 1)];
        assert_eq!(ticket.order_id, Some(1), "{occ}");
        assert_eq!(state.orders[&1].status, OrderStatus::Created, "{occ}");
        assert_eq!(state.orders[&1].ticket, 1, "{occ}");
        let records = result.trace.records();
        assert_eq!(http(records, Route::CreateOrder), [201], "{occ}");
        // The tickets service's listener wrote the reservation because of order:created #1,
        // then published ticket:updated naming the order.
        assert!(records.iter().any(|r| matches!(
            &r.event,
            T::DbWrite {
                db: Db::Tickets,
                by: Cause::Message(Subject::OrderCreated, 1),
                order_id: Some(1),
                ..
            }
        )));
        assert!(records.iter().any(|r| matches!(
            &r.event,
            T::Publish {
                subject: Subject::TicketUpdated,
                order: Some(1),
                ..
            }
        )));
        let report = &result.report;
        assert_eq!(report.outcome, Outcome::Converged, "{occ}");
        assert_eq!(report.violations, [], "{occ}");
        let replica = &state.tickets[&(Db::Orders, 1)];
        let expected = if occ.versioned() { 1 } else { 0 };
        assert_eq!(
            (ticket.version, replica.version),
            (expected, expected),
            "{occ}"
        );
    }
}

#[test]
fn a_reserved_ticket_cannot_be_edited() {
    // The owner changes the price 200 ms after the order, long after the reservation.
    let scenario = reserve("", "price-updates = [30]\nupdate-delay-ms = 200");
    for occ in Occ::ALL {
        let result = ticketsim::run(&scenario, 1, occ);
        let records = result.trace.records();
        assert_eq!(http(records, Route::UpdateTicket), [400], "{occ}");
        let state = result.trace.final_state();
        assert_eq!(state.tickets[&(Db::Tickets, 1)].price, 20, "{occ}");
        assert_eq!(result.report.outcome, Outcome::Converged, "{occ}");
    }
}

#[test]
fn a_cancelled_order_frees_its_ticket() {
    let scenario = reserve("", "cancel-after-ms = 100");
    for occ in Occ::ALL {
        let result = ticketsim::run(&scenario, 2, occ);
        let records = result.trace.records();
        assert_eq!(http(records, Route::CancelOrder), [204], "{occ}");
        let state = result.trace.final_state();
        assert_eq!(state.orders[&1].status, OrderStatus::Cancelled, "{occ}");
        assert_eq!(state.tickets[&(Db::Tickets, 1)].order_id, None, "{occ}");
        assert!(records.iter().any(|r| matches!(
            &r.event,
            T::DbWrite {
                db: Db::Tickets,
                by: Cause::Message(Subject::OrderCancelled, 1),
                order_id: None,
                ..
            }
        )));
        let stats = &result.report.stats;
        assert_eq!((stats.orders, stats.cancellations), (1, 1), "{occ}");
        assert_eq!(result.report.outcome, Outcome::Converged, "{occ}");
        assert_eq!(result.report.violations, [], "{occ}");
    }
}

#[test]
fn an_order_for_a_reserved_ticket_is_refused_unless_the_checks_race() {
    // Two orders per ticket at once: per ticket, either the second check saw the first order
    // (400, one order) or both checks passed (two orders, a double reservation).
    let scenario = scenario("double-reservation");
    let (mut refused, mut raced) = (0, 0);
    for seed in 0..3 {
        let result = ticketsim::run(&scenario, seed, Occ::On);
        let state = result.trace.final_state();
        let records = result.trace.records();
        for ticket in 1..=20 {
            let orders = state.orders.values().filter(|o| o.ticket == ticket).count();
            let saw_order = records.iter().any(|r| {
                matches!(r.event, T::ReservedCheck { ticket: t, order: Some(_), .. } if t == ticket)
            });
            let double = result.report.violations.iter().any(|v| {
                matches!(v, Violation::DoubleReservation { ticket: t, orders, .. } if *t == ticket && orders.len() == 2)
            });
            match (saw_order, orders, double) {
                (true, 1, false) => refused += 1,
                (false, 2, true) => raced += 1,
                other => panic!("seed {seed} ticket {ticket}: {other:?}"),
            }
        }
        let refusals = http(records, Route::CreateOrder)
            .iter()
            .filter(|&&s| s == 400)
            .count();
        assert_eq!(
            refusals,
            records
                .iter()
                .filter(|r| matches!(r.event, T::ReservedCheck { order: Some(_), .. }))
                .count()
        );
    }
    assert!(
        refused > 0 && raced > 0,
        "both happen: {refused} refused, {raced} raced"
    );
}

#[test]
fn without_publish_on_reserve_the_replica_falls_a_version_behind() {
    let scenario = reserve("[tickets-service]\npublish-on-reserve = false", "");
    for occ in Occ::ALL {
        let result = ticketsim::run(&scenario, 5, occ);
        let records = result.trace.records();
        let updates = records
            .iter()
            .filter(|r| {
                matches!(
                    r.event,
                    T::Publish {
                        subject: Subject::TicketUpdated,
                        ..
                    }
                )
            })
            .count();
        assert_eq!(updates, 0, "{occ}: the reservation is not published");
        let state = result.trace.final_state();
        assert_eq!(state.tickets[&(Db::Tickets, 1)].order_id, Some(1), "{occ}");
        let outcome = result.report.outcome;
        if occ.versioned() {
            assert_eq!(outcome, Outcome::Diverged, "{occ}: version 1 against 0");
            assert_eq!(result.report.divergences[0].field, "version");
        } else {
            assert_eq!(outcome, Outcome::Converged, "{occ}: nothing is versioned");
        }
    }
}

#[test]
fn each_invariant_violation_names_ticket_orders_and_time() {
    let result = ticketsim::run(&scenario("double-reservation"), 0, Occ::Off);
    let json = serde_json::to_value(&result.report).unwrap();
    let v = &json["violations"][0];
    assert_eq!(v["kind"], "double-reservation");
    assert!(v["ticket"].is_u64() && v["t_us"].is_u64(), "{v}");
    assert_eq!(v["orders"].as_array().unwrap().len(), 2, "{v}");
    let first = &result.report.violations[0];
    assert_eq!(first.invariant(), Some(Invariant::AtMostOneActiveOrder));
}
