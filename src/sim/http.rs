//! HTTP between the workload's clients and the services: a request travels to its service
//! (HTTP latency), runs its route handler on the node that serves it, and the response comes
//! back. Requests to the orders service go to the replicas in turn, as the course's
//! ingress-nginx does by default (round robin); a crash of that node while it handles the
//! request resets the connection.

use crate::model::http::{Request, Response};
use crate::model::node::Node;
use crate::model::services;
use crate::sim::bus::Handler;
use crate::sim::record::Event;
use crate::sim::sync::Oneshot;
use crate::sim::tape::ChoiceOf;
use crate::sim::world::World;

/// Send `request` to its service and wait for the response; `None` if the service dropped
/// the request (it was down, or crashed while handling it).
pub async fn request(world: &World, request: Request) -> Option<Response> {
    world.request_sent();
    let (reply, response) = Oneshot::channel(&world.exec);
    let w = world.handle();
    let route = request.route();
    let node = if route.is_orders() {
        world.next_orders_replica()
    } else if route.is_payments() {
        Node::Payments
    } else {
        Node::Tickets
    };
    world.exec.spawn(node, async move {
        let latency = w.draw(&w.latency().http, ChoiceOf::Http);
        w.exec.sleep(latency).await;
        let (route, price) = (request.route(), request.price());
        let handler = Handler { world: &w, node };
        let response = services::serve(&handler, request).await;
        w.record(
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
    let response = response.recv(&world.exec).await;
    world.request_done();
    response
}
