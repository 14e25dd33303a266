//! The native addon behind the npm package `auditwire`: the Rust core for Node.js.
//!
//! Only conversions live here: packed text (`packed.rs`) or JSON text in, plain objects
//! out, core errors as tagged `Error`s (see `convert.rs`). `index.js` builds the public
//! API on top. Waiting never happens on the event loop: outcomes reach promises through
//! `hub.rs`, and flush, close and management calls run on libuv's thread pool (`tasks.rs`).

#[macro_use]
extern crate napi_derive;

mod convert;
mod hub;
mod packed;
mod packed_emitter;
mod tasks;
mod text;

use std::sync::Arc;
use std::time::Duration;

use auditwire::{
    Client, Config, CreateEventBody, CreateExportRequest, CreateSchemaRequest, EmitOptions,
    LegacyEndpoint, LegacyEvent, ListOptions, Order, Overflow,
};
use napi::bindgen_prelude::Object;
use napi::bindgen_prelude::{AsyncTask, Buffer, Function};
use napi::{Env, Result};

use convert::{api_error, config_error, config_refused, emit_error, validation_error};
use convert::{stats_object, Settled, ShutdownReportJs};
use hub::{Hub, CHUNK};
use packed_emitter::PackedEmitter;
use tasks::{Call, CallTask, CloseTask, FlushTask};
use text::Text;

/// Client settings; times are in milliseconds.
#[napi(object)]
pub struct ClientOptions {
    /// The API key (the JavaScript layer reads `WORKOS_API_KEY` when none is given).
    pub api_key: Option<String>,
    /// The API base URL.
    pub base_url: Option<String>,
    /// Per-request timeout.
    pub timeout: Option<f64>,
    /// Retries after the first attempt.
    pub max_retries: Option<u32>,
    /// Requests in flight at once, each on its own keep-alive connection.
    pub workers: Option<u32>,
    /// Events the memory queue holds.
    pub queue_capacity: Option<u32>,
    /// `reject`, `block` or `spill` when the queue is full.
    pub overflow: Option<String>,
    /// Longest wait under `block`.
    pub block_timeout: Option<f64>,
    /// Directory of the disk spool.
    pub spool_dir: Option<String>,
    /// Trust only the CA certificates in this PEM file (a private or self-signed server).
    pub ca_file: Option<String>,
    /// Longest delivery wait at shutdown.
    pub shutdown_timeout: Option<f64>,
    /// Appended to the User-Agent.
    pub user_agent_suffix: Option<String>,
    /// Report every outcome to JavaScript (for `onOutcome`).
    pub report_all: Option<bool>,
    /// Send v1 events unchanged to `POST /events` instead of translating them.
    pub legacy_v1: Option<bool>,
}

fn millis(value: f64, what: &str) -> Result<Duration> {
    Duration::try_from_secs_f64(value / 1000.0).map_err(|_| {
        config_error(format!(
            "{what} must be a finite number of milliseconds >= 0, got {value}"
        ))
    })
}

fn config(o: ClientOptions, hub: &Arc<Hub>) -> Result<Config> {
    let mut b = Config::builder();
    if let Some(k) = o.api_key {
        b = b.api_key(k);
    }
    if let Some(u) = o.base_url {
        b = b.base_url(u);
    }
    if let Some(t) = o.timeout {
        b = b.timeout(millis(t, "timeout")?);
    }
    if let Some(r) = o.max_retries {
        b = b.max_retries(r);
    }
    if let Some(w) = o.workers {
        b = b.workers(w as usize);
    }
    if let Some(q) = o.queue_capacity {
        b = b.queue_capacity(q as usize);
    }
    match o.overflow.as_deref() {
        None => {}
        Some("reject") => b = b.overflow(Overflow::Reject),
        Some("spill") => b = b.overflow(Overflow::Spill),
        Some("block") => {
            let wait = millis(o.block_timeout.unwrap_or(5000.0), "blockTimeout")?;
            b = b.overflow(Overflow::Block(wait));
        }
        Some(other) => {
            return Err(config_error(format!(
                "overflow must be reject, block or spill, got {other:?}"
            )))
        }
    }
    if let Some(d) = o.spool_dir {
        b = b.spool_dir(d);
    }
    if let Some(f) = o.ca_file {
        b = b.ca_file(f);
    }
    if let Some(t) = o.shutdown_timeout {
        b = b.shutdown_timeout(millis(t, "shutdownTimeout")?);
    }
    let mut suffix = format!("node/{}", env!("CARGO_PKG_VERSION"));
    if let Some(s) = o.user_agent_suffix {
        suffix = format!("{suffix} {s}");
    }
    b = b.user_agent_suffix(suffix);
    if o.legacy_v1 == Some(true) {
        b = b.legacy_endpoint(LegacyEndpoint::V1);
    }
    let h = hub.clone();
    b = b.on_outcome(move |r| h.on_outcome(r));
    b.build().map_err(|e| config_refused(&e))
}

/// The core client of one `AuditWire` instance.
#[napi]
pub struct NativeClient {
    client: Arc<Client>,
    hub: Arc<Hub>,
}

/// `CHUNK_SIZE` slots of accepted events, freed when this object is collected (receipts and
/// waiting promises hold it).
#[napi]
pub struct NativeChunk {
    first: u32,
    hub: Arc<Hub>,
}

#[napi]
impl NativeChunk {
    /// The id of the first slot.
    #[napi(getter)]
    pub fn first(&self) -> u32 {
        self.first
    }

    /// Lets promise `watch` wait for the event in slot `slot`; returns the outcome now if
    /// the event has one.
    #[napi]
    pub fn watch(&self, slot: u32, watch: u32) -> Result<Option<Settled>> {
        self.hub
            .watch(slot, watch)
            .map_err(|()| config_error(format!("slot {slot} holds no event")))
    }

    /// `[organizationId, idempotencyKey]` of the event in slot `slot`.
    #[napi]
    pub fn identity(&self, slot: u32) -> Result<Vec<String>> {
        match self.hub.identity(slot) {
            Some((org, key)) => Ok(vec![org, key]),
            None => Err(config_error(format!("slot {slot} holds no event"))),
        }
    }
}

impl Drop for NativeChunk {
    fn drop(&mut self) {
        self.hub.release_chunk(self.first);
    }
}

fn list_options(
    limit: Option<u32>,
    order: Option<String>,
    before: Option<String>,
    after: Option<String>,
) -> Result<ListOptions> {
    let order = order
        .as_deref()
        .map(Order::from_name)
        .transpose()
        .map_err(config_error)?;
    Ok(ListOptions {
        limit,
        order,
        before,
        after,
    })
}

fn json_text<T: serde::Serialize>(value: &T) -> Result<String> {
    serde_json::to_string(value).map_err(config_error)
}

impl NativeClient {
    fn call(&self, call: Call) -> AsyncTask<CallTask> {
        AsyncTask::new(CallTask {
            client: self.client.clone(),
            call: Some(call),
        })
    }

    fn accept(&self, body: &[u8], legacy: bool, key: Option<String>) -> Result<auditwire::Receipt> {
        let options = EmitOptions {
            idempotency_key: key,
        };
        if legacy {
            self.client.emit_legacy_json(body, options)
        } else {
            self.client.emit_json(body, options)
        }
        .map_err(|e| emit_error(&e))
    }
}

#[napi]
impl NativeClient {
    /// Starts a client; `notify` is called (weakly: it never holds the process open) when
    /// outcomes are waiting in `takeOutcomes`.
    #[napi(constructor)]
    pub fn new(options: ClientOptions, notify: Function<u32, ()>) -> Result<Self> {
        let hub = Arc::new(Hub::new(options.report_all == Some(true)));
        let config = config(options, &hub)?;
        let tsfn = notify
            .build_threadsafe_function::<u32>()
            .callee_handled::<false>()
            .weak::<true>()
            .build()?;
        hub.set_notify(tsfn);
        let client = Client::try_new(config).map_err(|e| config_refused(&e))?;
        Ok(NativeClient {
            client: Arc::new(client),
            hub,
        })
    }

    /// The base URL in use.
    #[napi(getter)]
    pub fn base_url(&self) -> String {
        self.client.config().base_url().to_owned()
    }

    /// The configured shutdown timeout in milliseconds.
    #[napi(getter)]
    pub fn shutdown_timeout(&self) -> f64 {
        self.client.config().shutdown_timeout().as_secs_f64() * 1000.0
    }

    /// Validates and queues a JSON body (`{organization_id, event}`, or a v1 event with
    /// `legacy`) into slot `slot`, watched by promise `watch` (0: nobody yet).
    #[napi(
        ts_args_type = "body: string, legacy: boolean, key: string | undefined | null, slot: number, watch: number"
    )]
    pub fn emit(
        &self,
        body: Text,
        legacy: bool,
        key: Option<String>,
        slot: u32,
        watch: u32,
    ) -> Result<()> {
        let receipt = self.accept(body.bytes(), legacy, key)?;
        self.hub.track(slot, receipt, watch)
    }

    /// `emitPacked(packed, key, slot, watch, at)` bound to this client: validates and queues
    /// a packed body (`lib/pack.js`, with `at` the Unix milliseconds of its Date) into slot
    /// `slot`, watched by promise `watch`; `false` (nothing queued) when the JSON path must
    /// decide.
    #[napi(
        ts_return_type = "(packed: string, key: string | undefined | null, slot: number, watch: number, at: number) => boolean"
    )]
    pub fn packed_emitter(&self) -> PackedEmitter {
        PackedEmitter {
            client: self.client.clone(),
            hub: self.hub.clone(),
        }
    }

    /// Allocates `CHUNK_SIZE` slots; they are freed when the returned object is collected.
    #[napi]
    pub fn new_chunk(&self) -> NativeChunk {
        NativeChunk {
            first: self.hub.new_chunk(),
            hub: self.hub.clone(),
        }
    }

    /// The outcomes settled since the last call.
    #[napi]
    pub fn take_outcomes(&self) -> Vec<Settled> {
        self.hub.take()
    }

    /// Waits up to `timeoutMs` for every accepted event; resolves with how many remain.
    #[napi]
    pub fn flush(&self, timeout_ms: f64) -> Result<AsyncTask<FlushTask>> {
        Ok(AsyncTask::new(FlushTask {
            client: self.client.clone(),
            timeout: millis(timeout_ms, "timeout")?,
        }))
    }

    /// Stops accepting, delivers for up to `timeoutMs`; resolves with what was not
    /// delivered.
    #[napi(ts_return_type = "Promise<ShutdownReportJs>")]
    pub fn close(&self, timeout_ms: f64) -> Result<AsyncTask<CloseTask>> {
        Ok(AsyncTask::new(CloseTask {
            client: self.client.clone(),
            hub: self.hub.clone(),
            timeout: millis(timeout_ms, "timeout")?,
        }))
    }

    /// `close` that blocks the JavaScript thread (for the process `exit` hook): delivers
    /// for up to `timeoutMs`, then stops; returns what was not delivered.
    #[napi]
    pub fn close_sync(&self, timeout_ms: f64) -> Result<ShutdownReportJs> {
        let report = self.client.shutdown_report(millis(timeout_ms, "timeout")?);
        self.hub.sweep();
        Ok(report.into())
    }

    /// A snapshot of the counters: each core counter under its camelCase name, and
    /// `pending`.
    #[napi(ts_return_type = "Record<string, number>")]
    pub fn stats<'env>(&self, env: &'env Env) -> Result<Object<'env>> {
        stats_object(env, &self.client.stats())
    }

    /// `POST /audit_logs/exports` with a JSON request; resolves with the export's JSON.
    #[napi]
    pub fn create_export(&self, request: String) -> Result<AsyncTask<CallTask>> {
        let req: CreateExportRequest = serde_json::from_str(&request)
            .map_err(|e| config_error(format!("invalid export request: {e}")))?;
        Ok(self.call(Box::new(move |c| {
            json_text(&c.create_export(&req).map_err(|e| api_error(&e))?)
        })))
    }

    /// `GET /audit_logs/exports/{id}`; resolves with the export's JSON.
    #[napi]
    pub fn get_export(&self, export_id: String) -> AsyncTask<CallTask> {
        self.call(Box::new(move |c| {
            json_text(&c.get_export(&export_id).map_err(|e| api_error(&e))?)
        }))
    }

    /// `POST /audit_logs/actions/{action}/schemas`; resolves with the schema's JSON.
    #[napi]
    pub fn create_schema(&self, action: String, schema: String) -> Result<AsyncTask<CallTask>> {
        let req: CreateSchemaRequest = serde_json::from_str(&schema)
            .map_err(|e| config_error(format!("invalid schema request: {e}")))?;
        Ok(self.call(Box::new(move |c| {
            json_text(&c.create_schema(&action, &req).map_err(|e| api_error(&e))?)
        })))
    }

    /// `GET /audit_logs/actions`; resolves with the list's JSON.
    #[napi]
    pub fn list_actions(
        &self,
        limit: Option<u32>,
        order: Option<String>,
        before: Option<String>,
        after: Option<String>,
    ) -> Result<AsyncTask<CallTask>> {
        let opts = list_options(limit, order, before, after)?;
        Ok(self.call(Box::new(move |c| {
            json_text(&c.list_actions(&opts).map_err(|e| api_error(&e))?)
        })))
    }

    /// `GET /audit_logs/actions/{action}/schemas`; resolves with the list's JSON.
    #[napi]
    pub fn list_schemas(
        &self,
        action: String,
        limit: Option<u32>,
        order: Option<String>,
        before: Option<String>,
        after: Option<String>,
    ) -> Result<AsyncTask<CallTask>> {
        let opts = list_options(limit, order, before, after)?;
        Ok(self.call(Box::new(move |c| {
            json_text(&c.list_schemas(&action, &opts).map_err(|e| api_error(&e))?)
        })))
    }

    /// `GET /organizations/{id}/audit_logs_retention`; resolves with its JSON.
    #[napi]
    pub fn get_retention(&self, organization_id: String) -> AsyncTask<CallTask> {
        self.call(Box::new(move |c| {
            json_text(
                &c.get_retention(&organization_id)
                    .map_err(|e| api_error(&e))?,
            )
        }))
    }

    /// `PUT /organizations/{id}/audit_logs_retention`; resolves with its JSON.
    #[napi]
    pub fn set_retention(&self, organization_id: String, days: u32) -> AsyncTask<CallTask> {
        self.call(Box::new(move |c| {
            json_text(
                &c.set_retention(&organization_id, days)
                    .map_err(|e| api_error(&e))?,
            )
        }))
    }
}

impl Drop for NativeClient {
    fn drop(&mut self) {
        // The JavaScript object is gone (or its environment is closing): no more wake-ups.
        self.hub.clear_notify();
    }
}

/// Validates a request body (or a v1 event with `legacy`) given as JSON bytes and returns
/// the exact JSON that would be sent.
#[napi]
pub fn validate(body: Buffer, legacy: bool) -> Result<String> {
    let result = if legacy {
        LegacyEvent::from_json(&body)
            .and_then(|e| e.validate().map(|()| e))
            .and_then(|e| e.to_current())
            .map(|b| b.to_json())
    } else {
        CreateEventBody::from_json(&body).map(|b| b.to_json())
    };
    match result {
        Ok(bytes) => String::from_utf8(bytes.to_vec()).map_err(config_error),
        Err(e) => Err(validation_error(&e)),
    }
}

/// The wire JSON of a packed body (`lib/pack.js`, with `at` the Unix milliseconds of its
/// Date), as `emitPacked` would queue it; `null` when the JSON path must decide.
#[napi(ts_args_type = "packed: string, at: number")]
pub fn packed_body(packed: Text, at: f64) -> Option<String> {
    packed::with_body(packed.bytes(), at, |org, event| {
        let body = CreateEventBody {
            organization_id: org.to_owned(),
            event: event.clone(),
        };
        String::from_utf8_lossy(&body.to_json()).into_owned()
    })
}

/// Slots per chunk (see `newChunk`).
#[napi]
pub const CHUNK_SIZE: u32 = CHUNK;

/// The version of the native addon.
#[napi]
pub fn version() -> String {
    env!("CARGO_PKG_VERSION").to_owned()
}
