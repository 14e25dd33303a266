//! `Authorization: Bearer <key>` on every API route.

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

/// Accepts any non-empty Bearer key, or exactly `expected` when set.
fn check(headers: &HeaderMap, expected: Option<&str>) -> Result<(), ApiError> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Err(unauthorized(
            "Missing API key: send it as `Authorization: Bearer <API key>`.",
        ));
    };
    let value = value.to_str().unwrap_or("");
    let key = match value.split_once(' ') {
        Some((scheme, key)) if scheme.eq_ignore_ascii_case("bearer") => key.trim(),
        _ => {
            return Err(unauthorized(
                "Malformed Authorization header: expected `Bearer <API key>`.",
            ))
        }
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
    }
}
