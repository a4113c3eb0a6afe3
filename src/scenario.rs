//! Scenario files (`scenarios/*.toml`): what a run simulates (DESIGN §7).
//!
//! A scenario names itself, says what it teaches, and declares the topology, the latency
//! distributions, the limits, a scripted workload and its expectations per OCC mode. Keys are
//! kebab-case and carry their unit last (`ack-wait-ms`, `min-us`). Unknown keys, wrong types and
//! out-of-range values are errors that name the file, line and key; nothing is silently
//! defaulted except keys that are absent, whose defaults are documented here.

use crate::check::{Invariant, Property};
use crate::domain::{Occ, Price};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

/// The largest workload a scenario may script, in HTTP requests. A guard against typos
/// (`tickets = 20000000`) that would otherwise run for hours.
pub const MAX_REQUESTS: u64 = 2_000_000;

/// One scenario, as parsed and validated.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Scenario {
    /// The file it was loaded from, as given (used in the command that reproduces a run).
    #[serde(skip)]
    pub source: PathBuf,
    /// Short name, used in reports and baselines.
    pub name: String,
    /// What the scenario teaches, in a sentence or two.
    pub description: String,
    /// Services and bus settings.
    #[serde(default)]
    pub topology: Topology,
    /// How the tickets service behaves.
    #[serde(default)]
    pub tickets_service: TicketsService,
    /// Latency distributions.
    #[serde(default)]
    pub latency: Latencies,
    /// Bounds that turn a run that cannot finish into a result.
    #[serde(default)]
    pub limits: Limits,
    /// Faults to inject (none unless named).
    #[serde(default)]
    pub faults: Faults,
    /// The scripted client traffic.
    pub workload: Workload,
    /// What must hold, per OCC mode.
    #[serde(default)]
    pub expect: Expectations,
}

/// Services and bus settings.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Topology {
    /// Orders-service replicas in queue group `orders-service` (default 4, 1..=64).
    #[serde(default = "default_replicas")]
    pub orders_replicas: u32,
    /// NATS Streaming ack wait in milliseconds (default 5000, as the course sets it).
    #[serde(default = "default_ack_wait_ms")]
    pub ack_wait_ms: u64,
}

fn default_replicas() -> u32 {
    4
}
fn default_ack_wait_ms() -> u64 {
    5000
}

impl Default for Topology {
    fn default() -> Self {
        Self {
            orders_replicas: default_replicas(),
            ack_wait_ms: default_ack_wait_ms(),
        }
    }
}

/// `[tickets-service]`: switches on the tickets service's code.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct TicketsService {
    /// Whether its `order:created` and `order:cancelled` listeners publish `ticket:updated`
    /// after saving (default true, as taught). `false` reserves silently on `order:created`:
    /// the orders service's replica falls a version behind.
    #[serde(default = "yes")]
    pub publish_on_reserve: bool,
}

fn yes() -> bool {
    true
}

impl Default for TicketsService {
    fn default() -> Self {
        Self {
            publish_on_reserve: true,
        }
    }
}

/// A latency distribution: uniform in `min-us..=max-us`, and with probability
/// `slow-probability` uniform in `max-us..=slow-max-us` instead (a busy replica, a GC pause).
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Latency {
    /// Fastest, in microseconds.
    pub min_us: u64,
    /// Slowest of the ordinary case, in microseconds.
    pub max_us: u64,
    /// Probability of a slow draw (default 0).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub slow_probability: f64,
    /// Slowest slow draw, in microseconds (required when `slow-probability` > 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slow_max_us: Option<u64>,
}

fn is_zero(p: &f64) -> bool {
    *p == 0.0
}

impl Latency {
    const fn uniform(min_us: u64, max_us: u64) -> Self {
        Self {
            min_us,
            max_us,
            slow_probability: 0.0,
            slow_max_us: None,
        }
    }

    /// The range of the ordinary case.
    pub fn range(&self) -> Range<u64> {
        self.min_us..self.max_us + 1
    }
}

impl fmt::Display for Latency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ms = |us: u64| us as f64 / 1000.0;
        write!(f, "{}–{} ms", ms(self.min_us), ms(self.max_us))?;
        if let (p, Some(slow)) = (self.slow_probability, self.slow_max_us) {
            if p > 0.0 {
                write!(f, " ({}% up to {} ms)", p * 100.0, ms(slow))?;
            }
        }
        Ok(())
    }
}

/// Where simulated time goes.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Latencies {
    /// From a client's request to the service handling it (default 1–3 ms).
    #[serde(default = "default_http")]
    pub http: Latency,
    /// Each database operation, from call to effect (default 0.5–2 ms).
    #[serde(default = "default_db")]
    pub db: Latency,
    /// From a publish call to the bus assigning its sequence number (default 0.2–1 ms).
    #[serde(default = "default_publish")]
    pub publish: Latency,
    /// From the bus sending a message to the listener starting (default 0.5–3 ms).
    #[serde(default = "default_delivery")]
    pub delivery: Latency,
}

fn default_http() -> Latency {
    Latency::uniform(1000, 3000)
}
fn default_db() -> Latency {
    Latency::uniform(500, 2000)
}
fn default_publish() -> Latency {
    Latency::uniform(200, 1000)
}
fn default_delivery() -> Latency {
    Latency::uniform(500, 3000)
}

impl Default for Latencies {
    fn default() -> Self {
        Self {
            http: default_http(),
            db: default_db(),
            publish: default_publish(),
            delivery: default_delivery(),
        }
    }
}

/// Bounds on a run (TigerBeetle's "put a limit on everything").
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Limits {
    /// Simulated time after which an unfinished run is stuck (default 600000 ms).
    #[serde(default = "default_sim_time_ms")]
    pub sim_time_ms: u64,
    /// Deliveries of one message beyond which it is a redelivery loop (default 20).
    #[serde(default = "default_deliveries")]
    pub deliveries_per_message: u32,
}

fn default_sim_time_ms() -> u64 {
    600_000
}
fn default_deliveries() -> u32 {
    20
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            sim_time_ms: default_sim_time_ms(),
            deliveries_per_message: default_deliveries(),
        }
    }
}

/// Faults injected into a run (DESIGN §3). Every one is off unless the scenario names it, and
/// every draw comes from the run's seed. After `heal-at-ms` no fault starts and every crashed,
/// paused or partitioned node is back: the run then has to converge and quiesce on its own.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Faults {
    /// When faults stop (default: never; required by `crash-rate`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub heal_at_ms: Option<u64>,
    /// Probability that a listener's ack never reaches the bus, which redelivers the message
    /// after the ack wait (default 0).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub lost_ack: f64,
    /// Probability that a published message is stored twice: the publisher's confirmation was
    /// lost and it published again, so the bus holds and delivers two copies under two
    /// sequence numbers (default 0).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub duplicate_delivery: f64,
    /// Listeners that stall mid-handler, between reading and writing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slow_handler: Option<SlowHandler>,
    /// Crashes at given times.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub crash: Vec<Crash>,
    /// Crashes of random orders replicas at random times.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crash_rate: Option<CrashRate>,
    /// A node stops running for an interval, then resumes where it was.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pause: Vec<Window>,
    /// A node is cut off from the bus for an interval: deliveries to it, its acks and its
    /// publishes are lost.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub partition: Vec<Window>,
}

impl Faults {
    /// Whether the scenario injects any fault.
    pub fn any(&self) -> bool {
        self != &Faults::default()
    }
}

/// `slow-handler = { probability = 0.01, min-ms = 6000, max-ms = 8000 }`.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct SlowHandler {
    /// Probability that a listener run stalls.
    pub probability: f64,
    /// Shortest stall.
    pub min_ms: u64,
    /// Longest stall.
    pub max_ms: u64,
}

/// `[[faults.crash]]`: `node` crashes at `at-ms`, losing its in-flight work, and restarts
/// `restart-after-ms` later.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Crash {
    /// `tickets` or `orders-N`.
    pub node: NodeName,
    /// When.
    pub at_ms: u64,
    /// Down for how long.
    pub restart_after_ms: u64,
}

/// `crash-rate = { mean-interval-ms = 20000, restart-after-ms = 2000 }`: until the heal, a
/// random orders replica crashes at exponentially distributed intervals.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct CrashRate {
    /// Mean time between crashes.
    pub mean_interval_ms: u64,
    /// Down for how long.
    pub restart_after_ms: u64,
}

/// `[[faults.pause]]` and `[[faults.partition]]`: `node` from `at-ms` for `for-ms`.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Window {
    /// `tickets` or `orders-N`.
    pub node: NodeName,
    /// When it starts.
    pub at_ms: u64,
    /// How long it lasts.
    pub for_ms: u64,
}

/// A service instance a fault can hit: `tickets` or `orders-N` (N from 1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub struct NodeName(pub crate::exec::Node);

impl fmt::Display for NodeName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl std::str::FromStr for NodeName {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        use crate::exec::Node;
        if s == "tickets" {
            return Ok(NodeName(Node::Tickets));
        }
        s.strip_prefix("orders-")
            .and_then(|n| n.parse::<u8>().ok())
            .filter(|&n| n >= 1)
            .map(|n| NodeName(Node::Orders(n)))
            .ok_or_else(|| {
                format!("`{s}` is not a node: write \"tickets\" or \"orders-N\" (N from 1)")
            })
    }
}

serde_as_string!(NodeName);

/// The scripted client traffic. Every step starts at its `at-ms`.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Workload {
    /// Create tickets and do nothing else with them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub create_tickets: Vec<CreateTickets>,
    /// Create tickets, then update each one's price through a list of values.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub price_chain: Vec<PriceChain>,
    /// Create tickets, then order each one (possibly several times at once), possibly racing
    /// price updates, possibly cancelling.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reserve: Vec<Reserve>,
}

/// `[[workload.reserve]]`: for each of `tickets` tickets, create it at `price`; `wait-ms` after
/// the response, send `orders` create-order requests for it at once (a reservation burst) and,
/// `update-delay-ms` after those, each of `price-updates`; cancel each order that was placed
/// `cancel-after-ms` after its response, if set.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Reserve {
    /// When the tickets are created (default 0).
    #[serde(default)]
    pub at_ms: u64,
    /// How many tickets (1..=100000).
    pub tickets: u32,
    /// Their title (default "ticket").
    #[serde(default = "default_title")]
    pub title: String,
    /// The price each is created at.
    pub price: Price,
    /// Concurrent create-order requests per ticket, each from another user (default 1,
    /// at most 1000).
    #[serde(default = "one")]
    pub orders: u32,
    /// From the ticket's creation to its orders, so the orders service has its replica
    /// (default 100 ms; sooner, create-order may answer 404).
    #[serde(default = "default_wait_ms")]
    pub wait_ms: u64,
    /// Price updates sent with the orders, racing them (default none, at most 1000).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub price_updates: Vec<Price>,
    /// How long after the orders the price updates are sent (default 0).
    #[serde(default)]
    pub update_delay_ms: u64,
    /// Cancel each placed order this long after its response (default: never).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cancel_after_ms: Option<u64>,
}

fn one() -> u32 {
    1
}
fn default_wait_ms() -> u64 {
    100
}

/// `[[workload.create-tickets]]`: `count` concurrent create requests.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct CreateTickets {
    /// When the requests are sent (default 0).
    #[serde(default)]
    pub at_ms: u64,
    /// How many tickets (1..=100000).
    pub count: u32,
    /// Their title (default "ticket").
    #[serde(default = "default_title")]
    pub title: String,
    /// Their price.
    pub price: Price,
}

/// `[[workload.price-chain]]`: `tickets` concurrent chains of "create at `price`, then update
/// to each of `updates`", the course's concurrency script when `pace = "after-response"`.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct PriceChain {
    /// When the chains start (default 0).
    #[serde(default)]
    pub at_ms: u64,
    /// How many tickets, one chain each (1..=100000).
    pub tickets: u32,
    /// Their title (default "ticket").
    #[serde(default = "default_title")]
    pub title: String,
    /// The price each ticket is created at.
    pub price: Price,
    /// The prices each ticket is then updated to, in order (at most 1000).
    pub updates: Vec<Price>,
    /// Whether each update waits for the previous response (default "after-response").
    #[serde(default)]
    pub pace: Pace,
    /// With `pace = "after-response"`, how long the client waits after a response (or a
    /// dropped request) before its next update (default 0).
    #[serde(default, skip_serializing_if = "is_zero_ms")]
    pub think_ms: u64,
}

fn is_zero_ms(ms: &u64) -> bool {
    *ms == 0
}

fn default_title() -> String {
    "ticket".to_owned()
}

/// How a chain sends its updates.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum Pace {
    /// Each update is sent when the previous response arrives.
    #[default]
    AfterResponse,
    /// All updates are sent at once, without waiting: they race each other.
    Burst,
}

/// `[expect]`: what must hold, per OCC mode, and what every run must exercise. A mode without
/// an entry expects nothing.
///
/// ```toml
/// [expect]
/// off = "diverges-on-some-seed"
/// on = ["converges", "exercises-redelivery"]
/// dedup = "converges"
/// exercises = ["reordering"]   # in every mode
/// ```
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Expectations {
    /// With `--occ off`.
    #[serde(default, skip_serializing_if = "Claims::is_empty")]
    pub off: Claims,
    /// With `--occ on`.
    #[serde(default, skip_serializing_if = "Claims::is_empty")]
    pub on: Claims,
    /// With `--occ dedup`.
    #[serde(default, skip_serializing_if = "Claims::is_empty")]
    pub dedup: Claims,
    /// What runs in every mode must exercise (on some seed of a sweep).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exercises: Vec<Property>,
}

impl Expectations {
    /// Everything declared for `occ`: the mode's claims, then `exercises`.
    pub fn get(&self, occ: Occ) -> Vec<Claim> {
        let claims = match occ {
            Occ::Off => &self.off,
            Occ::On => &self.on,
            Occ::Dedup => &self.dedup,
        };
        let mut all = claims.0.clone();
        for &p in &self.exercises {
            if !all.contains(&Claim::Exercises(p)) {
                all.push(Claim::Exercises(p));
            }
        }
        all
    }

    /// Every property any mode must exercise: what a run looks for.
    pub fn properties(&self) -> Vec<Property> {
        let mut out: Vec<Property> = Occ::ALL
            .into_iter()
            .flat_map(|occ| self.get(occ))
            .filter_map(|c| match c {
                Claim::Exercises(p) => Some(p),
                _ => None,
            })
            .collect();
        out.sort_unstable();
        out.dedup();
        out
    }
}

/// The claims of one mode: one string or a list of them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Claims(pub Vec<Claim>);

impl Claims {
    /// Whether nothing is claimed.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<'de> Deserialize<'de> for Claims {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = Claims;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an expectation or a list of expectations")
            }
            fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<Claims, E> {
                s.parse().map(|c| Claims(vec![c])).map_err(E::custom)
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<Claims, A::Error> {
                let mut claims = Vec::new();
                while let Some(c) = seq.next_element::<Claim>()? {
                    claims.push(c);
                }
                Ok(Claims(claims))
            }
        }
        d.deserialize_any(Visitor)
    }
}

/// One thing a scenario expects of a mode.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Claim {
    /// Every seed converges and quiesces, and no invariant breaks. One run can refute it.
    Converges,
    /// Some seed of a sweep diverges.
    DivergesOnSomeSeed,
    /// Some seed of a sweep gets stuck.
    StuckOnSomeSeed,
    /// Some seed of a sweep breaks this invariant.
    Violates(Invariant),
    /// Some seed of a sweep exercises this property; a run that does not, says so.
    Exercises(Property),
}

impl Claim {
    /// Whether a single run can refute it (the others need a range of seeds).
    pub fn refutable_by_one_run(self) -> bool {
        self == Claim::Converges
    }
}

impl fmt::Display for Claim {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Claim::Converges => f.write_str("converges"),
            Claim::DivergesOnSomeSeed => f.write_str("diverges-on-some-seed"),
            Claim::StuckOnSomeSeed => f.write_str("stuck-on-some-seed"),
            Claim::Violates(i) => write!(f, "violates-{i}-on-some-seed"),
            Claim::Exercises(p) => write!(f, "exercises-{p}"),
        }
    }
}

impl std::str::FromStr for Claim {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "converges" => return Ok(Claim::Converges),
            "diverges-on-some-seed" => return Ok(Claim::DivergesOnSomeSeed),
            "stuck-on-some-seed" => return Ok(Claim::StuckOnSomeSeed),
            _ => {}
        }
        if let Some(p) = s.strip_prefix("exercises-") {
            return p.parse().map(Claim::Exercises);
        }
        if let Some(rest) = s.strip_prefix("violates-") {
            let Some(i) = rest.strip_suffix("-on-some-seed") else {
                return Err(format!("`{s}`: write violates-<invariant>-on-some-seed"));
            };
            return i.parse().map(Claim::Violates);
        }
        Err(format!(
            "`{s}` is not an expectation: write converges, diverges-on-some-seed, \
             stuck-on-some-seed, violates-<invariant>-on-some-seed or exercises-<property>"
        ))
    }
}

serde_as_string!(Claim);

impl Serialize for Claim {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Claim {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// A scenario that could not be loaded: where, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScenarioError {
    /// The file.
    pub file: PathBuf,
    /// 1-based line and column, when the problem has a place in the file.
    pub position: Option<(usize, usize)>,
    /// The key, as a path (`workload.price-chain[0].tickets`), when one is concerned.
    pub key: Option<String>,
    /// What is wrong.
    pub message: String,
    /// The offending source line and a caret under the span, when there is a position.
    pub snippet: Option<String>,
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some((line, col)) = self.position {
            write!(f, ":{line}:{col}")?;
        }
        if let Some(key) = &self.key {
            write!(f, ": key `{key}`")?;
        }
        write!(f, ": {}", self.message)?;
        if let Some(snippet) = &self.snippet {
            write!(f, "\n{snippet}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ScenarioError {}

impl Scenario {
    /// Read and validate a scenario file.
    pub fn load(path: &Path) -> Result<Scenario, ScenarioError> {
        let text = std::fs::read_to_string(path).map_err(|e| ScenarioError {
            file: path.to_owned(),
            position: None,
            key: None,
            message: format!("cannot read the scenario file: {e}"),
            snippet: None,
        })?;
        Self::parse(&text, path)
    }

    /// Parse and validate scenario text; `file` names it in errors.
    pub fn parse(text: &str, file: &Path) -> Result<Scenario, ScenarioError> {
        let mut scenario: Scenario = from_toml(text, file)?;
        scenario.source = file.to_owned();
        if let Err(invalid) = scenario.validate() {
            return Err(invalid.into_error(text, file));
        }
        Ok(scenario)
    }

    /// Total HTTP requests the workload sends.
    pub fn total_requests(&self) -> u64 {
        let creates: u64 = self
            .workload
            .create_tickets
            .iter()
            .map(|c| u64::from(c.count))
            .sum();
        let chains: u64 = self
            .workload
            .price_chain
            .iter()
            .map(|c| u64::from(c.tickets) * (1 + c.updates.len() as u64))
            .sum();
        let reserves: u64 = self
            .workload
            .reserve
            .iter()
            .map(|r| {
                let cancels = if r.cancel_after_ms.is_some() {
                    r.orders
                } else {
                    0
                };
                u64::from(r.tickets)
                    * (1 + u64::from(r.orders) + r.price_updates.len() as u64 + u64::from(cancels))
            })
            .sum();
        creates + chains + reserves
    }

    /// Whether the scenario is within every range [`Scenario::parse`] enforces.
    pub fn is_valid(&self) -> bool {
        self.validate().is_ok()
    }

    /// Check ranges that the types alone cannot express.
    fn validate(&self) -> Result<(), Invalid> {
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
            !self.name.trim().is_empty(),
            &[Key("name")],
            "must not be empty".into(),
        )?;
        let replicas = self.topology.orders_replicas;
        check(
            (1..=64).contains(&replicas),
            &[Key("topology"), Key("orders-replicas")],
            format!("must be between 1 and 64, not {replicas}"),
        )?;
        let ack = self.topology.ack_wait_ms;
        check(
            (1..=3_600_000).contains(&ack),
            &[Key("topology"), Key("ack-wait-ms")],
            format!("must be between 1 ms and 3600000 ms (an hour), not {ack}"),
        )?;
        let latencies = [
            ("http", &self.latency.http),
            ("db", &self.latency.db),
            ("publish", &self.latency.publish),
            ("delivery", &self.latency.delivery),
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
            ] {
                check_at(ms, limit, &at(key))?;
            }
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
    /// The error, pointing at the key in `text`.
    pub(crate) fn into_error(self, text: &str, file: &Path) -> ScenarioError {
        let span = key_span(text, &self.path);
        located_error(text, file, span, Some(self.path_string()), self.message)
    }

    fn path_string(&self) -> String {
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

/// The span of the deepest part of `path` present in the document, so a validation error points
/// at the offending value, or at its table when the key was left to its default.
impl Scenario {
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
            f.duplicate_delivery,
            vec![Key("faults"), Key("duplicate-delivery")],
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
        }
        let replicas = self.topology.orders_replicas;
        let node_ok = |n: NodeName, path: Vec<Seg>| match n.0 {
            crate::exec::Node::Orders(k) if u32::from(k) > replicas => fail(
                path,
                format!("names {n}, but topology.orders-replicas is {replicas}"),
            ),
            _ => Ok(()),
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
        }
        for (name, windows) in [("pause", &f.pause), ("partition", &f.partition)] {
            for (i, w) in windows.iter().enumerate() {
                let at = |k| vec![Key("faults"), Key(name), Idx(i), Key(k)];
                node_ok(w.node, at("node"))?;
                start_ok(w.at_ms, at("at-ms"))?;
                if w.for_ms == 0 {
                    return fail(at("for-ms"), "must be at least 1".into());
                }
            }
        }
        Ok(())
    }
}

/// Deserialize a TOML document into `T`; a syntax error, an unknown key or a wrong type becomes
/// an error naming `file`, the line and column, and the key.
pub(crate) fn from_toml<T: serde::de::DeserializeOwned>(
    text: &str,
    file: &Path,
) -> Result<T, ScenarioError> {
    let de = toml::Deserializer::parse(text)
        .map_err(|e| located_error(text, file, e.span(), None, first_line(e.message())))?;
    serde_path_to_error::deserialize(de).map_err(|e| {
        let key = Some(e.path().to_string()).filter(|k| k != ".");
        let inner = e.into_inner();
        located_error(text, file, inner.span(), key, first_line(inner.message()))
    })
}

fn located_error(
    text: &str,
    file: &Path,
    span: Option<Range<usize>>,
    key: Option<String>,
    message: String,
) -> ScenarioError {
    let located = span.map(|span| locate(text, span));
    ScenarioError {
        file: file.to_owned(),
        position: located.as_ref().map(|l| l.0),
        key,
        message,
        snippet: located.map(|l| l.1),
    }
}

fn key_span(text: &str, path: &[Seg]) -> Option<Range<usize>> {
    let root = toml::de::DeTable::parse(text).ok()?;
    let mut span = None;
    let mut table = root.get_ref();
    let mut value: Option<&toml::de::DeValue<'_>> = None;
    for seg in path {
        let next = match (seg, value) {
            (Seg::Key(k), None) => table.get(*k),
            (Seg::Key(k), Some(v)) => v.get(*k),
            (Seg::Idx(i), Some(v)) => v.get(*i),
            (Seg::Idx(_), None) => None,
        };
        let Some(next) = next else { break };
        span = Some(next.span());
        value = Some(next.get_ref());
        if let toml::de::DeValue::Table(t) = next.get_ref() {
            table = t;
        }
    }
    span
}

/// The first line of a parser message, with Rust type names put in the scenario's terms.
fn first_line(message: &str) -> String {
    let line = message.lines().next().unwrap_or("").trim();
    line.replace(
        "expected u32",
        "expected a whole number from 0 to 4294967295",
    )
    .replace(
        "expected u64",
        "expected a whole number from 0 to 18446744073709551615",
    )
    .replace("expected f64", "expected a number")
}

/// 1-based (line, column) of `span.start`, and a two-line snippet with a caret underline.
fn locate(text: &str, span: Range<usize>) -> ((usize, usize), String) {
    let start = span.start.min(text.len());
    let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
    let line_end = text[start..].find('\n').map_or(text.len(), |i| start + i);
    let line_no = text[..start].matches('\n').count() + 1;
    let col = text[line_start..start].chars().count() + 1;
    let source = &text[line_start..line_end];
    let width = text[start..span.end.clamp(start, line_end)]
        .chars()
        .count()
        .max(1);
    let gutter = line_no.to_string().len();
    let snippet = format!(
        "{:gutter$} |\n{line_no} | {source}\n{:gutter$} | {}{}",
        "",
        "",
        " ".repeat(col - 1),
        "^".repeat(width)
    );
    ((line_no, col), snippet)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locate_points_at_the_span() {
        let text = "a = 1\nbb = -5\n";
        let ((line, col), snippet) = locate(text, 11..13);
        assert_eq!((line, col), (2, 6));
        assert_eq!(snippet, "  |\n2 | bb = -5\n  |      ^^");
    }
}
