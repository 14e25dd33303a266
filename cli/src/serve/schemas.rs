//! `POST/GET /audit_logs/actions/{action}/schemas` and `GET /audit_logs/actions`.

use axum::body::Body;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{json, Map, Value};

use super::app::Shared;
use super::body::{self, Fields};
use super::errors::{json_response, ApiError};
use super::ids::{new_id, now_millis, rfc3339};
use super::lists;
use super::registry::CompiledSchema;
use super::storage::{ActionRow, SchemaRow};

/// Creates a schema version: 201 when new, 200 with the latest when it is equal.
pub async fn create(
    State(st): State<Shared>,
    path: Result<Path<String>, PathRejection>,
    body: Body,
) -> Result<Response, ApiError> {
    let action = path_param(path)?;
    let bytes = body::read(body, st.limits.max_bytes).await?;
    let normalised = parse_schema(&body::object(&bytes)?)?;
    let compiled = CompiledSchema::compile(0, &normalised).map_err(ApiError::validation)?;
    let text = normalised.to_string();
    let now = now_millis();
    let (row, created) = st
        .db(move |db| {
            let same = move |latest: &str| {
                serde_json::from_str::<Value>(latest).is_ok_and(|v| v == normalised)
            };
            db.create_schema(&action, &text, same, || new_id("audit_log_schema"), now)
        })
        .await?;
    if created {
        st.registry
            .insert(&row.action, compiled.with_version(row.version));
    }
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok(json_response(status, &schema_json(&row)))
}

/// Lists the actions, each with its latest schema.
pub async fn list_actions(
    State(st): State<Shared>,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Result<Response, ApiError> {
    let params = lists::params(&query_pairs(query)?)?;
    let rows = st.db(|db| db.actions()).await?;
    let page = lists::page(rows, &params, |a: &ActionRow| &a.name, action_json)?;
    Ok(json_response(StatusCode::OK, &page))
}

/// Lists the schema versions of one action (404 when it has none).
pub async fn list_schemas(
    State(st): State<Shared>,
    path: Result<Path<String>, PathRejection>,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Result<Response, ApiError> {
    let action = path_param(path)?;
    let params = lists::params(&query_pairs(query)?)?;
    let name = action.clone();
    let Some(rows) = st.db(move |db| db.schemas_of(&name)).await? else {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            format!("Audit Log action not found: '{action}'."),
        ));
    };
    let page = lists::page(rows, &params, |s: &SchemaRow| &s.id, schema_json)?;
    Ok(json_response(StatusCode::OK, &page))
}

/// A path parameter, or 400 when the path cannot be decoded.
pub fn path_param(path: Result<Path<String>, PathRejection>) -> Result<String, ApiError> {
    path.map(|Path(p)| p)
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, format!("Invalid path: {e}")))
}

/// Query pairs, or 400 when the query string cannot be decoded.
pub fn query_pairs(
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Result<Vec<(String, String)>, ApiError> {
    query.map(|Query(q)| q).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            format!("Invalid query string: {e}"),
        )
    })
}

/// Checks the shape of a schema body and returns it normalised (`actor`, `targets`, `metadata`).
fn parse_schema(map: &Map<String, Value>) -> Result<Value, ApiError> {
    let mut f = Fields::default();
    f.unknown(map, "", &["actor", "targets", "metadata"]);
    let mut out = Map::new();
    match map.get("actor") {
        None | Some(Value::Null) => {}
        Some(Value::Object(actor)) => {
            f.unknown(actor, "actor", &["metadata"]);
            if let Some(m) = schema_object(&mut f, actor.get("metadata"), "actor.metadata", true) {
                out.insert("actor".into(), json!({ "metadata": m }));
            }
        }
        Some(other) => f.push(
            "wrong_type",
            "actor",
            format!("must be an object, found {}", body::kind(other)),
        ),
    }
    out.insert(
        "targets".into(),
        Value::Array(parse_targets(&mut f, map.get("targets"))),
    );
    if let Some(m) = schema_object(&mut f, map.get("metadata"), "metadata", false) {
        out.insert("metadata".into(), m);
    }
    f.finish()?;
    Ok(Value::Object(out))
}

fn parse_targets(f: &mut Fields, value: Option<&Value>) -> Vec<Value> {
    let items = match value {
        None | Some(Value::Null) => {
            f.push("required", "targets", "required: at least one target type");
            return Vec::new();
        }
        Some(Value::Array(items)) if items.is_empty() => {
            f.push("empty", "targets", "must list at least one target type");
            return Vec::new();
        }
        Some(Value::Array(items)) => items,
        Some(other) => {
            f.push(
                "wrong_type",
                "targets",
                format!("must be an array, found {}", body::kind(other)),
            );
            return Vec::new();
        }
    };
    let mut out = Vec::new();
    let mut seen = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let at = format!("targets[{i}]");
        let Value::Object(t) = item else {
            f.push(
                "wrong_type",
                &at,
                format!("must be an object, found {}", body::kind(item)),
            );
            continue;
        };
        f.unknown(t, &at, &["type", "metadata"]);
        let kind = match t.get("type") {
            Some(Value::String(s)) if !s.is_empty() => s.clone(),
            Some(Value::String(_)) => {
                f.push("empty", &format!("{at}.type"), "must not be empty");
                continue;
            }
            None | Some(Value::Null) => {
                f.push("required", &format!("{at}.type"), "required");
                continue;
            }
            Some(other) => {
                let message = format!("must be a string, found {}", body::kind(other));
                f.push("wrong_type", &format!("{at}.type"), message);
                continue;
            }
        };
        if seen.contains(&kind) {
            f.push(
                "invalid_value",
                &format!("{at}.type"),
                format!("target type '{kind}' is listed twice"),
            );
            continue;
        }
        seen.push(kind.clone());
        let mut target = Map::new();
        target.insert("type".into(), Value::String(kind));
        if let Some(m) = schema_object(f, t.get("metadata"), &format!("{at}.metadata"), false) {
            target.insert("metadata".into(), m);
        }
        out.push(Value::Object(target));
    }
    out
}

/// A JSON Schema given as an object; `required` makes absence a problem.
fn schema_object(
    f: &mut Fields,
    value: Option<&Value>,
    field: &str,
    required: bool,
) -> Option<Value> {
    match value {
        None | Some(Value::Null) => {
            if required {
                f.push("required", field, "required");
            }
            None
        }
        Some(v @ Value::Object(_)) => Some(v.clone()),
        Some(other) => {
            let message = format!("must be a JSON Schema object, found {}", body::kind(other));
            f.push("wrong_type", field, message);
            None
        }
    }
}

/// The API object of a schema version.
pub fn schema_json(row: &SchemaRow) -> Value {
    let body: Value = serde_json::from_str(&row.body).unwrap_or_else(|_| json!({}));
    let mut out = Map::new();
    out.insert("object".into(), json!("audit_log_schema"));
    out.insert("id".into(), json!(row.id));
    out.insert("version".into(), json!(row.version));
    for key in ["actor", "targets", "metadata"] {
        if let Some(v) = body.get(key) {
            out.insert(key.into(), v.clone());
        }
    }
    out.insert("created_at".into(), json!(rfc3339(row.created_at_ms)));
    Value::Object(out)
}

fn action_json(row: &ActionRow) -> Value {
    json!({
        "object": "audit_log_action",
        "name": row.name,
        "schema": schema_json(&row.latest),
        "created_at": rfc3339(row.created_at_ms),
        "updated_at": rfc3339(row.updated_at_ms),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(v: Value) -> Result<Value, ApiError> {
        parse_schema(v.as_object().unwrap())
    }

    #[test]
    fn schema_bodies_are_checked_and_normalised() {
        let ok =
            parse(json!({"metadata": {"type": "object"}, "targets": [{"type": "team"}]})).unwrap();
        assert_eq!(
            ok,
            json!({"targets": [{"type": "team"}], "metadata": {"type": "object"}})
        );
        for bad in [
            json!({}),
            json!({"targets": []}),
            json!({"targets": [{"type": ""}]}),
            json!({"targets": [{"type": "a"}, {"type": "a"}]}),
            json!({"targets": [{"type": "a"}], "actor": {}}),
            json!({"targets": [{"type": "a"}], "metadata": 5}),
            json!({"targets": [{"type": "a"}], "extra": 1}),
        ] {
            assert_eq!(
                parse(bad.clone()).unwrap_err().status().as_u16(),
                422,
                "{bad}"
            );
        }
    }
}
