//! The expiration service (StephenGrider/ticketing `expiration/`): its one listener, for
//! `order:created` (`src/events/listeners/order-created-listener.ts`), which adds a delayed
//! job to its Bull queue. The queue's processor (`src/queues/expiration-queue.ts` 15-19), which
//! publishes `expiration:complete` when a job falls due, is the runtime's worker
//! (`sim::expiration`): it is not a handler of a request or a message.

use crate::model::decisions::Handled;
use crate::model::events::OrderData;
use crate::model::service::Service;

/// `OrderCreatedListener` (SG lines 10-24): `delay = expiresAt - now`, `await
/// expirationQueue.add({ orderId }, { delay })`, ack. The job falls due at the order's
/// `expiresAt` by the expiration pod's clock (one clock in the model), however late the event
/// came. No `jobId`: a redelivery adds a second job. It never throws.
pub async fn order_created<S: Service>(svc: &S, data: &OrderData) -> Handled {
    svc.add_expiration_job(data.id, data.ticket, data.expires_at_ms)
        .await;
    Handled::Ack
}
