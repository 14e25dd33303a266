//! Errors of configuration, `emit` and the blocking calls.

use std::fmt;
use std::time::Duration;

use super::api_error::ApiError;
use crate::ValidationError;

/// A client could not be configured. Never contains the API key.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConfigError {
    /// No API key was given and `WORKOS_API_KEY` is unset or empty.
    MissingApiKey,
    /// The base URL cannot be used.
    InvalidBaseUrl {
        /// The URL as given, with any credentials shown as `***`.
        url: String,
        /// Why it was refused.
        reason: String,
    },
    /// The spool directory or one of its files cannot be used (it is left untouched).
    Spool(super::spool::SpoolError),
    /// Another setting is out of range.
    Invalid {
        /// The setting's name.
        field: &'static str,
        /// What is wrong with it.
        message: String,
    },
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::MissingApiKey => f.write_str(
                "no API key: pass one to the client or set the WORKOS_API_KEY environment variable",
            ),
            ConfigError::InvalidBaseUrl { url, reason } => {
                write!(f, "base_url {url:?} cannot be used: {reason}")
            }
            ConfigError::Spool(e) => e.fmt(f),
            ConfigError::Invalid { field, message } => write!(f, "{field}: {message}"),
        }
    }
}

impl std::error::Error for ConfigError {}

/// Which bound of the queue was reached.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QueueLimit {
    /// The queue holds `queue_capacity` events.
    Events(usize),
    /// The queued bodies add up to `queue_max_bytes`.
    Bytes(usize),
}

impl fmt::Display for QueueLimit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            QueueLimit::Events(n) => write!(f, "queue_capacity of {n} events"),
            QueueLimit::Bytes(n) => write!(f, "queue_max_bytes of {n} bytes"),
        }
    }
}

/// `emit` refused an event; nothing was queued.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum EmitError {
    /// The event breaks the API's rules; every problem is listed with its path.
    Invalid(ValidationError),
    /// The queue is full (after waiting `waited` under the `block` policy).
    QueueFull {
        /// The bound that was reached.
        limit: QueueLimit,
        /// How long `emit` waited for room.
        waited: Duration,
    },
    /// One event is larger than the whole queue's byte bound.
    TooLarge {
        /// The event's body size in bytes.
        size: usize,
        /// The queue's byte bound.
        max: usize,
    },
    /// The client was shut down.
    Closed,
    /// The disk spool holds `spool_max_bytes`; nothing was written.
    SpoolFull {
        /// The spool's byte bound.
        max_bytes: u64,
    },
    /// The event could not be written to the disk spool.
    Spool(String),
}

impl fmt::Display for EmitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EmitError::Invalid(e) => write!(f, "invalid event: {e}"),
            EmitError::QueueFull { limit, waited } if waited.is_zero() => {
                write!(f, "queue full: reached the {limit}")
            }
            EmitError::QueueFull { limit, waited } => {
                write!(
                    f,
                    "queue full: reached the {limit} and no room came within {waited:?}"
                )
            }
            EmitError::TooLarge { size, max } => write!(
                f,
                "event body of {size} bytes is larger than the queue_max_bytes of {max}"
            ),
            EmitError::Closed => {
                f.write_str("the client is shut down; no more events are accepted")
            }
            EmitError::SpoolFull { max_bytes } => {
                write!(
                    f,
                    "spool full: reached the spool_max_bytes of {max_bytes} bytes"
                )
            }
            EmitError::Spool(message) => write!(f, "cannot write to the spool: {message}"),
        }
    }
}

impl std::error::Error for EmitError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            EmitError::Invalid(e) => Some(e),
            _ => None,
        }
    }
}

impl From<ValidationError> for EmitError {
    fn from(e: ValidationError) -> Self {
        EmitError::Invalid(e)
    }
}

/// The blocking `create_event` failed: refused at emit, or delivered without success.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum CreateEventError {
    /// Refused before anything was sent.
    Emit(EmitError),
    /// The API rejected the event.
    Api(ApiError),
    /// The retry budget ran out; the last failure and the attempts made.
    Expired {
        /// The last attempt's failure.
        last_error: ApiError,
        /// Attempts made.
        attempts: u32,
    },
    /// The client shut down before the event was delivered: the outcome says whether it is
    /// in doubt, lost or left in the spool.
    Shutdown(super::outcome::Outcome),
}

impl CreateEventError {
    /// The API error, for rejections and expiries.
    pub fn api_error(&self) -> Option<&ApiError> {
        match self {
            CreateEventError::Api(e) => Some(e),
            CreateEventError::Expired { last_error, .. } => Some(last_error),
            _ => None,
        }
    }
}

impl fmt::Display for CreateEventError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CreateEventError::Emit(e) => e.fmt(f),
            CreateEventError::Api(e) => e.fmt(f),
            CreateEventError::Expired {
                last_error,
                attempts,
            } => write!(
                f,
                "not delivered after {attempts} attempt(s), retry budget spent; last error: {last_error}"
            ),
            CreateEventError::Shutdown(outcome) => outcome.fmt(f),
        }
    }
}

impl std::error::Error for CreateEventError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            CreateEventError::Emit(e) => Some(e),
            CreateEventError::Api(e) => Some(e),
            CreateEventError::Expired { last_error, .. } => Some(last_error),
            CreateEventError::Shutdown(_) => None,
        }
    }
}

impl From<EmitError> for CreateEventError {
    fn from(e: EmitError) -> Self {
        CreateEventError::Emit(e)
    }
}
