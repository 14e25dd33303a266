//! The final outcome of an accepted event.

use std::fmt;

use super::api_error::ApiError;

/// How an accepted event ended. Each accepted event ends exactly once.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    /// The API accepted the event (any 2xx).
    Delivered {
        /// The HTTP status.
        status: u16,
        /// The `X-Request-ID` response header.
        request_id: Option<String>,
        /// Attempts made, this one included.
        attempts: u32,
    },
    /// The API refused the event with a final 4xx; retrying would not help.
    Rejected {
        /// Status, code, message, `errors` and request id from the response.
        error: ApiError,
        /// Attempts made.
        attempts: u32,
    },
    /// The retry budget ran out before the event was delivered.
    Expired {
        /// The failure of the last attempt.
        last_error: ApiError,
        /// Attempts made.
        attempts: u32,
    },
    /// Sent, but no answer came before the shutdown deadline: the server may have stored it.
    /// Re-sending under the same idempotency key is safe (the server deduplicates); with a
    /// spool the event stays on disk and the next run re-sends it under that key.
    InDoubt {
        /// The idempotency key the event was sent with.
        idempotency_key: String,
        /// Attempts made, the unanswered one included.
        attempts: u32,
    },
    /// The client shut down before the event was delivered and there is no spool: lost.
    Lost {
        /// Attempts made.
        attempts: u32,
    },
    /// The client shut down before the event was delivered; it stays in the disk spool and
    /// the next client on that directory delivers it.
    Spooled {
        /// Attempts made.
        attempts: u32,
    },
}

impl Outcome {
    /// True for `Delivered`.
    pub fn is_delivered(&self) -> bool {
        matches!(self, Outcome::Delivered { .. })
    }

    /// Attempts made.
    pub fn attempts(&self) -> u32 {
        match self {
            Outcome::Delivered { attempts, .. }
            | Outcome::Rejected { attempts, .. }
            | Outcome::Expired { attempts, .. }
            | Outcome::InDoubt { attempts, .. }
            | Outcome::Lost { attempts }
            | Outcome::Spooled { attempts } => *attempts,
        }
    }

    /// The API error of a rejection or the last error of an expiry.
    pub fn error(&self) -> Option<&ApiError> {
        match self {
            Outcome::Rejected { error, .. } => Some(error),
            Outcome::Expired { last_error, .. } => Some(last_error),
            _ => None,
        }
    }

    /// A short name: `delivered`, `rejected`, `expired`, `in_doubt`, `lost` or `spooled`.
    pub fn name(&self) -> &'static str {
        match self {
            Outcome::Delivered { .. } => "delivered",
            Outcome::Rejected { .. } => "rejected",
            Outcome::Expired { .. } => "expired",
            Outcome::InDoubt { .. } => "in_doubt",
            Outcome::Lost { .. } => "lost",
            Outcome::Spooled { .. } => "spooled",
        }
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Outcome::Delivered {
                status, attempts, ..
            } => write!(f, "delivered (HTTP {status}) after {attempts} attempt(s)"),
            Outcome::Rejected { error, attempts } => {
                write!(f, "rejected after {attempts} attempt(s): {error}")
            }
            Outcome::Expired {
                last_error,
                attempts,
            } => write!(
                f,
                "expired: retry budget spent after {attempts} attempt(s); last error: {last_error}"
            ),
            Outcome::InDoubt {
                idempotency_key,
                attempts,
            } => write!(
                f,
                "in doubt: sent {attempts} time(s) with no answer before the client shut down; \
                 the server may have stored it; re-send with idempotency key {idempotency_key:?} \
                 to be safe"
            ),
            Outcome::Lost { attempts } => write!(
                f,
                "lost: the client shut down without a spool after {attempts} attempt(s)"
            ),
            Outcome::Spooled { attempts } => write!(
                f,
                "not delivered yet: left in the spool at shutdown after {attempts} attempt(s); \
                 the next client on that spool directory delivers it"
            ),
        }
    }
}

/// What the `on_outcome` callback receives: the event's identity and how it ended.
#[derive(Debug)]
pub struct OutcomeReport<'a> {
    /// The organization the event belongs to.
    pub organization_id: &'a str,
    /// The idempotency key sent with every attempt.
    pub idempotency_key: &'a str,
    /// How it ended.
    pub outcome: &'a Outcome,
    /// The tag given with [`Receipt::set_tag`](crate::Receipt::set_tag) before the event
    /// settled, if any.
    pub tag: Option<std::num::NonZeroU64>,
}
