//! Broken scenario files: exit code 2, an error that names the file, line and key, never a
//! panic. The messages are snapshot-tested.

use crate::support::*;
use std::process::Command;

fn run_file(path: &str) -> (i32, String) {
    let out = Command::new(bin())
        .current_dir(root())
        .args(["run", path, "--seed", "1"])
        .output()
        .unwrap();
    assert!(out.stdout.is_empty(), "no report for a broken scenario");
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

macro_rules! broken {
    ($name:ident, $file:literal) => {
        #[test]
        fn $name() {
            let (code, stderr) = run_file($file);
            assert_eq!(code, 2, "{stderr}");
            assert!(stderr.contains($file), "names the file: {stderr}");
            insta::assert_snapshot!(stderr);
        }
    };
}

broken!(unknown_key, "tests/fixtures/unknown-key.toml");
broken!(wrong_type, "tests/fixtures/wrong-type.toml");
broken!(negative_count, "tests/fixtures/negative-count.toml");
broken!(syntax_error, "tests/fixtures/syntax-error.toml");
broken!(absurd_count, "tests/fixtures/absurd-count.toml");
broken!(min_above_max, "tests/fixtures/min-above-max.toml");
broken!(missing_file, "tests/fixtures/does-not-exist.toml");
broken!(unknown_claim, "tests/fixtures/unknown-claim.toml");
broken!(unknown_property, "tests/fixtures/unknown-property.toml");
broken!(repeated_switch, "tests/fixtures/repeated-switch.toml");

#[test]
fn every_bundled_scenario_is_valid_and_declares_what_it_expects() {
    let mut names = Vec::new();
    for entry in std::fs::read_dir(root().join("scenarios")).unwrap() {
        let path = entry.unwrap().path();
        let scenario = ticketsim::Scenario::load(&path).unwrap();
        assert!(
            !scenario.description.trim().is_empty(),
            "{}",
            path.display()
        );
        for occ in ticketsim::Occ::ALL {
            assert!(
                !scenario.expect.get(occ).is_empty(),
                "{} has no expectation for {occ}",
                path.display()
            );
        }
        names.push(scenario.name);
    }
    names.sort();
    assert_eq!(
        names,
        [
            "cancel-completed-order",
            "cancel-completed-order-cured",
            "cancelled-before-created",
            "cancelled-before-created-cured",
            "charge-without-record",
            "crash-after-save",
            "crash-before-publish",
            "crash-before-publish-cured",
            "did-it-work",
            "double-reservation",
            "double-reservation-cured",
            "duplicate-order-in-payments",
            "duplicate-update",
            "edit-races-reservation",
            "missing-update-event",
            "payment-after-expiration",
            "payment-after-expiration-cured",
            "price-burst",
            "refusal-exits-replica",
            "stale-expiration",
            "stale-expiration-cured",
            "updated-before-created",
        ]
    );
}

#[test]
fn workload_values_out_of_range_name_their_key() {
    let cases = [
        (
            "[[workload.price-chain]]\ntickets = 1\nprice = 5\nupdates = [10]\npace = \"burst\"\nthink-ms = 5\n",
            "workload.price-chain[0].think-ms",
            "needs pace = \"after-response\"",
        ),
        (
            "[[workload.reserve]]\ntickets = 1\nprice = 5\norders = 0\n",
            "workload.reserve[0].orders",
            "between 1 and 1000",
        ),
        (
            "[[workload.reserve]]\ntickets = 1\nprice = 5\ncancel-after-ms = 999999999\n",
            "workload.reserve[0].cancel-after-ms",
            "is not before limits.sim-time-ms",
        ),
    ];
    for (workload, key, message) in cases {
        let text = format!("name = \"x\"\ndescription = \"x\"\n{workload}");
        let err = ticketsim::Scenario::parse(&text, std::path::Path::new("x.toml")).unwrap_err();
        assert_eq!(err.key.as_deref(), Some(key), "{err}");
        assert!(err.message.contains(message), "{err}");
        assert!(err.position.is_some(), "{err}");
    }
}
