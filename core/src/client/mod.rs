//! The delivery engine: a [`Client`] validates events on the caller's thread, queues them,
//! and delivers them in the background with retries; each accepted event ends as exactly one
//! [`Outcome`], visible on its [`Receipt`], in [`Stats`] and through the `on_outcome` callback.
//!
//! # Fork
//!
//! The client notices a `fork()` on its next call in the child: the child forgets the
//! parent's workers and queue (the parent keeps delivering its own events) and starts fresh
//! workers for what the child emits. Call into the client from the child before starting
//! threads that share it.

mod api_error;
mod api_types;
mod config;
mod delivery_http;
mod envelope;
mod errors;
mod fork;
mod gate;
mod management;
mod outcome;
mod pause;
mod queue;
mod receipt;
mod retry;
mod spool;
mod sqlite_config;
mod stats;
mod thread_class;
mod transport;
mod wal_checkpoint;
mod worker;

use std::sync::atomic::{AtomicPtr, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

pub use api_error::{ApiError, ErrorKind};
pub use api_types::{
    AuditLogAction, AuditLogExport, AuditLogSchema, CreateExportRequest, CreateSchemaRequest,
    ExportState, List, ListMetadata, ListOptions, Order, Retention, SchemaActor, SchemaTarget,
};
pub use config::{
    Config, ConfigBuilder, Durability, LegacyEndpoint, OutcomeCallback, Overflow, DEFAULT_BASE_URL,
    DEFAULT_QUEUE_CAPACITY, DEFAULT_QUEUE_MAX_BYTES, DEFAULT_RETRY_AFTER_CAP, DEFAULT_RETRY_WINDOW,
    DEFAULT_SHUTDOWN_TIMEOUT, DEFAULT_SPOOL_MAX_BYTES, DEFAULT_SPOOL_RETRY_WINDOW, DEFAULT_TIMEOUT,
    DEFAULT_WORKERS, ENV_API_KEY, ENV_BASE_URL, ENV_REQUEST_TIMEOUT,
};
pub use envelope::MAX_IDEMPOTENCY_KEY_LEN;
pub use errors::{ConfigError, CreateEventError, EmitError, QueueLimit};
pub use outcome::{Outcome, OutcomeReport};
pub use receipt::Receipt;
pub use retry::{is_retryable_status, parse_retry_after, Backoff};
pub use spool::{
    spool_dead_letters, spool_retry, spool_status, DeadLetter, RetryReport, SpoolError, SpoolRun,
    SpoolStatus, SPOOL_SCHEMA_VERSION,
};
pub use stats::Stats;

use crate::{CreateEventBody, Event, LegacyEvent, Problem, Rule, ValidationError};
use envelope::{check_key, Endpoint, Envelope, IdempotencyKey};
use queue::MemoryQueue;
use receipt::Slot;
use retry::RetryPolicy;
use spool::Spool;
use stats::Counters;
use transport::Transport;
use worker::Shared;

/// Per-event options of `emit`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EmitOptions {
    /// The idempotency key; a new UUID v4 when `None`.
    pub idempotency_key: Option<String>,
}

impl EmitOptions {
    /// Options with the caller's idempotency key.
    pub fn with_key(key: impl Into<String>) -> Self {
        EmitOptions {
            idempotency_key: Some(key.into()),
        }
    }
}

/// What shutdown left behind: undelivered events, and where they are.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ShutdownReport {
    /// Accepted events not delivered nor refused by the API (`spooled + lost + in_doubt`).
    pub remaining: usize,
    /// Undelivered events kept in the disk spool: the next run delivers them.
    pub spooled: usize,
    /// Undelivered events lost (no spool).
    pub lost: usize,
    /// Events sent without an answer before the deadline: the server may have stored them.
    /// With a spool they stay on disk and the next run re-sends them under the same key.
    pub in_doubt: usize,
    /// The failure of the last failed delivery attempt, if any.
    pub last_error: Option<String>,
}

impl ShutdownReport {
    /// The one line a front door prints when events were not delivered at exit, e.g.
    /// `auditwire: 12 event(s) not delivered at exit: 12 lost, 0 spooled, 0 in doubt — last
    /// error: connection refused`; `None` when every event ended.
    pub fn exit_message(&self) -> Option<String> {
        if self.remaining == 0 {
            return None;
        }
        let mut line = format!(
            "auditwire: {} event(s) not delivered at exit: {} lost, {} spooled, {} in doubt",
            self.remaining, self.lost, self.spooled, self.in_doubt
        );
        if let Some(e) = &self.last_error {
            line.push_str(" — last error: ");
            line.push_str(e);
        }
        Some(line)
    }
}

/// The running part of a client: shared state, workers and the management transport.
struct Engine {
    shared: Arc<Shared>,
    spool: Option<Arc<Spool>>,
    workers: Mutex<Vec<JoinHandle<()>>>,
    management: Transport,
    shut_down: Mutex<Option<ShutdownReport>>,
    /// Why the spool could not be opened: every `emit` is refused with it.
    broken: Option<String>,
}

/// Longest a shutdown waits for the spool writer to commit what is queued.
const SPOOL_CLOSE_GRACE: Duration = Duration::from_secs(5);

/// Longest a shutdown waits for cancelled workers to end (they end at once unless a
/// callback or a disk write holds them); what is still in flight then is settled in doubt.
const CANCEL_GRACE: Duration = Duration::from_secs(1);

/// Longest a new client waits for its worker threads to set up.
const WORKER_SET_UP_GRACE: Duration = Duration::from_secs(10);

/// Waits until each of `threads` workers has set up its event loop (or failed to).
///
/// A worker's first set-up may take process-wide locks (a runtime's lazily built globals);
/// a `fork()` that caught one held would leave the child's workers waiting on it forever.
/// Once the client exists, no worker is still setting up.
fn wait_set_up(set_up: &std::sync::mpsc::Receiver<()>, threads: usize) {
    let deadline = Instant::now() + WORKER_SET_UP_GRACE;
    for _ in 0..threads {
        let left = deadline.saturating_duration_since(Instant::now());
        match set_up.recv_timeout(left) {
            Ok(()) => {}
            // Every worker has sent or ended (an ending worker logs why).
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => return,
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                log::warn!(
                    "auditwire: delivery workers not set up after {WORKER_SET_UP_GRACE:?}; continuing"
                );
                return;
            }
        }
    }
}

impl Engine {
    fn start(config: &Arc<Config>) -> Result<Self, ConfigError> {
        let spool = match &config.spool_dir {
            Some(dir) => Some(Arc::new(
                Spool::open(dir, config.spool_max_bytes, config.durability)
                    .map_err(ConfigError::Spool)?,
            )),
            None => None,
        };
        Ok(Engine::with_spool(config, spool, None))
    }

    fn broken(config: &Arc<Config>, why: String) -> Self {
        Engine::with_spool(config, None, Some(why))
    }

    fn with_spool(config: &Arc<Config>, spool: Option<Arc<Spool>>, broken: Option<String>) -> Self {
        let counters = Arc::new(Counters::default());
        if let Some(sp) = &spool {
            counters
                .adopted
                .store(sp.initial_pending() as u64, Ordering::Relaxed);
        }
        let (capacity, max_bytes) = (config.queue_capacity, config.queue_max_bytes);
        let store = match &spool {
            Some(sp) => MemoryQueue::with_spool(capacity, max_bytes, sp.clone(), counters.clone()),
            None => MemoryQueue::new(capacity, max_bytes, counters.clone()),
        };
        let shared = Arc::new(Shared {
            config: config.clone(),
            store: Box::new(store),
            durable: spool.is_some(),
            gate: Default::default(),
            cancel: tokio::sync::watch::Sender::new(false),
            last_error: Default::default(),
            counters,
            policy: RetryPolicy {
                backoff: config.backoff,
                max_retries: config.max_retries,
                window: config.retry_window,
                retry_after_cap: config.retry_after_cap,
            },
        });
        // `workers` concurrent connections on event-loop threads: one is enough to keep
        // them all busy; with a spool a second one keeps sending while the first is in
        // SQLite.
        let threads = config
            .workers
            .min(if spool.is_some() { worker_threads() } else { 1 });
        let (ready, set_up) = std::sync::mpsc::sync_channel(threads);
        let workers = (0..threads)
            .map(|i| {
                let s = shared.clone();
                let ready = ready.clone();
                let lanes = config.workers / threads + usize::from(i < config.workers % threads);
                std::thread::Builder::new()
                    .name(format!("auditwire-worker-{i}"))
                    .spawn(move || worker::run(s, lanes, ready))
                    .expect("cannot start an auditwire worker thread")
            })
            .collect();
        drop(ready);
        wait_set_up(&set_up, threads);
        Engine {
            management: Transport::new(config),
            shared,
            spool,
            workers: Mutex::new(workers),
            shut_down: Mutex::new(None),
            broken,
        }
    }

    fn shutdown(&self, timeout: Duration) -> ShutdownReport {
        let deadline = Instant::now()
            .checked_add(timeout)
            .unwrap_or_else(far_future);
        let mut done = self
            .shut_down
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(report) = &*done {
            return report.clone();
        }
        let shared = &self.shared;
        let store = &shared.store;
        store.close();
        store.wait_idle(deadline);
        // Queued events are counted as spooled (or lost) now; their callbacks run here.
        let stopped = store.stop();
        // Requests still in flight are cancelled: those without an answer are in doubt.
        shared.cancel.send_replace(true);
        shared.report_stopped(stopped);
        let handles =
            std::mem::take(&mut *self.workers.lock().unwrap_or_else(PoisonError::into_inner));
        if store.wait_workers(handles.len(), Instant::now() + CANCEL_GRACE) {
            for h in handles {
                let _ = h.join();
            }
        }
        // A worker still held (by a callback or the disk) is detached: whatever it settles
        // later changes no receipt, no counter and runs no callback.
        shared.finish();
        if let Some(spool) = &self.spool {
            let close_by = deadline.max(Instant::now() + SPOOL_CLOSE_GRACE);
            if spool.close(close_by).is_none() {
                log::warn!("auditwire: the spool did not close in time; its rows stay on disk");
            }
        }
        let stats = store.stats();
        let report = ShutdownReport {
            remaining: stats.undelivered_at_shutdown() as usize,
            spooled: stats.spooled as usize,
            lost: stats.lost as usize,
            in_doubt: stats.in_doubt as usize,
            last_error: shared.last_error(),
        };
        if let Some(line) = report.exit_message() {
            log::warn!("{line}");
        }
        *done = Some(report.clone());
        report
    }
}

/// A thread-safe audit-log client: `emit` queues, workers deliver in the background.
///
/// Creating a client does no network I/O. Dropping it shuts it down, waiting at most the
/// configured `shutdown_timeout`. Then requests still in flight are cancelled and their
/// events end `in_doubt` (the server may have stored them; re-send under the same key);
/// events never sent, or answered with an error, end `lost` — unless the client has a spool
/// (`spool_dir`): then they stay on disk as `spooled` (in-doubt ones too), and the next client
/// on that directory delivers them under the same keys. Every event the client accepted gets
/// exactly one `on_outcome` call; once shutdown returns, no callback runs and no receipt
/// changes.
///
/// **Fork.** The client records the process it runs in. After `fork()`, its next call in the
/// child (any method) forgets the inherited workers and queue — the parent keeps and
/// delivers its own events — and starts fresh workers for what the child emits. Call into
/// the client in the child before starting threads that share it. A fork may come from any
/// thread at any time after `new` returns: it waits (at most 2 s) for spool writes in
/// progress, so the child inherits no SQLite lock held.
pub struct Client {
    config: Arc<Config>,
    engine: AtomicPtr<Engine>,
    generation: AtomicU64,
    pid: AtomicU32,
    fork_lock: Mutex<()>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("config", &self.config)
            .field("pid", &self.pid.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

impl Client {
    /// Starts a client (its worker threads) with a validated configuration.
    ///
    /// With a spool, prefer [`Client::try_new`]: if the spool cannot be opened, a client made
    /// with `new` refuses every event with `EmitError::Spool` (and logs why).
    pub fn new(config: Config) -> Self {
        match Client::try_new(config.clone()) {
            Ok(c) => c,
            Err(e) => {
                log::error!("auditwire: {e}; every event will be refused");
                Client::with_engine(Arc::new(config), |c| Engine::broken(c, e.to_string()))
            }
        }
    }

    /// Starts a client; fails if the spool directory (or a file in it) cannot be used.
    pub fn try_new(config: Config) -> Result<Self, ConfigError> {
        let config = Arc::new(config);
        let engine = Engine::start(&config)?;
        Ok(Client::with_engine(config, |_| engine))
    }

    fn with_engine(config: Arc<Config>, make: impl FnOnce(&Arc<Config>) -> Engine) -> Self {
        fork::install();
        let engine = Box::into_raw(Box::new(make(&config)));
        Client {
            config,
            engine: AtomicPtr::new(engine),
            generation: AtomicU64::new(fork::generation()),
            pid: AtomicU32::new(std::process::id()),
            fork_lock: Mutex::new(()),
        }
    }

    /// A client configured from `WORKOS_API_KEY`, `WORKOS_BASE_URL` and
    /// `WORKOS_REQUEST_TIMEOUT`.
    pub fn from_env() -> Result<Self, ConfigError> {
        Ok(Client::new(Config::from_env()?))
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The process id the client's workers run in.
    pub fn pid(&self) -> u32 {
        self.engine();
        self.pid.load(Ordering::Relaxed)
    }

    fn engine(&self) -> &Engine {
        if self.generation.load(Ordering::Acquire) != fork::generation() {
            self.restart_after_fork();
        }
        // SAFETY: the pointer comes from Box::into_raw and is freed only in Drop; an engine
        // replaced after a fork is leaked, never freed, so references stay valid.
        unsafe { &*self.engine.load(Ordering::Acquire) }
    }

    #[cold]
    fn restart_after_fork(&self) {
        let _guard = self
            .fork_lock
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let generation = fork::generation();
        if self.generation.load(Ordering::Acquire) == generation {
            return;
        }
        // The inherited engine's threads do not exist here and its locks may be held by
        // them: leave it untouched (leaked) and start afresh. A child opens its own spool
        // run; the parent's run stays locked by the parent alone (see `fork`).
        let fresh = match Engine::start(&self.config) {
            Ok(engine) => engine,
            Err(e) => {
                log::error!("auditwire: {e}; every event will be refused in this child");
                Engine::broken(&self.config, e.to_string())
            }
        };
        let fresh = Box::into_raw(Box::new(fresh));
        self.engine.store(fresh, Ordering::Release);
        self.pid.store(std::process::id(), Ordering::Relaxed);
        self.generation.store(generation, Ordering::Release);
        log::debug!("auditwire: fork detected; started fresh workers in the child");
    }

    /// Validates and queues a current-API event; never waits for the network.
    pub fn emit(
        &self,
        organization_id: &str,
        event: &Event,
        options: EmitOptions,
    ) -> Result<Receipt, EmitError> {
        let engine = self.engine();
        let mut problems = Vec::new();
        if organization_id.is_empty() {
            problems.push(Problem::new(
                "organization_id",
                Rule::Empty,
                "must not be empty",
            ));
        }
        if let Err(e) = event.validate() {
            problems.extend(e.into_problems());
        }
        let key = self.key(&options, &mut problems);
        if let Some(e) = ValidationError::from_problems(problems) {
            return Err(self.refuse(engine, EmitError::Invalid(e)));
        }
        let body = serialise(organization_id, event, 512);
        self.enqueue(engine, body, Endpoint::Events, organization_id, key)
    }

    /// Validates and queues a whole request body.
    pub fn emit_body(
        &self,
        body: &CreateEventBody,
        options: EmitOptions,
    ) -> Result<Receipt, EmitError> {
        self.emit(&body.organization_id, &body.event, options)
    }

    /// Parses, validates and queues a JSON request body `{"organization_id", "event"}`
    /// (for bindings that hold JSON); the body sent is the normalised form.
    pub fn emit_json(&self, json: &[u8], options: EmitOptions) -> Result<Receipt, EmitError> {
        match CreateEventBody::from_json(json) {
            Ok(body) => self.emit_parsed(&body, options, json.len()),
            Err(e) => Err(self.refuse(self.engine(), EmitError::Invalid(e))),
        }
    }

    /// Queues a body from the strict parser, which has applied every rule already.
    fn emit_parsed(
        &self,
        body: &CreateEventBody,
        options: EmitOptions,
        size_hint: usize,
    ) -> Result<Receipt, EmitError> {
        debug_assert!(body.event.validate().is_ok() && !body.organization_id.is_empty());
        let engine = self.engine();
        let mut problems = Vec::new();
        let key = self.key(&options, &mut problems);
        if let Some(e) = ValidationError::from_problems(problems) {
            return Err(self.refuse(engine, EmitError::Invalid(e)));
        }
        let bytes = serialise(&body.organization_id, &body.event, size_hint);
        self.enqueue(engine, bytes, Endpoint::Events, &body.organization_id, key)
    }

    /// Parses, validates and queues a v1 event from JSON (for bindings that hold JSON).
    pub fn emit_legacy_json(
        &self,
        json: &[u8],
        options: EmitOptions,
    ) -> Result<Receipt, EmitError> {
        match LegacyEvent::from_json(json) {
            Ok(event) => self.emit_legacy(&event, options),
            Err(e) => Err(self.refuse(self.engine(), EmitError::Invalid(e))),
        }
    }

    /// Counts an event that a binding refused before `emit` (its own parsing or building
    /// failed) in `refused_invalid`, and returns the error to report.
    pub fn refuse_invalid(&self, e: ValidationError) -> EmitError {
        self.refuse(self.engine(), EmitError::Invalid(e))
    }

    /// Validates and queues a v1 event: translated to the current API by default, or sent
    /// unchanged to `POST /events` with `LegacyEndpoint::V1`.
    pub fn emit_legacy(
        &self,
        event: &LegacyEvent,
        options: EmitOptions,
    ) -> Result<Receipt, EmitError> {
        let engine = self.engine();
        let mut problems = match event.validate() {
            Ok(()) => Vec::new(),
            Err(e) => e.into_problems(),
        };
        let key = self.key(&options, &mut problems);
        let body = if problems.is_empty() {
            match self.config.legacy_endpoint {
                LegacyEndpoint::V1 => Some((event.to_json(), Endpoint::LegacyV1)),
                LegacyEndpoint::Current => match event.to_current() {
                    Ok(b) => Some((b.to_json(), Endpoint::Events)),
                    Err(e) => {
                        problems.extend(e.into_problems());
                        None
                    }
                },
            }
        } else {
            None
        };
        match (body, ValidationError::from_problems(problems)) {
            (Some((bytes, endpoint)), None) => {
                self.enqueue(engine, bytes, endpoint, &event.group, key)
            }
            (_, Some(e)) => Err(self.refuse(engine, EmitError::Invalid(e))),
            (None, None) => unreachable!("a refused translation always reports a problem"),
        }
    }

    /// Emits and waits for the outcome: the blocking call of the official SDKs.
    /// `Ok` holds the `Outcome::Delivered`; the wait is bounded by the retry budget.
    pub fn create_event(
        &self,
        organization_id: &str,
        event: &Event,
        options: EmitOptions,
    ) -> Result<Outcome, CreateEventError> {
        let receipt = self.emit(organization_id, event, options)?;
        wait_outcome(&receipt)
    }

    /// [`Client::create_event`] for a v1 event.
    pub fn create_legacy_event(
        &self,
        event: &LegacyEvent,
        options: EmitOptions,
    ) -> Result<Outcome, CreateEventError> {
        let receipt = self.emit_legacy(event, options)?;
        wait_outcome(&receipt)
    }

    /// Waits up to `timeout` until every accepted event has an outcome; returns how many
    /// still have none.
    pub fn flush(&self, timeout: Duration) -> usize {
        let deadline = Instant::now()
            .checked_add(timeout)
            .unwrap_or_else(far_future);
        self.engine().shared.store.wait_idle(deadline)
    }

    /// Stops accepting events, delivers for up to `timeout`, then stops the workers;
    /// returns how many accepted events were not delivered (with a spool they stay on disk:
    /// see [`Client::shutdown_report`]).
    pub fn shutdown(&self, timeout: Duration) -> usize {
        self.engine().shutdown(timeout).remaining
    }

    /// [`Client::shutdown`], telling apart events kept in the spool from events lost.
    pub fn shutdown_report(&self, timeout: Duration) -> ShutdownReport {
        self.engine().shutdown(timeout)
    }

    /// A snapshot of the counters, taken at one instant (see [`Stats`] for its invariant).
    pub fn stats(&self) -> Stats {
        self.engine().shared.store.stats()
    }

    fn key(&self, options: &EmitOptions, problems: &mut Vec<Problem>) -> IdempotencyKey {
        match &options.idempotency_key {
            None => IdempotencyKey::new_v4(),
            Some(k) => {
                if let Some(why) = check_key(k) {
                    problems.push(Problem::new("idempotency_key", Rule::InvalidValue, why));
                }
                IdempotencyKey::custom(k)
            }
        }
    }

    fn refuse(&self, engine: &Engine, e: EmitError) -> EmitError {
        let c = &engine.shared.counters;
        Counters::bump(match &e {
            EmitError::Invalid(_) => &c.refused_invalid,
            EmitError::Closed => &c.refused_closed,
            EmitError::QueueFull { .. }
            | EmitError::TooLarge { .. }
            | EmitError::SpoolFull { .. }
            | EmitError::Spool(_) => &c.refused_queue_full,
        });
        e
    }

    fn enqueue(
        &self,
        engine: &Engine,
        body: Vec<u8>,
        endpoint: Endpoint,
        organization_id: &str,
        key: IdempotencyKey,
    ) -> Result<Receipt, EmitError> {
        if let Some(why) = &engine.broken {
            return Err(self.refuse(engine, EmitError::Spool(why.clone())));
        }
        let slot = Slot::new(key, organization_id);
        let env = Envelope::new(body, endpoint, slot.clone());
        match engine.shared.store.push(env, self.config.overflow) {
            Ok(()) => Ok(Receipt::new(slot)),
            Err((e, _)) => Err(self.refuse(engine, e)),
        }
    }

    /// Sends a management request with the client's retry rules (see `management.rs`).
    fn management(&self) -> (&Transport, &Shared) {
        let engine = self.engine();
        (&engine.management, &engine.shared)
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        let ptr = *self.engine.get_mut();
        if self.generation.load(Ordering::Acquire) != fork::generation() {
            // A forked child that never used the client: the inherited engine is not ours.
            return;
        }
        // SAFETY: from Box::into_raw in `new` or `restart_after_fork`, freed only here.
        let engine = unsafe { Box::from_raw(ptr) };
        engine.shutdown(self.config.shutdown_timeout);
    }
}

fn far_future() -> Instant {
    Instant::now() + Duration::from_secs(100 * 365 * 24 * 3600)
}

fn wait_outcome(receipt: &Receipt) -> Result<Outcome, CreateEventError> {
    let outcome = loop {
        if let Some(o) = receipt.wait(Duration::from_secs(3600)) {
            break o;
        }
    };
    match outcome {
        Outcome::Delivered { .. } => Ok(outcome),
        Outcome::Rejected { error, .. } => Err(CreateEventError::Api(error)),
        Outcome::Expired {
            last_error,
            attempts,
        } => Err(CreateEventError::Expired {
            last_error,
            attempts,
        }),
        Outcome::InDoubt { .. } | Outcome::Lost { .. } | Outcome::Spooled { .. } => {
            Err(CreateEventError::Shutdown(outcome))
        }
    }
}

/// `{"organization_id":…,"event":…}`, byte for byte what `CreateEventBody::to_json` writes.
fn serialise(organization_id: &str, event: &Event, size_hint: usize) -> Vec<u8> {
    // The normalised body is about as long as its input: no regrowth while writing.
    let mut buf = Vec::with_capacity(size_hint + 64);
    crate::wire::body(&mut buf, organization_id, event);
    // Queued bodies keep no slack (a shrink is done in place by the allocator).
    buf.shrink_to_fit();
    buf
}

/// Event-loop threads for delivery with a spool: two, or one on a single core.
fn worker_threads() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get().min(2))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Actor, Context, Target, Timestamp};

    fn event() -> Event {
        Event {
            action: "user.signed_in".into(),
            occurred_at: Timestamp::parse("2026-02-02T16:35:39.317Z").unwrap(),
            version: None,
            actor: Actor::new("user_1", "user"),
            targets: vec![Target::new("team_1", "team")],
            context: Context::new("1.2.3.4"),
            metadata: None,
        }
    }

    #[test]
    fn serialise_matches_the_body_type() {
        let body = CreateEventBody {
            organization_id: "org_\"1\"".into(),
            event: event(),
        };
        // The wire writer must give what serde_json writes for the body type.
        assert_eq!(
            serialise(&body.organization_id, &body.event, 0),
            serde_json::to_vec(&body).unwrap()
        );
    }
}
