//! The `[cure]` a race declares: the table's errors, and a declaration that moves no hash.

use crate::support::*;
use std::path::Path;
use ticketsim::harness::sweep::report::scenario_hash;
use ticketsim::scenario::cure::Switch;
use ticketsim::scenario::ScenarioError;
use ticketsim::Scenario;

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
        "switches = [\"unique-active-order\"]\nmode = \"dedup\"",
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
    assert!(with_cure("mode = \"on\"").is_ok());
    assert!(with_cure("mode = \"dedup\"").is_ok());
    assert!(with_cure("none = \"An outbox would, and is not modelled.\"").is_ok());
    let two = with_cure("switches = [\"unique-active-order\", \"ordered-order-events\"]").unwrap();
    assert_eq!(
        two.cure.unwrap().switches.unwrap(),
        vec![Switch::UniqueActiveOrder, Switch::OrderedOrderEvents]
    );
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

#[test]
fn declaring_a_cure_moves_no_scenario_hash() {
    for entry in std::fs::read_dir(root().join("scenarios")).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_stem().unwrap().to_str().unwrap().to_owned();
        let s = scenario(&name);
        let undeclared = Scenario {
            cure: None,
            ..s.clone()
        };
        assert_eq!(scenario_hash(&s), scenario_hash(&undeclared), "{name}");
        let text = toml::to_string(&undeclared).unwrap();
        assert!(!text.contains("[cure]"), "{name}: {text}");
    }
}
