//! The executor's timers: a timing wheel of one-microsecond slots for the near future, and a
//! binary heap for the rest.
//!
//! Timers come out by deadline, and timers of one deadline in the order they were set (their
//! sequence number). That order decides which tasks join the ready set together, so it is part
//! of every run's outcome: this queue must give exactly the order a heap on
//! `(deadline, sequence)` gives (a test checks it against one).
//!
//! Why a wheel: almost every timer is a latency sleep of a few milliseconds, and a run sets
//! about six per delivery. On the binary heap it replaced, `pop` alone was 10% of a run
//! (about 9 levels at a few hundred live timers). Here a timer due within [`WINDOW`]
//! microseconds of the last deadline taken goes to the slot of its deadline: setting it is a
//! bit and a list append, taking it a scan of at most three bitmap words. Timers further away
//! (the 5 s ack wait, a fault's schedule) go to the heap, and each take compares the two.

use crate::sim::task::TaskId;
use std::collections::BinaryHeap;

/// Slots in the wheel, one per microsecond: deadlines up to 4 ms past the last deadline taken.
pub const WINDOW: u64 = 1 << 12;
const MASK: u64 = WINDOW - 1;
const WORDS: usize = (WINDOW / 64) as usize;
const NIL: u32 = u32::MAX;

/// What [`TimerQueue::pop_earliest`] found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Due {
    /// No timer is set.
    Nothing,
    /// The earliest timers are due at this time, beyond the limit; none was taken.
    After(u64),
    /// The timers due at this time were taken.
    At(u64),
}

/// The timers of one run.
pub struct TimerQueue {
    /// The deadline of the last timer taken. Every timer in the wheel is due in
    /// `[base, base + WINDOW)`, so a slot holds timers of one deadline only.
    base: u64,
    /// Per slot, the first and last entry of its list (meaningful only while its bit is set).
    slots: Vec<(u32, u32)>,
    /// One bit per slot: it holds a timer.
    bits: [u64; WORDS],
    /// One bit per word of `bits`: it is not zero.
    summary: u64,
    /// The wheel's timers, linked per slot in the order they were set; `free` heads the list of
    /// unused entries.
    entries: Vec<Entry>,
    free: u32,
    /// Timers beyond the wheel's window.
    far: BinaryHeap<Far>,
}

struct Entry {
    seq: u64,
    task: TaskId,
    next: u32,
}

/// A far timer: ordered by `key` alone (`deadline << 64 | sequence`, unique), smallest first.
#[derive(Clone, Copy)]
struct Far {
    key: u128,
    task: TaskId,
}

impl PartialEq for Far {
    fn eq(&self, other: &Self) -> bool {
        self.key == other.key
    }
}

impl Eq for Far {}

impl PartialOrd for Far {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Far {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        // Reversed: the standard library's heap is a max-heap.
        other.key.cmp(&self.key)
    }
}

thread_local! {
    /// The wheel's slot table of the last queue dropped on this thread, for the next one: a
    /// run's setup filled 32 KB for it, a tenth of what an exploration's smallest runs cost.
    /// What it holds does not matter: a slot is read only while its bit is set, and it is
    /// written when that bit is set.
    static SPARE_SLOTS: std::cell::Cell<Vec<(u32, u32)>> = const { std::cell::Cell::new(Vec::new()) };
}

impl Drop for TimerQueue {
    fn drop(&mut self) {
        let slots = std::mem::take(&mut self.slots);
        // Leaves the spare as it was if the thread is being torn down.
        let _ = SPARE_SLOTS.try_with(|spare| spare.set(slots));
    }
}

impl Default for TimerQueue {
    fn default() -> Self {
        let mut slots = SPARE_SLOTS
            .try_with(std::cell::Cell::take)
            .unwrap_or_default();
        if slots.len() != WINDOW as usize {
            slots = vec![(NIL, NIL); WINDOW as usize];
        }
        Self {
            base: 0,
            slots,
            bits: [0; WORDS],
            summary: 0,
            entries: Vec::new(),
            free: NIL,
            far: BinaryHeap::new(),
        }
    }
}

fn key(at_us: u64, seq: u64) -> u128 {
    (u128::from(at_us) << 64) | u128::from(seq)
}

impl TimerQueue {
    /// Add a timer for `task` at `at_us`; `seq` orders timers of one deadline and must grow
    /// from one call to the next. `at_us` must not lie before the last deadline taken.
    pub fn push(&mut self, at_us: u64, seq: u64, task: TaskId) {
        debug_assert!(at_us >= self.base, "a timer set in the past");
        if at_us - self.base >= WINDOW {
            self.far.push(Far {
                key: key(at_us, seq),
                task,
            });
            return;
        }
        let entry = Entry {
            seq,
            task,
            next: NIL,
        };
        let index = if self.free == NIL {
            self.entries.push(entry);
            u32::try_from(self.entries.len() - 1).expect("fewer than 2^32 timers")
        } else {
            let index = self.free;
            self.free = self.entries[index as usize].next;
            self.entries[index as usize] = entry;
            index
        };
        let slot = (at_us & MASK) as usize;
        let (word, bit) = (slot / 64, slot % 64);
        if self.bits[word] & (1 << bit) == 0 {
            self.bits[word] |= 1 << bit;
            self.summary |= 1 << word;
            self.slots[slot] = (index, index);
        } else {
            let tail = self.slots[slot].1;
            self.entries[tail as usize].next = index;
            self.slots[slot].1 = index;
        }
    }

    /// The wheel's earliest slot, as (deadline, slot).
    fn wheel_first(&self) -> Option<(u64, usize)> {
        if self.summary == 0 {
            return None;
        }
        let start = (self.base & MASK) as usize;
        let (word, bit) = (start / 64, start % 64);
        let slot = if self.bits[word] >> bit != 0 {
            start + (self.bits[word] >> bit).trailing_zeros() as usize
        } else {
            // The first non-empty word after `word`, else the first from the start (wrapping
            // round: then only bits below `bit` can be set in `word` itself).
            let after = if word + 1 < WORDS {
                self.summary & (!0u64 << (word + 1))
            } else {
                0
            };
            let w = if after != 0 { after } else { self.summary }.trailing_zeros() as usize;
            w * 64 + self.bits[w].trailing_zeros() as usize
        };
        let ahead = (slot as u64).wrapping_sub(start as u64) & MASK;
        Some((self.base + ahead, slot))
    }

    /// The earliest deadline, and the wheel's earliest (deadline, slot), if any.
    fn earliest(&self) -> Option<(u64, Option<(u64, usize)>)> {
        let wheel = self.wheel_first();
        let far = self.far.peek().map(|t| (t.key >> 64) as u64);
        let at = match (wheel, far) {
            (Some((w, _)), Some(f)) => w.min(f),
            (Some((w, _)), None) => w,
            (None, f) => f?,
        };
        Some((at, wheel))
    }

    /// The earliest timer's deadline, if any.
    pub fn next_deadline(&self) -> Option<u64> {
        self.earliest().map(|(at, _)| at)
    }

    /// Take every timer of the earliest deadline, if that is no later than `limit_us`, handing
    /// their tasks to `wake` in the order they were set.
    pub fn pop_earliest(&mut self, limit_us: u64, mut wake: impl FnMut(TaskId)) -> Due {
        let Some((at, wheel)) = self.earliest() else {
            return Due::Nothing;
        };
        if at > limit_us {
            return Due::After(at);
        }
        // Every wheel timer is due by `base + WINDOW` and none before `at`.
        self.base = at;
        let mut next = match wheel {
            Some((w, slot)) if w == at => self.slots[slot].0,
            _ => NIL,
        };
        loop {
            let far_seq = self
                .far
                .peek()
                .filter(|t| (t.key >> 64) as u64 == at)
                .map(|t| t.key as u64);
            let wheel_seq = (next != NIL).then(|| self.entries[next as usize].seq);
            match (wheel_seq, far_seq) {
                (Some(w), f) if f.is_none_or(|f| w < f) => {
                    let entry = &mut self.entries[next as usize];
                    wake(entry.task);
                    let after = entry.next;
                    entry.next = self.free;
                    self.free = next;
                    next = after;
                }
                (_, Some(_)) => wake(self.far.pop().expect("peeked").task),
                (_, None) => break,
            }
        }
        if let Some((w, slot)) = wheel.filter(|&(w, _)| w == at) {
            debug_assert_eq!(w & MASK, slot as u64);
            let (word, bit) = (slot / 64, slot % 64);
            self.bits[word] &= !(1 << bit);
            if self.bits[word] == 0 {
                self.summary &= !(1 << word);
            }
        }
        Due::At(at)
    }

    /// Remove every timer.
    pub fn clear(&mut self) {
        self.bits = [0; WORDS];
        self.summary = 0;
        self.entries.clear();
        self.free = NIL;
        self.far.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cmp::Reverse;

    fn task(i: u64) -> TaskId {
        TaskId::for_test(i as u32)
    }

    /// Against a heap on (deadline, sequence): the same timers in the same order, with
    /// deadlines near and far, ties, wrap-arounds of the wheel and long idle stretches.
    #[test]
    fn timers_come_out_as_a_heap_on_deadline_then_sequence_gives_them() {
        for spread in [50, WINDOW - 1, WINDOW, 3 * WINDOW, 1 << 20] {
            let mut q = TimerQueue::default();
            let mut h = BinaryHeap::new();
            let mut x: u64 = 0x9e37_79b9_7f4a_7c15 ^ spread;
            let (mut seq, mut now) = (0, 0);
            for round in 0..20_000u64 {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                if x % 3 != 0 || h.is_empty() {
                    // Several timers often share a deadline, near or far.
                    let at = now + (x >> 40) % spread / 4 * 4;
                    q.push(at, seq, task(seq));
                    h.push(Reverse((at, seq)));
                    seq += 1;
                } else {
                    // As the run loop does: take every timer of the earliest deadline.
                    let Reverse((at, _)) = *h.peek().unwrap();
                    assert_eq!(q.next_deadline(), Some(at), "spread {spread} round {round}");
                    if at > 0 {
                        assert_eq!(q.pop_earliest(at - 1, |_| panic!("early")), Due::After(at));
                    }
                    let mut expected = Vec::new();
                    while h.peek().is_some_and(|Reverse((t, _))| *t == at) {
                        expected.push(task(h.pop().unwrap().0 .1));
                    }
                    let mut got = Vec::new();
                    assert_eq!(q.pop_earliest(at, |t| got.push(t)), Due::At(at));
                    assert_eq!(got, expected, "spread {spread} round {round}");
                    now = at;
                }
            }
            while let Some(Reverse((at, s))) = h.pop() {
                let mut got = Vec::new();
                q.pop_earliest(at, |t| got.push(t));
                let mut expected = vec![task(s)];
                while h.peek().is_some_and(|Reverse((t, _))| *t == at) {
                    expected.push(task(h.pop().unwrap().0 .1));
                }
                assert_eq!(got, expected, "spread {spread} draining");
            }
            assert_eq!(q.pop_earliest(u64::MAX, |_| panic!("empty")), Due::Nothing);
        }
    }

    #[test]
    fn a_far_timer_set_first_comes_before_a_near_one_of_the_same_deadline() {
        let mut q = TimerQueue::default();
        q.push(WINDOW + 10, 0, task(0)); // far when set
        q.push(WINDOW, 1, task(1));
        let mut got = Vec::new();
        assert_eq!(q.pop_earliest(WINDOW, |t| got.push(t)), Due::At(WINDOW));
        q.push(WINDOW + 10, 2, task(2)); // near now, same deadline, set later
        q.push(WINDOW + 10, 3, task(3));
        assert_eq!(q.next_deadline(), Some(WINDOW + 10));
        assert_eq!(
            q.pop_earliest(u64::MAX, |t| got.push(t)),
            Due::At(WINDOW + 10)
        );
        assert_eq!(got, [task(1), task(0), task(2), task(3)]);
        assert_eq!(q.pop_earliest(u64::MAX, |t| got.push(t)), Due::Nothing);
    }

    #[test]
    fn a_queue_on_the_slot_table_of_a_dropped_one_starts_empty() {
        let mut dirty = TimerQueue::default();
        for i in 0..64 {
            dirty.push(i * 3, i, task(i));
        }
        drop(dirty); // its slot table, full of lists, is the next queue's
        let mut q = TimerQueue::default();
        assert_eq!(q.next_deadline(), None);
        q.push(6, 0, task(100));
        q.push(6, 1, task(101));
        let mut got = Vec::new();
        assert_eq!(q.pop_earliest(u64::MAX, |t| got.push(t)), Due::At(6));
        assert_eq!(got, [task(100), task(101)]);
        assert_eq!(q.pop_earliest(u64::MAX, |_| panic!("empty")), Due::Nothing);
    }

    #[test]
    fn clear_empties_the_queue() {
        let mut q = TimerQueue::default();
        for i in 0..10 {
            q.push(i * 1000, i, task(i));
        }
        q.clear();
        assert_eq!(q.next_deadline(), None);
        q.push(5, 10, task(10));
        let mut got = Vec::new();
        assert_eq!(q.pop_earliest(5, |t| got.push(t)), Due::At(5));
        assert_eq!(got, [task(10)]);
    }
}
