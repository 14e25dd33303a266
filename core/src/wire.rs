//! The wire bytes of events: compact JSON, byte for byte what `serde_json` writes, but faster.

use std::io::Write;

use crate::event::{Actor, Context, CreateEventBody, Event, Target};
use crate::legacy::LegacyEvent;
use crate::metadata::{Metadata, MetadataValue};

/// Starting capacity for a serialised body: most events fit without growing.
const WIRE_BUFFER_HINT: usize = 768;

impl CreateEventBody {
    /// The exact compact JSON sent on the wire.
    pub fn to_json(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(WIRE_BUFFER_HINT);
        body(&mut out, &self.organization_id, &self.event);
        out
    }
}

/// Appends the request body `{"organization_id", "event"}` of an event.
pub(crate) fn body(out: &mut Vec<u8>, organization_id: &str, e: &Event) {
    out.extend_from_slice(b"{\"organization_id\":");
    string(out, organization_id);
    out.extend_from_slice(b",\"event\":");
    event(out, e);
    out.push(b'}');
}

impl LegacyEvent {
    /// The exact compact JSON body for `POST /events`.
    pub fn to_json(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(WIRE_BUFFER_HINT);
        out.extend_from_slice(b"{\"group\":");
        string(&mut out, &self.group);
        out.extend_from_slice(b",\"action\":");
        string(&mut out, &self.action);
        out.extend_from_slice(b",\"action_type\":");
        string(&mut out, self.action_type.as_str());
        out.extend_from_slice(b",\"actor_name\":");
        string(&mut out, &self.actor_name);
        out.extend_from_slice(b",\"actor_id\":");
        string(&mut out, &self.actor_id);
        out.extend_from_slice(b",\"target_name\":");
        string(&mut out, &self.target_name);
        out.extend_from_slice(b",\"target_id\":");
        string(&mut out, &self.target_id);
        out.extend_from_slice(b",\"location\":");
        string(&mut out, &self.location);
        out.extend_from_slice(b",\"occurred_at\":\"");
        out.extend_from_slice(&self.occurred_at.wire_bytes());
        out.push(b'"');
        if let Some(m) = &self.metadata {
            out.extend_from_slice(b",\"metadata\":");
            metadata(&mut out, m);
        }
        out.push(b'}');
        out
    }
}

fn event(out: &mut Vec<u8>, e: &Event) {
    out.extend_from_slice(b"{\"action\":");
    string(out, &e.action);
    out.extend_from_slice(b",\"occurred_at\":\"");
    out.extend_from_slice(&e.occurred_at.wire_bytes());
    out.push(b'"');
    if let Some(v) = e.version {
        out.extend_from_slice(b",\"version\":");
        write!(out, "{v}").expect("writing to memory cannot fail");
    }
    out.extend_from_slice(b",\"actor\":");
    actor(out, &e.actor);
    out.extend_from_slice(b",\"targets\":[");
    for (i, t) in e.targets.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        target(out, t);
    }
    out.extend_from_slice(b"],\"context\":");
    context(out, &e.context);
    if let Some(m) = &e.metadata {
        out.extend_from_slice(b",\"metadata\":");
        metadata(out, m);
    }
    out.push(b'}');
}

fn actor(out: &mut Vec<u8>, a: &Actor) {
    party(out, &a.id, &a.kind, a.name.as_deref(), a.metadata.as_ref());
}

fn target(out: &mut Vec<u8>, t: &Target) {
    party(out, &t.id, &t.kind, t.name.as_deref(), t.metadata.as_ref());
}

/// An actor or a target: the two share their wire shape.
fn party(out: &mut Vec<u8>, id: &str, kind: &str, name: Option<&str>, meta: Option<&Metadata>) {
    out.extend_from_slice(b"{\"id\":");
    string(out, id);
    out.extend_from_slice(b",\"type\":");
    string(out, kind);
    if let Some(name) = name {
        out.extend_from_slice(b",\"name\":");
        string(out, name);
    }
    if let Some(m) = meta {
        out.extend_from_slice(b",\"metadata\":");
        metadata(out, m);
    }
    out.push(b'}');
}

fn context(out: &mut Vec<u8>, c: &Context) {
    out.extend_from_slice(b"{\"location\":");
    string(out, &c.location);
    if let Some(ua) = &c.user_agent {
        out.extend_from_slice(b",\"user_agent\":");
        string(out, ua);
    }
    out.push(b'}');
}

fn metadata(out: &mut Vec<u8>, m: &Metadata) {
    out.push(b'{');
    for (i, (key, value)) in m.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        string(out, key);
        out.push(b':');
        match value {
            MetadataValue::String(s) => string(out, s),
            MetadataValue::Bool(true) => out.extend_from_slice(b"true"),
            MetadataValue::Bool(false) => out.extend_from_slice(b"false"),
            MetadataValue::Number(n) => {
                serde_json::to_writer(&mut *out, n).expect("writing to memory cannot fail")
            }
        }
    }
    out.push(b'}');
}

/// A JSON string; strings that need escapes go through `serde_json` so the bytes match it.
fn string(out: &mut Vec<u8>, s: &str) {
    if needs_escape(s.as_bytes()) {
        serde_json::to_writer(&mut *out, s).expect("writing to memory cannot fail");
    } else {
        out.reserve(s.len() + 2);
        out.push(b'"');
        out.extend_from_slice(s.as_bytes());
        out.push(b'"');
    }
}

/// True when `bytes` holds a control character, `"` or `\`.
fn needs_escape(bytes: &[u8]) -> bool {
    // No early exit, so the compiler can check many bytes per instruction.
    bytes.iter().fold(false, |acc, &b| {
        acc | (b < 0x20) | (b == b'"') | (b == b'\\')
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::timestamp::Timestamp;

    #[test]
    fn escape_check_finds_every_special_byte_at_every_position() {
        for special in (0u8..0x20).chain([b'"', b'\\']) {
            for len in 1..20 {
                for at in 0..len {
                    let mut bytes = vec![b'a'; len];
                    bytes[at] = special;
                    assert!(needs_escape(&bytes), "{special:#x} at {at} of {len}");
                }
            }
        }
        let plain: Vec<u8> = (0x20u8..=0xff)
            .filter(|b| *b != b'"' && *b != b'\\')
            .collect();
        assert!(!needs_escape(&plain));
        assert!(!needs_escape(b""));
    }

    #[test]
    fn matches_serde_json_byte_for_byte_including_escapes() {
        let mut meta = Metadata::new();
        meta.insert("quote\"key".into(), "line\nbreak \u{1} \\ \" é 😀".into());
        meta.insert("n".into(), MetadataValue::try_from(1e300).unwrap());
        meta.insert("i".into(), (-7i64).into());
        meta.insert("b".into(), false.into());
        let mut a = Actor::new("id\t1", "user");
        a.metadata = Some(meta.clone());
        a.name = Some("N".into());
        let body = CreateEventBody {
            organization_id: "org".into(),
            event: Event {
                action: "a.b".into(),
                occurred_at: Timestamp::parse("2026-02-02T16:35:39.317Z").unwrap(),
                version: Some(3),
                actor: a,
                targets: vec![Target::new("t", "k"), Target::new("u", "k")],
                context: Context {
                    location: "l".into(),
                    user_agent: Some("ua".into()),
                },
                metadata: Some(meta),
            },
        };
        assert_eq!(body.to_json(), serde_json::to_vec(&body).unwrap());
        let mut empty = body.clone();
        empty.event.targets.clear();
        empty.event.metadata = None;
        empty.event.version = None;
        assert_eq!(empty.to_json(), serde_json::to_vec(&empty).unwrap());
    }
}
