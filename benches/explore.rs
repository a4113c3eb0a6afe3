//! Exploration speed: `cargo bench --bench explore`.
//!
//! Explores the shrunk catalogue scopes of `tests/fixtures/` on one thread, then two, with every
//! tie order (`--reduce none`) and with sleep sets (the default), side by side, and prints the
//! schedules run to their end, those pruned, the distinct histories, the wall time and the
//! schedules per second (runs, pruned ones included): the course's race with two replicas and
//! two updates (u2r2) and three updates (u3r2) within four deviations, and the duplicate publish
//! within three.

use std::path::Path;
use std::time::Instant;
use ticketsim::harness::explore::{explore, Reduce, Scope};
use ticketsim::{Occ, Scenario};

// As the `ticketsim` binary does (src/main.rs), so the figures are the binary's.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    println!(
        "{:<18} {:<6} {:>2} {:<11} {:>4} {:>10} {:>7} {:>10} {:>8} {:>8} {:>10}",
        "scope",
        "occ",
        "k",
        "reduce",
        "jobs",
        "schedules",
        "pruned",
        "histories",
        "failing",
        "seconds",
        "runs/s"
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
        for (reduce, named) in [(Reduce::None, "none"), (Reduce::SleepSets, "sleep-sets")] {
            let scope = Scope {
                deviations: k,
                latency_points: 2,
                max_schedules: 10_000_000,
                reduce,
            };
            for jobs in [1, 2] {
                let start = Instant::now();
                let found = explore(&scenario, occ, scope, jobs, &|_| {}).expect("explorable");
                let secs = start.elapsed().as_secs_f64();
                println!(
                    "{:<18} {:<6} {:>2} {:<11} {:>4} {:>10} {:>7} {:>10} {:>8} {:>8.2} {:>10.0}",
                    name,
                    occ.to_string(),
                    k,
                    named,
                    jobs,
                    found.schedules,
                    found.pruned,
                    found.histories,
                    found.failing,
                    secs,
                    (found.schedules + found.pruned) as f64 / secs
                );
            }
        }
    }
}
