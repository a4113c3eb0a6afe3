//! The limits of a scenario: every range the types alone cannot express, checked after
//! parsing so that a value out of range is an error naming its key, never a silent clamp.
//!
//! "Put a limit on everything" (TigerBeetle): counts, durations, probabilities and the total
//! workload are bounded, so no valid scenario runs for hours.

use crate::model::documents::Price;
use crate::model::node::Node;
use crate::model::occ::Occ;
use crate::scenario::explore::ExploreClaim;
use crate::scenario::schema::{NodeName, Pace, Scenario};

/// The largest workload a scenario may script, in HTTP requests. A guard against typos
/// (`tickets = 20000000`) that would otherwise run for hours.
pub const MAX_REQUESTS: u64 = 2_000_000;

/// The most deliveries a scenario's worst case may take: its requests times
/// `limits.deliveries-per-message`. The largest workload with the default 20 stays within it;
/// at about a microsecond a delivery, it is a few minutes of running at worst.
pub const MAX_WORST_DELIVERIES: u64 = 100_000_000;

/// One step of a key path: a table key or an array index.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Seg {
    Key(&'static str),
    Idx(usize),
}

/// A value that parsed but is out of range: its key path and what is wrong.
pub(crate) struct Invalid {
    pub(crate) path: Vec<Seg>,
    pub(crate) message: String,
}

impl Invalid {
    /// The key path as scenario errors print it: `workload.price-chain[0].tickets`.
    pub(crate) fn path_string(&self) -> String {
        let mut s = String::new();
        for seg in &self.path {
            match seg {
                Seg::Key(k) if s.is_empty() => s.push_str(k),
                Seg::Key(k) => {
                    s.push('.');
                    s.push_str(k);
                }
                Seg::Idx(i) => s.push_str(&format!("[{i}]")),
            }
        }
        s
    }
}

impl Scenario {
    /// Whether the scenario is within every range [`Scenario::parse`] enforces.
    pub fn is_valid(&self) -> bool {
        self.validate().is_ok()
    }

    /// Check ranges that the types alone cannot express.
    pub(crate) fn validate(&self) -> Result<(), Invalid> {
        use Seg::{Idx, Key};
        let check = |ok: bool, path: &[Seg], message: String| {
            if ok {
                Ok(())
            } else {
                Err(Invalid {
                    path: path.to_vec(),
                    message,
                })
            }
        };
        check(
            is_safe_name(&self.name),
            &[Key("name")],
            format!(
                "must be 1 to 64 letters, digits, '-', '_' or '.', not starting with '.' or '-', because it names files (the demo's, shrink's); {:?} is not",
                self.name
            ),
        )?;
        let replicas = self.topology.orders_replicas;
        check(
            (1..=64).contains(&replicas),
            &[Key("topology"), Key("orders-replicas")],
            format!("must be between 1 and 64, not {replicas}"),
        )?;
        let ack = self.topology.ack_wait_ms;
        check(
            (1000..=3_600_000).contains(&ack),
            &[Key("topology"), Key("ack-wait-ms")],
            format!("must be between 1000 ms and 3600000 ms (an hour), not {ack}"),
        )?;
        // node-nats-streaming sends `ackWait / 1000` as the subscription's AckWaitInSecs
        // (stan.js v0.2.6 `lib/stan.js` 661): a wait the client cannot express is refused.
        check(
            ack % 1000 == 0,
            &[Key("topology"), Key("ack-wait-ms")],
            format!(
                "must be whole seconds ({} or {}, not {ack}): the NATS Streaming client sends the ack wait in seconds",
                ack / 1000 * 1000,
                (ack / 1000 + 1) * 1000
            ),
        )?;
        let window = self.topology.expiration_window_ms;
        check(
            (1000..=86_400_000).contains(&window),
            &[Key("topology"), Key("expiration-window-ms")],
            format!("must be between 1000 ms and 86400000 ms (a day), not {window}"),
        )?;
        let startup = self.services.startup_ms;
        check(
            startup <= 600_000,
            &[Key("services"), Key("startup-ms")],
            format!("must be at most 600000 ms (ten minutes), not {startup}"),
        )?;
        let latencies = [
            ("http", &self.latency.http),
            ("db", &self.latency.db),
            ("publish", &self.latency.publish),
            ("delivery", &self.latency.delivery),
            ("charge", &self.latency.charge),
        ];
        for (name, l) in latencies {
            let at = |field| [Key("latency"), Key(name), Key(field)];
            check(
                l.min_us <= l.max_us,
                &at("min-us"),
                format!("min-us ({}) exceeds max-us ({})", l.min_us, l.max_us),
            )?;
            check(
                l.max_us <= 60_000_000,
                &at("max-us"),
                format!("must be at most 60000000 µs (a minute), not {}", l.max_us),
            )?;
            check(
                (0.0..=1.0).contains(&l.slow_probability),
                &at("slow-probability"),
                format!("must be between 0 and 1, not {}", l.slow_probability),
            )?;
            if l.slow_probability > 0.0 {
                check(
                    l.slow_max_us.is_some(),
                    &at("slow-probability"),
                    "needs slow-max-us: how slow a slow draw can be".into(),
                )?;
            }
            if let Some(slow) = l.slow_max_us {
                check(
                    (l.max_us..=60_000_000).contains(&slow),
                    &at("slow-max-us"),
                    format!(
                        "must be between max-us ({}) and 60000000 µs, not {slow}",
                        l.max_us
                    ),
                )?;
            }
        }
        let limit = self.limits.sim_time_ms;
        check(
            (1..=86_400_000).contains(&limit),
            &[Key("limits"), Key("sim-time-ms")],
            format!("must be between 1 ms and 86400000 ms (a day), not {limit}"),
        )?;
        let deliveries = self.limits.deliveries_per_message;
        check(
            (2..=10_000).contains(&deliveries),
            &[Key("limits"), Key("deliveries-per-message")],
            format!("must be between 2 and 10000, not {deliveries}"),
        )?;
        self.validate_faults(limit)?;
        // Before the explore table: its scope is validated whole, and would report a bad
        // `[cure]` at the `[explore]` line.
        self.validate_cure()?;
        self.validate_explore()?;
        let w = &self.workload;
        check(
            !w.create_tickets.is_empty() || !w.price_chain.is_empty() || !w.reserve.is_empty(),
            &[Key("workload")],
            "has no steps: add a [[workload.price-chain]], [[workload.create-tickets]] or [[workload.reserve]]".into(),
        )?;
        for (i, r) in w.reserve.iter().enumerate() {
            let at = |field| [Key("workload"), Key("reserve"), Idx(i), Key(field)];
            check_tickets(r.tickets, &at("tickets"))?;
            check(
                (1..=1000).contains(&r.orders),
                &at("orders"),
                format!("must be between 1 and 1000, not {}", r.orders),
            )?;
            check_prices(&r.price_updates, &at("price-updates"))?;
            check_title(&r.title, &at("title"))?;
            check_at(r.at_ms, limit, &at("at-ms"))?;
            for (key, ms) in [
                ("wait-ms", r.wait_ms),
                ("update-delay-ms", r.update_delay_ms),
                ("cancel-after-ms", r.cancel_after_ms.unwrap_or(0)),
                ("pay-after-ms", r.pay_after_ms.unwrap_or(0)),
                ("reorder-after-ms", r.reorder_after_ms.unwrap_or(0)),
            ] {
                check_at(ms, limit, &at(key))?;
            }
            check(
                r.pay_after_ms.is_none() || self.topology.payments_service,
                &at("pay-after-ms"),
                "pays through the payments service, which does not run: set topology.payments-service = true".into(),
            )?;
        }
        for (i, c) in w.create_tickets.iter().enumerate() {
            let at = |field| [Key("workload"), Key("create-tickets"), Idx(i), Key(field)];
            check_tickets(c.count, &at("count"))?;
            check_title(&c.title, &at("title"))?;
            check_at(c.at_ms, limit, &at("at-ms"))?;
        }
        for (i, c) in w.price_chain.iter().enumerate() {
            let at = |field| [Key("workload"), Key("price-chain"), Idx(i), Key(field)];
            check_tickets(c.tickets, &at("tickets"))?;
            check_prices(&c.updates, &at("updates"))?;
            check_title(&c.title, &at("title"))?;
            check_at(c.at_ms, limit, &at("at-ms"))?;
            check_at(c.think_ms, limit, &at("think-ms"))?;
            check(
                c.think_ms == 0 || c.pace == Pace::AfterResponse,
                &at("think-ms"),
                "needs pace = \"after-response\": a burst sends every update at once".into(),
            )?;
        }
        let requests = self.total_requests();
        check(
            requests <= MAX_REQUESTS,
            &[Key("workload")],
            format!("sends {requests} requests in all; at most {MAX_REQUESTS} are allowed"),
        )?;
        // Every request may lead to a message delivered up to deliveries-per-message times (a
        // lost ack, a loop): bound the worst case, so that no valid scenario runs for hours.
        let deliveries = u64::from(self.limits.deliveries_per_message);
        check(
            requests.saturating_mul(deliveries) <= MAX_WORST_DELIVERIES,
            &[Key("limits"), Key("deliveries-per-message")],
            format!(
                "{deliveries} deliveries per message for a workload of {requests} requests allows {} deliveries; at most {MAX_WORST_DELIVERIES} (a few minutes of running) are allowed: lower this to {} or the workload",
                requests.saturating_mul(deliveries),
                MAX_WORST_DELIVERIES / requests.max(1)
            ),
        )
    }
}

/// How many tickets a workload step creates: 1 to 100000.
fn check_tickets(n: u32, path: &[Seg]) -> Result<(), Invalid> {
    if (1..=100_000).contains(&n) {
        Ok(())
    } else {
        Err(Invalid {
            path: path.to_vec(),
            message: format!("must be between 1 and 100000, not {n}"),
        })
    }
}

/// A list of prices a workload step sends: at most 1000.
fn check_prices(prices: &[Price], path: &[Seg]) -> Result<(), Invalid> {
    if prices.len() <= 1000 {
        Ok(())
    } else {
        Err(Invalid {
            path: path.to_vec(),
            message: format!("has {} prices; at most 1000 are allowed", prices.len()),
        })
    }
}

fn check_title(title: &str, path: &[Seg]) -> Result<(), Invalid> {
    let len = title.chars().count();
    if (1..=200).contains(&len) {
        Ok(())
    } else {
        Err(Invalid {
            path: path.to_vec(),
            message: format!("must be 1 to 200 characters long, not {len}"),
        })
    }
}

/// Whether `name` is safe as a file name on every system: 1 to 64 ASCII letters, digits, `-`,
/// `_` or `.`, not starting with `.` or `-` (no path separator, no `..`, no control character).
pub fn is_safe_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && !name.starts_with(['.', '-'])
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// The longest any duration may be, in milliseconds: a day, as `limits.sim-time-ms`.
const A_DAY_MS: u64 = 86_400_000;

/// A duration that must be at most a day, like every other one a scenario sets.
fn at_most_a_day(ms: u64, path: Vec<Seg>) -> Result<(), Invalid> {
    if ms <= A_DAY_MS {
        return Ok(());
    }
    Err(Invalid {
        path,
        message: format!("must be at most {A_DAY_MS} ms (a day), not {ms}"),
    })
}

fn check_at(at_ms: u64, limit_ms: u64, path: &[Seg]) -> Result<(), Invalid> {
    if at_ms < limit_ms {
        Ok(())
    } else {
        Err(Invalid {
            path: path.to_vec(),
            message: format!("{at_ms} ms is not before limits.sim-time-ms ({limit_ms} ms)"),
        })
    }
}

impl Scenario {
    /// `[cure]` sets exactly one of its keys (or `switches` and `mode`), and each says
    /// something.
    fn validate_cure(&self) -> Result<(), Invalid> {
        use Seg::{Idx, Key};
        let Some(cure) = &self.cure else {
            return Ok(());
        };
        let invalid = |path: &[Seg], message: String| {
            Err(Invalid {
                path: path.to_vec(),
                message,
            })
        };
        if !cure.keys_fit() {
            return invalid(
                &[Key("cure")],
                format!(
                    "needs exactly one of `mode`, `switches` or `none` (or `switches` with the `mode` they run in), not {}",
                    cure.keys_set()
                ),
            );
        }
        if cure.mode == Some(Occ::Off) {
            return invalid(
                &[Key("cure"), Key("mode")],
                "must be \"on\" or \"dedup\": \"off\" is the course's design without OCC, no cure"
                    .into(),
            );
        }
        if cure.switches.as_ref().is_some_and(Vec::is_empty) {
            return invalid(
                &[Key("cure"), Key("switches")],
                "names no switch: name the `[cures]` keys that cure the race".into(),
            );
        }
        // A repeated switch is a slip (a copy meant to be the other switch); it would be shown
        // once, so the list would not say what the demo shows.
        let switches = cure.switches.as_deref().unwrap_or_default();
        for (i, switch) in switches.iter().enumerate() {
            if let Some(first) = switches[..i].iter().position(|s| s == switch) {
                return invalid(
                    &[Key("cure"), Key("switches"), Idx(i)],
                    format!(
                        "names \"{}\" again (already at [{first}]): name each switch once",
                        switch.key()
                    ),
                );
            }
        }
        if cure.none.as_ref().is_some_and(|why| why.trim().is_empty()) {
            return invalid(
                &[Key("cure"), Key("none")],
                "is empty: say in a sentence why no cure is modelled".into(),
            );
        }
        Ok(())
    }

    fn validate_explore(&self) -> Result<(), Invalid> {
        use Seg::Key;
        let Some(e) = &self.explore else {
            return Ok(());
        };
        let fail = |key: &'static str, message: String| {
            Err(Invalid {
                path: vec![Key("explore"), Key(key)],
                message,
            })
        };
        if !(0..=8).contains(&e.deviations) {
            return fail(
                "deviations",
                format!("must be from 0 to 8, not {}", e.deviations),
            );
        }
        if !(2..=16).contains(&e.latency_points) {
            return fail(
                "latency-points",
                format!("must be from 2 to 16, not {}", e.latency_points),
            );
        }
        for (key, n, max) in [
            ("tickets", e.tickets, 4),
            ("replicas", e.replicas, 8),
            ("updates", e.updates, 8),
            ("orders", e.orders, 4),
        ] {
            if let Some(n) = n {
                let least = u32::from(key != "updates");
                if n < least || n > max {
                    return fail(
                        key,
                        format!(
                            "must be from {least} to {max}, not {n}: an explored scope stays small"
                        ),
                    );
                }
            }
        }
        for (key, claim) in [("off", e.off), ("on", e.on), ("dedup", e.dedup)] {
            if let Some(ExploreClaim::FailsWithin(k)) = claim {
                if k > e.deviations {
                    return fail(
                        key,
                        format!("fails-within-{k} asks for more deviations than explore.deviations ({})", e.deviations),
                    );
                }
            }
        }
        if e.off.is_none() && e.on.is_none() && e.dedup.is_none() {
            return fail(
                "off",
                "claims nothing: give at least one of off, on and dedup (converges or fails-within-K)"
                    .to_owned(),
            );
        }
        // The scope must be a valid scenario of its own: a crash of orders-4 in a scope of two
        // replicas, say, is not.
        if let Err(inner) = self.scoped(e).validate() {
            return Err(Invalid {
                path: vec![Key("explore")],
                message: format!(
                    "its scope is not a valid scenario: {}: {}",
                    inner.path_string(),
                    inner.message
                ),
            });
        }
        Ok(())
    }

    fn validate_faults(&self, limit_ms: u64) -> Result<(), Invalid> {
        use Seg::{Idx, Key};
        let f = &self.faults;
        let fail = |path: Vec<Seg>, message: String| Err(Invalid { path, message });
        let probability = |p: f64, path: Vec<Seg>| {
            if (0.0..=1.0).contains(&p) {
                Ok(())
            } else {
                fail(
                    path,
                    format!("must be a probability between 0 and 1, not {p}"),
                )
            }
        };
        let heal = f.heal_at_ms;
        if let Some(h) = heal {
            if h > limit_ms {
                return fail(
                    vec![Key("faults"), Key("heal-at-ms")],
                    format!("must be within limits.sim-time-ms ({limit_ms}), not {h}"),
                );
            }
        }
        probability(f.lost_ack, vec![Key("faults"), Key("lost-ack")])?;
        probability(
            f.publisher_retry,
            vec![Key("faults"), Key("publisher-retry")],
        )?;
        if let Some(s) = f.slow_handler {
            let at = |k| vec![Key("faults"), Key("slow-handler"), Key(k)];
            probability(s.probability, at("probability"))?;
            if s.min_ms > s.max_ms || s.max_ms > 3_600_000 {
                return fail(
                    at("max-ms"),
                    format!(
                        "needs min-ms <= max-ms <= 3600000, not {}..{}",
                        s.min_ms, s.max_ms
                    ),
                );
            }
        }
        if let Some(r) = f.crash_rate {
            let at = |k| vec![Key("faults"), Key("crash-rate"), Key(k)];
            if heal.is_none() {
                return fail(
                    at("mean-interval-ms"),
                    "needs faults.heal-at-ms: crashes at a rate must stop for the run to end"
                        .into(),
                );
            }
            if r.mean_interval_ms == 0 {
                return fail(at("mean-interval-ms"), "must be at least 1".into());
            }
            at_most_a_day(r.mean_interval_ms, at("mean-interval-ms"))?;
            at_most_a_day(r.restart_after_ms, at("restart-after-ms"))?;
        }
        let replicas = self.topology.orders_replicas;
        let topology = &self.topology;
        let node_ok = |n: NodeName, path: Vec<Seg>| {
            match n.0 {
            Node::Orders(k) if u32::from(k) > replicas => fail(
                path,
                format!("names {n}, but topology.orders-replicas is {replicas}"),
            ),
            Node::Expiration if !topology.expiration_service => fail(
                path,
                "names expiration, but the expiration service does not run: set topology.expiration-service = true".into(),
            ),
            Node::Payments if !topology.payments_service => fail(
                path,
                "names payments, but the payments service does not run: set topology.payments-service = true".into(),
            ),
            _ => Ok(()),
        }
        };
        let start_ok = |at_ms: u64, path: Vec<Seg>| match heal {
            Some(h) if at_ms >= h => fail(
                path,
                format!("{at_ms} is not before faults.heal-at-ms ({h})"),
            ),
            _ if at_ms >= limit_ms => fail(
                path,
                format!("{at_ms} is not before limits.sim-time-ms ({limit_ms})"),
            ),
            _ => Ok(()),
        };
        for (i, c) in f.crash.iter().enumerate() {
            let at = |k| vec![Key("faults"), Key("crash"), Idx(i), Key(k)];
            node_ok(c.node, at("node"))?;
            start_ok(c.at_ms, at("at-ms"))?;
            at_most_a_day(c.restart_after_ms, at("restart-after-ms"))?;
        }
        for (name, windows) in [("pause", &f.pause), ("partition", &f.partition)] {
            for (i, w) in windows.iter().enumerate() {
                let at = |k| vec![Key("faults"), Key(name), Idx(i), Key(k)];
                node_ok(w.node, at("node"))?;
                start_ok(w.at_ms, at("at-ms"))?;
                if w.for_ms == 0 {
                    return fail(at("for-ms"), "must be at least 1".into());
                }
                at_most_a_day(w.for_ms, at("for-ms"))?;
            }
        }
        Ok(())
    }
}
