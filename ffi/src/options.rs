//! `auditwire_options`: the settings of a client, one setter per configuration option.

use std::ffi::{c_char, c_void};

use auditwire_core::{
    Backoff, Config, ConfigBuilder, Durability, LegacyEndpoint, Outcome, Overflow,
};

use crate::error::{auditwire_result, boundary, boundary_value, outcome_result, Error};
use crate::util::{millis, obj_mut, str_arg};

/// The settings of a client: create with `auditwire_options_new`, consumed by
/// `auditwire_client_new` (or freed with `auditwire_options_free`).
pub struct auditwire_options {
    pub(crate) builder: ConfigBuilder,
}

/// What `emit` does when the queue is full (`auditwire_options_set_overflow`).
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum auditwire_overflow {
    /// Refuse the event at once with `AUDITWIRE_RESULT_QUEUE_FULL` (the default).
    Reject = 0,
    /// Wait up to the given time for room, then refuse with `AUDITWIRE_RESULT_QUEUE_FULL`.
    Block = 1,
    /// Write the event to the disk spool (needs a spool directory).
    Spill = 2,
}

/// How much of a spool write survives (`auditwire_options_set_durability`).
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum auditwire_durability {
    /// An accepted event survives the process being killed (the default).
    Process = 0,
    /// An accepted event is fsynced: it survives the machine losing power.
    PowerLoss = 1,
}

/// Where v1 events go (`auditwire_options_set_legacy_endpoint`).
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum auditwire_legacy_endpoint {
    /// Translated to the current API, `POST /audit_logs/events` (the default).
    Current = 0,
    /// Sent unchanged to `POST /events`, for servers that still speak v1.
    V1 = 1,
}

/// How an accepted event ended, as told to the outcome callback. The last three happen
/// only at shutdown (`auditwire_client_free` or `auditwire_client_shutdown`).
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum auditwire_outcome_kind {
    /// The API accepted the event (2xx).
    Delivered = 0,
    /// The API refused the event with a final 4xx.
    Rejected = 1,
    /// The retry budget ran out.
    Expired = 2,
    /// Shut down without a spool before the event was sent (or after a failed attempt):
    /// the event is lost (was `ABANDONED`, same number).
    Lost = 3,
    /// Shut down with a spool before the event was delivered: it stays on disk and the next
    /// client on that spool directory delivers it.
    Spooled = 4,
    /// Sent, but no answer came before the shutdown deadline: the server may have stored it.
    /// Re-send it under the same `idempotency_key` to be safe (the server deduplicates), or,
    /// with a spool, let the next client on that directory re-send it under that key.
    InDoubt = 5,
}

impl auditwire_outcome_kind {
    /// The kind of a core outcome.
    fn of(outcome: &Outcome) -> Self {
        match outcome {
            Outcome::Delivered { .. } => Self::Delivered,
            Outcome::Rejected { .. } => Self::Rejected,
            Outcome::Expired { .. } => Self::Expired,
            Outcome::Lost { .. } => Self::Lost,
            Outcome::Spooled { .. } => Self::Spooled,
            Outcome::InDoubt { .. } => Self::InDoubt,
        }
    }
}

/// One event's final outcome, passed to the outcome callback. Every pointer is valid only
/// during the callback; strings are UTF-8 `(pointer, length)` pairs, not NUL-terminated.
#[repr(C)]
pub struct auditwire_outcome {
    /// How the event ended.
    pub kind: auditwire_outcome_kind,
    /// The matching result code: OK, REJECTED, EXPIRED, LOST, SPOOLED or IN_DOUBT.
    pub result: auditwire_result,
    /// The HTTP status of the last response; 0 when there was none.
    pub http_status: u16,
    /// Attempts made.
    pub attempts: u32,
    /// The event's organization.
    pub organization_id: *const c_char,
    /// Length of `organization_id` in bytes.
    pub organization_id_len: usize,
    /// The idempotency key sent (or to be sent) with every attempt: for IN_DOUBT, the key
    /// under which re-sending the event is safe.
    pub idempotency_key: *const c_char,
    /// Length of `idempotency_key` in bytes.
    pub idempotency_key_len: usize,
    /// The `X-Request-ID` of the last response; NULL when there was none.
    pub request_id: *const c_char,
    /// Length of `request_id` in bytes.
    pub request_id_len: usize,
    /// What went wrong, for every kind but DELIVERED; NULL for DELIVERED.
    pub error_message: *const c_char,
    /// Length of `error_message` in bytes.
    pub error_message_len: usize,
}

/// Called once per accepted event with its outcome (see `auditwire_options_set_outcome_callback`).
pub type auditwire_outcome_callback =
    Option<unsafe extern "C" fn(userdata: *mut c_void, outcome: *const auditwire_outcome)>;

/// The caller's userdata pointer, handed to the callback on worker threads.
struct UserData(*mut c_void);

// SAFETY: the header documents that the callback is called from worker threads and must be
// thread-safe together with its userdata; the pointer is only passed back to it.
unsafe impl Send for UserData {}
// SAFETY: as above.
unsafe impl Sync for UserData {}

/// Creates options with every default; unset key, URL and timeout come from `WORKOS_API_KEY`,
/// `WORKOS_BASE_URL` and `WORKOS_REQUEST_TIMEOUT`. NULL only if out of memory or on panic.
#[no_mangle]
pub extern "C" fn auditwire_options_new() -> *mut auditwire_options {
    boundary_value(std::ptr::null_mut(), || {
        Box::into_raw(Box::new(auditwire_options {
            builder: Config::builder(),
        }))
    })
}

/// Frees options that were not passed to `auditwire_client_new`; NULL is a no-op.
///
/// # Safety
///
/// `options` must be NULL or from `auditwire_options_new`, and not used afterwards.
#[no_mangle]
pub unsafe extern "C" fn auditwire_options_free(options: *mut auditwire_options) {
    boundary_value((), || {
        if !options.is_null() {
            // SAFETY: from Box::into_raw in auditwire_options_new, freed once.
            drop(unsafe { Box::from_raw(options) });
        }
    })
}

/// Applies a change to the builder of non-NULL options.
///
/// # Safety
///
/// `options` must be NULL or live options not used concurrently.
unsafe fn update(
    options: *mut auditwire_options,
    f: impl FnOnce(ConfigBuilder) -> ConfigBuilder,
) -> crate::error::Result<()> {
    // SAFETY: the caller's contract.
    let o = unsafe { obj_mut(options, "options") }?;
    o.builder = f(std::mem::take(&mut o.builder));
    Ok(())
}

/// Sets the API key (else `WORKOS_API_KEY`). The key never appears in any error text.
///
/// # Safety
///
/// `options` must be live options; `key` must point to `len` readable bytes.
#[no_mangle]
pub unsafe extern "C" fn auditwire_options_set_api_key(
    options: *mut auditwire_options,
    key: *const c_char,
    len: usize,
) -> auditwire_result {
    boundary(|| {
        // SAFETY: the caller's contract.
        let key = unsafe { str_arg(key, len, "key") }?;
        // SAFETY: the caller's contract.
        unsafe { update(options, |b| b.api_key(key)) }
    })
}

/// Sets the base URL (else `WORKOS_BASE_URL`, else `https://api.workos.com`); checked by
/// `auditwire_client_new`.
///
/// # Safety
///
/// `options` must be live options; `url` must point to `len` readable bytes.
#[no_mangle]
pub unsafe extern "C" fn auditwire_options_set_base_url(
    options: *mut auditwire_options,
    url: *const c_char,
    len: usize,
) -> auditwire_result {
    boundary(|| {
        // SAFETY: the caller's contract.
        let url = unsafe { str_arg(url, len, "url") }?;
        // SAFETY: the caller's contract.
        unsafe { update(options, |b| b.base_url(url)) }
    })
}

/// Sets the directory of the disk spool.
///
/// # Safety
///
/// `options` must be live options; `path` must point to `len` readable bytes.
#[no_mangle]
pub unsafe extern "C" fn auditwire_options_set_spool_dir(
    options: *mut auditwire_options,
    path: *const c_char,
    len: usize,
) -> auditwire_result {
    boundary(|| {
        // SAFETY: the caller's contract.
        let path = unsafe { str_arg(path, len, "path") }?;
        // SAFETY: the caller's contract.
        unsafe { update(options, |b| b.spool_dir(path)) }
    })
}

/// Trusts only the CA certificates in this PEM file (a private or self-signed server).
///
/// The file is read when the client is created; an unreadable file or one without a
/// certificate makes `auditwire_client_new` fail with `AUDITWIRE_RESULT_INVALID_CONFIG`.
///
/// # Safety
///
/// `options` must be live options; `path` must point to `len` readable bytes.
#[no_mangle]
pub unsafe extern "C" fn auditwire_options_set_ca_file(
    options: *mut auditwire_options,
    path: *const c_char,
    len: usize,
) -> auditwire_result {
    boundary(|| {
        // SAFETY: the caller's contract.
        let path = unsafe { str_arg(path, len, "path") }?;
        // SAFETY: the caller's contract.
        unsafe { update(options, |b| b.ca_file(path)) }
    })
}

/// Sets the byte bound of the disk spool (emits beyond it give `AUDITWIRE_RESULT_SPOOL_FULL`).
///
/// # Safety
///
/// `options` must be live options.
#[no_mangle]
pub unsafe extern "C" fn auditwire_options_set_spool_max_bytes(
    options: *mut auditwire_options,
    bytes: u64,
) -> auditwire_result {
    boundary(|| {
        // SAFETY: the caller's contract.
        unsafe { update(options, |b| b.spool_max_bytes(bytes)) }
    })
}

/// Sets how much of a spool write survives: an `auditwire_durability` value.
///
/// # Safety
///
/// `options` must be live options.
#[no_mangle]
pub unsafe extern "C" fn auditwire_options_set_durability(
    options: *mut auditwire_options,
    durability: u32,
) -> auditwire_result {
    boundary(|| {
        let durability = match durability {
            d if d == auditwire_durability::Process as u32 => Durability::Process,
            d if d == auditwire_durability::PowerLoss as u32 => Durability::PowerLoss,
            other => {
                return Err(Error::invalid(format!(
                    "durability {other} is not one of AUDITWIRE_DURABILITY_PROCESS (0), \
                     AUDITWIRE_DURABILITY_POWER_LOSS (1)"
                )))
            }
        };
        // SAFETY: the caller's contract.
        unsafe { update(options, |b| b.durability(durability)) }
    })
}

/// Sets the number of delivery workers: requests in flight at once, each on its own
/// keep-alive connection (default 4, 1 to 1024).
///
/// # Safety
///
/// `options` must be live options.
#[no_mangle]
pub unsafe extern "C" fn auditwire_options_set_workers(
    options: *mut auditwire_options,
    workers: u32,
) -> auditwire_result {
    boundary(|| {
        // SAFETY: the caller's contract.
        unsafe { update(options, |b| b.workers(workers as usize)) }
    })
}

/// Sets the request timeout in milliseconds (else `WORKOS_REQUEST_TIMEOUT`, else 60 s).
///
/// # Safety
///
/// `options` must be live options.
#[no_mangle]
pub unsafe extern "C" fn auditwire_options_set_timeout_ms(
    options: *mut auditwire_options,
    timeout_ms: u64,
) -> auditwire_result {
    boundary(|| {
        // SAFETY: the caller's contract.
        unsafe { update(options, |b| b.timeout(millis(timeout_ms))) }
    })
}

/// Caps the retries per event (default: no cap within the retry window).
///
/// # Safety
///
/// `options` must be live options.
#[no_mangle]
pub unsafe extern "C" fn auditwire_options_set_max_retries(
    options: *mut auditwire_options,
    max_retries: u32,
) -> auditwire_result {
    boundary(|| {
        // SAFETY: the caller's contract.
        unsafe { update(options, |b| b.max_retries(max_retries)) }
    })
}

/// Sets how long after acceptance an event may still be retried (default 10 minutes).
///
/// # Safety
///
/// `options` must be live options.
#[no_mangle]
pub unsafe extern "C" fn auditwire_options_set_retry_window_ms(
    options: *mut auditwire_options,
    window_ms: u64,
) -> auditwire_result {
    boundary(|| {
        // SAFETY: the caller's contract.
        unsafe { update(options, |b| b.retry_window(millis(window_ms))) }
    })
}

/// Sets exponential backoff with full jitter: ceilings `base_ms × factor^(n-1)`, capped at
/// `cap_ms` (default 500 ms, 2, 30 s).
///
/// # Safety
///
/// `options` must be live options.
#[no_mangle]
pub unsafe extern "C" fn auditwire_options_set_backoff(
    options: *mut auditwire_options,
    base_ms: u64,
    factor: f64,
    cap_ms: u64,
) -> auditwire_result {
    boundary(|| {
        let backoff = Backoff {
            base: millis(base_ms),
            factor,
            cap: millis(cap_ms),
        };
        // SAFETY: the caller's contract.
        unsafe { update(options, |b| b.backoff(backoff)) }
    })
}

/// Sets the most a `Retry-After` header may make a retry wait (default 60 s).
///
/// # Safety
///
/// `options` must be live options.
#[no_mangle]
pub unsafe extern "C" fn auditwire_options_set_retry_after_cap_ms(
    options: *mut auditwire_options,
    cap_ms: u64,
) -> auditwire_result {
    boundary(|| {
        // SAFETY: the caller's contract.
        unsafe { update(options, |b| b.retry_after_cap(millis(cap_ms))) }
    })
}

/// Sets the queue bound in events (default 10,000).
///
/// # Safety
///
/// `options` must be live options.
#[no_mangle]
pub unsafe extern "C" fn auditwire_options_set_queue_capacity(
    options: *mut auditwire_options,
    events: usize,
) -> auditwire_result {
    boundary(|| {
        // SAFETY: the caller's contract.
        unsafe { update(options, |b| b.queue_capacity(events)) }
    })
}

/// Sets the queue bound in body bytes (default 64 MiB, at least 1024).
///
/// # Safety
///
/// `options` must be live options.
#[no_mangle]
pub unsafe extern "C" fn auditwire_options_set_queue_max_bytes(
    options: *mut auditwire_options,
    bytes: usize,
) -> auditwire_result {
    boundary(|| {
        // SAFETY: the caller's contract.
        unsafe { update(options, |b| b.queue_max_bytes(bytes)) }
    })
}

/// Sets what `emit` does when the queue is full: an `auditwire_overflow` value;
/// `block_timeout_ms` is the longest wait for `AUDITWIRE_OVERFLOW_BLOCK` (ignored otherwise).
///
/// # Safety
///
/// `options` must be live options.
#[no_mangle]
pub unsafe extern "C" fn auditwire_options_set_overflow(
    options: *mut auditwire_options,
    policy: u32,
    block_timeout_ms: u64,
) -> auditwire_result {
    boundary(|| {
        let overflow = match policy {
            p if p == auditwire_overflow::Reject as u32 => Overflow::Reject,
            p if p == auditwire_overflow::Block as u32 => Overflow::Block(millis(block_timeout_ms)),
            p if p == auditwire_overflow::Spill as u32 => Overflow::Spill,
            other => {
                return Err(Error::invalid(format!(
                    "overflow policy {other} is not one of AUDITWIRE_OVERFLOW_REJECT (0), \
                     AUDITWIRE_OVERFLOW_BLOCK (1), AUDITWIRE_OVERFLOW_SPILL (2)"
                )))
            }
        };
        // SAFETY: the caller's contract.
        unsafe { update(options, |b| b.overflow(overflow)) }
    })
}

/// Sets how long `auditwire_client_free` waits for delivery (default 5 s).
///
/// # Safety
///
/// `options` must be live options.
#[no_mangle]
pub unsafe extern "C" fn auditwire_options_set_shutdown_timeout_ms(
    options: *mut auditwire_options,
    timeout_ms: u64,
) -> auditwire_result {
    boundary(|| {
        // SAFETY: the caller's contract.
        unsafe { update(options, |b| b.shutdown_timeout(millis(timeout_ms))) }
    })
}

/// Sets a suffix for `User-Agent: auditwire/<version>` (printable ASCII).
///
/// # Safety
///
/// `options` must be live options; `suffix` must point to `len` readable bytes.
#[no_mangle]
pub unsafe extern "C" fn auditwire_options_set_user_agent(
    options: *mut auditwire_options,
    suffix: *const c_char,
    len: usize,
) -> auditwire_result {
    boundary(|| {
        // SAFETY: the caller's contract.
        let suffix = unsafe { str_arg(suffix, len, "suffix") }?;
        // SAFETY: the caller's contract.
        unsafe { update(options, |b| b.user_agent_suffix(suffix)) }
    })
}

/// Sets where v1 events go: an `auditwire_legacy_endpoint` value.
///
/// # Safety
///
/// `options` must be live options.
#[no_mangle]
pub unsafe extern "C" fn auditwire_options_set_legacy_endpoint(
    options: *mut auditwire_options,
    endpoint: u32,
) -> auditwire_result {
    boundary(|| {
        let endpoint = match endpoint {
            e if e == auditwire_legacy_endpoint::Current as u32 => LegacyEndpoint::Current,
            e if e == auditwire_legacy_endpoint::V1 as u32 => LegacyEndpoint::V1,
            other => {
                return Err(Error::invalid(format!(
                    "legacy endpoint {other} is not one of AUDITWIRE_LEGACY_ENDPOINT_CURRENT (0), \
                     AUDITWIRE_LEGACY_ENDPOINT_V1 (1)"
                )))
            }
        };
        // SAFETY: the caller's contract.
        unsafe { update(options, |b| b.legacy_endpoint(endpoint)) }
    })
}

/// Allows plain `http://` to hosts other than loopback (never in production).
///
/// # Safety
///
/// `options` must be live options.
#[no_mangle]
pub unsafe extern "C" fn auditwire_options_set_allow_insecure_http(
    options: *mut auditwire_options,
    allow: bool,
) -> auditwire_result {
    boundary(|| {
        // SAFETY: the caller's contract.
        unsafe { update(options, |b| b.allow_insecure_http(allow)) }
    })
}

/// Ignores the `WORKOS_*` environment variables.
///
/// # Safety
///
/// `options` must be live options.
#[no_mangle]
pub unsafe extern "C" fn auditwire_options_set_ignore_env(
    options: *mut auditwire_options,
    ignore: bool,
) -> auditwire_result {
    boundary(|| {
        // SAFETY: the caller's contract.
        unsafe { update(options, |b| b.ignore_env(ignore)) }
    })
}

/// Sets the outcome callback, called exactly once per accepted event with `userdata`, on a
/// delivery worker thread or, at shutdown, on the thread calling `auditwire_client_shutdown`
/// or `auditwire_client_free`. Once either returns, the callback never runs again, so
/// `userdata` may be freed then. A NULL `callback` removes it.
///
/// At shutdown, events never sent end LOST (no spool) or SPOOLED (kept in the spool);
/// events sent without an answer by the deadline end IN_DOUBT (re-send under their
/// `idempotency_key`; with a spool the next client does). Events adopted from a previous
/// run's spool and never loaded get no callback; they are only counted as `spooled`.
///
/// # Safety
///
/// `options` must be live options; `callback`, if set, must be safe to call from any
/// thread with `userdata` until `auditwire_client_shutdown` or `auditwire_client_free`
/// returns.
#[no_mangle]
pub unsafe extern "C" fn auditwire_options_set_outcome_callback(
    options: *mut auditwire_options,
    callback: auditwire_outcome_callback,
    userdata: *mut c_void,
) -> auditwire_result {
    boundary(|| {
        let data = UserData(userdata);
        // SAFETY: the caller's contract.
        unsafe {
            update(options, |b| {
                match callback {
                    Some(cb) => b.on_outcome(move |report| {
                        let data = &data;
                        // A panic must not unwind into the worker's C caller chain.
                        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                            call_outcome(cb, data.0, report)
                        }));
                    }),
                    None => without_callback(b),
                }
            })
        }
    })
}

/// The builder with its callback removed (the core has no setter for "none").
fn without_callback(b: ConfigBuilder) -> ConfigBuilder {
    b.on_outcome(|_| {})
}

/// Converts a report and calls the C callback.
fn call_outcome(
    cb: unsafe extern "C" fn(*mut c_void, *const auditwire_outcome),
    userdata: *mut c_void,
    report: &auditwire_core::OutcomeReport<'_>,
) {
    let kind = auditwire_outcome_kind::of(report.outcome);
    let result = outcome_result(report.outcome);
    let (status, request_id) = match report.outcome {
        Outcome::Delivered {
            status, request_id, ..
        } => (*status, request_id.as_deref()),
        other => match other.error() {
            Some(e) => (e.status.unwrap_or(0), e.request_id.as_deref()),
            None => (0, None),
        },
    };
    let message = (kind != auditwire_outcome_kind::Delivered).then(|| report.outcome.to_string());
    let (rid, rid_len) = request_id.map_or((std::ptr::null(), 0), |s| (s.as_ptr().cast(), s.len()));
    let (msg, msg_len) = message
        .as_deref()
        .map_or((std::ptr::null(), 0), |s| (s.as_ptr().cast(), s.len()));
    let outcome = auditwire_outcome {
        kind,
        result,
        http_status: status,
        attempts: report.outcome.attempts(),
        organization_id: report.organization_id.as_ptr().cast(),
        organization_id_len: report.organization_id.len(),
        idempotency_key: report.idempotency_key.as_ptr().cast(),
        idempotency_key_len: report.idempotency_key.len(),
        request_id: rid,
        request_id_len: rid_len,
        error_message: msg,
        error_message_len: msg_len,
    };
    // SAFETY: the caller of auditwire_options_set_outcome_callback promised a thread-safe
    // callback; every pointer in `outcome` lives until it returns.
    unsafe { cb(userdata, &outcome) };
}
