//! A handle to a task of the executor, as the timers and wake-ups name it.

/// A handle to a spawned task. Stale handles (of finished tasks) are ignored when woken.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TaskId {
    pub(crate) index: u32,
    pub(crate) generation: u32,
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
