//! The `[cure]` a race declares: the table's errors, every catalogue race declaring its cure
//! truthfully, and the demo showing that cure (the index for the double reservation, with
//! replays that run as printed).

use crate::support::*;
use std::path::Path;
use ticketsim::harness::demo::{Cure, Demo, DEFAULT_SEED};
use ticketsim::harness::shrink::Budget;
use ticketsim::harness::sweep::report::scenario_hash;
use ticketsim::present::paint::Paint;
use ticketsim::scenario::cure::Switch;
use ticketsim::scenario::expect::Claim;
use ticketsim::scenario::schema::Cures;
use ticketsim::scenario::ScenarioError;
use ticketsim::{Occ, Scenario};

/// A minimal scenario with `cure` as its `[cure]` table's body.
fn with_cure(cure: &str) -> Result<Scenario, ScenarioError> {
    let text = format!(
        "name = \"x\"\ndescription = \"x\"\n\n[[workload.create-tickets]]\ncount = 1\nprice = 5\n\n[cure]\n{cure}\n"
    );
    Scenario::parse(&text, Path::new("cure.toml"))
}

#[test]
fn a_cure_table_sets_exactly_one_key() {
    for body in [
        "",
        "mode = \"on\"\nnone = \"why\"",
        "switches = [\"unique-active-order\"]\nnone = \"why\"",
        "switches = [\"unique-active-order\"]\nmode = \"dedup\"\nnone = \"why\"",
    ] {
        let err = with_cure(body).unwrap_err();
        assert_eq!(err.file, Path::new("cure.toml"));
        assert_eq!(err.key.as_deref(), Some("cure"), "{err}");
        assert_eq!(
            err.position.map(|p| p.0),
            Some(8),
            "the [cure] header's line: {err}"
        );
        assert!(
            err.message
                .contains("exactly one of `mode`, `switches` or `none`"),
            "{err}"
        );
    }
    assert!(
        err_of("switches = [\"transactional-outbox\"]\nnone = \"x\"")
            .contains("or `switches` with the `mode` they run in), not 2"),
        "says what may go together"
    );
    assert!(with_cure("mode = \"on\"").is_ok());
    assert!(with_cure("mode = \"dedup\"").is_ok());
    assert!(with_cure("none = \"An outbox would, and is not modelled.\"").is_ok());
    let two = with_cure("switches = [\"unique-active-order\", \"ordered-order-events\"]").unwrap();
    assert_eq!(
        two.cure.unwrap().switches.unwrap(),
        vec![Switch::UniqueActiveOrder, Switch::OrderedOrderEvents]
    );
    // Switches may name the mode they run in; without one they run with OCC as taught.
    let table = with_cure("switches = [\"transactional-outbox\"]\nmode = \"dedup\"")
        .unwrap()
        .cure
        .unwrap();
    let cure = Cure::declared(&table).unwrap();
    let outbox = Cures::default().with(Switch::TransactionalOutbox);
    assert_eq!(cure, Cure::Switches(outbox, Occ::Dedup));
    assert_eq!(cure.flags(), "[cures] transactional-outbox, --occ dedup");
    assert_eq!(cure.name(), "a transactional outbox and deduplication");
    let table = with_cure("switches = [\"transactional-outbox\"]")
        .unwrap()
        .cure
        .unwrap();
    assert_eq!(
        Cure::declared(&table),
        Some(Cure::Switches(outbox, Occ::On))
    );
    let err = with_cure("switches = [\"transactional-outbox\"]\nmode = \"off\"").unwrap_err();
    assert_eq!(err.key.as_deref(), Some("cure.mode"), "{err}");
}

/// The message of the error reading a `[cure]` table with `body`.
fn err_of(body: &str) -> String {
    with_cure(body).unwrap_err().message
}

#[test]
fn a_cure_table_names_known_switches_and_a_mode_that_cures() {
    let err = with_cure("switches = [\"unique-active-order\", \"an-outbox\"]").unwrap_err();
    assert_eq!(err.key.as_deref(), Some("cure.switches[1]"), "{err}");
    assert_eq!(err.position, Some((9, 36)), "{err}");
    assert!(err.message.contains("an-outbox"), "{err}");
    assert!(
        err.message.contains("unique-active-order"),
        "lists the switches: {err}"
    );
    let err = with_cure("mode = \"off\"").unwrap_err();
    assert_eq!(err.key.as_deref(), Some("cure.mode"), "{err}");
    assert_eq!(err.position.map(|p| p.0), Some(9), "{err}");
    let err = with_cure("switches = []").unwrap_err();
    assert_eq!(err.key.as_deref(), Some("cure.switches"), "{err}");
    let err = with_cure("none = \" \"").unwrap_err();
    assert_eq!(err.key.as_deref(), Some("cure.none"), "{err}");
    let err = with_cure("mode = \"on\"\nwhy = \"x\"").unwrap_err();
    assert_eq!(err.key.as_deref(), Some("cure.why"), "{err}");
}

/// Found in review: a switch named twice was accepted (and shown once); it is an error at the
/// repeated entry, whichever switch it is and wherever the first one stands.
#[test]
fn a_cure_table_names_each_switch_once() {
    for (list, key, column, message) in [
        (
            r#""unique-active-order", "unique-active-order""#,
            "cure.switches[1]",
            36,
            r#"names "unique-active-order" again (already at [0]): name each switch once"#,
        ),
        (
            r#""ordered-order-events", "unique-active-order", "ordered-order-events""#,
            "cure.switches[2]",
            60,
            r#"names "ordered-order-events" again (already at [0]): name each switch once"#,
        ),
    ] {
        let err = with_cure(&format!("switches = [{list}]")).unwrap_err();
        assert_eq!(err.file, Path::new("cure.toml"));
        assert_eq!(err.key.as_deref(), Some(key), "{err}");
        assert_eq!(err.position, Some((9, column)), "the repeated entry: {err}");
        assert_eq!(err.message, message);
    }
}

/// Every catalogue file: its name, its header's catalogue part, and the scenario.
fn catalogue() -> Vec<(String, String, Scenario)> {
    let files = catalogue_files();
    files
        .into_iter()
        .map(|p| {
            let name = p.file_stem().unwrap().to_str().unwrap().to_owned();
            let header = std::fs::read_to_string(&p)
                .unwrap()
                .lines()
                .next()
                .unwrap()
                .to_owned();
            (name.clone(), header, scenario(&name))
        })
        .collect()
}

#[test]
fn every_race_of_the_catalogue_declares_its_cure_and_the_cure_holds() {
    let all = catalogue();
    for (name, header, s) in &all {
        let race = (header.starts_with("# Catalogue #") && !header.contains(", cured"))
            || name == "did-it-work"
            || name == "price-burst";
        let Some(table) = &s.cure else {
            assert!(!race, "{name} declares no [cure]");
            continue;
        };
        assert!(race, "{name} is a cured twin and declares a [cure]");
        if let (Some(mode), None) = (table.mode, &table.switches) {
            assert!(
                s.expect.get(mode).contains(&Claim::Converges),
                "{name}'s cure, --occ {mode}, is not expected to converge"
            );
        }
        if let Some(switches) = &table.switches {
            let Cure::Switches(cures, occ) = Cure::of(s) else {
                panic!("{name}: switches declared, not shown");
            };
            assert_eq!(&cures.on(), switches, "{name}");
            let twin = Cure::of(s).twin(s).unwrap_or_else(|| {
                panic!("{name}: no scenario runs its workload with {switches:?} on")
            });
            let (_, _, twin) = all
                .iter()
                .find(|(n, _, _)| Path::new(&format!("scenarios/{n}.toml")) == twin)
                .unwrap();
            assert_eq!(twin.cures, cures, "{name}");
            assert_eq!(twin.workload, s.workload, "{name}");
            assert_eq!(occ, table.mode.unwrap_or(Occ::On), "{name}");
            // The demo runs a switch cure in its mode (OCC as taught unless the table names
            // another): there the twin converges. (A status guard without OCC can lose its
            // check to an overwrite, and the outbox publishes some events twice, which only
            // dedup drops: what the twin expects in the other modes is its own, and the
            // catalogue's sweep holds it.)
            assert!(
                twin.expect.get(occ).contains(&Claim::Converges),
                "{name}: its cured twin does not converge with --occ {occ}"
            );
        }
    }
    let twin_of = |name: &str| {
        let s = scenario(name);
        Cure::of(&s).twin(&s)
    };
    assert_eq!(
        twin_of("double-reservation").as_deref(),
        Some(Path::new("scenarios/double-reservation-cured.toml"))
    );
    assert_eq!(
        twin_of("cancelled-before-created").as_deref(),
        Some(Path::new("scenarios/cancelled-before-created-cured.toml"))
    );
    assert_eq!(
        twin_of("crash-before-publish").as_deref(),
        Some(Path::new("scenarios/crash-before-publish-cured.toml"))
    );
    // A different workload is no twin.
    let mut other = scenario("double-reservation");
    other.workload.reserve[0].tickets = 19;
    assert_eq!(Cure::of(&other).twin(&other), None);
}

#[test]
fn declaring_a_cure_moves_no_scenario_hash() {
    for (name, _, s) in catalogue() {
        let undeclared = Scenario {
            cure: None,
            ..s.clone()
        };
        assert_eq!(scenario_hash(&s), scenario_hash(&undeclared), "{name}");
        let text = toml::to_string(&undeclared).unwrap();
        assert!(!text.contains("[cure]"), "{name}: {text}");
    }
}

#[test]
fn the_demo_of_the_double_reservation_shows_the_index_as_its_cure() {
    let out = std::env::temp_dir().join(format!("ticketsim-declared-{}", std::process::id()));
    let s = scenario("double-reservation");
    let budget = Budget {
        jobs: 2,
        ..Budget::default()
    };
    let demo = Demo::build(&s, DEFAULT_SEED, budget, &out, &|_| {}).unwrap();
    assert!(matches!(demo.cure, Cure::Switches(c, Occ::On) if c.unique_active_order));
    assert_eq!(demo.on.report.occ, Occ::On);
    assert!(demo.on.report.violations.iter().all(|v| !v.is_invariant()));
    assert!(
        demo.on.report.stats.db_conflicts > 0,
        "the index refused inserts"
    );
    let told = demo.told.as_ref().unwrap();
    assert!(told.cured);
    assert!(told
        .minimal_on
        .report
        .violations
        .iter()
        .all(|v| !v.is_invariant()));
    let text = demo.render(Paint { enabled: false });
    let with =
        "with a unique partial index on active orders ([cures] unique-active-order, --occ on)";
    for expected in [
        format!("│ {with} │"),
        format!("The same ticket {with}, same seed"),
        "With a unique partial index on active orders it converges after".to_owned(),
        format!(
            "double-reservation.minimal-cured.toml --seed {} --occ on\n",
            told.shrunk.seed
        ),
        format!("The same schedule {with}"),
        "With a unique partial index on active orders, every schedule within 1 deviation converges"
            .to_owned(),
    ] {
        assert!(text.contains(&expected), "missing {expected:?} in:\n{text}");
    }
    assert!(!text.contains("with OCC (--occ on)"), "{text}");
    let markdown = demo.markdown();
    assert!(markdown.contains("the race, and its cure, a unique partial index on active orders"));
    assert!(markdown.contains("### With a unique partial index on active orders (`[cures] unique-active-order, --occ on`), same seed"));
    // The cured replay names the twin, and runs as printed: converged, the index refusing.
    let line = text
        .lines()
        .map(str::trim)
        .find(|l| {
            l.starts_with("ticketsim run scenarios/double-reservation-cured.toml --scoped --tape ")
        })
        .unwrap_or_else(|| panic!("no replay through the cured twin in:\n{text}"));
    let mut args: Vec<&str> = line.split_whitespace().skip(1).collect();
    args.push("--json");
    let (code, stdout, stderr) = ticketsim(&args);
    assert_eq!(code, 0, "{line}: {stderr}");
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(report["outcome"], "converged", "{line}");
    assert!(
        report["stats"]["db_conflicts"].as_u64().unwrap() >= 1,
        "{line}"
    );
    // The demo writes the minimal run with the switch on beside the minimal run, and that file
    // runs the cured minimal run exactly: the cured replay command works as pasted.
    demo.write().unwrap();
    let cured = Scenario::load(&demo.files.minimal_cured).unwrap();
    assert!(cured.cures.unique_active_order);
    let mut race = Scenario::load(&demo.files.minimal).unwrap();
    assert!(!race.cures.unique_active_order);
    race.cures.unique_active_order = true;
    assert_eq!(race.workload, cured.workload);
    let seed = told.shrunk.seed;
    let report = ticketsim::run(&cured, seed, Occ::On).report;
    assert_eq!(report.trace_hash, told.minimal_on.report.trace_hash);
    assert!(text.contains("the smallest run with the cure, as a scenario file"));
    let _ = std::fs::remove_dir_all(&out);
}

#[test]
fn a_race_with_no_cure_says_why_beside_occ() {
    let out = std::env::temp_dir().join(format!("ticketsim-declared-none-{}", std::process::id()));
    let s = scenario("updated-before-created");
    let why = s.cure.as_ref().unwrap().none.clone().unwrap();
    assert_eq!(Cure::of(&s), Cure::Mode(Occ::On));
    let budget = Budget {
        jobs: 2,
        ..Budget::default()
    };
    let demo = Demo::build(&s, DEFAULT_SEED, budget, &out, &|_| {}).unwrap();
    let text = demo
        .render(Paint { enabled: false })
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    assert!(
        text.contains(&format!(
            "No cure is modelled: {why} Beside the race runs OCC as taught."
        )),
        "{text}"
    );
    assert!(demo
        .markdown()
        .contains(&format!("No cure is modelled: {why}")));
}

/// The shrunk run's summary counts what the cure refused and leaves a zero count out: the
/// ordered order events refuse deliveries and no write, so it says only the deliveries (those
/// they refused: any of OCC's beside them would not be counted).
#[test]
fn the_cured_summary_counts_only_what_the_cure_refused() {
    let s = scenario("cancelled-before-created");
    let out = std::env::temp_dir().join(format!("ticketsim-declared-cbc-{}", std::process::id()));
    let budget = Budget {
        jobs: 2,
        ..Budget::default()
    };
    let demo = Demo::build(&s, DEFAULT_SEED, budget, &out, &|_| {}).unwrap();
    assert!(matches!(demo.cure, Cure::Switches(c, Occ::On) if c.ordered_order_events));
    let told = demo.told.as_ref().unwrap();
    let cured = &told.minimal_on.report.stats;
    let refused = cured
        .failed_handlers_by_reason
        .get(&ticketsim::model::decisions::Refusal::OrderNotApplied)
        .copied()
        .unwrap_or(0);
    assert!(refused > 0 && cured.db_conflicts == 0, "{cured:?}");
    let text = demo.render(Paint { enabled: false });
    let said = format!(
        "converges after {refused} refused deliver{}.",
        if refused == 1 { "y" } else { "ies" }
    );
    assert!(text.contains(&said), "missing {said:?} in:\n{text}");
    assert!(!text.contains("0 refused"), "{text}");
}

/// Found in review: a switch cure's count (the shrink's "the cure acted", the summary's
/// "after N refused ...") took in every refusal of its run, OCC's own among them, which runs
/// beside the switches. It counts only what the switches refuse.
#[test]
fn a_switch_cure_counts_only_what_its_switches_refused() {
    use std::collections::BTreeMap;
    use ticketsim::model::decisions::Refusal;
    use ticketsim::model::store::WriteError;

    // The index beside an edit racing a double reservation: the tickets' version conflicts and
    // OCC's refused deliveries are not the index's; its 14 refused inserts are.
    let index = Cure::of(&scenario("double-reservation"));
    let mut s = scenario("edit-races-reservation");
    s.workload.reserve[0].orders = 2;
    let s = index.apply(&s);
    let report = ticketsim::run(&s, 0, Occ::On).report;
    assert_eq!(report.outcome, ticketsim::Outcome::Converged);
    let stats = &report.stats;
    assert_eq!(
        (stats.failed_handlers, stats.db_conflicts),
        (9, 26),
        "{stats:?}"
    );
    assert_eq!(
        stats.failed_handlers_by_reason,
        BTreeMap::from([(Refusal::NotFound, 1), (Refusal::VersionConflict, 8)])
    );
    assert_eq!(
        stats.order_conflicts_by_error,
        BTreeMap::from([(WriteError::DuplicateKey, 14)])
    );
    // Counting everything said 35, and "after 9 refused deliveries and 26 refused writes".
    assert_eq!(index.acted(&report), 14);
    assert_eq!(index.after(&report), "after 14 refused writes");
    // A mode's refusals are all its own: OCC is the cure.
    assert_eq!(Cure::Mode(Occ::On).acted(&report), 9);

    // The ordered order events, seed 4: one not-found of OCC beside two refusals of their own.
    let ordered = Cure::of(&scenario("cancelled-before-created"));
    let report = ticketsim::run(&scenario("cancelled-before-created-cured"), 4, Occ::On).report;
    assert_eq!(report.stats.failed_handlers, 3);
    assert_eq!(ordered.acted(&report), 2);
    assert_eq!(ordered.after(&report), "after 2 refused deliveries");
    // Seed 3: OCC refused two deliveries and the switch none; that run did not show the cure.
    let report = ticketsim::run(&scenario("cancelled-before-created-cured"), 3, Occ::On).report;
    assert_eq!(report.stats.failed_handlers, 2);
    assert_eq!(ordered.acted(&report), 0);

    // The JSON report adds the breakdown beside the counts it breaks down, which keep their
    // names and values.
    let (code, stdout, stderr) = ticketsim(&[
        "run",
        "scenarios/cancelled-before-created-cured.toml",
        "--seed",
        "4",
        "--occ",
        "on",
        "--json",
    ]);
    assert_eq!(code, 0, "{stderr}");
    let json: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(json["stats"]["failed_handlers"], 3);
    assert_eq!(json["stats"]["db_conflicts"], 0);
    assert_eq!(
        json["stats"]["failed_handlers_by_reason"],
        serde_json::json!({"not-found": 1, "order-not-applied": 2})
    );
    assert!(
        json["stats"].get("order_conflicts_by_error").is_none(),
        "left out when empty: {}",
        json["stats"]
    );
}

/// Found in review: a bad `[cure]` in a scenario that also has an `[explore]` table was
/// reported at the `[explore]` line (its scope is validated whole); it names `[cure]`'s key.
#[test]
fn a_bad_cure_beside_an_explore_table_is_reported_at_its_own_key() {
    let text = "name = \"c\"\ndescription = \"c\"\n[[workload.reserve]]\ntickets = 1\nprice = 1\n\
                [explore]\ntickets = 1\nreplicas = 1\ndeviations = 1\noff = \"converges\"\n\
                [cure]\nmode = \"off\"\n";
    let err = Scenario::parse(text, Path::new("c.toml")).unwrap_err();
    assert_eq!(err.key.as_deref(), Some("cure.mode"), "{err}");
    assert_eq!(err.position.map(|p| p.0), Some(12), "{err}");
}
