//! The export CSV: one header row, then one row per event.
//!
//! Columns: `id, organization_id, action, occurred_at, version, actor_id, actor_type,
//! actor_name, actor_metadata, targets, location, user_agent, metadata`. `targets` and the
//! metadata columns hold compact JSON (empty when absent); fields are quoted per RFC 4180.

use serde_json::Value;

/// The header row's column names, in order.
pub const COLUMNS: [&str; 13] = [
    "id",
    "organization_id",
    "action",
    "occurred_at",
    "version",
    "actor_id",
    "actor_type",
    "actor_name",
    "actor_metadata",
    "targets",
    "location",
    "user_agent",
    "metadata",
];

/// Renders `(id, organization_id, event JSON)` rows as CSV text (CRLF line ends).
#[cfg(test)]
pub fn events_csv(rows: &[(String, String, String)]) -> Vec<u8> {
    let mut out = header();
    for (id, org, body) in rows {
        push_event(&mut out, id, org, body);
    }
    out.into_bytes()
}

/// The header row, to which [`push_event`] appends rows.
pub fn header() -> String {
    let mut out = String::new();
    push_row(&mut out, COLUMNS.iter().map(|c| c.to_string()));
    out
}

/// Appends the row of one stored event (`id`, `org`, normalised event JSON).
pub fn push_event(out: &mut String, id: &str, org: &str, body: &str) {
    let e: Value = serde_json::from_str(body).unwrap_or(Value::Null);
    let text = |v: &Value| match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    push_row(
        out,
        [
            id.to_owned(),
            org.to_owned(),
            text(&e["action"]),
            text(&e["occurred_at"]),
            text(&e["version"]),
            text(&e["actor"]["id"]),
            text(&e["actor"]["type"]),
            text(&e["actor"]["name"]),
            text(&e["actor"]["metadata"]),
            text(&e["targets"]),
            text(&e["context"]["location"]),
            text(&e["context"]["user_agent"]),
            text(&e["metadata"]),
        ]
        .into_iter(),
    );
}

fn push_row(out: &mut String, fields: impl Iterator<Item = String>) {
    for (i, f) in fields.enumerate() {
        if i > 0 {
            out.push(',');
        }
        if f.contains([',', '"', '\r', '\n']) {
            out.push('"');
            out.push_str(&f.replace('"', "\"\""));
            out.push('"');
        } else {
            out.push_str(&f);
        }
    }
    out.push_str("\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_only_what_needs_it() {
        let event = r#"{"action":"a.b","occurred_at":"2026-01-01T00:00:00.000Z","actor":{"id":"u","type":"user","name":"Smith, \"J\""},
                        "targets":[{"id":"t","type":"team"}],"context":{"location":"1.1.1.1"}}"#;
        let csv =
            String::from_utf8(events_csv(&[("e1".into(), "o".into(), event.into())])).unwrap();
        let lines: Vec<&str> = csv.split("\r\n").collect();
        assert_eq!(lines[0], COLUMNS.join(","));
        assert_eq!(
            lines[1],
            r#"e1,o,a.b,2026-01-01T00:00:00.000Z,,u,user,"Smith, ""J""",,"[{""id"":""t"",""type"":""team""}]",1.1.1.1,,"#
        );
    }
}
