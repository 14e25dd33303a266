//! Reading request bodies and checking the fields of small JSON objects.

use axum::body::{Body, Bytes};
use axum::http::StatusCode;
use serde_json::{Map, Value};

use super::errors::{field_error, ApiError};

/// The whole body, or 413 when it is larger than `max` bytes.
pub async fn read(body: Body, max: usize) -> Result<Bytes, ApiError> {
    axum::body::to_bytes(body, max).await.map_err(|_| {
        ApiError::coded(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            format!("Request body is larger than the limit of {max} bytes."),
        )
    })
}

/// A JSON object body: 400 when not JSON, 422 when not an object.
pub fn object(bytes: &[u8]) -> Result<Map<String, Value>, ApiError> {
    match serde_json::from_slice::<Value>(bytes) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(other) => Err(ApiError::field(
            "wrong_type",
            "",
            format!("body must be a JSON object, found {}", kind(&other)),
        )),
        Err(e) => Err(ApiError::malformed_json(e)),
    }
}

/// The JSON type as a user would name it.
pub fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Collects 422 error items while fields are read.
#[derive(Default)]
pub struct Fields {
    errors: Vec<Value>,
}

impl Fields {
    /// Records one problem.
    pub fn push(&mut self, code: &str, field: &str, message: impl Into<String>) {
        self.errors.push(field_error(code, field, message));
    }

    /// Reports every key of `map` not in `allowed`.
    pub fn unknown(&mut self, map: &Map<String, Value>, prefix: &str, allowed: &[&str]) {
        for key in map.keys().filter(|k| !allowed.contains(&k.as_str())) {
            let message = format!("unknown field; expected one of {}", allowed.join(", "));
            self.push("unknown_field", &join(prefix, key), message);
        }
    }

    /// A required, non-empty string.
    pub fn required_str(&mut self, map: &Map<String, Value>, field: &str) -> Option<String> {
        match map.get(field) {
            None | Some(Value::Null) => {
                self.push("required", field, "required");
                None
            }
            Some(Value::String(s)) if s.is_empty() => {
                self.push("empty", field, "must not be empty");
                None
            }
            Some(Value::String(s)) => Some(s.clone()),
            Some(other) => {
                self.push(
                    "wrong_type",
                    field,
                    format!("must be a string, found {}", kind(other)),
                );
                None
            }
        }
    }

    /// An optional array of strings; absent or null is empty.
    pub fn string_list(&mut self, map: &Map<String, Value>, field: &str) -> Vec<String> {
        match map.get(field) {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(items)) => {
                let mut out = Vec::with_capacity(items.len());
                for (i, item) in items.iter().enumerate() {
                    match item {
                        Value::String(s) => out.push(s.clone()),
                        other => self.push(
                            "wrong_type",
                            &format!("{field}[{i}]"),
                            format!("must be a string, found {}", kind(other)),
                        ),
                    }
                }
                out
            }
            Some(other) => {
                self.push(
                    "wrong_type",
                    field,
                    format!("must be an array of strings, found {}", kind(other)),
                );
                Vec::new()
            }
        }
    }

    /// True when nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.errors.is_empty()
    }

    /// `Ok` when nothing was recorded, else 422 with every item.
    pub fn finish(self) -> Result<(), ApiError> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(ApiError::validation(self.errors))
        }
    }
}

/// `prefix.key`, or `key` at the top level.
pub fn join(prefix: &str, key: &str) -> String {
    if prefix.is_empty() {
        key.to_owned()
    } else {
        format!("{prefix}.{key}")
    }
}
