//! Property tests: accepted events round-trip unchanged, and no input panics the parser.

use auditwire::{
    ActionType, Actor, Context, CreateEventBody, Event, LegacyEvent, Metadata, MetadataValue,
    Target, Timestamp,
};
use proptest::prelude::*;
use serde_json::Value;

const CASES: u32 = 10_000;

fn text() -> impl Strategy<Value = String> {
    "\\PC{1,24}"
}

fn timestamp() -> impl Strategy<Value = Timestamp> {
    (-62_135_596_800_000i64..=253_402_300_799_999)
        .prop_map(|ms| Timestamp::from_unix_millis(ms).unwrap())
}

fn metadata_value() -> impl Strategy<Value = MetadataValue> {
    prop_oneof![
        "\\PC{0,40}".prop_map(MetadataValue::String),
        proptest::collection::vec(any::<char>(), 480..=500)
            .prop_map(|cs| MetadataValue::String(cs.into_iter().collect())),
        any::<i64>().prop_map(MetadataValue::from),
        any::<u64>().prop_map(MetadataValue::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(|f| MetadataValue::try_from(f).unwrap()),
        any::<bool>().prop_map(MetadataValue::from),
    ]
}

fn metadata() -> impl Strategy<Value = Option<Metadata>> {
    proptest::option::of(
        proptest::collection::vec(("[A-Za-z0-9_-]{0,40}", metadata_value()), 0..8)
            .prop_map(|pairs| pairs.into_iter().collect::<Metadata>()),
    )
}

fn target() -> impl Strategy<Value = Target> {
    (text(), text(), proptest::option::of(text()), metadata()).prop_map(
        |(id, kind, name, metadata)| Target {
            id,
            kind,
            name,
            metadata,
        },
    )
}

fn body() -> impl Strategy<Value = CreateEventBody> {
    (
        text(),
        text(),
        timestamp(),
        proptest::option::of(1i64..i64::MAX),
        (text(), text(), proptest::option::of(text()), metadata()),
        proptest::collection::vec(target(), 0..4),
        (text(), proptest::option::of(text())),
        metadata(),
    )
        .prop_map(
            |(org, action, occurred_at, version, a, targets, c, metadata)| CreateEventBody {
                organization_id: org,
                event: Event {
                    action,
                    occurred_at,
                    version,
                    actor: Actor {
                        id: a.0,
                        kind: a.1,
                        name: a.2,
                        metadata: a.3,
                    },
                    targets,
                    context: Context {
                        location: c.0,
                        user_agent: c.1,
                    },
                    metadata,
                },
            },
        )
}

fn legacy() -> impl Strategy<Value = LegacyEvent> {
    (
        (text(), "[a-z_]{1,12}", "[a-z_.]{1,12}"),
        prop_oneof![
            Just(ActionType::C),
            Just(ActionType::R),
            Just(ActionType::U),
            Just(ActionType::D)
        ],
        (text(), text(), text(), text(), text()),
        timestamp(),
        metadata().prop_map(|m| {
            m.map(|mut m| {
                m.shift_remove("action_type");
                m
            })
        }),
    )
        .prop_map(
            |((group, cat, name), action_type, s, occurred_at, metadata)| LegacyEvent {
                group,
                action: format!("{cat}.{name}"),
                action_type,
                actor_name: s.0,
                actor_id: s.1,
                target_name: s.2,
                target_id: s.3,
                location: s.4,
                occurred_at,
                metadata,
            },
        )
}

/// Any JSON value, nested a little.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        "\\PC{0,12}".prop_map(Value::String),
        Just(Value::String("2026-02-02T16:35:39.317Z".into())),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            proptest::collection::vec(("[a-z_]{0,12}", inner), 0..6)
                .prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

const SEED: &str = r#"{"organization_id":"org_1","event":{"action":"user.signed_in","occurred_at":"2026-02-02T16:35:39.317Z","version":1,"actor":{"id":"user_1","type":"user","name":"Jon","metadata":{"role":"admin"}},"targets":[{"id":"team_1","type":"team","metadata":{}}],"context":{"location":"1.2.3.4","user_agent":"x"},"metadata":{"owner":"u"}}}"#;

/// Every place in the seed body where a generated value may be put.
const SLOTS: &[&[&str]] = &[
    &["organization_id"],
    &["event"],
    &["event", "action"],
    &["event", "occurred_at"],
    &["event", "version"],
    &["event", "actor"],
    &["event", "actor", "id"],
    &["event", "actor", "metadata"],
    &["event", "actor", "metadata", "role"],
    &["event", "targets"],
    &["event", "context"],
    &["event", "context", "location"],
    &["event", "metadata"],
    &["event", "metadata", "owner"],
    &["event", "extra"],
];

fn assert_stable(body: &CreateEventBody) {
    let wire = body.to_json();
    assert_eq!(
        wire,
        serde_json::to_vec(body).unwrap(),
        "wire writer matches serde_json"
    );
    let again = CreateEventBody::from_json(&wire).expect("accepted output is accepted again");
    assert_eq!(&again, body);
    assert_eq!(again.to_json(), wire);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES))]

    #[test]
    fn valid_bodies_round_trip_unchanged(body in body()) {
        prop_assert!(body.validate().is_ok());
        assert_stable(&body);
    }

    #[test]
    fn legacy_events_round_trip_and_translate(event in legacy()) {
        prop_assert!(event.validate().is_ok());
        prop_assert_eq!(event.to_json(), serde_json::to_vec(&event).unwrap());
        let back = LegacyEvent::from_json(&event.to_json()).expect("v1 body is accepted again");
        prop_assert_eq!(&back, &event);
        let current = event.to_current().expect("translation");
        prop_assert!(current.validate().is_ok());
        assert_stable(&current);
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = CreateEventBody::from_json(&bytes);
        let _ = LegacyEvent::from_json(&bytes);
        let _ = Event::from_json(&bytes);
    }

    #[test]
    fn mutated_seed_text_never_panics(cuts in proptest::collection::vec((0usize..400, any::<u8>()), 1..6)) {
        let mut bytes = SEED.as_bytes().to_vec();
        for (at, b) in cuts {
            let at = at % (bytes.len() + 1);
            if b % 2 == 0 && at < bytes.len() {
                bytes.remove(at);
            } else {
                bytes.insert(at, b);
            }
        }
        if let Ok(body) = CreateEventBody::from_json(&bytes) {
            assert_stable(&body);
        }
    }

    #[test]
    fn generated_values_in_any_slot_never_panic(slot in 0..SLOTS.len(), value in json_value()) {
        let mut doc: Value = serde_json::from_str(SEED).unwrap();
        let path = SLOTS[slot];
        let mut at = &mut doc;
        for key in &path[..path.len() - 1] {
            at = &mut at[*key];
        }
        at[path[path.len() - 1]] = value;
        let bytes = serde_json::to_vec(&doc).unwrap();
        match CreateEventBody::from_json(&bytes) {
            Ok(body) => assert_stable(&body),
            Err(e) => prop_assert!(!e.problems().is_empty()),
        }
    }
}
