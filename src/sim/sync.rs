//! Wake-ups between tasks of the executor: a [`Signal`] that parks one task until notified,
//! and a [`Oneshot`] channel that carries one value (an HTTP response to its client) and tells
//! the receiver when the sender's task was dropped (a reset connection).
//!
//! Each is a resource of its own for the explorer's reduction of tie orders, named by its
//! address (`sim::footprint`): waiting on it and signalling it both write it.

use crate::sim::exec::Executor;
use crate::sim::footprint::Resource;
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
}

impl Signal {
    /// Wake the parked task, or let its next `wait` return at once.
    pub fn notify(&self, exec: &Executor) {
        exec.touch(self.resource(), true);
        self.notified.set(true);
        if let Some(task) = self.waiter.take() {
            exec.wake(task);
        }
    }

    /// Park the current task until notified.
    pub fn wait<'a>(&'a self, exec: &'a Executor) -> impl Future<Output = ()> + 'a {
        std::future::poll_fn(move |_| {
            exec.touch(self.resource(), true);
            if self.notified.replace(false) {
                self.waiter.set(None);
                Poll::Ready(())
            } else {
                self.waiter.set(Some(exec.current()));
                Poll::Pending
            }
        })
    }

    fn resource(&self) -> Resource {
        Resource::Sync(std::ptr::from_ref(self) as usize)
    }
}

/// A single-value channel from one task to another, e.g. an HTTP response to its client.
pub struct Oneshot<T> {
    value: RefCell<Option<T>>,
    closed: Cell<bool>,
    waiter: Cell<Option<TaskId>>,
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
            exec.touch(Resource::Sync(std::ptr::from_ref(self) as usize), true);
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
        self.exec.touch(self.resource(), true);
        *self.chan.value.borrow_mut() = Some(value);
        // Drop runs next and wakes the receiver.
    }
}

impl<T> Sender<T> {
    fn resource(&self) -> Resource {
        Resource::Sync(Rc::as_ptr(&self.chan) as usize)
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        self.exec.touch(self.resource(), true);
        self.chan.closed.set(true);
        if let Some(task) = self.chan.waiter.take() {
            self.exec.wake(task);
        }
    }
}
