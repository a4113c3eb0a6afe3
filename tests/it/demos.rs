//! `ticketsim demo` for every scenario of the catalogue: the race told as a story, the same
//! seed with the scenario's declared cure (or, for a race only OCC makes and no cure, without
//! OCC), and the smallest run that fails the same way.

use crate::support::*;
use ticketsim::harness::demo::{Cure, Demo, DEFAULT_SEED};
use ticketsim::harness::shrink::Budget;
use ticketsim::Outcome;

/// The scenario with no race in any mode: an update that overtakes its ticket's creation is
/// redelivered and applied in order, in every mode. Its demo runs and says so.
const NO_RACE: &str = "updated-before-created";

#[test]
fn every_catalogue_scenario_has_a_demo_with_its_race_its_cure_and_its_smallest_run() {
    let out = tempfile::tempdir().unwrap();
    let budget = Budget {
        jobs: 2,
        ..Budget::default()
    };
    for path in catalogue_files() {
        let name = path.file_stem().unwrap().to_str().unwrap().to_owned();
        let s = scenario(&name);
        let demo = Demo::build(&s, DEFAULT_SEED, budget, out.path(), &|_| {}).unwrap();
        let text = demo.render(ticketsim::present::paint::Paint { enabled: false });
        assert!(text.contains(&format!("ticketsim demo · {name}")), "{name}");
        let header = std::fs::read_to_string(&path).unwrap();
        let cured_twin = header.lines().next().unwrap().contains(", cured");
        let declared = s.cure.as_ref();
        if cured_twin || name == NO_RACE {
            // A cured twin shows its race only where its cure needs OCC under it.
            if name == NO_RACE {
                assert!(demo.told.is_none(), "{name}");
                assert!(text.contains("there is no race to show"), "{name}");
            }
            continue;
        }
        // The race is told in the first mode the scenario expects to fail: without OCC, or,
        // for a race only OCC makes (#4), with it.
        let race = ticketsim::harness::demo::cure::race_mode(&s);
        assert_eq!(demo.race, race, "{name}");
        assert_eq!(
            race,
            if name == "missing-update-event" {
                ticketsim::Occ::On
            } else {
                ticketsim::Occ::Off
            },
            "{name}"
        );
        let told = demo
            .told
            .as_ref()
            .unwrap_or_else(|| panic!("{name}: no seed fails in its race's mode"));
        // The race, told on the failing ticket.
        assert!(!told.off.steps.is_empty(), "{name}");
        // The same seed with the declared cure: the cure's mode, or OCC with its switches.
        assert!(!told.on.steps.is_empty(), "{name}");
        // Beside a race that only OCC makes, with no cure, runs the design without OCC.
        let beside = match Cure::of(&s).occ() {
            occ if occ == race => ticketsim::Occ::Off,
            occ => occ,
        };
        assert_eq!(demo.on.report.occ, beside, "{name}");
        let none = declared.is_some_and(|c| c.none.is_some());
        if !none {
            assert!(
                told.cured && demo.on.report.outcome == Outcome::Converged,
                "{name}: its declared cure does not converge on seed {}",
                demo.seed
            );
            assert!(
                demo.on.report.violations.is_empty(),
                "{name}: its declared cure breaks an invariant on seed {}",
                demo.seed
            );
        }
        // The smallest run still fails, and is no larger than the original.
        let failure = ticketsim::harness::shrink::Failure::of(&told.minimal_off.report);
        assert!(failure.is_some(), "{name}: the smallest run does not fail");
        assert!(
            told.minimal.total_requests() <= s.total_requests(),
            "{name}"
        );
        assert!(
            text.contains("The smallest run that fails the same way"),
            "{name}"
        );
    }
}
