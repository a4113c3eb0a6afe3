//! The story's words for the services the course adds after section 19: the expiration
//! service's Bull queue, the payments service's copy of the orders, its payments and its
//! charges, and the refusals and drops of their listeners. The reader hands it the records
//! about the story's ticket (or one of its orders); it says who acts, how the diagram draws it
//! and how it is told.

use crate::model::decisions::{DropReason, Refusal};
use crate::model::documents::{OrderId, OrderStatus, TicketId};
use crate::model::events::Subject;
use crate::model::http::{Cause, Route};
use crate::model::node::Node;
use crate::model::store::WriteError;
use crate::present::story::step::{Arrow, Lane, Mark};
use crate::present::story::wording::{format_ms, Said};
use crate::sim::record::Event;

/// A step of the later services: who acts, what is said, how it is drawn, its mark.
pub(super) type LaterStep = (Lane, Said, Arrow, Mark);

/// The step `event`, recorded on the lane `at`, makes in the story of `ticket`, whose orders
/// are `mine`; `None` when it is not about them, or not one of the later services' records.
pub(super) fn read(
    event: &Event,
    at: Lane,
    ticket: TicketId,
    mine: &[OrderId],
) -> Option<LaterStep> {
    let note = |lane: Lane, said: Said, mark: Mark| Some((lane, said, Arrow::Note(lane), mark));
    match event {
        Event::JobAdded {
            job,
            order,
            ticket: t,
            due_ms,
        } if *t == ticket => note(
            Lane::Expiration,
            (
                format!(
                    "queues job {job} to expire order {order} at {}",
                    format_ms(due_ms * 1000)
                ),
                format!("job {job}: order {order} due {}", format_ms(due_ms * 1000)),
            ),
            Mark::Plain,
        ),
        Event::JobActive {
            job,
            order,
            ticket: t,
            run,
        } if *t == ticket => {
            let again = if *run > 1 { " again" } else { "" };
            note(
                Lane::Expiration,
                (
                    format!("job {job} falls due: order {order}'s time is up; its worker runs it{again}"),
                    format!("job {job} due{again}"),
                ),
                Mark::Plain,
            )
        }
        Event::JobStalled {
            job,
            order,
            retry_at_ms,
        } if mine.contains(order) => {
            let text = match retry_at_ms {
                Some(ms) => format!(
                    "job {job} (order {order}) was running when its worker died: it stalls, and runs again at {}",
                    format_ms(ms * 1000)
                ),
                None => format!(
                    "job {job} (order {order}) stalls a second time and fails for good: order {order} never expires"
                ),
            };
            note(
                Lane::Expiration,
                (text, format!("job {job} stalled")),
                Mark::Fault,
            )
        }
        Event::Charge {
            charge,
            order,
            ticket: t,
            amount,
        } if *t == ticket => note(
            Lane::Payments,
            (
                format!("charges the buyer of order {order} {amount} (charge {charge})"),
                format!("charge {charge}: {amount}"),
            ),
            Mark::Plain,
        ),
        Event::PaymentWrite {
            payment,
            order,
            charge,
            ..
        } if mine.contains(order) => note(
            Lane::Payments,
            (
                format!("saves payment {payment} of order {order} (charge {charge})"),
                format!("save payment {payment}"),
            ),
            Mark::Plain,
        ),
        Event::PaymentsOrderWrite {
            by,
            order,
            status,
            ticket: t,
            ..
        } if *t == ticket => {
            let text = match by {
                Cause::Message(Subject::OrderCreated, _) => {
                    format!("saves its copy of order {order} ({})", status.as_str())
                }
                _ => format!("saves its copy of order {order} as {}", status.as_str()),
            };
            note(
                Lane::Payments,
                (text, format!("save copy of order {order}")),
                Mark::Plain,
            )
        }
        Event::PaymentsOrderConflict {
            order,
            status,
            ticket: t,
            error,
            ..
        } if *t == ticket => {
            let text = match error {
                WriteError::DuplicateKey => {
                    format!("cannot insert its copy of order {order}: it exists already (duplicate key)")
                }
                WriteError::VersionConflict => format!(
                    "tries to save its copy of order {order} as {}: version conflict",
                    status.as_str()
                ),
            };
            note(
                Lane::Payments,
                (text, format!("save order {order}: conflict")),
                Mark::Refused,
            )
        }
        Event::Guarded { order, ticket: t } if *t == ticket => note(
            at,
            (
                format!("a status guard refuses the request for order {order}: it is not in the status the step changes"),
                format!("order {order}: guarded"),
            ),
            Mark::Refused,
        ),
        Event::Refund {
            charge,
            order,
            ticket: t,
        } if *t == ticket => note(
            Lane::Payments,
            (
                format!("refunds charge {charge}: order {order} was cancelled before its payment arrived (status guard)"),
                format!("refund {charge}"),
            ),
            Mark::Applied,
        ),
        _ => None,
    }
}

/// Whether the later services' words tell a listener's refusal or drop: a listener of the
/// payments service, or of the later services' own events.
pub(super) fn tells(subject: Subject, replica: Node) -> bool {
    replica == Node::Payments
        || matches!(
            subject,
            Subject::ExpirationComplete | Subject::PaymentCreated
        )
}

/// A listener of the later services throws: why, and that no ack goes back.
pub(super) fn nack(
    subject: Subject,
    seq: u64,
    order: Option<OrderId>,
    version: Option<u64>,
    reason: Refusal,
) -> Said {
    let o = order.map_or_else(|| "?".to_owned(), |o| o.to_string());
    let why = match (reason, subject, version) {
        (Refusal::NotFound, Subject::OrderCancelled, Some(v)) => format!(
            "looks for its copy of order {o} at version {}, and finds none",
            v.saturating_sub(1)
        ),
        (Refusal::NotFound, _, _) => format!("finds no order {o}"),
        (Refusal::DuplicateKey, _, _) => {
            format!("cannot insert its copy of order {o}: it exists already (duplicate key)")
        }
        (Refusal::VersionConflict, _, _) => "its save hits a version conflict".to_owned(),
        (Refusal::PublishFailed, _, _) => "its own publish fails".to_owned(),
        (r, _, _) => format!("refuses it ({})", r.as_str()),
    };
    (
        format!("{why}: throws, so no ack for {subject} #{seq}"),
        format!("no ack for {subject} #{seq}"),
    )
}

/// A listener of the later services acks without writing: why.
pub(super) fn not_applied(
    subject: Subject,
    seq: u64,
    order: Option<OrderId>,
    reason: DropReason,
) -> Said {
    let o = order.map_or_else(|| "?".to_owned(), |o| o.to_string());
    let why = match reason {
        DropReason::OrderComplete => format!("order {o} is complete (the course's one check)"),
        DropReason::StatusGuard => format!("order {o} is not in the status this step changes"),
        DropReason::AlreadyApplied | DropReason::Stale => {
            format!("its effect on order {o} is there already")
        }
        DropReason::Duplicate => format!("it has its copy of order {o} already"),
    };
    (
        format!("acks {subject} #{seq} without applying it: {why}"),
        format!("ack {subject} #{seq}, not applied"),
    )
}

/// An answer of `POST /api/payments`, or of a guarded `DELETE`.
pub(super) fn http(request: Route, status: u16, order: Option<OrderId>) -> Option<String> {
    let o = order.map_or_else(|| "?".to_owned(), |o| o.to_string());
    Some(match (request, status) {
        (Route::CreatePayment, 201) => format!("takes the payment for order {o}: 201"),
        (Route::CreatePayment, 400) => {
            format!("refuses the payment for order {o}: 400, its copy says it is not payable")
        }
        (Route::CreatePayment, 404) => format!("refuses the payment: 404, no copy of order {o}"),
        _ => return None,
    })
}

/// The status an order's write leaves, as a later step of its life says it.
pub(super) fn order_life(by: Cause, order: OrderId, status: OrderStatus) -> Option<String> {
    Some(match (by, status) {
        (Cause::Message(Subject::ExpirationComplete, _), OrderStatus::Cancelled) => {
            format!("expires order {order}: saves it as cancelled")
        }
        (Cause::Message(Subject::PaymentCreated, _), OrderStatus::Complete) => {
            format!("saves order {order} as complete: it is paid")
        }
        _ => return None,
    })
}
