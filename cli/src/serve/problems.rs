//! Maps core validation problems onto WorkOS error responses (400, 413 or 422).

use auditwire::{Problem, Rule, ValidationError};
use axum::http::StatusCode;
use serde_json::{json, Value};

use super::errors::ApiError;

/// The error response for an event body that failed `core` validation.
///
/// Unreadable documents are 400 (413 when too large); problems that all lie inside a
/// `metadata` object are 400 `invalid_audit_log_event` with JSON-pointer `instancePath`s;
/// anything else is 422 `Validation failed.` listing every problem.
pub fn event_error(err: &ValidationError) -> ApiError {
    let problems = err.problems();
    if let Some(p) = problems.iter().find(|p| p.rule.is_document_level()) {
        return match p.rule {
            Rule::TooLarge => {
                ApiError::coded(StatusCode::PAYLOAD_TOO_LARGE, "too_large", &p.message)
            }
            _ => ApiError::malformed_json(&p.message),
        };
    }
    if problems.iter().all(|p| is_metadata_path(&p.path)) {
        return ApiError::invalid_event(problems.iter().map(metadata_item).collect());
    }
    ApiError::validation(problems.iter().map(field_item).collect())
}

fn field_item(p: &Problem) -> Value {
    super::errors::field_error(p.rule.code(), &p.path, &p.message)
}

fn metadata_item(p: &Problem) -> Value {
    json!({
        "instancePath": instance_path(&p.path),
        "keyword": p.rule.code(),
        "code": p.rule.code(),
        "field": p.path,
        "message": p.message,
    })
}

/// One step of a wire path.
#[derive(Debug, PartialEq)]
enum Seg {
    Key(String),
    Index(usize),
}

/// Splits a core path (`event.targets[1].metadata["a b"]`) into its steps.
fn segments(path: &str) -> Vec<Seg> {
    let mut out = Vec::new();
    let mut rest = path;
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix('.') {
            rest = r;
        } else if let Some(r) = rest.strip_prefix("[\"") {
            let end = closing_quote(r);
            let quoted = rest.get(1..end + 3).unwrap_or("\"\"");
            out.push(Seg::Key(serde_json::from_str(quoted).unwrap_or_default()));
            rest = r.get(end + 2..).unwrap_or("");
        } else if let Some(r) = rest.strip_prefix('[') {
            let end = r.find(']').unwrap_or(r.len());
            out.push(Seg::Index(r[..end].parse().unwrap_or(0)));
            rest = r.get(end + 1..).unwrap_or("");
        } else {
            let end = rest.find(['.', '[']).unwrap_or(rest.len());
            out.push(Seg::Key(rest[..end].to_owned()));
            rest = &rest[end..];
        }
    }
    out
}

/// Byte index of the quote closing a JSON string whose body starts `s`.
fn closing_quote(s: &str) -> usize {
    let mut escaped = false;
    for (i, b) in s.bytes().enumerate() {
        match b {
            _ if escaped => escaped = false,
            b'\\' => escaped = true,
            b'"' => return i,
            _ => {}
        }
    }
    s.len().saturating_sub(1)
}

/// True when the path is a `metadata` object of the event, actor or a target (or below it).
fn is_metadata_path(path: &str) -> bool {
    let segs = segments(path);
    let key = |i: usize, name: &str| matches!(segs.get(i), Some(Seg::Key(k)) if k == name);
    let index = |i: usize| matches!(segs.get(i), Some(Seg::Index(_)));
    // v1 paths are flat; current paths start with `event`.
    key(0, "metadata")
        || (key(0, "event")
            && (key(1, "metadata")
                || (key(1, "actor") && key(2, "metadata"))
                || (key(1, "targets") && index(2) && key(3, "metadata"))))
}

/// The JSON pointer of a path inside the event (`event.metadata.k` → `/metadata/k`).
fn instance_path(path: &str) -> String {
    let mut segs = segments(path);
    if matches!(segs.first(), Some(Seg::Key(k)) if k == "event") {
        segs.remove(0);
    }
    let mut out = String::new();
    for s in segs {
        out.push('/');
        match s {
            Seg::Key(k) => out.push_str(&k.replace('~', "~0").replace('/', "~1")),
            Seg::Index(i) => out.push_str(&i.to_string()),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_split_and_point() {
        assert_eq!(
            segments("event.targets[1].metadata[\"a.b\\\"]\"].x"),
            vec![
                Seg::Key("event".into()),
                Seg::Key("targets".into()),
                Seg::Index(1),
                Seg::Key("metadata".into()),
                Seg::Key("a.b\"]".into()),
                Seg::Key("x".into()),
            ]
        );
        assert_eq!(instance_path("event.metadata.owner"), "/metadata/owner");
        assert_eq!(
            instance_path("event.targets[0].metadata[\"a/b\"]"),
            "/targets/0/metadata/a~1b"
        );
        assert_eq!(instance_path("metadata.k"), "/metadata/k");
    }

    #[test]
    fn metadata_paths_are_recognised() {
        for p in [
            "event.metadata",
            "event.metadata.k",
            "event.actor.metadata[\"a b\"]",
            "event.targets[3].metadata.k",
            "metadata.action_type",
        ] {
            assert!(is_metadata_path(p), "{p}");
        }
        for p in [
            "event.action",
            "event.actor.id",
            "organization_id",
            "event.context.metadata",
            "event.metadata_x",
        ] {
            assert!(!is_metadata_path(p), "{p}");
        }
    }

    #[test]
    fn statuses_follow_the_problems() {
        let meta =
            ValidationError::single(Problem::new("event.metadata.k", Rule::TooLong, "too long"));
        assert_eq!(event_error(&meta).status(), StatusCode::BAD_REQUEST);
        let mixed = ValidationError::from_problems(vec![
            Problem::new("event.metadata.k", Rule::TooLong, "too long"),
            Problem::new("event.action", Rule::Required, "required"),
        ])
        .unwrap();
        assert_eq!(
            event_error(&mixed).status(),
            StatusCode::UNPROCESSABLE_ENTITY
        );
        let doc = ValidationError::single(Problem::new("", Rule::MalformedJson, "bad"));
        assert_eq!(event_error(&doc).status(), StatusCode::BAD_REQUEST);
    }
}
