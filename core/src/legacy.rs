//! The v1 event of `@workos-inc/js` (`POST /events`) and its translation to the current API.

use std::fmt;

use serde::de::MapAccess;
use serde::{Deserialize, Serialize};

use crate::event::{check_required_text, Actor, Context, CreateEventBody, Event, Target};
use crate::metadata::{check_metadata, Metadata, MetadataValue, MAX_METADATA_KEYS};
use crate::problem::{Path, Problems, Rule, ValidationError};
use crate::shape::{
    optional, read_value, required, required_text, Fields, MetadataShape, Object, Read, Text, Time,
};
use crate::strict_json::{read_document, Cx, ParseLimits};
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

/// The metadata key under which the v1 `action_type` travels in the current API.
pub const ACTION_TYPE_METADATA_KEY: &str = "action_type";

impl LegacyEvent {
    /// Parses and validates a flat v1 event with default limits.
    pub fn from_json(bytes: &[u8]) -> Result<Self, ValidationError> {
        Self::from_json_with(bytes, &ParseLimits::default())
    }

    /// Parses and validates a flat v1 event within `limits`; paths are the flat v1 names.
    pub fn from_json_with(bytes: &[u8], limits: &ParseLimits) -> Result<Self, ValidationError> {
        read_document(bytes, limits, &Path::Root, Object::<LegacyFields>::new())
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

#[derive(Default)]
struct LegacyFields {
    group: Option<Read<String>>,
    action: Option<Read<String>>,
    action_type: Option<Read<String>>,
    actor_name: Option<Read<String>>,
    actor_id: Option<Read<String>>,
    target_name: Option<Read<String>>,
    target_id: Option<Read<String>>,
    location: Option<Read<String>>,
    occurred_at: Option<Read<Timestamp>>,
    metadata: Option<Read<Metadata>>,
}

impl<'de> Fields<'de> for LegacyFields {
    const NAMES: &'static [&'static str] = &[
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
    type Out = LegacyEvent;

    fn read<A: MapAccess<'de>>(
        &mut self,
        name: &'static str,
        map: &mut A,
        cx: &mut Cx,
        path: &Path<'_>,
    ) -> Result<(), A::Error> {
        let slot = match name {
            "occurred_at" => {
                self.occurred_at = read_value(map, cx, path, Time)?;
                return Ok(());
            }
            "metadata" => {
                self.metadata = read_value(map, cx, path, MetadataShape)?;
                return Ok(());
            }
            "group" => &mut self.group,
            "action" => &mut self.action,
            "action_type" => &mut self.action_type,
            "actor_name" => &mut self.actor_name,
            "actor_id" => &mut self.actor_id,
            "target_name" => &mut self.target_name,
            "target_id" => &mut self.target_id,
            _ => &mut self.location,
        };
        *slot = read_value(map, cx, path, Text)?;
        Ok(())
    }

    fn finish(self, cx: &mut Cx, root: &Path<'_>) -> Option<LegacyEvent> {
        let group = required_text(self.group, cx, &root.field("group"));
        let action_path = root.field("action");
        let action = required_text(self.action, cx, &action_path).and_then(|a| {
            let before = cx.problems.0.len();
            check_action(&action_path, &a, &mut cx.problems);
            (cx.problems.0.len() == before).then_some(a)
        });
        let action_type_path = root.field("action_type");
        let action_type = required_text(self.action_type, cx, &action_type_path).and_then(|t| {
            let parsed = ActionType::parse(&t);
            if parsed.is_none() {
                cx.problems.push(
                    &action_type_path,
                    Rule::InvalidValue,
                    format!(
                        "must be one of C, R, U, D (create, read, update, delete), found {t:?}"
                    ),
                );
            }
            parsed
        });
        let actor_name = required_text(self.actor_name, cx, &root.field("actor_name"));
        let actor_id = required_text(self.actor_id, cx, &root.field("actor_id"));
        let target_name = required_text(self.target_name, cx, &root.field("target_name"));
        let target_id = required_text(self.target_id, cx, &root.field("target_id"));
        let location = required_text(self.location, cx, &root.field("location"));
        let occurred_at = required(self.occurred_at, cx, &root.field("occurred_at"));
        let metadata = optional(self.metadata);
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
