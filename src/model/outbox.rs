//! The transactional outbox of the tickets service (`[cures] transactional-outbox`, a cure
//! beyond the course): the event a write stores with its ticket, and the relay that publishes
//! the stored events.
//!
//! As taught, the tickets service saves a ticket and then publishes its event, two awaits: a
//! crash between them keeps the change and loses the event (catalogue #8). With the outbox a
//! route or an order listener pushes the event onto the ticket's `outbox` array in the same
//! `save()` as the change, one atomic single-document write, and answers (or acks) once that
//! write is done; it publishes nothing itself. A relay in the same process publishes the
//! pending events, oldest first, each awaited, and removes each (`$pull` by id) once NATS has
//! acked its publish (microservices.io, "Transactional outbox" and "Polling publisher"). A
//! relay starts with its process, so after a crash the new relay finds what the old one left
//! pending and publishes it: nothing saved is lost, and an event whose publish was stored but
//! not yet removed is published twice. The listeners must drop the copy (`--occ dedup` does).
//!
//! [`relay`] is the relay's loop, written against [`Relay`], what the relay can do; the
//! runtime (`sim::relay`) runs it on the tickets service's node and decides how long each call
//! takes. Its awaits are its database calls (the query of pending events, each removal), its
//! publishes, the wait for a write to wake it and the wait before a retry.

use crate::model::databases::{Pending, PendingId};
use crate::model::documents::Ticket;
use crate::model::events::{Event, Subject};
use crate::model::occ::Occ;
use crate::model::service::PublishFailed;

/// How long the relay waits after a failed publish before it reads the pending events again
/// and retries the oldest: one second, an assumption (a polling publisher's interval; nothing
/// in the course sets one).
pub const RELAY_RETRY_MS: u64 = 1_000;

/// The event of `subject` that a write of `saved` stores in its outbox: what the course's
/// route or listener would have published after that save (`ticket:created` after the insert,
/// `ticket:updated` after a save), from the writer's copy as saved, its version the one the
/// save stores (the version plugin has the save `$inc` it, so the route builds the event with
/// `ticket.version + 1`). Without OCC events carry none.
pub fn event_of(subject: Subject, saved: &Ticket, occ: Occ) -> Event {
    let data = saved.event_data(occ);
    match subject {
        Subject::TicketCreated => Event::TicketCreated(data),
        Subject::TicketUpdated => Event::TicketUpdated(data),
        Subject::OrderCreated
        | Subject::OrderCancelled
        | Subject::ExpirationComplete
        | Subject::PaymentCreated => {
            unreachable!("the tickets service stores only ticket events, not {subject}")
        }
    }
}

/// What the relay can do, as the runtime provides it.
// The futures run on one thread (the simulator's executor), so no `Send` bound is wanted.
#[allow(async_fn_in_trait)]
pub trait Relay {
    /// One query of the tickets database: every pending event, oldest first
    /// (`Ticket.find({ 'outbox.0': { $exists: true } })`, sorted by the events' ids).
    async fn pending(&self) -> Vec<Pending>;

    /// Report the events the relay's first query after its process started found pending:
    /// what a crash left behind.
    fn found(&self, pending: &[Pending]);

    /// `await publisher.publish(data)`: the event reaches the bus and the server's ack comes
    /// back, or the publish fails.
    async fn publish(&self, event: Event) -> Result<(), PublishFailed>;

    /// `Ticket.updateOne({ _id }, { $pull: { outbox: { _id: id } } })`: remove a published event.
    async fn remove(&self, id: PendingId);

    /// Wait until a write adds a pending event (or return at once if one did since the last
    /// wait).
    async fn woken(&self);

    /// Wait [`RELAY_RETRY_MS`].
    async fn retry_later(&self);
}

/// The relay, for the life of its process: read the pending events; publish each in order,
/// awaiting NATS's ack, and remove it once acked; when a publish fails, wait
/// [`RELAY_RETRY_MS`] and read again (the failed event is still the oldest); when none is
/// pending, wait for a write to add one. It never publishes an event before an older one of the
/// same ticket has been acked, so each ticket's events reach NATS in the order of their writes.
pub async fn relay<R: Relay>(r: &R) {
    let mut starting = true;
    loop {
        let pending = r.pending().await;
        if std::mem::take(&mut starting) {
            r.found(&pending);
        }
        if pending.is_empty() {
            r.woken().await;
            continue;
        }
        for p in pending {
            if r.publish(p.event).await.is_err() {
                r.retry_later().await;
                break;
            }
            r.remove(p.id).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::databases::Outbox;
    use crate::model::events::TicketData;
    use std::cell::{Cell, RefCell};
    use std::future::Future;
    use std::task::{Context, Poll, Waker};

    /// A relay over an in-memory outbox whose every call completes at once, except `woken`,
    /// which never does: polling [`relay`] once runs it until it has nothing left to do. It
    /// logs each call, and fails the publishes it is told to.
    struct Fake {
        outbox: RefCell<Outbox>,
        failures: Cell<u32>,
        log: RefCell<Vec<String>>,
    }

    impl Relay for Fake {
        async fn pending(&self) -> Vec<Pending> {
            self.log.borrow_mut().push("read".into());
            self.outbox.borrow().pending()
        }
        fn found(&self, pending: &[Pending]) {
            self.log
                .borrow_mut()
                .push(format!("found {}", pending.len()));
        }
        async fn publish(&self, event: Event) -> Result<(), PublishFailed> {
            let price = match event {
                Event::TicketCreated(t) | Event::TicketUpdated(t) => t.price,
                _ => unreachable!(),
            };
            if self.failures.get() > 0 {
                self.failures.set(self.failures.get() - 1);
                self.log
                    .borrow_mut()
                    .push(format!("publish {price} failed"));
                return Err(PublishFailed);
            }
            self.log.borrow_mut().push(format!("publish {price}"));
            Ok(())
        }
        async fn remove(&self, id: PendingId) {
            self.outbox.borrow_mut().remove(id);
            self.log.borrow_mut().push(format!("remove {id}"));
        }
        async fn woken(&self) {
            self.log.borrow_mut().push("wait".into());
            std::future::pending::<()>().await;
        }
        async fn retry_later(&self) {
            self.log.borrow_mut().push("retry later".into());
        }
    }

    fn run(prices: &[u32], failures: u32) -> Vec<String> {
        let fake = Fake {
            outbox: RefCell::new(Outbox::default()),
            failures: Cell::new(failures),
            log: RefCell::new(Vec::new()),
        };
        for &price in prices {
            let ticket = Ticket {
                id: 1,
                version: 0,
                title: "concert".into(),
                price,
                user_id: 1,
                order_id: None,
                applied_orders: Vec::new(),
            };
            let event = event_of(Subject::TicketUpdated, &ticket, Occ::Off);
            fake.outbox.borrow_mut().add(event);
        }
        {
            let mut future = std::pin::pin!(relay(&fake));
            let mut cx = Context::from_waker(Waker::noop());
            assert_eq!(future.as_mut().poll(&mut cx), Poll::Pending);
        }
        assert!(fake.outbox.borrow().is_empty(), "everything published");
        fake.log.into_inner()
    }

    // What a crash left pending is found by the first read, published oldest first, and each
    // event removed only after its publish was acked; then the relay waits to be woken.
    #[test]
    fn the_relay_publishes_oldest_first_and_removes_each_once_acked() {
        assert_eq!(
            run(&[10, 15], 0),
            [
                "read",
                "found 2",
                "publish 10",
                "remove 1",
                "publish 15",
                "remove 2",
                "read",
                "wait"
            ]
        );
        assert_eq!(run(&[], 0), ["read", "found 0", "wait"]);
    }

    // A failed publish leaves the event pending: the relay waits, reads again, and retries the
    // same event before the next one, so a ticket's events never overtake each other.
    #[test]
    fn after_a_failed_publish_the_relay_retries_the_same_event_first() {
        assert_eq!(
            run(&[10, 15], 2),
            [
                "read",
                "found 2",
                "publish 10 failed",
                "retry later",
                "read",
                "publish 10 failed",
                "retry later",
                "read",
                "publish 10",
                "remove 1",
                "publish 15",
                "remove 2",
                "read",
                "wait"
            ]
        );
    }

    #[test]
    fn the_stored_event_is_the_one_the_course_would_publish_after_the_save() {
        let saved = Ticket {
            id: 4,
            version: 2,
            title: "concert".into(),
            price: 15,
            user_id: 1,
            order_id: Some(3),
            applied_orders: Vec::new(),
        };
        let data = |version| TicketData {
            id: 4,
            version,
            title: "concert".into(),
            price: 15,
            user_id: 1,
            order_id: Some(3),
        };
        assert_eq!(
            event_of(Subject::TicketUpdated, &saved, Occ::On),
            Event::TicketUpdated(data(Some(2)))
        );
        assert_eq!(
            event_of(Subject::TicketCreated, &saved, Occ::Off),
            Event::TicketCreated(data(None))
        );
    }
}
