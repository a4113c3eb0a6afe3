//! Simulation throughput: `cargo bench --bench throughput [-- SEEDS]`.
//!
//! Runs did-it-work for SEEDS seeds (default 2000) in each mode on one thread and prints
//! simulated deliveries per second, seeds per second and wall time per seed. Deliveries are
//! listener runs (first deliveries and redeliveries), the unit of the speed goal.

use std::path::Path;
use std::time::Instant;
use ticketsim::{Occ, Scenario};

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
            delivered += ticketsim::run(&scenario, seed, occ).report.stats.delivered;
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
}
