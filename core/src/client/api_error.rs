//! The typed error for a failed API call, classified like the official SDKs' error classes.

use std::fmt;
use std::time::Duration;

use serde_json::Value;

/// The class of an API failure; names match the official SDKs' error classes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// 400: the request or the event's metadata failed a check.
    BadRequest,
    /// 401: the API key is missing or wrong.
    Authentication,
    /// 403: the API key lacks permission.
    Authorization,
    /// 404: unknown organization, export or action.
    NotFound,
    /// 422: a field is missing or malformed.
    UnprocessableEntity,
    /// 429: too many requests.
    RateLimitExceeded,
    /// 5xx: the server failed.
    Server,
    /// The connection failed or broke (no HTTP status).
    Connection,
    /// 408, or the request timed out.
    Timeout,
    /// Any other non-2xx status.
    Other,
}

impl ErrorKind {
    /// The class for an HTTP status.
    pub fn from_status(status: u16) -> Self {
        match status {
            400 => ErrorKind::BadRequest,
            401 => ErrorKind::Authentication,
            403 => ErrorKind::Authorization,
            404 => ErrorKind::NotFound,
            408 => ErrorKind::Timeout,
            422 => ErrorKind::UnprocessableEntity,
            429 => ErrorKind::RateLimitExceeded,
            500..=599 => ErrorKind::Server,
            _ => ErrorKind::Other,
        }
    }

    /// The official Python SDK's class name for this kind.
    pub fn name(self) -> &'static str {
        match self {
            ErrorKind::BadRequest => "BadRequestError",
            ErrorKind::Authentication => "AuthenticationError",
            ErrorKind::Authorization => "AuthorizationError",
            ErrorKind::NotFound => "NotFoundError",
            ErrorKind::UnprocessableEntity => "UnprocessableEntityError",
            ErrorKind::RateLimitExceeded => "RateLimitExceededError",
            ErrorKind::Server => "ServerError",
            ErrorKind::Connection => "WorkOSConnectionError",
            ErrorKind::Timeout => "WorkOSTimeoutError",
            ErrorKind::Other => "WorkOSError",
        }
    }
}

/// A failed API call: status, the server's code, message and `errors`, request id, retry-after.
#[derive(Clone, Debug, PartialEq)]
pub struct ApiError {
    /// The class of failure.
    pub kind: ErrorKind,
    /// The HTTP status; `None` for connection failures and client-side timeouts.
    pub status: Option<u16>,
    /// The server's error code, e.g. `invalid_audit_log_event`.
    pub code: Option<String>,
    /// The server's message, or a description of the transport failure.
    pub message: String,
    /// The raw `errors` value of the response body, kept as opaque JSON (boxed: it is rare).
    pub errors: Option<Box<Value>>,
    /// The `X-Request-ID` response header.
    pub request_id: Option<String>,
    /// The `Retry-After` response header, parsed.
    pub retry_after: Option<Duration>,
}

/// Longest non-JSON body kept as a message.
const MAX_TEXT_MESSAGE: usize = 512;

impl ApiError {
    /// The error for a non-2xx response, reading `message`, `code` and `errors` from its body.
    pub fn from_response(
        status: u16,
        body: &[u8],
        request_id: Option<String>,
        retry_after: Option<Duration>,
    ) -> Self {
        let parsed: Option<Value> = serde_json::from_slice(body).ok();
        let obj = parsed.as_ref().and_then(Value::as_object);
        let text = |k: &str| {
            obj.and_then(|o| o.get(k))
                .and_then(Value::as_str)
                .map(str::to_owned)
        };
        let message = text("message")
            .or_else(|| text("error_description"))
            .or_else(|| text("error"))
            .unwrap_or_else(|| {
                let raw = String::from_utf8_lossy(body);
                let raw = raw.trim();
                if raw.is_empty() || obj.is_some() {
                    format!("HTTP {status}")
                } else {
                    truncate(raw, MAX_TEXT_MESSAGE)
                }
            });
        ApiError {
            kind: ErrorKind::from_status(status),
            status: Some(status),
            code: text("code"),
            message,
            errors: obj
                .and_then(|o| o.get("errors"))
                .map(|v| Box::new(v.clone())),
            request_id,
            retry_after,
        }
    }

    /// A failure without an HTTP response (connection refused, reset, timeout).
    pub fn transport(kind: ErrorKind, message: impl Into<String>) -> Self {
        ApiError {
            kind,
            status: None,
            code: None,
            message: message.into(),
            errors: None,
            request_id: None,
            retry_after: None,
        }
    }

    /// True when another attempt may succeed (transport failures, 408, 429, 5xx).
    pub fn is_retryable(&self) -> bool {
        match self.status {
            Some(s) => super::retry::is_retryable_status(s),
            None => true,
        }
    }
}

fn truncate(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_owned();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.status {
            Some(s) => write!(f, "{} (HTTP {s}): {}", self.kind.name(), self.message)?,
            None => write!(f, "{}: {}", self.kind.name(), self.message)?,
        }
        if let Some(code) = &self.code {
            write!(f, " [code {code}]")?;
        }
        if let Some(errors) = &self.errors {
            write!(f, " errors: {errors}")?;
        }
        if let Some(id) = &self.request_id {
            write!(f, " (request id {id})")?;
        }
        Ok(())
    }
}

impl std::error::Error for ApiError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_documented_error_bodies() {
        let e = ApiError::from_response(
            400,
            br#"{"message": "Invalid Audit Log event.", "code": "invalid_audit_log_event", "errors": [{"instancePath": "/targets"}]}"#,
            Some("req_1".into()),
            None,
        );
        assert_eq!(e.kind, ErrorKind::BadRequest);
        assert_eq!(e.code.as_deref(), Some("invalid_audit_log_event"));
        assert_eq!(e.errors.as_ref().unwrap()[0]["instancePath"], "/targets");
        assert!(e.to_string().contains("req_1") && e.to_string().contains("HTTP 400"));
        assert!(!e.is_retryable());
        let e = ApiError::from_response(502, b"<html>bad gateway</html>", None, None);
        assert_eq!(
            (e.kind, e.message.as_str()),
            (ErrorKind::Server, "<html>bad gateway</html>")
        );
        assert!(e.is_retryable());
        let e = ApiError::from_response(429, b"", None, Some(Duration::from_secs(3)));
        assert_eq!(
            (e.kind, e.message.as_str()),
            (ErrorKind::RateLimitExceeded, "HTTP 429")
        );
        assert_eq!(ErrorKind::from_status(401).name(), "AuthenticationError");
        assert_eq!(ErrorKind::from_status(422), ErrorKind::UnprocessableEntity);
        assert!(ApiError::transport(ErrorKind::Connection, "reset").is_retryable());
    }
}
