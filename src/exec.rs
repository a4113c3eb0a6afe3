//! The scheduler every model future runs on: simulated time, tasks owned by nodes, a
//! `ready_at` timer queue and a ready set drawn from at random.
//!
//! Why not madsim's own tasks and sleeps? Measured on the project's 2-core machines, a madsim
//! `task::spawn` costs ~550 ns and each `time::sleep` ~400 ns, so a delivery (spawn, delivery
//! latency, find, save) cannot go faster than ~0.57 M/s before any model work, against a goal of
//! 1.5 M/s. This executor keeps madsim's semantics (one seeded RNG, tasks on nodes, a ready set
//! drawn at random, time that jumps to the next timer) at a few tens of nanoseconds per step. It
//! runs inside `madsim::Runtime::block_on` and draws from madsim's RNG, and it advances madsim's
//! clock along with its own whenever debug logs are on, so they are stamped with simulated time.
//!
//! Every `.await` on a [`Sleep`] is a real interleaving point: even a zero-length sleep returns
//! to the scheduler, which may then run any other ready task first.

use crate::timers::{Due, TimerQueue};
use madsim::rand::{GlobalRng, Rng, RngCore, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;
use std::cell::{Cell, RefCell};
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

/// The run's random numbers: madsim's stream, drawn without madsim's lock.
///
/// madsim 0.2's `GlobalRng` is a `Xoshiro256PlusPlus::seed_from_u64(seed)` behind a spin lock
/// that also checks for a determinism log; every draw pays for the lock (8% of a run). At the
/// start of a run the executor takes one draw from madsim's generator and finds it among the
/// first outputs of a private generator seeded the same way (madsim has drawn a few values of
/// its own by then). From there on it draws from the private copy, whose stream is the one
/// madsim's would have given, so every outcome is what it was. Should a future madsim seed or
/// build its generator differently, the draw is not found and the executor keeps drawing from
/// madsim's generator: slower, equally deterministic. A test checks the fast path is taken.
pub struct SimRng(Source);

enum Source {
    /// A copy of madsim's generator, in step with it.
    Copy(Xoshiro256PlusPlus),
    /// madsim's generator itself; `first` is the value drawn from it while looking for the
    /// copy's step, handed out before its next ones.
    Madsim { rng: GlobalRng, first: Option<u64> },
}

thread_local! {
    static THROUGH_MADSIM: Cell<bool> = const { Cell::new(false) };
}

/// Make executors created on this thread draw through madsim's own generator (and its lock),
/// so that `madsim::runtime::Runtime::check_determinism` sees every draw. The stream is the
/// same either way; the determinism tests use this to check both that and madsim's log.
pub fn draw_through_madsim(on: bool) {
    THROUGH_MADSIM.with(|t| t.set(on));
}

impl SimRng {
    /// How far into the stream madsim may have drawn before the model's first draw.
    const SEARCH: usize = 64;

    fn new(mut madsim: GlobalRng, seed: u64) -> SimRng {
        let v = madsim.next_u64();
        if !THROUGH_MADSIM.with(Cell::get) {
            let mut copy = Xoshiro256PlusPlus::seed_from_u64(seed);
            for _ in 0..Self::SEARCH {
                // The copy as it was before it gave `v` gives `v` first, then what madsim's
                // generator would give next.
                let before = copy.clone();
                if copy.next_u64() == v {
                    return SimRng(Source::Copy(before));
                }
            }
        }
        SimRng(Source::Madsim {
            rng: madsim,
            first: Some(v),
        })
    }
}

impl RngCore for SimRng {
    #[inline]
    fn next_u64(&mut self) -> u64 {
        match &mut self.0 {
            Source::Copy(rng) => rng.next_u64(),
            Source::Madsim { rng, first } => first.take().unwrap_or_else(|| rng.next_u64()),
        }
    }

    #[inline]
    fn next_u32(&mut self) -> u32 {
        // As Xoshiro256PlusPlus (and so madsim) does: the upper bits of a 64-bit draw.
        (self.next_u64() >> 32) as u32
    }

    fn fill_bytes(&mut self, dest: &mut [u8]) {
        rand_core::impls::fill_bytes_via_next(self, dest);
    }

    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), madsim::rand::Error> {
        self.fill_bytes(dest);
        Ok(())
    }
}

/// A process of the simulated system. Tasks belong to a node; a crash drops them all.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Node {
    /// The HTTP clients that run the workload.
    Client,
    /// The tickets service.
    Tickets,
    /// Orders-service replica number `n` (1-based).
    Orders(u8),
    /// The NATS Streaming server.
    Bus,
    /// The fault injector: crashes, pauses, partitions and the heal happen here.
    Faults,
}

impl fmt::Display for Node {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Node::Client => f.write_str("client"),
            Node::Tickets => f.write_str("tickets"),
            Node::Orders(n) => write!(f, "orders-{n}"),
            Node::Bus => f.write_str("bus"),
            Node::Faults => f.write_str("faults"),
        }
    }
}

impl serde::Serialize for Node {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// A handle to a spawned task. Stale handles (of finished tasks) are ignored when woken.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TaskId {
    index: u32,
    generation: u32,
}

impl TaskId {
    #[cfg(test)]
    pub(crate) fn for_test(index: u32) -> TaskId {
        TaskId {
            index,
            generation: 0,
        }
    }
}

type TaskFuture = Pin<Box<dyn Future<Output = ()>>>;

struct Slot {
    generation: u32,
    node: Node,
    queued: bool,
    future: Option<TaskFuture>,
}

/// Why [`Executor::run`] returned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Halt {
    /// Nothing is ready and no timer is set: the simulation has nothing left to do.
    Idle,
    /// The next timer lies beyond the time limit.
    TimeLimit,
    /// The step limit was reached (a guard against a model that never stops).
    StepLimit,
}

/// The scheduler. Single-threaded: one per run, inside one madsim runtime.
pub struct Executor {
    now_us: Cell<u64>,
    /// How far madsim's clock has been advanced (it lags while no debug logging is enabled).
    madsim_us: Cell<u64>,
    slots: RefCell<Vec<Slot>>,
    free: RefCell<Vec<u32>>,
    ready: RefCell<Vec<TaskId>>,
    /// Timers by (deadline, insertion sequence): ties fire in insertion order and then join the
    /// ready set, where the order they run in is drawn at random.
    timers: RefCell<TimerQueue>,
    timer_seq: Cell<u64>,
    current: Cell<Option<TaskId>>,
    live: Cell<usize>,
    steps: Cell<u64>,
    rng: RefCell<SimRng>,
    /// Crashed nodes: a task spawned on one is dropped at once.
    down: RefCell<Vec<Node>>,
    /// Paused nodes: their ready tasks wait in `held` until the node resumes.
    paused: RefCell<Vec<Node>>,
    held: RefCell<Vec<TaskId>>,
}

impl Executor {
    /// A scheduler at time 0 drawing from `rng` (madsim's, seeded by the run's `seed`).
    pub fn new(rng: GlobalRng, seed: u64) -> Self {
        let rng = SimRng::new(rng, seed);
        Self {
            now_us: Cell::new(0),
            madsim_us: Cell::new(0),
            slots: RefCell::new(Vec::new()),
            free: RefCell::new(Vec::new()),
            ready: RefCell::new(Vec::new()),
            timers: RefCell::new(TimerQueue::default()),
            timer_seq: Cell::new(0),
            current: Cell::new(None),
            live: Cell::new(0),
            steps: Cell::new(0),
            rng: RefCell::new(rng),
            down: RefCell::new(Vec::new()),
            paused: RefCell::new(Vec::new()),
            held: RefCell::new(Vec::new()),
        }
    }

    /// Whether draws come from the lock-free copy of madsim's generator (see [`SimRng`]).
    pub fn draws_without_lock(&self) -> bool {
        matches!(self.rng.borrow().0, Source::Copy(_))
    }

    /// Simulated time in microseconds since the start of the run.
    pub fn now_us(&self) -> u64 {
        self.now_us.get()
    }

    /// Number of task polls so far.
    pub fn steps(&self) -> u64 {
        self.steps.get()
    }

    /// Number of tasks spawned and not yet finished.
    pub fn live_tasks(&self) -> usize {
        self.live.get()
    }

    /// A uniform draw from `range` using the run's RNG.
    pub fn gen_range(&self, range: std::ops::Range<u64>) -> u64 {
        self.rng.borrow_mut().gen_range(range)
    }

    /// A draw that is true with probability `p`.
    pub fn gen_bool(&self, p: f64) -> bool {
        p > 0.0 && self.rng.borrow_mut().gen_bool(p.min(1.0))
    }

    /// Spawn a task on `node`. It first runs when the scheduler next picks from the ready set.
    pub fn spawn(&self, node: Node, future: impl Future<Output = ()> + 'static) -> Option<TaskId> {
        if self.is_down(node) {
            // Dropped here, with no borrow held: dropping may close a reply channel.
            drop(future);
            return None;
        }
        let future: TaskFuture = Box::pin(future);
        let mut slots = self.slots.borrow_mut();
        let id = match self.free.borrow_mut().pop() {
            Some(index) => {
                let slot = &mut slots[index as usize];
                slot.node = node;
                slot.queued = true;
                slot.future = Some(future);
                TaskId {
                    index,
                    generation: slot.generation,
                }
            }
            None => {
                let index = u32::try_from(slots.len()).expect("fewer than 2^32 live tasks");
                slots.push(Slot {
                    generation: 0,
                    node,
                    queued: true,
                    future: Some(future),
                });
                TaskId {
                    index,
                    generation: 0,
                }
            }
        };
        self.live.set(self.live.get() + 1);
        self.ready.borrow_mut().push(id);
        Some(id)
    }

    /// The task being polled. Leaf futures use it to know whom to wake.
    ///
    /// # Panics
    /// Outside a task poll: a leaf future awaited outside the executor is a bug.
    pub fn current(&self) -> TaskId {
        self.current
            .get()
            .expect("a ticketsim future was polled outside its executor")
    }

    /// Make `task` ready (once, however often it is woken before it runs).
    pub fn wake(&self, task: TaskId) {
        let mut slots = self.slots.borrow_mut();
        let slot = &mut slots[task.index as usize];
        if slot.generation == task.generation && !slot.queued {
            slot.queued = true;
            self.ready.borrow_mut().push(task);
        }
    }

    fn add_timer(&self, at_us: u64, task: TaskId) {
        let seq = self.timer_seq.get();
        self.timer_seq.set(seq + 1);
        self.timers.borrow_mut().push(at_us, seq, task);
    }

    /// A future that completes `duration_us` from now. Always yields, even for 0.
    pub fn sleep(&self, duration_us: u64) -> Sleep<'_> {
        self.sleep_until(self.now_us() + duration_us)
    }

    /// A future that completes at `deadline_us` (or yields once if that has passed).
    pub fn sleep_until(&self, deadline_us: u64) -> Sleep<'_> {
        Sleep {
            exec: self,
            deadline_us,
            armed: false,
        }
    }

    /// Run until nothing is left to do, the next event lies beyond `limit_us`, or `max_steps`
    /// task polls have run.
    pub fn run(&self, limit_us: u64, max_steps: u64) -> Halt {
        loop {
            while let Some(task) = self.pick_ready() {
                if self.steps.get() >= max_steps {
                    return Halt::StepLimit;
                }
                self.steps.set(self.steps.get() + 1);
                self.poll(task);
            }
            let due = self
                .timers
                .borrow_mut()
                .pop_earliest(limit_us, |task| self.wake(task));
            match due {
                Due::Nothing => return Halt::Idle,
                Due::After(_) => return Halt::TimeLimit,
                Due::At(at) => self.advance_to(at),
            }
        }
    }

    fn advance_to(&self, t_us: u64) {
        if t_us > self.now_us.get() {
            self.now_us.set(t_us);
            // Log lines are stamped with madsim's clock, so it follows ours whenever ticketsim
            // logs anything. Only then: advancing it costs ~11% of a run, and nothing else in
            // the simulation reads it.
            if tracing::enabled!(target: "ticketsim::trace", tracing::Level::DEBUG) {
                let behind = t_us - self.madsim_us.get();
                self.madsim_us.set(t_us);
                madsim::time::advance(std::time::Duration::from_micros(behind));
            }
        }
    }

    fn pick_ready(&self) -> Option<TaskId> {
        loop {
            let task = {
                let mut ready = self.ready.borrow_mut();
                match ready.len() {
                    0 => None,
                    1 => ready.pop(),
                    n => {
                        let i = self.rng.borrow_mut().gen_range(0..n);
                        Some(ready.swap_remove(i))
                    }
                }
            }?;
            let paused = self.paused.borrow();
            if paused.is_empty() {
                return Some(task);
            }
            let node = self.slots.borrow()[task.index as usize].node;
            if !paused.contains(&node) {
                return Some(task);
            }
            self.held.borrow_mut().push(task);
        }
    }

    /// Whether `node` is crashed.
    pub fn is_down(&self, node: Node) -> bool {
        self.down.borrow().contains(&node)
    }

    /// Whether `node` is paused.
    pub fn is_paused(&self, node: Node) -> bool {
        self.paused.borrow().contains(&node)
    }

    /// Crash `node`: drop every task it has and refuse new ones until [`Executor::restart`].
    /// Returns how many tasks were dropped.
    pub fn crash(&self, node: Node) -> usize {
        if !self.is_down(node) {
            self.down.borrow_mut().push(node);
        }
        self.kill(node)
    }

    /// Let `node` run tasks again after a crash (it starts empty).
    pub fn restart(&self, node: Node) {
        self.down.borrow_mut().retain(|&n| n != node);
    }

    /// Stop running `node`'s tasks until [`Executor::resume`]; its timers still fire, and the
    /// tasks they wake wait.
    pub fn pause(&self, node: Node) {
        if !self.is_paused(node) {
            self.paused.borrow_mut().push(node);
        }
    }

    /// Run `node`'s tasks again, each from where it stopped.
    pub fn resume(&self, node: Node) {
        self.paused.borrow_mut().retain(|&n| n != node);
        let slots = self.slots.borrow();
        let mut held = self.held.borrow_mut();
        let mut ready = self.ready.borrow_mut();
        held.retain(|task| {
            let slot = &slots[task.index as usize];
            if slot.generation != task.generation {
                return false; // killed while held
            }
            if slot.node == node {
                ready.push(*task);
                return false;
            }
            true
        });
    }

    fn poll(&self, task: TaskId) {
        let future = {
            let mut slots = self.slots.borrow_mut();
            let slot = &mut slots[task.index as usize];
            if slot.generation != task.generation {
                return;
            }
            slot.queued = false;
            slot.future.take()
        };
        let Some(mut future) = future else { return };
        self.current.set(Some(task));
        let done = future
            .as_mut()
            .poll(&mut Context::from_waker(Waker::noop()))
            .is_ready();
        self.current.set(None);
        let mut slots = self.slots.borrow_mut();
        let slot = &mut slots[task.index as usize];
        if slot.generation != task.generation {
            // The task's node was killed while it ran; the future is dropped below.
        } else if done {
            self.release(slot, task.index);
        } else {
            slot.future = Some(future);
            return;
        }
        drop(slots);
        drop(future);
    }

    fn release(&self, slot: &mut Slot, index: u32) {
        slot.generation = slot.generation.wrapping_add(1);
        slot.queued = false;
        self.free.borrow_mut().push(index);
        self.live.set(self.live.get() - 1);
    }

    /// Drop every task of `node`, as a crash does: their futures stop at their current await.
    pub fn kill(&self, node: Node) -> usize {
        let mut dropped = Vec::new();
        {
            let mut slots = self.slots.borrow_mut();
            for index in 0..slots.len() {
                let slot = &mut slots[index];
                let running = self
                    .current
                    .get()
                    .is_some_and(|c| c.index as usize == index);
                if slot.node == node && (slot.future.is_some() || running) {
                    dropped.extend(slot.future.take());
                    self.release(slot, index as u32);
                }
            }
        }
        // Dropping futures may wake other tasks (a reply channel closing), so no borrow is held.
        let n = dropped.len();
        drop(dropped);
        n
    }

    /// Drop every task. Futures hold handles to the world that owns this executor; clearing
    /// them at the end of a run breaks that cycle so the run's memory is freed.
    pub fn clear(&self) {
        let futures: Vec<_> = self
            .slots
            .borrow_mut()
            .iter_mut()
            .filter_map(|s| s.future.take())
            .collect();
        self.ready.borrow_mut().clear();
        self.held.borrow_mut().clear();
        self.timers.borrow_mut().clear();
        drop(futures);
    }
}

/// The future returned by [`Executor::sleep`].
#[must_use = "futures do nothing unless awaited"]
pub struct Sleep<'a> {
    exec: &'a Executor,
    deadline_us: u64,
    armed: bool,
}

impl Future for Sleep<'_> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<()> {
        if !self.armed {
            self.armed = true;
            let at = self.deadline_us.max(self.exec.now_us());
            self.exec.add_timer(at, self.exec.current());
            return Poll::Pending;
        }
        if self.exec.now_us() >= self.deadline_us {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }
}

/// A wake-up for one parked task: [`Signal::wait`] parks until [`Signal::notify`].
#[derive(Default)]
pub struct Signal {
    waiter: Cell<Option<TaskId>>,
    notified: Cell<bool>,
}

impl Signal {
    /// Wake the parked task, or let its next `wait` return at once.
    pub fn notify(&self, exec: &Executor) {
        self.notified.set(true);
        if let Some(task) = self.waiter.take() {
            exec.wake(task);
        }
    }

    /// Park the current task until notified.
    pub fn wait<'a>(&'a self, exec: &'a Executor) -> impl Future<Output = ()> + 'a {
        std::future::poll_fn(move |_| {
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
        *self.chan.value.borrow_mut() = Some(value);
        // Drop runs next and wakes the receiver.
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        self.chan.closed.set(true);
        if let Some(task) = self.chan.waiter.take() {
            self.exec.wake(task);
        }
    }
}
