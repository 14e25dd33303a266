//! Strict parsing of current-API events and request bodies from JSON.

use crate::event::{check_version, Actor, Context, CreateEventBody, Event, Target};
use crate::problem::{Path, Rule, ValidationError};
use crate::reader::Reader;
use crate::strict_json::{read_document, Json, ParseLimits};

const BODY_FIELDS: [&str; 2] = ["organization_id", "event"];
const EVENT_FIELDS: [&str; 7] = [
    "action",
    "occurred_at",
    "version",
    "actor",
    "targets",
    "context",
    "metadata",
];
const ACTOR_FIELDS: [&str; 4] = ["id", "type", "name", "metadata"];
const CONTEXT_FIELDS: [&str; 2] = ["location", "user_agent"];

impl CreateEventBody {
    /// Parses and validates `{"organization_id": ..., "event": {...}}` with default limits.
    pub fn from_json(bytes: &[u8]) -> Result<Self, ValidationError> {
        Self::from_json_with(bytes, &ParseLimits::default())
    }

    /// Parses and validates a request body within `limits`, reporting every problem.
    pub fn from_json_with(bytes: &[u8], limits: &ParseLimits) -> Result<Self, ValidationError> {
        let doc = read_document(bytes, limits)?;
        let mut r = Reader::default();
        let root = Path::Root;
        let body = read_body(&mut r, &root, doc);
        finish(r, body)
    }
}

impl Event {
    /// Parses and validates one event object with default limits; paths start with `event.`.
    pub fn from_json(bytes: &[u8]) -> Result<Self, ValidationError> {
        Self::from_json_with(bytes, &ParseLimits::default())
    }

    /// Parses and validates one event object within `limits`.
    pub fn from_json_with(bytes: &[u8], limits: &ParseLimits) -> Result<Self, ValidationError> {
        let doc = read_document(bytes, limits)?;
        let mut r = Reader::default();
        let root = Path::Root;
        let event = read_event(&mut r, &root.field("event"), Some(doc));
        finish(r, event)
    }
}

pub(crate) fn finish<T>(r: Reader, value: Option<T>) -> Result<T, ValidationError> {
    match (ValidationError::from_problems(r.problems.0), value) {
        (Some(e), _) => Err(e),
        (None, Some(v)) => Ok(v),
        (None, None) => unreachable!("a reader that built nothing recorded a problem"),
    }
}

fn read_body(r: &mut Reader, root: &Path<'_>, doc: Json) -> Option<CreateEventBody> {
    let pairs = r.object(root, Some(doc))?;
    let [org, event] = r.fields(root, pairs, BODY_FIELDS);
    let organization_id = r.required_text(&root.field("organization_id"), org);
    let event = read_event(r, &root.field("event"), event);
    Some(CreateEventBody {
        organization_id: organization_id?,
        event: event?,
    })
}

fn read_event(r: &mut Reader, path: &Path<'_>, value: Option<Json>) -> Option<Event> {
    let pairs = r.object(path, value)?;
    let [action, occurred_at, version, actor, targets, context, metadata] =
        r.fields(path, pairs, EVENT_FIELDS);
    let action = r.required_text(&path.field("action"), action);
    let occurred_at = r.timestamp(&path.field("occurred_at"), occurred_at);
    let version = read_version(r, &path.field("version"), version);
    let actor = read_actor(r, &path.field("actor"), actor);
    let targets = read_targets(r, &path.field("targets"), targets);
    let context = read_context(r, &path.field("context"), context);
    let metadata = r.metadata(&path.field("metadata"), metadata);
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

fn read_version(r: &mut Reader, path: &Path<'_>, value: Option<Json>) -> Result<Option<i64>, ()> {
    match value {
        None | Some(Json::Null) => Ok(None),
        Some(Json::Number(n)) => match n.as_i64() {
            Some(v) => {
                let before = r.problems.0.len();
                check_version(path, v, &mut r.problems);
                if r.problems.0.len() > before {
                    Err(())
                } else {
                    Ok(Some(v))
                }
            }
            None => {
                r.problems.push(
                    path,
                    Rule::InvalidInteger,
                    format!("must be an integer of at least 1 (found {n})"),
                );
                Err(())
            }
        },
        Some(other) => {
            r.wrong_type(path, "an integer", &other);
            Err(())
        }
    }
}

fn read_actor(r: &mut Reader, path: &Path<'_>, value: Option<Json>) -> Option<Actor> {
    let pairs = r.object(path, value)?;
    let [id, kind, name, metadata] = r.fields(path, pairs, ACTOR_FIELDS);
    let id = r.required_text(&path.field("id"), id);
    let kind = r.required_text(&path.field("type"), kind);
    let name = r.optional_text(&path.field("name"), name);
    let metadata = r.metadata(&path.field("metadata"), metadata);
    Some(Actor {
        id: id?,
        kind: kind?,
        name: name.ok()?,
        metadata: metadata.ok()?,
    })
}

fn read_targets(r: &mut Reader, path: &Path<'_>, value: Option<Json>) -> Option<Vec<Target>> {
    let items = r.array(path, value)?;
    let mut targets = Vec::with_capacity(items.len());
    let mut complete = true;
    for (i, item) in items.into_iter().enumerate() {
        let at = path.index(i);
        // A target has the same fields and rules as an actor.
        match read_actor(r, &at, Some(item)) {
            Some(a) => targets.push(Target {
                id: a.id,
                kind: a.kind,
                name: a.name,
                metadata: a.metadata,
            }),
            None => complete = false,
        }
    }
    complete.then_some(targets)
}

fn read_context(r: &mut Reader, path: &Path<'_>, value: Option<Json>) -> Option<Context> {
    let pairs = r.object(path, value)?;
    let [location, user_agent] = r.fields(path, pairs, CONTEXT_FIELDS);
    let location = r.required_text(&path.field("location"), location);
    let user_agent = r.optional_text(&path.field("user_agent"), user_agent);
    Some(Context {
        location: location?,
        user_agent: user_agent.ok()?,
    })
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
            [
                "organization_id: must not be empty",
                "event.ocurred_at: unknown field (did you mean `occurred_at`?)",
                "event.action: must be a string, found a number",
                "event.occurred_at: required",
                "event.actor.id: required",
                "event.actor.type: must not be empty",
                "event.targets[0].type: required",
                "event.targets[1]: must be an object, found a number",
                "event.context.location: required",
                "event.metadata.a: metadata values must be a string, number or boolean, found null",
                "event.metadata.b: metadata values must be a string, number or boolean, found an array",
                "event.metadata.c: metadata values must be a string, number or boolean, found an object",
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
        assert_eq!(problems(&json), ["event.metadata.owner: appears more than once"]);
    }

    #[test]
    fn version_must_be_a_positive_integer() {
        for (v, msg) in [
            ("1.5", "event.version: must be an integer of at least 1 (found 1.5)"),
            ("0", "event.version: must be an integer of at least 1 (found 0)"),
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
