//! The expiration service's Bull worker (SG `expiration/src/queues/expiration-queue.ts` 15-19,
//! Bull v3.13.0 `lib/queue.js`): it runs in the expiration process, takes each job when it
//! falls due, one at a time (`process(handler)` runs with concurrency 1), runs the course's
//! processor, which publishes `expiration:complete` *without* awaiting it, and moves the job
//! to `completed` (a round trip to Redis). The queue's state is [`crate::model::bull`]'s; it
//! lives in Redis, its own pod, so a crash of the expiration process leaves it, and every job
//! the worker held then stalls, to run again once its lock lapses.

use crate::model::bull::Stalled;
use crate::model::events::{Event as Payload, ExpirationData};
use crate::model::node::Node;
use crate::sim::bus;
use crate::sim::record::Event;
use crate::sim::world::World;

/// The expiration process starts (at the start of a run, and after each restart): its worker
/// runs, and arms a timer for every job waiting in Redis.
pub fn started(world: &World) {
    for due_us in world.waiting_jobs() {
        world.arm_job_timer(due_us);
    }
    let w = world.handle();
    world
        .exec
        .spawn(Node::Expiration, async move { work(&w).await });
}

/// The expiration process died (crashed or exited): the jobs its worker held stall.
pub fn died(world: &World) {
    for stalled in world.stall_jobs() {
        let (job, retry_at_ms) = match stalled {
            Stalled::Retried { job, due_us } => (job, Some(due_us / 1000)),
            Stalled::Failed { job } => (job, None),
        };
        let order = world.job(job).order_id;
        world.record(
            Node::Faults,
            Event::JobStalled {
                job,
                order,
                retry_at_ms,
            },
        );
    }
    // The timers of the retried jobs are armed when the process starts again.
}

/// The worker: take the job that fell due first, run it, and wait for the next.
async fn work(world: &World) {
    loop {
        let Some(id) = world.due_job(world.exec.now_us()) else {
            world.queue_wake().wait(&world.exec).await;
            continue;
        };
        let job = world.activate_job(id);
        world.record(
            Node::Expiration,
            Event::JobActive {
                job: job.id,
                order: job.order_id,
                ticket: job.ticket,
                run: job.runs,
            },
        );
        // `new ExpirationCompletePublisher(natsWrapper.client).publish({ orderId })`, not
        // awaited: the processor's promise resolves at once, and Bull completes the job
        // whatever becomes of the publish.
        let event = Payload::ExpirationComplete(ExpirationData {
            order_id: job.order_id,
            ticket: job.ticket,
        });
        bus::publish_unawaited(world, Node::Expiration, event);
        world.complete_job(job.id, job.order_id).await;
    }
}
