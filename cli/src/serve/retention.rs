//! `GET|PUT /organizations/{id}/audit_logs_retention`: 30 or 365 days.

use axum::body::Body;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{json, Map, Value};

use super::app::Shared;
use super::body::{self, Fields};
use super::errors::{json_response, ApiError};
use super::schemas::path_param;

/// The period of an organization that never set one.
const DEFAULT_DAYS: i64 = 365;
const FIELDS: [&str; 2] = ["retention_period_in_days", "retention_period"];

/// The organization's retention period.
pub async fn get(
    State(st): State<Shared>,
    path: Result<Path<String>, PathRejection>,
) -> Result<Response, ApiError> {
    let org = path_param(path)?;
    st.check_org(&org)?;
    let days = st
        .db(move |db| db.retention(&org))
        .await?
        .unwrap_or(DEFAULT_DAYS);
    Ok(json_response(
        StatusCode::OK,
        &json!({ "retention_period_in_days": days }),
    ))
}

/// Sets the period from `retention_period_in_days` (30 or 365) or `retention_period` (`1_MONTH`, `1_YEAR`).
pub async fn put(
    State(st): State<Shared>,
    path: Result<Path<String>, PathRejection>,
    body: Body,
) -> Result<Response, ApiError> {
    let org = path_param(path)?;
    let bytes = body::read(body, st.limits.max_bytes).await?;
    let days = parse_days(&body::object(&bytes)?)?;
    st.check_org(&org)?;
    st.db(move |db| db.set_retention(&org, days)).await?;
    Ok(json_response(
        StatusCode::OK,
        &json!({ "retention_period_in_days": days }),
    ))
}

fn parse_days(map: &Map<String, Value>) -> Result<i64, ApiError> {
    let mut f = Fields::default();
    f.unknown(map, "", &FIELDS);
    let by_days = match map.get(FIELDS[0]) {
        None | Some(Value::Null) => None,
        Some(v) => match v.as_i64() {
            Some(d @ (30 | 365)) => Some(d),
            _ => {
                f.push(
                    "invalid_value",
                    FIELDS[0],
                    format!("must be 30 or 365 (found {v})"),
                );
                None
            }
        },
    };
    let by_period = match map.get(FIELDS[1]) {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s == "1_MONTH" => Some(30),
        Some(Value::String(s)) if s == "1_YEAR" => Some(365),
        Some(v) => {
            f.push(
                "invalid_value",
                FIELDS[1],
                format!("must be 1_MONTH or 1_YEAR (found {v})"),
            );
            None
        }
    };
    let days = match (by_days, by_period) {
        (Some(a), Some(b)) if a != b => {
            f.push(
                "invalid_value",
                FIELDS[1],
                "disagrees with retention_period_in_days",
            );
            None
        }
        (Some(d), _) | (None, Some(d)) => Some(d),
        (None, None) => {
            if f.is_empty() {
                f.push("required", FIELDS[0], "required: 30 or 365");
            }
            None
        }
    };
    f.finish()?;
    days.ok_or_else(|| ApiError::field("required", FIELDS[0], "required: 30 or 365"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn days(v: Value) -> Result<i64, ApiError> {
        parse_days(v.as_object().unwrap())
    }

    #[test]
    fn periods() {
        assert_eq!(days(json!({"retention_period_in_days": 30})).unwrap(), 30);
        assert_eq!(days(json!({"retention_period": "1_YEAR"})).unwrap(), 365);
        for bad in [
            json!({}),
            json!({"retention_period_in_days": 90}),
            json!({"retention_period_in_days": "30"}),
            json!({"retention_period": "2_YEARS"}),
            json!({"retention_period_in_days": 30, "retention_period": "1_YEAR"}),
            json!({"days": 30}),
        ] {
            assert_eq!(
                days(bad.clone()).unwrap_err().status().as_u16(),
                422,
                "{bad}"
            );
        }
    }
}
