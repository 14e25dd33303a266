//! Result codes, the per-thread last error and the panic-catching boundary of every export.

use std::cell::RefCell;
use std::ffi::c_char;
use std::panic::{catch_unwind, AssertUnwindSafe};

use auditwire_core::{
    ApiError, ConfigError, CreateEventError, EmitError, ErrorKind, Outcome, ValidationError,
};

use crate::util::write_text;

/// The result of every fallible function: `AUDITWIRE_RESULT_OK` (0) or an error code.
///
/// Codes are stable and grouped by range: 1000s usage errors, 2000s invalid events,
/// 3000s queue, spool and deadlines, 4000s delivery and API failures, 9000s internal.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum auditwire_result {
    /// Success.
    Ok = 0,
    /// A required pointer argument was NULL.
    NullArgument = 1000,
    /// A string argument was not valid UTF-8.
    InvalidUtf8 = 1001,
    /// An argument was out of range or of the wrong form.
    InvalidArgument = 1002,
    /// The caller's buffer is too small; `*out_len` holds the size needed.
    BufferTooSmall = 1003,
    /// The client was shut down; no more events are accepted.
    Closed = 1004,
    /// The options do not make a usable client (missing API key, bad URL, out of range).
    InvalidConfig = 1005,
    /// The input is not one well-formed JSON document (or too large or too deep).
    InvalidJson = 2000,
    /// The event breaks the API's rules; the last error lists every `PATH: message`.
    Validation = 2001,
    /// The queue is full; nothing was queued.
    QueueFull = 3000,
    /// The disk spool is full; nothing was queued.
    SpoolFull = 3001,
    /// The deadline passed first.
    Timeout = 3002,
    /// One event is larger than the whole queue's byte bound.
    EventTooLarge = 3003,
    /// The disk spool cannot be opened or written (details name the file).
    SpoolError = 3004,
    /// The API refused the event with a final 4xx.
    Rejected = 4000,
    /// The event's retry budget ran out before it was delivered.
    Expired = 4001,
    /// The client shut down before the event was delivered and there is no spool: the event
    /// is lost (was `ABANDONED`, same number).
    Lost = 4002,
    /// An API call got a non-2xx HTTP response.
    ApiError = 4003,
    /// An API call got no HTTP response (connection refused or reset, timed out).
    ConnectionError = 4004,
    /// The event was sent but the client shut down before an answer came: the server may
    /// have stored it. Re-sending it under the same idempotency key is safe (the server
    /// deduplicates); with a spool the next client on that directory re-sends it itself.
    InDoubt = 4005,
    /// The client shut down before the event was delivered; it stays in the disk spool and
    /// the next client on that directory delivers it.
    Spooled = 4006,
    /// A panic was caught at the boundary (a bug in auditwire); details in the last error.
    Panic = 9000,
}

impl auditwire_result {
    /// Every code, for lookups by number.
    const ALL: [auditwire_result; 22] = [
        Self::Ok,
        Self::NullArgument,
        Self::InvalidUtf8,
        Self::InvalidArgument,
        Self::BufferTooSmall,
        Self::Closed,
        Self::InvalidConfig,
        Self::InvalidJson,
        Self::Validation,
        Self::QueueFull,
        Self::SpoolFull,
        Self::Timeout,
        Self::EventTooLarge,
        Self::SpoolError,
        Self::Rejected,
        Self::Expired,
        Self::Lost,
        Self::ApiError,
        Self::ConnectionError,
        Self::InDoubt,
        Self::Spooled,
        Self::Panic,
    ];

    /// The code with this number, if there is one.
    pub(crate) fn from_u32(n: u32) -> Option<Self> {
        Self::ALL.iter().copied().find(|r| *r as u32 == n)
    }

    /// A short static description, NUL-terminated.
    fn text(self) -> &'static str {
        match self {
            Self::Ok => "ok\0",
            Self::NullArgument => "a required pointer argument is NULL\0",
            Self::InvalidUtf8 => "a string argument is not valid UTF-8\0",
            Self::InvalidArgument => "an argument is out of range or malformed\0",
            Self::BufferTooSmall => "the buffer is too small\0",
            Self::Closed => "the client is shut down\0",
            Self::InvalidConfig => "the options do not make a usable client\0",
            Self::InvalidJson => "the input is not a well-formed JSON document\0",
            Self::Validation => "the event breaks the API's rules\0",
            Self::QueueFull => "the queue is full\0",
            Self::SpoolFull => "the disk spool is full\0",
            Self::Timeout => "the deadline passed\0",
            Self::EventTooLarge => "the event is larger than the queue's byte bound\0",
            Self::SpoolError => "the disk spool failed\0",
            Self::Rejected => "the API rejected the event\0",
            Self::Expired => "the event's retry budget ran out\0",
            Self::Lost => "the client shut down before the event was delivered; it is lost\0",
            Self::ApiError => "the API answered with an error\0",
            Self::ConnectionError => "the API could not be reached\0",
            Self::InDoubt => {
                "the event was sent but not answered before shutdown; re-send it under its key\0"
            }
            Self::Spooled => "the event was left in the disk spool at shutdown\0",
            Self::Panic => "internal error (panic caught)\0",
        }
    }
}

/// A failure inside an export: a code and the detailed text for the last error.
#[derive(Debug)]
pub(crate) struct Error {
    pub(crate) code: auditwire_result,
    pub(crate) message: String,
}

/// The result of the glue inside an export.
pub(crate) type Result<T> = std::result::Result<T, Error>;

impl Error {
    /// An error with a code and a message.
    pub(crate) fn new(code: auditwire_result, message: impl Into<String>) -> Self {
        Error {
            code,
            message: message.into(),
        }
    }

    /// A NULL pointer argument.
    pub(crate) fn null(name: &str) -> Self {
        Error::new(
            auditwire_result::NullArgument,
            format!("argument `{name}` is NULL"),
        )
    }

    /// An out-of-range or malformed argument.
    pub(crate) fn invalid(message: impl Into<String>) -> Self {
        Error::new(auditwire_result::InvalidArgument, message)
    }
}

impl From<ValidationError> for Error {
    fn from(e: ValidationError) -> Self {
        let code = if e.is_document_level() {
            auditwire_result::InvalidJson
        } else {
            auditwire_result::Validation
        };
        Error::new(code, e.to_string())
    }
}

impl From<ConfigError> for Error {
    fn from(e: ConfigError) -> Self {
        let code = match e {
            ConfigError::Spool(_) => auditwire_result::SpoolError,
            _ => auditwire_result::InvalidConfig,
        };
        Error::new(code, e.to_string())
    }
}

impl From<EmitError> for Error {
    fn from(e: EmitError) -> Self {
        let code = match &e {
            EmitError::Invalid(v) => return v.clone().into(),
            EmitError::QueueFull { .. } => auditwire_result::QueueFull,
            EmitError::TooLarge { .. } => auditwire_result::EventTooLarge,
            EmitError::Closed => auditwire_result::Closed,
            EmitError::SpoolFull { .. } => auditwire_result::SpoolFull,
            EmitError::Spool(_) => auditwire_result::SpoolError,
            _ => auditwire_result::QueueFull,
        };
        Error::new(code, e.to_string())
    }
}

impl From<ApiError> for Error {
    fn from(e: ApiError) -> Self {
        let code = match (e.status, e.kind) {
            (Some(_), _) => auditwire_result::ApiError,
            // Refused before any request (an id that is empty, `.` or `..`).
            (None, ErrorKind::BadRequest | ErrorKind::UnprocessableEntity) => {
                auditwire_result::InvalidArgument
            }
            (None, _) => auditwire_result::ConnectionError,
        };
        Error::new(code, e.to_string())
    }
}

impl From<CreateEventError> for Error {
    fn from(e: CreateEventError) -> Self {
        let text = e.to_string();
        match e {
            CreateEventError::Emit(e) => e.into(),
            CreateEventError::Api(_) => Error::new(auditwire_result::Rejected, text),
            CreateEventError::Expired { .. } => Error::new(auditwire_result::Expired, text),
            CreateEventError::Shutdown(outcome) => Error::new(outcome_result(&outcome), text),
            _ => Error::new(auditwire_result::ApiError, text),
        }
    }
}

/// The result code of an outcome: OK for delivered, else the code named like the outcome.
pub(crate) fn outcome_result(outcome: &Outcome) -> auditwire_result {
    match outcome {
        Outcome::Delivered { .. } => auditwire_result::Ok,
        Outcome::Rejected { .. } => auditwire_result::Rejected,
        Outcome::Expired { .. } => auditwire_result::Expired,
        Outcome::InDoubt { .. } => auditwire_result::InDoubt,
        Outcome::Lost { .. } => auditwire_result::Lost,
        Outcome::Spooled { .. } => auditwire_result::Spooled,
    }
}

thread_local! {
    /// The text of the last failure on this thread.
    static LAST_ERROR: RefCell<String> = const { RefCell::new(String::new()) };
}

/// Records the text of a failure for `auditwire_last_error_message` on this thread.
pub(crate) fn set_last_error(message: &str) {
    // A thread being torn down has no last error to keep: ignore that case.
    let _ = LAST_ERROR.try_with(|e| {
        if let Ok(mut s) = e.try_borrow_mut() {
            s.clear();
            s.push_str(message);
        }
    });
}

/// The text of a caught panic.
fn panic_text(payload: &(dyn std::any::Any + Send)) -> String {
    let what = payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".to_owned());
    format!("internal error: a panic was caught at the C boundary: {what}")
}

/// Runs the body of a fallible export: panics and errors become a result code, and the
/// details go to this thread's last error.
pub(crate) fn boundary(f: impl FnOnce() -> Result<()>) -> auditwire_result {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(())) => auditwire_result::Ok,
        Ok(Err(e)) => {
            set_last_error(&e.message);
            e.code
        }
        Err(payload) => {
            set_last_error(&panic_text(payload.as_ref()));
            auditwire_result::Panic
        }
    }
}

/// [`boundary`] without touching the last error (for reading the last error itself).
pub(crate) fn boundary_quiet(f: impl FnOnce() -> Result<()>) -> auditwire_result {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(())) => auditwire_result::Ok,
        Ok(Err(e)) => e.code,
        Err(_) => auditwire_result::Panic,
    }
}

/// Runs the body of an export that returns a value: a panic gives `fallback`.
pub(crate) fn boundary_value<T>(fallback: T, f: impl FnOnce() -> T) -> T {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(v) => v,
        Err(payload) => {
            set_last_error(&panic_text(payload.as_ref()));
            fallback
        }
    }
}

/// The text of a number that is no result code.
static UNKNOWN: &str = "unknown result code\0";

/// A static description of a result code, NUL-terminated; never NULL.
///
/// `result` is an `auditwire_result` value; an unknown number gives `"unknown result code"`.
#[no_mangle]
pub extern "C" fn auditwire_result_str(result: u32) -> *const c_char {
    boundary_value(UNKNOWN.as_ptr().cast(), || {
        auditwire_result::from_u32(result)
            .map_or(UNKNOWN, auditwire_result::text)
            .as_ptr()
            .cast()
    })
}

/// Copies the details of the last failure on this thread into `buf`, NUL-terminated.
///
/// The text may span several lines (one `PATH: message` per validation problem); it is
/// empty when nothing failed on this thread yet. Reading it does not clear it, and this
/// function never changes it. `*out_len` receives the size the text needs, its NUL included:
/// on `AUDITWIRE_RESULT_OK` what was written, on `AUDITWIRE_RESULT_BUFFER_TOO_SMALL` the
/// size to allocate (`buf` may be NULL when `len` is 0, to ask for the size).
///
/// # Safety
///
/// `buf` must point to `len` writable bytes (or be NULL with `len` 0); `out_len` must point
/// to a writable `size_t`.
#[no_mangle]
pub unsafe extern "C" fn auditwire_last_error_message(
    buf: *mut c_char,
    len: usize,
    out_len: *mut usize,
) -> auditwire_result {
    boundary_quiet(|| {
        LAST_ERROR.with(|e| {
            let text = e.borrow();
            // SAFETY: the caller's contract on `buf`, `len` and `out_len`.
            unsafe { write_text(text.as_bytes(), buf, len, out_len) }
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_has_a_text_and_round_trips() {
        for r in auditwire_result::ALL {
            assert_eq!(auditwire_result::from_u32(r as u32), Some(r));
            assert!(r.text().ends_with('\0'));
        }
        assert_eq!(auditwire_result::from_u32(7), None);
    }

    #[test]
    fn shutdown_outcomes_of_create_event_keep_their_own_code() {
        let in_doubt = Error::from(CreateEventError::Shutdown(Outcome::InDoubt {
            idempotency_key: "key-in-doubt-1".into(),
            attempts: 1,
        }));
        assert_eq!(in_doubt.code, auditwire_result::InDoubt);
        assert!(
            in_doubt.message.contains("key-in-doubt-1"),
            "{}",
            in_doubt.message
        );
        let lost = Error::from(CreateEventError::Shutdown(Outcome::Lost { attempts: 0 }));
        assert_eq!(lost.code, auditwire_result::Lost);
        assert_eq!(lost.code as u32, 4002);
        let spooled = Error::from(CreateEventError::Shutdown(Outcome::Spooled { attempts: 0 }));
        assert_eq!(spooled.code, auditwire_result::Spooled);
        assert!(spooled.message.contains("spool"), "{}", spooled.message);
    }

    #[test]
    fn panics_become_a_code_and_a_message() {
        let r = boundary(|| panic!("boom"));
        assert_eq!(r, auditwire_result::Panic);
        let mut buf = [0 as c_char; 256];
        let mut n = 0usize;
        // SAFETY: valid buffer and out pointer.
        let r = unsafe { auditwire_last_error_message(buf.as_mut_ptr(), buf.len(), &mut n) };
        assert_eq!(r, auditwire_result::Ok);
        // SAFETY: NUL-terminated by write_text.
        let s = unsafe { std::ffi::CStr::from_ptr(buf.as_ptr()) };
        assert!(s.to_str().unwrap().contains("boom"));
        assert_eq!(n, s.to_bytes().len() + 1);
    }
}
