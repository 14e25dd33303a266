//! Typed requests and responses of the Audit Logs management endpoints (WorkOS wire names).

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::Timestamp;

/// `POST /audit_logs/exports`: which events to export.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CreateExportRequest {
    /// The organization whose events are exported.
    pub organization_id: String,
    /// Start of the range (inclusive).
    pub range_start: Timestamp,
    /// End of the range.
    pub range_end: Timestamp,
    /// Only these actions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actions: Option<Vec<String>>,
    /// Only these actor names.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor_names: Option<Vec<String>>,
    /// Only these actor ids.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor_ids: Option<Vec<String>>,
    /// Only events with targets of these types.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub targets: Option<Vec<String>>,
}

impl CreateExportRequest {
    /// An export of every event of an organization in a time range.
    pub fn new(
        organization_id: impl Into<String>,
        range_start: Timestamp,
        range_end: Timestamp,
    ) -> Self {
        CreateExportRequest {
            organization_id: organization_id.into(),
            range_start,
            range_end,
            actions: None,
            actor_names: None,
            actor_ids: None,
            targets: None,
        }
    }
}

/// The state of an export.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExportState {
    /// Being prepared.
    Pending,
    /// Ready: `url` points at the CSV.
    Ready,
    /// Failed.
    Error,
    /// The CSV is no longer available.
    Expired,
    /// A state this version does not know.
    #[serde(other)]
    Unknown,
}

/// An export, as returned by create and get.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AuditLogExport {
    /// `audit_log_export`.
    #[serde(default)]
    pub object: String,
    /// `audit_log_export_…`.
    pub id: String,
    /// Pending, ready, error or expired.
    pub state: ExportState,
    /// Where to download the CSV, once ready (valid for 10 minutes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// When it was created.
    #[serde(default)]
    pub created_at: String,
    /// When it last changed.
    #[serde(default)]
    pub updated_at: String,
}

/// JSON Schema for the actor's metadata.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SchemaActor {
    /// A JSON Schema.
    pub metadata: Value,
}

/// One target type of a schema and its metadata's JSON Schema.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SchemaTarget {
    /// The target type, e.g. `invoice`.
    #[serde(rename = "type")]
    pub kind: String,
    /// A JSON Schema for the target's metadata.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Value>,
}

/// `POST /audit_logs/actions/{action}/schemas`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CreateSchemaRequest {
    /// The actor's metadata schema.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor: Option<SchemaActor>,
    /// The target types (at least one).
    pub targets: Vec<SchemaTarget>,
    /// The event's metadata schema.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Value>,
}

/// A schema version of an action.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AuditLogSchema {
    /// `audit_log_schema`.
    #[serde(default)]
    pub object: String,
    /// The schema version.
    pub version: i64,
    /// The actor's metadata schema.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor: Option<SchemaActor>,
    /// The target types.
    #[serde(default)]
    pub targets: Vec<SchemaTarget>,
    /// The event's metadata schema.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Value>,
    /// When it was created.
    #[serde(default)]
    pub created_at: String,
}

/// An action with its latest schema.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AuditLogAction {
    /// `audit_log_action`.
    #[serde(default)]
    pub object: String,
    /// The action, e.g. `user.signed_in`.
    pub name: String,
    /// Its latest schema.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<AuditLogSchema>,
    /// When it was created.
    #[serde(default)]
    pub created_at: String,
    /// When it last changed.
    #[serde(default)]
    pub updated_at: String,
}

/// Cursors of a list page.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListMetadata {
    /// Pass as `before` for the previous page.
    #[serde(default)]
    pub before: Option<String>,
    /// Pass as `after` for the next page.
    #[serde(default)]
    pub after: Option<String>,
}

/// One page of a list.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct List<T> {
    /// `list`.
    #[serde(default)]
    pub object: String,
    /// The items.
    pub data: Vec<T>,
    /// Cursors.
    #[serde(default)]
    pub list_metadata: ListMetadata,
}

/// Sort order of a list.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Order {
    /// Oldest first.
    Asc,
    /// Newest first.
    Desc,
    /// The server's default.
    Normal,
}

impl Order {
    /// The wire value.
    pub fn as_str(self) -> &'static str {
        match self {
            Order::Asc => "asc",
            Order::Desc => "desc",
            Order::Normal => "normal",
        }
    }

    /// The order named by its wire value; the error says which names exist.
    pub fn from_name(name: &str) -> Result<Order, String> {
        match name {
            "asc" => Ok(Order::Asc),
            "desc" => Ok(Order::Desc),
            "normal" => Ok(Order::Normal),
            other => Err(format!("order must be asc, desc or normal, got {other:?}")),
        }
    }
}

/// Paging of list calls.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ListOptions {
    /// Items per page, 1–100 (server default 10).
    pub limit: Option<u32>,
    /// Sort order.
    pub order: Option<Order>,
    /// Items before this cursor.
    pub before: Option<String>,
    /// Items after this cursor.
    pub after: Option<String>,
}

/// An organization's audit log retention.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Retention {
    /// Days events are kept: 30 or 365.
    pub retention_period_in_days: u32,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_names_round_trip_and_unknown_ones_are_named() {
        for o in [Order::Asc, Order::Desc, Order::Normal] {
            assert_eq!(Order::from_name(o.as_str()), Ok(o));
        }
        assert_eq!(
            Order::from_name("up"),
            Err("order must be asc, desc or normal, got \"up\"".to_owned())
        );
    }

    #[test]
    fn wire_names() {
        let mut r = CreateExportRequest::new(
            "org_1",
            Timestamp::parse("2026-01-01T00:00:00Z").unwrap(),
            Timestamp::parse("2026-02-01T00:00:00Z").unwrap(),
        );
        r.actions = Some(vec!["user.signed_in".into()]);
        assert_eq!(
            serde_json::to_string(&r).unwrap(),
            r#"{"organization_id":"org_1","range_start":"2026-01-01T00:00:00.000Z","range_end":"2026-02-01T00:00:00.000Z","actions":["user.signed_in"]}"#
        );
        let e: AuditLogExport = serde_json::from_str(
            r#"{"object":"audit_log_export","id":"audit_log_export_1","state":"ready","url":"http://x/1.csv","created_at":"a","updated_at":"b","extra":1}"#,
        )
        .unwrap();
        assert_eq!(
            (e.state, e.url.as_deref()),
            (ExportState::Ready, Some("http://x/1.csv"))
        );
        let e: AuditLogExport = serde_json::from_str(r#"{"id":"x","state":"archived"}"#).unwrap();
        assert_eq!(e.state, ExportState::Unknown);
        let s = CreateSchemaRequest {
            actor: None,
            targets: vec![SchemaTarget {
                kind: "invoice".into(),
                metadata: None,
            }],
            metadata: None,
        };
        assert_eq!(
            serde_json::to_string(&s).unwrap(),
            r#"{"targets":[{"type":"invoice"}]}"#
        );
        let l: List<AuditLogAction> = serde_json::from_str(
            r#"{"object":"list","data":[{"object":"audit_log_action","name":"a.b"}],"list_metadata":{"before":null,"after":"x"}}"#,
        )
        .unwrap();
        assert_eq!(
            (l.data[0].name.as_str(), l.list_metadata.after.as_deref()),
            ("a.b", Some("x"))
        );
    }
}
