//! A run's report (DESIGN §8): a JSON document with stable field names, and a human summary
//! that leads with the seed and resolved parameters and ends with the reproducing command.

use crate::check::{Divergence, Ending, Findings, PriceCount, Stats, Violation};
use crate::domain::Occ;
use crate::scenario::{Expect, Pace, Scenario};
use crate::trace::Trace;
use serde::Serialize;
use std::fmt::Write as _;
use tabled::builder::Builder;
use tabled::settings::Style;

/// The one-word verdict of a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    /// Quiescent and the databases agree.
    Converged,
    /// Quiescent, but the databases disagree.
    Diverged,
    /// Not quiescent: a redelivery loop, or a limit hit with work left.
    Stuck,
}

impl Outcome {
    /// The outcome as reports spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Converged => "converged",
            Outcome::Diverged => "diverged",
            Outcome::Stuck => "stuck",
        }
    }
}

/// Whether a declared expectation held for this run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// This run agrees with it.
    Held,
    /// This run refutes it.
    Failed,
    /// It is about a range of seeds: `ticketsim sweep` judges it.
    NeedsSweep,
}

/// The scenario's expectation for the run's mode, and what the run says of it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct ExpectationCheck {
    /// What the scenario declares for this mode.
    pub expected: Expect,
    /// What this run says of it.
    pub verdict: Verdict,
}

/// Everything a run found.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Report {
    /// Scenario name.
    pub scenario: String,
    /// The seed.
    pub seed: u64,
    /// The mode.
    pub occ: Occ,
    /// The verdict.
    pub outcome: Outcome,
    /// No divergence.
    pub converged: bool,
    /// Everything acked and answered within the limits.
    pub quiescent: bool,
    /// Disagreements between the databases.
    pub divergences: Vec<Divergence>,
    /// Broken invariants and limits hit.
    pub violations: Vec<Violation>,
    /// Counts over the trace.
    pub stats: Stats,
    /// Tickets per price in each database (the course's check).
    pub price_counts: Vec<PriceCount>,
    /// Hash of the full trace: equal hashes, equal runs.
    pub trace_hash: String,
    /// Simulated time when the run ended.
    pub sim_time_ms: u64,
    /// The scenario's expectation for this mode, if it declares one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expectation: Option<ExpectationCheck>,
    /// The command that reproduces this run.
    pub reproduce: String,
}

impl Report {
    /// Assemble the report of a finished run.
    pub fn new(
        scenario: &Scenario,
        seed: u64,
        occ: Occ,
        findings: Findings,
        trace: &Trace,
        ending: &Ending,
    ) -> Self {
        let outcome = if !findings.quiescent {
            Outcome::Stuck
        } else if !findings.converged {
            Outcome::Diverged
        } else {
            Outcome::Converged
        };
        let expectation = scenario.expect.get(occ).map(|expected| ExpectationCheck {
            expected,
            verdict: match expected {
                Expect::Converges if outcome == Outcome::Converged => Verdict::Held,
                Expect::Converges => Verdict::Failed,
                Expect::DivergesOnSomeSeed | Expect::StuckOnSomeSeed => Verdict::NeedsSweep,
            },
        });
        Report {
            scenario: scenario.name.clone(),
            seed,
            occ,
            outcome,
            converged: findings.converged,
            quiescent: findings.quiescent,
            divergences: findings.divergences,
            violations: findings.violations,
            stats: findings.stats,
            price_counts: findings.price_counts,
            trace_hash: trace.hash(),
            sim_time_ms: sim_time_us(trace, ending) / 1000,
            expectation,
            reproduce: reproduce(scenario, seed, occ),
        }
    }

    /// Whether the run contradicts its scenario's expectation (exit code 1).
    pub fn expectation_failed(&self) -> bool {
        self.expectation
            .is_some_and(|e| e.verdict == Verdict::Failed)
    }

    /// The report as pretty JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a report always serializes")
    }

    /// The human summary: parameters, counts, outcome, divergences, the reproducing command.
    pub fn render(&self, scenario: &Scenario) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "ticketsim · {} · seed {} · occ {}",
            self.scenario, self.seed, self.occ
        );
        for line in scenario.description.trim().lines() {
            let _ = writeln!(out, "  {}", line.trim());
        }
        out.push('\n');
        let mut params = Builder::default();
        let t = &scenario.topology;
        params.push_record([
            "topology".to_owned(),
            format!(
                "{} orders replicas in queue group orders-service, ack wait {} ms",
                t.orders_replicas, t.ack_wait_ms
            ),
        ]);
        let l = &scenario.latency;
        params.push_record([
            "latency".to_owned(),
            format!(
                "http {} · db {} · publish {} · delivery {}",
                l.http, l.db, l.publish, l.delivery
            ),
        ]);
        for step in describe_workload(scenario) {
            params.push_record(["workload".to_owned(), step]);
        }
        for line in describe_faults(&scenario.faults) {
            params.push_record(["faults".to_owned(), line]);
        }
        params.push_record([
            "limits".to_owned(),
            format!(
                "{} ms simulated, {} deliveries per message",
                scenario.limits.sim_time_ms, scenario.limits.deliveries_per_message
            ),
        ]);
        let _ = writeln!(out, "{}\n", blank_table(params));

        let s = &self.stats;
        let mut counts = Builder::default();
        counts.push_record([
            "messages".to_owned(),
            format!(
                "{} published · {} delivered ({} redelivered) · {} acked · {} dropped · {} failed handlers",
                s.published, s.delivered, s.redelivered, s.acked, s.dropped, s.failed_handlers
            ),
        ]);
        counts.push_record([
            "http".to_owned(),
            format!("{} requests · {} errors", s.http_requests, s.http_errors),
        ]);
        counts.push_record([
            "database".to_owned(),
            format!("{} writes · {} conflicts", s.db_writes, s.db_conflicts),
        ]);
        if scenario.faults.any() {
            counts.push_record([
                "faults".to_owned(),
                format!(
                    "{} acks lost · {} deliveries lost · {} duplicates · {} stalls · {} crashes · {} pauses · {} partitions · {} publishes failed",
                    s.acks_lost, s.deliveries_lost, s.duplicates, s.stalls, s.crashes, s.pauses, s.partitions, s.publishes_failed
                ),
            ]);
        }
        let _ = writeln!(out, "{}\n", blank_table(counts));

        let _ = writeln!(out, "outcome: {}", self.headline());
        if !self.divergences.is_empty() {
            const SHOWN: usize = 12;
            let mut table = Builder::default();
            table.push_record(["ticket", "field", "tickets db", "orders db"]);
            for d in self.divergences.iter().take(SHOWN) {
                table.push_record([
                    d.ticket.to_string(),
                    d.field.to_owned(),
                    d.tickets_db.to_string(),
                    d.orders_db.to_string(),
                ]);
            }
            let _ = writeln!(out, "{}", table.build().with(Style::rounded()));
            if self.divergences.len() > SHOWN {
                let _ = writeln!(
                    out,
                    "… and {} more (--json lists them all)",
                    self.divergences.len() - SHOWN
                );
            }
        }
        for v in &self.violations {
            let _ = writeln!(out, "  violation: {}", describe_violation(v));
        }
        if !self.price_counts.is_empty() {
            let mut table = Builder::default();
            table.push_record(["price", "tickets db", "orders db"]);
            for p in &self.price_counts {
                table.push_record([
                    p.price.to_string(),
                    p.tickets_db.to_string(),
                    p.orders_db.to_string(),
                ]);
            }
            let _ = writeln!(
                out,
                "\ntickets per price (the course's check):\n{}",
                table.build().with(Style::rounded())
            );
        }
        if let Some(e) = self.expectation {
            let verdict = match e.verdict {
                Verdict::Held => "held".to_owned(),
                Verdict::Failed => "FAILED".to_owned(),
                Verdict::NeedsSweep => {
                    "judged over a range of seeds by `ticketsim sweep`".to_owned()
                }
            };
            let _ = writeln!(
                out,
                "\nexpectation (occ {}): {} — {verdict}",
                self.occ,
                e.expected.as_str()
            );
        }
        let _ = writeln!(
            out,
            "\nsimulated {} ms · trace {}\nreproduce: {}",
            self.sim_time_ms, self.trace_hash, self.reproduce
        );
        out
    }

    fn headline(&self) -> String {
        let tickets = self.stats.tickets;
        match self.outcome {
            Outcome::Converged => format!(
                "CONVERGED — all {tickets} tickets agree in the tickets and orders databases"
            ),
            Outcome::Diverged => {
                let mut ids: Vec<_> = self.divergences.iter().map(|d| d.ticket).collect();
                ids.dedup();
                format!(
                    "DIVERGED — {} of {tickets} tickets differ between the tickets and orders databases",
                    ids.len()
                )
            }
            Outcome::Stuck => {
                let agree = if self.converged {
                    "the databases agree"
                } else {
                    "and the databases disagree"
                };
                format!("STUCK — the run did not quiesce; {agree}")
            }
        }
    }
}

/// The command that reproduces one run of `scenario`.
pub fn reproduce(scenario: &Scenario, seed: u64, occ: Occ) -> String {
    format!(
        "ticketsim run {} --seed {seed} --occ {occ}",
        scenario.source.display()
    )
}

/// A borderless key/value table, without the padding tabled leaves at line ends.
fn blank_table(builder: Builder) -> String {
    let table = builder.build().with(Style::blank()).to_string();
    let lines: Vec<&str> = table.lines().map(str::trim_end).collect();
    lines.join("\n")
}

/// When the run's last observable step happened; for a run cut off by a limit, when it stopped.
/// (The bus's ack-wait timer may fire once more after the last ack and find nothing to do; that
/// wake-up is not part of what the run did.)
fn sim_time_us(trace: &Trace, ending: &Ending) -> u64 {
    match ending.halt {
        crate::exec::Halt::Idle => trace.records().last().map_or(0, |r| r.t_us),
        crate::exec::Halt::TimeLimit | crate::exec::Halt::StepLimit => ending.now_us,
    }
}

fn describe_workload(scenario: &Scenario) -> Vec<String> {
    let w = &scenario.workload;
    let creates = w.create_tickets.iter().map(|c| {
        format!(
            "at {} ms: create {} tickets \"{}\" at price {}",
            c.at_ms, c.count, c.title, c.price
        )
    });
    let chains = w.price_chain.iter().map(|c| {
        let prices: Vec<String> = c.updates.iter().map(|p| p.to_string()).collect();
        let pace = match c.pace {
            Pace::AfterResponse => "each after the previous response",
            Pace::Burst => "all at once, without waiting",
        };
        format!(
            "at {} ms: {} chains: create \"{}\" at {}, then update to {} ({pace})",
            c.at_ms,
            c.tickets,
            c.title,
            c.price,
            prices.join(", ")
        )
    });
    creates.chain(chains).collect()
}

fn describe_faults(f: &crate::scenario::Faults) -> Vec<String> {
    let mut out = Vec::new();
    let pct = |p: f64| format!("{}%", p * 100.0);
    let mut odds = Vec::new();
    if f.lost_ack > 0.0 {
        odds.push(format!("{} of acks lost", pct(f.lost_ack)));
    }
    if f.duplicate_delivery > 0.0 {
        odds.push(format!(
            "{} of messages duplicated",
            pct(f.duplicate_delivery)
        ));
    }
    if let Some(s) = f.slow_handler {
        odds.push(format!(
            "{} of handlers stall {}–{} ms",
            pct(s.probability),
            s.min_ms,
            s.max_ms
        ));
    }
    if !odds.is_empty() {
        out.push(odds.join(" · "));
    }
    for c in &f.crash {
        out.push(format!(
            "at {} ms: {} crashes, restarts {} ms later",
            c.at_ms, c.node, c.restart_after_ms
        ));
    }
    if let Some(r) = f.crash_rate {
        out.push(format!(
            "a random orders replica crashes every {} ms on average, restarts {} ms later",
            r.mean_interval_ms, r.restart_after_ms
        ));
    }
    for p in &f.pause {
        out.push(format!(
            "at {} ms: {} pauses for {} ms",
            p.at_ms, p.node, p.for_ms
        ));
    }
    for p in &f.partition {
        out.push(format!(
            "at {} ms: {} is cut off from the bus for {} ms",
            p.at_ms, p.node, p.for_ms
        ));
    }
    if let Some(h) = f.heal_at_ms {
        out.push(format!("at {h} ms: faults stop (heal)"));
    }
    out
}

fn describe_violation(v: &Violation) -> String {
    match v {
        Violation::RedeliveryLoop {
            subject,
            seq,
            ticket,
            version,
            deliveries,
            t_us,
        } => {
            let version = version.map_or(String::new(), |v| format!(" version {v}"));
            format!(
                "redelivery loop: {subject} #{seq} (ticket {ticket}{version}) delivered {deliveries} times without an ack; given up at {} ms",
                t_us / 1000
            )
        }
        Violation::VersionRegressed {
            ticket,
            node,
            from,
            to,
            t_us,
        } => format!(
            "ticket {ticket}'s version went from {from} back to {to} in the orders db ({node}, at {} ms)",
            t_us / 1000
        ),
        Violation::TimeLimit {
            sim_time_ms,
            unacked,
            open_requests,
        } => format!(
            "time limit of {sim_time_ms} ms reached with {unacked} messages unacked and {open_requests} requests open"
        ),
        Violation::StepLimit {
            unacked,
            open_requests,
        } => format!(
            "step limit reached with {unacked} messages unacked and {open_requests} requests open (a runaway model: please report it)"
        ),
    }
}
