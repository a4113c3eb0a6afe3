//! Simulation throughput: `cargo bench --bench throughput [-- SEEDS]`.
//!
//! Runs did-it-work for SEEDS seeds (default 2000) in each mode on one thread and prints
//! simulated deliveries per second, seeds per second and wall time per seed. Deliveries are
//! listener runs (first deliveries and redeliveries), the unit of the speed goal. Then it runs
//! did-it-work with `--occ on` at 50, 200 and 1000 chains: the cost per delivery must not grow
//! with the workload. Last, the cost per scheduler step (a task poll) in each mode: the
//! model may take more steps per delivery as it grows more faithful, but a step must not get
//! dearer.

use std::path::Path;
use std::time::Instant;
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
        let (mut steps, mut delivered) = (0, 0);
        for seed in 0..step_seeds {
            steps += steps_of(&scenario, seed, occ);
        }
        let start = Instant::now();
        for seed in 0..step_seeds {
            delivered += ticketsim::run_report(&scenario, seed, occ).stats.delivered;
        }
        let secs = start.elapsed().as_secs_f64();
        println!(
            "{:<6} {:>14.0} {:>20.2} {:>14.1}",
            occ.as_str(),
            steps as f64 / step_seeds as f64,
            steps as f64 / delivered as f64,
            secs * 1e9 / steps as f64
        );
    }
}

/// The scheduler steps (task polls) of one run, counted on a run of its own.
fn steps_of(scenario: &Scenario, seed: u64, occ: Occ) -> u64 {
    let runtime = madsim::runtime::Runtime::with_seed_and_config(seed, madsim::Config::default());
    runtime.block_on(async {
        let world = ticketsim::sim::world::World::new(scenario, occ);
        ticketsim::sim::run::simulate(&world, scenario);
        world.exec.steps()
    })
}
