//! `auditwire._native`: the Rust core behind the Python package `auditwire`.
//!
//! This module mostly converts values: JSON bytes in, dicts and JSON text out, and every
//! core error raised as one `NativeError` whose single argument is a dict (`kind` plus
//! details), which the Python layer (`auditwire/_client.py`, `auditwire/errors.py`) turns
//! into the public exception classes. The hot path is native end to end: `emit` (of
//! `AuditLogsBase`, the base class of `auditwire.AuditLogs`) returns `auditwire.Receipt`
//! itself and raises the public exceptions. The GIL is released around every wait and
//! every call into the core that may wait; worker threads take it only to run the
//! `on_outcome` callback.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicPtr, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

mod direct;
mod encode;

use auditwire::{
    ApiError, Client, Config, ConfigError, CreateEventBody, CreateExportRequest,
    CreateSchemaRequest, Durability, EmitError, EmitOptions, LegacyEvent, ListOptions, Order,
    Outcome, Overflow, Receipt, ValidationError,
};
use pyo3::create_exception;
use pyo3::exceptions::PyException;
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::sync::GILOnceCell;
use pyo3::types::{PyBytes, PyDict, PyList, PyString};

create_exception!(
    _native,
    NativeError,
    PyException,
    "A core error; its only argument is a dict with `kind` and details."
);

/// Longest single wait without checking for signals (Ctrl-C) between slices.
const WAIT_SLICE: Duration = Duration::from_millis(200);

/// Log records kept for the Python drain thread before the oldest are dropped.
const LOG_BUFFER: usize = 10_000;

fn secs(value: f64, what: &str) -> PyResult<Duration> {
    Duration::try_from_secs_f64(value).map_err(|_| {
        native_error_from(&[
            ("kind", "config"),
            (
                "message",
                &format!("{what} must be a finite number of seconds >= 0, got {value}"),
            ),
        ])
    })
}

fn native_error_from(fields: &[(&str, &str)]) -> PyErr {
    Python::with_gil(|py| {
        let d = PyDict::new(py);
        for (k, v) in fields {
            if let Err(e) = d.set_item(*k, *v) {
                return e;
            }
        }
        NativeError::new_err((d.unbind(),))
    })
}

fn json_to_py(py: Python<'_>, value: &serde_json::Value) -> PyResult<PyObject> {
    let json = py.import("json")?;
    Ok(json.call_method1("loads", (value.to_string(),))?.unbind())
}

fn validation_dict<'py>(py: Python<'py>, e: &ValidationError) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("kind", "validation")?;
    d.set_item("message", e.to_string())?;
    let list = PyList::empty(py);
    for p in e.problems() {
        list.append((p.path.as_str(), p.rule.code(), p.message.as_str()))?;
    }
    d.set_item("problems", list)?;
    Ok(d)
}

fn api_dict<'py>(py: Python<'py>, e: &ApiError) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("kind", "api")?;
    d.set_item("error_kind", e.kind.name())?;
    d.set_item("status", e.status)?;
    d.set_item("code", e.code.as_deref())?;
    d.set_item("message", e.message.as_str())?;
    match &e.errors {
        Some(v) => d.set_item("errors", json_to_py(py, v)?)?,
        None => d.set_item("errors", py.None())?,
    }
    d.set_item("request_id", e.request_id.as_deref())?;
    d.set_item("retry_after", e.retry_after.map(|r| r.as_secs_f64()))?;
    Ok(d)
}

fn emit_error_dict<'py>(py: Python<'py>, e: &EmitError) -> PyResult<Bound<'py, PyDict>> {
    if let EmitError::Invalid(v) = e {
        return validation_dict(py, v);
    }
    let d = PyDict::new(py);
    let kind = match e {
        EmitError::QueueFull { .. } | EmitError::TooLarge { .. } => "queue_full",
        EmitError::Closed => "closed",
        EmitError::SpoolFull { .. } => "spool_full",
        _ => "spool",
    };
    d.set_item("kind", kind)?;
    d.set_item("message", e.to_string())?;
    Ok(d)
}

fn emit_error(e: EmitError) -> PyErr {
    Python::with_gil(|py| match emit_error_dict(py, &e) {
        Ok(d) => NativeError::new_err((d.unbind(),)),
        Err(err) => err,
    })
}

static ERROR_FROM: GILOnceCell<PyObject> = GILOnceCell::new();
static EMIT_PYTHON: GILOnceCell<PyObject> = GILOnceCell::new();
static RECEIPT_OUTCOME: GILOnceCell<PyObject> = GILOnceCell::new();
static RECEIPT_RESULT: GILOnceCell<PyObject> = GILOnceCell::new();
static RECEIPT_AWAIT: GILOnceCell<PyObject> = GILOnceCell::new();

/// A function of the pure-Python package, looked up on first use.
fn python_fn<'a>(
    py: Python<'_>,
    cell: &'a GILOnceCell<PyObject>,
    module: &str,
    name: &str,
) -> PyResult<&'a PyObject> {
    cell.get_or_try_init(py, || Ok(py.import(module)?.getattr(name)?.unbind()))
}

/// The public exception (`auditwire.ValidationError`, `QueueFullError`, ...) for `e`.
fn public_emit_error(py: Python<'_>, e: &EmitError) -> PyErr {
    let built = emit_error_dict(py, e).and_then(|d| {
        python_fn(py, &ERROR_FROM, "auditwire.errors", "error_from")?.call1(py, (d,))
    });
    let exc = match built {
        Ok(exc) => exc.into_bound(py),
        Err(err) => return err,
    };
    // As `raise ... from None` in Python.
    if let Err(err) = exc.setattr(intern!(py, "__suppress_context__"), true) {
        return err;
    }
    PyErr::from_value(exc)
}

fn api_error(e: ApiError) -> PyErr {
    Python::with_gil(|py| match api_dict(py, &e) {
        Ok(d) => NativeError::new_err((d.unbind(),)),
        Err(err) => err,
    })
}

fn config_error(e: ConfigError) -> PyErr {
    native_error_from(&[("kind", "config"), ("message", &e.to_string())])
}

fn bad_input(message: String) -> PyErr {
    native_error_from(&[("kind", "config"), ("message", &message)])
}

/// An outcome as a dict: `outcome` (its core name), `attempts`, `organization_id`,
/// `idempotency_key`, `status`, `request_id`, `error`, `description` (its core text).
fn outcome_dict<'py>(
    py: Python<'py>,
    outcome: &Outcome,
    organization_id: &str,
    idempotency_key: &str,
) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("outcome", outcome.name())?;
    d.set_item("attempts", outcome.attempts())?;
    d.set_item("organization_id", organization_id)?;
    d.set_item("idempotency_key", idempotency_key)?;
    match outcome {
        Outcome::Delivered {
            status, request_id, ..
        } => {
            d.set_item("status", *status)?;
            d.set_item("request_id", request_id.as_deref())?;
        }
        _ => {
            d.set_item("status", outcome.error().and_then(|e| e.status))?;
            d.set_item(
                "request_id",
                outcome.error().and_then(|e| e.request_id.as_deref()),
            )?;
        }
    }
    match outcome.error() {
        Some(e) => d.set_item("error", api_dict(py, e)?)?,
        None => d.set_item("error", py.None())?,
    }
    d.set_item("description", outcome.to_string())?;
    Ok(d)
}

/// A buffered log record: level number (Python's), target, message.
type LogRecord = (u8, String, String);

/// A `log` sink that never touches Python: records wait here for the drain thread.
struct Buffered {
    records: Mutex<VecDeque<LogRecord>>,
    ready: Condvar,
}

/// The current buffer; replaced in a forked child, whose copy of the lock may be held by a
/// parent thread that does not exist there.
static LOGS: AtomicPtr<Buffered> = AtomicPtr::new(std::ptr::null_mut());

fn new_buffer() -> *mut Buffered {
    Box::into_raw(Box::new(Buffered {
        records: Mutex::new(VecDeque::new()),
        ready: Condvar::new(),
    }))
}

fn logs() -> &'static Buffered {
    let mut ptr = LOGS.load(Ordering::Acquire);
    if ptr.is_null() {
        let fresh = new_buffer();
        ptr = match LOGS.compare_exchange(
            std::ptr::null_mut(),
            fresh,
            Ordering::AcqRel,
            Ordering::Acquire,
        ) {
            Ok(_) => fresh,
            Err(existing) => {
                // SAFETY: `fresh` was never shared; another thread installed its buffer first.
                drop(unsafe { Box::from_raw(fresh) });
                existing
            }
        };
    }
    // SAFETY: buffers are leaked on purpose (never freed), so the reference stays valid.
    unsafe { &*ptr }
}

/// Gives a forked child a fresh log buffer (the old one is leaked: its lock may be held
/// by a thread that only exists in the parent). Called from `os.register_at_fork`.
#[pyfunction]
fn reset_logs_after_fork() {
    LOGS.store(new_buffer(), Ordering::Release);
}

struct Logger;

impl log::Log for Logger {
    fn enabled(&self, _: &log::Metadata<'_>) -> bool {
        true
    }

    fn log(&self, record: &log::Record<'_>) {
        let level = match record.level() {
            log::Level::Error => 40,
            log::Level::Warn => 30,
            log::Level::Info => 20,
            log::Level::Debug | log::Level::Trace => 10,
        };
        let buf = logs();
        let mut q = buf.records.lock().unwrap_or_else(|e| e.into_inner());
        if q.len() >= LOG_BUFFER {
            q.pop_front();
        }
        q.push_back((level, record.target().to_owned(), record.args().to_string()));
        buf.ready.notify_one();
    }

    fn flush(&self) {}
}

/// Waits up to `timeout` seconds for core log records and returns them as
/// `(levelno, target, message)` tuples (empty on timeout).
#[pyfunction]
fn drain_logs(py: Python<'_>, timeout: f64) -> PyResult<Vec<LogRecord>> {
    let timeout = secs(timeout, "timeout")?;
    Ok(py.allow_threads(|| {
        let buf = logs();
        let q = buf.records.lock().unwrap_or_else(|e| e.into_inner());
        let (mut q, _) = buf
            .ready
            .wait_timeout_while(q, timeout, |q| q.is_empty())
            .unwrap_or_else(|e| e.into_inner());
        q.drain(..).collect()
    }))
}

/// Sets the most verbose level the core logs (Python level number); installs the sink once.
#[pyfunction]
fn set_log_level(levelno: u32) {
    let _ = log::set_logger(&Logger);
    log::set_max_level(match levelno {
        0..=10 => log::LevelFilter::Debug,
        11..=20 => log::LevelFilter::Info,
        21..=30 => log::LevelFilter::Warn,
        31..=40 => log::LevelFilter::Error,
        _ => log::LevelFilter::Off,
    });
}

/// Validates a request body (or a v1 event with `legacy=True`) and returns the exact
/// bytes that would be sent; raises `NativeError` (kind `validation`) otherwise.
#[pyfunction]
#[pyo3(signature = (body, legacy = false))]
fn validate<'py>(py: Python<'py>, body: &[u8], legacy: bool) -> PyResult<Bound<'py, PyBytes>> {
    let result = py.allow_threads(|| {
        if legacy {
            LegacyEvent::from_json(body)
                .and_then(|e| e.validate().map(|()| e))
                .and_then(|e| e.to_current())
                .map(|b| b.to_json())
        } else {
            CreateEventBody::from_json(body).map(|b| b.to_json())
        }
    });
    match result {
        Ok(bytes) => Ok(PyBytes::new(py, bytes.as_ref())),
        Err(e) => Err(NativeError::new_err((validation_dict(py, &e)?.unbind(),))),
    }
}

/// The handle of an accepted event, like a `concurrent.futures.Future`; also awaitable.
#[pyclass(module = "auditwire", name = "Receipt", frozen)]
struct PyReceipt {
    receipt: Receipt,
}

impl PyReceipt {
    fn new(py: Python<'_>, receipt: Receipt) -> PyResult<Bound<'_, PyReceipt>> {
        Bound::new(py, PyReceipt { receipt })
    }
}

#[pymethods]
impl PyReceipt {
    /// The idempotency key sent with every attempt.
    #[getter]
    fn idempotency_key(&self) -> &str {
        self.receipt.idempotency_key()
    }

    /// The organization of the event.
    #[getter]
    fn organization_id(&self) -> &str {
        self.receipt.organization_id()
    }

    /// True once the event has an outcome.
    fn done(&self) -> bool {
        self.receipt.is_done()
    }

    /// Waits (GIL released) and returns the outcome, whatever it is; raises
    /// `concurrent.futures.TimeoutError` when the time ran out.
    #[pyo3(signature = (timeout = None))]
    fn outcome(slf: &Bound<'_, Self>, timeout: Option<PyObject>) -> PyResult<PyObject> {
        let py = slf.py();
        python_fn(
            py,
            &RECEIPT_OUTCOME,
            "auditwire._client",
            "_receipt_outcome",
        )?
        .call1(py, (slf, timeout))
    }

    /// Waits up to `timeout` seconds (`None`: until the retry budget ends).
    ///
    /// Returns the outcome when delivered; raises the `APIError` subclass on rejection
    /// or expiry, `ClosedError` (`InDoubtError` when in doubt) when the client shut down
    /// first, and `concurrent.futures.TimeoutError` when the time ran out.
    #[pyo3(signature = (timeout = None))]
    fn result(slf: &Bound<'_, Self>, timeout: Option<PyObject>) -> PyResult<PyObject> {
        let py = slf.py();
        python_fn(py, &RECEIPT_RESULT, "auditwire._client", "_receipt_result")?
            .call1(py, (slf, timeout))
    }

    /// Awaits `result()` in the running loop's default executor.
    fn __await__(slf: &Bound<'_, Self>) -> PyResult<PyObject> {
        let py = slf.py();
        python_fn(py, &RECEIPT_AWAIT, "auditwire._client", "_receipt_await")?.call1(py, (slf,))
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        let key = PyString::new(py, self.receipt.idempotency_key()).repr()?;
        let done = if self.receipt.is_done() {
            "True"
        } else {
            "False"
        };
        Ok(format!("<auditwire.Receipt key={key} done={done}>"))
    }

    /// Waits up to `timeout` seconds (forever with `None`) with the GIL released; returns
    /// the outcome dict, or `None` when the time ran out.
    #[pyo3(name = "_wait", signature = (timeout = None))]
    fn wait<'py>(
        &self,
        py: Python<'py>,
        timeout: Option<f64>,
    ) -> PyResult<Option<Bound<'py, PyDict>>> {
        let deadline = match timeout {
            Some(t) => Some(Instant::now() + secs(t, "timeout")?),
            None => None,
        };
        loop {
            let slice = match deadline {
                Some(d) => d.saturating_duration_since(Instant::now()).min(WAIT_SLICE),
                None => WAIT_SLICE,
            };
            if let Some(outcome) = py.allow_threads(|| self.receipt.wait(slice)) {
                return outcome_dict(
                    py,
                    &outcome,
                    self.receipt.organization_id(),
                    self.receipt.idempotency_key(),
                )
                .map(Some);
            }
            py.check_signals()?;
            if deadline.is_some_and(|d| Instant::now() >= d) {
                return Ok(None);
            }
        }
    }
}

/// The core client: one per `auditwire.Client`.
#[pyclass(module = "auditwire._native", frozen)]
struct NativeClient {
    client: Arc<Client>,
    shutdown_timeout: Duration,
    /// `emit` never waits (no spool, overflow `reject`): it runs without releasing the GIL.
    emit_never_waits: bool,
}

fn options(key: Option<String>) -> EmitOptions {
    EmitOptions {
        idempotency_key: key,
    }
}

fn list_options(
    limit: Option<u32>,
    order: Option<&str>,
    before: Option<String>,
    after: Option<String>,
) -> PyResult<ListOptions> {
    let order = order.map(Order::from_name).transpose().map_err(bad_input)?;
    Ok(ListOptions {
        limit,
        order,
        before,
        after,
    })
}

fn to_json_text<T: serde::Serialize>(value: &T) -> PyResult<String> {
    serde_json::to_string(value).map_err(|e| bad_input(e.to_string()))
}

#[pymethods]
impl NativeClient {
    /// Builds a client; `None` means the default (or the `WORKOS_*` environment variable).
    #[new]
    #[pyo3(signature = (
        api_key = None, base_url = None, timeout = None, max_retries = None, workers = None,
        queue_capacity = None, overflow = None, block_timeout = None, spool_dir = None,
        shutdown_timeout = None, on_outcome = None, user_agent_suffix = None,
        ca_file = None, spool_max_bytes = None, durability = None,
    ))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        api_key: Option<String>,
        base_url: Option<String>,
        timeout: Option<f64>,
        max_retries: Option<u32>,
        workers: Option<usize>,
        queue_capacity: Option<usize>,
        overflow: Option<&str>,
        block_timeout: Option<f64>,
        spool_dir: Option<std::path::PathBuf>,
        shutdown_timeout: Option<f64>,
        on_outcome: Option<PyObject>,
        user_agent_suffix: Option<String>,
        ca_file: Option<std::path::PathBuf>,
        spool_max_bytes: Option<u64>,
        durability: Option<&str>,
    ) -> PyResult<Self> {
        let mut b = Config::builder();
        if let Some(k) = api_key {
            b = b.api_key(k);
        }
        if let Some(u) = base_url {
            b = b.base_url(u);
        }
        if let Some(t) = timeout {
            b = b.timeout(secs(t, "timeout")?);
        }
        if let Some(r) = max_retries {
            b = b.max_retries(r);
        }
        if let Some(w) = workers {
            b = b.workers(w);
        }
        if let Some(q) = queue_capacity {
            b = b.queue_capacity(q);
        }
        match overflow {
            None => {}
            Some("reject") => b = b.overflow(Overflow::Reject),
            Some("spill") => b = b.overflow(Overflow::Spill),
            Some("block") => {
                let wait = secs(block_timeout.unwrap_or(5.0), "block_timeout")?;
                b = b.overflow(Overflow::Block(wait));
            }
            Some(other) => {
                return Err(bad_input(format!(
                    "overflow must be reject, block or spill, got {other:?}"
                )))
            }
        }
        if let Some(d) = spool_dir {
            b = b.spool_dir(d);
        }
        if let Some(t) = shutdown_timeout {
            b = b.shutdown_timeout(secs(t, "shutdown_timeout")?);
        }
        if let Some(f) = ca_file {
            b = b.ca_file(f);
        }
        if let Some(n) = spool_max_bytes {
            b = b.spool_max_bytes(n);
        }
        match durability {
            None => {}
            Some("process") => b = b.durability(Durability::Process),
            Some("power_loss") => b = b.durability(Durability::PowerLoss),
            Some(other) => {
                return Err(bad_input(format!(
                    "durability must be process or power_loss, got {other:?}"
                )))
            }
        }
        let mut suffix = String::from("python");
        if let Some(s) = user_agent_suffix {
            suffix = format!("{suffix} {s}");
        }
        b = b.user_agent_suffix(suffix);
        if let Some(cb) = on_outcome {
            b = b.on_outcome(move |report| {
                // Runs on a delivery worker thread: the only place a worker takes the GIL.
                Python::with_gil(|py| {
                    let result = outcome_dict(
                        py,
                        report.outcome,
                        report.organization_id,
                        report.idempotency_key,
                    )
                    .and_then(|d| cb.call1(py, (d,)));
                    if let Err(e) = result {
                        e.write_unraisable(py, None);
                    }
                });
            });
        }
        let config = b.build().map_err(config_error)?;
        let shutdown_timeout = config.shutdown_timeout();
        let emit_never_waits =
            config.spool_dir().is_none() && config.overflow() == Overflow::Reject;
        let client = py
            .allow_threads(|| Client::try_new(config))
            .map_err(config_error)?;
        Ok(NativeClient {
            client: Arc::new(client),
            shutdown_timeout,
            emit_never_waits,
        })
    }

    /// The base URL in use.
    #[getter]
    fn base_url(&self) -> &str {
        self.client.config().base_url()
    }

    /// The configured shutdown timeout in seconds.
    #[getter]
    fn shutdown_timeout(&self) -> f64 {
        self.shutdown_timeout.as_secs_f64()
    }

    /// Validates and queues a JSON body `{"organization_id", "event"}`; never waits.
    #[pyo3(signature = (body, idempotency_key = None))]
    fn emit_json<'py>(
        &self,
        py: Python<'py>,
        body: &[u8],
        idempotency_key: Option<String>,
    ) -> PyResult<Bound<'py, PyReceipt>> {
        py.allow_threads(|| self.client.emit_json(body, options(idempotency_key)))
            .map_err(emit_error)
            .and_then(|receipt| PyReceipt::new(py, receipt))
    }

    /// Validates and queues a JSON v1 event (the seed package's `auditLog.createEvent`).
    #[pyo3(signature = (body, idempotency_key = None))]
    fn emit_legacy_json<'py>(
        &self,
        py: Python<'py>,
        body: &[u8],
        idempotency_key: Option<String>,
    ) -> PyResult<Bound<'py, PyReceipt>> {
        py.allow_threads(|| self.client.emit_legacy_json(body, options(idempotency_key)))
            .map_err(emit_error)
            .and_then(|receipt| PyReceipt::new(py, receipt))
    }

    /// Waits up to `timeout` seconds for every accepted event; returns how many remain.
    fn flush(&self, py: Python<'_>, timeout: f64) -> PyResult<usize> {
        let t = secs(timeout, "timeout")?;
        Ok(py.allow_threads(|| self.client.flush(t)))
    }

    /// Stops accepting, delivers for up to `timeout` seconds; returns the shutdown report
    /// as a dict (`remaining`, `spooled`, `lost`, `in_doubt`, `last_error`, `exit_message`).
    fn shutdown<'py>(&self, py: Python<'py>, timeout: f64) -> PyResult<Bound<'py, PyDict>> {
        let t = secs(timeout, "timeout")?;
        let r = py.allow_threads(|| self.client.shutdown_report(t));
        let d = PyDict::new(py);
        d.set_item("remaining", r.remaining)?;
        d.set_item("spooled", r.spooled)?;
        d.set_item("lost", r.lost)?;
        d.set_item("in_doubt", r.in_doubt)?;
        d.set_item("exit_message", r.exit_message())?;
        d.set_item("last_error", r.last_error)?;
        Ok(d)
    }

    /// The counters named by core's `Stats::fields()`, in its order, then `pending`, as a dict.
    fn stats<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let s = py.allow_threads(|| self.client.stats());
        let d = PyDict::new(py);
        for (k, v) in s.fields().into_iter().chain([("pending", s.pending())]) {
            d.set_item(k, v)?;
        }
        Ok(d)
    }

    /// `POST /audit_logs/exports` with a JSON request; returns the export as JSON text.
    fn create_export(&self, py: Python<'_>, request: &[u8]) -> PyResult<String> {
        let req: CreateExportRequest = serde_json::from_slice(request)
            .map_err(|e| bad_input(format!("invalid export request: {e}")))?;
        let r = py
            .allow_threads(|| self.client.create_export(&req))
            .map_err(api_error)?;
        to_json_text(&r)
    }

    /// `GET /audit_logs/exports/{id}`; returns the export as JSON text.
    fn get_export(&self, py: Python<'_>, export_id: &str) -> PyResult<String> {
        let r = py
            .allow_threads(|| self.client.get_export(export_id))
            .map_err(api_error)?;
        to_json_text(&r)
    }

    /// `POST /audit_logs/actions/{action}/schemas` with a JSON schema request.
    fn create_schema(&self, py: Python<'_>, action: &str, schema: &[u8]) -> PyResult<String> {
        let req: CreateSchemaRequest = serde_json::from_slice(schema)
            .map_err(|e| bad_input(format!("invalid schema request: {e}")))?;
        let r = py
            .allow_threads(|| self.client.create_schema(action, &req))
            .map_err(api_error)?;
        to_json_text(&r)
    }

    /// `GET /audit_logs/actions`; returns the list page as JSON text.
    #[pyo3(signature = (limit = None, order = None, before = None, after = None))]
    fn list_actions(
        &self,
        py: Python<'_>,
        limit: Option<u32>,
        order: Option<&str>,
        before: Option<String>,
        after: Option<String>,
    ) -> PyResult<String> {
        let opts = list_options(limit, order, before, after)?;
        let r = py
            .allow_threads(|| self.client.list_actions(&opts))
            .map_err(api_error)?;
        to_json_text(&r)
    }

    /// `GET /audit_logs/actions/{action}/schemas`; returns the list page as JSON text.
    #[pyo3(signature = (action, limit = None, order = None, before = None, after = None))]
    fn list_schemas(
        &self,
        py: Python<'_>,
        action: &str,
        limit: Option<u32>,
        order: Option<&str>,
        before: Option<String>,
        after: Option<String>,
    ) -> PyResult<String> {
        let opts = list_options(limit, order, before, after)?;
        let r = py
            .allow_threads(|| self.client.list_schemas(action, &opts))
            .map_err(api_error)?;
        to_json_text(&r)
    }

    /// `GET /organizations/{id}/audit_logs_retention`; returns the days kept.
    fn get_retention(&self, py: Python<'_>, organization_id: &str) -> PyResult<u32> {
        py.allow_threads(|| self.client.get_retention(organization_id))
            .map(|r| r.retention_period_in_days)
            .map_err(api_error)
    }

    /// `PUT /organizations/{id}/audit_logs_retention`; returns the days now kept.
    fn set_retention(&self, py: Python<'_>, organization_id: &str, days: u32) -> PyResult<u32> {
        py.allow_threads(|| self.client.set_retention(organization_id, days))
            .map(|r| r.retention_period_in_days)
            .map_err(api_error)
    }
}

impl NativeClient {
    /// Runs `emit`: holding the GIL when it never waits (a few microseconds without I/O,
    /// cheaper than releasing it), with the GIL released otherwise.
    fn run<T: Send>(&self, py: Python<'_>, f: impl Send + FnOnce(&Client) -> T) -> T {
        if self.emit_never_waits {
            f(&self.client)
        } else {
            py.allow_threads(|| f(&self.client))
        }
    }
}

/// The native half of `client.audit_logs` (`auditwire.AuditLogs` derives from it): `emit`.
#[pyclass(module = "auditwire._native", subclass, frozen)]
struct AuditLogsBase {
    native: Py<NativeClient>,
}

#[pymethods]
impl AuditLogsBase {
    /// Binds to the `_native` client of an `auditwire.Client`.
    #[new]
    fn new(client: &Bound<'_, PyAny>) -> PyResult<Self> {
        let native = client.getattr(intern!(client.py(), "_native"))?;
        Ok(AuditLogsBase {
            native: native.downcast_into::<NativeClient>()?.unbind(),
        })
    }

    /// Validates and queues an event; returns at once with its `Receipt`.
    #[pyo3(signature = (*, organization_id, event, idempotency_key = None))]
    fn emit<'py>(
        &self,
        py: Python<'py>,
        organization_id: &Bound<'py, PyAny>,
        event: &Bound<'py, PyAny>,
        idempotency_key: Option<String>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let native = self.native.get();
        let mut key = idempotency_key;
        // Plain valid events go straight to the typed core API; the rest takes the JSON
        // path, which reports problems exactly as the core's parser words them.
        let direct = direct::with_body(organization_id, event, |org, event| {
            let options = options(key.take());
            native.run(py, |c| c.emit(org, event, options))
        })?;
        let idempotency_key = key;
        let emitted = if let Some(emitted) = direct {
            emitted
        } else if let Some(body) = encode::body(organization_id, event)? {
            native.run(py, |c| c.emit_json(&body, options(idempotency_key)))
        } else {
            // Values only the Python encoder handles (model objects, other mappings, ...).
            let emit = python_fn(py, &EMIT_PYTHON, "auditwire._client", "_emit_python")?;
            let args = (&self.native, organization_id, event, idempotency_key);
            return emit.call1(py, args).map(|r| r.into_bound(py));
        };
        match emitted {
            Ok(receipt) => Ok(PyReceipt::new(py, receipt)?.into_any()),
            Err(e) => Err(public_emit_error(py, &e)),
        }
    }
}

impl Drop for NativeClient {
    fn drop(&mut self) {
        // Shut down with the GIL released: a worker may need it for `on_outcome`.
        let client = Arc::clone(&self.client);
        let timeout = self.shutdown_timeout;
        Python::with_gil(|py| {
            py.allow_threads(move || {
                client.shutdown(timeout);
            })
        });
    }
}

/// The JSON bytes `NativeClient.emit` would validate, or `None` when the values need the
/// Python encoder (exposed for tests of the two encoders' agreement).
#[pyfunction]
fn encode_body<'py>(
    py: Python<'py>,
    organization_id: &Bound<'py, PyAny>,
    event: &Bound<'py, PyAny>,
) -> PyResult<Option<Bound<'py, PyBytes>>> {
    Ok(encode::body(organization_id, event)?.map(|b| PyBytes::new(py, &b)))
}

/// The native module `auditwire._native`.
/// The wire bytes `AuditLogsBase.emit` sends for values taken by the direct path, or `None`
/// when the JSON path decides (exposed for tests of the two paths' agreement).
#[pyfunction]
fn direct_body<'py>(
    py: Python<'py>,
    organization_id: &Bound<'py, PyAny>,
    event: &Bound<'py, PyAny>,
) -> PyResult<Option<Bound<'py, PyBytes>>> {
    let wire = direct::with_body(organization_id, event, |org, event| {
        let body = CreateEventBody {
            organization_id: org.to_owned(),
            event: event.clone(),
        };
        body.to_json()
    })?;
    Ok(wire.map(|b| PyBytes::new(py, b.as_ref())))
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    direct::init(m.py());
    m.add("NativeError", m.py().get_type::<NativeError>())?;
    m.add_class::<NativeClient>()?;
    m.add_class::<PyReceipt>()?;
    m.add_class::<AuditLogsBase>()?;
    m.add_function(wrap_pyfunction!(validate, m)?)?;
    m.add_function(wrap_pyfunction!(encode_body, m)?)?;
    m.add_function(wrap_pyfunction!(direct_body, m)?)?;
    m.add_function(wrap_pyfunction!(drain_logs, m)?)?;
    m.add_function(wrap_pyfunction!(set_log_level, m)?)?;
    m.add_function(wrap_pyfunction!(reset_logs_after_fork, m)?)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
