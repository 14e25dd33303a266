//! Strict parsing of current-API events and request bodies from JSON.

use std::marker::PhantomData;

use serde::de::MapAccess;

use crate::event::{check_version, Actor, Context, CreateEventBody, Event, Target};
use crate::metadata::Metadata;
use crate::problem::{Path, Rule, ValidationError};
use crate::shape::{
    optional, read_value, required, required_text, ArrayOf, Fields, Integer, MetadataShape, Object,
    Read, Text, Time,
};
use crate::strict_json::{read_document, Cx, ParseLimits};
use crate::timestamp::Timestamp;

impl CreateEventBody {
    /// Parses and validates `{"organization_id": ..., "event": {...}}` with default limits.
    pub fn from_json(bytes: &[u8]) -> Result<Self, ValidationError> {
        Self::from_json_with(bytes, &ParseLimits::default())
    }

    /// Parses and validates a request body within `limits`, reporting every problem.
    pub fn from_json_with(bytes: &[u8], limits: &ParseLimits) -> Result<Self, ValidationError> {
        read_document(bytes, limits, &Path::Root, Object::<BodyFields>::new())
    }
}

impl Event {
    /// Parses and validates one event object with default limits; paths start with `event.`.
    pub fn from_json(bytes: &[u8]) -> Result<Self, ValidationError> {
        Self::from_json_with(bytes, &ParseLimits::default())
    }

    /// Parses and validates one event object within `limits`.
    pub fn from_json_with(bytes: &[u8], limits: &ParseLimits) -> Result<Self, ValidationError> {
        let root = Path::Root;
        read_document(
            bytes,
            limits,
            &root.field("event"),
            Object::<EventFields>::new(),
        )
    }
}

#[derive(Default)]
struct BodyFields {
    organization_id: Option<Read<String>>,
    event: Option<Read<Event>>,
}

impl<'de> Fields<'de> for BodyFields {
    const NAMES: &'static [&'static str] = &["organization_id", "event"];
    type Out = CreateEventBody;

    fn read<A: MapAccess<'de>>(
        &mut self,
        name: &'static str,
        map: &mut A,
        cx: &mut Cx,
        path: &Path<'_>,
    ) -> Result<(), A::Error> {
        match name {
            "organization_id" => self.organization_id = read_value(map, cx, path, Text)?,
            _ => self.event = read_value(map, cx, path, Object::<EventFields>::new())?,
        }
        Ok(())
    }

    fn finish(self, cx: &mut Cx, path: &Path<'_>) -> Option<CreateEventBody> {
        let organization_id =
            required_text(self.organization_id, cx, &path.field("organization_id"));
        let event = required(self.event, cx, &path.field("event"));
        Some(CreateEventBody {
            organization_id: organization_id?,
            event: event?,
        })
    }
}

#[derive(Default)]
struct EventFields {
    action: Option<Read<String>>,
    occurred_at: Option<Read<Timestamp>>,
    version: Option<Read<serde_json::Number>>,
    actor: Option<Read<Actor>>,
    targets: Option<Read<Vec<Target>>>,
    context: Option<Read<Context>>,
    metadata: Option<Read<Metadata>>,
}

impl<'de> Fields<'de> for EventFields {
    const NAMES: &'static [&'static str] = &[
        "action",
        "occurred_at",
        "version",
        "actor",
        "targets",
        "context",
        "metadata",
    ];
    type Out = Event;

    fn read<A: MapAccess<'de>>(
        &mut self,
        name: &'static str,
        map: &mut A,
        cx: &mut Cx,
        path: &Path<'_>,
    ) -> Result<(), A::Error> {
        match name {
            "action" => self.action = read_value(map, cx, path, Text)?,
            "occurred_at" => self.occurred_at = read_value(map, cx, path, Time)?,
            "version" => self.version = read_value(map, cx, path, Integer)?,
            "actor" => self.actor = read_value(map, cx, path, Object::<PartyFields<Actor>>::new())?,
            "targets" => {
                let shape = ArrayOf(Object::<PartyFields<Target>>::new);
                self.targets = read_value(map, cx, path, shape)?;
            }
            "context" => self.context = read_value(map, cx, path, Object::<ContextFields>::new())?,
            _ => self.metadata = read_value(map, cx, path, MetadataShape)?,
        }
        Ok(())
    }

    fn finish(self, cx: &mut Cx, path: &Path<'_>) -> Option<Event> {
        let action = required_text(self.action, cx, &path.field("action"));
        let occurred_at = required(self.occurred_at, cx, &path.field("occurred_at"));
        let version = read_version(optional(self.version), cx, &path.field("version"));
        let actor = required(self.actor, cx, &path.field("actor"));
        let targets = required(self.targets, cx, &path.field("targets"));
        let context = required(self.context, cx, &path.field("context"));
        let metadata = optional(self.metadata);
        Some(Event {
            action: action?,
            occurred_at: occurred_at?,
            version: version.ok()?,
            actor: actor?,
            targets: targets?,
            context: context?,
            metadata: metadata.ok()?,
        })
    }
}

fn read_version(
    value: Result<Option<serde_json::Number>, ()>,
    cx: &mut Cx,
    path: &Path<'_>,
) -> Result<Option<i64>, ()> {
    let Some(n) = value? else {
        return Ok(None);
    };
    let before = cx.problems.0.len();
    match n.as_i64() {
        Some(v) => check_version(path, v, &mut cx.problems),
        None => cx.problems.push(
            path,
            Rule::InvalidInteger,
            format!("must be an integer of at least 1 (found {n})"),
        ),
    }
    if cx.problems.0.len() > before {
        Err(())
    } else {
        Ok(n.as_i64())
    }
}

/// The fields of an actor or a target: the two share their shape and rules.
struct PartyFields<T> {
    id: Option<Read<String>>,
    kind: Option<Read<String>>,
    name: Option<Read<String>>,
    metadata: Option<Read<Metadata>>,
    built: PhantomData<T>,
}

impl<T> Default for PartyFields<T> {
    fn default() -> Self {
        PartyFields {
            id: None,
            kind: None,
            name: None,
            metadata: None,
            built: PhantomData,
        }
    }
}

/// What an actor or a target is built from.
trait Party {
    fn build(id: String, kind: String, name: Option<String>, metadata: Option<Metadata>) -> Self;
}

impl Party for Actor {
    fn build(id: String, kind: String, name: Option<String>, metadata: Option<Metadata>) -> Self {
        Actor {
            id,
            kind,
            name,
            metadata,
        }
    }
}

impl Party for Target {
    fn build(id: String, kind: String, name: Option<String>, metadata: Option<Metadata>) -> Self {
        Target {
            id,
            kind,
            name,
            metadata,
        }
    }
}

impl<'de, T: Party> Fields<'de> for PartyFields<T> {
    const NAMES: &'static [&'static str] = &["id", "type", "name", "metadata"];
    type Out = T;

    fn read<A: MapAccess<'de>>(
        &mut self,
        name: &'static str,
        map: &mut A,
        cx: &mut Cx,
        path: &Path<'_>,
    ) -> Result<(), A::Error> {
        match name {
            "id" => self.id = read_value(map, cx, path, Text)?,
            "type" => self.kind = read_value(map, cx, path, Text)?,
            "name" => self.name = read_value(map, cx, path, Text)?,
            _ => self.metadata = read_value(map, cx, path, MetadataShape)?,
        }
        Ok(())
    }

    fn finish(self, cx: &mut Cx, path: &Path<'_>) -> Option<T> {
        let id = required_text(self.id, cx, &path.field("id"));
        let kind = required_text(self.kind, cx, &path.field("type"));
        let name = optional(self.name);
        let metadata = optional(self.metadata);
        Some(T::build(id?, kind?, name.ok()?, metadata.ok()?))
    }
}

#[derive(Default)]
struct ContextFields {
    location: Option<Read<String>>,
    user_agent: Option<Read<String>>,
}

impl<'de> Fields<'de> for ContextFields {
    const NAMES: &'static [&'static str] = &["location", "user_agent"];
    type Out = Context;

    fn read<A: MapAccess<'de>>(
        &mut self,
        name: &'static str,
        map: &mut A,
        cx: &mut Cx,
        path: &Path<'_>,
    ) -> Result<(), A::Error> {
        match name {
            "location" => self.location = read_value(map, cx, path, Text)?,
            _ => self.user_agent = read_value(map, cx, path, Text)?,
        }
        Ok(())
    }

    fn finish(self, cx: &mut Cx, path: &Path<'_>) -> Option<Context> {
        let location = required_text(self.location, cx, &path.field("location"));
        let user_agent = optional(self.user_agent);
        Some(Context {
            location: location?,
            user_agent: user_agent.ok()?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEED: &str = r#"{
      "organization_id": "org_01EHWNCE74X7JSDV0X3SZ3KJNY",
      "event": {
        "action": "user.signed_in",
        "occurred_at": "2026-02-02T16:35:39.317Z",
        "version": 1,
        "actor":   {"id": "user_01GBNJC3MX9ZZJW1FSTF4C5938", "type": "user", "name": "Jon Smith", "metadata": {"role": "admin"}},
        "targets": [{"id": "team_01GBNJD4MKHVKJGEWK42JNMBGS", "type": "team", "name": "Team", "metadata": {}}],
        "context": {"location": "123.123.123.123", "user_agent": "Chrome/104.0.0.0"},
        "metadata": {"owner": "user_01GBTCQ2"}
      }
    }"#;

    fn problems(json: &str) -> Vec<String> {
        CreateEventBody::from_json(json.as_bytes())
            .unwrap_err()
            .problems()
            .iter()
            .map(|p| p.to_string())
            .collect()
    }

    #[test]
    fn seed_example_round_trips() {
        let body = CreateEventBody::from_json(SEED.as_bytes()).unwrap();
        let wire = body.to_json();
        let again = CreateEventBody::from_json(&wire).unwrap();
        assert_eq!(again, body);
        assert_eq!(again.to_json(), wire);
        assert!(body.validate().is_ok());
    }

    #[test]
    fn reports_every_problem_at_once() {
        let got = problems(
            r#"{"organization_id":"","event":{"ocurred_at":"x","action":5,
               "actor":{"type":""},"targets":[{"id":"t"},3],"context":{},
               "metadata":{"a":null,"b":[1],"c":{}}}}"#,
        );
        assert_eq!(
            got,
            // In reading order; what is missing or empty is found when its object closes.
            [
                "event.ocurred_at: unknown field (did you mean `occurred_at`?)",
                "event.action: must be a string, found a number",
                "event.actor.id: required",
                "event.actor.type: must not be empty",
                "event.targets[0].type: required",
                "event.targets[1]: must be an object, found a number",
                "event.context.location: required",
                "event.metadata.a: metadata values must be a string, number or boolean, found null",
                "event.metadata.b: metadata values must be a string, number or boolean, found an array",
                "event.metadata.c: metadata values must be a string, number or boolean, found an object",
                "event.occurred_at: required",
                "organization_id: must not be empty",
            ]
        );
    }

    #[test]
    fn optional_nulls_are_absent_and_required_nulls_are_not() {
        let json = SEED
            .replace(r#""version": 1"#, r#""version": null"#)
            .replace(r#""name": "Jon Smith""#, r#""name": null"#);
        let body = CreateEventBody::from_json(json.as_bytes()).unwrap();
        assert_eq!(body.event.version, None);
        assert_eq!(body.event.actor.name, None);
        let json = SEED.replace(r#""action": "user.signed_in""#, r#""action": null"#);
        assert_eq!(problems(&json), ["event.action: required, found null"]);
    }

    #[test]
    fn duplicate_fields_are_errors() {
        let json = SEED.replace(
            r#""action": "user.signed_in","#,
            r#""action": "user.signed_in", "action": "user.deleted","#,
        );
        assert_eq!(problems(&json), ["event.action: appears more than once"]);
        let json = SEED.replace(r#"{"owner": "#, r#"{"owner": "a", "owner": "#);
        assert_eq!(
            problems(&json),
            ["event.metadata.owner: appears more than once"]
        );
    }

    #[test]
    fn version_must_be_a_positive_integer() {
        for (v, msg) in [
            (
                "1.5",
                "event.version: must be an integer of at least 1 (found 1.5)",
            ),
            (
                "0",
                "event.version: must be an integer of at least 1 (found 0)",
            ),
            ("\"1\"", "event.version: must be an integer, found a string"),
        ] {
            let json = SEED.replace(r#""version": 1"#, &format!(r#""version": {v}"#));
            assert_eq!(problems(&json), [msg]);
        }
    }

    #[test]
    fn event_alone_parses_with_event_paths() {
        let e = Event::from_json(br#"{"action":"a"}"#).unwrap_err();
        assert_eq!(e.problems()[0].path, "event.occurred_at");
        let e = Event::from_json(b"[]").unwrap_err();
        assert_eq!(e.to_string(), "event: must be an object, found an array");
    }
}
