//! The choice tape: a run's choices recorded as a token, replayed exactly, and refused by a
//! model, scenario or mode it does not fit.

use crate::support::*;
use ticketsim::harness::run::{run_driven, Driven, DrivenError};
use ticketsim::sim::choice::Drive;
use ticketsim::sim::tape::Tape;
use ticketsim::{run_report, Occ, Report, Scenario};

fn driven(scenario: &Scenario, occ: Occ, drive: Drive) -> Result<Report, DrivenError> {
    run_driven::<std::io::Sink>(
        scenario,
        occ,
        Driven {
            drive,
            record: true,
            out: None,
        },
    )
}

fn recorded(scenario: &Scenario, seed: u64, occ: Occ) -> (Report, Tape) {
    let report = driven(scenario, occ, Drive::Seed(seed)).unwrap();
    let tape = Tape::from_token(report.tape.as_deref().unwrap()).unwrap();
    (report, tape)
}

#[test]
fn a_recorded_tape_replays_the_run_exactly() {
    for (name, seeds) in [
        ("did-it-work", [4, 7]),
        ("edit-races-reservation", [0, 3]),
        ("duplicate-update", [0, 1]),
        ("crash-after-save", [1, 21]),
    ] {
        let scenario = scenario(name);
        for occ in Occ::ALL {
            for seed in seeds {
                let (seeded, tape) = recorded(&scenario, seed, occ);
                // Recording does not change the run.
                let plain = run_report(&scenario, seed, occ);
                assert_eq!(seeded.trace_hash, plain.trace_hash, "{name} {occ} {seed}");
                let choices = seeded.choices.clone().unwrap();
                assert_eq!(choices.total, tape.choices);
                assert_eq!(choices.not_nominal, tape.deviations.len() as u64);
                assert_eq!(choices.by_kind.values().sum::<u64>(), tape.choices);
                assert!(choices.by_kind["latency"] > 0 && choices.by_kind["tie"] > 0);

                let replayed = driven(&scenario, occ, Drive::Tape(tape.clone())).unwrap();
                assert_eq!(
                    replayed.trace_hash, seeded.trace_hash,
                    "{name} {occ} {seed}"
                );
                assert_eq!(replayed.outcome, seeded.outcome);
                assert_eq!(replayed.seed, None);
                assert_eq!(replayed.tape.as_deref(), Some(tape.token().as_str()));
                assert_eq!(replayed.choices, seeded.choices);
                assert!(replayed
                    .reproduce
                    .contains(&format!("--tape {}", tape.token())));
            }
        }
    }
}

#[test]
fn a_tape_is_the_same_on_every_run_and_thread() {
    let scenario = scenario("did-it-work");
    let (_, tape) = recorded(&scenario, 4, Occ::Off);
    let other = std::thread::spawn(move || {
        let scenario = crate::support::scenario("did-it-work");
        recorded(&scenario, 4, Occ::Off).1
    })
    .join()
    .unwrap();
    assert_eq!(tape, other);
}

#[test]
fn a_tape_that_does_not_fit_is_refused_not_run() {
    let minimal = scenario("did-it-work");
    let (_, tape) = recorded(&minimal, 4, Occ::Off);
    let misfit =
        |scenario: &Scenario, occ: Occ| match driven(scenario, occ, Drive::Tape(tape.clone())) {
            Err(DrivenError::Misfit(why)) => why,
            Ok(r) => panic!("replayed: {}", r.trace_hash),
            Err(e) => panic!("{e}"),
        };
    // Another mode makes other choices.
    assert!(!misfit(&minimal, Occ::On).is_empty());
    // A changed model: the database's latency range is narrower, so a latency has fewer
    // options than the tape's.
    let mut changed = minimal.clone();
    changed.latency.db.max_us = changed.latency.db.min_us + 1;
    let why = misfit(&changed, Occ::Off);
    assert!(
        why.starts_with("at choice ") && why.contains("the tape gives option"),
        "{why}"
    );
    // One replica fewer: fewer ties and other latencies, however the options fall.
    let mut fewer = minimal.clone();
    fewer.topology.orders_replicas = 3;
    assert!(!misfit(&fewer, Occ::Off).is_empty());
}

#[test]
fn run_prints_a_tape_and_replays_it_from_the_command_line() {
    let file = "reports/demo/did-it-work.minimal.toml";
    let (code, text, stderr) =
        ticketsim(&["run", file, "--seed", "199", "--occ", "off", "--print-tape"]);
    assert_eq!(code, 0, "{stderr}");
    let token = text
        .lines()
        .find_map(|l| l.strip_prefix("tape: "))
        .unwrap_or_else(|| panic!("{text}"))
        .to_owned();
    let replay = text
        .lines()
        .find_map(|l| l.strip_prefix("replay: "))
        .unwrap_or_else(|| panic!("{text}"));
    assert_eq!(
        replay,
        format!("ticketsim run {file} --tape {token} --occ off")
    );
    assert!(
        text.contains(
            "  26 choices (19 latency, 3 slow-tail, 4 tie), 21 of them not the nominal option\n"
        ),
        "{text}"
    );
    let hash = |text: &str| {
        text.lines()
            .find_map(|l| l.split_once(" · trace ").map(|(_, h)| h.to_owned()))
            .unwrap_or_else(|| panic!("{text}"))
    };
    let (code, again, stderr) = ticketsim(&["run", file, "--tape", &token, "--occ", "off"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        again.starts_with("ticketsim · did-it-work-minimal · a tape · occ off\n"),
        "{again}"
    );
    assert_eq!(hash(&again), hash(&text));

    // The same tape in another mode, with a trace asked for: refused, and no trace written.
    let dir = tempfile::tempdir().unwrap();
    let trace = dir.path().join("t.jsonl");
    let (code, _, stderr) = ticketsim(&[
        "run",
        file,
        "--tape",
        &token,
        "--occ",
        "on",
        "--trace",
        trace.to_str().unwrap(),
    ]);
    assert_eq!(code, 2);
    assert!(
        stderr.starts_with(
            "error: this tape no longer fits the model, the scenario or the mode: at choice "
        ),
        "{stderr}"
    );
    assert!(!trace.exists());
    // A token that is not one, and a seed with a tape.
    let (code, _, stderr) = ticketsim(&["run", file, "--tape", "t1!!"]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("is not a tape token (it is not base64)"),
        "{stderr}"
    );
    let (code, _, stderr) = ticketsim(&["run", file, "--tape", &token, "--seed", "1"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("cannot be used with"), "{stderr}");
}
