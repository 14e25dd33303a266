//! `auditwire_client`: emit, the blocking create calls, flush, shutdown, stats, validation.

use std::ffi::c_char;

use auditwire_core::{
    Client, CreateEventBody, EmitOptions, Event, LegacyEvent, Problem, Receipt, Rule,
    ValidationError,
};

use crate::error::{auditwire_result, boundary, outcome_result, Error, Result};
use crate::options::auditwire_options;
use crate::util::{millis, obj, opt_str_arg, out_arg, str_arg};

/// A thread-safe client: every function but `auditwire_client_free` may be called from
/// any thread at the same time.
pub struct auditwire_client {
    pub(crate) client: Client,
}

/// A snapshot of a client's counters (`auditwire_client_stats`).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct auditwire_stats {
    /// Events accepted by emit.
    pub accepted: u64,
    /// Events waiting in the queue (including those waiting to be retried).
    pub queued: u64,
    /// Events being sent right now.
    pub in_flight: u64,
    /// Events delivered (2xx).
    pub delivered: u64,
    /// Attempts that failed and were scheduled for another try.
    pub retried: u64,
    /// Events rejected by the API (final 4xx).
    pub rejected: u64,
    /// Events whose retry budget ran out.
    pub expired: u64,
    /// Events left undelivered at shutdown without a spool (was `abandoned`, same place).
    pub lost: u64,
    /// Events left in the disk spool at shutdown (the next run delivers them).
    pub spooled: u64,
    /// Events taken over from the spool of a previous run.
    pub adopted: u64,
    /// Events delivered more than 24 h (the idempotency window) after they were accepted.
    pub delivered_late: u64,
    /// Emit calls refused because the event was invalid.
    pub refused_invalid: u64,
    /// Emit calls refused because the queue was full (or the event too large for it).
    pub refused_queue_full: u64,
    /// Emit calls refused because the client was shut down.
    pub refused_closed: u64,
    /// Events sent without an answer before the shutdown deadline: the server may have them.
    pub in_doubt: u64,
}

// Every core counter has its field here (a new one fails this build until it is added).
const _: () = assert!(
    std::mem::size_of::<auditwire_stats>()
        == std::mem::size_of::<u64>() * auditwire_core::Stats::FIELD_NAMES.len()
);

impl From<auditwire_core::Stats> for auditwire_stats {
    fn from(s: auditwire_core::Stats) -> Self {
        auditwire_stats {
            accepted: s.accepted,
            queued: s.queued,
            in_flight: s.in_flight,
            delivered: s.delivered,
            retried: s.retried,
            rejected: s.rejected,
            expired: s.expired,
            lost: s.lost,
            spooled: s.spooled,
            adopted: s.adopted,
            delivered_late: s.delivered_late,
            refused_invalid: s.refused_invalid,
            refused_queue_full: s.refused_queue_full,
            refused_closed: s.refused_closed,
            in_doubt: s.in_doubt,
        }
    }
}

/// Creates a client (starting its worker threads; no network I/O) from `options`, which are
/// always consumed, even on failure. On success `*out` receives the client. Fails with
/// `AUDITWIRE_RESULT_SPOOL_ERROR` when the spool directory or a file in it cannot be used (not
/// owned by the user, writable by others, corrupt, a NUL byte in the path); the last error
/// names it.
///
/// # Safety
///
/// `options` must be NULL or from `auditwire_options_new` and not used afterwards; `out`
/// must point to a writable pointer.
#[no_mangle]
pub unsafe extern "C" fn auditwire_client_new(
    options: *mut auditwire_options,
    out: *mut *mut auditwire_client,
) -> auditwire_result {
    boundary(|| {
        if options.is_null() {
            return Err(Error::null("options"));
        }
        // SAFETY: from Box::into_raw in auditwire_options_new; consumed here, once.
        let options = unsafe { Box::from_raw(options) };
        out_arg(out, "out")?;
        let config = options.builder.build()?;
        let client = Box::new(auditwire_client {
            client: Client::try_new(config)?,
        });
        // SAFETY: checked non-NULL; the caller guarantees it is writable.
        unsafe { *out = Box::into_raw(client) };
        Ok(())
    })
}

/// Shuts the client down like `auditwire_client_shutdown` with the options' shutdown
/// timeout (unless it was shut down already), then frees it. Once it returns, no outcome
/// callback runs and no outcome changes, ever: the callback's userdata may be freed. NULL is
/// a no-op. No other call may use the client at the same time or afterwards.
///
/// # Safety
///
/// `client` must be NULL or from `auditwire_client_new`, freed once.
#[no_mangle]
pub unsafe extern "C" fn auditwire_client_free(client: *mut auditwire_client) {
    crate::error::boundary_value((), || {
        if !client.is_null() {
            // SAFETY: from Box::into_raw in auditwire_client_new, freed once; dropping the
            // core client shuts it down with the configured shutdown timeout.
            drop(unsafe { Box::from_raw(client) });
        }
    })
}

/// The emit options for an optional idempotency key.
///
/// # Safety
///
/// As `opt_str_arg`.
unsafe fn emit_options(key: *const c_char, key_len: usize) -> Result<EmitOptions> {
    // SAFETY: the caller's contract.
    Ok(
        match unsafe { opt_str_arg(key, key_len, "idempotency_key") }? {
            Some(k) => EmitOptions::with_key(k),
            None => EmitOptions::default(),
        },
    )
}

/// Parses an event object and queues it for `organization_id`; every problem is reported.
pub(crate) fn emit_event_json(
    client: &Client,
    organization_id: &str,
    event_json: &[u8],
    options: EmitOptions,
) -> Result<Receipt> {
    match Event::from_json(event_json) {
        Ok(event) => Ok(client.emit(organization_id, &event, options)?),
        Err(e) => Err(client
            .refuse_invalid(with_org_check(organization_id, e))
            .into()),
    }
}

/// A validation error of an event parsed or built apart from its organization, with the
/// organization's own problem first (as the core reports it for a whole body).
pub(crate) fn with_org_check(organization_id: &str, e: ValidationError) -> ValidationError {
    if !organization_id.is_empty() || e.is_document_level() {
        return e;
    }
    let org = Problem::new("organization_id", Rule::Empty, "must not be empty");
    let mut problems = vec![org.clone()];
    problems.extend(e.into_problems());
    ValidationError::from_problems(problems).unwrap_or_else(|| ValidationError::single(org))
}

/// Waits up to `timeout_ms` for an accepted event's outcome: OK when delivered, else the
/// outcome's code with its text.
pub(crate) fn wait_outcome(receipt: &Receipt, timeout_ms: u64) -> Result<()> {
    match receipt.wait(millis(timeout_ms)) {
        None => Err(Error::new(
            auditwire_result::Timeout,
            format!(
                "no outcome within {timeout_ms} ms; the event (idempotency key {}) stays \
                 queued and the client keeps delivering it until it is shut down; the outcome \
                 callback gets its one outcome (in doubt, lost or spooled if shutdown comes first)",
                receipt.idempotency_key()
            ),
        )),
        Some(o) => match outcome_result(&o) {
            auditwire_result::Ok => Ok(()),
            code => Err(Error::new(code, o.to_string())),
        },
    }
}

/// Validates and queues one current-API event (the `event` object as JSON) for an
/// organization; never waits for the network. `idempotency_key` may be NULL (a new UUID is
/// used). Invalid events give `AUDITWIRE_RESULT_VALIDATION` (or `INVALID_JSON`) with every
/// `PATH: message` in the last error.
///
/// # Safety
///
/// `client` must be a live client; each string must point to its length in readable bytes.
#[no_mangle]
pub unsafe extern "C" fn auditwire_client_emit_json(
    client: *mut auditwire_client,
    org_id: *const c_char,
    org_len: usize,
    event_json: *const c_char,
    event_len: usize,
    idempotency_key: *const c_char,
    key_len: usize,
) -> auditwire_result {
    boundary(|| {
        // SAFETY: the caller's contract for every pointer.
        let (c, org, event, options) = unsafe {
            (
                obj(client, "client")?,
                str_arg(org_id, org_len, "org_id")?,
                str_arg(event_json, event_len, "event_json")?,
                emit_options(idempotency_key, key_len)?,
            )
        };
        emit_event_json(&c.client, org, event.as_bytes(), options).map(drop)
    })
}

/// Emits like `auditwire_client_emit_json`, then waits up to `timeout_ms` for the outcome:
/// OK when delivered; REJECTED or EXPIRED; IN_DOUBT, LOST or SPOOLED when the client was shut
/// down first (details in the last error; for IN_DOUBT it names the idempotency key to
/// re-send under). TIMEOUT when no outcome came in time: the event stays queued and the
/// client keeps delivering it only while it lives; `auditwire_client_free` waits at most the
/// shutdown timeout, then the event ends IN_DOUBT, LOST or SPOOLED (told to the outcome
/// callback). A program about to exit should flush first.
///
/// # Safety
///
/// As `auditwire_client_emit_json`.
#[no_mangle]
pub unsafe extern "C" fn auditwire_client_create_event_json(
    client: *mut auditwire_client,
    org_id: *const c_char,
    org_len: usize,
    event_json: *const c_char,
    event_len: usize,
    idempotency_key: *const c_char,
    key_len: usize,
    timeout_ms: u64,
) -> auditwire_result {
    boundary(|| {
        // SAFETY: the caller's contract for every pointer.
        let (c, org, event, options) = unsafe {
            (
                obj(client, "client")?,
                str_arg(org_id, org_len, "org_id")?,
                str_arg(event_json, event_len, "event_json")?,
                emit_options(idempotency_key, key_len)?,
            )
        };
        let receipt = emit_event_json(&c.client, org, event.as_bytes(), options)?;
        wait_outcome(&receipt, timeout_ms)
    })
}

/// Validates and queues a v1 (`@workos-inc/js`) event given as flat JSON
/// (`group`, `action`, `action_type`, ...); delivered through the current API unless the
/// options chose `AUDITWIRE_LEGACY_ENDPOINT_V1`.
///
/// # Safety
///
/// `client` must be a live client; `event_json` must point to `len` readable bytes.
#[no_mangle]
pub unsafe extern "C" fn auditwire_client_emit_legacy_json(
    client: *mut auditwire_client,
    event_json: *const c_char,
    len: usize,
) -> auditwire_result {
    boundary(|| {
        // SAFETY: the caller's contract for every pointer.
        let (c, json) = unsafe {
            (
                obj(client, "client")?,
                str_arg(event_json, len, "event_json")?,
            )
        };
        c.client
            .emit_legacy_json(json.as_bytes(), EmitOptions::default())
            .map(drop)
            .map_err(Error::from)
    })
}

/// Emits a v1 event like `auditwire_client_emit_legacy_json` and waits up to `timeout_ms`
/// for its outcome, with the results of `auditwire_client_create_event_json`.
///
/// # Safety
///
/// As `auditwire_client_emit_legacy_json`.
#[no_mangle]
pub unsafe extern "C" fn auditwire_client_create_legacy_json(
    client: *mut auditwire_client,
    event_json: *const c_char,
    len: usize,
    timeout_ms: u64,
) -> auditwire_result {
    boundary(|| {
        // SAFETY: the caller's contract for every pointer.
        let (c, json) = unsafe {
            (
                obj(client, "client")?,
                str_arg(event_json, len, "event_json")?,
            )
        };
        let receipt = c
            .client
            .emit_legacy_json(json.as_bytes(), EmitOptions::default())?;
        wait_outcome(&receipt, timeout_ms)
    })
}

/// Writes a count of events still without an outcome; OK when it is 0, TIMEOUT otherwise
/// (the count is written in both cases).
///
/// # Safety
///
/// `out_remaining` must be NULL or writable.
unsafe fn report_remaining(remaining: u64, out_remaining: *mut u64, what: &str) -> Result<()> {
    if !out_remaining.is_null() {
        // SAFETY: non-NULL and writable by the caller's contract.
        unsafe { *out_remaining = remaining };
    }
    if remaining == 0 {
        Ok(())
    } else {
        Err(Error::new(
            auditwire_result::Timeout,
            format!("{what}: {remaining} event(s) still had no outcome at the deadline"),
        ))
    }
}

/// Waits up to `timeout_ms` until every accepted event has an outcome. Returns OK when none
/// remain, TIMEOUT when some do; `*out_remaining` (which may be NULL) gets the count in both
/// cases.
///
/// # Safety
///
/// `client` must be a live client; `out_remaining` must be NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn auditwire_client_flush(
    client: *mut auditwire_client,
    timeout_ms: u64,
    out_remaining: *mut u64,
) -> auditwire_result {
    boundary(|| {
        // SAFETY: the caller's contract.
        let c = unsafe { obj(client, "client") }?;
        let remaining = c.client.flush(millis(timeout_ms)) as u64;
        // SAFETY: the caller's contract.
        unsafe { report_remaining(remaining, out_remaining, "flush") }
    })
}

/// Stops accepting events (later emits give CLOSED), delivers for up to `timeout_ms`, then
/// cancels requests still in flight and stops the workers. Every event without an outcome
/// gets one: IN_DOUBT if it was sent and not answered (the server may have it), else
/// SPOOLED (kept in the spool; the next client on that directory delivers it) or LOST (no
/// spool). Once this returns, no outcome callback runs and no outcome changes, ever.
/// Returns OK when nothing remained undelivered, TIMEOUT otherwise; `*out_remaining` (which
/// may be NULL) gets the count (`spooled + lost + in_doubt`) in both cases. Calling it again
/// is harmless. The client must still be freed with `auditwire_client_free`.
///
/// # Safety
///
/// `client` must be a live client; `out_remaining` must be NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn auditwire_client_shutdown(
    client: *mut auditwire_client,
    timeout_ms: u64,
    out_remaining: *mut u64,
) -> auditwire_result {
    boundary(|| {
        // SAFETY: the caller's contract.
        let c = unsafe { obj(client, "client") }?;
        let remaining = c.client.shutdown(millis(timeout_ms)) as u64;
        // SAFETY: the caller's contract.
        unsafe { report_remaining(remaining, out_remaining, "shutdown") }
    })
}

/// What shutdown left behind (`auditwire_client_shutdown_report`).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct auditwire_shutdown_report {
    /// Accepted events neither delivered nor refused by the API (`spooled + lost + in_doubt`).
    pub remaining: u64,
    /// Undelivered events kept in the disk spool: the next run delivers them.
    pub spooled: u64,
    /// Undelivered events lost (no spool).
    pub lost: u64,
    /// Events sent without an answer before the deadline: the server may have stored them.
    /// Their keys came to the outcome callback (IN_DOUBT); with a spool they stay on disk and
    /// the next run re-sends them under those keys.
    pub in_doubt: u64,
}

/// Shuts down like `auditwire_client_shutdown` and writes where undelivered events went:
/// OK when every undelivered event is in the spool (with a spool, in-doubt ones are too),
/// TIMEOUT when some were lost or are in doubt without a spool, with the one line to print
/// at exit (counts and the last delivery error) in the last error; `*out` is written in
/// both cases.
///
/// # Safety
///
/// `client` must be a live client; `out` must point to a writable `auditwire_shutdown_report`.
#[no_mangle]
pub unsafe extern "C" fn auditwire_client_shutdown_report(
    client: *mut auditwire_client,
    timeout_ms: u64,
    out: *mut auditwire_shutdown_report,
) -> auditwire_result {
    boundary(|| {
        // SAFETY: the caller's contract.
        let c = unsafe { obj(client, "client") }?;
        out_arg(out, "out")?;
        let r = c.client.shutdown_report(millis(timeout_ms));
        let report = auditwire_shutdown_report {
            remaining: r.remaining as u64,
            spooled: r.spooled as u64,
            lost: r.lost as u64,
            in_doubt: r.in_doubt as u64,
        };
        // SAFETY: checked non-NULL; the caller guarantees it is writable.
        unsafe { *out = report };
        // With a spool, in-doubt events stay on disk too: the next run re-sends them.
        let spool = c.client.config().spool_dir().is_some();
        match r.exit_message() {
            Some(line) if r.lost > 0 || (r.in_doubt > 0 && !spool) => {
                Err(Error::new(auditwire_result::Timeout, line))
            }
            _ => Ok(()),
        }
    })
}

/// Writes a snapshot of the client's counters to `*out`.
///
/// # Safety
///
/// `client` must be a live client; `out` must point to a writable `auditwire_stats`.
#[no_mangle]
pub unsafe extern "C" fn auditwire_client_stats(
    client: *const auditwire_client,
    out: *mut auditwire_stats,
) -> auditwire_result {
    boundary(|| {
        // SAFETY: the caller's contract.
        let c = unsafe { obj(client, "client") }?;
        out_arg(out, "out")?;
        let stats = auditwire_stats::from(c.client.stats());
        // SAFETY: checked non-NULL; the caller guarantees it is writable.
        unsafe { *out = stats };
        Ok(())
    })
}

/// Checks a whole request body `{"organization_id": ..., "event": {...}}` without a client:
/// OK, INVALID_JSON or VALIDATION with every `PATH: message` in the last error.
///
/// # Safety
///
/// `body_json` must point to `len` readable bytes.
#[no_mangle]
pub unsafe extern "C" fn auditwire_validate_json(
    body_json: *const c_char,
    len: usize,
) -> auditwire_result {
    boundary(|| {
        // SAFETY: the caller's contract.
        let json = unsafe { str_arg(body_json, len, "body_json") }?;
        CreateEventBody::from_json(json.as_bytes())?;
        Ok(())
    })
}

/// Checks a flat v1 event like `auditwire_validate_json` (paths are the v1 field names).
///
/// # Safety
///
/// `event_json` must point to `len` readable bytes.
#[no_mangle]
pub unsafe extern "C" fn auditwire_validate_legacy_json(
    event_json: *const c_char,
    len: usize,
) -> auditwire_result {
    boundary(|| {
        // SAFETY: the caller's contract.
        let json = unsafe { str_arg(event_json, len, "event_json") }?;
        let event = LegacyEvent::from_json(json.as_bytes())?;
        event.to_current()?;
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stats_carry_every_core_counter_once() {
        let core = auditwire_core::Stats {
            accepted: 1,
            queued: 2,
            in_flight: 3,
            delivered: 4,
            retried: 5,
            rejected: 6,
            expired: 7,
            in_doubt: 8,
            lost: 9,
            spooled: 10,
            adopted: 11,
            delivered_late: 12,
            refused_invalid: 13,
            refused_queue_full: 14,
            refused_closed: 15,
        };
        let c = auditwire_stats::from(core);
        const N: usize = auditwire_core::Stats::FIELD_NAMES.len();
        // SAFETY: a repr(C) struct of N u64 (asserted at compile time) is laid out as [u64; N].
        let mut seen: [u64; N] = unsafe { std::mem::transmute(c) };
        seen.sort_unstable();
        let mut want = core.fields().map(|(_, v)| v);
        want.sort_unstable();
        assert_eq!(seen, want);
        assert_eq!((c.lost, c.in_doubt, c.spooled), (9, 8, 10));
    }
}
