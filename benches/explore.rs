//! Exploration speed: `cargo bench --bench explore`.
//!
//! Explores the shrunk catalogue scopes of `tests/fixtures/` on one thread, then two, and prints the
//! schedules run, the distinct histories, the wall time and the schedules per second: the
//! course's race with two replicas and two updates (u2r2) and three updates (u3r2) within four
//! deviations, and the duplicate publish within three.

use std::path::Path;
use std::time::Instant;
use ticketsim::harness::explore::{explore, Scope};
use ticketsim::{Occ, Scenario};

// As the `ticketsim` binary does (src/main.rs), so the figures are the binary's.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    println!(
        "{:<20} {:<6} {:>3} {:>5} {:>10} {:>10} {:>8} {:>9} {:>14}",
        "scope", "occ", "k", "jobs", "schedules", "histories", "failing", "seconds", "schedules/s"
    );
    for (name, occ, k) in [
        ("explore-u2r2", Occ::Off, 4),
        ("explore-u2r2", Occ::On, 4),
        ("explore-u3r2", Occ::Off, 4),
        ("explore-u3r2", Occ::On, 4),
        ("explore-duplicate", Occ::On, 3),
        ("explore-duplicate", Occ::Dedup, 3),
    ] {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(format!("{name}.toml"));
        let scenario = Scenario::load(&path).expect("the fixture is valid");
        let scope = Scope {
            deviations: k,
            latency_points: 2,
            max_schedules: 10_000_000,
        };
        for jobs in [1, 2] {
            let start = Instant::now();
            let found = explore(&scenario, occ, scope, jobs, &|_| {}).expect("explorable");
            let secs = start.elapsed().as_secs_f64();
            println!(
                "{:<20} {:<6} {:>3} {:>5} {:>10} {:>10} {:>8} {:>9.2} {:>14.0}",
                name,
                occ.to_string(),
                k,
                jobs,
                found.schedules,
                found.histories,
                found.failing,
                secs,
                found.schedules as f64 / secs
            );
        }
    }
}
