//! Compiled action schemas and the check of event metadata against them.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, RwLock};

use auditwire::{Event, Metadata};
use jsonschema::Validator;
use serde_json::{json, Value};

use super::errors::{field_error, ApiError};
use super::storage::SchemaRow;

/// One schema version, compiled.
pub struct CompiledSchema {
    /// The version number.
    pub version: i64,
    actor: Option<Validator>,
    targets: Vec<(String, Option<Validator>)>,
    metadata: Option<Validator>,
}

impl CompiledSchema {
    /// Compiles a normalised schema body (`actor.metadata`, `targets[].metadata`, `metadata`).
    ///
    /// The error lists a 422 item for each part that is not a valid JSON Schema.
    pub fn compile(version: i64, body: &Value) -> Result<Self, Vec<Value>> {
        let mut errors = Vec::new();
        let mut compile = |field: &str, schema: Option<&Value>| {
            let schema = schema.filter(|s| !s.is_null())?;
            match jsonschema::validator_for(schema) {
                Ok(v) => Some(v),
                Err(e) => {
                    errors.push(field_error(
                        "invalid_schema",
                        field,
                        format!("not a valid JSON Schema: {e}"),
                    ));
                    None
                }
            }
        };
        let actor = compile("actor.metadata", body.pointer("/actor/metadata"));
        let targets = body["targets"]
            .as_array()
            .map(|items| {
                items
                    .iter()
                    .enumerate()
                    .map(|(i, t)| {
                        let kind = t["type"].as_str().unwrap_or_default().to_owned();
                        (
                            kind,
                            compile(&format!("targets[{i}].metadata"), t.get("metadata")),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        let metadata = compile("metadata", body.get("metadata"));
        if errors.is_empty() {
            Ok(CompiledSchema {
                version,
                actor,
                targets,
                metadata,
            })
        } else {
            Err(errors)
        }
    }

    /// The same schema numbered `version`.
    pub fn with_version(self, version: i64) -> Self {
        CompiledSchema { version, ..self }
    }

    /// Every way `event` breaks this schema, as `instancePath` error items.
    fn errors(&self, event: &Event) -> Vec<Value> {
        let mut out = Vec::new();
        if let Some(v) = &self.actor {
            check(
                v,
                event.actor.metadata.as_ref(),
                "/actor/metadata",
                &mut out,
            );
        }
        for (i, target) in event.targets.iter().enumerate() {
            match self.targets.iter().find(|(kind, _)| *kind == target.kind) {
                Some((_, Some(v))) => check(
                    v,
                    target.metadata.as_ref(),
                    &format!("/targets/{i}/metadata"),
                    &mut out,
                ),
                Some((_, None)) => {}
                None => {
                    let known: Vec<&str> = self.targets.iter().map(|(k, _)| k.as_str()).collect();
                    out.push(json!({
                        "instancePath": format!("/targets/{i}/type"),
                        "keyword": "enum",
                        "message": format!(
                            "target type '{}' is not in schema version {} of action '{}'; expected one of: {}",
                            target.kind, self.version, event.action, known.join(", ")
                        ),
                    }));
                }
            }
        }
        if let Some(v) = &self.metadata {
            check(v, event.metadata.as_ref(), "/metadata", &mut out);
        }
        out
    }
}

/// Validates one metadata object (absent counts as `{}`) and records its errors.
fn check(v: &Validator, metadata: Option<&Metadata>, prefix: &str, out: &mut Vec<Value>) {
    let instance = match metadata {
        Some(m) => serde_json::to_value(m).unwrap_or(Value::Null),
        None => json!({}),
    };
    for e in v.iter_errors(&instance) {
        out.push(json!({
            "instancePath": format!("{prefix}{}", e.instance_path().as_str()),
            "schemaPath": format!("#{}", e.schema_path().as_str()),
            "keyword": e.kind().keyword(),
            "message": e.to_string(),
        }));
    }
}

/// The compiled schemas of every action, by version.
#[derive(Default)]
pub struct SchemaRegistry {
    actions: RwLock<HashMap<String, BTreeMap<i64, Arc<CompiledSchema>>>>,
}

impl SchemaRegistry {
    /// Compiles and adds a stored schema.
    pub fn load(&self, row: &SchemaRow) -> Result<(), String> {
        let body: Value = serde_json::from_str(&row.body)
            .map_err(|e| format!("stored schema {} is not JSON: {e}", row.id))?;
        let compiled = CompiledSchema::compile(row.version, &body)
            .map_err(|_| format!("stored schema {} does not compile", row.id))?;
        self.insert(&row.action, compiled);
        Ok(())
    }

    /// Adds a compiled schema version of `action`.
    pub fn insert(&self, action: &str, schema: CompiledSchema) {
        let mut actions = self.actions.write().unwrap_or_else(|e| e.into_inner());
        actions
            .entry(action.to_owned())
            .or_default()
            .insert(schema.version, Arc::new(schema));
    }

    /// Forgets every schema.
    pub fn clear(&self) {
        self.actions
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }

    /// 400 `invalid_audit_log_event` when the event's action has a schema that it breaks.
    ///
    /// The event's `version` picks the schema version; without one the latest applies.
    pub fn check(&self, event: &Event) -> Result<(), ApiError> {
        let schema = {
            let actions = self.actions.read().unwrap_or_else(|e| e.into_inner());
            let Some(versions) = actions.get(&event.action) else {
                return Ok(());
            };
            let found = match event.version {
                Some(v) => versions.get(&v),
                None => versions.values().next_back(),
            };
            match found {
                Some(s) => Arc::clone(s),
                None => {
                    let latest = versions.keys().next_back().copied().unwrap_or(0);
                    return Err(ApiError::invalid_event(vec![json!({
                        "instancePath": "/version",
                        "keyword": "version",
                        "message": format!(
                            "action '{}' has no schema version {} (latest is {latest})",
                            event.action,
                            event.version.unwrap_or(0)
                        ),
                    })]));
                }
            }
        };
        let errors = schema.errors(event);
        if errors.is_empty() {
            Ok(())
        } else {
            Err(ApiError::invalid_event(errors))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(json: &str) -> Event {
        Event::from_json(json.as_bytes()).unwrap()
    }

    #[test]
    fn metadata_is_checked_against_the_chosen_version() {
        let body = json!({
            "targets": [{"type": "team", "metadata": {"type": "object", "properties": {"size": {"type": "number"}}}}],
            "metadata": {"type": "object", "required": ["owner"], "properties": {"owner": {"type": "string"}}}
        });
        let reg = SchemaRegistry::default();
        reg.insert("team.created", CompiledSchema::compile(1, &body).unwrap());
        let ok = r#"{"action":"team.created","occurred_at":"2026-01-01T00:00:00Z","actor":{"id":"u","type":"user"},
            "targets":[{"id":"t","type":"team","metadata":{"size":3}}],"context":{"location":"x"},"metadata":{"owner":"u"}}"#;
        assert!(reg.check(&event(ok)).is_ok());
        let bad = ok
            .replace(r#""size":3"#, r#""size":"big""#)
            .replace(r#""owner":"u""#, r#""other":1"#);
        let err = reg.check(&event(&bad)).unwrap_err();
        assert_eq!(err.status().as_u16(), 400);
        let wrong_type = ok.replace(r#""type":"team""#, r#""type":"doc""#);
        assert!(reg.check(&event(&wrong_type)).is_err());
        let missing_version = ok.replace(
            r#""action":"team.created","#,
            r#""action":"team.created","version":9,"#,
        );
        assert!(reg.check(&event(&missing_version)).is_err());
        assert!(
            CompiledSchema::compile(1, &json!({"targets": [], "metadata": {"type": 5}})).is_err()
        );
    }
}
