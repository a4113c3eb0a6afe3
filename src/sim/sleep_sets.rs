//! Sleep sets over tie orders, for the explorer: when a run has become equivalent to one of no
//! more deviations that comes earlier in the search's order, the rest of it need not run.
//!
//! A schedule of an exploration deviates at a tie by running the ready task at position `k > 0`
//! first. The tasks at positions `0..k` of that ready list were each run first by another
//! schedule: the nominal one (position 0) or a sibling deviation. They are put to *sleep*
//! there, at that *join*. When a sleeping task `x` later runs in this schedule, its step is
//! compared with every step since the join (the *segment*):
//!
//! 1. `x`'s footprint conflicts with none of them (`sim::footprint`): running `x` first at the
//!    join leaves every piece of state the same, the trace included;
//! 2. the executor's own state ends the same: the ready list, replayed with `x` first and the
//!    segment's steps after it in their order, is the list this run has now, element for
//!    element; and the task slots, replayed the same way, are assigned the same (a crash drops a
//!    node's tasks in slot order, which decides the order of what their dropping wakes);
//! 3. the replayed order costs no more deviations than this run's: a pick is a deviation when it
//!    takes another than the first of two or more ready tasks.
//!
//! Then the schedule Q that runs `x` at the join (its position there, `< k`), then the segment's
//! steps in order, then makes every later choice as this run does, has the same history as this
//! run and as any run that only adds deviations after this point, and no more deviations: the
//! state after the segment is the same in both, so everything after it is too, choice for
//! choice. Q comes before this schedule in the order that compares runs choice by choice (at the
//! join it takes a smaller option), so it is either run to its end by the search or itself
//! equivalent to an earlier one, and so on down a finite chain. The run stops here, and the
//! search adds no deviation after this point ([`SleepSets::stopped`]). This holds within the
//! deviation bound, not only for the unbounded space: conditions 2 and 3 are what the bound
//! needs beyond the classical argument.

use crate::sim::footprint::{Footprint, Resource};
use crate::sim::task::TaskId;

/// A step as the reduction remembers it.
#[derive(Debug, Default)]
struct Step {
    task: Option<TaskId>,
    /// The position it was picked at, and the ready list's length then.
    at: usize,
    of: usize,
    footprint: Footprint,
    /// The tasks it made ready, in order.
    pushed: Vec<TaskId>,
    /// The task slots it took and freed, in order.
    slots: Vec<Slot>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Slot {
    /// A spawned task took a slot (its index), from the free list or a new one.
    Take(TaskId),
    /// A task ended, and its slot went back to the free list.
    Free(u32),
}

/// A tie where the run deviated: the ready list and the free slots before the pick.
#[derive(Debug)]
struct Join {
    ready: Vec<TaskId>,
    free: Vec<u32>,
    slots: usize,
    /// The index in the log of the step picked there.
    first: usize,
}

/// The executor's task bookkeeping at one moment, to compare a replayed order against.
pub struct Tasks<'a> {
    /// The ready list.
    pub ready: &'a [TaskId],
    /// The free slots, in the order they are reused (the last first).
    pub free: &'a [u32],
    /// How many slots there are.
    pub slots: usize,
}

/// The sleeping tasks of one run, and what it did since the first of them fell asleep.
#[derive(Debug, Default)]
pub struct SleepSets {
    /// The step being run.
    current: Step,
    /// Every step since the first join still standing.
    log: Vec<Step>,
    joins: Vec<Join>,
    /// Each sleeping task and its join; a task may sleep at several.
    sleepers: Vec<(TaskId, usize)>,
    /// The choices made when the run became redundant, if it did.
    stopped: Option<u64>,
}

impl SleepSets {
    /// Whether any task sleeps: only then is anything recorded.
    pub fn active(&self) -> bool {
        !self.sleepers.is_empty()
    }

    /// The number of choices the run had made when it became redundant: a deviation at a later
    /// choice is redundant too.
    pub fn stopped(&self) -> Option<u64> {
        self.stopped
    }

    /// The run deviates at a tie: of `tasks.ready`, it runs the one at `at` first, and those
    /// before it fall asleep.
    pub fn join(&mut self, at: usize, tasks: Tasks<'_>) {
        let join = self.joins.len();
        for &task in &tasks.ready[..at] {
            self.sleepers.push((task, join));
        }
        self.joins.push(Join {
            ready: tasks.ready.to_vec(),
            free: tasks.free.to_vec(),
            slots: tasks.slots,
            first: self.log.len(),
        });
        self.picked(at, tasks.ready.len());
    }

    /// The next step is the task at `at` of a ready list of `of`.
    pub fn picked(&mut self, at: usize, of: usize) {
        self.current.at = at;
        self.current.of = of;
    }

    /// The step touched `resource`.
    pub fn touch(&mut self, resource: Resource, write: bool) {
        self.current.footprint.note(resource, write);
    }

    /// The step did something no resource names.
    pub fn touch_everything(&mut self) {
        self.current.footprint.everything = true;
    }

    /// The step made `task` ready.
    pub fn pushed(&mut self, task: TaskId) {
        self.current.pushed.push(task);
    }

    /// The step spawned `task` into its slot.
    pub fn took(&mut self, task: TaskId) {
        self.current.slots.push(Slot::Take(task));
    }

    /// A task of the step ended, freeing slot `index`.
    pub fn freed(&mut self, index: u32) {
        self.current.slots.push(Slot::Free(index));
    }

    /// Forget every sleeper: something happened that no replay can match (a step that touched
    /// everything, a task held on a paused node).
    pub fn forget(&mut self) {
        self.sleepers.clear();
        self.joins.clear();
        self.log.clear();
        self.current = Step::default();
    }

    /// The step of `task` ended, with the executor's tasks as `now`, after `choices` choices:
    /// whether the run is now redundant (and stops).
    pub fn done(&mut self, task: TaskId, choices: u64, now: Tasks<'_>) -> bool {
        let mut step = std::mem::take(&mut self.current);
        step.task = Some(task);
        if step.footprint.everything {
            self.forget();
            return false;
        }
        let mut redundant = false;
        let mut i = 0;
        while i < self.sleepers.len() {
            if self.sleepers[i].0 != task {
                i += 1;
                continue;
            }
            let (_, join) = self.sleepers.remove(i);
            redundant = redundant || self.commutes(&self.joins[join], &step, &now);
        }
        if redundant {
            self.stopped = Some(choices);
            self.forget();
        } else if self.sleepers.is_empty() {
            self.forget();
        } else {
            self.log.push(step);
        }
        redundant
    }

    /// Whether running `last` first at `join` would have left the run exactly where it is now,
    /// with no more deviations (conditions 1 to 3 of the module's comment).
    fn commutes(&self, join: &Join, last: &Step, now: &Tasks<'_>) -> bool {
        let segment = &self.log[join.first..];
        if segment
            .iter()
            .any(|s| s.footprint.conflicts(&last.footprint))
        {
            return false;
        }
        let replayed = std::iter::once(last).chain(segment);
        let Some(cost) = replay_ready(&join.ready, replayed.clone(), now.ready) else {
            return false;
        };
        let ran: usize = segment
            .iter()
            .chain(std::iter::once(last))
            .map(|s| usize::from(s.of >= 2 && s.at != 0))
            .sum();
        cost <= ran && replay_slots(join, replayed, now)
    }
}

/// The ready list that `steps`, run in this order from `ready`, leave, if it is `now`: the
/// deviations the picks cost then. `None` if a step's task is not ready when its turn comes,
/// or the list ends otherwise.
fn replay_ready<'a>(
    ready: &[TaskId],
    steps: impl Iterator<Item = &'a Step>,
    now: &[TaskId],
) -> Option<usize> {
    let mut ready = ready.to_vec();
    let mut cost = 0;
    for step in steps {
        let task = step.task?;
        let at = ready.iter().position(|&t| t == task)?;
        cost += usize::from(ready.len() >= 2 && at != 0);
        ready.swap_remove(at);
        ready.extend_from_slice(&step.pushed);
    }
    (ready == now).then_some(cost)
}

/// Whether `steps`, run in this order from `join`'s free slots, give every spawned task the
/// slot it has now and leave the free slots as they are now.
fn replay_slots<'a>(join: &Join, steps: impl Iterator<Item = &'a Step>, now: &Tasks<'_>) -> bool {
    let mut free = join.free.clone();
    let mut slots = join.slots;
    for slot in steps.flat_map(|s| &s.slots) {
        match *slot {
            Slot::Take(task) => {
                let index = free.pop().unwrap_or_else(|| {
                    slots += 1;
                    u32::try_from(slots - 1).expect("fewer than 2^32 tasks")
                });
                if index != task.index {
                    return false;
                }
            }
            Slot::Free(index) => free.push(index),
        }
    }
    free == now.free && slots == now.slots
}

#[cfg(test)]
mod tests {
    use super::*;

    fn task(i: u32) -> TaskId {
        TaskId::for_test(i)
    }

    fn tasks<'a>(ready: &'a [TaskId], free: &'a [u32], slots: usize) -> Tasks<'a> {
        Tasks { ready, free, slots }
    }

    /// Ready [a, b], the run takes b first (a sleeps), then a: neither touches anything the
    /// other does, and neither wakes anything. Running a first reaches the same state with no
    /// deviation: this run is redundant.
    #[test]
    fn an_independent_pair_taken_the_other_way_round_is_redundant() {
        let (a, b) = (task(0), task(1));
        let mut s = SleepSets::default();
        s.join(1, tasks(&[a, b], &[], 2));
        assert!(s.active());
        s.touch(
            Resource::Doc(crate::model::databases::DocKind::Replica, 1),
            false,
        );
        assert!(!s.done(b, 5, tasks(&[a], &[], 2)));
        s.picked(0, 1);
        s.touch(Resource::Trace, true);
        assert!(s.done(a, 9, tasks(&[], &[], 2)));
        assert_eq!(s.stopped(), Some(9));
        assert!(!s.active());
    }

    #[test]
    fn a_conflict_keeps_the_run() {
        let (a, b) = (task(0), task(1));
        let mut s = SleepSets::default();
        s.join(1, tasks(&[a, b], &[], 2));
        s.touch(Resource::Trace, true);
        assert!(!s.done(b, 5, tasks(&[a], &[], 2)));
        s.picked(0, 1);
        s.touch(Resource::Trace, true);
        assert!(!s.done(a, 9, tasks(&[], &[], 2)));
        assert_eq!(s.stopped(), None);
    }

    /// Ready [a, b]; b wakes c, a wakes d. This run: b, then [a, c], a (position 0) leaves
    /// [c] and then [c, d]. Run a first: [b, d], b leaves [d], then [d, c]. The ready orders
    /// differ, and what runs next with no deviation differs with them: not redundant.
    #[test]
    fn another_ready_order_keeps_the_run() {
        let (a, b, c, d) = (task(0), task(1), task(2), task(3));
        let mut s = SleepSets::default();
        s.join(1, tasks(&[a, b], &[], 4));
        s.pushed(c);
        assert!(!s.done(b, 5, tasks(&[a, c], &[], 4)));
        s.picked(0, 2);
        s.pushed(d);
        assert!(!s.done(a, 9, tasks(&[c, d], &[], 4)));
    }

    /// Ready [a, b]; b spawns e, which takes the free slot 7; then a ends, freeing slot 0. Run
    /// a first: slot 0 is freed, and e takes it instead. Not the same slots: not redundant.
    #[test]
    fn other_slots_keep_the_run() {
        let (a, b) = (task(0), task(1));
        let e = TaskId::for_test(7);
        let mut s = SleepSets::default();
        s.join(1, tasks(&[a, b], &[7], 8));
        s.took(e);
        s.pushed(e);
        assert!(!s.done(b, 5, tasks(&[a, e], &[], 8)));
        s.picked(0, 2);
        s.freed(0);
        assert!(!s.done(a, 9, tasks(&[e], &[0], 8)));
    }

    #[test]
    fn a_step_that_touches_everything_wakes_every_sleeper() {
        let (a, b) = (task(0), task(1));
        let mut s = SleepSets::default();
        s.join(1, tasks(&[a, b], &[], 2));
        s.touch_everything();
        assert!(!s.done(b, 5, tasks(&[a], &[], 2)));
        assert!(!s.active());
    }
}
