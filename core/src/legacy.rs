//! The v1 event of `@workos-inc/js` (`POST /events`) and its translation to the current API.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::event::{check_required_text, Actor, Context, CreateEventBody, Event, Target};
use crate::event_parse::finish;
use crate::metadata::{check_metadata, Metadata, MetadataValue, MAX_METADATA_KEYS};
use crate::problem::{Path, Problems, Rule, ValidationError};
use crate::reader::Reader;
use crate::strict_json::{read_document, Json, ParseLimits};
use crate::timestamp::Timestamp;

/// The kind of a v1 action: create, read, update or delete.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ActionType {
    /// Create.
    C,
    /// Read.
    R,
    /// Update.
    U,
    /// Delete.
    D,
}

impl ActionType {
    /// The one-letter wire form.
    pub fn as_str(self) -> &'static str {
        match self {
            ActionType::C => "C",
            ActionType::R => "R",
            ActionType::U => "U",
            ActionType::D => "D",
        }
    }

    /// Parses `C`, `R`, `U` or `D`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "C" => Some(ActionType::C),
            "R" => Some(ActionType::R),
            "U" => Some(ActionType::U),
            "D" => Some(ActionType::D),
            _ => None,
        }
    }
}

impl fmt::Display for ActionType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A v1 audit event, flat, as `@workos-inc/js` sent it to `POST /events`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LegacyEvent {
    /// The organization (v1 "group").
    pub group: String,
    /// `category.name`, e.g. `user.login`.
    pub action: String,
    /// Create, read, update or delete.
    pub action_type: ActionType,
    /// The actor's display name.
    pub actor_name: String,
    /// The actor's identifier.
    pub actor_id: String,
    /// The target's display name.
    pub target_name: String,
    /// The target's identifier.
    pub target_id: String,
    /// The IP address or place the action came from.
    pub location: String,
    /// When it happened.
    pub occurred_at: Timestamp,
    /// Extra facts about the event.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Metadata>,
}

const LEGACY_FIELDS: [&str; 10] = [
    "group",
    "action",
    "action_type",
    "actor_name",
    "actor_id",
    "target_name",
    "target_id",
    "location",
    "occurred_at",
    "metadata",
];

/// The metadata key under which the v1 `action_type` travels in the current API.
pub const ACTION_TYPE_METADATA_KEY: &str = "action_type";

impl LegacyEvent {
    /// Parses and validates a flat v1 event with default limits.
    pub fn from_json(bytes: &[u8]) -> Result<Self, ValidationError> {
        Self::from_json_with(bytes, &ParseLimits::default())
    }

    /// Parses and validates a flat v1 event within `limits`; paths are the flat v1 names.
    pub fn from_json_with(bytes: &[u8], limits: &ParseLimits) -> Result<Self, ValidationError> {
        let doc = read_document(bytes, limits)?;
        let mut r = Reader::default();
        let event = read_legacy(&mut r, doc);
        finish(r, event)
    }

    /// Checks every v1 rule on an event built in Rust.
    pub fn validate(&self) -> Result<(), ValidationError> {
        let mut problems = Problems::default();
        let root = Path::Root;
        for (name, value) in [
            ("group", &self.group),
            ("actor_name", &self.actor_name),
            ("actor_id", &self.actor_id),
            ("target_name", &self.target_name),
            ("target_id", &self.target_id),
            ("location", &self.location),
        ] {
            check_required_text(&root.field(name), value, &mut problems);
        }
        check_action(&root.field("action"), &self.action, &mut problems);
        if let Some(m) = &self.metadata {
            check_metadata(&root.field("metadata"), m, &mut problems);
        }
        problems.into_result()
    }

    /// The category part of `category.name`: the target type in the current API.
    pub fn category(&self) -> &str {
        self.action.split_once('.').map_or("", |(c, _)| c)
    }

    /// The exact compact JSON body for `POST /events`.
    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("event types always serialise")
    }

    /// The current-API body: group → organization, actor and one target, action_type in metadata.
    pub fn to_current(&self) -> Result<CreateEventBody, ValidationError> {
        let mut metadata = self.metadata.clone().unwrap_or_default();
        let root = Path::Root;
        let path = root.field("metadata");
        let mut problems = Problems::default();
        match metadata.get(ACTION_TYPE_METADATA_KEY) {
            Some(MetadataValue::String(s)) if s == self.action_type.as_str() => {}
            Some(_) => problems.push(
                &path.field(ACTION_TYPE_METADATA_KEY),
                Rule::InvalidValue,
                "conflicts with the event's action_type, which the current API carries under this metadata key",
            ),
            None if metadata.len() >= MAX_METADATA_KEYS => problems.push(
                &path,
                Rule::TooManyKeys,
                format!(
                    "has {} keys; the current API carries action_type as one more, over the limit of {MAX_METADATA_KEYS}",
                    metadata.len()
                ),
            ),
            None => {
                metadata.insert(
                    ACTION_TYPE_METADATA_KEY.to_owned(),
                    MetadataValue::String(self.action_type.as_str().to_owned()),
                );
            }
        }
        problems.into_result()?;
        let mut actor = Actor::new(self.actor_id.clone(), "user");
        actor.name = Some(self.actor_name.clone());
        let mut target = Target::new(self.target_id.clone(), self.category());
        target.name = Some(self.target_name.clone());
        Ok(CreateEventBody {
            organization_id: self.group.clone(),
            event: Event {
                action: self.action.clone(),
                occurred_at: self.occurred_at,
                version: None,
                actor,
                targets: vec![target],
                context: Context::new(self.location.clone()),
                metadata: Some(metadata),
            },
        })
    }
}

fn check_action(path: &Path<'_>, action: &str, problems: &mut Problems) {
    match action.split_once('.') {
        Some((category, name)) if !category.is_empty() && !name.is_empty() => {}
        _ => problems.push(
            path,
            Rule::InvalidValue,
            "must be `category.name`: a category and a name separated by a period, like user.login",
        ),
    }
}

fn read_legacy(r: &mut Reader, doc: Json) -> Option<LegacyEvent> {
    let root = Path::Root;
    let pairs = r.object(&root, Some(doc))?;
    let [group, action, action_type, actor_name, actor_id, target_name, target_id, location, occurred_at, metadata] =
        r.fields(&root, pairs, LEGACY_FIELDS);
    let group = r.required_text(&root.field("group"), group);
    let action = r.required_text(&root.field("action"), action).and_then(|a| {
        let before = r.problems.0.len();
        check_action(&root.field("action"), &a, &mut r.problems);
        (r.problems.0.len() == before).then_some(a)
    });
    let action_type_path = root.field("action_type");
    let action_type = r
        .required_text(&action_type_path, action_type)
        .and_then(|t| match ActionType::parse(&t) {
            Some(at) => Some(at),
            None => {
                r.problems.push(
                    &action_type_path,
                    Rule::InvalidValue,
                    format!("must be one of C, R, U, D (create, read, update, delete), found {t:?}"),
                );
                None
            }
        });
    let actor_name = r.required_text(&root.field("actor_name"), actor_name);
    let actor_id = r.required_text(&root.field("actor_id"), actor_id);
    let target_name = r.required_text(&root.field("target_name"), target_name);
    let target_id = r.required_text(&root.field("target_id"), target_id);
    let location = r.required_text(&root.field("location"), location);
    let occurred_at = r.timestamp(&root.field("occurred_at"), occurred_at);
    let metadata = r.metadata(&root.field("metadata"), metadata);
    Some(LegacyEvent {
        group: group?,
        action: action?,
        action_type: action_type?,
        actor_name: actor_name?,
        actor_id: actor_id?,
        target_name: target_name?,
        target_id: target_id?,
        location: location?,
        occurred_at: occurred_at?,
        metadata: metadata.ok()?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOGIN: &str = r#"{"group": "organization_1", "action": "user.login", "action_type": "C",
 "actor_name": "user@email.com", "actor_id": "user_1",
 "target_name": "user@email.com", "target_id": "user_1",
 "location": "1.1.1.1", "occurred_at": "2019-05-01T01:15:55.619355Z", "metadata": {}}"#;

    #[test]
    fn seed_login_validates_and_translates() {
        let e = LegacyEvent::from_json(LOGIN.as_bytes()).unwrap();
        assert!(e.validate().is_ok());
        assert_eq!(
            String::from_utf8(e.to_json()).unwrap(),
            r#"{"group":"organization_1","action":"user.login","action_type":"C","actor_name":"user@email.com","actor_id":"user_1","target_name":"user@email.com","target_id":"user_1","location":"1.1.1.1","occurred_at":"2019-05-01T01:15:55.619Z","metadata":{}}"#
        );
        let current = e.to_current().unwrap();
        assert_eq!(
            String::from_utf8(current.to_json()).unwrap(),
            r#"{"organization_id":"organization_1","event":{"action":"user.login","occurred_at":"2019-05-01T01:15:55.619Z","actor":{"id":"user_1","type":"user","name":"user@email.com"},"targets":[{"id":"user_1","type":"user","name":"user@email.com"}],"context":{"location":"1.1.1.1"},"metadata":{"action_type":"C"}}}"#
        );
        assert!(current.validate().is_ok());
    }

    #[test]
    fn v1_rules() {
        let bad = LOGIN
            .replace(r#""user.login""#, r#""userlogin""#)
            .replace(r#""C""#, r#""X""#)
            .replace(r#""group": "organization_1""#, r#""group": """#);
        let e = LegacyEvent::from_json(bad.as_bytes()).unwrap_err();
        let got: Vec<_> = e.problems().iter().map(|p| p.path.as_str()).collect();
        assert_eq!(got, ["group", "action", "action_type"]);
        assert!(e.problems()[2].message.contains("C, R, U, D"));
        for action in [".login", "user.", "."] {
            let bad = LOGIN.replace("user.login", action);
            assert!(LegacyEvent::from_json(bad.as_bytes()).is_err(), "{action}");
        }
    }

    #[test]
    fn translation_refuses_to_overwrite_or_overflow_metadata() {
        let mut e = LegacyEvent::from_json(LOGIN.as_bytes()).unwrap();
        let mut m = Metadata::new();
        m.insert("action_type".into(), "D".into());
        e.metadata = Some(m.clone());
        assert_eq!(
            e.to_current().unwrap_err().problems()[0].path,
            "metadata.action_type"
        );
        m.insert("action_type".into(), "C".into());
        e.metadata = Some(m);
        assert!(e.to_current().is_ok());
        let full: Metadata = (0..50).map(|i| (format!("k{i}"), true.into())).collect();
        e.metadata = Some(full);
        assert_eq!(e.to_current().unwrap_err().problems()[0].path, "metadata");
    }
}
