//! Searching seeds for a failing run, within a budget: the current seed first, then `0, 1, 2,
//! …` spread over worker threads, the lowest failing seed winning so that the answer is the
//! sequential one; and the [`Budget`] that bounds how many seeds, and how many simulated
//! requests, shrinking may spend.

use crate::harness::sweep::workers::default_jobs;
use crate::scenario::schema::Scenario;
use std::sync::atomic::{AtomicU64, Ordering};

/// How hard to look.
#[derive(Clone, Copy, Debug)]
pub struct Budget {
    /// Seeds tried per candidate scenario (the current seed, then 0, 1, 2, …).
    pub seeds: u64,
    /// Worker threads for the seed search. The result does not depend on it.
    pub jobs: usize,
    /// Requests the whole shrink may simulate, summed over the scenario-and-seed pairs it
    /// tries; the search for one smaller scenario may spend a tenth of it.
    pub requests: u64,
}

/// The default of [`Budget::requests`]. The bundled scenarios spend at most 0.7 M of it; the
/// costliest runs measured (crash loops, about 4 µs a request on two cores) spend it all in
/// under a minute of `shrink`, two of the demo, which runs each pair with and without OCC.
pub const DEFAULT_BUDGET_REQUESTS: u64 = 10_000_000;

impl Default for Budget {
    fn default() -> Self {
        Budget {
            seeds: 1000,
            jobs: default_jobs().get(),
            requests: DEFAULT_BUDGET_REQUESTS,
        }
    }
}

impl Budget {
    /// Seeds to try for a candidate of `cost` requests when `spent` requests are gone: up to
    /// `seeds`, within a tenth of the budget, and at least one while the budget lasts. `None`
    /// when not even one pair fits.
    pub(crate) fn seeds_for(&self, cost: u64, spent: u64) -> Option<u64> {
        let cost = cost.max(1);
        let left = self.requests.saturating_sub(spent) / cost;
        let share = (self.requests / 10) / cost;
        (left > 0).then(|| self.seeds.min(share).clamp(1, left))
    }
}

/// The first seed of `current, 0, 1, 2, …` (at most `seeds` of them) under which `s` fails,
/// and how many seeds a search in that order tries to find it (threads may try more; the count
/// does not depend on them).
pub(crate) fn search(
    s: &Scenario,
    current: u64,
    seeds: u64,
    jobs: usize,
    fails: &(dyn Fn(&Scenario, u64) -> bool + Sync),
) -> (Option<u64>, u64) {
    if fails(s, current) {
        return (Some(current), 1);
    }
    let order = |i: u64| if i < current { i } else { i + 1 };
    let n = seeds.saturating_sub(1);
    let jobs = jobs.max(1);
    let found = if jobs == 1 {
        (0..n).find(|&i| fails(s, order(i)))
    } else {
        // Workers take seeds in order; the lowest index that fails wins, whichever thread
        // found it, so the answer is the sequential one.
        let next = AtomicU64::new(0);
        let best = AtomicU64::new(u64::MAX);
        std::thread::scope(|scope| {
            for _ in 0..jobs {
                scope.spawn(|| loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= n || i >= best.load(Ordering::Relaxed) {
                        break;
                    }
                    if fails(s, order(i)) {
                        best.fetch_min(i, Ordering::Relaxed);
                    }
                });
            }
        });
        Some(best.into_inner()).filter(|&b| b != u64::MAX)
    };
    match found {
        Some(i) => (Some(order(i)), i + 2),
        None => (None, n + 1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_candidate_gets_seeds_within_a_tenth_of_the_budget_and_what_is_left() {
        let budget = Budget {
            seeds: 1000,
            jobs: 1,
            requests: 1_000_000,
        };
        // Small scenarios: the seed budget binds.
        assert_eq!(budget.seeds_for(60, 0), Some(1000));
        // Large ones: a tenth of the budget, 100,000 requests, binds.
        assert_eq!(budget.seeds_for(20_000, 0), Some(5));
        // Larger than a tenth: one seed while the budget lasts.
        assert_eq!(budget.seeds_for(200_000, 0), Some(1));
        // What is left binds last; nothing left, nothing tried.
        assert_eq!(budget.seeds_for(60, 999_700), Some(5));
        assert_eq!(budget.seeds_for(200_000, 900_000), None);
        assert_eq!(budget.seeds_for(60, 1_000_000), None);
    }
}
