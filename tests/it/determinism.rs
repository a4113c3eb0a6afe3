//! Same scenario + seed + mode: byte-identical report and trace, in one process, across
//! threads, across processes, and under madsim's own determinism checker.

use crate::support::*;
use std::process::Command;
use ticketsim::Occ;

fn jsonl(trace: &ticketsim::sim::trace::Trace) -> Vec<u8> {
    let mut out = Vec::new();
    trace.write_jsonl(&mut out).unwrap();
    out
}

#[test]
fn the_same_run_twice_in_one_process_is_byte_identical() {
    let scenario = scenario("did-it-work");
    for occ in Occ::ALL {
        let a = ticketsim::run(&scenario, 11, occ);
        let b = ticketsim::run(&scenario, 11, occ);
        assert_eq!(a.report.to_json(), b.report.to_json(), "{occ}");
        assert_eq!(jsonl(&a.trace), jsonl(&b.trace), "{occ}");
    }
}

#[test]
fn processes_that_exit_restart_and_reconnect_are_deterministic_too() {
    let mut scenario = scenario("refusal-exits-replica");
    scenario.faults = ticketsim::scenario::Scenario::parse(
        r#"
        name = "f"
        description = "f"
        [faults]
        pause = [{ node = "orders-1", at-ms = 3, for-ms = 40000 }]
        partition = [{ node = "orders-2", at-ms = 5, for-ms = 30000 }]
        crash = [{ node = "tickets", at-ms = 4, restart-after-ms = 100 }]
        [[workload.create-tickets]]
        count = 1
        price = 1
        "#,
        std::path::Path::new("f.toml"),
    )
    .unwrap()
    .faults;
    for occ in Occ::ALL {
        let a = ticketsim::run(&scenario, 2, occ);
        let b = ticketsim::run(&scenario, 2, occ);
        assert!(
            a.report.stats.exits > 0 && a.report.stats.clients_closed > 0,
            "{occ}"
        );
        assert_eq!(a.report.to_json(), b.report.to_json(), "{occ}");
        assert_eq!(jsonl(&a.trace), jsonl(&b.trace), "{occ}");
    }
}

/// Sweeps and shrinking run `run_report`, which checks and hashes the trace as it is made and
/// keeps no records: its report must be the one a full run gives, byte for byte.
#[test]
fn a_report_without_the_trace_kept_is_the_full_runs_report() {
    let names: Vec<String> = std::fs::read_dir(root().join("scenarios"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    assert!(names.len() >= 9, "{names:?}");
    for name in &names {
        let scenario = scenario(name);
        for occ in Occ::ALL {
            for seed in 0..3 {
                let full = ticketsim::run(&scenario, seed, occ);
                assert!(!full.trace.records().is_empty(), "{name} {occ} {seed}");
                assert_eq!(
                    ticketsim::run_report(&scenario, seed, occ).to_json(),
                    full.report.to_json(),
                    "{name} {occ} seed {seed}"
                );
            }
        }
    }
}

#[test]
fn a_run_on_another_thread_is_byte_identical() {
    let here = ticketsim::run(&scenario("price-burst"), 3, Occ::Off)
        .report
        .to_json();
    let there = std::thread::spawn(|| {
        ticketsim::run(&scenario("price-burst"), 3, Occ::Off)
            .report
            .to_json()
    })
    .join()
    .unwrap();
    assert_eq!(here, there);
}

#[test]
fn two_processes_write_identical_reports_and_traces() {
    let dir = std::env::temp_dir().join(format!("ticketsim-determinism-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let run = |n: u32| {
        let trace = dir.join(format!("trace-{n}.jsonl"));
        let out = Command::new(bin())
            .current_dir(root())
            .args([
                "run",
                "scenarios/did-it-work.toml",
                "--seed",
                "5",
                "--occ",
                "off",
                "--json",
                "--trace",
            ])
            .arg(&trace)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        (out.stdout, std::fs::read(&trace).unwrap())
    };
    let (report_a, trace_a) = run(1);
    let (report_b, trace_b) = run(2);
    assert!(trace_a.len() > 100_000, "a full trace, not an empty file");
    assert_eq!(report_a, report_b);
    assert_eq!(trace_a, trace_b);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn different_seeds_give_different_traces() {
    let scenario = scenario("did-it-work");
    let hashes: std::collections::BTreeSet<String> = (0..5)
        .map(|seed| ticketsim::run(&scenario, seed, Occ::On).report.trace_hash)
        .collect();
    assert_eq!(hashes.len(), 5);
}

/// madsim logs each draw from its RNG (with the simulated time) on the first run and panics at
/// the first draw that differs on the second; its closure cannot capture, hence a macro. The
/// runs inside also draw from madsim's generator at every choice, so the checker sees when each
/// choice is made, and the trace must equal that of an ordinary run: the values come from the
/// run's own streams either way.
macro_rules! same_draws_twice {
    ($name:literal) => {{
        let hash =
            madsim::runtime::Runtime::check_determinism(42, madsim::Config::default(), || async {
                ticketsim::sim::rng::draw_through_madsim(true);
                let text = include_str!(concat!("../../scenarios/", $name, ".toml"));
                let scenario =
                    ticketsim::Scenario::parse(text, std::path::Path::new($name)).unwrap();
                let hash = ticketsim::harness::run::run_in_current_runtime(&scenario, 42, Occ::On)
                    .report
                    .trace_hash;
                ticketsim::sim::rng::draw_through_madsim(false);
                hash
            });
        assert_eq!(
            hash,
            ticketsim::run(&scenario($name), 42, Occ::On)
                .report
                .trace_hash,
            $name
        );
    }};
}

#[test]
fn madsim_finds_every_random_draw_identical_on_a_second_run() {
    // One scenario of each kind: reordering alone, reservations, a fault.
    same_draws_twice!("price-burst");
    same_draws_twice!("edit-races-reservation");
    same_draws_twice!("duplicate-update");
}

#[test]
fn each_kind_of_choice_draws_from_its_own_stream_derived_from_the_seed() {
    use madsim::rand::{Rng, RngCore, SeedableRng};
    use rand_xoshiro::Xoshiro256PlusPlus;
    use ticketsim::sim::tape::{ChoiceKind, ChoiceOf};
    for seed in [0, 4, 7, 42, 12_345] {
        // The documented derivation: the root gives one seed per kind, in `ChoiceKind::ALL`
        // order; `Latency` is the second.
        let mut root = Xoshiro256PlusPlus::seed_from_u64(seed);
        let _tie = root.next_u64();
        let mut latency = Xoshiro256PlusPlus::seed_from_u64(root.next_u64());
        let expected: Vec<u64> = (0..1000).map(|_| latency.gen_range(0..u64::MAX)).collect();
        for ties_between in [0, 3] {
            let runtime =
                madsim::runtime::Runtime::with_seed_and_config(seed, madsim::Config::default());
            let draws: Vec<u64> = runtime.block_on(async move {
                let exec = ticketsim::sim::exec::Executor::new(madsim::rand::thread_rng(), seed);
                (0..1000)
                    .map(|_| {
                        // Ties drawn in between do not move the latencies.
                        for _ in 0..ties_between {
                            exec.choose_in(ChoiceKind::Tie, ChoiceOf::Ready, 0..3);
                        }
                        exec.choose_in(ChoiceKind::Latency, ChoiceOf::Db, 0..u64::MAX)
                    })
                    .collect()
            });
            assert_eq!(draws, expected, "seed {seed}, {ties_between} ties between");
        }
    }
}

/// A run's stats count the scheduler's steps and the timers it set, as the executor counted
/// them: the unit the simulator's cost is measured in, on any scenario.
#[test]
fn the_stats_count_the_schedulers_steps_and_timers() {
    let scenario = scenario("did-it-work");
    let stats = ticketsim::run_report(&scenario, 4, Occ::On).stats;
    let runtime = madsim::runtime::Runtime::with_seed_and_config(4, madsim::Config::default());
    let (steps, timers) = runtime.block_on(async {
        let world = ticketsim::sim::world::World::new(&scenario, Occ::On);
        ticketsim::sim::run::simulate(&world, &scenario);
        (world.exec.steps(), world.exec.timers_set())
    });
    assert_eq!((stats.steps, stats.timers), (steps, timers));
    // Every delivery takes several steps, and nearly every step waits on a timer.
    assert!(stats.steps > 10 * stats.delivered, "{stats:?}");
    assert!(stats.timers > stats.steps / 2, "{stats:?}");
    let mut twice = stats.clone();
    twice.add(&stats);
    assert_eq!(
        (twice.steps, twice.timers),
        (2 * stats.steps, 2 * stats.timers)
    );
}
