//! A model of one MongoDB collection with mongoose-update-if-current (DESIGN §2, "Database").
//!
//! The collection itself is synchronous and atomic per document, like MongoDB's
//! single-document operations: the simulated latency of each operation is added by the
//! runtime ([`crate::sim`]), so operations from different replicas interleave between their
//! awaits while each operation's effect lands in one step.
//!
//! `save` follows mongoose 5 with the plugin (eoin-obrien/mongoose-update-if-current,
//! `src/version-occ-plugin.js`): the update filters on `(_id, version)`, sends `$set` of the
//! modified paths only, and increments the version; a filter that matches nothing is a
//! `VersionError`.

use crate::model::by_id::ById;
use crate::model::documents::Document;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Which database a collection lives in, as trace lines name it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Db {
    /// The tickets service's database (source of truth).
    Tickets,
    /// The orders service's database, shared by all its replicas.
    Orders,
    /// The payments service's database: its replica of orders, and its payments.
    Payments,
}

impl fmt::Display for Db {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Db::Tickets => "tickets",
            Db::Orders => "orders",
            Db::Payments => "payments",
        })
    }
}

/// Why a write failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum WriteError {
    /// E11000: an insert used an id that exists.
    DuplicateKey,
    /// The conditional save found another version stored (or no document at all).
    VersionConflict,
}

/// How `save` treats the version field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Save {
    /// With the update-if-current plugin: succeed only if the stored version equals the
    /// document's, then store version + 1.
    Conditional,
    /// Without the plugin: overwrite, version untouched (mongoose does not bump `__v` for
    /// plain field changes), so the last write wins.
    Overwrite,
}

/// One collection of documents keyed by id, iterated in id order.
#[derive(Clone, Debug)]
pub struct Collection<D> {
    db: Db,
    docs: ById<D>,
}

/// A successful save: the writer's copy as `save()` resolves it, and the stored document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Saved<D> {
    /// The writer's in-memory document, with its version bumped by a conditional save. It is
    /// what the course's handlers publish from, even where a field of the stored document was
    /// changed by another writer meanwhile (possible only without the version plugin).
    pub doc: D,
    /// The whole stored document afterwards.
    pub stored: D,
}

impl<D: Document> Collection<D> {
    /// An empty collection in `db`.
    pub fn new(db: Db) -> Self {
        Self {
            db,
            docs: ById::default(),
        }
    }

    /// The database this collection belongs to.
    pub fn db(&self) -> Db {
        self.db
    }

    /// The stored document of `id`, to read in place (a query's filter, not a `findById`).
    pub fn get(&self, id: u32) -> Option<&D> {
        self.docs.get(id)
    }

    /// `findById`: a copy of the stored document, as mongoose hands out a detached document.
    pub fn find(&self, id: u32) -> Option<D> {
        self.docs.get(id).cloned()
    }

    /// Insert a new document (version as given, normally 0); fails on an existing id.
    pub fn insert(&mut self, doc: D) -> Result<D, WriteError> {
        let slot = self.docs.entry(doc.id());
        if slot.is_some() {
            return Err(WriteError::DuplicateKey);
        }
        Ok(slot.insert(doc).clone())
    }

    /// The document `save` would store, or the version conflict it would meet; nothing changes.
    pub fn would_store(&self, read: &D, doc: &D, mode: Save) -> Result<D, WriteError> {
        let Some(stored) = self.docs.get(doc.id()) else {
            return Err(WriteError::VersionConflict);
        };
        if mode == Save::Conditional && stored.version() != doc.version() {
            return Err(WriteError::VersionConflict);
        }
        let mut after = stored.clone();
        after.set_modified(read, doc);
        Ok(after)
    }

    /// `save()` of `doc`, loaded earlier as `read` and modified since: `$set` of the changed
    /// fields, guarded by the version in the conditional mode.
    pub fn save(&mut self, read: &D, mut doc: D, mode: Save) -> Result<Saved<D>, WriteError> {
        let Some(stored) = self.docs.get_mut(doc.id()) else {
            // mongoose's update-if-current filters on (_id, version): no match is a VersionError.
            return Err(WriteError::VersionConflict);
        };
        if mode == Save::Conditional {
            if stored.version() != doc.version() {
                return Err(WriteError::VersionConflict);
            }
            doc.set_version(doc.version() + 1);
            stored.set_version(doc.version());
        }
        stored.set_modified(read, &doc);
        Ok(Saved {
            stored: stored.clone(),
            doc,
        })
    }

    /// Every document, in id order.
    pub fn iter(&self) -> impl Iterator<Item = &D> {
        self.docs.iter().map(|(_, d)| d)
    }

    /// Number of documents.
    pub fn len(&self) -> usize {
        self.docs.len()
    }

    /// Whether the collection is empty.
    pub fn is_empty(&self) -> bool {
        self.docs.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::documents::Ticket;

    fn ticket() -> Ticket {
        Ticket {
            id: 7,
            version: 0,
            title: "concert".into(),
            price: 5,
            user_id: 1,
            order_id: None,
            applied_orders: Vec::new(),
        }
    }

    // The course's model test: "implements optimistic concurrency control".
    #[test]
    fn a_stale_copy_cannot_be_saved() {
        let mut tickets = Collection::new(Db::Tickets);
        tickets.insert(ticket()).unwrap();
        let read = tickets.find(7).unwrap();
        let mut first = read.clone();
        let mut second = read.clone();
        first.price = 10;
        second.price = 15;
        let saved = tickets.save(&read, first, Save::Conditional).unwrap();
        assert_eq!((saved.doc.version, saved.stored.version), (1, 1));
        assert_eq!(
            tickets.save(&read, second, Save::Conditional),
            Err(WriteError::VersionConflict)
        );
        assert_eq!(tickets.find(7).unwrap().price, 10);
    }

    // The course's model test: "increments the version number on multiple saves".
    #[test]
    fn each_save_increments_the_version() {
        let mut tickets = Collection::new(Db::Tickets);
        let mut versions = vec![tickets.insert(ticket()).unwrap().version];
        for _ in 0..2 {
            let doc = tickets.find(7).unwrap();
            let read = doc.clone();
            versions.push(
                tickets
                    .save(&read, doc, Save::Conditional)
                    .unwrap()
                    .stored
                    .version,
            );
        }
        assert_eq!(versions, [0, 1, 2]);
    }

    #[test]
    fn without_the_plugin_the_last_write_wins() {
        let mut tickets = Collection::new(Db::Tickets);
        tickets.insert(ticket()).unwrap();
        let read = tickets.find(7).unwrap();
        let mut first = read.clone();
        let mut second = read.clone();
        first.price = 10;
        second.price = 15;
        tickets.save(&read, second, Save::Overwrite).unwrap();
        let stored = tickets.save(&read, first, Save::Overwrite).unwrap().stored;
        assert_eq!((stored.price, stored.version), (10, 0));
    }

    #[test]
    fn without_the_plugin_a_concurrent_change_to_another_field_survives() {
        let mut tickets = Collection::new(Db::Tickets);
        tickets.insert(ticket()).unwrap();
        let read = tickets.find(7).unwrap();
        let reserved = Ticket {
            order_id: Some(3),
            ..read.clone()
        };
        let edited = Ticket {
            price: 10,
            ..read.clone()
        };
        tickets.save(&read, reserved, Save::Overwrite).unwrap();
        let saved = tickets.save(&read, edited, Save::Overwrite).unwrap();
        assert_eq!((saved.stored.price, saved.stored.order_id), (10, Some(3)));
        assert_eq!(
            saved.doc.order_id, None,
            "the writer's copy never saw the order"
        );
    }

    #[test]
    fn inserting_an_existing_id_is_a_duplicate_key() {
        let mut tickets = Collection::new(Db::Tickets);
        tickets.insert(ticket()).unwrap();
        assert_eq!(tickets.insert(ticket()), Err(WriteError::DuplicateKey));
        assert_eq!(tickets.len(), 1);
    }
}
