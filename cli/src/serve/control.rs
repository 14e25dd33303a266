//! Test endpoints (`/__stats`, `/__reset`) and the answers for unknown routes.

use axum::extract::State;
use axum::http::{Method, StatusCode, Uri};
use axum::response::Response;
use serde_json::json;

use super::app::Shared;
use super::errors::{json_response, ApiError};

/// `GET /__stats`: counters as JSON (404 without `--test-endpoints`).
pub async fn stats(State(st): State<Shared>) -> Result<Response, ApiError> {
    enabled(&st)?;
    let stored = st.db(|db| db.event_count()).await?;
    Ok(json_response(StatusCode::OK, &st.stats.to_json(stored)))
}

/// `POST /__reset`: forgets everything and restarts the fault sequence.
pub async fn reset(State(st): State<Shared>) -> Result<Response, ApiError> {
    enabled(&st)?;
    st.db(|db| db.reset()).await?;
    st.registry.clear();
    st.stats.clear();
    st.faults.reseed();
    Ok(json_response(StatusCode::OK, &json!({ "success": true })))
}

fn enabled(st: &Shared) -> Result<(), ApiError> {
    if st.test_endpoints {
        Ok(())
    } else {
        Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "Test endpoints are off: start the server with --test-endpoints.",
        ))
    }
}

/// 404 for a path no route serves.
pub async fn not_found(method: Method, uri: Uri) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        format!("Not found: {method} {}.", uri.path()),
    )
}

/// 405 for a known path with another method.
pub async fn method_not_allowed(method: Method, uri: Uri) -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        format!("Method {method} is not allowed on {}.", uri.path()),
    )
}
