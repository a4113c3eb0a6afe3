//! The services the course adds after section 19, against the course's code
//! (docs/course-later-services.md): the expiration service's Bull job and the orders service's
//! expiration listener, the payments service's copy of the orders, its route and
//! `payment:created`, and the invariants they promise. One ticket per test, pinned seeds.

use std::path::Path;
use ticketsim::check::findings::Violation;
use ticketsim::model::decisions::{DropReason, Refusal};
use ticketsim::model::documents::OrderStatus;
use ticketsim::model::events::Subject;
use ticketsim::model::http::{Cause, Route};
use ticketsim::model::node::Node;
use ticketsim::sim::record::{Event as T, Record};
use ticketsim::{Occ, Outcome, RunResult, Scenario};

/// One ticket ordered once, on two replicas, with `topology` and `step` lines added.
fn one_ticket(topology: &str, step: &str, cures: &str) -> Scenario {
    let text = format!(
        r#"
        name = "later"
        description = "one ticket"
        [topology]
        orders-replicas = 2
        {topology}
        [cures]
        {cures}
        [[workload.reserve]]
        tickets = 1
        title = "concert"
        price = 20
        orders = 1
        {step}
        "#
    );
    Scenario::parse(&text, Path::new("later.toml")).unwrap()
}

fn run(s: &Scenario, seed: u64, occ: Occ) -> RunResult {
    ticketsim::run(s, seed, occ)
}

/// Each order's writes in the orders service, as (order, status, what wrote it).
fn order_writes(records: &[Record]) -> Vec<(u32, OrderStatus, Cause)> {
    records
        .iter()
        .filter_map(|r| match r.event {
            T::OrderWrite {
                order, status, by, ..
            } => Some((order, status, by)),
            _ => None,
        })
        .collect()
}

/// When `POST /api/orders` built the first order (right after its is-reserved check), in µs:
/// the moment its `expiresAt` is stamped from.
fn built_at(records: &[Record]) -> u64 {
    records
        .iter()
        .find(|r| matches!(r.event, T::ReservedCheck { .. }))
        .map(|r| r.t_us)
        .unwrap()
}

#[test]
fn an_order_left_unpaid_expires_and_frees_its_ticket() {
    for (window, topology) in [
        (60_000, "expiration-service = true"),
        (
            5_000,
            "expiration-service = true\nexpiration-window-ms = 5000",
        ),
    ] {
        let s = one_ticket(topology, "", "");
        let result = run(&s, 0, Occ::On);
        let records = result.trace.records();
        // The job falls due at expiresAt: the order's creation (by the handler's clock, in
        // ms) plus the window.
        let (job, due_ms) = records
            .iter()
            .find_map(|r| match r.event {
                T::JobAdded { job, due_ms, .. } => Some((job, due_ms)),
                _ => None,
            })
            .unwrap();
        assert_eq!(due_ms, built_at(records) / 1000 + window);
        let active = records
            .iter()
            .find(|r| matches!(r.event, T::JobActive { job: j, run: 1, .. } if j == job))
            .unwrap();
        assert_eq!(active.t_us, due_ms * 1000);
        assert_eq!(active.node, Node::Expiration);
        // The orders service cancels the order, and the ticket is free again.
        assert_eq!(
            order_writes(records).last().map(|w| (w.0, w.1)),
            Some((1, OrderStatus::Cancelled))
        );
        assert!(matches!(
            order_writes(records).last().unwrap().2,
            Cause::Message(Subject::ExpirationComplete, 1)
        ));
        let state = result.trace.final_state();
        let ticket = state
            .tickets
            .iter()
            .find(|((db, _), _)| *db == ticketsim::model::store::Db::Tickets)
            .unwrap()
            .1;
        assert_eq!(ticket.order_id, None, "window {window}");
        assert_eq!(result.report.outcome, Outcome::Converged);
        assert_eq!(result.report.violations, []);
        assert_eq!(result.report.stats.expirations, 1);
    }
}

#[test]
fn a_paid_order_is_complete_and_its_expiry_changes_nothing() {
    let s = one_ticket(
        "expiration-service = true\npayments-service = true",
        "pay-after-ms = 1000",
        "",
    );
    for occ in Occ::ALL {
        let result = run(&s, 0, occ);
        let records = result.trace.records();
        let statuses: Vec<OrderStatus> = order_writes(records).iter().map(|w| w.1).collect();
        assert_eq!(
            statuses,
            [OrderStatus::Created, OrderStatus::Complete],
            "{occ}"
        );
        // The charge comes before the payment record, and both before payment:created.
        let kinds: Vec<&str> = records
            .iter()
            .filter_map(|r| match r.event {
                T::Charge { .. } => Some("charge"),
                T::PaymentWrite { .. } => Some("payment"),
                T::Publish {
                    subject: Subject::PaymentCreated,
                    ..
                } => Some("payment:created"),
                _ => None,
            })
            .collect();
        assert_eq!(kinds, ["charge", "payment", "payment:created"], "{occ}");
        // The expiry finds the order complete and acks it as it is (the course's one check).
        assert!(
            records.iter().any(|r| matches!(
                r.event,
                T::Drop {
                    subject: Subject::ExpirationComplete,
                    reason: DropReason::OrderComplete,
                    ..
                }
            )),
            "{occ}"
        );
        assert_eq!(result.report.outcome, Outcome::Converged, "{occ}");
        assert_eq!(result.report.violations, [], "{occ}");
        assert_eq!(
            (result.report.stats.charges, result.report.stats.payments),
            (1, 1)
        );
    }
}

/// The order cancelled at once, another user ordering a second later: a minute after the first
/// order, its expiry cancels it again and the tickets service releases the second order's
/// reservation (R1 of the notes). With status guards the expiry of a cancelled order is acked
/// as it is; so it is with `dedup`, as applied already.
#[test]
fn a_stale_expiration_releases_the_next_orders_reservation() {
    let step = "cancel-after-ms = 0\nreorder-after-ms = 1000";
    let course = one_ticket("expiration-service = true", step, "");
    let result = run(&course, 0, Occ::On);
    let records = result.trace.records();
    let first: Vec<(OrderStatus, Cause)> = order_writes(records)
        .into_iter()
        .filter(|w| w.0 == 1)
        .map(|w| (w.1, w.2))
        .collect();
    assert_eq!(
        first,
        [
            (OrderStatus::Created, Cause::Request(Route::CreateOrder)),
            (OrderStatus::Cancelled, Cause::Request(Route::CancelOrder)),
            (
                OrderStatus::Cancelled,
                Cause::Message(Subject::ExpirationComplete, 1)
            ),
        ]
    );
    let released: Vec<&Violation> = result
        .report
        .violations
        .iter()
        .filter(|v| matches!(v, Violation::ReleasedByAnotherOrder { .. }))
        .collect();
    assert!(
        matches!(
            released[..],
            [Violation::ReleasedByAnotherOrder {
                ticket: 1,
                held_by: 2,
                cancelled: 1,
                ..
            }]
        ),
        "{released:?}"
    );

    let cured = one_ticket("expiration-service = true", step, "status-guards = true");
    for (s, occ, reason) in [
        (&cured, Occ::On, DropReason::StatusGuard),
        (&course, Occ::Dedup, DropReason::AlreadyApplied),
    ] {
        let result = run(s, 0, occ);
        assert!(
            result.trace.records().iter().any(|r| matches!(
                r.event,
                T::Drop { subject: Subject::ExpirationComplete, reason: why, .. } if why == reason
            )),
            "{occ}"
        );
        assert_eq!(result.report.violations, [], "{occ}");
        assert_eq!(result.report.outcome, Outcome::Converged, "{occ}");
    }
}

/// A duplicate of the order's `order:created` (stored twice by the publisher-retry fault):
/// the payments service's insert of its copy hits a duplicate key and throws on every
/// redelivery, with or without OCC; `dedup` acks the copy that exists.
#[test]
fn a_duplicate_order_created_loops_in_payments_unless_deduplicated() {
    let s = {
        let mut s = one_ticket("payments-service = true", "", "");
        s.faults.publisher_retry = 1.0;
        s
    };
    let at_payments = |records: &[Record]| -> Vec<String> {
        records
            .iter()
            .filter_map(|r| match r.event {
                T::Nack {
                    subject: Subject::OrderCreated,
                    replica: Node::Payments,
                    reason,
                    ..
                } => Some(format!("nack {}", reason.as_str())),
                T::Drop {
                    subject: Subject::OrderCreated,
                    replica: Node::Payments,
                    reason,
                    ..
                } => Some(format!("drop {reason:?}")),
                _ => None,
            })
            .collect()
    };
    for occ in [Occ::Off, Occ::On] {
        let result = run(&s, 0, occ);
        let seen = at_payments(result.trace.records());
        assert!(seen.len() > 1, "{occ}: {seen:?}");
        assert!(
            seen.iter()
                .all(|e| *e == format!("nack {}", Refusal::DuplicateKey.as_str())),
            "{occ}: {seen:?}"
        );
        assert_eq!(result.report.outcome, Outcome::Stuck, "{occ}");
    }
    let result = run(&s, 0, Occ::Dedup);
    assert_eq!(at_payments(result.trace.records()), ["drop Duplicate"]);
    assert_eq!(result.report.outcome, Outcome::Converged);
}

/// Paid, then cancelled by its buyer: DELETE has no status check, so the complete order is
/// cancelled (`paid-order-never-cancelled`), and its `order:cancelled` carries a version two
/// ahead of the payments service's copy, which never finds it (stuck with OCC). With status
/// guards the cancellation is refused with 400.
#[test]
fn cancelling_a_paid_order_breaks_the_payments_copy_unless_guarded() {
    let topology = "expiration-service = true\npayments-service = true";
    let step = "pay-after-ms = 100\ncancel-after-ms = 2000";
    let result = run(&one_ticket(topology, step, ""), 0, Occ::On);
    assert_eq!(result.report.outcome, Outcome::Stuck);
    assert!(result.report.violations.iter().any(|v| matches!(
        v,
        Violation::PaidOrderCancelled {
            ticket: 1,
            order: 1,
            ..
        }
    )));
    assert!(result.trace.records().iter().any(|r| matches!(
        r.event,
        T::Nack {
            subject: Subject::OrderCancelled,
            replica: Node::Payments,
            reason: Refusal::NotFound,
            ..
        }
    )));
    let cured = run(
        &one_ticket(topology, step, "status-guards = true"),
        0,
        Occ::On,
    );
    assert!(cured.trace.records().iter().any(|r| matches!(
        r.event,
        T::Http {
            request: Route::CancelOrder,
            status: 400,
            ..
        }
    )));
    assert_eq!(cured.report.outcome, Outcome::Converged);
    assert_eq!(cured.report.violations, []);
}

/// Two paid orders of one ticket: the second buyer pays after the first order was expired and
/// revived by its late payment (R2). The invariant names both orders.
#[test]
fn a_ticket_sold_twice_names_both_orders() {
    let s = one_ticket(
        "expiration-service = true\npayments-service = true",
        "pay-after-ms = 59800\nreorder-after-ms = 60100",
        "",
    );
    let sold_twice = (0..20)
        .flat_map(|seed| run(&s, seed, Occ::On).report.violations)
        .find_map(|v| match v {
            Violation::SoldTwice { ticket, orders, .. } => Some((ticket, orders)),
            _ => None,
        });
    assert_eq!(sold_twice, Some((1, vec![1, 2])));
}

/// A crash of the payments service between its charge and its payment record: the charge has
/// no record (`every-charge-recorded`), in every mode.
#[test]
fn a_crash_after_the_charge_leaves_a_charge_without_a_record() {
    let mut s = one_ticket("payments-service = true", "pay-after-ms = 100", "");
    let text = r#"
        name = "crash"
        description = "crash"
        [topology]
        payments-service = true
        [faults]
        crash = [{ node = "payments", at-ms = 500, restart-after-ms = 1000 }]
        [[workload.reserve]]
        tickets = 1
        price = 20
        pay-after-ms = 100
        "#;
    s.faults = Scenario::parse(text, Path::new("crash.toml"))
        .unwrap()
        .faults;
    let unrecorded = |occ| {
        (0..40).find_map(|seed| {
            run(&s, seed, occ)
                .report
                .violations
                .into_iter()
                .find(|v| matches!(v, Violation::UnrecordedCharge { .. }))
                .map(|v| (seed, v))
        })
    };
    for occ in Occ::ALL {
        let Some((seed, Violation::UnrecordedCharge { order, charge, .. })) = unrecorded(occ)
        else {
            panic!("{occ}: no seed of 0..40 charges before the crash and records after it");
        };
        assert_eq!((order, charge), (1, 1), "{occ} seed {seed}");
    }
}

/// Naming the payments service in a fault, or paying, without the service is an error at its
/// key.
#[test]
fn the_later_services_must_run_to_be_named() {
    let err = |text: &str| Scenario::parse(text, Path::new("x.toml")).unwrap_err();
    let e = err(r#"
        name = "x"
        description = "x"
        [[workload.reserve]]
        tickets = 1
        price = 20
        pay-after-ms = 100
        "#);
    assert_eq!(
        e.key.as_deref(),
        Some("workload.reserve[0].pay-after-ms"),
        "{e}"
    );
    assert!(e.message.contains("payments-service = true"), "{e}");
    let e = err(r#"
        name = "x"
        description = "x"
        [faults]
        crash = [{ node = "expiration", at-ms = 5, restart-after-ms = 5 }]
        [[workload.reserve]]
        tickets = 1
        price = 20
        "#);
    assert_eq!(e.key.as_deref(), Some("faults.crash[0].node"), "{e}");
    assert!(e.message.contains("expiration-service = true"), "{e}");
}

/// The cure of the late payment, seed for seed: on the first seed where the course's design
/// sells the ticket to both buyers, status guards refund each payment that lands after its
/// order expired (here both buyers paid late), leave those orders cancelled and sell nothing
/// twice: every charge is recorded and refunded, and no invariant breaks.
#[test]
fn status_guards_refund_a_late_payment_instead_of_reviving_its_order() {
    let topology = "expiration-service = true\npayments-service = true";
    let step = "pay-after-ms = 59800\nreorder-after-ms = 60100";
    let course = one_ticket(topology, step, "");
    let cured = one_ticket(topology, step, "status-guards = true");
    let seed = (0..20)
        .find(|&seed| {
            run(&course, seed, Occ::On)
                .report
                .violations
                .iter()
                .any(|v| matches!(v, Violation::SoldTwice { .. }))
        })
        .expect("a seed of 0..20 sells the ticket twice");
    assert_eq!(seed, 0);
    let course_run = run(&course, seed, Occ::On);
    let last = |records: &[Record], order| {
        order_writes(records)
            .iter()
            .rev()
            .find(|w| w.0 == order)
            .map(|w| w.1)
    };
    // As taught, both late payments revive their expired orders.
    let complete = Some(OrderStatus::Complete);
    assert_eq!(last(course_run.trace.records(), 1), complete);
    assert_eq!(last(course_run.trace.records(), 2), complete);

    let result = run(&cured, seed, Occ::On);
    let records = result.trace.records();
    let refunds: Vec<(u32, u32)> = records
        .iter()
        .filter_map(|r| match r.event {
            T::Refund { charge, order, .. } => Some((charge, order)),
            _ => None,
        })
        .collect();
    assert_eq!(refunds, [(1, 1), (2, 2)]);
    let cancelled = Some(OrderStatus::Cancelled);
    assert_eq!(last(records, 1), cancelled);
    assert_eq!(last(records, 2), cancelled);
    assert_eq!(result.report.violations, []);
    assert_eq!(result.report.stats.guarded, 2);
    assert_eq!(result.report.stats.charges, 2);
}

/// A crash of the expiration service while its worker holds a job (between taking it and
/// the Redis call that moves it to completed, under a millisecond): the job stalls and runs
/// again once its lock lapses, 30 s later, so the order still expires. The first seed of 0..20
/// whose crash, at the millisecond the job falls due, lands in that window.
#[test]
fn a_crash_of_the_expiration_service_stalls_its_job_and_runs_it_again() {
    let s = one_ticket("expiration-service = true", "", "");
    let crashed_at = |seed: u64| {
        let active = run(&s, seed, Occ::On)
            .trace
            .records()
            .iter()
            .find(|r| matches!(r.event, T::JobActive { .. }))
            .map(|r| r.t_us)
            .unwrap();
        let text = format!(
            r#"
            name = "x"
            description = "x"
            [topology]
            expiration-service = true
            [faults]
            crash = [{{ node = "expiration", at-ms = {}, restart-after-ms = 1000 }}]
            [[workload.reserve]]
            tickets = 1
            price = 20
            "#,
            active / 1000
        );
        let mut crashed = s.clone();
        crashed.faults = Scenario::parse(&text, Path::new("x.toml")).unwrap().faults;
        run(&crashed, seed, Occ::On)
    };
    let (seed, result) = (0..20)
        .map(|seed| (seed, crashed_at(seed)))
        .find(|(_, r)| {
            r.trace
                .records()
                .iter()
                .any(|r| matches!(r.event, T::JobStalled { .. }))
        })
        .expect("a seed of 0..20 crashes the worker while it holds the job");
    let records = result.trace.records();
    let (job, retry_at_ms, t_us) = records
        .iter()
        .find_map(|r| match r.event {
            T::JobStalled {
                job, retry_at_ms, ..
            } => Some((job, retry_at_ms, r.t_us)),
            _ => None,
        })
        .unwrap();
    assert_eq!(job, 1, "seed {seed}");
    assert_eq!(retry_at_ms, Some(t_us / 1000 + 30_000), "seed {seed}");
    let runs: Vec<(u32, u64)> = records
        .iter()
        .filter_map(|r| match r.event {
            T::JobActive { run, .. } => Some((run, r.t_us / 1000)),
            _ => None,
        })
        .collect();
    assert_eq!(
        runs.iter().map(|r| r.0).collect::<Vec<_>>(),
        [1, 2],
        "seed {seed}"
    );
    assert!(runs[1].1 >= t_us / 1000 + 30_000, "seed {seed}: {runs:?}");
    assert_eq!(
        order_writes(records).last().map(|w| w.1),
        Some(OrderStatus::Cancelled),
        "seed {seed}"
    );
    assert_eq!(result.report.outcome, Outcome::Converged, "seed {seed}");
}
