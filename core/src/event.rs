//! The current Audit Logs event model and the `POST /audit_logs/events` request body.

use serde::{Deserialize, Serialize};

use crate::metadata::{check_metadata, Metadata};
use crate::problem::{Path, Problems, Rule, ValidationError};
use crate::timestamp::Timestamp;

/// An audit event for `POST /audit_logs/events`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Event {
    /// What happened, e.g. `user.signed_in`.
    pub action: String,
    /// When it happened.
    pub occurred_at: Timestamp,
    /// The schema version of the action, when schemas are versioned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<i64>,
    /// Who did it.
    pub actor: Actor,
    /// What it was done to.
    pub targets: Vec<Target>,
    /// Where it was done from.
    pub context: Context,
    /// Extra facts about the event.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Metadata>,
}

/// The actor of an event.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Actor {
    /// The actor's identifier.
    pub id: String,
    /// The kind of actor, e.g. `user`.
    #[serde(rename = "type")]
    pub kind: String,
    /// A display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Extra facts about the actor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Metadata>,
}

/// One target of an event.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Target {
    /// The target's identifier.
    pub id: String,
    /// The kind of target, e.g. `team`.
    #[serde(rename = "type")]
    pub kind: String,
    /// A display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Extra facts about the target.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Metadata>,
}

/// Where an event came from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Context {
    /// The IP address or place the action came from.
    pub location: String,
    /// The client's user agent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_agent: Option<String>,
}

/// The body of `POST /audit_logs/events`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateEventBody {
    /// The organization the event belongs to.
    pub organization_id: String,
    /// The event.
    pub event: Event,
}

impl Actor {
    /// An actor with the required fields.
    pub fn new(id: impl Into<String>, kind: impl Into<String>) -> Self {
        Actor {
            id: id.into(),
            kind: kind.into(),
            name: None,
            metadata: None,
        }
    }
}

impl Target {
    /// A target with the required fields.
    pub fn new(id: impl Into<String>, kind: impl Into<String>) -> Self {
        Target {
            id: id.into(),
            kind: kind.into(),
            name: None,
            metadata: None,
        }
    }
}

impl Context {
    /// A context with the required location.
    pub fn new(location: impl Into<String>) -> Self {
        Context {
            location: location.into(),
            user_agent: None,
        }
    }
}

impl Event {
    /// An event with every field empty (not valid): a value for a binding to fill in place.
    pub fn empty() -> Self {
        Event {
            action: String::new(),
            occurred_at: Timestamp::from_unix_millis(0).expect("1970 is in range"),
            version: None,
            actor: Actor::new("", ""),
            targets: Vec::new(),
            context: Context::new(""),
            metadata: None,
        }
    }

    /// Checks every rule on an event built in Rust; paths start with `event.`.
    pub fn validate(&self) -> Result<(), ValidationError> {
        let mut problems = Problems::default();
        let root = Path::Root;
        self.check(&root.field("event"), &mut problems);
        problems.into_result()
    }

    pub(crate) fn check(&self, path: &Path<'_>, problems: &mut Problems) {
        check_required_text(&path.field("action"), &self.action, problems);
        if let Some(v) = self.version {
            check_version(&path.field("version"), v, problems);
        }
        let a = &self.actor;
        check_party(
            &path.field("actor"),
            &a.id,
            &a.kind,
            a.metadata.as_ref(),
            problems,
        );
        let targets = path.field("targets");
        for (i, t) in self.targets.iter().enumerate() {
            check_party(
                &targets.index(i),
                &t.id,
                &t.kind,
                t.metadata.as_ref(),
                problems,
            );
        }
        check_required_text(
            &path.field("context").field("location"),
            &self.context.location,
            problems,
        );
        if let Some(m) = &self.metadata {
            check_metadata(&path.field("metadata"), m, problems);
        }
    }
}

/// The rules shared by actors and targets.
fn check_party(
    path: &Path<'_>,
    id: &str,
    kind: &str,
    metadata: Option<&Metadata>,
    problems: &mut Problems,
) {
    check_required_text(&path.field("id"), id, problems);
    check_required_text(&path.field("type"), kind, problems);
    if let Some(m) = metadata {
        check_metadata(&path.field("metadata"), m, problems);
    }
}

impl CreateEventBody {
    /// Checks every rule, organization id included.
    pub fn validate(&self) -> Result<(), ValidationError> {
        let mut problems = Problems::default();
        let root = Path::Root;
        check_required_text(
            &root.field("organization_id"),
            &self.organization_id,
            &mut problems,
        );
        self.event.check(&root.field("event"), &mut problems);
        problems.into_result()
    }
}

/// A required string must not be empty.
pub(crate) fn check_required_text(path: &Path<'_>, value: &str, problems: &mut Problems) {
    if value.is_empty() {
        problems.push(path, Rule::Empty, "must not be empty");
    }
}

/// A schema version is an integer of at least 1.
pub(crate) fn check_version(path: &Path<'_>, value: i64, problems: &mut Problems) {
    if value < 1 {
        problems.push(
            path,
            Rule::InvalidInteger,
            format!("must be an integer of at least 1 (found {value})"),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> CreateEventBody {
        let mut actor = Actor::new("user_1", "user");
        actor.name = Some("Jon Smith".into());
        CreateEventBody {
            organization_id: "org_1".into(),
            event: Event {
                action: "user.signed_in".into(),
                occurred_at: Timestamp::parse("2026-02-02T16:35:39.317Z").unwrap(),
                version: None,
                actor,
                targets: vec![Target::new("team_1", "team")],
                context: Context::new("123.123.123.123"),
                metadata: None,
            },
        }
    }

    #[test]
    fn absent_optionals_are_omitted() {
        let json = String::from_utf8(sample().to_json()).unwrap();
        assert_eq!(
            json,
            r#"{"organization_id":"org_1","event":{"action":"user.signed_in","occurred_at":"2026-02-02T16:35:39.317Z","actor":{"id":"user_1","type":"user","name":"Jon Smith"},"targets":[{"id":"team_1","type":"team"}],"context":{"location":"123.123.123.123"}}}"#
        );
    }

    #[test]
    fn typed_validation_reports_every_problem() {
        let mut b = sample();
        b.organization_id.clear();
        b.event.action.clear();
        b.event.version = Some(0);
        b.event.targets.push(Target::new("", ""));
        b.event.context.location.clear();
        let e = b.validate().unwrap_err();
        let paths: Vec<_> = e.problems().iter().map(|p| p.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "organization_id",
                "event.action",
                "event.version",
                "event.targets[1].id",
                "event.targets[1].type",
                "event.context.location"
            ]
        );
        assert!(sample().validate().is_ok());
        assert!(sample().event.validate().is_ok());
    }
}
