//! Which mode the demo shows as a race's cure, and how it names it.

use crate::model::occ::Occ;
use crate::scenario::expect::Claim;
use crate::scenario::schema::Scenario;

/// The mode the demo shows as a race's cure: the first of `on` and `dedup` that the scenario
/// expects to converge; `on` (OCC as taught) when neither does, so that the demo shows what OCC
/// does to a race it does not cure.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cure(pub Occ);

impl Cure {
    /// The cure of `scenario`'s race.
    pub fn of(scenario: &Scenario) -> Cure {
        [Occ::On, Occ::Dedup]
            .into_iter()
            .find(|&occ| scenario.expect.get(occ).contains(&Claim::Converges))
            .map_or(Cure(Occ::On), Cure)
    }

    /// Its name in a sentence: "OCC", "OCC and deduplication".
    pub fn name(self) -> &'static str {
        match self.0 {
            Occ::Dedup => "OCC and deduplication",
            Occ::On | Occ::Off => "OCC",
        }
    }

    /// "with OCC (--occ on)", "with OCC and deduplication (--occ dedup)".
    pub fn with_flag(self) -> String {
        format!("with {} (--occ {})", self.name(), self.0)
    }
}
