//! A sweep's report for a terminal: one table per scenario and mode, the expectations judged,
//! the panics and baseline mismatches each with the command that reproduces it. The text does
//! not depend on `--jobs`.

use crate::harness::sweep::report::{GroupReport, SweepReport};
use crate::model::occ::Occ;
use crate::present::report::Verdict;
use crate::present::summary::plural;
use crate::scenario::expect::Claim;
use std::fmt::Write as _;
use tabled::builder::Builder;
use tabled::settings::Style;

impl SweepReport {
    /// The terminal summary. It does not mention the number of threads: it is the same text
    /// whatever `--jobs`.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let scenarios = {
            let mut names: Vec<&str> = self.groups.iter().map(|g| g.scenario.as_str()).collect();
            names.dedup();
            names.len()
        };
        let mut ranges: Vec<String> = self.groups.iter().map(|g| g.seeds.to_string()).collect();
        ranges.sort();
        ranges.dedup();
        let _ = write!(
            out,
            "ticketsim sweep · {scenarios} scenario{} · seeds {} · {} runs",
            plural(scenarios as u64),
            ranges.join(", "),
            self.total_runs
        );
        if !self.shard.is_whole() {
            let _ = write!(out, " · shard {}: {} of them", self.shard, self.runs);
        }
        out.push('\n');

        let mut table = Builder::default();
        table.push_record([
            "scenario",
            "occ",
            "seeds",
            "converged",
            "diverged",
            "stuck",
            "violations",
            "first failing",
            "expectation",
        ]);
        for g in &self.groups {
            let t = &g.tally;
            let n = g.expectations.len();
            // Always "held of declared", then what did not hold: the fraction reads the same
            // in every row.
            let expectation = if n == 0 {
                "—".to_owned()
            } else {
                let mut cell = format!("{}/{n} held", g.count(Verdict::Held));
                for verdict in [Verdict::Failed, Verdict::Undecided] {
                    match g.count(verdict) {
                        0 => {}
                        k => cell += &format!(", {k} {}", verdict.shout()),
                    }
                }
                cell
            };
            table.push_record([
                g.scenario.clone(),
                g.occ.to_string(),
                t.runs.to_string(),
                t.converged.to_string(),
                t.diverged.to_string(),
                t.stuck.to_string(),
                t.violations.to_string(),
                g.first_failing_seed
                    .map_or("—".to_owned(), |s| s.to_string()),
                expectation,
            ]);
        }
        let _ = writeln!(out, "{}", table.build().with(Style::rounded()));
        let declared: Vec<&GroupReport> = self
            .groups
            .iter()
            .filter(|g| !g.expectations.is_empty())
            .collect();
        if !declared.is_empty() {
            let _ = writeln!(out, "\nexpectations:");
            for g in declared {
                let claims: Vec<String> = g
                    .expectations
                    .iter()
                    .map(|j| format!("{} {}", j.expected, j.verdict.shout()))
                    .collect();
                let _ = writeln!(out, "  {} · {}: {}", g.scenario, g.occ, claims.join(" · "));
            }
        }

        if !self.explorations.is_empty() {
            let _ = writeln!(
                out,
                "\nexplorations (every schedule of a scenario's [explore] scope within its bound):"
            );
            for e in &self.explorations {
                let _ = writeln!(
                    out,
                    "  {} · {}: {} {} ({})",
                    e.scenario,
                    e.occ,
                    e.expected,
                    e.verdict.shout(),
                    e.why
                );
            }
        }

        let failing: Vec<&GroupReport> = self
            .groups
            .iter()
            .filter(|g| g.reproduce.is_some())
            .collect();
        if !failing.is_empty() {
            let _ = writeln!(out, "\nfirst failing seed of each row, to reproduce:");
            for g in failing {
                let _ = writeln!(
                    out,
                    "  {} · {}: {}",
                    g.scenario,
                    g.occ,
                    g.reproduce.as_deref().unwrap_or_default()
                );
            }
        }
        let undecided: usize = self
            .groups
            .iter()
            .map(|g| g.count(Verdict::Undecided))
            .sum();
        for g in &self.groups {
            for j in g
                .expectations
                .iter()
                .filter(|j| j.verdict == Verdict::Failed)
            {
                let reproduce = match j.expected {
                    Claim::Converges => g.reproduce.as_deref(),
                    _ => None,
                };
                let claim = format!("`{}`", j.expected);
                expectation_failed(&mut out, &g.scenario, g.occ, &claim, &j.why, reproduce);
            }
        }
        for e in self
            .explorations
            .iter()
            .filter(|e| e.verdict == Verdict::Failed)
        {
            let claim = format!("its [explore] scope to `{}`", e.expected);
            let reproduce = e.reproduce.as_deref();
            expectation_failed(&mut out, &e.scenario, e.occ, &claim, &e.why, reproduce);
        }
        if undecided > 0 {
            let _ = writeln!(
                out,
                "\n{undecided} \"on some seed\" expectation{} not seen in this shard: `ticketsim merge` of all shards' --json reports judges {}.",
                plural(undecided as u64),
                if undecided == 1 { "it" } else { "them" }
            );
        }
        for p in &self.panics {
            let _ = writeln!(
                out,
                "\nPANIC (a bug in ticketsim, please report it): {} · occ {} · seed {}: {}\n  reproduce: {}",
                p.scenario, p.occ, p.seed, p.message, p.reproduce
            );
        }
        if let Some(b) = &self.baseline {
            if b.mismatches.is_empty() {
                let _ = writeln!(out, "\nbaselines: all {} seeds match", b.compared);
            } else {
                let _ = writeln!(
                    out,
                    "\nBASELINE CHANGED: {} of {} seeds have a new outcome:",
                    b.mismatches.len(),
                    b.compared
                );
                for m in &b.mismatches {
                    let _ = writeln!(
                        out,
                        "  {} · occ {} · seed {}: baseline {}, now {}\n    reproduce: {}",
                        m.scenario, m.occ, m.seed, m.baseline, m.now, m.reproduce
                    );
                }
                let _ = writeln!(
                    out,
                    "  If the change is intended, record it: ticketsim sweep --update-baselines"
                );
            }
        }
        let _ = writeln!(
            out,
            "\ncombined hash {}{}",
            self.combined_hash,
            if self.shard.is_whole() {
                ""
            } else {
                " (this shard's; the shards' hashes add up to the whole sweep's)"
            }
        );
        let _ = writeln!(out, "{}", if self.passed { "PASSED" } else { "FAILED" });
        out
    }
}

/// "EXPECTATION FAILED: did-it-work · occ off expects `converges`, but …", and the command
/// that reproduces it, if there is one: a seed's expectation and an exploration's claim alike.
fn expectation_failed(
    out: &mut String,
    scenario: &str,
    occ: Occ,
    claim: &str,
    why: &str,
    reproduce: Option<&str>,
) {
    let _ = writeln!(
        out,
        "\nEXPECTATION FAILED: {scenario} · occ {occ} expects {claim}, but {why}."
    );
    if let Some(r) = reproduce {
        let _ = writeln!(out, "  reproduce: {r}");
    }
}
