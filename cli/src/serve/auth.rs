//! `Authorization: Bearer <key>` on every API route and, when a key is set, the test endpoints.

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::app::Shared;
use super::errors::ApiError;

/// Middleware: 401 unless the request carries an acceptable key.
pub async fn require_key(State(st): State<Shared>, req: Request, next: Next) -> Response {
    match check(req.headers(), st.api_key.as_deref()) {
        Ok(()) => next.run(req).await,
        Err(e) => e.into_response(),
    }
}

/// Middleware for `/__stats` and `/__reset`: 401 unless the configured key is sent; open
/// when the server accepts any key.
pub async fn require_configured_key(
    State(st): State<Shared>,
    req: Request,
    next: Next,
) -> Response {
    let Some(expected) = st.api_key.as_deref() else {
        return next.run(req).await;
    };
    match check(req.headers(), Some(expected)) {
        Ok(()) => next.run(req).await,
        Err(e) => e.into_response(),
    }
}

/// The Bearer key of the request, if any (not checked).
pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    match value.split_once(' ') {
        Some((scheme, key)) if scheme.eq_ignore_ascii_case("bearer") => Some(key.trim()),
        _ => None,
    }
}

/// Hex SHA-256 of an API key: what idempotency keys are scoped by, so no key is stored.
pub fn key_hash(key: &str) -> String {
    sha256_hex(key.as_bytes())
}

/// Hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, bytes);
    digest.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

/// Accepts any non-empty Bearer key, or exactly `expected` when set.
fn check(headers: &HeaderMap, expected: Option<&str>) -> Result<(), ApiError> {
    if headers.get(header::AUTHORIZATION).is_none() {
        return Err(unauthorized(
            "Missing API key: send it as `Authorization: Bearer <API key>`.",
        ));
    }
    let Some(key) = bearer(headers) else {
        return Err(unauthorized(
            "Malformed Authorization header: expected `Bearer <API key>`.",
        ));
    };
    if key.is_empty() {
        return Err(unauthorized("Empty API key in the Authorization header."));
    }
    match expected {
        Some(expected) if expected != key => Err(unauthorized("Invalid API key provided.")),
        _ => Ok(()),
    }
}

fn unauthorized(message: &str) -> ApiError {
    ApiError::coded(StatusCode::UNAUTHORIZED, "unauthorized", message)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn with(value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::AUTHORIZATION, HeaderValue::from_str(value).unwrap());
        h
    }

    #[test]
    fn keys() {
        assert!(check(&HeaderMap::new(), None).is_err());
        assert!(check(&with("Bearer sk_1"), None).is_ok());
        assert!(check(&with("bearer sk_1"), Some("sk_1")).is_ok());
        assert!(check(&with("Bearer sk_2"), Some("sk_1")).is_err());
        assert!(check(&with("Bearer "), None).is_err());
        assert!(check(&with("Basic abc"), None).is_err());
        assert_eq!(bearer(&with("Bearer  sk_1 ")), Some("sk_1"));
        assert_eq!(
            key_hash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
