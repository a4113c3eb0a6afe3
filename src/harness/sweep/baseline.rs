//! Committed baselines (`reports/<scenario>.baseline.toml`): the outcome of every seed of a
//! fixed regression range, per mode, written so that a change reads well in a diff.
//!
//! `ticketsim sweep --update-baselines` writes them; `ticketsim sweep --check` and `cargo test`
//! run the same seeds again and name every seed whose outcome changed.

use crate::harness::error::Error;
use crate::harness::sweep::plan::{Plan, Seeds};
use crate::harness::sweep::tally::{SeedClass, Tally};
use crate::model::occ::Occ;
use crate::scenario::input::{read_text, REPORT_MAX_BYTES};
use crate::scenario::limits::{Invalid, Seg};
use crate::scenario::parse::{from_toml, ScenarioError};
use crate::scenario::schema::Scenario;
use serde::{Deserialize, Serialize};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// One scenario's baseline.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Baseline {
    /// The scenario's name.
    pub scenario: String,
    /// The regression range.
    pub seeds: Seeds,
    /// Outcomes without OCC.
    pub off: ModeBaseline,
    /// Outcomes with OCC as taught.
    pub on: ModeBaseline,
    /// Outcomes with OCC and deduplication.
    pub dedup: ModeBaseline,
}

/// The outcomes of one mode over the range. Seeds in no list converged.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct ModeBaseline {
    /// Seeds that converged.
    pub converged: u64,
    /// Seeds that diverged.
    pub diverged: u64,
    /// Seeds that got stuck.
    pub stuck: u64,
    /// Seeds that broke an invariant.
    pub violations: u64,
    /// Which seeds diverged.
    pub diverged_seeds: Vec<u64>,
    /// Which got stuck.
    pub stuck_seeds: Vec<u64>,
    /// Which broke an invariant.
    pub violation_seeds: Vec<u64>,
}

impl From<&Tally> for ModeBaseline {
    fn from(t: &Tally) -> Self {
        ModeBaseline {
            converged: t.converged,
            diverged: t.diverged,
            stuck: t.stuck,
            violations: t.violations,
            diverged_seeds: t.diverged_seeds.clone(),
            stuck_seeds: t.stuck_seeds.clone(),
            violation_seeds: t.violation_seeds.clone(),
        }
    }
}

impl ModeBaseline {
    /// What the baseline says happened to `seed`.
    pub fn class_of(&self, seed: u64) -> SeedClass {
        SeedClass::of(
            seed,
            &self.diverged_seeds,
            &self.stuck_seeds,
            &self.violation_seeds,
        )
    }
}

/// A seed whose outcome is not the baseline's.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Mismatch {
    /// The scenario's name.
    pub scenario: String,
    /// The mode.
    pub occ: Occ,
    /// The seed.
    pub seed: u64,
    /// What the baseline recorded.
    pub baseline: String,
    /// What happened now.
    pub now: String,
    /// The command that reproduces the run.
    pub reproduce: String,
}

/// The result of comparing a sweep with the baselines.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BaselineCheck {
    /// Seeds compared (over all scenarios and modes).
    pub compared: u64,
    /// Those whose outcome changed, by scenario, mode and seed.
    pub mismatches: Vec<Mismatch>,
}

impl Baseline {
    /// Where the baseline of `scenario` lives in `reports`: `<file stem>.baseline.toml`.
    pub fn path(reports: &Path, scenario: &Scenario) -> PathBuf {
        let stem = scenario
            .source
            .file_stem()
            .map_or_else(|| scenario.name.clone().into(), |s| s.to_owned());
        let mut name = stem;
        name.push(".baseline.toml");
        reports.join(name)
    }

    /// The baseline of `scenario` in `reports`, checked to be that scenario's.
    pub fn load_for(reports: &Path, scenario: &Scenario) -> Result<Baseline, Error> {
        let path = Baseline::path(reports, scenario);
        let baseline = Baseline::load(&path)?;
        if baseline.scenario != scenario.name {
            return Err(Error::Input {
                path,
                message: format!(
                    "is the baseline of scenario `{}`, but {} is named `{}`; record a new one with `ticketsim sweep --update-baselines`",
                    baseline.scenario,
                    scenario.source.display(),
                    scenario.name
                ),
            });
        }
        Ok(baseline)
    }

    /// The baseline of mode `occ`.
    pub fn mode(&self, occ: Occ) -> &ModeBaseline {
        match occ {
            Occ::Off => &self.off,
            Occ::On => &self.on,
            Occ::Dedup => &self.dedup,
        }
    }

    /// Read and validate a baseline file.
    pub fn load(path: &Path) -> Result<Baseline, ScenarioError> {
        let text = read_text(path, REPORT_MAX_BYTES).map_err(|e| ScenarioError {
            file: path.to_owned(),
            position: None,
            key: None,
            message: format!(
                "cannot read the baseline: {e} (create it with `ticketsim sweep --update-baselines`)"
            ),
            snippet: None,
        })?;
        let baseline: Baseline = from_toml(&text, path)?;
        baseline
            .validate()
            .map_err(|invalid| invalid.into_error(&text, path))?;
        Ok(baseline)
    }

    fn validate(&self) -> Result<(), Invalid> {
        for occ in Occ::ALL {
            let m = self.mode(occ);
            let mode = Seg::Key(occ.as_str());
            let lists = [
                ("diverged", "diverged-seeds", m.diverged, &m.diverged_seeds),
                ("stuck", "stuck-seeds", m.stuck, &m.stuck_seeds),
                (
                    "violations",
                    "violation-seeds",
                    m.violations,
                    &m.violation_seeds,
                ),
            ];
            for (count_key, list_key, count, list) in lists {
                if list.len() as u64 != count {
                    return Err(Invalid {
                        path: vec![mode, Seg::Key(count_key)],
                        message: format!("says {count} but {list_key} lists {} seeds", list.len()),
                    });
                }
                let ordered = list.windows(2).all(|w| w[0] < w[1]);
                let inside = list.iter().all(|&s| self.seeds.contains(s));
                if !ordered || !inside {
                    return Err(Invalid {
                        path: vec![mode, Seg::Key(list_key)],
                        message: format!(
                            "must list distinct seeds of {} in ascending order",
                            self.seeds
                        ),
                    });
                }
            }
            if m.converged + m.diverged + m.stuck != self.seeds.len() {
                return Err(Invalid {
                    path: vec![mode, Seg::Key("converged")],
                    message: format!(
                        "converged + diverged + stuck is {}, but the range {} has {} seeds",
                        m.converged + m.diverged + m.stuck,
                        self.seeds,
                        self.seeds.len()
                    ),
                });
            }
        }
        Ok(())
    }

    /// The file text for `scenario`'s outcomes over `seeds`, one tally per mode in
    /// [`Occ::ALL`] order.
    pub fn render(scenario: &Scenario, seeds: Seeds, tallies: [&Tally; 3]) -> String {
        let file = scenario
            .source
            .file_name()
            .map_or_else(String::new, |f| f.to_string_lossy().into_owned());
        let mut out = format!(
            "# ticketsim baseline for {file}: the outcome of every seed of the regression range, per\n\
             # mode. Seeds in no list converged. Written by `ticketsim sweep --update-baselines`;\n\
             # checked by `ticketsim sweep --check` and `cargo test`. Update it on purpose, after\n\
             # reading the diff.\n\
             scenario = {}\n\
             seeds = \"{seeds}\"\n",
            toml_string(&scenario.name)
        );
        for (occ, tally) in Occ::ALL.into_iter().zip(tallies) {
            let _ = write!(
                out,
                "\n[{occ}]\nconverged = {}\ndiverged = {}\nstuck = {}\nviolations = {}\n",
                tally.converged, tally.diverged, tally.stuck, tally.violations
            );
            for (key, seeds) in [
                ("diverged-seeds", &tally.diverged_seeds),
                ("stuck-seeds", &tally.stuck_seeds),
                ("violation-seeds", &tally.violation_seeds),
            ] {
                let _ = writeln!(out, "{key} = {}", seed_list(seeds));
            }
        }
        out
    }
}

/// Compare every run of `plan` with the baseline of its scenario (`baselines[scenario]`) and
/// mode, seed by seed. `tallies` are the plan's, one per group.
pub fn check(
    plan: &Plan,
    scenarios: &[Scenario],
    baselines: &[Baseline],
    tallies: &[Tally],
) -> BaselineCheck {
    let mut check = BaselineCheck::default();
    for (i, (g, tally)) in plan.groups.iter().zip(tallies).enumerate() {
        let scenario = &scenarios[g.scenario];
        let baseline = baselines[g.scenario].mode(g.occ);
        for seed in g.seeds.start..g.seeds.end {
            if !plan.in_shard(i, seed) {
                continue;
            }
            check.compared += 1;
            let (was, now) = (baseline.class_of(seed), tally.class_of(seed));
            if was != now {
                check.mismatches.push(Mismatch {
                    scenario: scenario.name.clone(),
                    occ: g.occ,
                    seed,
                    baseline: was.to_string(),
                    now: now.to_string(),
                    reproduce: crate::present::report::reproduce(scenario, seed, g.occ),
                });
            }
        }
    }
    check.mismatches.sort();
    check
}

/// Ten seeds a line, so a changed seed changes one short line of the diff.
fn seed_list(seeds: &[u64]) -> String {
    if seeds.is_empty() {
        return "[]".to_owned();
    }
    let mut out = "[\n".to_owned();
    for line in seeds.chunks(10) {
        let items: Vec<String> = line.iter().map(u64::to_string).collect();
        let _ = writeln!(out, "    {},", items.join(", "));
    }
    out.push(']');
    out
}

fn toml_string(s: &str) -> String {
    toml::Value::String(s.to_owned()).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::findings::Outcome;

    fn scenario() -> Scenario {
        let text = "name = \"t\"\ndescription = \"d\"\n[[workload.price-chain]]\nat-ms = 0\ntickets = 1\ntitle = \"x\"\nprice = 1\nupdates = [2]\n";
        Scenario::parse(text, Path::new("scenarios/t.toml")).unwrap()
    }

    fn tally(diverged: Vec<u64>, runs: u64) -> Tally {
        Tally {
            runs,
            converged: runs - diverged.len() as u64,
            diverged: diverged.len() as u64,
            diverged_seeds: diverged,
            ..Tally::default()
        }
    }

    #[test]
    fn a_rendered_baseline_reads_back_as_written() {
        let seeds = Seeds { start: 0, end: 30 };
        let off = tally((0..25).collect(), 30);
        let on = tally(vec![], 30);
        let text = Baseline::render(&scenario(), seeds, [&off, &on, &on]);
        let path = Path::new("reports/t.baseline.toml");
        let parsed: Baseline = from_toml(&text, path).unwrap();
        parsed.validate().map_err(|i| i.message).unwrap();
        assert_eq!(parsed.seeds, seeds);
        assert_eq!(parsed.off, ModeBaseline::from(&off));
        assert_eq!(parsed.dedup, ModeBaseline::from(&on));
        assert_eq!(parsed.off.class_of(24).outcome, Outcome::Diverged);
        assert_eq!(parsed.off.class_of(25).outcome, Outcome::Converged);
        assert!(text.contains("    20, 21, 22, 23, 24,\n]"), "{text}");
    }

    #[test]
    fn a_baseline_whose_counts_disagree_with_its_lists_names_the_key() {
        let seeds = Seeds { start: 0, end: 3 };
        let off = tally(vec![1], 3);
        let text = Baseline::render(&scenario(), seeds, [&off, &off, &off]).replacen(
            "diverged = 1",
            "diverged = 2",
            1,
        );
        let path = Path::new("reports/t.baseline.toml");
        let parsed: Baseline = from_toml(&text, path).unwrap();
        let err = parsed.validate().unwrap_err().into_error(&text, path);
        assert_eq!(err.key.as_deref(), Some("off.diverged"));
        assert!(err.message.contains("lists 1 seeds"), "{}", err.message);
        assert!(err.position.is_some());
    }
}
