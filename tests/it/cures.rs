//! The cures beyond the course (`[cures]`, docs/cures.md): each off by default, each curing a
//! race of the catalogue. `unique-active-order`, a unique partial index on the orders
//! collection, cures the double reservation (#5): the second of two racing inserts fails with a
//! duplicate key and its request is answered 400.

use crate::support::*;
use std::path::Path;
use ticketsim::model::documents::OrderStatus;
use ticketsim::model::http::{Cause, Route};
use ticketsim::model::store::WriteError;
use ticketsim::scenario::expect::Invariant;
use ticketsim::sim::record::{Event as T, Record};
use ticketsim::{Occ, Outcome, Scenario};

/// One ticket ordered by two users at once, on four replicas, with the index or without.
fn two_orders(cured: bool) -> Scenario {
    let text = format!(
        r#"
        name = "two-orders"
        description = "one ticket, two orders at once"
        [cures]
        unique-active-order = {cured}
        [[workload.reserve]]
        tickets = 1
        title = "concert"
        price = 20
        orders = 2
        "#
    );
    Scenario::parse(&text, Path::new("two-orders.toml")).unwrap()
}

/// The statuses of the create-order responses, in the order they were answered.
fn create_order_statuses(records: &[Record]) -> Vec<u16> {
    records
        .iter()
        .filter_map(|r| match r.event {
            T::Http {
                request: Route::CreateOrder,
                status,
                ..
            } => Some(status),
            _ => None,
        })
        .collect()
}

/// The orders of the run's final state whose status reserves their ticket.
fn active_orders(result: &ticketsim::RunResult) -> usize {
    let state = result.trace.final_state();
    state
        .orders
        .values()
        .filter(|o| o.status != OrderStatus::Cancelled)
        .count()
}

/// The create-order inserts the orders database refused, as (order, error).
fn refused_inserts(records: &[Record]) -> Vec<(u32, WriteError)> {
    records
        .iter()
        .filter_map(|r| match r.event {
            T::OrderConflict {
                by: Cause::Request(Route::CreateOrder),
                order,
                error,
                ..
            } => Some((order, error)),
            _ => None,
        })
        .collect()
}

/// Seeds 0 and 1 of one ticket ordered twice at once: both requests pass the is-reserved check
/// before either inserts (pinned). Without the index both get 201 and the ticket is reserved
/// twice; with it the database refuses the second insert with a duplicate key, that request
/// gets 400, one order is active and the run converges with no invariant broken. Up to the
/// refusal the two runs are the same run: the index changes nothing else.
#[test]
fn with_the_index_the_second_of_two_racing_orders_gets_400_and_one_order_is_active() {
    for seed in [0, 1] {
        for occ in Occ::ALL {
            let course = ticketsim::run(&two_orders(false), seed, occ);
            let cured = ticketsim::run(&two_orders(true), seed, occ);
            let (a, b) = (course.trace.records(), cured.trace.records());

            assert_eq!(create_order_statuses(a), [201, 201], "seed {seed} {occ}");
            assert_eq!(active_orders(&course), 2, "seed {seed} {occ}");
            assert!(
                course
                    .report
                    .violations
                    .iter()
                    .any(|v| v.invariant() == Some(Invariant::AtMostOneActiveOrder)),
                "seed {seed} {occ}: the course's design reserves the ticket twice"
            );
            assert_eq!(refused_inserts(a), [], "seed {seed} {occ}");

            let mut statuses = create_order_statuses(b);
            statuses.sort();
            assert_eq!(statuses, [201, 400], "seed {seed} {occ}");
            assert_eq!(active_orders(&cured), 1, "seed {seed} {occ}");
            let refused = refused_inserts(b);
            assert_eq!(refused.len(), 1, "seed {seed} {occ}");
            assert_eq!(refused[0].1, WriteError::DuplicateKey, "seed {seed} {occ}");
            assert_eq!(
                cured.report.outcome,
                Outcome::Converged,
                "seed {seed} {occ}"
            );
            assert_eq!(cured.report.violations, [], "seed {seed} {occ}");

            // The same run until the refusal, where the course's run stores the order.
            let at = b
                .iter()
                .position(|r| matches!(r.event, T::OrderConflict { .. }))
                .unwrap();
            assert_eq!(a[..at], b[..at], "seed {seed} {occ}");
            assert!(
                matches!(a[at].event, T::OrderWrite { order, .. } if order == refused[0].0),
                "seed {seed} {occ}: {:?}",
                a[at]
            );
        }
    }
}

/// Off by default: a scenario without `[cures]` runs exactly as one that says
/// `unique-active-order = false`, trace for trace.
#[test]
fn the_cure_is_off_by_default() {
    let text = r#"
        name = "two-orders"
        description = "one ticket, two orders at once"
        [[workload.reserve]]
        tickets = 1
        title = "concert"
        price = 20
        orders = 2
        "#;
    let default = Scenario::parse(text, Path::new("two-orders.toml")).unwrap();
    assert!(!default.cures.unique_active_order);
    assert_eq!(default, two_orders(false));
    for seed in 0..4 {
        let a = ticketsim::run(&default, seed, Occ::On);
        let b = ticketsim::run(&two_orders(false), seed, Occ::On);
        assert_eq!(a.report.trace_hash, b.report.trace_hash, "seed {seed}");
    }
}

/// Pinned: seed 0 of the catalogue's double-reservation reserves tickets twice in every mode;
/// the same seed of double-reservation-cured, the same workload with the index, reserves none
/// twice, and the losing requests are answered 400, each after a duplicate key.
#[test]
fn seed_0_of_the_race_reserves_twice_and_the_cured_scenario_does_not() {
    let race = scenario("double-reservation");
    let cured = scenario("double-reservation-cured");
    assert_eq!(race.workload, cured.workload, "the same workload");
    assert!(!race.cures.unique_active_order && cured.cures.unique_active_order);
    for occ in Occ::ALL {
        let before = ticketsim::run(&race, 0, occ);
        let after = ticketsim::run(&cured, 0, occ);
        let doubles = |r: &ticketsim::RunResult| {
            r.report
                .violations
                .iter()
                .filter(|v| v.invariant() == Some(Invariant::AtMostOneActiveOrder))
                .count()
        };
        let count = |records: &[Record], status: u16| {
            create_order_statuses(records)
                .into_iter()
                .filter(|&s| s == status)
                .count()
        };
        let (a, b) = (before.trace.records(), after.trace.records());
        let got = (
            doubles(&before),
            count(a, 201),
            count(a, 400),
            doubles(&after),
            count(b, 201),
            count(b, 400),
            refused_inserts(b).len(),
            active_orders(&after),
        );
        // (doubles, 201s, 400s) of the race, then of the cured run, its refused inserts and its
        // active orders: the check refuses 4 requests in both; the 16 that raced past it
        // reserve a ticket twice in the race and are refused by the index in the cured run.
        assert_eq!(got, (16, 36, 4, 0, 20, 20, 16, 20), "{occ}");
        assert_eq!(before.report.outcome, Outcome::Converged, "{occ}");
        assert_eq!(after.report.outcome, Outcome::Converged, "{occ}");
        assert_eq!(after.report.violations, [], "{occ}");
    }
}

/// The story says the refusal in words: the index, not a version, refused the order.
#[test]
fn the_story_tells_the_duplicate_key_of_the_index() {
    use ticketsim::present::story::{Mark, Story};
    let run = ticketsim::run(&two_orders(true), 0, Occ::On);
    let refused = refused_inserts(run.trace.records());
    let story = Story::of(&run.trace, &run.report, 4, 1);
    let text = story.render(&|_: Mark, s: &str| s.to_owned());
    let said = format!(
        "cannot save order {} for ticket 1: another order already holds it (unique index on active orders)",
        refused[0].0
    );
    assert!(text.contains(&said), "{text}");
    let step = story.steps.iter().find(|s| s.text == said).unwrap();
    assert_eq!(step.mark, Mark::Refused);
    assert_eq!(
        step.label,
        format!("save order {}: duplicate key", refused[0].0)
    );
}

/// `[cures]` is read like every table: a wrong type or an unknown key is an error that names
/// the file, the line and the key, and lists what is allowed.
#[test]
fn a_bad_cures_table_is_refused_with_its_file_line_and_key() {
    let with = |cures: &str| {
        let text = format!(
            "name = \"c\"\ndescription = \"c\"\n[cures]\n{cures}\n[[workload.reserve]]\ntickets = 1\nprice = 1\n"
        );
        Scenario::parse(&text, Path::new("c.toml")).unwrap_err()
    };
    let e = with("unique-active-order = \"yes\"");
    assert_eq!(e.position, Some((4, 23)), "{e}");
    assert_eq!(e.key.as_deref(), Some("cures.unique-active-order"), "{e}");
    assert!(e.message.contains("expected a boolean"), "{e}");
    assert!(
        e.to_string()
            .starts_with("c.toml:4:23: key `cures.unique-active-order`"),
        "{e}"
    );
    let e = with("unique-active-orders = true");
    assert_eq!(e.position.map(|p| p.0), Some(4), "{e}");
    assert_eq!(e.key.as_deref(), Some("cures.unique-active-orders"), "{e}");
    assert!(
        e.message
            .contains("unknown field `unique-active-orders`, expected `unique-active-order`"),
        "{e}"
    );
    let e = with("unique-active-order = 1");
    assert_eq!(e.key.as_deref(), Some("cures.unique-active-order"), "{e}");
}
