//! A delivery worker thread: an event loop whose senders take due events, send them, and
//! settle or reschedule each.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::mpsc::SyncSender;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use rand::rngs::SmallRng;
use rand::SeedableRng;
use tokio::sync::{watch, Notify};

use super::api_error::ApiError;
use super::config::Config;
use super::delivery_http::{Connection, Endpoint};
use super::envelope::Envelope;
use super::gate::Gate;
use super::outcome::{Outcome, OutcomeReport};
use super::queue::{EventStore, Stopped, Take};
use super::receipt::Slot;
use super::retry::RetryPolicy;
use super::stats::Counters;
use super::thread_class;

/// What the engine's threads share.
pub(crate) struct Shared {
    pub(crate) config: Arc<Config>,
    pub(crate) store: Box<dyn EventStore>,
    pub(crate) counters: Arc<Counters>,
    pub(crate) policy: RetryPolicy,
    /// Events live in a disk spool: undelivered ones at shutdown are kept, not lost.
    pub(crate) durable: bool,
    /// Closed at shutdown: no `on_outcome` callback after that.
    pub(crate) gate: Gate,
    /// Set at the shutdown deadline: requests in flight are cancelled.
    pub(crate) cancel: watch::Sender<bool>,
    /// The last failure of a delivery attempt, for the report at exit.
    pub(crate) last_error: Mutex<Option<String>>,
}

/// The API's idempotency window: events delivered later than this are counted.
const IDEMPOTENCY_WINDOW_MS: i64 = 24 * 3600 * 1000;

impl Shared {
    /// Records an event's final outcome: log, receipt and callback, the queue (which counts
    /// it), then shows it on the receipt. An event that shutdown settled already is left as
    /// it is (the queue still deletes it from the spool once delivered).
    pub(crate) fn settle(&self, env: Envelope, outcome: Outcome) {
        match &outcome {
            Outcome::Delivered { .. } => {
                if super::spool::now_ms() - env.accepted_ms > IDEMPOTENCY_WINDOW_MS {
                    Counters::bump(&self.counters.delivered_late);
                }
            }
            Outcome::Rejected { error, attempts } => {
                self.note_error(error);
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
                log::warn!(
                    "auditwire: event {} for organization {} expired after {attempts} attempt(s); last error: {last_error}",
                    env.key(),
                    env.slot.organization_id
                );
            }
            Outcome::InDoubt { .. } | Outcome::Lost { .. } | Outcome::Spooled { .. } => {}
        }
        if let Ok(tag) = env.slot.settle(&outcome) {
            if !self.report(&env.slot, tag, &outcome) {
                log::error!("auditwire: the on_outcome callback panicked; ignored");
            }
        }
        self.store.ack(&env, &outcome);
        env.slot.publish();
    }

    /// Runs `on_outcome` for a settled event unless shutdown is over; false if it panicked.
    fn report(&self, slot: &Slot, tag: Option<std::num::NonZeroU64>, outcome: &Outcome) -> bool {
        let Some(cb) = &self.config.on_outcome else {
            return true;
        };
        let report = OutcomeReport {
            organization_id: &slot.organization_id,
            idempotency_key: slot.key.as_str(),
            outcome,
            tag,
        };
        let mut completed = true;
        self.gate.run(|| {
            completed = catch_unwind(AssertUnwindSafe(|| cb(&report))).is_ok();
        });
        completed
    }

    /// Reports the events that `stop` counted as spooled or lost; they were never taken, so
    /// no `ack`.
    pub(crate) fn report_stopped(&self, stopped: Stopped) {
        let slots = stopped
            .queued
            .into_iter()
            .map(|(env, outcome)| (env.slot, outcome))
            .chain(stopped.spilled);
        for (slot, outcome) in slots {
            // At shutdown a panicking callback is not logged.
            if let Ok(tag) = slot.settle(&outcome) {
                let _ = self.report(&slot, tag, &outcome);
            }
            slot.publish();
        }
    }

    /// Settles what is still in flight once the workers were cancelled, then closes the
    /// gate: after this, no callback runs and no receipt changes.
    pub(crate) fn finish(&self) {
        for (slot, outcome, stored) in self.store.settle_in_flight() {
            // The callback of an outcome its worker stored runs on that worker.
            if stored {
                let _ = self.report(&slot, slot.tag(), &outcome);
            }
            slot.publish();
        }
        self.gate.close();
    }

    /// Remembers the failure of an attempt, for the report at exit.
    fn note_error(&self, error: &ApiError) {
        let text = error.to_string();
        *self
            .last_error
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(text);
    }

    /// The failure of the last failed attempt, if any.
    pub(crate) fn last_error(&self) -> Option<String> {
        self.last_error
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
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
    let mut cancelled = shared.cancel.subscribe();
    while let Some(mut env) = next(&shared, &notify).await {
        env.attempts += 1;
        let sent = tokio::select! {
            biased;
            sent = conn.send(&env) => sent,
            _ = cancelled.wait_for(|c| *c) => {
                // The request is dropped unanswered: the server may have stored the event.
                let outcome = Outcome::InDoubt {
                    idempotency_key: env.key().to_owned(),
                    attempts: env.attempts,
                };
                shared.settle(env, outcome);
                continue;
            }
        };
        match sent {
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
    shared.note_error(&error);
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
                // Answered, so not in doubt: it stays queued (spool) or is lost.
                let attempts = env.attempts;
                let outcome = if shared.durable {
                    Outcome::Spooled { attempts }
                } else {
                    Outcome::Lost { attempts }
                };
                shared.settle(env, outcome);
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
