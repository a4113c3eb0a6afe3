//! All mutable state of one run: the executor, both services' databases, the NATS server, the
//! faults in force and the trace.
//!
//! Each piece sits behind its own `RefCell` that is never held across an await. The world
//! also carries out the model's database calls for a handler ([`World::find`],
//! [`World::insert`], [`World::save_with`]): each is a round trip of a latency drawn from the
//! scenario, applied at the server halfway (atomically, and recorded there) and answered at
//! the end, so a caller can die between its write and hearing of it. Who runs when is
//! [`crate::sim::exec`]'s business; what travels over NATS is [`crate::sim::bus`]'s.

use crate::model::bull::{Job, JobId, Queue, Stalled};
use crate::model::databases::{Databases, DocKind, Stored};
use crate::model::documents::{ChargeId, OrderId, PaymentId, Price, TicketId};
use crate::model::http::Cause;
use crate::model::nats::Bus;
use crate::model::node::{Node, PROCESS_SLOTS};
use crate::model::occ::Occ;
use crate::model::services::{subscriptions, Later};
use crate::model::store::{Save, WriteError};
use crate::scenario::schema::{Faults, Latencies, Latency, Scenario, Services};
use crate::sim::exec::Executor;
use crate::sim::footprint::Resource;
use crate::sim::nats::Nats;
use crate::sim::record::{Event, Record};
use crate::sim::session::{Conn, Connections, Lives, SessionEvent};
use crate::sim::sync::Signal;
use crate::sim::tape::{ChoiceKind, ChoiceOf};
use crate::sim::trace::{Observer, Trace};
use crate::sim::traced::Traced;
use std::cell::{Cell, RefCell};
use std::future::Future;
use std::rc::{Rc, Weak};

/// The simulated system of one run.
pub struct World {
    /// The scheduler.
    pub exec: Rc<Executor>,
    /// The concurrency-control mode.
    pub occ: Occ,
    latency: Latencies,
    /// Both services' databases: reached through the database calls here and in `sim::relay`,
    /// which name what they touch (`sim::footprint`), or [`World::databases`].
    pub(super) dbs: Databases,
    /// Whether the tickets service publishes `ticket:updated` after reserving a ticket.
    pub publish_on_reserve: bool,
    /// Whether the tickets service's order listeners take an order's events in order
    /// (`[cures] ordered-order-events`).
    pub ordered_order_events: bool,
    /// Which of the later services run.
    pub later: Later,
    /// Whether the later services check an order's status (`[cures] status-guards`).
    pub status_guards: bool,
    /// How long a new order holds its ticket, in ms.
    pub expiration_window_ms: u64,
    /// The expiration service's Bull queue, in its Redis.
    queue: RefCell<Queue>,
    /// The wake-up of the expiration service's Bull worker (a job fell due).
    queue_wake: Signal,
    /// The card processor's next charge id.
    next_charge_id: Cell<ChargeId>,
    /// `[cures] transactional-outbox`: the tickets service stores its events for a relay.
    pub transactional_outbox: bool,
    /// The wake-up of the tickets service's current relay ([`crate::sim::relay`]).
    pub(super) relay_wake: RefCell<Rc<Signal>>,
    /// The NATS Streaming server: reached through [`World::nats`].
    bus: Bus,
    /// Per queue group, the wake-up of its ack-wait sweeper (when its first deadline appears).
    sweepers: Vec<Signal>,
    trace: RefCell<Trace>,
    /// What watches each record as it is recorded (the checks; the trace may not keep it).
    observer: Rc<RefCell<dyn Observer>>,
    faults: Faults,
    services: Services,
    /// Service processes that exited on their own, for Kubernetes's back-off.
    pub lives: Lives,
    /// Each service process's NATS Streaming session.
    pub conns: Connections,
    /// Who follows what happens to a process's session (`sim::connection`, which sits above
    /// the world and so is handed in at the start of a run rather than imported).
    session: Cell<Option<FollowSession>>,
    /// Each scheduled partition: the node, from, until (the heal cuts it short).
    partition_windows: Vec<(Node, u64, u64)>,
    /// Nodes whose partition the trace has announced and not yet seen end (which nodes are
    /// cut off is [`World::is_partitioned`]'s business, from the scenario's windows).
    pub(super) partitioned: RefCell<Vec<Node>>,
    /// Faults have stopped.
    pub(super) healed: Cell<bool>,
    /// The orders replicas, in the queue groups' member order.
    replicas: Vec<Node>,
    open_requests: Cell<u64>,
    /// The ingress's round robin over the orders replicas.
    next_replica: Cell<usize>,
    /// Per service process (by [`World::on_wire`]'s slot): when its latest publish reaches the bus,
    /// and when the latest message the bus sent it arrives. Each process has one NATS
    /// connection, so both stay in the order they were sent.
    publish_wire: RefCell<Vec<u64>>,
    delivery_wire: RefCell<Vec<u64>>,
    me: Weak<World>,
}

/// What follows a process's NATS session when something happens to the process.
pub type FollowSession = fn(&World, Node, SessionEvent);

/// Which of a process's two directions on its NATS connection.
#[derive(Clone, Copy, Debug)]
pub enum Wire {
    /// From the process to the bus: its publishes.
    ToBus,
    /// From the bus to the process: its deliveries.
    FromBus,
}

impl World {
    /// A world at time 0 with the scenario's topology, drawing from madsim's RNG, that keeps
    /// its whole trace and has nothing watching it. Must be called inside a madsim runtime.
    pub fn new(scenario: &Scenario, occ: Occ) -> Rc<World> {
        let trace = Trace::with_capacity(World::trace_capacity(scenario));
        World::observed(scenario, occ, trace, Rc::new(RefCell::new(())))
    }

    /// Room for a whole trace of `scenario`: about seven records per request in a fault-free
    /// run (growing the trace by doubling copied it over and over; memmove was 5% of a run).
    pub fn trace_capacity(scenario: &Scenario) -> usize {
        (scenario.total_requests() as usize)
            .saturating_mul(8)
            .min(1 << 22)
    }

    /// A world as [`World::new`] makes, recording into `trace` (which may keep only a digest:
    /// [`Trace::digest_only`]), with `observer` watching every record as it is made.
    pub fn observed(
        scenario: &Scenario,
        occ: Occ,
        trace: Trace,
        observer: Rc<RefCell<dyn Observer>>,
    ) -> Rc<World> {
        // The run's seed is the runtime's; the executor derives one stream per kind of choice
        // from it (`sim::rng::Streams`). madsim's `thread_rng` (the runtime's generator, not
        // rand's OS-seeded one) is drawn from only for madsim's determinism checker.
        let seed = madsim::runtime::Handle::current().seed();
        let exec = Rc::new(Executor::new(madsim::rand::thread_rng(), seed));
        let replicas: Vec<Node> = (1..=scenario.topology.orders_replicas)
            .map(|n| Node::Orders(n as u8))
            .collect();
        let orders_placed = !scenario.workload.reserve.is_empty();
        let later = scenario.topology.later();
        let bus = Bus::new(
            subscriptions(&replicas, orders_placed, later),
            scenario.topology.ack_wait_ms * 1000,
            scenario.limits.deliveries_per_message,
        );
        let sweepers = (0..bus.group_count()).map(|_| Signal::default()).collect();
        let heal_us = scenario.faults.heal_at_ms.map_or(u64::MAX, |h| h * 1000);
        let partition_windows = scenario
            .faults
            .partition
            .iter()
            .map(|p| {
                let at = p.at_ms * 1000;
                (p.node.0, at, (at + p.for_ms * 1000).min(heal_us).max(at))
            })
            .filter(|&(_, at, _)| at < heal_us)
            .collect();
        Rc::new_cyclic(|me| World {
            exec,
            occ,
            latency: scenario.latency.clone(),
            dbs: Databases::with_unique_active_order(scenario.cures.unique_active_order),
            publish_on_reserve: scenario.tickets_service.publish_on_reserve,
            ordered_order_events: scenario.cures.ordered_order_events,
            later,
            status_guards: scenario.cures.status_guards,
            expiration_window_ms: scenario.topology.expiration_window_ms,
            queue: RefCell::new(Queue::default()),
            queue_wake: Signal::default(),
            next_charge_id: Cell::new(1),
            transactional_outbox: scenario.cures.transactional_outbox,
            relay_wake: RefCell::new(Rc::new(Signal::default())),
            bus,
            sweepers,
            trace: RefCell::new(trace),
            observer,
            faults: scenario.faults.clone(),
            services: scenario.services.clone(),
            lives: Lives::default(),
            conns: Connections::default(),
            session: Cell::new(None),
            partition_windows,
            partitioned: RefCell::new(Vec::new()),
            healed: Cell::new(false),
            replicas,
            open_requests: Cell::new(0),
            next_replica: Cell::new(0),
            publish_wire: RefCell::new(vec![0; PROCESS_SLOTS + 1]),
            delivery_wire: RefCell::new(vec![0; PROCESS_SLOTS + 1]),
            me: me.clone(),
        })
    }

    /// A counted handle to this world, for futures that outlive the current borrow.
    pub fn handle(&self) -> Rc<World> {
        self.me.upgrade().expect("the world outlives its tasks")
    }

    /// Both services' databases, whole: for a test, before or after a run (within a step it
    /// counts as touching everything).
    pub fn databases(&self) -> &Databases {
        self.exec.touch_everything();
        &self.dbs
    }

    /// The NATS Streaming server, as a step reaches it.
    pub fn nats(&self) -> Nats<'_> {
        Nats::new(&self.bus, &self.exec)
    }

    /// The `_id` of the tickets service's next ticket.
    pub fn next_ticket_id(&self) -> TicketId {
        self.exec.touch(Resource::NextId(DocKind::Ticket), true);
        self.dbs.next_ticket_id()
    }

    /// The `_id` of the orders service's next order.
    pub fn next_order_id(&self) -> OrderId {
        self.exec.touch(Resource::NextId(DocKind::Order), true);
        self.dbs.next_order_id()
    }

    /// The `_id` of the payments service's next payment.
    pub fn next_payment_id(&self) -> PaymentId {
        self.exec.touch(Resource::NextId(DocKind::Payment), true);
        self.dbs.next_payment_id()
    }

    /// The latency distributions.
    pub fn latency(&self) -> &Latencies {
        &self.latency
    }

    /// A draw from a latency distribution, in microseconds.
    pub fn draw(&self, latency: &Latency, of: ChoiceOf) -> u64 {
        match latency.slow_max_us {
            Some(slow)
                if self
                    .exec
                    .chance(ChoiceKind::SlowTail, of, latency.slow_probability) =>
            {
                self.exec
                    .choose_in(ChoiceKind::Latency, of, latency.max_us..slow + 1)
            }
            _ => self
                .exec
                .choose_in(ChoiceKind::Latency, of, latency.range()),
        }
    }

    /// The orders replica the ingress sends the next request to: each in turn.
    pub fn next_orders_replica(&self) -> Node {
        self.exec.touch(Resource::Ingress, true);
        let n = self.next_replica.get();
        self.next_replica.set((n + 1) % self.replicas.len());
        self.replicas[n]
    }

    /// How the services' processes run.
    pub fn services(&self) -> &Services {
        &self.services
    }

    /// The scenario's faults.
    pub fn faults(&self) -> &Faults {
        &self.faults
    }

    /// A fault with probability `p` strikes now. Draws from the RNG only while faults are live
    /// and `p > 0`, so a scenario without the fault makes exactly the draws it made before the
    /// fault existed.
    pub fn strikes(&self, p: f64, of: ChoiceOf) -> bool {
        p > 0.0 && !self.healed.get() && self.exec.chance(ChoiceKind::Strike, of, p)
    }

    /// Whether `node` is cut off from the bus now.
    pub fn is_partitioned(&self, node: Node) -> bool {
        let now = self.exec.now_us();
        self.reachable_at(node, now) > now
    }

    /// The whole cut of `node` that holds at `t_us` (windows that overlap or follow each
    /// other make one): when it began, and when it ends. `(t_us, t_us)` when none holds.
    pub fn cut_around(&self, node: Node, t_us: u64) -> (u64, u64) {
        let end = self.reachable_at(node, t_us);
        if end == t_us {
            return (t_us, t_us);
        }
        let mut start = t_us;
        while let Some(&(_, from, _)) = self
            .partition_windows
            .iter()
            .find(|&&(n, from, until)| n == node && from < start && start <= until)
        {
            start = from;
        }
        (start, end)
    }

    /// The earliest time from `t_us` at which something `node` sends, or something sent to
    /// it, can cross its connection: `t_us`, or the end of a partition of `node` that holds
    /// at `t_us`. A TCP connection held up by a partition delivers what it holds when the
    /// partition ends, in order.
    pub fn reachable_at(&self, node: Node, t_us: u64) -> u64 {
        let mut t = t_us;
        loop {
            let cut = self
                .partition_windows
                .iter()
                .find(|&&(n, from, until)| n == node && from <= t && t < until);
            match cut {
                Some(&(_, _, until)) => t = until,
                None => return t,
            }
        }
    }

    /// Hand in who follows what happens to a process's NATS session.
    pub fn set_session(&self, follow: FollowSession) {
        self.session.set(Some(follow));
    }

    /// Report what happened to `node`'s process to its NATS session, if anyone follows it.
    pub fn session(&self, node: Node, event: SessionEvent) {
        if let Some(follow) = self.session.get() {
            follow(self, node, event);
        }
    }

    /// The session of `node`'s current process with the server, as a step reads it (only steps
    /// that touch everything change it).
    #[inline]
    pub fn client_of(&self, node: Node) -> Conn {
        self.exec.touch(Resource::Session(node), false);
        self.conns.get(node)
    }

    /// The wake-up of queue group `group`'s ack-wait sweeper.
    pub fn sweeper(&self, group: usize) -> &Signal {
        &self.sweepers[group]
    }

    /// The `slow-handler` fault: maybe stall `replica`'s listener here, mid-handler.
    pub async fn stall(&self, replica: Node) {
        let Some(slow) = self.faults.slow_handler else {
            return;
        };
        if self.strikes(slow.probability, ChoiceOf::SlowHandler) {
            let ms = self.exec.choose_in(
                ChoiceKind::Latency,
                ChoiceOf::SlowHandler,
                slow.min_ms..slow.max_ms + 1,
            );
            self.record(replica, Event::Stall { replica, ms });
            self.exec.sleep(ms * 1000).await;
        }
    }

    /// Append to the trace at the current simulated time.
    #[inline]
    pub fn record(&self, node: Node, event: Event) {
        tracing::debug!(target: "ticketsim::trace", %node, ?event);
        self.exec.touch(Resource::Trace, true);
        let record = Record {
            t_us: self.exec.now_us(),
            node,
            event,
        };
        self.observer.borrow_mut().observe(&record);
        self.trace.borrow_mut().push(&record);
    }

    /// When something sent now over `node`'s NATS connection in direction `wire`, taking
    /// `latency_us` on its own, arrives: never before what was sent on it earlier (a TCP
    /// connection keeps order), and a microsecond after it at the earliest, so that the two
    /// never wake together and run in a drawn order.
    pub fn on_wire(&self, node: Node, wire: Wire, latency_us: u64) -> u64 {
        let mut last = match wire {
            Wire::ToBus => self.publish_wire.borrow_mut(),
            Wire::FromBus => self.delivery_wire.borrow_mut(),
        };
        let slot = node.process_index().unwrap_or(last.len() - 1);
        self.exec
            .touch(Resource::Wire(matches!(wire, Wire::ToBus), slot), true);
        let at = self.reachable_at(node, (self.exec.now_us() + latency_us).max(last[slot] + 1));
        last[slot] = at;
        at
    }

    /// The orders replicas.
    pub fn replicas(&self) -> &[Node] {
        &self.replicas
    }

    /// Every service process of the run: the tickets service, the orders replicas, and the
    /// later services that run.
    pub fn processes(&self) -> Vec<Node> {
        let mut all = vec![Node::Tickets];
        all.extend_from_slice(&self.replicas);
        if self.later.expiration {
            all.push(Node::Expiration);
        }
        if self.later.payments {
            all.push(Node::Payments);
        }
        all
    }

    /// Requests sent and not yet answered.
    pub fn open_requests(&self) -> u64 {
        self.open_requests.get()
    }

    /// A client sent a request.
    pub fn request_sent(&self) {
        self.open_requests.set(self.open_requests.get() + 1);
    }

    /// A client got its response, or saw its connection reset.
    pub fn request_done(&self) {
        self.open_requests.set(self.open_requests.get() - 1);
    }

    /// A database round trip: the request travels to the server for half the drawn latency,
    /// `apply` runs there, and its reply travels back for the other half. A crash of the
    /// caller during the reply leg leaves the operation applied and the caller never hearing
    /// of it (the caller's task is dropped; the server's work is done). A crash during the
    /// request leg loses the request with its process (a stated assumption: the driver had
    /// not handed it to the network yet).
    ///
    /// (Each of these database calls returns an `async` block rather than being an `async fn`:
    /// an `async fn` keeps its arguments twice in its state, and these states sit inside every
    /// handler's, which sit inside every task's.)
    #[allow(clippy::manual_async_fn)] // an `async fn` would keep its arguments twice
    pub(super) fn round_trip<T, F: FnOnce() -> T>(
        &self,
        apply: F,
    ) -> impl Future<Output = T> + use<'_, T, F> {
        async move {
            let latency = self.draw(&self.latency.db, ChoiceOf::Db);
            let there = latency / 2;
            self.exec.sleep(there).await;
            let reply = apply();
            self.exec.sleep(latency - there).await;
            reply
        }
    }

    /// `findById`: the document as the server holds it when the request arrives.
    pub fn find<D: Stored>(&self, id: u32) -> impl Future<Output = Option<D>> + use<'_, D> {
        self.round_trip(move || {
            self.exec.touch(Resource::Doc(D::KIND, id), false);
            self.dbs.find(id)
        })
    }

    /// The orders service's `isReserved` query, answered as the server sees it.
    pub fn find_reserving_order(
        &self,
        ticket: TicketId,
    ) -> impl Future<Output = Option<OrderId>> + use<'_> {
        self.round_trip(move || {
            self.exec.touch(Resource::OrdersOf(ticket), false);
            self.dbs.reserving_order(ticket)
        })
    }

    /// `insert`, applied at the server and recorded there as `db.write` or `db.conflict`; `then`
    /// runs with the stored document in the same atomic step when it succeeds.
    pub fn insert<D: Stored, F: FnOnce(&D)>(
        &self,
        node: Node,
        by: Cause,
        doc: D,
        then: F,
    ) -> impl Future<Output = Result<D, WriteError>> + use<'_, D, F> {
        self.round_trip(move || {
            self.wrote(&doc);
            let db = self.dbs.db::<D>();
            let result = self.dbs.insert(doc.clone());
            match result {
                Ok(stored) => {
                    self.record(node, stored.write_line(db, by));
                    then(&stored);
                    Ok(stored)
                }
                Err(error) => {
                    self.record(node, doc.conflict_line(db, by, error));
                    Err(error)
                }
            }
        })
    }

    /// `save` of `doc`, read as `read`, in the given mode, applied at the server, and `then` as
    /// for [`World::insert`]. Returns the writer's copy as mongoose's `save()` resolves it.
    #[allow(clippy::too_many_arguments)]
    pub fn save_with<'s, 'r, D: Stored, F: FnOnce(&D)>(
        &'s self,
        node: Node,
        by: Cause,
        read: &'r D,
        doc: D,
        mode: Save,
        then: F,
    ) -> impl Future<Output = Result<D, WriteError>> + use<'s, 'r, D, F> {
        self.round_trip(move || {
            self.wrote(&doc);
            let db = self.dbs.db::<D>();
            let attempt = doc.clone();
            let result = self.dbs.save(read, doc, mode);
            match result {
                Ok(saved) => {
                    self.record(node, saved.stored.write_line(db, by));
                    then(&saved.doc);
                    Ok(saved.doc)
                }
                Err(error) => {
                    self.record(node, attempt.conflict_line(db, by, error));
                    Err(error)
                }
            }
        })
    }

    /// `expirationQueue.add(...)` from `node`: a round trip to Redis (a database call's
    /// latency) that adds a job for `order` falling due at `due_ms`, and wakes the worker at
    /// that time.
    pub fn add_expiration_job(
        &self,
        node: Node,
        order: OrderId,
        ticket: TicketId,
        due_ms: u64,
    ) -> impl Future<Output = ()> + use<'_> {
        self.round_trip(move || {
            self.exec.touch(Resource::Queue, true);
            let job = self.queue.borrow_mut().add(order, ticket, due_ms * 1000);
            self.record(
                node,
                Event::JobAdded {
                    job,
                    order,
                    ticket,
                    due_ms,
                },
            );
            self.arm_job_timer(due_ms * 1000);
        })
    }

    /// Wake the Bull worker at `due_us` (the worker's own timer, re-armed on every add: Bull
    /// is woken by the add's PUBLISH, `lib/queue.js` 399-418). The timer is the expiration
    /// process's: a crash drops it, and the process's next start arms one per waiting job.
    pub fn arm_job_timer(&self, due_us: u64) {
        let w = self.handle();
        self.exec.spawn(Node::Expiration, async move {
            w.exec.sleep_until(due_us).await;
            w.queue_wake.notify(&w.exec);
        });
    }

    /// The job that falls due first, if it has fallen due at `now_us`.
    pub fn due_job(&self, now_us: u64) -> Option<JobId> {
        self.exec.touch(Resource::Queue, false);
        let queue = self.queue.borrow();
        queue
            .next_due()
            .filter(|j| j.due_us <= now_us)
            .map(|j| j.id)
    }

    /// When every job still waiting falls due.
    pub fn waiting_jobs(&self) -> Vec<u64> {
        self.exec.touch(Resource::Queue, false);
        self.queue.borrow().waiting_due()
    }

    /// The Bull worker's wake-up.
    pub fn queue_wake(&self) -> &Signal {
        &self.queue_wake
    }

    /// The worker takes `job`.
    pub fn activate_job(&self, job: JobId) -> Job {
        self.exec.touch(Resource::Queue, true);
        self.queue.borrow_mut().activate(job)
    }

    /// `moveToCompleted` of `job`: a round trip to Redis, applied there.
    pub fn complete_job(&self, job: JobId, order: OrderId) -> impl Future<Output = ()> + use<'_> {
        self.round_trip(move || {
            self.exec.touch(Resource::Queue, true);
            if self.queue.borrow_mut().complete(job) {
                self.record(Node::Expiration, Event::JobCompleted { job, order });
            }
        })
    }

    /// The expiration process died: every job its worker held stalls.
    pub fn stall_jobs(&self) -> Vec<Stalled> {
        self.exec.touch(Resource::Queue, true);
        let now = self.exec.now_us();
        self.queue.borrow_mut().stall_active(now)
    }

    /// The job `job`, as Redis holds it.
    pub fn job(&self, job: JobId) -> Job {
        self.exec.touch(Resource::Queue, false);
        self.queue.borrow().job(job).clone()
    }

    /// `stripe.charges.create(...)` from `node`: a round trip to the card processor (the
    /// `charge` latency), which charges at its halfway point. A crash of `node` on the way back
    /// leaves the buyer charged and the route never hearing of it.
    #[allow(clippy::manual_async_fn)] // an `async fn` would keep its arguments twice
    pub fn charge(
        &self,
        node: Node,
        order: OrderId,
        ticket: TicketId,
        amount: Price,
    ) -> impl Future<Output = ChargeId> + use<'_> {
        async move {
            let latency = self.draw(&self.latency.charge, ChoiceOf::Charge);
            let there = latency / 2;
            self.exec.sleep(there).await;
            self.exec.touch(Resource::Charges, true);
            let charge = self.next_charge_id.get();
            self.next_charge_id.set(charge + 1);
            self.record(
                node,
                Event::Charge {
                    charge,
                    order,
                    ticket,
                    amount,
                },
            );
            self.exec.sleep(latency - there).await;
            charge
        }
    }

    /// `stripe.refunds.create({ charge })` from `node`: a round trip to the card processor,
    /// which refunds at its halfway point.
    #[allow(clippy::manual_async_fn)] // an `async fn` would keep its arguments twice
    pub fn refund(
        &self,
        node: Node,
        charge: ChargeId,
        order: OrderId,
        ticket: TicketId,
    ) -> impl Future<Output = ()> + use<'_> {
        async move {
            let latency = self.draw(&self.latency.charge, ChoiceOf::Charge);
            let there = latency / 2;
            self.exec.sleep(there).await;
            self.exec.touch(Resource::Charges, true);
            self.record(
                node,
                Event::Refund {
                    charge,
                    order,
                    ticket,
                },
            );
            self.exec.sleep(latency - there).await;
        }
    }

    /// A write of `doc`: the document, and the index of orders it is under, if any. Writing
    /// the ticket's orders also covers reading them, as the unique partial index of active
    /// orders does when a write of an order is checked against it (the `unique-active-order`
    /// cure): a step that checks the index conflicts with every is-reserved query and every
    /// other write of an order of that ticket, which is what the sleep sets need to stay sound.
    fn wrote<D: Stored>(&self, doc: &D) {
        self.exec.touch(Resource::Doc(D::KIND, doc.id()), true);
        if let Some(ticket) = doc.indexed_under() {
            self.exec.touch(Resource::OrdersOf(ticket), true);
        }
    }

    /// The trace so far.
    pub fn trace(&self) -> std::cell::Ref<'_, Trace> {
        self.trace.borrow()
    }

    /// Take the trace out, leaving an empty one.
    pub fn take_trace(&self) -> Trace {
        std::mem::take(&mut self.trace.borrow_mut())
    }
}
