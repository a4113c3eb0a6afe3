//! Options shared by several subcommands: when to colour, and how hard shrinking looks.

use crate::harness::shrink::Budget;
use crate::harness::sweep::workers::default_jobs;
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

/// How hard shrinking looks.
#[derive(Debug, Args)]
pub struct ShrinkBudget {
    /// Seeds to try for each smaller scenario before giving it up (the current seed first,
    /// then 0, 1, 2, …).
    #[arg(long, value_name = "N", default_value_t = 1000)]
    pub search: u64,
    /// Worker threads for the seed search. Default: one per core. The result does not depend
    /// on it.
    #[arg(long, value_name = "N")]
    pub jobs: Option<NonZeroUsize>,
}

impl ShrinkBudget {
    /// The budget these options give.
    pub fn budget(&self) -> Budget {
        Budget {
            seeds: self.search.max(1),
            jobs: self.jobs.unwrap_or_else(default_jobs).get(),
        }
    }
}
