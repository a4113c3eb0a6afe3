//! The course's listener behaviours, on the async shell: what lands in the orders database and
//! whether the message is acked.

use crate::support::*;
use ticketsim::domain::{Event, Occ};
use ticketsim::store::WriteError;
use ticketsim::trace::{DropReason, Event as T};

#[test]
fn ticket_created_inserts_the_replica_and_acks() {
    with_world(Occ::On, 1, |w| {
        publish_at(w, 0, Event::TicketCreated(data(7, Some(0), "concert", 20)));
        run_to_end(w);
        assert_eq!(
            w.orders_db.borrow().find(7),
            Some(replica(7, 0, "concert", 20))
        );
        assert_eq!(
            kinds(w.trace().records()),
            ["publish", "send", "deliver", "db.write", "ack"]
        );
    });
}

#[test]
fn ticket_updated_sets_title_price_and_version_and_acks() {
    for occ in [Occ::On, Occ::Dedup] {
        with_world(occ, 1, |w| {
            w.orders_db
                .borrow_mut()
                .insert(replica(7, 0, "concert", 20))
                .unwrap();
            publish_at(w, 0, Event::TicketUpdated(data(7, Some(1), "gig", 25)));
            run_to_end(w);
            assert_eq!(
                w.orders_db.borrow().find(7),
                Some(replica(7, 1, "gig", 25)),
                "{occ}"
            );
            assert_eq!(kinds(w.trace().records()).last().unwrap(), "ack", "{occ}");
        });
    }
}

#[test]
fn a_skipped_version_is_not_acked_with_occ() {
    for occ in [Occ::On, Occ::Dedup] {
        with_world(occ, 1, |w| {
            w.orders_db
                .borrow_mut()
                .insert(replica(7, 0, "concert", 20))
                .unwrap();
            publish_at(w, 0, Event::TicketUpdated(data(7, Some(2), "gig", 30)));
            run_to_end(w);
            assert_eq!(
                w.orders_db.borrow().find(7),
                Some(replica(7, 0, "concert", 20)),
                "{occ}"
            );
            let trace = w.trace();
            let acks = trace
                .records()
                .iter()
                .filter(|r| matches!(r.event, T::Ack { .. }))
                .count();
            let nacks = trace
                .records()
                .iter()
                .filter(|r| matches!(r.event, T::Nack { .. }))
                .count();
            assert_eq!(
                (acks, nacks),
                (0, 20),
                "{occ}: refused on each of the 20 deliveries"
            );
            assert!(matches!(
                trace.records().last().unwrap().event,
                T::RedeliveryLoop {
                    seq: 1,
                    ticket: 7,
                    version: Some(2),
                    deliveries: 20,
                    ..
                }
            ));
        });
    }
}

#[test]
fn a_skipped_version_is_applied_without_occ() {
    with_world(Occ::Off, 1, |w| {
        w.orders_db
            .borrow_mut()
            .insert(replica(7, 0, "concert", 20))
            .unwrap();
        publish_at(w, 0, Event::TicketUpdated(data(7, None, "gig", 30)));
        run_to_end(w);
        assert_eq!(w.orders_db.borrow().find(7), Some(replica(7, 0, "gig", 30)));
        assert_eq!(kinds(w.trace().records()).last().unwrap(), "ack");
    });
}

#[test]
fn dedup_acks_and_drops_a_stale_duplicate() {
    with_world(Occ::Dedup, 1, |w| {
        w.orders_db
            .borrow_mut()
            .insert(replica(7, 1, "gig", 25))
            .unwrap();
        publish_at(w, 0, Event::TicketUpdated(data(7, Some(1), "gig", 25)));
        run_to_end(w);
        let trace = w.trace();
        let last = &trace.records().last().unwrap().event;
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
        assert!(!kinds(trace.records()).contains(&"db.write".to_owned()));
    });
}

#[test]
fn on_never_acks_a_stale_duplicate_and_the_loop_is_reported() {
    with_world(Occ::On, 1, |w| {
        w.orders_db
            .borrow_mut()
            .insert(replica(7, 1, "gig", 25))
            .unwrap();
        publish_at(w, 0, Event::TicketUpdated(data(7, Some(1), "gig", 25)));
        run_to_end(w);
        let trace = w.trace();
        assert!(!kinds(trace.records()).contains(&"ack".to_owned()));
        assert!(matches!(
            trace.records().last().unwrap().event,
            T::RedeliveryLoop { deliveries: 20, .. }
        ));
    });
}

#[test]
fn a_duplicate_ticket_created_is_acked_only_by_dedup() {
    for (occ, acked) in [(Occ::Off, false), (Occ::On, false), (Occ::Dedup, true)] {
        with_world(occ, 1, |w| {
            w.orders_db
                .borrow_mut()
                .insert(replica(7, 0, "concert", 20))
                .unwrap();
            publish_at(w, 0, Event::TicketCreated(data(7, Some(0), "concert", 20)));
            run_to_end(w);
            let trace = w.trace();
            let records = trace.records();
            let dropped = records.iter().any(|r| {
                matches!(
                    r.event,
                    T::Drop {
                        reason: DropReason::Duplicate,
                        ..
                    }
                )
            });
            assert_eq!(dropped, acked, "{occ}");
            let conflict = records.iter().any(|r| {
                matches!(
                    r.event,
                    T::DbConflict {
                        error: WriteError::DuplicateKey,
                        ..
                    }
                )
            });
            assert!(conflict, "{occ}: the insert hits the existing id");
        });
    }
}
