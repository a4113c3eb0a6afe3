//! The scenario file's schema (DESIGN §7): what a run simulates, as typed values with their
//! defaults.
//!
//! A scenario names itself, says what it teaches, and declares the topology, the latency
//! distributions, the limits, the faults, a scripted workload and its expectations per OCC
//! mode. Keys are kebab-case and carry their unit last (`ack-wait-ms`, `min-us`); unknown keys
//! are errors. Every key is listed in `docs/scenarios.md` with its type, default and range (a
//! test keeps the two in step). Ranges are checked in [`crate::scenario::limits`]; reading and
//! error messages are [`crate::scenario::parse`]'s.

use crate::model::documents::{Price, EXPIRATION_WINDOW_MS};
use crate::model::node::Node;
use crate::model::services::Later;
use crate::scenario::cure::CureTable;
pub use crate::scenario::cure::Cures;
use crate::scenario::expect::Expectations;
use crate::scenario::explore::ExploreTable;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::ops::Range;
use std::path::PathBuf;

/// One scenario, as parsed and validated.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Scenario {
    /// The file it was loaded from, as given (used in the command that reproduces a run).
    #[serde(skip)]
    pub source: PathBuf,
    /// Whether this is the file's `[explore]` scope rather than the whole file
    /// ([`Scenario::scoped`]): the commands that reproduce its runs say `--scoped`.
    #[serde(skip)]
    pub is_scope: bool,
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
    /// Design changes beyond the course that cure a race, each off by default.
    #[serde(default, skip_serializing_if = "Cures::is_none")]
    pub cures: Cures,
    /// What cures the race: a mode, `[cures]` switches, or why none is modelled. It changes no
    /// run; left out, a scenario serializes as it did before the table existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cure: Option<CureTable>,
    /// How every service's process runs: its Node.js version's unhandled rejections, and its
    /// restart.
    #[serde(default)]
    pub services: Services,
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
    /// A small scope to explore every schedule of, and what each mode shows within its bound.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub explore: Option<ExploreTable>,
}

impl Scenario {
    /// This scenario cut down to `table`'s scope (its `[explore]` table's, usually).
    pub fn scoped(&self, table: &ExploreTable) -> Scenario {
        let mut s = self.clone();
        if let Some(r) = table.replicas {
            s.topology.orders_replicas = r;
        }
        let w = &mut s.workload;
        for c in &mut w.create_tickets {
            if let Some(t) = table.tickets {
                c.count = t;
            }
        }
        for c in &mut w.price_chain {
            if let Some(t) = table.tickets {
                c.tickets = t;
            }
            if let Some(u) = table.updates {
                c.updates.truncate(u as usize);
            }
        }
        for r in &mut w.reserve {
            if let Some(t) = table.tickets {
                r.tickets = t;
            }
            if let Some(u) = table.updates {
                r.price_updates.truncate(u as usize);
            }
            if let Some(o) = table.orders {
                r.orders = o;
            }
        }
        s.explore = None;
        s.is_scope = true;
        s
    }
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
    /// Whether the expiration service (section 20) runs: it expires every order
    /// `expiration-window-ms` after its creation (default false: section 19's system).
    #[serde(default, skip_serializing_if = "is_false")]
    pub expiration_service: bool,
    /// Whether the payments service (section 21) runs; a `pay-after-ms` step needs it
    /// (default false).
    #[serde(default, skip_serializing_if = "is_false")]
    pub payments_service: bool,
    /// How long a new order holds its ticket, in milliseconds (default 60000, the course's
    /// `EXPIRATION_WINDOW_SECONDS` from section 20 on).
    #[serde(
        default = "default_expiration_window_ms",
        skip_serializing_if = "is_default_expiration_window"
    )]
    pub expiration_window_ms: u64,
}

fn is_false(b: &bool) -> bool {
    !*b
}
fn default_expiration_window_ms() -> u64 {
    EXPIRATION_WINDOW_MS
}
fn is_default_expiration_window(ms: &u64) -> bool {
    *ms == EXPIRATION_WINDOW_MS
}

impl Topology {
    /// Which of the later services run.
    pub fn later(&self) -> Later {
        Later {
            expiration: self.expiration_service,
            payments: self.payments_service,
        }
    }
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
            expiration_service: false,
            payments_service: false,
            expiration_window_ms: EXPIRATION_WINDOW_MS,
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

/// `[services]`: the runtime every service's process runs on.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Services {
    /// What a listener that throws does to its process (default "warn", as under the Node 14
    /// the course ran).
    #[serde(default)]
    pub unhandled_rejection: UnhandledRejection,
    /// From a container's restart to its service handling work again: ts-node-dev compiling,
    /// connecting to NATS and MongoDB (default 5000 ms). Kubernetes's back-off comes on top.
    #[serde(default = "default_startup_ms")]
    pub startup_ms: u64,
}

fn default_startup_ms() -> u64 {
    5000
}

impl Default for Services {
    fn default() -> Self {
        Self {
            unhandled_rejection: UnhandledRejection::default(),
            startup_ms: default_startup_ms(),
        }
    }
}

/// What a promise rejected with no handler does to a Node.js process. The course's listeners
/// call `onMessage` without `await` or `catch` (common `src/events/base-listener.ts` 36-41),
/// so a listener that throws is an unhandled rejection.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum UnhandledRejection {
    /// Node 14 and earlier: a warning; the process runs on.
    #[default]
    Warn,
    /// Node 15 and later (`--unhandled-rejections=throw` by default): the process exits and
    /// Kubernetes restarts its container.
    Exit,
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
    /// The payments service's charge at the card processor, a round trip (default 200–600 ms).
    #[serde(default = "default_charge", skip_serializing_if = "is_default_charge")]
    pub charge: Latency,
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
fn default_charge() -> Latency {
    Latency::uniform(200_000, 600_000)
}
fn is_default_charge(l: &Latency) -> bool {
    *l == default_charge()
}

impl Default for Latencies {
    fn default() -> Self {
        Self {
            http: default_http(),
            db: default_db(),
            publish: default_publish(),
            delivery: default_delivery(),
            charge: default_charge(),
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
    /// Probability that a publisher retries a publish the bus had already stored, so that the
    /// bus holds it twice, under two sequence numbers (default 0). Beyond the course: its
    /// publisher never retries, and its duplicates are redeliveries of one sequence number.
    /// `duplicate-delivery`, its name before it said so, is still read.
    #[serde(alias = "duplicate-delivery")]
    #[serde(default, skip_serializing_if = "is_zero")]
    pub publisher_retry: f64,
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
    /// A node is cut off from NATS for an interval: what crosses its connection waits until
    /// the partition ends; a long one ends the process (its client closes).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub partition: Vec<Window>,
}

impl Faults {
    /// Whether the scenario injects any fault.
    pub fn any(&self) -> bool {
        self != &Faults::default()
    }
    /// Whether the scenario crashes a node (`crash` or `crash-rate`): an exploration anchors
    /// those to events.
    pub fn has_crashes(&self) -> bool {
        !self.crash.is_empty() || self.crash_rate.is_some()
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
pub struct NodeName(pub Node);

impl fmt::Display for NodeName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl std::str::FromStr for NodeName {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "tickets" => return Ok(NodeName(Node::Tickets)),
            "expiration" => return Ok(NodeName(Node::Expiration)),
            "payments" => return Ok(NodeName(Node::Payments)),
            _ => {}
        }
        s.strip_prefix("orders-")
            .and_then(|n| n.parse::<u8>().ok())
            .filter(|&n| n >= 1)
            .map(|n| NodeName(Node::Orders(n)))
            .ok_or_else(|| {
                format!(
                    "`{s}` is not a node: write \"tickets\", \"orders-N\" (N from 1), \
                     \"expiration\" or \"payments\""
                )
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
    /// Pay for each placed order this long after its response (default: never; needs
    /// `[topology] payments-service = true`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pay_after_ms: Option<u64>,
    /// This long after the ticket's orders are sent, one more user orders it (default:
    /// nobody); that order is paid as `pay-after-ms` says, and never cancelled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reorder_after_ms: Option<u64>,
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

impl Scenario {
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
                let per_order = |on: Option<u64>| u64::from(on.is_some());
                let orders = u64::from(r.orders) + per_order(r.reorder_after_ms);
                let cancels = u64::from(r.orders) * per_order(r.cancel_after_ms);
                let payments = orders * per_order(r.pay_after_ms);
                u64::from(r.tickets)
                    * (1 + orders + r.price_updates.len() as u64 + cancels + payments)
            })
            .sum();
        creates + chains + reserves
    }
}
