//! Core values as JavaScript objects, and core errors as tagged `Error` messages.
//!
//! A failure crosses into JavaScript as an `Error` whose message is `auditwire:` followed
//! by a JSON object (`kind` plus details); `index.js` turns it into the public class.

use auditwire::{
    ApiError, ConfigError, EmitError, Outcome, ShutdownReport, Stats, ValidationError,
};
use napi::bindgen_prelude::Object;
use napi::{Env, Error, Result, Status};
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
    /// The core's name of the outcome (`delivered`, `rejected`, `in_doubt`, ...).
    pub outcome: String,
    /// Attempts made.
    pub attempts: u32,
    /// The HTTP status of the last answer.
    pub status: Option<u32>,
    /// The request id of the last answer.
    pub request_id: Option<String>,
    /// Why the API did not take it (rejected or expired).
    pub error: Option<ApiFailure>,
    /// The core's description of a shutdown outcome (in doubt, lost or spooled).
    pub message: Option<String>,
    /// The organization (only for `onOutcome`).
    pub organization_id: Option<String>,
    /// The idempotency key (for `onOutcome`, and for every shutdown outcome).
    pub idempotency_key: Option<String>,
}

impl Settled {
    /// The JavaScript view of the outcome of the event sent under `key`; `org` (its
    /// organization) only when `onOutcome` hears of it.
    pub(crate) fn new(id: u32, outcome: &Outcome, key: &str, org: Option<&str>) -> Self {
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
        // Shutdown outcomes: no API answer to show, but the key makes a re-send safe.
        let shutdown = error.is_none() && !outcome.is_delivered();
        Settled {
            id,
            outcome: outcome.name().to_owned(),
            attempts: outcome.attempts(),
            status,
            request_id,
            error,
            message: shutdown.then(|| outcome.to_string()),
            organization_id: org.map(str::to_owned),
            idempotency_key: (shutdown || org.is_some()).then(|| key.to_owned()),
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

/// The client's counters as a JavaScript object: every core counter (camelCase), then
/// `pending`.
pub(crate) fn stats_object<'env>(env: &'env Env, s: &Stats) -> Result<Object<'env>> {
    let mut o = Object::new(env)?;
    for (name, value) in s.fields().into_iter().chain([("pending", s.pending())]) {
        o.set(camel_case(name), value as f64)?;
    }
    Ok(o)
}

/// `in_flight` -> `inFlight`.
pub(crate) fn camel_case(snake: &str) -> String {
    let mut out = String::with_capacity(snake.len());
    let mut upper = false;
    for c in snake.chars() {
        match (c, upper) {
            ('_', _) => upper = true,
            (c, true) => {
                out.extend(c.to_uppercase());
                upper = false;
            }
            (c, false) => out.push(c),
        }
    }
    out
}

/// What `close` left behind.
#[napi(object)]
pub struct ShutdownReportJs {
    /// Accepted events neither delivered nor refused by the API (`spooled + lost + inDoubt`).
    pub remaining: f64,
    /// Left in the disk spool: the next client on that directory delivers them.
    pub spooled: f64,
    /// Not delivered and gone (no spool).
    pub lost: f64,
    /// Sent without an answer before the deadline: the server may have stored them.
    pub in_doubt: f64,
    /// The failure of the last failed attempt.
    pub last_error: Option<String>,
    /// The one line to print at exit when something was not delivered.
    pub exit_message: Option<String>,
}

impl From<ShutdownReport> for ShutdownReportJs {
    fn from(r: ShutdownReport) -> Self {
        ShutdownReportJs {
            exit_message: r.exit_message(),
            remaining: r.remaining as f64,
            spooled: r.spooled as f64,
            lost: r.lost as f64,
            in_doubt: r.in_doubt as f64,
            last_error: r.last_error,
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

#[cfg(test)]
mod tests {
    use auditwire::Outcome;

    use super::{camel_case, Settled};

    #[test]
    fn a_shutdown_outcome_carries_its_key_and_the_cores_words() {
        let key = "k-in-doubt";
        let in_doubt = Outcome::InDoubt {
            idempotency_key: key.into(),
            attempts: 1,
        };
        let s = Settled::new(3, &in_doubt, key, None);
        assert_eq!(s.outcome, "in_doubt");
        assert_eq!(s.idempotency_key.as_deref(), Some(key));
        assert_eq!(s.message, Some(in_doubt.to_string()));
        assert!(
            s.organization_id.is_none(),
            "only onOutcome gets the organization"
        );
        let lost = Settled::new(3, &Outcome::Lost { attempts: 0 }, key, None);
        assert_eq!(lost.idempotency_key.as_deref(), Some(key));
        let delivered = Outcome::Delivered {
            status: 201,
            request_id: None,
            attempts: 1,
        };
        let d = Settled::new(3, &delivered, key, None);
        assert!(d.idempotency_key.is_none() && d.message.is_none());
    }

    #[test]
    fn counter_names_become_camel_case() {
        assert_eq!(camel_case("in_flight"), "inFlight");
        assert_eq!(camel_case("refused_queue_full"), "refusedQueueFull");
        assert_eq!(camel_case("accepted"), "accepted");
    }
}
