//! Simulation throughput: `cargo bench --bench throughput [-- SEEDS]`.
//!
//! Runs did-it-work for SEEDS seeds (default 2000) in each mode on one thread and prints
//! simulated deliveries per second, seeds per second and wall time per seed. Deliveries are
//! listener runs (first deliveries and redeliveries), the unit of the speed goal. Then it runs
//! did-it-work with `--occ on` at 50, 200 and 1000 chains: the cost per delivery must not grow
//! with the workload. Last, the cost per scheduler step (a task poll) in each mode: the
//! model may take more steps per delivery as it grows more faithful, but a step must not get
//! dearer. Then the cost of one run of the smallest scope (what an exploration pays per
//! schedule), and ticketsim beside the fair floor (`../shared/fair-floor`, built there) on the
//! same seeds, alternated: the ratio of their costs per step.

use std::path::Path;
use std::time::Instant;
use ticketsim::check::findings::Stats;
use ticketsim::{Occ, Scenario};

// As the `ticketsim` binary does (src/main.rs), so the figures are the binary's.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let seeds: u64 = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(2000);
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/did-it-work.toml");
    let scenario = Scenario::load(&path).expect("did-it-work is valid");
    println!("did-it-work, {seeds} seeds per mode, one thread");
    println!(
        "{:<6} {:>12} {:>14} {:>12} {:>14}",
        "occ", "deliveries", "deliveries/s", "seeds/s", "µs per seed"
    );
    for occ in Occ::ALL {
        let start = Instant::now();
        let mut delivered = 0;
        for seed in 0..seeds {
            delivered += ticketsim::run_report(&scenario, seed, occ).stats.delivered;
        }
        let secs = start.elapsed().as_secs_f64();
        println!(
            "{:<6} {:>12} {:>14.0} {:>12.0} {:>14.1}",
            occ.as_str(),
            delivered,
            delivered as f64 / secs,
            seeds as f64 / secs,
            secs * 1e6 / seeds as f64
        );
    }
    println!(
        "\ndid-it-work --occ on by workload size, one thread (seeds scaled to ~400k deliveries)"
    );
    println!(
        "{:<8} {:>8} {:>18} {:>14} {:>14} {:>16}",
        "chains", "seeds", "deliveries/seed", "deliveries/s", "µs per seed", "ns per delivery"
    );
    for chains in [50u32, 200, 1000] {
        let mut scaled = scenario.clone();
        scaled.workload.price_chain[0].tickets = chains;
        let n = (400_000 / (3 * u64::from(chains))).max(20);
        let start = Instant::now();
        let mut delivered = 0;
        for seed in 0..n {
            delivered += ticketsim::run_report(&scaled, seed, Occ::On)
                .stats
                .delivered;
        }
        let secs = start.elapsed().as_secs_f64();
        println!(
            "{:<8} {:>8} {:>18.0} {:>14.0} {:>14.1} {:>16.0}",
            chains,
            n,
            delivered as f64 / n as f64,
            delivered as f64 / secs,
            secs * 1e6 / n as f64,
            secs * 1e9 / delivered as f64
        );
    }
    let step_seeds = (seeds / 4).max(10);
    println!("\ndid-it-work, {step_seeds} seeds per mode, one thread: the scheduler's steps");
    println!(
        "{:<6} {:>14} {:>20} {:>14}",
        "occ", "steps/seed", "steps per delivery", "ns per step"
    );
    for occ in Occ::ALL {
        let (secs, stats) = timed(&scenario, 0..step_seeds, occ);
        println!(
            "{:<6} {:>14.0} {:>20.2} {:>14.1}",
            occ.as_str(),
            stats.steps as f64 / step_seeds as f64,
            stats.steps as f64 / stats.delivered as f64,
            secs * 1e9 / stats.steps as f64
        );
    }
    setup_cost();
    against_the_floor(&scenario, seeds);
}

/// Run `scenario` on `seeds` in mode `occ`: the wall time, and the runs' summed stats.
fn timed(scenario: &Scenario, seeds: std::ops::Range<u64>, occ: Occ) -> (f64, Stats) {
    let mut stats = Stats::default();
    let start = Instant::now();
    for seed in seeds {
        stats.add(&ticketsim::run_report(scenario, seed, occ).stats);
    }
    (start.elapsed().as_secs_f64(), stats)
}

/// The cost of one run of the smallest scope (1 ticket, updates 10 and 15, 1 replica): what
/// setting a run up and tearing it down costs, which bounds how fast an exploration goes.
fn setup_cost() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("reports/demo/did-it-work.minimal.toml");
    let minimal = Scenario::load(&path).expect("the demo's minimal scenario is valid");
    let runs = 20_000;
    let (secs, stats) = timed(&minimal, 0..runs, Occ::On);
    println!(
        "\nthe smallest scope (1 ticket, 2 updates, 1 replica), {runs} seeds, occ on, one thread"
    );
    println!(
        "{:>12.1} µs per run · {:.1} steps per run · {:.1} ns per step",
        secs * 1e6 / runs as f64,
        stats.steps as f64 / runs as f64,
        secs * 1e9 / stats.steps as f64
    );
}

/// ticketsim beside the fair floor (`../shared/fair-floor`, a hand-written event loop doing
/// did-it-work's work under `--occ on`), on the same seeds, alternated three times on one
/// thread: ns per scheduler step on each side and their ratio. The floor is a crate of its own:
/// build it there (`cargo build --release`), or name its binary in `FAIR_FLOOR`.
fn against_the_floor(scenario: &Scenario, seeds: u64) {
    let floor = std::env::var_os("FAIR_FLOOR").map_or_else(
        || {
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../shared/fair-floor/target/release/fair-floor")
        },
        std::path::PathBuf::from,
    );
    if !floor.is_file() {
        println!(
            "\nthe fair floor: not measured ({} is not built; build ../shared/fair-floor with cargo build --release, or set FAIR_FLOOR)",
            floor.display()
        );
        return;
    }
    println!("\nticketsim against the fair floor, did-it-work --occ on, seeds 0..{seeds}, one thread, alternated");
    println!(
        "{:<6} {:>22} {:>22} {:>8}",
        "round", "ticketsim ns per step", "floor ns per step", "ratio"
    );
    let mut ratios = Vec::new();
    for round in 1..=3 {
        let (secs, stats) = timed(scenario, 0..seeds, Occ::On);
        let ours = secs * 1e9 / stats.steps as f64;
        let out = std::process::Command::new(&floor)
            .args(["--seeds", &format!("0..{seeds}")])
            .output()
            .expect("the fair floor runs");
        let text = String::from_utf8_lossy(&out.stdout);
        let Some(theirs) = text
            .split_whitespace()
            .find_map(|w| w.strip_prefix("ns/event="))
            .and_then(|v| v.parse::<f64>().ok())
        else {
            println!("the fair floor printed no ns/event: {text}");
            return;
        };
        // The ratio of speeds: the floor's cost per step over ours (1 would be the floor).
        let ratio = theirs / ours;
        ratios.push(ratio);
        println!("{round:<6} {ours:>22.1} {theirs:>22.1} {ratio:>8.2}");
    }
    ratios.sort_by(f64::total_cmp);
    println!(
        "median ratio {:.2} (the floor's cost per step over ticketsim's)",
        ratios[1]
    );
}
