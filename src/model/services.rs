//! How the services are wired, as each service's `app.ts` and `index.ts` wire them: which
//! handler serves a request, which queue groups listen on which channels, and which listener
//! runs for a delivered message.

use crate::model::decisions::Handled;
use crate::model::events::{Event, Message, Subject};
use crate::model::http::{Cause, Request, Response};
use crate::model::node::Node;
use crate::model::service::Service;
use crate::model::{expiration, orders, payments, tickets};
use std::future::Future;

/// Which listener a queue group runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Listener {
    /// The orders service's `ticket:created` listener.
    OrdersTicketCreated,
    /// The orders service's `ticket:updated` listener.
    OrdersTicketUpdated,
    /// The tickets service's `order:created` listener.
    TicketsOrderCreated,
    /// The tickets service's `order:cancelled` listener.
    TicketsOrderCancelled,
    /// The expiration service's `order:created` listener.
    ExpirationOrderCreated,
    /// The payments service's `order:created` listener.
    PaymentsOrderCreated,
    /// The payments service's `order:cancelled` listener.
    PaymentsOrderCancelled,
    /// The orders service's `expiration:complete` listener.
    OrdersExpirationComplete,
    /// The orders service's `payment:created` listener.
    OrdersPaymentCreated,
}

/// Which of the services the course adds after section 19 run (each only when a scenario
/// asks for it, so that a scenario without them makes exactly the draws it made before they
/// existed).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Later {
    /// The expiration service (section 20).
    pub expiration: bool,
    /// The payments service (section 21).
    pub payments: bool,
}

/// A durable queue subscription: a queue group on a channel, its listener and its members.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Subscription {
    /// The queue group (also the durable name, as the course sets it).
    pub queue_group: &'static str,
    /// The channel.
    pub subject: Subject,
    /// The listener every member runs.
    pub listener: Listener,
    /// The members, in join order.
    pub members: Vec<Node>,
}

/// The subscriptions of the system: the orders service's `replicas` listen for ticket events in
/// queue group `orders-service`; the tickets service listens for order events in
/// `tickets-service` when `orders_placed` (only then: an idle subscription's ack-wait timer
/// would change the random draws of the scenarios without orders). The `later` services add
/// their groups after those, in the order their `index.ts` files start their listeners:
/// `expiration-service` on `order:created`; `payments-service` on `order:created` and
/// `order:cancelled` (SG `payments/src/index.ts` 39-40); and the orders service's
/// `expiration:complete` and `payment:created` listeners (SG `orders/src/index.ts` 43-44).
pub fn subscriptions(replicas: &[Node], orders_placed: bool, later: Later) -> Vec<Subscription> {
    let group = |queue_group, subject, listener, members: &[Node]| Subscription {
        queue_group,
        subject,
        listener,
        members: members.to_vec(),
    };
    let mut all = vec![
        group(
            "orders-service",
            Subject::TicketCreated,
            Listener::OrdersTicketCreated,
            replicas,
        ),
        group(
            "orders-service",
            Subject::TicketUpdated,
            Listener::OrdersTicketUpdated,
            replicas,
        ),
    ];
    if orders_placed {
        all.push(group(
            "tickets-service",
            Subject::OrderCreated,
            Listener::TicketsOrderCreated,
            &[Node::Tickets],
        ));
        all.push(group(
            "tickets-service",
            Subject::OrderCancelled,
            Listener::TicketsOrderCancelled,
            &[Node::Tickets],
        ));
    }
    if later.expiration {
        all.push(group(
            "expiration-service",
            Subject::OrderCreated,
            Listener::ExpirationOrderCreated,
            &[Node::Expiration],
        ));
    }
    if later.payments {
        all.push(group(
            "payments-service",
            Subject::OrderCreated,
            Listener::PaymentsOrderCreated,
            &[Node::Payments],
        ));
        all.push(group(
            "payments-service",
            Subject::OrderCancelled,
            Listener::PaymentsOrderCancelled,
            &[Node::Payments],
        ));
    }
    if later.expiration {
        all.push(group(
            "orders-service",
            Subject::ExpirationComplete,
            Listener::OrdersExpirationComplete,
            replicas,
        ));
    }
    if later.payments {
        all.push(group(
            "orders-service",
            Subject::PaymentCreated,
            Listener::OrdersPaymentCreated,
            replicas,
        ));
    }
    all
}

/// Serve `request`: the route handler of the service it is addressed to.
///
/// (`serve` and `listen` return an async block rather than being `async fn`s: an `async fn`
/// keeps its arguments twice in its state, and these states are most of every task's.)
#[allow(clippy::manual_async_fn)] // an `async fn` would keep its arguments twice
pub fn serve<S: Service>(svc: &S, request: Request) -> impl Future<Output = Response> + use<'_, S> {
    async move {
        match request {
            Request::CreateTicket {
                title,
                price,
                user_id,
            } => tickets::create_ticket(svc, title, price, user_id).await,
            Request::UpdateTicket { id, title, price } => {
                tickets::update_ticket(svc, id, title, price).await
            }
            Request::CreateOrder { ticket, user_id } => {
                orders::create_order(svc, ticket, user_id).await
            }
            Request::CancelOrder { order } => orders::cancel_order(svc, order).await,
            Request::CreatePayment { order } => payments::create_payment(svc, order).await,
        }
    }
}

/// Run `listener` for one delivered message.
#[allow(clippy::manual_async_fn)] // an `async fn` would keep its arguments twice
pub fn listen<'a, S: Service>(
    svc: &'a S,
    listener: Listener,
    message: &'a Message,
) -> impl Future<Output = Handled> + use<'a, S> {
    async move {
        let by = Cause::Message(message.subject, message.seq);
        match (listener, &message.event) {
            (Listener::OrdersTicketCreated, Event::TicketCreated(data)) => {
                orders::ticket_created(svc, by, data).await
            }
            (Listener::OrdersTicketUpdated, Event::TicketUpdated(data)) => {
                orders::ticket_updated(svc, by, data).await
            }
            (Listener::TicketsOrderCreated, Event::OrderCreated(data)) => {
                tickets::order_created(svc, by, data).await
            }
            (Listener::TicketsOrderCancelled, Event::OrderCancelled(data)) => {
                tickets::order_cancelled(svc, by, data).await
            }
            (Listener::ExpirationOrderCreated, Event::OrderCreated(data)) => {
                expiration::order_created(svc, data).await
            }
            (Listener::PaymentsOrderCreated, Event::OrderCreated(data)) => {
                payments::order_created(svc, by, data).await
            }
            (Listener::PaymentsOrderCancelled, Event::OrderCancelled(data)) => {
                payments::order_cancelled(svc, by, data).await
            }
            (Listener::OrdersExpirationComplete, Event::ExpirationComplete(data)) => {
                orders::expiration_complete(svc, by, data).await
            }
            (Listener::OrdersPaymentCreated, Event::PaymentCreated(data)) => {
                orders::payment_created(svc, by, data).await
            }
            (listener, event) => unreachable!(
                "the bus routes by subject: {listener:?} never receives {:?}",
                event.subject()
            ),
        }
    }
}
