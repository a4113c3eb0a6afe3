//! Convergence (safety, DESIGN §5): at the end, every ticket's copy in the orders database has
//! the tickets database's title and price, and, with OCC, its version. Also the course's own
//! check ("how many tickets are priced 15 in each database?").
//!
//! Both read the two databases' ticket documents as the trace's `db.write` lines left them.

use crate::check::findings::{Divergence, PriceCount};
use crate::model::by_id::ById;
use crate::model::documents::Price;
use crate::model::occ::Occ;
use crate::sim::trace::DocState;
use serde_json::json;
use std::collections::BTreeMap;

/// Every field on which the databases disagree, by ticket: a ticket missing from either side,
/// then title, price and (with OCC) version.
pub fn divergences(
    tickets_db: &ById<DocState>,
    orders_db: &ById<DocState>,
    occ: Occ,
) -> Vec<Divergence> {
    let mut out = Vec::new();
    for (id, source) in tickets_db.iter() {
        let Some(replica) = orders_db.get(id) else {
            out.push(Divergence {
                ticket: id,
                field: "exists",
                tickets_db: json!(true),
                orders_db: json!(false),
            });
            continue;
        };
        if source.title != replica.title {
            out.push(Divergence {
                ticket: id,
                field: "title",
                tickets_db: json!(&*source.title),
                orders_db: json!(&*replica.title),
            });
        }
        if source.price != replica.price {
            out.push(Divergence {
                ticket: id,
                field: "price",
                tickets_db: json!(source.price),
                orders_db: json!(replica.price),
            });
        }
        if occ.versioned() && source.version != replica.version {
            out.push(Divergence {
                ticket: id,
                field: "version",
                tickets_db: json!(source.version),
                orders_db: json!(replica.version),
            });
        }
    }
    for (id, _) in orders_db.iter() {
        if tickets_db.get(id).is_none() {
            out.push(Divergence {
                ticket: id,
                field: "exists",
                tickets_db: json!(false),
                orders_db: json!(true),
            });
        }
    }
    out
}

/// How many tickets each database holds at each price, by price.
pub fn price_counts(tickets_db: &ById<DocState>, orders_db: &ById<DocState>) -> Vec<PriceCount> {
    let mut counts: BTreeMap<Price, (u64, u64)> = BTreeMap::new();
    for (_, doc) in tickets_db.iter() {
        counts.entry(doc.price).or_default().0 += 1;
    }
    for (_, doc) in orders_db.iter() {
        counts.entry(doc.price).or_default().1 += 1;
    }
    counts
        .into_iter()
        .map(|(price, (tickets_db, orders_db))| PriceCount {
            price,
            tickets_db,
            orders_db,
        })
        .collect()
}
