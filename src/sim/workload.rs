//! The workload's clients: each `[[workload.*]]` step of the scenario becomes client tasks
//! that send their requests over [`crate::sim::http`], as the course's scripts do.

use crate::model::documents::{Price, TicketId, UserId};
use crate::model::http::{Request, Response};
use crate::model::node::Node;
use crate::scenario::schema::{Pace, Reserve, Scenario};
use crate::sim::http;
use crate::sim::record::Event;
use crate::sim::world::World;
use std::rc::Rc;

/// Spawn the clients of the scenario's workload.
pub fn start(world: &World, scenario: &Scenario) {
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
        let handle = world.handle();
        world.exec.spawn(Node::Client, async move {
            let world = handle;
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
        user += step.tickets * script.users_per_ticket();
        let handle = world.handle();
        world.exec.spawn(Node::Client, async move {
            let world = handle;
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

/// A client's `POST /api/tickets`: the new ticket's id, or the failed response (`None` for a
/// reset connection).
async fn create_ticket(
    world: &World,
    title: &Rc<str>,
    price: Price,
    user_id: UserId,
) -> Result<TicketId, Option<Response>> {
    let create = Request::CreateTicket {
        title: title.clone(),
        price,
        user_id,
    };
    match http::request(world, create).await {
        Some(Response {
            status: 201,
            ticket: Some(id),
            ..
        }) => Ok(id),
        failed => Err(failed),
    }
}

/// Whether axios resolves on this response: a status in 2xx. A reset connection (`None`) and
/// any other status reject.
fn succeeded(response: &Option<Response>) -> bool {
    response
        .as_ref()
        .is_some_and(|r| (200..300).contains(&r.status))
}

/// A script's request failed and `unsent` requests after it will never be sent: the
/// course's script is one `async` function whose `await axios...` throws (CH section-19
/// `t/index.js` 8-30), so it stops there.
fn abandon(world: &World, ticket: Option<TicketId>, failed: Option<Response>, unsent: usize) {
    if unsent == 0 {
        return;
    }
    world.record(
        Node::Client,
        Event::ChainAbandoned {
            ticket,
            status: failed.map(|r| r.status),
            unsent: u32::try_from(unsent).unwrap_or(u32::MAX),
        },
    );
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
        let id = match create_ticket(world, &self.title, self.price, self.user_id).await {
            Ok(id) => id,
            Err(failed) => return abandon(world, None, failed, self.updates.len()),
        };
        for (i, &price) in self.updates.iter().enumerate() {
            let update = Request::UpdateTicket {
                id,
                title: self.title.clone(),
                price,
            };
            match self.pace {
                // The course's script awaits each update: a failed one (a 400, a reset
                // connection) throws, and the updates after it are never sent.
                Pace::AfterResponse => {
                    // No sleep at all when there is no think time: even a zero-length sleep is
                    // an interleaving point.
                    if self.think_ms > 0 {
                        world.exec.sleep(self.think_ms * 1000).await;
                    }
                    let response = http::request(world, update).await;
                    if !succeeded(&response) {
                        let unsent = self.updates.len() - i - 1;
                        return abandon(world, Some(id), response, unsent);
                    }
                }
                Pace::Burst => {
                    let w = world.handle();
                    world.exec.spawn(Node::Client, async move {
                        http::request(&w, update).await;
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
    pay_after_ms: Option<u64>,
    reorder_after_ms: Option<u64>,
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
            pay_after_ms: step.pay_after_ms,
            reorder_after_ms: step.reorder_after_ms,
            first_user,
        }
    }

    /// The users of one ticket: its owner, one per order, and one who orders it later.
    fn users_per_ticket(&self) -> u32 {
        1 + self.orders + u32::from(self.reorder_after_ms.is_some())
    }

    /// The script of the `i`th ticket. Its owner is one user, each of its orders another.
    async fn run(self: Rc<Self>, world: &World, i: u32) {
        let owner = self.first_user + 1 + i * self.users_per_ticket();
        let id = match create_ticket(world, &self.title, self.price, owner).await {
            Ok(id) => id,
            Err(failed) => {
                let unsent = self.orders as usize + self.updates.len();
                return abandon(world, None, failed, unsent);
            }
        };
        world.exec.sleep(self.wait_ms * 1000).await;
        for n in 0..self.orders {
            let user_id = owner + 1 + n;
            place_order(world, id, user_id, self.cancel_after_ms, self.pay_after_ms);
        }
        if let Some(after) = self.reorder_after_ms {
            let (w, user_id, pay_after_ms) =
                (world.handle(), owner + 1 + self.orders, self.pay_after_ms);
            world.exec.spawn(Node::Client, async move {
                w.exec.sleep(after * 1000).await;
                place_order(&w, id, user_id, None, pay_after_ms);
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
                http::request(&w, update).await;
            });
        }
    }
}

/// A client orders `ticket` as `user_id`; once the order is placed (201) it pays for it
/// `pay_after_ms` after the response and cancels it `cancel_after_ms` after, each if set, each
/// on its own clock.
fn place_order(
    world: &World,
    ticket: TicketId,
    user_id: UserId,
    cancel_after_ms: Option<u64>,
    pay_after_ms: Option<u64>,
) {
    let w = world.handle();
    world.exec.spawn(Node::Client, async move {
        let response = http::request(&w, Request::CreateOrder { ticket, user_id }).await;
        let Some(Response {
            status: 201,
            order: Some(order),
            ..
        }) = response
        else {
            return;
        };
        if let Some(after) = pay_after_ms {
            let p = w.clone();
            w.exec.spawn(Node::Client, async move {
                p.exec.sleep(after * 1000).await;
                http::request(&p, Request::CreatePayment { order }).await;
            });
        }
        if let Some(after) = cancel_after_ms {
            w.exec.sleep(after * 1000).await;
            http::request(&w, Request::CancelOrder { order }).await;
        }
    });
}
