//! Offline inspection of a spool directory (what `auditwire spool` does): status, dead
//! letters, retry. These need no client and may run while another process owns the spool.

use std::ffi::c_char;
use std::path::Path;

use auditwire_core::{spool_dead_letters, spool_retry, spool_status, SpoolError};
use serde_json::{json, Value};

use crate::error::{auditwire_result, boundary, Error};
use crate::management::{call_id, respond};
use crate::util::{out_arg, str_arg};

impl From<SpoolError> for Error {
    fn from(e: SpoolError) -> Self {
        Error::new(auditwire_result::SpoolError, e.to_string())
    }
}

/// Serialises a JSON value.
fn bytes(v: &Value) -> crate::error::Result<Vec<u8>> {
    serde_json::to_vec(v).map_err(|e| Error::invalid(format!("cannot serialise: {e}")))
}

/// Writes the state of a spool directory as JSON: `{"pending", "dead_letters", "runs":
/// [{"path", "live", "pending", "dead_letters", "oldest_accepted_ms", "size_bytes",
/// "error"}]}`. Failures: SPOOL_ERROR (no such directory, unreadable), BUFFER_TOO_SMALL.
///
/// # Safety
///
/// `dir` must point to `dir_len` readable bytes; `buf` to `len` writable bytes (or be NULL
/// with `len` 0); `out_len` must be writable.
#[no_mangle]
pub unsafe extern "C" fn auditwire_spool_status_json(
    dir: *const c_char,
    dir_len: usize,
    buf: *mut c_char,
    len: usize,
    out_len: *mut usize,
) -> auditwire_result {
    boundary(|| {
        // SAFETY: the caller's contract.
        let dir = unsafe { str_arg(dir, dir_len, "dir") }?;
        let call = call_id("spool_status", &[dir.as_bytes()]);
        // SAFETY: the caller's contract.
        unsafe {
            respond(call, buf, len, out_len, || {
                let status = spool_status(Path::new(dir))?;
                let runs: Vec<Value> = status
                    .runs
                    .iter()
                    .map(|r| {
                        json!({
                            "path": r.path.display().to_string(),
                            "live": r.live,
                            "pending": r.pending,
                            "dead_letters": r.dead_letters,
                            "oldest_accepted_ms": r.oldest_accepted_ms,
                            "size_bytes": r.size_bytes,
                            "error": r.error,
                        })
                    })
                    .collect();
                bytes(&json!({
                    "pending": status.pending(),
                    "dead_letters": status.dead_letters(),
                    "runs": runs,
                }))
            })
        }
    })
}

/// Writes the dead letters of a spool directory as a JSON array of `{"path",
/// "idempotency_key", "organization_id", "body", "attempts", "accepted_ms", "dead_ms",
/// "outcome", "status", "code", "message", "errors", "request_id"}`.
///
/// # Safety
///
/// As `auditwire_spool_status_json`.
#[no_mangle]
pub unsafe extern "C" fn auditwire_spool_dead_letters_json(
    dir: *const c_char,
    dir_len: usize,
    buf: *mut c_char,
    len: usize,
    out_len: *mut usize,
) -> auditwire_result {
    boundary(|| {
        // SAFETY: the caller's contract.
        let dir = unsafe { str_arg(dir, dir_len, "dir") }?;
        let call = call_id("spool_dead_letters", &[dir.as_bytes()]);
        // SAFETY: the caller's contract.
        unsafe {
            respond(call, buf, len, out_len, || {
                let letters: Vec<Value> = spool_dead_letters(Path::new(dir))?
                    .iter()
                    .map(|d| {
                        json!({
                            "path": d.path.display().to_string(),
                            "idempotency_key": d.idempotency_key,
                            "organization_id": d.organization_id,
                            "body": d.body,
                            "attempts": d.attempts,
                            "accepted_ms": d.accepted_ms,
                            "dead_ms": d.dead_ms,
                            "outcome": d.outcome,
                            "status": d.status,
                            "code": d.code,
                            "message": d.message,
                            "errors": d.errors,
                            "request_id": d.request_id,
                        })
                    })
                    .collect();
                bytes(&Value::Array(letters))
            })
        }
    })
}

/// Moves every dead letter of a spool directory back to pending (runs owned by a live
/// process are skipped); `*out_moved` gets how many were moved.
///
/// # Safety
///
/// `dir` must point to `dir_len` readable bytes; `out_moved` must be writable.
#[no_mangle]
pub unsafe extern "C" fn auditwire_spool_retry(
    dir: *const c_char,
    dir_len: usize,
    out_moved: *mut u64,
) -> auditwire_result {
    boundary(|| {
        // SAFETY: the caller's contract.
        let dir = unsafe { str_arg(dir, dir_len, "dir") }?;
        out_arg(out_moved, "out_moved")?;
        let report = spool_retry(Path::new(dir))?;
        // SAFETY: checked non-NULL; the caller guarantees it is writable.
        unsafe { *out_moved = report.moved };
        Ok(())
    })
}
