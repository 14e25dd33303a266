//! `POST /audit_logs/events` and the legacy v1 `POST /events`, with idempotency keys.

use auditwire::{CreateEventBody, LegacyEvent};
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;

use super::app::Shared;
use super::auth;
use super::body;
use super::errors::{raw_json_response, ApiError};
use super::ids::{new_id, now_millis};
use super::problems::event_error;
use super::storage::{EventRecord, ScopedKey, Stored};

/// The body of every successful create.
const SUCCESS: &str = r#"{"success":true}"#;
/// How long an idempotency key is remembered.
pub const KEY_WINDOW_MS: i64 = 24 * 60 * 60 * 1000;
/// Longest accepted `Idempotency-Key`.
const MAX_KEY_LEN: usize = 255;

/// Creates one event (current API).
pub async fn create(
    State(st): State<Shared>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let bytes = body::read(body, st.limits.max_bytes).await?;
    let parsed =
        CreateEventBody::from_json_with(&bytes, &st.limits).map_err(|e| event_error(&e))?;
    accept(&st, &headers, parsed, "current").await
}

/// Creates one event from a flat v1 body (`@workos-inc/js`), stored in its current form.
pub async fn create_legacy(
    State(st): State<Shared>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let bytes = body::read(body, st.limits.max_bytes).await?;
    let legacy = LegacyEvent::from_json_with(&bytes, &st.limits).map_err(|e| event_error(&e))?;
    let current = legacy.to_current().map_err(|e| event_error(&e))?;
    accept(&st, &headers, current, "v1").await
}

async fn accept(
    st: &Shared,
    headers: &HeaderMap,
    body: CreateEventBody,
    source: &'static str,
) -> Result<Response, ApiError> {
    st.check_org(&body.organization_id)?;
    st.registry.check(&body.event)?;
    let key = idempotency_key(headers)?;
    let now = now_millis();
    let record = EventRecord {
        id: new_id("audit_log_event"),
        action: body.event.action.clone(),
        occurred_at_ms: body.event.occurred_at.unix_millis(),
        actor_id: body.event.actor.id.clone(),
        actor_name: body.event.actor.name.clone(),
        target_types: body.event.targets.iter().map(|t| t.kind.clone()).collect(),
        body: serde_json::to_string(&body.event).map_err(ApiError::internal)?,
        organization_id: body.organization_id,
        source,
        received_at_ms: now,
    };
    // Keys are scoped by the API key that sent them (hashed) and the organization; the
    // fingerprint tells a retry of the same event from a different event under the same key.
    let scope = key.map(|key| {
        let api_key_hash = auth::key_hash(auth::bearer(headers).unwrap_or(""));
        let fingerprint = auth::sha256_hex(record.body.as_bytes());
        (api_key_hash, key, fingerprint)
    });
    let stored = st
        .db(move |db| {
            let scoped = scope
                .as_ref()
                .map(|(api_key_hash, key, fingerprint)| ScopedKey {
                    api_key_hash,
                    key,
                    fingerprint,
                });
            db.store_event(&record, scoped.as_ref(), 201, SUCCESS, now - KEY_WINDOW_MS)
        })
        .await?;
    match stored {
        Stored::New => {
            st.stats.accepted();
            Ok(raw_json_response(StatusCode::CREATED, SUCCESS.to_owned()))
        }
        Stored::Replayed { status, body } => {
            st.stats.replayed();
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::CREATED);
            let mut resp = raw_json_response(status, body);
            resp.headers_mut()
                .insert("idempotent-replayed", HeaderValue::from_static("true"));
            Ok(resp)
        }
        Stored::Conflict => {
            st.stats.conflict();
            Err(ApiError::coded(
                StatusCode::CONFLICT,
                "idempotency_error",
                "This Idempotency-Key was already used in the last 24 hours with a different \
                 request body; send a new key for a different event.",
            ))
        }
    }
}

/// The `Idempotency-Key` header: absent or empty is none; 400 when unreadable or too long.
fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    let Some(value) = headers.get("idempotency-key") else {
        return Ok(None);
    };
    let key = value.to_str().map_err(|_| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "Idempotency-Key must be printable ASCII.",
        )
    })?;
    let key = key.trim();
    if key.len() > MAX_KEY_LEN {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            format!("Idempotency-Key is longer than {MAX_KEY_LEN} characters."),
        ));
    }
    Ok((!key.is_empty()).then(|| key.to_owned()))
}
