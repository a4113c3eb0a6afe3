//! The race and its cure, aligned step by step on the same events.
//!
//! Two runs of one seed take the same steps until the cure first acts, and the same events
//! (a message published, delivered, handled, acked) keep happening in both afterwards, at
//! shifted times and sometimes in another order. Each step has a key naming its event, and the
//! alignment is the longest common subsequence of the two key sequences: as many steps as
//! possible sit on the same row as their counterpart. Among alignments of that length it takes
//! the one whose matched steps are closest in simulated time (summed), so that when two events
//! swapped places the pair matched is the one that happened nearly together. Steps left
//! unmatched go between the matched rows around them, in time order.

/// A step to align: the event it tells (its key) and when it happened.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Keyed {
    /// What event the step is, the same in both runs when it is the same event.
    pub key: String,
    /// Simulated time, microseconds.
    pub t_us: u64,
}

/// One row of the aligned story: the race's step on it and the cure's, by index; either may be
/// absent.
pub type Row = (Option<usize>, Option<usize>);

/// The most cells the matching table may have (two stories of 2,000 steps each); past that
/// the steps are merged by time alone, with no matching.
const MAX_CELLS: usize = 4_000_000;

/// The rows of `race` and `cure` aligned (see the module's note).
pub fn align(race: &[Keyed], cure: &[Keyed]) -> Vec<Row> {
    let pairs = if (race.len() + 1).saturating_mul(cure.len() + 1) <= MAX_CELLS {
        matched(race, cure)
    } else {
        Vec::new()
    };
    let mut rows = Vec::with_capacity(race.len() + cure.len());
    let (mut i, mut j) = (0, 0);
    for &(a, b) in pairs
        .iter()
        .chain(std::iter::once(&(race.len(), cure.len())))
    {
        // The unmatched steps before this pair, in time order (the race's first on a tie).
        while i < a || j < b {
            let take_race = j >= b || (i < a && race[i].t_us <= cure[j].t_us);
            if take_race {
                rows.push((Some(i), None));
                i += 1;
            } else {
                rows.push((None, Some(j)));
                j += 1;
            }
        }
        if a < race.len() && b < cure.len() {
            rows.push((Some(a), Some(b)));
            i = a + 1;
            j = b + 1;
        }
    }
    rows
}

/// A score: more matched steps first, then less time between matched steps.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
struct Score {
    matched: u32,
    /// `u64::MAX` less the summed distance, so that a larger score is better.
    closeness: u64,
}

impl Score {
    fn plus_match(self, distance: u64) -> Score {
        Score {
            matched: self.matched + 1,
            closeness: self.closeness.saturating_sub(distance),
        }
    }
}

/// The matched pairs, in order.
fn matched(race: &[Keyed], cure: &[Keyed]) -> Vec<(usize, usize)> {
    let (n, m) = (race.len(), cure.len());
    let width = m + 1;
    let start = Score {
        matched: 0,
        closeness: u64::MAX,
    };
    // best[i * width + j]: the best score of race[i..] against cure[j..].
    let mut best = vec![start; (n + 1) * width];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            let mut score = best[(i + 1) * width + j].max(best[i * width + j + 1]);
            if race[i].key == cure[j].key {
                let distance = race[i].t_us.abs_diff(cure[j].t_us);
                score = score.max(best[(i + 1) * width + j + 1].plus_match(distance));
            }
            best[i * width + j] = score;
        }
    }
    let mut pairs = Vec::new();
    let (mut i, mut j) = (0, 0);
    while i < n && j < m {
        let here = best[i * width + j];
        if race[i].key == cure[j].key {
            let distance = race[i].t_us.abs_diff(cure[j].t_us);
            if best[(i + 1) * width + j + 1].plus_match(distance) == here {
                pairs.push((i, j));
                i += 1;
                j += 1;
                continue;
            }
        }
        if best[(i + 1) * width + j] == here {
            i += 1;
        } else {
            j += 1;
        }
    }
    pairs
}

#[cfg(test)]
mod tests {
    use super::*;

    fn steps(list: &[(&str, u64)]) -> Vec<Keyed> {
        list.iter()
            .map(|&(key, t_us)| Keyed {
                key: key.to_owned(),
                t_us,
            })
            .collect()
    }

    #[test]
    fn the_same_steps_make_one_row_each() {
        let a = steps(&[("p1", 1), ("d1", 2), ("h1", 3)]);
        assert_eq!(
            align(&a, &a),
            vec![(Some(0), Some(0)), (Some(1), Some(1)), (Some(2), Some(2))]
        );
    }

    #[test]
    fn of_two_swapped_events_the_pair_nearer_in_time_is_matched() {
        // The race handles #243 then #42; the cure #42 then #243. #243's two handlings are
        // 0.2 ms apart, #42's 1 ms: #243 is matched, and #42 goes where its time puts it.
        let race = steps(&[("h243", 16_904), ("h42", 17_449)]);
        let cure = steps(&[("h42", 16_387), ("h243", 16_747)]);
        assert_eq!(
            align(&race, &cure),
            vec![(None, Some(0)), (Some(0), Some(1)), (Some(1), None)]
        );
    }

    #[test]
    fn unmatched_steps_go_in_time_order_and_nothing_is_lost() {
        let race = steps(&[("a", 1), ("x", 5), ("b", 9)]);
        let cure = steps(&[("a", 1), ("y", 3), ("z", 7), ("b", 9), ("w", 10)]);
        let rows = align(&race, &cure);
        assert_eq!(
            rows,
            vec![
                (Some(0), Some(0)),
                (None, Some(1)),
                (Some(1), None),
                (None, Some(2)),
                (Some(2), Some(3)),
                (None, Some(4)),
            ]
        );
        assert!(align(&[], &cure).iter().all(|r| r.0.is_none()));
        assert_eq!(align(&race, &[]).len(), 3);
    }
}
