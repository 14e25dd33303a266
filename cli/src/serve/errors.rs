//! API errors and their WorkOS-shaped JSON bodies.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

/// An error answered as `status` with a JSON body.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    body: Value,
}

impl ApiError {
    /// `{"message": message}` with `status`.
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        ApiError {
            status,
            body: json!({ "message": message.into() }),
        }
    }

    /// `{"message", "code"}` with `status`.
    pub fn coded(status: StatusCode, code: &str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            body: json!({ "message": message.into(), "code": code }),
        }
    }

    /// 422 `{"message": "Validation failed.", "errors": [...]}`.
    pub fn validation(errors: Vec<Value>) -> Self {
        ApiError {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            body: json!({ "message": "Validation failed.", "errors": errors }),
        }
    }

    /// 422 for one field: `{"code", "field", "message"}`.
    pub fn field(code: &str, field: &str, message: impl Into<String>) -> Self {
        Self::validation(vec![field_error(code, field, message)])
    }

    /// 400 `{"message": "Invalid Audit Log event.", "code": "invalid_audit_log_event", "errors"}`.
    pub fn invalid_event(errors: Vec<Value>) -> Self {
        ApiError {
            status: StatusCode::BAD_REQUEST,
            body: json!({
                "message": "Invalid Audit Log event.",
                "code": "invalid_audit_log_event",
                "errors": errors,
            }),
        }
    }

    /// 400 for a body that is not JSON.
    pub fn malformed_json(detail: impl std::fmt::Display) -> Self {
        Self::coded(
            StatusCode::BAD_REQUEST,
            "malformed_json",
            format!("Malformed JSON body: {detail}"),
        )
    }

    /// 404 `Organization not found: 'org_...'.`
    pub fn org_not_found(id: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            format!("Organization not found: '{id}'."),
        )
    }

    /// 500 for a failure of this server; the detail goes to stderr, not to the client.
    pub fn internal(detail: impl std::fmt::Display) -> Self {
        eprintln!("auditwire serve: internal error: {detail}");
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "Internal server error.")
    }

    /// The HTTP status.
    #[cfg(test)]
    pub fn status(&self) -> StatusCode {
        self.status
    }
}

/// One 422 error item.
pub fn field_error(code: &str, field: &str, message: impl Into<String>) -> Value {
    json!({ "code": code, "field": field, "message": message.into() })
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        json_response(self.status, &self.body)
    }
}

impl From<rusqlite::Error> for ApiError {
    fn from(e: rusqlite::Error) -> Self {
        ApiError::internal(format!("database: {e}"))
    }
}

impl From<tokio::task::JoinError> for ApiError {
    fn from(e: tokio::task::JoinError) -> Self {
        ApiError::internal(format!("background task: {e}"))
    }
}

/// A response with a JSON body.
pub fn json_response(status: StatusCode, body: &Value) -> Response {
    raw_json_response(status, body.to_string())
}

/// A response whose body is already JSON text.
pub fn raw_json_response(status: StatusCode, body: String) -> Response {
    let mut resp = (status, body).into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    resp
}
