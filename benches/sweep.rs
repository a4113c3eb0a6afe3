//! Sweep throughput and memory: `cargo bench --bench sweep [-- SEEDS]`.
//!
//! Sweeps did-it-work with `--occ on` over SEEDS seeds (default 10000) with one worker thread,
//! then with one per core, and prints seeds per second, deliveries per second, the speed-up,
//! and the process's peak resident memory (VmHWM), which must stay flat however many seeds run.

use std::num::NonZeroUsize;
use std::path::Path;
use std::time::Instant;
use ticketsim::harness::sweep::{self, Plan, Seeds, Shard};
use ticketsim::Occ;
use ticketsim::Scenario;

// As the `ticketsim` binary does (src/main.rs), so the figures are the binary's.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let seeds: u64 = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(10_000);
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/did-it-work.toml");
    let scenarios = [Scenario::load(&path).expect("did-it-work is valid")];
    let plan = Plan::grid(
        1,
        &[Occ::On],
        |_| Seeds {
            start: 0,
            end: seeds,
        },
        Shard::WHOLE,
    );
    let cores = sweep::default_jobs();
    println!("did-it-work --occ on, {seeds} seeds, {cores} cores");
    println!(
        "{:<6} {:>10} {:>10} {:>14} {:>10} {:>18}",
        "jobs", "wall s", "seeds/s", "deliveries/s", "speed-up", "combined hash"
    );
    let mut one_thread = None;
    for jobs in [NonZeroUsize::MIN, cores] {
        let start = Instant::now();
        let outcomes = sweep::run(&scenarios, &plan, jobs, &|| {});
        let secs = start.elapsed().as_secs_f64();
        let tally = &outcomes.tallies[0];
        assert_eq!(tally.runs, seeds, "every seed ran");
        let base = *one_thread.get_or_insert(secs);
        println!(
            "{:<6} {:>10.2} {:>10.0} {:>14.0} {:>9.2}x {:>18}",
            jobs,
            secs,
            seeds as f64 / secs,
            tally.stats.delivered as f64 / secs,
            base / secs,
            tally.hash
        );
    }
    match peak_rss_kb() {
        Some(kb) => println!("peak resident memory: {:.1} MB", kb as f64 / 1024.0),
        None => println!("peak resident memory: unknown (no /proc/self/status)"),
    }
}

/// VmHWM: the most resident memory the process has had, in kB (Linux).
fn peak_rss_kb() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}
