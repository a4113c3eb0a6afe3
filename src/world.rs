//! All mutable state of one run, and the run itself.
//!
//! One [`World`] per run holds the executor, both databases, the bus, the tickets service's id
//! counter and the trace, each behind its own `RefCell` that is never held across an await.
//! [`run`] builds a world inside a fresh madsim runtime seeded with the run's seed, starts the
//! bus's sweepers and the workload's clients, runs the executor until nothing is left to do or a
//! limit is hit, and hands the trace to [`crate::check`].

use crate::bus::{self, Bus, Listener};
use crate::check::{Checker, Ending};
use crate::domain::{
    Document, Occ, Order, OrderId, Price, ReplicaTicket, Subject, Ticket, TicketId, UserId,
};
use crate::exec::{Executor, Node, Oneshot};
use crate::report::Report;
use crate::scenario::{Faults, Latencies, Latency, Pace, Reserve, Scenario};
use crate::services::{self, Request, Response};
use crate::store::{ById, Collection, Db, Save, WriteError};
use crate::trace::{Cause, Event, Record, Trace, Traced};
use std::cell::{Cell, RefCell};
use std::rc::{Rc, Weak};

/// Task polls after which a run is abandoned as runaway. Far above any valid scenario's need
/// (the largest allowed workload takes ~40 M), so hitting it means a model bug, reported as such.
pub const MAX_STEPS: u64 = 500_000_000;

/// The simulated system of one run.
pub struct World {
    /// The scheduler.
    pub exec: Rc<Executor>,
    /// The concurrency-control mode.
    pub occ: Occ,
    latency: Latencies,
    /// The tickets service's `tickets` collection.
    pub tickets_db: RefCell<Collection<Ticket>>,
    /// The orders service's `tickets` collection, shared by its replicas.
    pub orders_db: RefCell<Collection<ReplicaTicket>>,
    /// The orders service's `orders` collection, in the same database.
    pub orders: RefCell<Collection<Order>>,
    /// The ids of each ticket's orders, in the order they were inserted: the index the
    /// is-reserved query reads instead of scanning every order (MongoDB would use one too).
    orders_by_ticket: RefCell<ById<Vec<OrderId>>>,
    /// Whether the tickets service publishes `ticket:updated` after reserving a ticket.
    pub publish_on_reserve: bool,
    /// NATS Streaming.
    pub bus: Bus,
    trace: RefCell<Trace>,
    /// The checks, fed each record as it is recorded (the trace may not keep it).
    checker: RefCell<Checker>,
    faults: Faults,
    /// Nodes cut off from the bus.
    partitioned: RefCell<Vec<Node>>,
    /// Faults have stopped.
    healed: Cell<bool>,
    /// The orders replicas, in the queue groups' member order.
    replicas: Vec<Node>,
    next_ticket_id: Cell<TicketId>,
    next_order_id: Cell<OrderId>,
    open_requests: Cell<u64>,
    me: Weak<World>,
}

impl World {
    /// A world at time 0 with the scenario's topology, drawing from madsim's RNG, that keeps
    /// its whole trace. Must be called inside a madsim runtime.
    pub fn new(scenario: &Scenario, occ: Occ) -> Rc<World> {
        // About seven records per request in a fault-free run: growing the trace by doubling
        // copied it over and over (memmove was 5% of a run).
        let records = (scenario.total_requests() as usize)
            .saturating_mul(8)
            .min(1 << 22);
        World::recording(scenario, occ, Trace::with_capacity(records))
    }

    /// A world as [`World::new`] makes, recording into `trace` (which may keep only a digest:
    /// [`Trace::digest_only`]).
    pub fn recording(scenario: &Scenario, occ: Occ, trace: Trace) -> Rc<World> {
        // madsim's `thread_rng` is not rand's OS-seeded one: it is the runtime's single RNG,
        // seeded with the run's seed. The executor draws the same stream without its lock
        // (`exec::SimRng`).
        let seed = madsim::runtime::Handle::current().seed();
        let exec = Rc::new(Executor::new(madsim::rand::thread_rng(), seed));
        let replicas: Vec<Node> = (1..=scenario.topology.orders_replicas)
            .map(|n| Node::Orders(n as u8))
            .collect();
        let mut groups = vec![
            (
                "orders-service",
                Subject::TicketCreated,
                Listener::OrdersTicketCreated,
                replicas.clone(),
            ),
            (
                "orders-service",
                Subject::TicketUpdated,
                Listener::OrdersTicketUpdated,
                replicas.clone(),
            ),
        ];
        // The tickets service's order listeners subscribe only when orders can be placed: an
        // idle subscription's timer task would change the draws of scenarios without orders.
        if !scenario.workload.reserve.is_empty() {
            groups.push((
                "tickets-service",
                Subject::OrderCreated,
                Listener::TicketsOrderCreated,
                vec![Node::Tickets],
            ));
            groups.push((
                "tickets-service",
                Subject::OrderCancelled,
                Listener::TicketsOrderCancelled,
                vec![Node::Tickets],
            ));
        }
        let bus = Bus::new(
            groups,
            scenario.topology.ack_wait_ms * 1000,
            scenario.limits.deliveries_per_message,
        );
        Rc::new_cyclic(|me| World {
            exec,
            occ,
            latency: scenario.latency.clone(),
            tickets_db: RefCell::new(Collection::new(Db::Tickets)),
            orders_db: RefCell::new(Collection::new(Db::Orders)),
            orders: RefCell::new(Collection::new(Db::Orders)),
            orders_by_ticket: RefCell::new(ById::default()),
            publish_on_reserve: scenario.tickets_service.publish_on_reserve,
            bus,
            trace: RefCell::new(trace),
            checker: RefCell::new(Checker::new(&scenario.expect.properties())),
            faults: scenario.faults.clone(),
            partitioned: RefCell::new(Vec::new()),
            healed: Cell::new(false),
            replicas,
            next_ticket_id: Cell::new(1),
            next_order_id: Cell::new(1),
            open_requests: Cell::new(0),
            me: me.clone(),
        })
    }

    /// A counted handle to this world, for futures that outlive the current borrow.
    pub fn handle(&self) -> Rc<World> {
        self.me.upgrade().expect("the world outlives its tasks")
    }

    /// The latency distributions.
    pub fn latency(&self) -> &Latencies {
        &self.latency
    }

    /// A draw from a latency distribution, in microseconds.
    pub fn draw(&self, latency: &Latency) -> u64 {
        match latency.slow_max_us {
            Some(slow) if self.exec.gen_bool(latency.slow_probability) => {
                self.exec.gen_range(latency.max_us..slow + 1)
            }
            _ => self.exec.gen_range(latency.range()),
        }
    }

    /// A uniform choice among `n` options.
    pub fn pick(&self, n: usize) -> usize {
        self.exec.gen_range(0..n as u64) as usize
    }

    /// The scenario's faults.
    pub fn faults(&self) -> &Faults {
        &self.faults
    }

    /// A fault with probability `p` strikes now. Draws from the RNG only while faults are live
    /// and `p > 0`, so a scenario without the fault makes exactly the draws it made before the
    /// fault existed.
    pub fn strikes(&self, p: f64) -> bool {
        p > 0.0 && !self.healed.get() && self.exec.gen_bool(p)
    }

    /// Whether `node` is cut off from the bus.
    pub fn is_partitioned(&self, node: Node) -> bool {
        self.partitioned.borrow().contains(&node)
    }

    /// The `slow-handler` fault: maybe stall `replica`'s listener here, mid-handler.
    pub async fn stall(&self, replica: Node) {
        let Some(slow) = self.faults.slow_handler else {
            return;
        };
        if self.strikes(slow.probability) {
            let ms = self.exec.gen_range(slow.min_ms..slow.max_ms + 1);
            self.record(replica, Event::Stall { replica, ms });
            self.exec.sleep(ms * 1000).await;
        }
    }

    /// Append to the trace at the current simulated time.
    pub fn record(&self, node: Node, event: Event) {
        tracing::debug!(target: "ticketsim::trace", %node, ?event);
        let record = Record {
            t_us: self.exec.now_us(),
            node,
            event,
        };
        self.checker.borrow_mut().observe(&record);
        self.trace.borrow_mut().push(record);
    }

    /// The id the tickets service gives its next ticket.
    pub fn next_ticket_id(&self) -> TicketId {
        let id = self.next_ticket_id.get();
        self.next_ticket_id.set(id + 1);
        id
    }

    /// The id the orders service gives its next order.
    pub fn next_order_id(&self) -> OrderId {
        let id = self.next_order_id.get();
        self.next_order_id.set(id + 1);
        id
    }

    /// The orders replicas.
    pub fn replicas(&self) -> &[Node] {
        &self.replicas
    }

    /// Requests sent and not yet answered.
    pub fn open_requests(&self) -> u64 {
        self.open_requests.get()
    }

    async fn db_latency(&self) {
        let latency = self.draw(&self.latency.db);
        self.exec.sleep(latency).await;
    }

    /// `findById` after the database latency.
    pub async fn find<D: Document>(
        &self,
        collection: &RefCell<Collection<D>>,
        id: u32,
    ) -> Option<D> {
        self.db_latency().await;
        collection.borrow().find(id)
    }

    /// The orders service's `isReserved` query after the database latency: an order for
    /// `ticket` whose status reserves it (the first, by id).
    pub async fn find_reserving_order(&self, ticket: TicketId) -> Option<OrderId> {
        self.db_latency().await;
        let orders = self.orders.borrow();
        let index = self.orders_by_ticket.borrow();
        index
            .get(ticket)?
            .iter()
            .copied()
            .filter(|&id| orders.get(id).is_some_and(|o| o.status.reserves()))
            .min()
    }

    /// The orders service's order `insert`, which also indexes the order by its ticket.
    pub async fn insert_order(
        &self,
        node: Node,
        by: Cause,
        order: Order,
    ) -> Result<Order, WriteError> {
        let saved = self.insert(node, by, &self.orders, order).await?;
        self.orders_by_ticket
            .borrow_mut()
            .entry(saved.ticket)
            .get_or_insert_with(Vec::new)
            .push(saved.id);
        Ok(saved)
    }

    /// `insert` after the database latency, recorded as `db.write` or `db.conflict`.
    pub async fn insert<D: Document + Traced>(
        &self,
        node: Node,
        by: Cause,
        collection: &RefCell<Collection<D>>,
        doc: D,
    ) -> Result<D, WriteError> {
        self.db_latency().await;
        let db = collection.borrow().db();
        let result = collection.borrow_mut().insert(doc.clone());
        match result {
            Ok(stored) => {
                self.record(node, stored.write_line(db, by));
                Ok(stored)
            }
            Err(error) => {
                self.record(node, doc.conflict_line(db, by, error));
                Err(error)
            }
        }
    }

    /// `save` of `doc`, read as `read`, after the database latency; conditional when OCC is
    /// on. Returns the writer's copy as mongoose's `save()` resolves it.
    pub async fn save<D: Document + Traced>(
        &self,
        node: Node,
        by: Cause,
        collection: &RefCell<Collection<D>>,
        read: &D,
        doc: D,
    ) -> Result<D, WriteError> {
        let mode = if self.occ.versioned() {
            Save::Conditional
        } else {
            Save::Overwrite
        };
        self.save_with(node, by, collection, read, doc, mode).await
    }

    /// `save` after the database latency, in the given mode.
    pub async fn save_with<D: Document + Traced>(
        &self,
        node: Node,
        by: Cause,
        collection: &RefCell<Collection<D>>,
        read: &D,
        doc: D,
        mode: Save,
    ) -> Result<D, WriteError> {
        self.db_latency().await;
        let db = collection.borrow().db();
        let attempt = doc.clone();
        let result = collection.borrow_mut().save(read, doc, mode);
        match result {
            Ok(saved) => {
                self.record(node, saved.stored.write_line(db, by));
                Ok(saved.doc)
            }
            Err(error) => {
                self.record(node, attempt.conflict_line(db, by, error));
                Err(error)
            }
        }
    }

    /// Send `request` to its service and wait for the response; `None` if the service dropped
    /// the request (it was down, or crashed while handling it). Requests to the orders service
    /// go to a replica chosen at random, as the cluster's load balancer does.
    pub async fn http(&self, request: Request) -> Option<Response> {
        self.open_requests.set(self.open_requests.get() + 1);
        let (reply, response) = Oneshot::channel(&self.exec);
        let world = self.handle();
        let node = if request.route().is_orders() {
            self.replicas[self.pick(self.replicas.len())]
        } else {
            Node::Tickets
        };
        self.exec.spawn(node, async move {
            let latency = world.draw(&world.latency.http);
            world.exec.sleep(latency).await;
            let (route, price) = (request.route(), request.price());
            let response = services::serve(&world, node, request).await;
            world.record(
                node,
                Event::Http {
                    request: route,
                    ticket: response.ticket,
                    order: response.order,
                    price,
                    status: response.status,
                },
            );
            reply.send(response);
        });
        let response = response.recv(&self.exec).await;
        self.open_requests.set(self.open_requests.get() - 1);
        response
    }

    /// Spawn the bus's ack-wait sweepers, the fault injector and the workload's clients.
    pub fn start(&self, scenario: &Scenario) {
        self.start_bus();
        self.start_faults();
        self.start_workload(scenario);
    }

    /// Spawn the tasks that crash, pause, partition and heal nodes on the scenario's schedule.
    pub fn start_faults(&self) {
        let f = &self.faults;
        for c in &f.crash {
            let (node, at, down) = (c.node.0, c.at_ms * 1000, c.restart_after_ms * 1000);
            self.at(at, move |w| {
                w.crash(node);
                w.at(w.until_heal(w.exec.now_us() + down), move |w| {
                    w.restart(node)
                });
            });
        }
        for p in &f.pause {
            let (node, at, len) = (p.node.0, p.at_ms * 1000, p.for_ms);
            self.at(at, move |w| {
                w.exec.pause(node);
                w.record(
                    Node::Faults,
                    Event::Pause {
                        target: node,
                        for_ms: len,
                    },
                );
                w.at(w.until_heal(w.exec.now_us() + len * 1000), move |w| {
                    w.resume(node)
                });
            });
        }
        for p in &f.partition {
            let (node, at, len) = (p.node.0, p.at_ms * 1000, p.for_ms);
            self.at(at, move |w| {
                w.partitioned.borrow_mut().push(node);
                w.record(
                    Node::Faults,
                    Event::Partition {
                        target: node,
                        for_ms: len,
                    },
                );
                w.at(w.until_heal(w.exec.now_us() + len * 1000), move |w| {
                    w.end_partition(node)
                });
            });
        }
        if let (Some(rate), Some(heal_ms)) = (f.crash_rate, f.heal_at_ms) {
            let world = self.handle();
            let replicas = self.replicas.len() as u64;
            self.exec.spawn(Node::Faults, async move {
                let mean_us = rate.mean_interval_ms as f64 * 1000.0;
                loop {
                    // Exponential gaps: a Poisson process of crashes.
                    let u = world.exec.gen_range(0..1 << 53) as f64 / (1u64 << 53) as f64;
                    let gap = (-mean_us * (1.0 - u).ln()) as u64;
                    let at = world.exec.now_us() + gap.max(1);
                    if at >= heal_ms * 1000 {
                        break;
                    }
                    world.exec.sleep_until(at).await;
                    let node = world.replicas[world.exec.gen_range(0..replicas) as usize];
                    if !world.exec.is_down(node) {
                        world.crash(node);
                        let back =
                            world.until_heal(world.exec.now_us() + rate.restart_after_ms * 1000);
                        world.at(back, move |w| w.restart(node));
                    }
                }
            });
        }
        if let Some(heal_ms) = f.heal_at_ms {
            self.at(heal_ms * 1000, |w| w.heal());
        }
    }

    /// `t_us`, or the heal if that comes first: a fault's end is never scheduled after the heal,
    /// which ends it anyway, so no leftover timer keeps a healed run alive.
    fn until_heal(&self, t_us: u64) -> u64 {
        self.faults.heal_at_ms.map_or(t_us, |h| t_us.min(h * 1000))
    }

    /// Run `f` on the fault injector's node at `at_us`.
    fn at(&self, at_us: u64, f: impl FnOnce(&World) + 'static) {
        let world = self.handle();
        self.exec.spawn(Node::Faults, async move {
            world.exec.sleep_until(at_us).await;
            f(&world);
        });
    }

    fn crash(&self, node: Node) {
        if self.healed.get() {
            return;
        }
        let dropped_tasks = self.exec.crash(node);
        self.record(
            Node::Faults,
            Event::Crash {
                target: node,
                dropped_tasks,
            },
        );
    }

    fn restart(&self, node: Node) {
        if self.exec.is_down(node) {
            self.exec.restart(node);
            self.record(Node::Faults, Event::Restart { target: node });
        }
    }

    fn resume(&self, node: Node) {
        if self.exec.is_paused(node) {
            self.exec.resume(node);
            self.record(Node::Faults, Event::Resume { target: node });
        }
    }

    fn end_partition(&self, node: Node) {
        let was = self.is_partitioned(node);
        self.partitioned.borrow_mut().retain(|&n| n != node);
        if was {
            self.record(Node::Faults, Event::PartitionHealed { target: node });
        }
    }

    /// Faults stop: every node is restarted, resumed and reconnected.
    fn heal(&self) {
        self.healed.set(true);
        self.record(Node::Faults, Event::Heal);
        for &node in [Node::Tickets].iter().chain(&self.replicas) {
            self.restart(node);
            self.resume(node);
            self.end_partition(node);
        }
    }

    /// Spawn the bus's ack-wait sweepers (one per subscription).
    pub fn start_bus(&self) {
        for group in 0..self.bus.group_count() {
            let world = self.handle();
            self.exec
                .spawn(Node::Bus, async move { bus::sweep(&world, group).await });
        }
    }

    /// Spawn the clients of the scenario's workload.
    pub fn start_workload(&self, scenario: &Scenario) {
        let mut user: UserId = 0;
        let chains = scenario.workload.price_chain.iter().map(|c| {
            (
                c.at_ms,
                c.tickets,
                &c.title,
                c.price,
                c.updates.as_slice(),
                c.pace,
                c.think_ms,
            )
        });
        let creates = scenario.workload.create_tickets.iter().map(|c| {
            (
                c.at_ms,
                c.count,
                &c.title,
                c.price,
                &[][..],
                Pace::AfterResponse,
                0,
            )
        });
        for (at_ms, tickets, title, price, updates, pace, think_ms) in creates.chain(chains) {
            let title: Rc<str> = title.as_str().into();
            let updates: Rc<[Price]> = updates.into();
            let first_user = user;
            user += tickets;
            let world = self.handle();
            self.exec.spawn(Node::Client, async move {
                world.exec.sleep_until(at_ms * 1000).await;
                for i in 0..tickets {
                    let chain = Chain {
                        title: title.clone(),
                        price,
                        updates: updates.clone(),
                        pace,
                        think_ms,
                        user_id: first_user + i + 1,
                    };
                    let w = world.clone();
                    world
                        .exec
                        .spawn(Node::Client, async move { chain.run(&w).await });
                }
            });
        }
        for step in &scenario.workload.reserve {
            let script = Rc::new(ReserveScript::new(step, user));
            user += step.tickets * (1 + step.orders);
            let world = self.handle();
            self.exec.spawn(Node::Client, async move {
                world.exec.sleep_until(script.at_ms * 1000).await;
                for i in 0..script.tickets {
                    let (w, script) = (world.clone(), script.clone());
                    world
                        .exec
                        .spawn(Node::Client, async move { script.run(&w, i).await });
                }
            });
        }
    }

    /// The trace so far.
    pub fn trace(&self) -> std::cell::Ref<'_, Trace> {
        self.trace.borrow()
    }

    fn take_trace(&self) -> Trace {
        std::mem::take(&mut self.trace.borrow_mut())
    }
}

/// A client's `POST /api/tickets`: the new ticket's id, if it was created.
async fn create_ticket(
    world: &World,
    title: &Rc<str>,
    price: Price,
    user_id: UserId,
) -> Option<TicketId> {
    let create = Request::CreateTicket {
        title: title.clone(),
        price,
        user_id,
    };
    match world.http(create).await {
        Some(Response {
            status: 201,
            ticket: Some(id),
            ..
        }) => Some(id),
        _ => None,
    }
}

/// One client's script: create a ticket, then update its price through `updates`.
struct Chain {
    title: Rc<str>,
    price: Price,
    updates: Rc<[Price]>,
    pace: Pace,
    think_ms: u64,
    user_id: UserId,
}

impl Chain {
    async fn run(self, world: &World) {
        let Some(id) = create_ticket(world, &self.title, self.price, self.user_id).await else {
            return;
        };
        for &price in self.updates.iter() {
            let update = Request::UpdateTicket {
                id,
                title: self.title.clone(),
                price,
            };
            match self.pace {
                // The course's script sends the next update whatever the previous status was.
                Pace::AfterResponse => {
                    // No sleep at all when there is no think time: even a zero-length sleep is
                    // an interleaving point, and would change every pinned run.
                    if self.think_ms > 0 {
                        world.exec.sleep(self.think_ms * 1000).await;
                    }
                    world.http(update).await;
                }
                Pace::Burst => {
                    let w = world.handle();
                    world.exec.spawn(Node::Client, async move {
                        w.http(update).await;
                    });
                }
            }
        }
    }
}

/// A `[[workload.reserve]]` step: per ticket, create it, wait, then send the orders (and any
/// racing price updates) at once, and cancel each order that succeeded if asked to.
struct ReserveScript {
    at_ms: u64,
    tickets: u32,
    title: Rc<str>,
    price: Price,
    orders: u32,
    wait_ms: u64,
    updates: Vec<Price>,
    update_delay_ms: u64,
    cancel_after_ms: Option<u64>,
    first_user: UserId,
}

impl ReserveScript {
    fn new(step: &Reserve, first_user: UserId) -> Self {
        Self {
            at_ms: step.at_ms,
            tickets: step.tickets,
            title: step.title.as_str().into(),
            price: step.price,
            orders: step.orders,
            wait_ms: step.wait_ms,
            updates: step.price_updates.clone(),
            update_delay_ms: step.update_delay_ms,
            cancel_after_ms: step.cancel_after_ms,
            first_user,
        }
    }

    /// The script of the `i`th ticket. Its owner is one user, each of its orders another.
    async fn run(self: Rc<Self>, world: &World, i: u32) {
        let owner = self.first_user + 1 + i * (1 + self.orders);
        let Some(id) = create_ticket(world, &self.title, self.price, owner).await else {
            return;
        };
        world.exec.sleep(self.wait_ms * 1000).await;
        for n in 0..self.orders {
            let (w, cancel_after_ms) = (world.handle(), self.cancel_after_ms);
            let order = Request::CreateOrder {
                ticket: id,
                user_id: owner + 1 + n,
            };
            world.exec.spawn(Node::Client, async move {
                let response = w.http(order).await;
                if let (
                    Some(Response {
                        status: 201,
                        order: Some(order),
                        ..
                    }),
                    Some(after),
                ) = (response, cancel_after_ms)
                {
                    w.exec.sleep(after * 1000).await;
                    w.http(Request::CancelOrder { order }).await;
                }
            });
        }
        for &price in &self.updates {
            let (w, delay) = (world.handle(), self.update_delay_ms);
            let update = Request::UpdateTicket {
                id,
                title: self.title.clone(),
                price,
            };
            world.exec.spawn(Node::Client, async move {
                w.exec.sleep(delay * 1000).await;
                w.http(update).await;
            });
        }
    }
}

/// The result of one run: its report and its full trace.
pub struct RunResult {
    /// What happened, judged.
    pub report: Report,
    /// Every step, in order.
    pub trace: Trace,
}

/// Run `scenario` under `seed` in mode `occ`, in a fresh madsim runtime.
pub fn run(scenario: &Scenario, seed: u64, occ: Occ) -> RunResult {
    in_runtime(seed, || {
        simulate(World::new(scenario, occ), scenario, seed, occ)
    })
}

/// [`run`]'s report alone, faster: the trace's records are checked and hashed as they are
/// made, and not kept. Sweeps and shrinking run this; the report is the one [`run`] gives.
pub fn run_report(scenario: &Scenario, seed: u64, occ: Occ) -> Report {
    in_runtime(seed, || {
        let world = World::recording(scenario, occ, Trace::digest_only());
        simulate(world, scenario, seed, occ).report
    })
}

fn in_runtime<T>(seed: u64, f: impl FnOnce() -> T) -> T {
    let runtime = madsim::runtime::Runtime::with_seed_and_config(seed, madsim::Config::default());
    runtime.block_on(async { f() })
}

/// The body of [`run`]: start `world` (new, inside a madsim runtime), run it to its end and
/// judge it.
pub fn simulate(world: Rc<World>, scenario: &Scenario, seed: u64, occ: Occ) -> RunResult {
    world.start(scenario);
    let limit_us = scenario.limits.sim_time_ms * 1000;
    let halt = world.exec.run(limit_us, MAX_STEPS);
    let ending = Ending {
        halt,
        unacked: world.bus.unacked(),
        open_requests: world.open_requests(),
        now_us: world.exec.now_us(),
    };
    // Futures hold handles to the world; dropping them frees the run's memory.
    world.exec.clear();
    let trace = world.take_trace();
    let findings = world
        .checker
        .replace(Checker::new(&[]))
        .finish(occ, &ending);
    let report = Report::new(scenario, seed, occ, findings, &trace, &ending);
    RunResult { report, trace }
}
