//! The scheduler every model future runs on: simulated time, tasks owned by nodes, a
//! `ready_at` timer queue and a ready set drawn from at random.
//!
//! Why not madsim's own tasks and sleeps? Measured on the project's 2-core machines, a madsim
//! `task::spawn` costs ~550 ns and each `time::sleep` ~400 ns, so a delivery (spawn, delivery
//! latency, find, save) cannot go faster than ~0.57 M/s before any model work, against a goal of
//! 1.5 M/s. This executor keeps madsim's semantics (a seeded run, tasks on nodes, a ready set
//! drawn at random, time that jumps to the next timer) at a few tens of nanoseconds per step. It
//! runs inside `madsim::Runtime::block_on`, draws from streams derived from the run's seed
//! (`sim::rng`), and it advances madsim's clock along with its own whenever debug logs are on,
//! so they are stamped with simulated time.
//!
//! Every `.await` on a [`Sleep`] is a real interleaving point: even a zero-length sleep returns
//! to the scheduler, which may then run any other ready task first.

use crate::model::node::Node;
use crate::sim::choice::Chooser;
use crate::sim::footprint::Resource;
use crate::sim::rng::Streams;
use crate::sim::sleep_sets::{SleepSets, Tasks};
use crate::sim::tape::{ChoiceKind, ChoiceOf};
use crate::sim::task::TaskId;
use crate::sim::timers::{Due, TimerQueue};
use madsim::rand::GlobalRng;
use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

type TaskFuture = Pin<Box<dyn Future<Output = ()>>>;

struct Slot {
    generation: u32,
    node: Node,
    queued: bool,
    /// Every step of it counts as touching everything (`sim::footprint`).
    opaque: bool,
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
    /// Exploring with the reduction of tie orders, the run became equivalent to one the search
    /// runs anyway (`sim::sleep_sets`): it is not judged.
    Redundant,
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
    chooser: RefCell<Chooser>,
    /// Crashed nodes: a task spawned on one is dropped at once.
    down: RefCell<Vec<Node>>,
    /// Paused nodes: their ready tasks wait in `held` until the node resumes.
    paused: RefCell<Vec<Node>>,
    held: RefCell<Vec<TaskId>>,
    /// Called after each step with the node whose task ran, when set: the fault injector's
    /// crash points, when faults are anchored to events (`sim::faults`).
    after_step: RefCell<Option<StepHook>>,
    /// The last number given to a channel as a resource ([`Executor::touch_sync`]).
    sync_ids: Cell<u64>,
    /// Exploring with the reduction of tie orders: the run's sleep sets.
    sleep: RefCell<Option<Box<SleepSets>>>,
    /// Whether `sleep` is on.
    reducing: Cell<bool>,
    /// Whether a task sleeps: then every step's footprint is recorded.
    recording: Cell<bool>,
}

/// What [`Executor::after_each_step`] calls.
pub type StepHook = std::rc::Rc<dyn Fn(Node)>;

impl Executor {
    /// A scheduler at time 0 drawing from the streams of `seed` ([`Streams`]); `rng` is
    /// madsim's generator, drawn from only to show madsim's determinism checker each choice.
    pub fn new(rng: GlobalRng, seed: u64) -> Self {
        let chooser = Chooser::seeded(Streams::new(seed, rng));
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
            chooser: RefCell::new(chooser),
            down: RefCell::new(Vec::new()),
            paused: RefCell::new(Vec::new()),
            held: RefCell::new(Vec::new()),
            after_step: RefCell::new(None),
            sync_ids: Cell::new(0),
            sleep: RefCell::new(None),
            reducing: Cell::new(false),
            recording: Cell::new(false),
        }
    }

    /// Reduce tie orders with sleep sets (before the run starts; an exploration's schedule):
    /// the run stops as soon as it is equivalent to one the search runs anyway.
    pub fn reduce_ties(&self) {
        *self.sleep.borrow_mut() = Some(Box::default());
        self.reducing.set(true);
    }

    /// The running step read (`write` false) or wrote `resource`. Recorded only while
    /// reducing tie orders and some task sleeps; otherwise one untaken branch.
    #[inline(always)]
    pub fn touch(&self, resource: Resource, write: bool) {
        if self.recording.get() {
            self.noted_touch(resource, write);
        }
    }

    /// The running step waited on or signalled the channel numbered `id` (0: none yet, it gets
    /// the run's next). Recorded, and numbered, only as [`Executor::touch`] records.
    #[inline(always)]
    pub fn touch_sync(&self, id: &Cell<u64>) {
        if self.recording.get() {
            if id.get() == 0 {
                self.sync_ids.set(self.sync_ids.get() + 1);
                id.set(self.sync_ids.get());
            }
            self.noted_touch(Resource::Sync(id.get()), true);
        }
    }

    /// The running step did something no resource names: it is dependent with every step.
    #[inline(always)]
    pub fn touch_everything(&self) {
        if self.recording.get() {
            self.note(SleepSets::touch_everything);
        }
    }

    #[cold]
    #[inline(never)]
    fn noted_touch(&self, resource: Resource, write: bool) {
        self.note(|s| s.touch(resource, write));
    }

    #[cold]
    #[inline(never)]
    fn note(&self, f: impl FnOnce(&mut SleepSets)) {
        if let Some(s) = self.sleep.borrow_mut().as_mut() {
            f(s);
        }
    }

    /// Call `hook` after every step from the next [`Executor::run`] on, with the node of the
    /// task that ran (which may have been crashed meanwhile). Only an exploration sets one;
    /// [`Executor::clear`] drops it.
    pub fn after_each_step(&self, hook: StepHook) {
        *self.after_step.borrow_mut() = Some(hook);
    }

    /// The run's chooser, to drive it by a tape or record its tape (before the run starts),
    /// and to read what it chose (after).
    pub fn chooser(&self) -> std::cell::RefMut<'_, Chooser> {
        self.chooser.borrow_mut()
    }

    /// Simulated time in microseconds since the start of the run.
    pub fn now_us(&self) -> u64 {
        self.now_us.get()
    }

    /// Number of task polls so far.
    pub fn steps(&self) -> u64 {
        self.steps.get()
    }

    /// Number of timers set so far.
    pub fn timers_set(&self) -> u64 {
        self.timer_seq.get()
    }

    /// Number of tasks spawned and not yet finished.
    pub fn live_tasks(&self) -> usize {
        self.live.get()
    }

    /// A choice of `kind` about `of` in `range` (not empty): its start is the nominal option.
    /// Under a seed, a uniform draw.
    #[inline]
    pub fn choose_in(&self, kind: ChoiceKind, of: ChoiceOf, range: std::ops::Range<u64>) -> u64 {
        range.start
            + self
                .chooser
                .borrow_mut()
                .choose(kind, of, range.end - range.start)
    }

    /// A choice of `kind` about `of` that is true with probability `p` under a seed (false is
    /// nominal).
    #[inline]
    pub fn chance(&self, kind: ChoiceKind, of: ChoiceOf, p: f64) -> bool {
        self.chooser.borrow_mut().chance(kind, of, p)
    }

    /// Spawn a task on `node`. It first runs when the scheduler next picks from the ready set.
    pub fn spawn(&self, node: Node, future: impl Future<Output = ()> + 'static) -> Option<TaskId> {
        if self.is_down(node) {
            self.touch_everything();
            // Dropped here, with no borrow held: dropping may close a reply channel.
            drop(future);
            return None;
        }
        // The fault injector's work is not modelled piece by piece.
        self.spawn_boxed(node, Box::pin(future), node == Node::Faults)
    }

    /// Spawn a task on `node` every step of which counts as touching everything
    /// (`sim::footprint`): for work the reduction of tie orders does not model piece by piece
    /// (a process's NATS session, its restart).
    pub fn spawn_opaque(
        &self,
        node: Node,
        future: impl Future<Output = ()> + 'static,
    ) -> Option<TaskId> {
        if self.is_down(node) {
            self.touch_everything();
            drop(future);
            return None;
        }
        self.spawn_boxed(node, Box::pin(future), true)
    }

    #[inline(always)]
    fn spawn_boxed(&self, node: Node, future: TaskFuture, opaque: bool) -> Option<TaskId> {
        let mut slots = self.slots.borrow_mut();
        let id = match self.free.borrow_mut().pop() {
            Some(index) => {
                let slot = &mut slots[index as usize];
                slot.node = node;
                slot.queued = true;
                slot.opaque = opaque;
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
                    opaque,
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
        if self.recording.get() {
            self.noted_spawn(id);
        }
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
        let pushed = slot.generation == task.generation && !slot.queued;
        if pushed {
            slot.queued = true;
            self.ready.borrow_mut().push(task);
        }
        if self.recording.get() {
            self.noted_wake(task, pushed);
        }
    }

    #[cold]
    #[inline(never)]
    fn noted_wake(&self, task: TaskId, pushed: bool) {
        self.note(|s| {
            s.touch(Resource::Task(task), true);
            if pushed {
                s.pushed(task);
            }
        });
    }

    #[cold]
    #[inline(never)]
    fn noted_spawn(&self, task: TaskId) {
        self.note(|s| {
            s.took(task);
            s.pushed(task);
        });
    }

    #[inline]
    fn add_timer(&self, at_us: u64, task: TaskId) {
        // Timers of one instant wake their tasks in the order they were set.
        self.touch(Resource::Timers(at_us), true);
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
        let after_step = self.after_step.borrow().clone();
        if self.reducing.get() {
            self.run_exploring::<true>(limit_us, max_steps, after_step.as_ref())
        } else if after_step.is_some() {
            self.run_exploring::<false>(limit_us, max_steps, after_step.as_ref())
        } else {
            self.run_as::<false, false>(limit_us, max_steps, None)
        }
    }

    #[inline(never)]
    fn run_exploring<const REDUCING: bool>(
        &self,
        limit_us: u64,
        max_steps: u64,
        after_step: Option<&StepHook>,
    ) -> Halt {
        self.run_as::<REDUCING, true>(limit_us, max_steps, after_step)
    }

    /// [`Executor::run`], reducing tie orders or not, and calling `after_step` or not:
    /// compiled apart, so that a seeded run's loop has nothing of an exploration in it.
    /// `after_step` (with `HOOKED`) is called after each step, as part of it (a crash anchored
    /// to the await the step ended at).
    #[inline(always)]
    fn run_as<const REDUCING: bool, const HOOKED: bool>(
        &self,
        limit_us: u64,
        max_steps: u64,
        after_step: Option<&StepHook>,
    ) -> Halt {
        loop {
            while let Some(task) = self.pick_ready::<REDUCING>() {
                if self.steps.get() >= max_steps {
                    return Halt::StepLimit;
                }
                self.steps.set(self.steps.get() + 1);
                let live = REDUCING && self.recording.get() && self.is_live(task);
                match after_step.filter(|_| HOOKED) {
                    None => self.poll(task),
                    Some(hook) => {
                        let node = self.slots.borrow()[task.index as usize].node;
                        self.poll(task);
                        hook(node);
                    }
                }
                if REDUCING && self.recording.get() && self.step_done(task, live) {
                    return Halt::Redundant;
                }
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

    #[inline(always)]
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

    #[inline(always)]
    fn pick_ready<const REDUCING: bool>(&self) -> Option<TaskId> {
        loop {
            let task = {
                let mut ready = self.ready.borrow_mut();
                match ready.len() {
                    0 => None,
                    1 => {
                        if REDUCING && self.recording.get() {
                            self.picked(&ready, 0);
                        }
                        ready.pop()
                    }
                    n => {
                        let i = self.chooser.borrow_mut().choose(
                            ChoiceKind::Tie,
                            ChoiceOf::Ready,
                            n as u64,
                        ) as usize;
                        if REDUCING && (i > 0 || self.recording.get()) {
                            self.picked(&ready, i);
                        }
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
            if REDUCING && self.recording.get() {
                // What waits on a paused node is not replayed: nothing sleeps past it.
                self.note(SleepSets::forget);
                self.recording.set(false);
            }
            self.held.borrow_mut().push(task);
        }
    }

    /// The task at `at` of `ready` is picked (while reducing tie orders): a deviation puts the
    /// tasks before it to sleep.
    #[cold]
    #[inline(never)]
    fn picked(&self, ready: &[TaskId], at: usize) {
        let mut sleep = self.sleep.borrow_mut();
        let Some(s) = sleep.as_mut() else { return };
        if at > 0 {
            s.join(
                at,
                Tasks {
                    ready,
                    free: &self.free.borrow(),
                    slots: self.slots.borrow().len(),
                },
            );
            self.recording.set(true);
        } else {
            s.picked(at, ready.len());
        }
    }

    /// Whether `task` has not ended (nor been dropped).
    fn is_live(&self, task: TaskId) -> bool {
        self.slots.borrow()[task.index as usize].generation == task.generation
    }

    /// The step of `task` ended (while some task sleeps), `task` having been `live` before it:
    /// whether the run is now redundant.
    #[cold]
    #[inline(never)]
    fn step_done(&self, task: TaskId, live: bool) -> bool {
        let choices = self.chooser.borrow().choices_so_far();
        let mut sleep = self.sleep.borrow_mut();
        let Some(s) = sleep.as_mut() else {
            return false;
        };
        s.touch(Resource::Task(task), true);
        let slots = self.slots.borrow();
        if slots[task.index as usize].opaque {
            s.touch_everything();
        }
        if live && !self.is_live(task) {
            // It ended, after everything it spawned: its slot went back to the free list.
            s.freed(task.index);
        }
        drop(slots);
        let stop = s.done(
            task,
            choices,
            Tasks {
                ready: &self.ready.borrow(),
                free: &self.free.borrow(),
                slots: self.slots.borrow().len(),
            },
        );
        self.recording.set(s.active());
        stop
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
        self.touch_everything();
        if !self.is_down(node) {
            self.down.borrow_mut().push(node);
        }
        self.kill(node)
    }

    /// Let `node` run tasks again after a crash (it starts empty).
    pub fn restart(&self, node: Node) {
        self.touch_everything();
        self.down.borrow_mut().retain(|&n| n != node);
    }

    /// Stop running `node`'s tasks until [`Executor::resume`]; its timers still fire, and the
    /// tasks they wake wait.
    pub fn pause(&self, node: Node) {
        self.touch_everything();
        if !self.is_paused(node) {
            self.paused.borrow_mut().push(node);
        }
    }

    /// Run `node`'s tasks again, each from where it stopped.
    pub fn resume(&self, node: Node) {
        self.touch_everything();
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

    #[inline(always)]
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
        self.touch_everything();
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
        let hook = self.after_step.borrow_mut().take();
        drop(futures);
        drop(hook);
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

    #[inline]
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
