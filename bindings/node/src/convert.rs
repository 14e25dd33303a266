//! Core values as JavaScript objects, and core errors as tagged `Error` messages.
//!
//! A failure crosses into JavaScript as an `Error` whose message is `auditwire:` followed
//! by a JSON object (`kind` plus details); `index.js` turns it into the public class.

use auditwire::{ApiError, ConfigError, EmitError, Outcome, Stats, ValidationError};
use napi::{Error, Status};
use serde_json::{json, Value};

/// The prefix of an encoded error message.
pub(crate) const TAG: &str = "auditwire:";

/// An API failure as JavaScript sees it.
#[napi(object)]
pub struct ApiFailure {
    /// The official Python SDK's class name for the failure (`BadRequestError`, ...).
    pub error_kind: String,
    /// The HTTP status, if there was a response.
    pub status: Option<u32>,
    /// The server's error code.
    pub code: Option<String>,
    /// The server's message or a description of the transport failure.
    pub message: String,
    /// The response's `errors` value.
    pub errors: Option<Value>,
    /// The `X-Request-ID` response header.
    pub request_id: Option<String>,
    /// The `Retry-After` response header, in seconds.
    pub retry_after: Option<f64>,
}

/// A settled event for the promise `id` (0: reported to `onOutcome` only).
#[napi(object)]
pub struct Settled {
    /// The promise waiting for it, or 0.
    pub id: u32,
    /// `delivered`, `rejected`, `expired` or `shutdown`.
    pub outcome: String,
    /// Attempts made.
    pub attempts: u32,
    /// The HTTP status of the last answer.
    pub status: Option<u32>,
    /// The request id of the last answer.
    pub request_id: Option<String>,
    /// Why it was not delivered.
    pub error: Option<ApiFailure>,
    /// The organization (only for `onOutcome`).
    pub organization_id: Option<String>,
    /// The idempotency key (only for `onOutcome`).
    pub idempotency_key: Option<String>,
}

impl Settled {
    /// The JavaScript view of an outcome; `ident` is `(organization_id, idempotency_key)`.
    pub(crate) fn new(id: u32, outcome: &Outcome, ident: Option<(&str, &str)>) -> Self {
        let error = outcome.error().map(api_failure);
        let (status, request_id) = match outcome {
            Outcome::Delivered {
                status, request_id, ..
            } => (Some(u32::from(*status)), request_id.clone()),
            _ => (
                error.as_ref().and_then(|e| e.status),
                error.as_ref().and_then(|e| e.request_id.clone()),
            ),
        };
        Settled {
            id,
            outcome: outcome.name().to_owned(),
            attempts: outcome.attempts(),
            status,
            request_id,
            error,
            organization_id: ident.map(|(o, _)| o.to_owned()),
            idempotency_key: ident.map(|(_, k)| k.to_owned()),
        }
    }
}

/// The JavaScript view of an API error.
pub(crate) fn api_failure(e: &ApiError) -> ApiFailure {
    ApiFailure {
        error_kind: e.kind.name().to_owned(),
        status: e.status.map(u32::from),
        code: e.code.clone(),
        message: e.message.clone(),
        errors: e.errors.as_deref().cloned(),
        request_id: e.request_id.clone(),
        retry_after: e.retry_after.map(|d| d.as_secs_f64()),
    }
}

/// The client's counters.
#[napi(object)]
pub struct StatsJs {
    /// Events accepted by `emit`.
    pub accepted: f64,
    /// Waiting in the queue.
    pub queued: f64,
    /// Being sent now.
    pub in_flight: f64,
    /// Delivered (2xx).
    pub delivered: f64,
    /// Retries scheduled.
    pub retried: f64,
    /// Refused by the API with a final 4xx.
    pub rejected: f64,
    /// Retry budget spent.
    pub expired: f64,
    /// Lost at shutdown (no spool).
    pub abandoned: f64,
    /// Left in the spool at shutdown.
    pub spooled: f64,
    /// Adopted from a spool at start.
    pub adopted: f64,
    /// Delivered after the idempotency window.
    pub delivered_late: f64,
    /// Refused by validation.
    pub refused_invalid: f64,
    /// Refused because the queue or spool was full.
    pub refused_queue_full: f64,
    /// Refused because the client was closed.
    pub refused_closed: f64,
    /// Accepted events without an outcome yet.
    pub pending: f64,
}

impl From<Stats> for StatsJs {
    fn from(s: Stats) -> Self {
        StatsJs {
            accepted: s.accepted as f64,
            queued: s.queued as f64,
            in_flight: s.in_flight as f64,
            delivered: s.delivered as f64,
            retried: s.retried as f64,
            rejected: s.rejected as f64,
            expired: s.expired as f64,
            abandoned: s.lost as f64,
            spooled: s.spooled as f64,
            adopted: s.adopted as f64,
            delivered_late: s.delivered_late as f64,
            refused_invalid: s.refused_invalid as f64,
            refused_queue_full: s.refused_queue_full as f64,
            refused_closed: s.refused_closed as f64,
            pending: s.pending() as f64,
        }
    }
}

fn tagged(value: Value) -> Error {
    Error::new(Status::GenericFailure, format!("{TAG}{value}"))
}

/// A validation failure: every problem with its wire path, rule and message.
pub(crate) fn validation_error(e: &ValidationError) -> Error {
    let problems: Vec<Value> = e
        .problems()
        .iter()
        .map(|p| json!({"path": p.path, "rule": p.rule.code(), "message": p.message}))
        .collect();
    tagged(json!({"kind": "validation", "message": e.to_string(), "problems": problems}))
}

/// An `emit` refusal.
pub(crate) fn emit_error(e: &EmitError) -> Error {
    let kind = match e {
        EmitError::Invalid(v) => return validation_error(v),
        EmitError::QueueFull { .. } | EmitError::TooLarge { .. } => "queue_full",
        EmitError::Closed => "closed",
        _ => "spool",
    };
    tagged(json!({"kind": kind, "message": e.to_string()}))
}

/// A failed management call.
pub(crate) fn api_error(e: &ApiError) -> Error {
    let f = api_failure(e);
    tagged(json!({
        "kind": "api",
        "errorKind": f.error_kind,
        "status": f.status,
        "code": f.code,
        "message": f.message,
        "errors": f.errors,
        "requestId": f.request_id,
        "retryAfter": f.retry_after,
    }))
}

/// A bad option or argument.
pub(crate) fn config_error(message: impl std::fmt::Display) -> Error {
    tagged(json!({"kind": "config", "message": message.to_string()}))
}

/// A configuration the core refused.
pub(crate) fn config_refused(e: &ConfigError) -> Error {
    config_error(e)
}
