//! Wake-ups between tasks of the executor: a [`Signal`] that parks one task until notified,
//! and a [`Oneshot`] channel that carries one value (an HTTP response to its client) and tells
//! the receiver when the sender's task was dropped (a reset connection).
//!
//! Each is a resource of its own for the explorer's reduction of tie orders, named by a number
//! the executor gives it when it is first touched in a run (`sim::footprint`): waiting on it
//! and signalling it both write it. (Not by its address: a channel freed and another allocated
//! at the same address would look like one, and the allocator's history differs between
//! threads.)

use crate::sim::exec::Executor;
use crate::sim::task::TaskId;
use std::cell::{Cell, RefCell};
use std::future::Future;
use std::rc::Rc;
use std::task::Poll;

/// A wake-up for one parked task: [`Signal::wait`] parks until [`Signal::notify`].
#[derive(Default)]
pub struct Signal {
    waiter: Cell<Option<TaskId>>,
    notified: Cell<bool>,
    /// Its number as a resource, once touched (0 before).
    id: Cell<u64>,
}

impl Signal {
    /// Wake the parked task, or let its next `wait` return at once.
    pub fn notify(&self, exec: &Executor) {
        exec.touch_sync(&self.id);
        self.notified.set(true);
        if let Some(task) = self.waiter.take() {
            exec.wake(task);
        }
    }

    /// Park the current task until notified.
    pub fn wait<'a>(&'a self, exec: &'a Executor) -> impl Future<Output = ()> + 'a {
        std::future::poll_fn(move |_| {
            exec.touch_sync(&self.id);
            if self.notified.replace(false) {
                self.waiter.set(None);
                Poll::Ready(())
            } else {
                self.waiter.set(Some(exec.current()));
                Poll::Pending
            }
        })
    }
}

/// A single-value channel from one task to another, e.g. an HTTP response to its client.
pub struct Oneshot<T> {
    value: RefCell<Option<T>>,
    closed: Cell<bool>,
    waiter: Cell<Option<TaskId>>,
    /// Its number as a resource, once touched (0 before).
    id: Cell<u64>,
}

/// The sending half of a [`Oneshot`]. Dropping it unsent (its task was killed) closes the
/// channel, and the receiver sees `None`: a reset connection.
pub struct Sender<T> {
    chan: Rc<Oneshot<T>>,
    exec: Rc<Executor>,
}

impl<T> Oneshot<T> {
    /// A connected sender and receiver.
    pub fn channel(exec: &Rc<Executor>) -> (Sender<T>, Rc<Oneshot<T>>) {
        let chan = Rc::new(Oneshot {
            value: RefCell::new(None),
            closed: Cell::new(false),
            waiter: Cell::new(None),
            id: Cell::new(0),
        });
        let sender = Sender {
            chan: chan.clone(),
            exec: exec.clone(),
        };
        (sender, chan)
    }

    /// Wait for the value; `None` if the sender was dropped without sending.
    pub fn recv<'a>(&'a self, exec: &'a Executor) -> impl Future<Output = Option<T>> + 'a {
        std::future::poll_fn(move |_| {
            exec.touch_sync(&self.id);
            if let Some(v) = self.value.borrow_mut().take() {
                return Poll::Ready(Some(v));
            }
            if self.closed.get() {
                return Poll::Ready(None);
            }
            self.waiter.set(Some(exec.current()));
            Poll::Pending
        })
    }
}

impl<T> Sender<T> {
    /// Deliver the value and wake the receiver.
    pub fn send(self, value: T) {
        self.exec.touch_sync(&self.chan.id);
        *self.chan.value.borrow_mut() = Some(value);
        // Drop runs next and wakes the receiver.
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        self.exec.touch_sync(&self.chan.id);
        self.chan.closed.set(true);
        if let Some(task) = self.chan.waiter.take() {
            self.exec.wake(task);
        }
    }
}
