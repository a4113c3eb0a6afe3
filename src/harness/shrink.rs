//! Shrinking a failing run: the smallest scenario, and a seed, that still fail the same way.
//!
//! Delta debugging over the scenario: take away whole workload steps and faults, then lower
//! counts (tickets, orders, replicas) and drop elements of lists (price updates), keeping each
//! change under which some seed still fails the same way, until no change does. The current
//! seed is tried first; a smaller scenario makes different random draws, so when it no longer
//! fails, seeds `0, 1, 2, …` are searched again, up to a budget per candidate. Every candidate
//! is strictly smaller than the scenario it came from, so shrinking ends; every choice is made
//! in a fixed order, so the result is the same on every run and every thread count.
//!
//! Time is bounded too: every scenario-and-seed pair tried costs its scenario's request count,
//! and the whole shrink may spend [`Budget::requests`], one candidate at most a tenth of it. A
//! pair counts as a search in seed order would count it, so the budget, like the result, does
//! not depend on the number of threads. When the budget runs out, shrinking stops with the
//! smallest scenario found so far and says so.

use crate::harness::error::Error;
pub use crate::harness::failure::Failure;
use crate::harness::files::write_file;
use crate::harness::run::run_report;
use crate::harness::seeds::search;
pub use crate::harness::seeds::{Budget, DEFAULT_BUDGET_REQUESTS};
use crate::model::documents::Price;
use crate::model::occ::Occ;
use crate::present::report::{reproduce, Report};
use crate::scenario::schema::Scenario;
use serde::Serialize;
use std::fmt;

/// What shrinking found.
#[derive(Clone, Debug, PartialEq)]
pub struct Shrunk {
    /// The smallest scenario found.
    pub scenario: Scenario,
    /// A seed under which it fails.
    pub seed: u64,
    /// The changes kept, in order, each described.
    pub steps: Vec<String>,
    /// Seeds tried, counted as a search in order would try them (the same on any number of
    /// threads).
    pub tries: u64,
    /// Requests simulated by those tries: each costs its scenario's request count.
    pub requests: u64,
    /// Whether [`Budget::requests`] cut shrinking short: it ran out, or it gave a smaller
    /// scenario fewer seeds than [`Budget::seeds`] and none of them failed. A bigger budget
    /// may then shrink further.
    pub cut_short: bool,
}

/// A scenario's size in the terms a learner counts: tickets, price updates, replicas, orders,
/// workload steps and faults.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Size {
    /// Tickets created.
    pub tickets: u64,
    /// Price updates sent.
    pub price_updates: u64,
    /// Orders-service replicas.
    pub replicas: u32,
    /// Orders placed (and cancels).
    pub orders: u64,
    /// Workload steps.
    pub steps: usize,
    /// Faults named.
    pub faults: usize,
}

impl Size {
    /// Measure `s`.
    pub fn of(s: &Scenario) -> Size {
        let w = &s.workload;
        let f = &s.faults;
        let chains = w.price_chain.iter();
        let reserves = w.reserve.iter();
        Size {
            tickets: w
                .create_tickets
                .iter()
                .map(|c| u64::from(c.count))
                .sum::<u64>()
                + chains.clone().map(|c| u64::from(c.tickets)).sum::<u64>()
                + reserves.clone().map(|r| u64::from(r.tickets)).sum::<u64>(),
            price_updates: chains
                .map(|c| u64::from(c.tickets) * c.updates.len() as u64)
                .sum::<u64>()
                + reserves
                    .clone()
                    .map(|r| u64::from(r.tickets) * r.price_updates.len() as u64)
                    .sum::<u64>(),
            replicas: s.topology.orders_replicas,
            orders: reserves
                .map(|r| {
                    let cancels = u64::from(r.cancel_after_ms.is_some());
                    u64::from(r.tickets) * u64::from(r.orders) * (1 + cancels)
                })
                .sum(),
            steps: w.create_tickets.len() + w.price_chain.len() + w.reserve.len(),
            faults: f.crash.len()
                + f.pause.len()
                + f.partition.len()
                + usize::from(f.lost_ack > 0.0)
                + usize::from(f.publisher_retry > 0.0)
                + usize::from(f.slow_handler.is_some())
                + usize::from(f.crash_rate.is_some())
                + usize::from(f.heal_at_ms.is_some()),
        }
    }

    /// One number that every candidate lowers: shrinking stops.
    fn total(self) -> u64 {
        self.tickets
            + self.price_updates
            + u64::from(self.replicas)
            + self.orders
            + self.steps as u64
            + self.faults as u64
    }
}

impl fmt::Display for Size {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let plural = |n: u64, one: &str, many: &str| {
            if n == 1 {
                format!("{n} {one}")
            } else {
                format!("{n} {many}")
            }
        };
        let mut parts = vec![
            plural(self.tickets, "ticket", "tickets"),
            plural(self.price_updates, "price update", "price updates"),
            plural(u64::from(self.replicas), "replica", "replicas"),
        ];
        if self.orders > 0 {
            parts.push(plural(self.orders, "order request", "order requests"));
        }
        if self.faults > 0 {
            parts.push(plural(self.faults as u64, "fault", "faults"));
        }
        f.write_str(&parts.join(", "))
    }
}

/// Shrink `scenario` under `seed` while `fails(scenario, seed)` holds. `fails` must hold for
/// the starting point. `progress` hears of each change kept.
pub fn shrink(
    scenario: &Scenario,
    seed: u64,
    budget: Budget,
    fails: &(dyn Fn(&Scenario, u64) -> bool + Sync),
    progress: &dyn Fn(&str),
) -> Shrunk {
    let mut current = scenario.clone();
    let mut seed = seed;
    let mut steps = Vec::new();
    let mut tries = 0;
    let mut requests = 0;
    let mut cut_short = false;
    'outer: loop {
        for (what, candidate) in candidates(&current) {
            let cost = candidate.total_requests().max(1);
            let Some(seeds) = budget.seeds_for(cost, requests) else {
                cut_short = true;
                break 'outer;
            };
            let (found, tried) = search(&candidate, seed, seeds, budget.jobs, fails);
            tries += tried;
            requests += tried * cost;
            cut_short |= found.is_none() && seeds < budget.seeds;
            if let Some(found) = found {
                let note = if found == seed {
                    what
                } else {
                    format!("{what} (seed {found})")
                };
                progress(&note);
                steps.push(note);
                current = candidate;
                seed = found;
                continue 'outer;
            }
        }
        break;
    }
    Shrunk {
        scenario: current,
        seed,
        steps,
        tries,
        requests,
        cut_short,
    }
}

/// What to say when the budget, not the seeds to try, cut shrinking short.
pub fn cut_short_note(shrunk: &Shrunk) -> Option<String> {
    shrunk.cut_short.then(|| {
        format!(
            "The budget cut shrinking short after {} simulated requests; a larger --budget may shrink it further.",
            shrunk.requests
        )
    })
}

/// Smaller scenarios than `s`, each with what changed, the boldest first: without a workload
/// step or a fault, then with fewer tickets, price updates, orders and replicas.
pub fn candidates(s: &Scenario) -> Vec<(String, Scenario)> {
    let mut out = Vec::new();
    let size = Size::of(s).total();
    let mut push = |what: String, change: &dyn Fn(&mut Scenario)| {
        let mut c = s.clone();
        change(&mut c);
        if c.is_valid() && Size::of(&c).total() < size {
            out.push((what, c));
        }
    };
    let w = &s.workload;
    if Size::of(s).steps > 1 {
        for i in 0..w.create_tickets.len() {
            push(format!("without create-tickets step {}", i + 1), &|c| {
                c.workload.create_tickets.remove(i);
            });
        }
        for i in 0..w.price_chain.len() {
            push(format!("without price-chain step {}", i + 1), &|c| {
                c.workload.price_chain.remove(i);
            });
        }
        for i in 0..w.reserve.len() {
            push(format!("without reserve step {}", i + 1), &|c| {
                c.workload.reserve.remove(i);
            });
        }
    }
    let f = &s.faults;
    for (i, crash) in f.crash.iter().enumerate() {
        push(
            format!("without the crash of {} at {} ms", crash.node, crash.at_ms),
            &|c| {
                c.faults.crash.remove(i);
            },
        );
    }
    for (i, p) in f.pause.iter().enumerate() {
        push(
            format!("without the pause of {} at {} ms", p.node, p.at_ms),
            &|c| {
                c.faults.pause.remove(i);
            },
        );
    }
    for (i, p) in f.partition.iter().enumerate() {
        push(
            format!("without the partition of {} at {} ms", p.node, p.at_ms),
            &|c| {
                c.faults.partition.remove(i);
            },
        );
    }
    if f.crash_rate.is_some() {
        push("without random crashes".into(), &|c| {
            c.faults.crash_rate = None
        });
    }
    if f.slow_handler.is_some() {
        push("without slow handlers".into(), &|c| {
            c.faults.slow_handler = None
        });
    }
    if f.lost_ack > 0.0 {
        push("without lost acks".into(), &|c| c.faults.lost_ack = 0.0);
    }
    if f.publisher_retry > 0.0 {
        push("without publisher retries".into(), &|c| {
            c.faults.publisher_retry = 0.0
        });
    }
    if f.heal_at_ms.is_some() {
        push("without the heal".into(), &|c| c.faults.heal_at_ms = None);
    }
    for (i, chain) in w.price_chain.iter().enumerate() {
        for n in fewer(chain.tickets) {
            push(
                format!(
                    "{} in price chain {} (was {})",
                    tickets(n),
                    i + 1,
                    chain.tickets
                ),
                &|c| c.workload.price_chain[i].tickets = n,
            );
        }
    }
    for (i, r) in w.reserve.iter().enumerate() {
        for n in fewer(r.tickets) {
            push(
                format!(
                    "{} in reserve step {} (was {})",
                    tickets(n),
                    i + 1,
                    r.tickets
                ),
                &|c| c.workload.reserve[i].tickets = n,
            );
        }
    }
    for (i, ct) in w.create_tickets.iter().enumerate() {
        for n in fewer(ct.count) {
            push(
                format!(
                    "{} in create-tickets step {} (was {})",
                    tickets(n),
                    i + 1,
                    ct.count
                ),
                &|c| c.workload.create_tickets[i].count = n,
            );
        }
    }
    for (i, chain) in w.price_chain.iter().enumerate() {
        for kept in sublists(&chain.updates) {
            push(
                format!(
                    "updates {} in price chain {} (was {})",
                    prices(&kept),
                    i + 1,
                    prices(&chain.updates)
                ),
                &|c| c.workload.price_chain[i].updates = kept.clone(),
            );
        }
    }
    for (i, r) in w.reserve.iter().enumerate() {
        for kept in sublists(&r.price_updates) {
            push(
                format!(
                    "price updates {} in reserve step {} (was {})",
                    prices(&kept),
                    i + 1,
                    prices(&r.price_updates)
                ),
                &|c| c.workload.reserve[i].price_updates = kept.clone(),
            );
        }
        for n in fewer(r.orders) {
            push(
                format!(
                    "{n} orders per ticket in reserve step {} (was {})",
                    i + 1,
                    r.orders
                ),
                &|c| c.workload.reserve[i].orders = n,
            );
        }
        if r.cancel_after_ms.is_some() {
            push(format!("no cancels in reserve step {}", i + 1), &|c| {
                c.workload.reserve[i].cancel_after_ms = None
            });
        }
    }
    for n in fewer(s.topology.orders_replicas) {
        let replicas = if n == 1 { "replica" } else { "replicas" };
        push(
            format!("{n} orders {replicas} (was {})", s.topology.orders_replicas),
            &|c| c.topology.orders_replicas = n,
        );
    }
    out
}

/// Smaller counts to try for `n`: 1, then halving towards `n`, then `n - 1`.
fn fewer(n: u32) -> Vec<u32> {
    let mut out = Vec::new();
    let mut k = 1;
    while k < n {
        out.push(k);
        k = if k == 1 { n / 2 } else { k + (n - k) / 2 };
        if out.last() == Some(&k) {
            break;
        }
    }
    if n > 1 && !out.contains(&(n - 1)) {
        out.push(n - 1);
    }
    out.retain(|&k| k >= 1 && k < n);
    out.dedup();
    out
}

/// `list` without one chunk, for chunks of half its length, then a quarter, … then one
/// element (delta debugging's complements), each once.
fn sublists<T: Clone + PartialEq>(list: &[T]) -> Vec<Vec<T>> {
    let mut out = Vec::new();
    let mut chunk = list.len().div_ceil(2);
    while chunk >= 1 && !list.is_empty() {
        for start in (0..list.len()).step_by(chunk) {
            let mut kept = list[..start].to_vec();
            kept.extend_from_slice(&list[(start + chunk).min(list.len())..]);
            if !out.contains(&kept) {
                out.push(kept);
            }
        }
        if chunk == 1 {
            break;
        }
        chunk = chunk.div_ceil(2);
    }
    out
}

fn tickets(n: u32) -> String {
    if n == 1 {
        "1 ticket".to_owned()
    } else {
        format!("{n} tickets")
    }
}

fn prices(list: &[Price]) -> String {
    if list.is_empty() {
        return "none".to_owned();
    }
    let all: Vec<String> = list.iter().map(|p| p.to_string()).collect();
    format!("[{}]", all.join(", "))
}

/// The minimal scenario as it is written to `path`: renamed `<name>-minimal`, described by
/// where it came from, with `path` as its source; and its TOML text, a header comment saying
/// how to run it, then the scenario, which [`Scenario::parse`] reads back unchanged.
pub fn minimal_file(
    shrunk: &Shrunk,
    original: &Scenario,
    seed: u64,
    occ: Occ,
    failure: Failure,
    path: &std::path::Path,
) -> Result<(Scenario, String), Error> {
    let mut scenario = shrunk.scenario.clone();
    // The [explore] scope is the original's; the minimal scenario is its own scope.
    scenario.explore = None;
    // Its `[cure]` too: the demo that made it says the cure, and the file stays as it was
    // before races declared theirs.
    scenario.cure = None;
    scenario.name = format!("{}-minimal", original.name);
    scenario.description = format!(
        "{} shrunk by ticketsim: the smallest run found that {failure}, like seed {seed} of \
         the original with --occ {occ}.",
        original.name
    );
    scenario.source = path.to_owned();
    let body = toml::to_string(&scenario)
        .map_err(|e| Error::Usage(format!("cannot write the shrunk scenario as TOML: {e}")))?;
    let text = format!(
        "# {name}, shrunk: the smallest run found that {failure}, like\n\
         #   {original_run}\n\
         # It has {size} (the original: {original_size}).\n\
         # Reproduce it with:\n\
         #   {run}\n\n{body}",
        name = original.name,
        original_run = reproduce(original, seed, occ),
        size = Size::of(&scenario),
        original_size = Size::of(original),
        run = reproduce(&scenario, shrunk.seed, occ),
    );
    Ok((scenario, text))
}

/// Write the minimal scenario to `path`, read it back and run it: the file must reproduce the
/// shrunk run step for step (the same trace hash as `expected`).
pub fn write_minimal(
    text: &str,
    path: &std::path::Path,
    seed: u64,
    occ: Occ,
    expected: &Report,
) -> Result<(), Error> {
    write_file(path, text)?;
    let reread = Scenario::load(path)?;
    let rerun = run_report(&reread, seed, occ);
    if rerun.trace_hash != expected.trace_hash {
        return Err(Error::Usage(format!(
            "{} does not reproduce the shrunk run (trace {} instead of {}): a bug in ticketsim",
            path.display(),
            rerun.trace_hash,
            expected.trace_hash
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fewer_tries_one_then_halves_then_one_less() {
        assert_eq!(fewer(1), Vec::<u32>::new());
        assert_eq!(fewer(2), vec![1]);
        assert_eq!(fewer(4), vec![1, 2, 3]);
        assert_eq!(fewer(200), vec![1, 100, 150, 175, 187, 193, 196, 198, 199]);
    }

    #[test]
    fn sublists_remove_halves_then_single_elements() {
        let kept: Vec<Vec<u32>> = sublists(&[10, 15]);
        assert_eq!(kept, vec![vec![15], vec![10]]);
        let kept: Vec<Vec<u32>> = sublists(&[1, 2, 3]);
        assert_eq!(kept, vec![vec![3], vec![1, 2], vec![2, 3], vec![1, 3]]);
    }
}
