//! A delivery worker thread: an event loop whose senders take due events, send them, and
//! settle or reschedule each.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::mpsc::SyncSender;
use std::sync::Arc;
use std::time::Instant;

use rand::rngs::SmallRng;
use rand::SeedableRng;
use tokio::sync::Notify;

use super::api_error::ApiError;
use super::config::Config;
use super::delivery_http::{Connection, Endpoint};
use super::envelope::Envelope;
use super::outcome::{Outcome, OutcomeReport};
use super::queue::{EventStore, Take};
use super::retry::RetryPolicy;
use super::stats::Counters;
use super::thread_class;

/// What the engine's threads share.
pub(crate) struct Shared {
    pub(crate) config: Arc<Config>,
    pub(crate) store: Box<dyn EventStore>,
    pub(crate) counters: Counters,
    pub(crate) policy: RetryPolicy,
    /// Events live in a disk spool: undelivered ones at shutdown are kept, not lost.
    pub(crate) durable: bool,
}

/// The API's idempotency window: events delivered later than this are counted.
const IDEMPOTENCY_WINDOW_MS: i64 = 24 * 3600 * 1000;

impl Shared {
    /// Records an event's final outcome: counters, log, callback, the queue, then the receipt.
    pub(crate) fn settle(&self, env: Envelope, outcome: Outcome) {
        let c = &self.counters;
        match &outcome {
            Outcome::Delivered { .. } => {
                Counters::bump(&c.delivered);
                if super::spool::now_ms() - env.accepted_ms > IDEMPOTENCY_WINDOW_MS {
                    Counters::bump(&c.delivered_late);
                }
            }
            Outcome::Rejected { error, attempts } => {
                Counters::bump(&c.rejected);
                log::warn!(
                    "auditwire: event {} for organization {} rejected after {attempts} attempt(s): {error}",
                    env.key(),
                    env.slot.organization_id
                );
            }
            Outcome::Expired {
                last_error,
                attempts,
            } => {
                Counters::bump(&c.expired);
                log::warn!(
                    "auditwire: event {} for organization {} expired after {attempts} attempt(s); last error: {last_error}",
                    env.key(),
                    env.slot.organization_id
                );
            }
            // With a spool the event stays on disk; the engine counts it as spooled.
            Outcome::Shutdown { .. } if self.durable => {}
            Outcome::Shutdown { .. } => Counters::bump(&c.abandoned),
        }
        if !self.report(&env, &outcome) {
            log::error!("auditwire: the on_outcome callback panicked; ignored");
        }
        self.store.ack(&env, &outcome);
        env.slot.publish();
    }

    /// Stores the outcome on the event's slot (not shown yet) and runs `on_outcome` with the
    /// slot's tag; false if the callback panicked.
    fn report(&self, env: &Envelope, outcome: &Outcome) -> bool {
        let tag = env.slot.settle(outcome);
        let Some(cb) = &self.config.on_outcome else {
            return true;
        };
        let report = OutcomeReport {
            organization_id: &env.slot.organization_id,
            idempotency_key: env.key(),
            outcome,
            tag,
        };
        catch_unwind(AssertUnwindSafe(|| cb(&report))).is_ok()
    }

    /// Settles events left behind at shutdown; they were never taken, so no `ack`.
    pub(crate) fn abandon(&self, envs: Vec<Envelope>) {
        for env in envs {
            let attempts = env.attempts;
            let outcome = Outcome::Shutdown { attempts };
            if !self.durable {
                Counters::bump(&self.counters.abandoned);
            }
            // At shutdown a panicking callback is not logged.
            let _ = self.report(&env, &outcome);
            env.slot.publish();
        }
    }
}

/// A worker thread: an event loop driving `lanes` senders, each with its own keep-alive
/// connection; says so on `ready` once set up; returns when the store stops.
pub(crate) fn run(shared: Arc<Shared>, lanes: usize, ready: SyncSender<()>) {
    drive(&shared, lanes, ready);
    shared.store.worker_exited();
}

fn drive(shared: &Arc<Shared>, lanes: usize, ready: SyncSender<()>) {
    thread_class::yield_to_callers();
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            log::error!("auditwire: cannot start a delivery event loop: {e}");
            return;
        }
    };
    let endpoint = match Endpoint::new(&shared.config) {
        Ok(ep) => Arc::new(ep),
        Err(e) => {
            log::error!("auditwire: cannot deliver: {e}");
            return;
        }
    };
    let notify = Arc::new(Notify::new());
    let wake = notify.clone();
    shared.store.subscribe(Arc::new(move |all: bool| {
        if all {
            wake.notify_waiters();
        } else {
            wake.notify_one();
        }
    }));
    let _ = ready.send(());
    drop(ready);
    rt.block_on(async {
        let senders: Vec<_> = (0..lanes.max(1))
            .map(|_| {
                let conn = Connection::new(endpoint.clone(), shared.config.timeout);
                tokio::spawn(send_loop(shared.clone(), notify.clone(), conn))
            })
            .collect();
        for s in senders {
            if let Err(e) = s.await {
                log::error!("auditwire: a delivery sender failed: {e}");
            }
        }
    });
}

/// The next due event, waiting for a wake-up or a timer; `None` once the store stops.
async fn next(shared: &Shared, notify: &Notify) -> Option<Envelope> {
    loop {
        let woken = notify.notified();
        tokio::pin!(woken);
        // Registered before looking, so that no wake-up is missed in between.
        woken.as_mut().enable();
        match shared.store.try_take() {
            Take::Event(env) => return Some(env),
            Take::Stopped => return None,
            Take::Wait(None) => woken.await,
            Take::Wait(Some(at)) => {
                let _ = tokio::time::timeout_at(at.into(), woken).await;
            }
        }
    }
}

/// One sender: takes due events, sends them over its connection, settles or reschedules.
async fn send_loop(shared: Arc<Shared>, notify: Arc<Notify>, mut conn: Connection) {
    let mut rng = SmallRng::from_rng(&mut rand::rng());
    while let Some(mut env) = next(&shared, &notify).await {
        env.attempts += 1;
        match conn.send(&env).await {
            Ok(reply) if reply.is_success() => {
                let outcome = Outcome::Delivered {
                    status: reply.status,
                    request_id: reply.request_id,
                    attempts: env.attempts,
                };
                shared.settle(env, outcome);
            }
            Ok(reply) => {
                let error = reply.into_error();
                if error.is_retryable() {
                    retry(&shared, env, error, &mut rng);
                } else {
                    let attempts = env.attempts;
                    shared.settle(env, Outcome::Rejected { error, attempts });
                }
            }
            Err(error) => retry(&shared, env, error, &mut rng),
        }
    }
}

/// Schedules another attempt, or settles the event as expired when its budget is spent.
fn retry(shared: &Shared, env: Envelope, error: ApiError, rng: &mut SmallRng) {
    let now = Instant::now();
    let wait = shared.policy.wait(env.attempts, error.retry_after, rng);
    if error.status == Some(429) {
        // A rate limit applies to the whole client, not only this worker.
        shared
            .store
            .pause(now + shared.policy.rate_limit_pause(error.retry_after));
    }
    match shared
        .policy
        .next_attempt(env.attempts, env.accepted_at, wait, now)
    {
        Some(at) => {
            Counters::bump(&shared.counters.retried);
            log::debug!(
                "auditwire: attempt {} for event {} failed ({error}); retrying in {:?}",
                env.attempts,
                env.key(),
                wait
            );
            if let Some(env) = shared.store.nack(env, at) {
                let attempts = env.attempts;
                shared.settle(env, Outcome::Shutdown { attempts });
            }
        }
        None => {
            let attempts = env.attempts;
            shared.settle(
                env,
                Outcome::Expired {
                    last_error: error,
                    attempts,
                },
            );
        }
    }
}
