//! What a sweep runs: scenario × mode × seed range groups in order, the seed range and the
//! shard syntax of the command line, and which runs fall in which shard.
//!
//! Shard K of N holds the runs whose index in the whole sweep is K-1 modulo N: interleaving keeps
//! the shards equally heavy, and every run is in exactly one shard.

use crate::model::occ::Occ;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// The seeds of a sweep: `A..B`, from A up to but not including B.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub struct Seeds {
    /// The first seed.
    pub start: u64,
    /// One past the last seed.
    pub end: u64,
}

impl Seeds {
    /// The fixed regression range: what `--update-baselines` records unless told otherwise.
    pub const REGRESSION: Seeds = Seeds { start: 0, end: 500 };

    /// How many seeds.
    pub fn len(self) -> u64 {
        self.end - self.start
    }

    /// Whether there are none (never true for a parsed range).
    pub fn is_empty(self) -> bool {
        self.end <= self.start
    }

    /// Whether `seed` is in the range.
    pub fn contains(self, seed: u64) -> bool {
        (self.start..self.end).contains(&seed)
    }
}

impl fmt::Display for Seeds {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}..{}", self.start, self.end)
    }
}

impl FromStr for Seeds {
    type Err = String;

    /// `A..B` (B excluded) or `A..=B` (B included).
    fn from_str(s: &str) -> Result<Self, String> {
        let usage =
            || format!("`{s}` is not a seed range: write A..B (B excluded, e.g. 0..1000) or A..=B");
        let number = |n: &str| n.trim().parse::<u64>().map_err(|_| usage());
        let (start, end) = if let Some((a, b)) = s.split_once("..=") {
            let b = number(b)?;
            let end = b
                .checked_add(1)
                .ok_or_else(|| format!("`{s}`: the last seed is too large"))?;
            (number(a)?, end)
        } else if let Some((a, b)) = s.split_once("..") {
            (number(a)?, number(b)?)
        } else {
            return Err(usage());
        };
        if end <= start {
            return Err(format!(
                "`{s}` holds no seeds: the end must be above the start"
            ));
        }
        Ok(Seeds { start, end })
    }
}

serde_as_string!(Seeds);

/// Part K of N of a sweep (`K/N`, 1-based): the runs whose index in the whole sweep is K-1
/// modulo N. Interleaving keeps the shards equally heavy.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub struct Shard {
    /// K, from 1.
    pub index: u64,
    /// N.
    pub count: u64,
}

impl Shard {
    /// The whole sweep, `1/1`.
    pub const WHOLE: Shard = Shard { index: 1, count: 1 };

    /// Whether this shard is the whole sweep.
    pub fn is_whole(self) -> bool {
        self.count == 1
    }

    fn holds(self, global_index: u64) -> bool {
        global_index % self.count == self.index - 1
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl FromStr for Shard {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let usage = || format!("`{s}` is not a shard: write K/N, e.g. 1/4 for the first of four");
        let (k, n) = s.split_once('/').ok_or_else(usage)?;
        let index: u64 = k.trim().parse().map_err(|_| usage())?;
        let count: u64 = n.trim().parse().map_err(|_| usage())?;
        if count == 0 || index == 0 || index > count {
            return Err(format!(
                "`{s}`: K must be between 1 and N, and N at least 1"
            ));
        }
        Ok(Shard { index, count })
    }
}

serde_as_string!(Shard);

/// One scenario in one mode over a range of seeds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Group {
    /// Index into the sweep's scenarios.
    pub scenario: usize,
    /// The mode.
    pub occ: Occ,
    /// The seeds.
    pub seeds: Seeds,
}

/// What a sweep runs: groups in order, and which shard of them.
#[derive(Clone, Debug)]
pub struct Plan {
    /// Scenario × mode × seed range, in the order reports list them.
    pub groups: Vec<Group>,
    /// The part of the runs this process does.
    pub shard: Shard,
    /// Where each group's runs start in the whole sweep's numbering.
    offsets: Vec<u64>,
}

impl Plan {
    /// A plan over `groups`, doing the part `shard`.
    pub fn new(groups: Vec<Group>, shard: Shard) -> Plan {
        let mut offsets = Vec::with_capacity(groups.len());
        let mut total = 0;
        for g in &groups {
            offsets.push(total);
            total += g.seeds.len();
        }
        Plan {
            groups,
            shard,
            offsets,
        }
    }

    /// Every scenario (by index, `0..scenarios`) in every mode of `modes`, each over the
    /// seeds `seeds(scenario)`, in that order.
    pub fn grid(
        scenarios: usize,
        modes: &[Occ],
        seeds: impl Fn(usize) -> Seeds,
        shard: Shard,
    ) -> Plan {
        let groups = (0..scenarios)
            .flat_map(|scenario| {
                let seeds = seeds(scenario);
                modes.iter().map(move |&occ| Group {
                    scenario,
                    occ,
                    seeds,
                })
            })
            .collect();
        Plan::new(groups, shard)
    }

    /// Runs in the whole sweep, all shards together.
    pub fn total_runs(&self) -> u64 {
        self.groups.iter().map(|g| g.seeds.len()).sum()
    }

    /// Runs in this shard.
    pub fn shard_runs(&self) -> u64 {
        let total = self.total_runs();
        let first = self.shard.index - 1;
        if total <= first {
            0
        } else {
            (total - first).div_ceil(self.shard.count)
        }
    }

    /// Whether this shard runs `seed` of group `group`.
    pub fn in_shard(&self, group: usize, seed: u64) -> bool {
        let g = &self.groups[group];
        g.seeds.contains(seed) && self.shard.holds(self.offsets[group] + seed - g.seeds.start)
    }

    /// The `n`th run of this shard: (group, seed).
    pub(crate) fn nth_run(&self, n: u64) -> (usize, u64) {
        let global = self.shard.index - 1 + n * self.shard.count;
        let group = self.offsets.partition_point(|&o| o <= global) - 1;
        (
            group,
            self.groups[group].seeds.start + global - self.offsets[group],
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seed_ranges_parse_both_spellings_and_reject_empty_ones() {
        assert_eq!("0..100".parse(), Ok(Seeds { start: 0, end: 100 }));
        assert_eq!("5..=7".parse(), Ok(Seeds { start: 5, end: 8 }));
        assert!("7..7".parse::<Seeds>().unwrap_err().contains("no seeds"));
        assert!("100".parse::<Seeds>().unwrap_err().contains("A..B"));
        assert!("a..b".parse::<Seeds>().is_err());
        assert!(format!("0..={}", u64::MAX).parse::<Seeds>().is_err());
    }

    #[test]
    fn shards_parse_and_reject_out_of_range_parts() {
        assert_eq!("2/3".parse(), Ok(Shard { index: 2, count: 3 }));
        assert!("0/3".parse::<Shard>().is_err());
        assert!("4/3".parse::<Shard>().is_err());
        assert!("1/0".parse::<Shard>().is_err());
        assert!("1-3".parse::<Shard>().is_err());
    }

    fn groups() -> Vec<Group> {
        vec![
            Group {
                scenario: 0,
                occ: Occ::Off,
                seeds: Seeds { start: 10, end: 17 },
            },
            Group {
                scenario: 1,
                occ: Occ::On,
                seeds: Seeds { start: 0, end: 4 },
            },
        ]
    }

    #[test]
    fn shards_partition_every_run_exactly_once() {
        for count in 1..=5 {
            let mut seen = Vec::new();
            for index in 1..=count {
                let plan = Plan::new(groups(), Shard { index, count });
                let runs: Vec<_> = (0..plan.shard_runs()).map(|n| plan.nth_run(n)).collect();
                for &(g, seed) in &runs {
                    assert!(plan.in_shard(g, seed), "{index}/{count}: {g} {seed}");
                }
                let in_shard = (0..2)
                    .flat_map(|g| {
                        let s = plan.groups[g].seeds;
                        (s.start..s.end).map(move |seed| (g, seed))
                    })
                    .filter(|&(g, seed)| plan.in_shard(g, seed))
                    .count();
                assert_eq!(in_shard, runs.len());
                seen.extend(runs);
            }
            seen.sort_unstable();
            let all: Vec<_> = (10..17)
                .map(|s| (0, s))
                .chain((0..4).map(|s| (1, s)))
                .collect();
            assert_eq!(seen, all, "{count} shards");
        }
    }
}
