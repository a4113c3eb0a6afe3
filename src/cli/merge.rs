//! `ticketsim merge`: the `--json` reports of every shard of a sweep, combined.

use crate::cli::sweep::print_sweep;
use crate::harness::error::Error;
use crate::harness::sweep::report::SweepReport;
use crate::scenario::input::{read_text, REPORT_MAX_BYTES};
use clap::Args;
use std::path::PathBuf;

/// `ticketsim merge`.
#[derive(Debug, Args)]
#[command(after_help = "Example:\n  ticketsim merge shard-1.json shard-2.json")]
pub struct MergeArgs {
    /// The `ticketsim sweep --shard K/N --json` reports, one per shard.
    #[arg(required = true)]
    pub reports: Vec<PathBuf>,
    /// Print the merged report as JSON instead of the summary.
    #[arg(long)]
    pub json: bool,
}

/// Run it.
pub fn execute(args: MergeArgs) -> Result<u8, Error> {
    let mut parts = Vec::with_capacity(args.reports.len());
    for path in &args.reports {
        let text = read_text(path, REPORT_MAX_BYTES).map_err(|e| Error::Input {
            path: path.clone(),
            message: format!("cannot read it: {e}"),
        })?;
        let part: SweepReport = serde_json::from_str(&text).map_err(|e| Error::Input {
            path: path.clone(),
            message: format!("is not a `ticketsim sweep --json` report: {e}"),
        })?;
        parts.push(part);
    }
    let report = SweepReport::merge(parts).map_err(Error::Usage)?;
    print_sweep(&report, args.json)?;
    Ok(u8::from(!report.passed))
}
