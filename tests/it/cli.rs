//! The command line as a user meets it: help, seeds, exit codes, output formats.

use crate::support::*;

#[test]
fn run_prints_the_seed_parameters_outcome_and_reproducing_command() {
    let (code, stdout, _) = ticketsim(&[
        "run",
        "scenarios/did-it-work.toml",
        "--seed",
        "7",
        "--occ",
        "off",
    ]);
    assert_eq!(code, 0);
    assert!(
        stdout.starts_with("ticketsim · did-it-work · seed 7 · occ off\n"),
        "{stdout}"
    );
    assert!(stdout.contains("4 orders replicas in queue group orders-service, ack wait 5000 ms"));
    assert!(stdout.contains("outcome: DIVERGED"), "{stdout}");
    assert!(stdout
        .ends_with("reproduce: ticketsim run scenarios/did-it-work.toml --seed 7 --occ off\n"));
}

#[test]
fn the_human_summary_of_a_pinned_run_is_stable() {
    let (_, stdout, _) = ticketsim(&[
        "run",
        "scenarios/price-burst.toml",
        "--seed",
        "3",
        "--occ",
        "off",
    ]);
    insta::assert_snapshot!(stdout);
}

#[test]
fn json_has_the_documented_fields() {
    let (code, stdout, _) =
        ticketsim(&["run", "scenarios/did-it-work.toml", "--seed", "1", "--json"]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    for field in [
        "scenario",
        "seed",
        "occ",
        "outcome",
        "databases_agree",
        "quiescent",
        "divergences",
        "violations",
        "why_stuck",
        "stats",
        "trace_hash",
        "sim_time_ms",
    ] {
        assert!(v.get(field).is_some(), "missing {field}");
    }
    assert_eq!(v["occ"], "on", "on is the default mode");
    assert_eq!(v["outcome"], "converged");
    assert_eq!(v["stats"]["published"], 600);
}

#[test]
fn without_a_seed_one_is_picked_printed_and_reproducible() {
    let (code, stdout, stderr) = ticketsim(&["run", "scenarios/price-burst.toml", "--json"]);
    // The seed is random, so the run may meet its expectation (0) or not (1); either way it ran.
    assert!(code == 0 || code == 1, "{stderr}");
    let seed: u64 = stderr
        .trim()
        .strip_prefix("no --seed given: picked seed ")
        .unwrap_or_else(|| panic!("{stderr}"))
        .parse()
        .unwrap();
    let first: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(first["seed"], seed);
    let (_, again, _) = ticketsim(&[
        "run",
        "scenarios/price-burst.toml",
        "--json",
        "--seed",
        &seed.to_string(),
    ]);
    assert_eq!(stdout, again);
}

#[test]
fn a_failed_expectation_exits_1_and_says_how_to_reproduce() {
    // The fixture claims did-it-work converges without OCC; seed 0 refutes it.
    let (code, stdout, _) = ticketsim(&[
        "run",
        "tests/fixtures/wrong-expectation.toml",
        "--seed",
        "0",
        "--occ",
        "off",
    ]);
    assert_eq!(code, 1, "{stdout}");
    assert!(
        stdout.contains("expectations (occ off):\n  converges — FAILED: this seed diverged\n"),
        "{stdout}"
    );
    assert!(stdout.contains(
        "reproduce: ticketsim run tests/fixtures/wrong-expectation.toml --seed 0 --occ off"
    ));
}

#[test]
fn usage_errors_exit_2() {
    let (code, _, stderr) = ticketsim(&["run", "scenarios/did-it-work.toml", "--occ", "sometimes"]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("possible values: off, on, dedup"),
        "{stderr}"
    );
}

#[test]
fn help_explains_the_modes_and_exit_codes() {
    let (code, stdout, _) = ticketsim(&["run", "--help"]);
    assert_eq!(code, 0);
    for text in [
        "--seed",
        "--tape",
        "--print-tape",
        "--occ",
        "--json",
        "--trace",
        "Examples:",
        "docs/outcomes.md",
    ] {
        assert!(stdout.contains(text), "{text}: {stdout}");
    }
    let (_, stdout, _) = ticketsim(&["--help"]);
    assert!(stdout.contains("Exit codes"), "{stdout}");
    let (code, stdout, _) = ticketsim(&["demo", "--help"]);
    assert_eq!(code, 0);
    for text in [
        "--seed",
        "--out",
        "--color",
        "[default: reports/demo]",
        "Examples:",
    ] {
        assert!(stdout.contains(text), "demo {text}: {stdout}");
    }
    let (code, stdout, _) = ticketsim(&["shrink", "--help"]);
    assert_eq!(code, 0);
    for text in [
        "--seed",
        "--occ",
        "--out",
        "--search",
        "the same way",
        "Exit codes",
    ] {
        assert!(stdout.contains(text), "shrink {text}: {stdout}");
    }
}

#[test]
fn the_sweep_help_names_the_default_seed_range_it_uses() {
    let (code, stdout, _) = ticketsim(&["sweep", "--help"]);
    assert_eq!(code, 0);
    let default = ticketsim::harness::sweep::Seeds::REGRESSION.to_string();
    assert!(
        stdout.contains(&format!("every scenario, seeds {default}, every mode")),
        "the example must name the default range {default}: {stdout}"
    );
    assert!(
        stdout.contains(&format!("[default: {default}]")),
        "{stdout}"
    );
}

#[test]
fn demo_list_names_every_catalogue_scenario_with_its_header() {
    let (code, stdout, stderr) = ticketsim(&["demo", "--list"]);
    assert_eq!(code, 0, "{stderr}");
    let files = catalogue_files();
    // An entry's line starts at the left margin; the cure its race declares follows on lines
    // indented under the summary.
    let lines: Vec<&str> = stdout
        .lines()
        .skip(2)
        .filter(|l| !l.starts_with("      "))
        .collect();
    assert_eq!(lines.len(), files.len(), "{stdout}");
    for file in files {
        let name = file.file_stem().unwrap().to_str().unwrap();
        let first = std::fs::read_to_string(&file).unwrap();
        let header = first.lines().next().unwrap().strip_prefix("# ").unwrap();
        let (number, shows) = match header.strip_prefix("Catalogue #") {
            Some(rest) => {
                let (n, shows) = rest.split_once(" — ").unwrap();
                match n.split_once(", ") {
                    Some((n, aside)) => (format!("#{n}"), format!("{aside}: {shows}")),
                    None => (format!("#{n}"), shows.to_owned()),
                }
            }
            None => ("-".to_owned(), header.to_owned()),
        };
        let line = lines
            .iter()
            .find(|l| l.split_whitespace().nth(1) == Some(name))
            .unwrap_or_else(|| panic!("{name} is not listed:\n{stdout}"));
        assert_eq!(
            line.split_whitespace().next(),
            Some(number.as_str()),
            "{line}"
        );
        assert!(line.ends_with(&shows), "{line} does not say {shows:?}");
        // Under a race that declares its cure, the cure; under a cured twin, nothing.
        let after: Vec<&str> = stdout
            .lines()
            .skip_while(|l| l != line)
            .skip(1)
            .take_while(|l| l.starts_with("      "))
            .map(str::trim)
            .collect();
        let cure = after.join(" ");
        let declared = ticketsim::Scenario::load(&file).unwrap().cure;
        match declared.as_ref().map(|c| (&c.mode, &c.switches, &c.none)) {
            None => assert!(cure.is_empty(), "{name}: {cure}"),
            Some((Some(mode), None, _)) => {
                assert!(cure.starts_with("cure: OCC"), "{name}: {cure}");
                assert!(cure.ends_with(&format!("(--occ {mode})")), "{name}: {cure}");
            }
            Some((mode, Some(switches), _)) => {
                let mode = mode.unwrap_or(ticketsim::Occ::On);
                assert!(
                    cure.ends_with(&format!(", --occ {mode})")),
                    "{name}: {cure}"
                );
                for s in switches {
                    assert!(cure.contains(s.words()), "{name}: {cure}");
                    assert!(
                        cure.contains(&format!("[cures] {}", s.key())),
                        "{name}: {cure}"
                    );
                }
            }
            Some((_, _, Some(why))) => {
                assert_eq!(cure, format!("no cure: {why}"), "{name}");
            }
            Some(_) => panic!("{name}: an empty [cure] table loaded"),
        }
    }
    for (name, cure) in [
        ("did-it-work", "cure: OCC (--occ on)"),
        (
            "duplicate-update",
            "cure: OCC and deduplication (--occ dedup)",
        ),
        (
            "double-reservation",
            "cure: a unique partial index on active orders ([cures] unique-active-order, --occ on)",
        ),
        (
            "crash-before-publish",
            "cure: a transactional outbox and deduplication ([cures] transactional-outbox, --occ dedup)",
        ),
    ] {
        let at = stdout.find(&format!(" {name} ")).unwrap();
        let under: Vec<&str> = stdout[at..]
            .lines()
            .skip(1)
            .take_while(|l| l.starts_with("      "))
            .map(str::trim)
            .collect();
        assert_eq!(under.join(" "), cure, "{name}");
    }
    let (code, _, stderr) = ticketsim(&["demo", "--list", "scenarios/did-it-work.toml"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("cannot be used with"), "{stderr}");
}
