//! The expiration service's Bull queue on Redis (OptimalBits/bull v3.13.0, the same in
//! v3.29.3), as the course uses it: `new Queue('order:expiration', { redis })` with Bull's
//! defaults, `queue.add({ orderId }, { delay })`, and one processor (SG
//! `expiration/src/queues/expiration-queue.ts` 9-19). The state of the queue, synchronous; the
//! runtime's `sim::expiration` carries the round trips to Redis and runs the worker.
//!
//! What it keeps of Bull ([course-later-services.md](../../docs/course-later-services.md) §1.4):
//!
//! - **Absolute due time.** `addJob` stores `timestamp + delay` (`lib/scripts.js` 35) and the
//!   worker promotes a job when its clock reaches it (`lib/queue.js` 854-856). The listener's
//!   delay is `expiresAt - now` (SG `order-created-listener.ts` 11), so the job falls due at
//!   the order's `expiresAt`, however late the event came; a late one falls due at once.
//! - **No `jobId`.** Every `add` is a new job from Redis's counter (`addJob-6.lua` 41-45): a
//!   redelivered `order:created` adds a second job for the same order.
//! - **At least once.** A job is `active` while the worker runs it and moves it to
//!   `completed`. If the worker's process dies meanwhile, its lock lapses and the stalled check
//!   moves the job back to wait, at most `maxStalledCount` = 1 time; a second stall fails it
//!   for good (`moveStalledJobsToWait-7.lua` 51-70). The job is run again once the lock has
//!   lapsed, `lockDuration` = 30 s after the crash (`lib/queue.js` 208-216), when a worker
//!   runs. (Stated simplification: the stalled check runs then, not on its own 30 s cycle,
//!   which would put the re-run 30-60 s after the crash.)
//! - Redis is its own pod, so the queue outlives the expiration process. A restart of Redis,
//!   which has no volume in the course (SG `infra/k8s/expiration-redis-depl.yaml` 15-17), would
//!   lose every job: not modelled.

use crate::model::documents::{OrderId, TicketId};

/// A job's id: Redis's counter, from 1.
pub type JobId = u32;

/// How long after its worker died an active job's lock lapses (`lockDuration`, 30 s).
pub const LOCK_DURATION_US: u64 = 30_000_000;

/// How many times a job may stall and still be run again (`maxStalledCount`).
pub const MAX_STALLED_COUNT: u32 = 1;

/// Where a job is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JobState {
    /// Waiting for its due time (Bull's `delayed`, then `wait`).
    Delayed,
    /// Being processed by the worker.
    Active,
    /// Done.
    Completed,
    /// Stalled more than `maxStalledCount` times: never run again.
    Failed,
}

/// One job of the queue.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Job {
    /// Its id.
    pub id: JobId,
    /// `job.data.orderId`.
    pub order_id: OrderId,
    /// The order's ticket, for the trace only (the job's data does not carry it).
    pub ticket: TicketId,
    /// When it falls due, in simulated microseconds.
    pub due_us: u64,
    /// Its state.
    pub state: JobState,
    /// How many times it stalled.
    pub stalls: u32,
    /// How many times the worker started it.
    pub runs: u32,
}

/// What became of a job whose worker died while it was active.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stalled {
    /// Back to wait: run again from `due_us`.
    Retried {
        /// The job.
        job: JobId,
        /// When its lock has lapsed.
        due_us: u64,
    },
    /// Stalled once too often: failed for good, its order never expires.
    Failed {
        /// The job.
        job: JobId,
    },
}

/// The queue `order:expiration`.
#[derive(Clone, Debug, Default)]
pub struct Queue {
    /// Every job, by id - 1.
    jobs: Vec<Job>,
}

impl Queue {
    /// `queue.add({ orderId }, { delay })`, falling due at `due_us`: a new job.
    pub fn add(&mut self, order_id: OrderId, ticket: TicketId, due_us: u64) -> JobId {
        let id = JobId::try_from(self.jobs.len() + 1).expect("fewer than 2^32 jobs");
        self.jobs.push(Job {
            id,
            order_id,
            ticket,
            due_us,
            state: JobState::Delayed,
            stalls: 0,
            runs: 0,
        });
        id
    }

    /// The job waiting that falls due first: by due time, then by id (Bull's `delayed` zset
    /// scores `due * 0x1000 + (counter & 0xfff)`).
    pub fn next_due(&self) -> Option<&Job> {
        self.jobs
            .iter()
            .filter(|j| j.state == JobState::Delayed)
            .min_by_key(|j| (j.due_us, j.id))
    }

    /// The worker takes `job`: it becomes active.
    pub fn activate(&mut self, job: JobId) -> Job {
        let j = &mut self.jobs[job as usize - 1];
        debug_assert_eq!(j.state, JobState::Delayed);
        j.state = JobState::Active;
        j.runs += 1;
        j.clone()
    }

    /// `moveToCompleted` of `job`, if it is still active (a stalled job already moved on).
    pub fn complete(&mut self, job: JobId) -> bool {
        let j = &mut self.jobs[job as usize - 1];
        let active = j.state == JobState::Active;
        if active {
            j.state = JobState::Completed;
        }
        active
    }

    /// The worker's process died at `now_us`: every active job stalls.
    pub fn stall_active(&mut self, now_us: u64) -> Vec<Stalled> {
        let mut out = Vec::new();
        for j in self.jobs.iter_mut().filter(|j| j.state == JobState::Active) {
            j.stalls += 1;
            if j.stalls > MAX_STALLED_COUNT {
                j.state = JobState::Failed;
                out.push(Stalled::Failed { job: j.id });
            } else {
                j.state = JobState::Delayed;
                j.due_us = now_us + LOCK_DURATION_US;
                out.push(Stalled::Retried {
                    job: j.id,
                    due_us: j.due_us,
                });
            }
        }
        out
    }

    /// The job `job`.
    pub fn job(&self, job: JobId) -> &Job {
        &self.jobs[job as usize - 1]
    }

    /// When each job waiting falls due, in id order.
    pub fn waiting_due(&self) -> Vec<u64> {
        self.jobs
            .iter()
            .filter(|j| j.state == JobState::Delayed)
            .map(|j| j.due_us)
            .collect()
    }

    /// Whether any job is still to be run.
    pub fn pending(&self) -> bool {
        self.jobs
            .iter()
            .any(|j| matches!(j.state, JobState::Delayed | JobState::Active))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jobs_fall_due_by_time_then_by_id_and_a_duplicate_is_a_second_job() {
        let mut q = Queue::default();
        let a = q.add(1, 1, 60_000_000);
        let b = q.add(2, 2, 50_000_000);
        let again = q.add(1, 1, 60_000_000);
        assert_ne!(a, again, "no jobId: the same order gets a second job");
        assert_eq!(q.next_due().map(|j| j.id), Some(b));
        q.activate(b);
        assert_eq!(q.next_due().map(|j| j.id), Some(a));
        assert!(q.complete(b));
        assert!(!q.complete(b), "completed once");
    }

    #[test]
    fn a_job_stalls_once_into_a_rerun_and_twice_into_failure() {
        let mut q = Queue::default();
        let j = q.add(7, 3, 60_000_000);
        q.activate(j);
        assert_eq!(
            q.stall_active(61_000_000),
            [Stalled::Retried {
                job: j,
                due_us: 61_000_000 + LOCK_DURATION_US
            }]
        );
        assert!(
            !q.complete(j),
            "the stalled run's completion does not count"
        );
        q.activate(j);
        assert_eq!(q.job(j).runs, 2);
        assert_eq!(q.stall_active(100_000_000), [Stalled::Failed { job: j }]);
        assert!(!q.pending());
        assert_eq!(q.next_due(), None);
    }
}
