//! The invariants of the system (DESIGN §5), judged along the history:
//!
//! - `at-most-one-active-order`: at most one order that reserves a ticket, at any time;
//! - `order-id-names-active-order`: at quiescence a ticket's `order_id` names the order
//!   reserving it, or is empty when none does;
//! - `no-edit-of-reserved-ticket`: no edit of a ticket is saved while it is reserved;
//! - `versions-never-go-back`: a replica's version of a ticket never decreases.
//!
//! Each violation names the ticket, the orders or node concerned, and when.

use crate::check::findings::Violation;
use crate::model::by_id::ById;
use crate::model::documents::{OrderId, OrderStatus, TicketId};
use crate::model::http::{Cause, Route};
use crate::model::node::Node;
use crate::sim::trace::{DocState, OrderState};
use std::collections::BTreeMap;

/// What the invariants remember of the history so far.
#[derive(Default)]
pub struct Invariants {
    /// The last version each orders-database ticket was written at.
    versions: ById<u64>,
    /// Orders that reserve each ticket, and tickets already reported as doubly reserved.
    reserving: ById<Vec<OrderId>>,
    doubly: Vec<TicketId>,
}

impl Invariants {
    /// The tickets database saved `ticket` with `order_id`, because of `by`: an edit saved
    /// onto a reserved ticket breaks `no-edit-of-reserved-ticket`.
    #[inline]
    pub fn ticket_saved(
        &mut self,
        t_us: u64,
        by: Cause,
        ticket: TicketId,
        order_id: Option<OrderId>,
        out: &mut Vec<Violation>,
    ) {
        if let (Cause::Request(Route::UpdateTicket), Some(order)) = (by, order_id) {
            out.push(Violation::ReservedTicketEdited {
                ticket,
                order,
                t_us,
            });
        }
    }

    /// `node` saved the orders database's copy of `ticket` at `version`: a lower version than
    /// the last breaks `versions-never-go-back`.
    #[inline]
    pub fn replica_saved(
        &mut self,
        t_us: u64,
        node: Node,
        ticket: TicketId,
        version: u64,
        out: &mut Vec<Violation>,
    ) {
        let last = self.versions.entry(ticket).get_or_insert(version);
        if version < *last {
            out.push(Violation::VersionRegressed {
                ticket,
                node,
                from: *last,
                to: version,
                t_us,
            });
        }
        *last = version;
    }

    /// `order` for `ticket` was saved in `status`: a second order reserving the ticket breaks
    /// `at-most-one-active-order` (reported once per ticket, with the orders at that moment).
    #[inline]
    pub fn order_saved(
        &mut self,
        t_us: u64,
        order: OrderId,
        ticket: TicketId,
        status: OrderStatus,
        out: &mut Vec<Violation>,
    ) {
        let orders = self.reserving.entry(ticket).get_or_insert_with(Vec::new);
        orders.retain(|o| *o != order);
        if status.reserves() {
            orders.push(order);
            orders.sort_unstable();
        }
        if orders.len() > 1 && !self.doubly.contains(&ticket) {
            self.doubly.push(ticket);
            out.push(Violation::DoubleReservation {
                ticket,
                orders: orders.clone(),
                t_us,
            });
        }
    }
}

/// At quiescence, every ticket's `order_id` against the orders that reserve it.
pub fn stale_reservations(
    tickets_db: &ById<DocState>,
    orders: &ById<OrderState>,
    t_us: u64,
) -> Vec<Violation> {
    let mut reserving: BTreeMap<TicketId, Vec<OrderId>> = BTreeMap::new();
    for (id, order) in orders.iter() {
        if order.status.reserves() {
            reserving.entry(order.ticket).or_default().push(id);
        }
    }
    let mut out = Vec::new();
    for (ticket, doc) in tickets_db.iter() {
        let orders = reserving.remove(&ticket).unwrap_or_default();
        let ok = match doc.order_id {
            Some(id) => orders.contains(&id),
            None => orders.is_empty(),
        };
        if !ok {
            out.push(Violation::StaleReservation {
                ticket,
                order_id: doc.order_id,
                reserving_orders: orders,
                t_us,
            });
        }
    }
    out
}
