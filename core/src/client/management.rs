//! The blocking management calls, with the same retry rules and errors as delivery.

use std::time::{Duration, Instant};

use rand::rngs::SmallRng;
use rand::SeedableRng;
use serde::de::DeserializeOwned;
use ureq::http::Method;

use super::api_error::{ApiError, ErrorKind};
use super::api_types::{
    AuditLogAction, AuditLogExport, AuditLogSchema, CreateExportRequest, CreateSchemaRequest, List,
    ListOptions, Retention,
};
use super::Client;

/// Retries of a management call when `max_retries` is not set, as in the official SDKs.
const DEFAULT_MANAGEMENT_RETRIES: u32 = 3;

impl Client {
    /// `POST /audit_logs/exports`: starts an export.
    pub fn create_export(&self, request: &CreateExportRequest) -> Result<AuditLogExport, ApiError> {
        self.call(
            Method::POST,
            "/audit_logs/exports".into(),
            Some(json(request)),
        )
    }

    /// `GET /audit_logs/exports/{id}`: an export's state and, when ready, its CSV URL.
    pub fn get_export(&self, export_id: &str) -> Result<AuditLogExport, ApiError> {
        let path = format!("/audit_logs/exports/{}", segment("export_id", export_id)?);
        self.call(Method::GET, path, None)
    }

    /// `POST /audit_logs/actions/{action}/schemas`: a new schema version for an action.
    pub fn create_schema(
        &self,
        action: &str,
        schema: &CreateSchemaRequest,
    ) -> Result<AuditLogSchema, ApiError> {
        let path = format!("/audit_logs/actions/{}/schemas", segment("action", action)?);
        self.call(Method::POST, path, Some(json(schema)))
    }

    /// `GET /audit_logs/actions`: one page of actions.
    pub fn list_actions(&self, options: &ListOptions) -> Result<List<AuditLogAction>, ApiError> {
        self.call(
            Method::GET,
            format!("/audit_logs/actions{}", query(options)),
            None,
        )
    }

    /// `GET /audit_logs/actions/{action}/schemas`: one page of an action's schemas.
    pub fn list_schemas(
        &self,
        action: &str,
        options: &ListOptions,
    ) -> Result<List<AuditLogSchema>, ApiError> {
        let path = format!(
            "/audit_logs/actions/{}/schemas{}",
            segment("action", action)?,
            query(options)
        );
        self.call(Method::GET, path, None)
    }

    /// `GET /organizations/{id}/audit_logs_retention`.
    pub fn get_retention(&self, organization_id: &str) -> Result<Retention, ApiError> {
        let path = format!(
            "/organizations/{}/audit_logs_retention",
            segment("organization_id", organization_id)?
        );
        self.call(Method::GET, path, None)
    }

    /// `PUT /organizations/{id}/audit_logs_retention` with 30 or 365 days.
    pub fn set_retention(&self, organization_id: &str, days: u32) -> Result<Retention, ApiError> {
        let path = format!(
            "/organizations/{}/audit_logs_retention",
            segment("organization_id", organization_id)?
        );
        let body = json(&Retention {
            retention_period_in_days: days,
        });
        self.call(Method::PUT, path, Some(body))
    }

    /// Downloads a ready export's CSV from its `url` (any host: it is a signed link).
    pub fn download_export(&self, export: &AuditLogExport) -> Result<Vec<u8>, ApiError> {
        let url = export.url.as_deref().ok_or_else(|| {
            ApiError::transport(
                ErrorKind::Other,
                format!("export {} has no url yet", export.id),
            )
        })?;
        let agent = ureq::Agent::new_with_config(
            ureq::Agent::config_builder()
                .http_status_as_error(false)
                .timeout_global(Some(self.config.timeout))
                .build(),
        );
        let mut resp = agent
            .get(url)
            .call()
            .map_err(|e| ApiError::transport(ErrorKind::Connection, e.to_string()))?;
        let status = resp.status().as_u16();
        let body = resp
            .body_mut()
            .with_config()
            .limit(4 << 30)
            .read_to_vec()
            .map_err(|e| ApiError::transport(ErrorKind::Connection, e.to_string()))?;
        if (200..300).contains(&status) {
            Ok(body)
        } else {
            Err(ApiError::from_response(status, &body, None, None))
        }
    }

    /// One management request with retries on transport errors, 408, 429 and 5xx.
    fn call<T: DeserializeOwned>(
        &self,
        method: Method,
        path: String,
        body: Option<Vec<u8>>,
    ) -> Result<T, ApiError> {
        let (transport, shared) = self.management();
        let policy = shared.policy;
        let max = policy.max_retries.unwrap_or(DEFAULT_MANAGEMENT_RETRIES);
        let started = Instant::now();
        let mut rng = SmallRng::from_rng(&mut rand::rng());
        let mut attempts = 0u32;
        loop {
            attempts += 1;
            let error = match transport.send(method.clone(), &path, body.as_deref(), None) {
                Ok(reply) if reply.is_success() => {
                    return serde_json::from_slice(&reply.body).map_err(|e| ApiError {
                        request_id: reply.request_id,
                        ..ApiError::transport(
                            ErrorKind::Other,
                            format!("unexpected response body from {path}: {e}"),
                        )
                    });
                }
                Ok(reply) => reply.into_error(),
                Err(e) => e,
            };
            if !error.is_retryable() || attempts > max {
                return Err(error);
            }
            let wait = policy.wait(attempts, error.retry_after, &mut rng);
            let now = Instant::now();
            if error.status == Some(429) {
                shared.store.pause(now + wait);
            }
            if now + wait > started + policy.window {
                return Err(error);
            }
            log::debug!("auditwire: {method} {path} failed ({error}); retrying in {wait:?}");
            std::thread::sleep(wait.max(Duration::from_millis(1)));
        }
    }
}

fn json<T: serde::Serialize>(value: &T) -> Vec<u8> {
    serde_json::to_vec(value).expect("request types always serialise")
}

/// `value` as one percent-encoded path segment. Empty, `.` and `..` are refused: no encoding
/// keeps them in their place (servers decode `%2E` and resolve dot segments).
fn segment(parameter: &str, value: &str) -> Result<String, ApiError> {
    let why = match value {
        "" => "must not be empty",
        "." | ".." => "must not be `.` or `..` (a path segment that names another resource)",
        _ => return Ok(encode(value)),
    };
    Err(ApiError::transport(
        ErrorKind::UnprocessableEntity,
        format!("{parameter}: {why} (found {value:?})"),
    ))
}

/// Percent-encodes one path segment or query value: everything outside RFC 3986's
/// unreserved characters.
fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn query(o: &ListOptions) -> String {
    let mut parts = Vec::new();
    if let Some(l) = o.limit {
        parts.push(format!("limit={l}"));
    }
    if let Some(order) = o.order {
        parts.push(format!("order={}", order.as_str()));
    }
    if let Some(b) = &o.before {
        parts.push(format!("before={}", encode(b)));
    }
    if let Some(a) = &o.after {
        parts.push(format!("after={}", encode(a)));
    }
    if parts.is_empty() {
        String::new()
    } else {
        format!("?{}", parts.join("&"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::api_types::Order;

    #[test]
    fn paths_and_queries_are_encoded() {
        assert_eq!(encode("user.signed_in"), "user.signed_in");
        assert_eq!(encode("a/b c"), "a%2Fb%20c");
        let o = ListOptions {
            limit: Some(5),
            order: Some(Order::Desc),
            before: None,
            after: Some("x y".into()),
        };
        assert_eq!(query(&o), "?limit=5&order=desc&after=x%20y");
        assert_eq!(query(&ListOptions::default()), "");
    }
}
