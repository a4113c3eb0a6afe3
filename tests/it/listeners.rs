//! The course's listener behaviours, on the async shell: what lands in the orders database and
//! whether the message is acked.

use crate::support::*;
use ticketsim::model::decisions::DropReason;
use ticketsim::model::events::Event;
use ticketsim::model::store::WriteError;
use ticketsim::sim::record::{Event as T, Record};
use ticketsim::Occ;

fn count(records: &[Record], pred: impl Fn(&T) -> bool) -> usize {
    records.iter().filter(|r| pred(&r.event)).count()
}

#[test]
fn ticket_created_inserts_the_replica_and_acks() {
    let event = Event::TicketCreated(data(7, Some(0), "concert", 20));
    let (doc, records) = deliver_once(Occ::On, 1, None, event);
    assert_eq!(doc, Some(replica(7, 0, "concert", 20)));
    assert_eq!(
        kinds(&records),
        ["publish", "send", "deliver", "db.write", "ack"]
    );
}

#[test]
fn ticket_updated_sets_title_price_and_version_and_acks() {
    for occ in [Occ::On, Occ::Dedup] {
        let stored = replica(7, 0, "concert", 20);
        let event = Event::TicketUpdated(data(7, Some(1), "gig", 25));
        let (doc, records) = deliver_once(occ, 1, Some(stored), event);
        assert_eq!(doc, Some(replica(7, 1, "gig", 25)), "{occ}");
        assert_eq!(kinds(&records).last().unwrap(), "ack", "{occ}");
    }
}

#[test]
fn a_skipped_version_is_not_acked_with_occ() {
    for occ in [Occ::On, Occ::Dedup] {
        let stored = replica(7, 0, "concert", 20);
        let event = Event::TicketUpdated(data(7, Some(2), "gig", 30));
        let (doc, records) = deliver_once(occ, 1, Some(stored.clone()), event);
        assert_eq!(doc, Some(stored), "{occ}");
        let acks = count(&records, |e| matches!(e, T::Ack { .. }));
        let nacks = count(&records, |e| matches!(e, T::Nack { .. }));
        assert_eq!(
            (acks, nacks),
            (0, 20),
            "{occ}: refused on each of the 20 deliveries"
        );
        assert!(matches!(
            records.last().unwrap().event,
            T::RedeliveryLoop {
                seq: 1,
                ticket: 7,
                version: Some(2),
                deliveries: 20,
                ..
            }
        ));
    }
}

#[test]
fn a_skipped_version_is_applied_without_occ() {
    let stored = replica(7, 0, "concert", 20);
    let event = Event::TicketUpdated(data(7, None, "gig", 30));
    let (doc, records) = deliver_once(Occ::Off, 1, Some(stored), event);
    assert_eq!(doc, Some(replica(7, 0, "gig", 30)));
    assert_eq!(kinds(&records).last().unwrap(), "ack");
}

#[test]
fn dedup_acks_and_drops_a_stale_duplicate() {
    let stored = replica(7, 1, "gig", 25);
    let event = Event::TicketUpdated(data(7, Some(1), "gig", 25));
    let (_, records) = deliver_once(Occ::Dedup, 1, Some(stored), event);
    let last = &records.last().unwrap().event;
    assert!(
        matches!(
            last,
            T::Drop {
                reason: DropReason::Stale,
                ..
            }
        ),
        "{last:?}"
    );
    assert_eq!(count(&records, |e| matches!(e, T::DbWrite { .. })), 0);
}

#[test]
fn on_never_acks_a_stale_duplicate_and_the_loop_is_reported() {
    let stored = replica(7, 1, "gig", 25);
    let event = Event::TicketUpdated(data(7, Some(1), "gig", 25));
    let (_, records) = deliver_once(Occ::On, 1, Some(stored), event);
    assert_eq!(count(&records, |e| matches!(e, T::Ack { .. })), 0);
    assert!(matches!(
        records.last().unwrap().event,
        T::RedeliveryLoop { deliveries: 20, .. }
    ));
}

#[test]
fn a_duplicate_ticket_created_is_acked_only_by_dedup() {
    for (occ, acked) in [(Occ::Off, false), (Occ::On, false), (Occ::Dedup, true)] {
        let stored = replica(7, 0, "concert", 20);
        let event = Event::TicketCreated(data(7, Some(0), "concert", 20));
        let (_, records) = deliver_once(occ, 1, Some(stored), event);
        let dropped = count(&records, |e| {
            matches!(
                e,
                T::Drop {
                    reason: DropReason::Duplicate,
                    ..
                }
            )
        });
        assert_eq!(dropped == 1, acked, "{occ}");
        let conflicts = count(&records, |e| {
            matches!(
                e,
                T::DbConflict {
                    error: WriteError::DuplicateKey,
                    ..
                }
            )
        });
        assert!(conflicts >= 1, "{occ}: the insert hits the existing id");
    }
}
