//! The human summary of a run's report: the seed and resolved parameters first, then the
//! counts, the outcome with its divergences and violations, the course's price check, the
//! expectations, and the command that reproduces the run (DESIGN §8).

use crate::check::findings::{Outcome, Violation};
use crate::present::report::{Report, Verdict};
use crate::scenario::expect::Claim;
use crate::scenario::schema::{Faults, Pace, Scenario, Topology, UnhandledRejection};
use crate::sim::run::Hold;
use std::fmt::Write as _;
use tabled::builder::Builder;
use tabled::settings::Style;

impl Report {
    /// The human summary: parameters, counts, outcome, divergences, the reproducing command.
    pub fn render(&self, scenario: &Scenario) -> String {
        let mut out = String::new();
        let driver = match self.seed {
            Some(seed) => format!("seed {seed}"),
            None => "a tape".to_owned(),
        };
        let _ = writeln!(
            out,
            "ticketsim · {} · {driver} · occ {}",
            self.scenario, self.occ
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
                "{} orders replicas in queue group orders-service, ack wait {} ms{}",
                t.orders_replicas,
                t.ack_wait_ms,
                later_services(t)
            ),
        ]);
        let l = &scenario.latency;
        params.push_record([
            "latency".to_owned(),
            format!(
                "http {} · db {} · publish {} · delivery {}{}",
                l.http,
                l.db,
                l.publish,
                l.delivery,
                if t.payments_service {
                    format!(" · charge {}", l.charge)
                } else {
                    String::new()
                }
            ),
        ]);
        if !scenario.tickets_service.publish_on_reserve {
            params.push_record([
                "tickets".to_owned(),
                "publish-on-reserve = false: order:created is saved without publishing ticket:updated"
                    .to_owned(),
            ]);
        }
        if scenario.cures.unique_active_order {
            params.push_record([
                "cures".to_owned(),
                "unique-active-order: a unique partial index on orders allows one active order per ticket (beyond the course)"
                    .to_owned(),
            ]);
        }
        if scenario.cures.ordered_order_events {
            params.push_record([
                "cures".to_owned(),
                "ordered-order-events: the tickets service takes an order's events in order and frees only the order it names (beyond the course)"
                    .to_owned(),
            ]);
        }
        if scenario.services.unhandled_rejection == UnhandledRejection::Exit {
            params.push_record([
                "services".to_owned(),
                format!(
                    "unhandled-rejection = \"exit\" (Node 15 and later): a listener that throws ends its process; Kubernetes restarts it with back-off, then {} ms to start",
                    scenario.services.startup_ms
                ),
            ]);
        }
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
        let mut http = format!("{} requests · {} errors", s.http_requests, s.http_errors);
        if s.abandoned_chains > 0 {
            http += &format!(
                " · {} client scripts gave up after a failed request ({} requests never sent)",
                s.abandoned_chains, s.unsent_requests
            );
        }
        counts.push_record(["http".to_owned(), http]);
        counts.push_record([
            "database".to_owned(),
            format!("{} writes · {} conflicts", s.db_writes, s.db_conflicts),
        ]);
        if !scenario.workload.reserve.is_empty() {
            counts.push_record([
                "orders".to_owned(),
                format!("{} placed · {} cancelled", s.orders, s.cancellations),
            ]);
        }
        if s.charges > 0 || s.expirations > 0 {
            counts.push_record([
                "later".to_owned(),
                format!(
                    "{} charges · {} payments recorded · {} expiration jobs run",
                    s.charges, s.payments, s.expirations
                ),
            ]);
        }
        if scenario.cures.transactional_outbox {
            counts.push_record([
                "outbox".to_owned(),
                format!(
                    "{} events stored with their ticket · {} published and removed · {} found pending by a restarted relay",
                    s.outbox_added, s.outbox_removed, s.outbox_found
                ),
            ]);
        }
        if s.exits > 0 || s.clients_closed > 0 {
            counts.push_record([
                "processes".to_owned(),
                format!(
                    "{} exits on their own (the trace says why) · {} NATS clients closed by the server",
                    s.exits, s.clients_closed
                ),
            ]);
        }
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
        // Why the run is stuck (a redelivery loop, a limit), then the invariants it broke: the
        // violations, which sweep's violations column counts.
        for (what, list) in [("stuck", &self.why_stuck), ("violation", &self.violations)] {
            const SHOWN: usize = 12;
            for v in list.iter().take(SHOWN) {
                let _ = writeln!(out, "  {what}: {}", describe_violation(v));
            }
            if list.len() > SHOWN {
                let _ = writeln!(
                    out,
                    "  … and {} more (--json lists them all)",
                    list.len() - SHOWN
                );
            }
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
        if !self.expectations.is_empty() {
            let _ = writeln!(out, "\nexpectations (occ {}):", self.occ);
            // A seed's run, or a tape's.
            let this = if self.seed.is_some() {
                "this seed"
            } else {
                "this run"
            };
            for e in &self.expectations {
                let failed = match self.outcome {
                    Outcome::Diverged => "diverged",
                    Outcome::Stuck => "got stuck",
                    Outcome::Converged => "broke an invariant",
                };
                let verdict = match (e.verdict, e.expected) {
                    (Verdict::Held, Claim::Converges | Claim::Exercises(_)) => "held".to_owned(),
                    (Verdict::Held, _) => format!("held: {this} shows it"),
                    (Verdict::Failed, _) => format!("FAILED: {this} {failed}"),
                    (Verdict::Undecided, Claim::Exercises(_)) => format!(
                        "undecided: {this} does not exercise it; `ticketsim sweep` judges it over seeds"
                    ),
                    (Verdict::Undecided, _) => format!(
                        "undecided: {this} does not show it; `ticketsim sweep` judges it over seeds"
                    ),
                };
                let _ = writeln!(out, "  {} — {verdict}", e.expected);
            }
        }
        let _ = writeln!(
            out,
            "\nsimulated {} ms · trace {}\nreproduce: {}",
            self.sim_time_ms, self.trace_hash, self.reproduce
        );
        // A seeded run asked for its tape (`--print-tape`): the token, and the command that
        // replays it.
        if let (Some(_), Some(tape)) = (self.seed, &self.tape) {
            let _ = writeln!(out, "tape: {tape}");
            if let Some(c) = &self.choices {
                let kinds: Vec<String> =
                    c.by_kind.iter().map(|(k, n)| format!("{n} {k}")).collect();
                let _ = writeln!(
                    out,
                    "  {} choices ({}), {} of them not the nominal option",
                    c.total,
                    kinds.join(", "),
                    c.not_nominal
                );
            }
            let _ = writeln!(out, "replay: {}", self.reproduce_by_tape(scenario, tape));
        }
        out
    }

    fn headline(&self) -> String {
        let broken = self.violations.len();
        let mut line = self.outcome_line();
        if broken > 0 {
            let _ = write!(
                line,
                "; and {broken} invariant violation{}",
                if broken == 1 { "" } else { "s" }
            );
        }
        line
    }

    /// How many tickets have at least one field the two databases disagree on.
    pub fn diverged_tickets(&self) -> usize {
        let mut ids: Vec<_> = self.divergences.iter().map(|d| d.ticket).collect();
        ids.dedup();
        ids.len()
    }

    fn outcome_line(&self) -> String {
        let tickets = self.stats.tickets;
        match self.outcome {
            Outcome::Converged if tickets == 1 => {
                "CONVERGED — the ticket agrees in the tickets and orders databases".to_owned()
            }
            Outcome::Converged => format!(
                "CONVERGED — all {tickets} tickets agree in the tickets and orders databases"
            ),
            Outcome::Diverged => format!(
                "DIVERGED — {} between the tickets and orders databases",
                differ(self.diverged_tickets(), tickets)
            ),
            Outcome::Stuck => {
                let agree = if self.databases_agree {
                    "the databases agree".to_owned()
                } else {
                    differ(self.diverged_tickets(), tickets)
                };
                format!("STUCK — the run never settled; where it stopped, {agree}")
            }
        }
    }
}

/// "3 of 200 tickets differ", "the ticket differs", "1 of 2 tickets differs".
pub fn differ(diverged: usize, tickets: u64) -> String {
    match (diverged, tickets) {
        (_, 1) => "the ticket differs".to_owned(),
        (1, n) => format!("1 of {n} tickets differs"),
        (k, n) => format!("{k} of {n} tickets differ"),
    }
}

/// A borderless key/value table, without the padding tabled leaves at line ends.
fn blank_table(builder: Builder) -> String {
    let table = builder.build().with(Style::blank()).to_string();
    let lines: Vec<&str> = table.lines().map(str::trim_end).collect();
    lines.join("\n")
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
        let pace = match (c.pace, c.think_ms) {
            (Pace::AfterResponse, 0) => "each after the previous response".to_owned(),
            (Pace::AfterResponse, ms) => format!("each {ms} ms after the previous response"),
            (Pace::Burst, _) => "all at once, without waiting".to_owned(),
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
    let reserves = w.reserve.iter().map(|r| {
        let mut line = format!(
            "at {} ms: {} tickets \"{}\" at {}, {} ms later {} order{} each at once",
            r.at_ms,
            r.tickets,
            r.title,
            r.price,
            r.wait_ms,
            r.orders,
            if r.orders == 1 { "" } else { "s" }
        );
        if !r.price_updates.is_empty() {
            let prices: Vec<String> = r.price_updates.iter().map(|p| p.to_string()).collect();
            let _ = write!(
                line,
                ", racing updates to {} ({} ms after the orders)",
                prices.join(", "),
                r.update_delay_ms
            );
        }
        if let Some(after) = r.cancel_after_ms {
            let _ = write!(
                line,
                ", each placed order cancelled {after} ms after its response"
            );
        }
        if let Some(after) = r.pay_after_ms {
            let _ = write!(
                line,
                ", each placed order paid {after} ms after its response"
            );
        }
        if let Some(after) = r.reorder_after_ms {
            let _ = write!(
                line,
                ", and {after} ms after the orders one more user orders the ticket"
            );
        }
        line
    });
    creates.chain(chains).chain(reserves).collect()
}

/// The services after section 19 that run, as the topology line ends: "" when none does.
fn later_services(t: &Topology) -> String {
    let mut out = String::new();
    if t.expiration_service {
        let _ = write!(
            out,
            " · expiration service (orders expire after {} ms)",
            t.expiration_window_ms
        );
    }
    if t.payments_service {
        out += " · payments service";
    }
    out
}

fn describe_faults(f: &Faults) -> Vec<String> {
    let mut out = Vec::new();
    let pct = |p: f64| format!("{}%", p * 100.0);
    let mut odds = Vec::new();
    if f.lost_ack > 0.0 {
        odds.push(format!("{} of acks lost", pct(f.lost_ack)));
    }
    if f.publisher_retry > 0.0 {
        odds.push(format!(
            "{} of publishes retried (beyond the course)",
            pct(f.publisher_retry)
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

/// A violation in a sentence, as the summaries print it.
pub fn describe_violation(v: &Violation) -> String {
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
        Violation::DoubleReservation {
            ticket,
            orders,
            t_us,
        } => format!(
            "ticket {ticket} reserved by {} orders at once ({}) at {} ms",
            orders.len(),
            list(orders),
            t_us / 1000
        ),
        Violation::StaleReservation {
            ticket,
            order_id,
            reserving_orders,
            t_us,
        } => format!(
            "at quiescence ({} ms) ticket {ticket}'s order_id is {}, but {}",
            t_us / 1000,
            order_id.map_or("empty".to_owned(), |o| format!("order {o}")),
            if reserving_orders.is_empty() {
                "no order reserves it".to_owned()
            } else {
                format!("it is reserved by order {}", list(reserving_orders))
            }
        ),
        Violation::ReservedTicketEdited {
            ticket,
            order,
            t_us,
        } => format!(
            "ticket {ticket} was edited at {} ms while order {order} reserved it",
            t_us / 1000
        ),
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
        Violation::SoldTwice {
            ticket,
            orders,
            t_us,
        } => format!(
            "ticket {ticket} sold {} times: orders {} completed (the last at {} ms)",
            orders.len(),
            list(orders),
            t_us / 1000
        ),
        Violation::PaidOrderCancelled {
            ticket,
            order,
            t_us,
        } => format!(
            "order {order} (ticket {ticket}) was complete (paid) and was cancelled at {} ms",
            t_us / 1000
        ),
        Violation::PaidOrderNotComplete {
            ticket,
            order,
            status,
            paid_us,
        } => format!(
            "order {order} (ticket {ticket}) was paid at {} ms, but at quiescence it is {}",
            paid_us / 1000,
            status.as_str()
        ),
        Violation::ReleasedByAnotherOrder {
            ticket,
            held_by,
            cancelled,
            t_us,
        } => format!(
            "ticket {ticket} was released at {} ms by the cancellation of order {cancelled} while order {held_by} held it",
            t_us / 1000
        ),
        Violation::UnrecordedCharge {
            ticket,
            order,
            charge,
            t_us,
        } => format!(
            "charge {charge} for order {order} (ticket {ticket}, at {} ms) has no payment record",
            t_us / 1000
        ),
        Violation::TimeLimit {
            sim_time_ms,
            last_step_ms,
            held,
            waiting,
            unacked,
            open_requests,
        } => {
            let mut s = format!(
                "time limit of {sim_time_ms} ms reached with {unacked} messages unacked and {open_requests} requests open; the last step was at {last_step_ms} ms"
            );
            if !held.is_empty() {
                let nodes: Vec<String> = held
                    .iter()
                    .map(|h| {
                        let why = match h.why {
                            Hold::Down => "down",
                            Hold::Paused => "paused",
                            Hold::CutOff => "cut off from NATS",
                        };
                        format!("{} {why}", h.node)
                    })
                    .collect();
                s += &format!("; at the end {}", nodes.join(", "));
            }
            if !waiting.is_empty() {
                let msgs: Vec<String> = waiting
                    .iter()
                    .map(|w| match w.held_by {
                        Some(n) => format!("{} (held by {n})", w.message),
                        None => format!("{} (waiting for a member)", w.message),
                    })
                    .collect();
                let more = if *unacked > waiting.len() { ", …" } else { "" };
                s += &format!("; unacked: {}{more}", msgs.join(", "));
            }
            s
        }
        Violation::StepLimit {
            unacked,
            open_requests,
        } => format!(
            "step limit reached with {unacked} messages unacked and {open_requests} requests open (a runaway model: please report it)"
        ),
    }
}

fn list(ids: &[u32]) -> String {
    let ids: Vec<String> = ids.iter().map(|i| i.to_string()).collect();
    ids.join(", ")
}

/// "s" for a count other than one: `format!("{n} seed{}", plural(n))`.
pub fn plural(n: u64) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// A run's outcome in a table cell: "converged", "DIVERGED: 3 of 20 tickets differ",
/// "STUCK: never settled", with the invariant violations counted.
pub fn outcome_cell(report: &Report) -> String {
    let tickets = report.stats.tickets;
    let broken = report
        .violations
        .iter()
        .filter(|v| v.is_invariant())
        .count();
    let base = match report.outcome {
        Outcome::Converged => "converged".to_owned(),
        Outcome::Diverged => format!("DIVERGED: {}", differ(report.diverged_tickets(), tickets)),
        Outcome::Stuck if report.databases_agree => "STUCK: never settled".to_owned(),
        Outcome::Stuck => format!(
            "STUCK: never settled; where it stopped, {}",
            differ(report.diverged_tickets(), tickets)
        ),
    };
    if broken > 0 {
        let s = if broken == 1 { "" } else { "s" };
        format!("{base}, {broken} invariant violation{s}")
    } else {
        base
    }
}

#[cfg(test)]
mod tests {
    use super::differ;

    #[test]
    fn counts_of_tickets_read_naturally() {
        assert_eq!(differ(1, 1), "the ticket differs");
        assert_eq!(differ(1, 5), "1 of 5 tickets differs");
        assert_eq!(differ(3, 200), "3 of 200 tickets differ");
    }
}
