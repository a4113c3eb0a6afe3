//! Options shared by several subcommands: when to colour, and how hard shrinking looks.

use crate::harness::shrink::{Budget, DEFAULT_BUDGET_REQUESTS};
use crate::harness::sweep::workers::default_jobs;
use crate::model::occ::Occ;
use crate::present::paint::Paint;
use clap::{Args, ValueEnum};
use std::io::IsTerminal;
use std::num::NonZeroUsize;

/// When to colour the output.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ColorWhen {
    /// When standard output is a terminal and NO_COLOR is not set.
    Auto,
    /// Always.
    Always,
    /// Never.
    Never,
}

impl ColorWhen {
    /// The paint this choice gives.
    pub fn paint(self) -> Paint {
        let enabled = match self {
            ColorWhen::Always => true,
            ColorWhen::Never => false,
            ColorWhen::Auto => {
                std::io::stdout().is_terminal()
                    && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
            }
        };
        Paint { enabled }
    }
}

/// The most worker threads a command starts: more than any machine this runs on uses well,
/// and a guard against a typo (`--jobs 10000`) starting thousands of threads.
pub const MAX_JOBS: usize = 256;

/// The most seeds shrinking tries per smaller scenario: with a few thousand candidate
/// scenarios, more would take days.
pub const MAX_SEARCH: u64 = 100_000;

/// `--jobs N`: from 1 to [`MAX_JOBS`].
pub fn parse_jobs(s: &str) -> Result<NonZeroUsize, String> {
    let n: usize = s
        .parse()
        .map_err(|_| format!("`{s}` is not a whole number of worker threads"))?;
    NonZeroUsize::new(n)
        .filter(|n| n.get() <= MAX_JOBS)
        .ok_or_else(|| format!("must be from 1 to {MAX_JOBS} worker threads, not {n}"))
}

/// How hard shrinking looks.
#[derive(Debug, Args)]
pub struct ShrinkBudget {
    /// Seeds to try for each smaller scenario before giving it up (the current seed first,
    /// then 0, 1, 2, …).
    #[arg(long, value_name = "N", default_value_t = 1000,
          value_parser = clap::value_parser!(u64).range(1..=MAX_SEARCH))]
    pub search: u64,
    /// Worker threads for the seed search (1 to 256). Default: one per core. The result does
    /// not depend on it.
    #[arg(long, value_name = "N", value_parser = parse_jobs)]
    pub jobs: Option<NonZeroUsize>,
    /// Requests shrinking may simulate, summed over every scenario-and-seed pair it tries (a
    /// pair costs its scenario's requests; one smaller scenario may take a tenth). When it runs
    /// out, shrinking keeps the smallest scenario found so far and says so. The result does not
    /// depend on --jobs.
    #[arg(long, value_name = "REQUESTS", default_value_t = DEFAULT_BUDGET_REQUESTS,
          value_parser = clap::value_parser!(u64).range(1..=MAX_BUDGET))]
    pub budget: u64,
}

/// The largest `--budget`: a few hours of shrinking on two cores.
pub const MAX_BUDGET: u64 = 10_000_000_000;

impl ShrinkBudget {
    /// The budget these options give.
    pub fn budget(&self) -> Budget {
        Budget {
            seeds: self.search,
            jobs: self.jobs.unwrap_or_else(default_jobs).get(),
            requests: self.budget,
        }
    }
}

/// Which modes a command runs (`--occ off|on|dedup|all`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Modes {
    /// Without OCC.
    Off,
    /// With OCC as taught.
    On,
    /// With OCC and deduplication.
    Dedup,
    /// All three.
    All,
}

impl Modes {
    /// The modes, in the order reports list them.
    pub fn list(self) -> Vec<Occ> {
        match self {
            Modes::Off => vec![Occ::Off],
            Modes::On => vec![Occ::On],
            Modes::Dedup => vec![Occ::Dedup],
            Modes::All => Occ::ALL.to_vec(),
        }
    }
}
