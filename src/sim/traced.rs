//! How a document of the model describes itself in the trace: the `db.write` line of a
//! successful write and the `db.conflict` line of a failed one, with the document's whole
//! state, for every collection of every service.

use crate::model::databases::{Doc, Stored};
use crate::model::http::Cause;
use crate::model::store::{Db, WriteError};
use crate::sim::record::{Event, OrdersCollection, PaymentsCollection};
use std::rc::Rc;

/// How a document describes itself on `db.write` and `db.conflict` lines.
pub trait Traced {
    /// The `db.write` line after this document was stored in `db` because of `by`.
    fn write_line(&self, db: Db, by: Cause) -> Event;
    /// The `db.conflict` line of a failed attempt to store this document.
    fn conflict_line(&self, db: Db, by: Cause, error: WriteError) -> Event;
}

impl<D: Stored> Traced for D {
    fn write_line(&self, db: Db, by: Cause) -> Event {
        line(self.doc(), db, by, None)
    }
    fn conflict_line(&self, db: Db, by: Cause, error: WriteError) -> Event {
        line(self.doc(), db, by, Some(error))
    }
}

/// The line of a write of `doc` to `db`: `db.write`, or `db.conflict` when it failed.
fn line(doc: Doc<'_>, db: Db, by: Cause, error: Option<WriteError>) -> Event {
    let ticket = |(ticket, version, title, price, order_id): (_, _, &Rc<str>, _, _)| {
        let title = title.clone();
        match error {
            None => Event::DbWrite {
                db,
                by,
                ticket,
                version,
                title,
                price,
                order_id,
            },
            Some(error) => Event::DbConflict {
                db,
                by,
                ticket,
                version,
                title,
                price,
                order_id,
                error,
            },
        }
    };
    match doc {
        Doc::Ticket(t) => ticket((t.id, t.version, &t.title, t.price, t.order_id)),
        Doc::Replica(t) => ticket((t.id, t.version, &t.title, t.price, None)),
        Doc::Order(o) => match error {
            None => Event::OrderWrite {
                db,
                collection: OrdersCollection,
                by,
                order: o.id,
                version: o.version,
                status: o.status,
                ticket: o.ticket,
                user_id: o.user_id,
            },
            Some(error) => Event::OrderConflict {
                db,
                collection: OrdersCollection,
                by,
                order: o.id,
                version: o.version,
                status: o.status,
                ticket: o.ticket,
                error,
            },
        },
        Doc::PaymentsOrder(o) => match error {
            None => Event::PaymentsOrderWrite {
                db,
                collection: OrdersCollection,
                by,
                order: o.id,
                version: o.version,
                status: o.status,
                ticket: o.ticket,
            },
            Some(error) => Event::PaymentsOrderConflict {
                db,
                collection: OrdersCollection,
                by,
                order: o.id,
                version: o.version,
                status: o.status,
                ticket: o.ticket,
                error,
            },
        },
        Doc::Payment(p) => match error {
            None => Event::PaymentWrite {
                db,
                collection: PaymentsCollection,
                by,
                payment: p.id,
                order: p.order_id,
                charge: p.stripe_id,
            },
            Some(error) => Event::PaymentConflict {
                db,
                collection: PaymentsCollection,
                by,
                payment: p.id,
                order: p.order_id,
                charge: p.stripe_id,
                error,
            },
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::documents::{Order, OrderStatus};
    use crate::model::events::Subject;

    #[test]
    fn order_lines_say_their_collection_and_writes_their_cause() {
        let order = Order {
            id: 2,
            version: 0,
            status: OrderStatus::Created,
            user_id: 5,
            expires_at_ms: 60_000,
            ticket: 1,
        };
        let line = serde_json::to_string(
            &order.write_line(Db::Orders, Cause::Message(Subject::OrderCreated, 3)),
        )
        .unwrap();
        assert_eq!(
            line,
            r#"{"kind":"db.write","db":"orders","collection":"orders","by":"order:created#3","order":2,"version":0,"status":"created","ticket":1,"user_id":5}"#
        );
    }
}
