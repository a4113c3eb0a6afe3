//! The invariants of the system (DESIGN §5), judged along the history:
//!
//! - `at-most-one-active-order`: at most one order that reserves a ticket, at any time;
//! - `order-id-names-active-order`: at quiescence a ticket's `order_id` names the order
//!   reserving it, or is empty when none does;
//! - `no-edit-of-reserved-ticket`: no edit of a ticket is saved while it is reserved;
//! - `versions-never-go-back`: a replica's version of a ticket never decreases;
//! - `ticket-sold-at-most-once`: at most one order of a ticket is ever completed;
//! - `paid-order-never-cancelled`: a complete order is never cancelled, and at quiescence every
//!   order with a payment recorded (and not refunded) is complete;
//! - `cancellation-releases-only-its-order`: the tickets service frees a ticket on an
//!   `order:cancelled` only if the ticket names that order (or none);
//! - `every-charge-recorded`: at quiescence every charge has its payment record, or was
//!   refunded.
//!
//! Each violation names the ticket, the orders or node concerned, and when.

use crate::check::findings::Violation;
use crate::model::by_id::ById;
use crate::model::documents::{ChargeId, OrderId, OrderStatus, TicketId};
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
    /// Orders of each ticket ever completed, and tickets already reported as sold twice.
    completed: ById<Vec<OrderId>>,
    sold_twice: Vec<TicketId>,
    /// Payments recorded: (order, charge, when); charges recorded or refunded.
    paid: Vec<(OrderId, ChargeId, u64)>,
    recorded: ById<bool>,
    refunded: ById<bool>,
    /// Complete orders reported as cancelled (the check at quiescence leaves them out).
    paid_cancelled: Vec<OrderId>,
    /// Every charge: its id, order, ticket and time.
    charges: Vec<(ChargeId, OrderId, TicketId, u64)>,
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

impl Invariants {
    /// `order` of `ticket` went from `from` (absent for a new order) to `to`: completing a second
    /// order of the ticket breaks `ticket-sold-at-most-once`, cancelling a paid one
    /// `paid-order-never-cancelled`.
    pub fn order_changed(
        &mut self,
        t_us: u64,
        (order, ticket): (OrderId, TicketId),
        from: Option<OrderStatus>,
        to: OrderStatus,
        out: &mut Vec<Violation>,
    ) {
        match to {
            OrderStatus::Complete => {
                let orders = self.completed.entry(ticket).get_or_insert_with(Vec::new);
                if !orders.contains(&order) {
                    orders.push(order);
                    orders.sort_unstable();
                }
                if orders.len() > 1 && !self.sold_twice.contains(&ticket) {
                    self.sold_twice.push(ticket);
                    out.push(Violation::SoldTwice {
                        ticket,
                        orders: orders.clone(),
                        t_us,
                    });
                }
            }
            OrderStatus::Cancelled => {
                if from == Some(OrderStatus::Complete) {
                    self.paid_cancelled.push(order);
                    out.push(Violation::PaidOrderCancelled {
                        ticket,
                        order,
                        t_us,
                    });
                }
            }
            OrderStatus::Created | OrderStatus::AwaitingPayment => {}
        }
    }

    /// The tickets service saved `ticket` free on `order:cancelled` of `cancelled` while it
    /// named `held`: another order's reservation released breaks
    /// `cancellation-releases-only-its-order`.
    pub fn ticket_released(
        &mut self,
        t_us: u64,
        ticket: TicketId,
        held: Option<OrderId>,
        cancelled: OrderId,
        out: &mut Vec<Violation>,
    ) {
        if let Some(held_by) = held.filter(|&h| h != cancelled) {
            out.push(Violation::ReleasedByAnotherOrder {
                ticket,
                held_by,
                cancelled,
                t_us,
            });
        }
    }

    /// The card processor charged for `order` of `ticket`.
    pub fn charged(&mut self, t_us: u64, charge: ChargeId, order: OrderId, ticket: TicketId) {
        self.charges.push((charge, order, ticket, t_us));
    }

    /// The payments service recorded a payment of `order` with `charge`.
    pub fn payment_recorded(&mut self, t_us: u64, order: OrderId, charge: ChargeId) {
        self.paid.push((order, charge, t_us));
        *self.recorded.entry(charge) = Some(true);
    }

    /// The card processor refunded `charge`.
    pub fn refunded(&mut self, charge: ChargeId) {
        *self.refunded.entry(charge) = Some(true);
    }

    /// At quiescence, with `orders` as the orders service holds them: every charge neither
    /// recorded nor refunded, and every order paid (and not refunded) that is not complete.
    pub fn at_quiescence(&self, orders: &ById<OrderState>) -> Vec<Violation> {
        let yes = |map: &ById<bool>, id| map.get(id).copied().unwrap_or(false);
        let mut out: Vec<Violation> = self
            .charges
            .iter()
            .filter(|(charge, ..)| !yes(&self.recorded, *charge) && !yes(&self.refunded, *charge))
            .map(
                |&(charge, order, ticket, t_us)| Violation::UnrecordedCharge {
                    ticket,
                    order,
                    charge,
                    t_us,
                },
            )
            .collect();
        for &(order, charge, paid_us) in &self.paid {
            let Some(o) = orders.get(order) else { continue };
            let told = self.paid_cancelled.contains(&order);
            if o.status != OrderStatus::Complete && !yes(&self.refunded, charge) && !told {
                out.push(Violation::PaidOrderNotComplete {
                    ticket: o.ticket,
                    order,
                    status: o.status,
                    paid_us,
                });
            }
        }
        out
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
