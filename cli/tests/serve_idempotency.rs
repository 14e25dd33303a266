//! Idempotency keys: replay of the first response, nothing stored twice, even when racing.

mod common;

use std::sync::{Arc, Barrier};
use std::thread;

use common::*;
use serde_json::json;

#[test]
fn a_repeated_key_replays_the_first_response_and_stores_nothing() {
    let s = TestServer::start(&[]);
    let key = [("Idempotency-Key", "key-1")];
    let first = post_with(&s, "/audit_logs/events", &sample_event(), &key);
    assert_eq!(first.status, 201);
    assert_eq!(first.header("idempotent-replayed"), None);
    for _ in 0..3 {
        let again = post_with(&s, "/audit_logs/events", &sample_event(), &key);
        assert_eq!(again.status, 201);
        assert_eq!(again.json, json!({"success": true}));
        assert_eq!(again.header("idempotent-replayed"), Some("true"));
        assert_ne!(again.request_id, first.request_id);
    }
    // A different key, or none, stores a new event.
    assert_eq!(
        post_with(
            &s,
            "/audit_logs/events",
            &sample_event(),
            &[("Idempotency-Key", "key-2")]
        )
        .status,
        201
    );
    assert_eq!(post(&s, "/audit_logs/events", &sample_event()).status, 201);
    let stats = s.stats();
    assert_eq!(stats["events_stored"], 3);
    assert_eq!(stats["duplicates_replayed"], 3);
    // Invalid requests are not remembered under their key.
    let bad = post_with(
        &s,
        "/audit_logs/events",
        "{}",
        &[("Idempotency-Key", "key-3")],
    );
    assert_eq!(bad.status, 422);
    assert_eq!(
        post_with(
            &s,
            "/audit_logs/events",
            &sample_event(),
            &[("Idempotency-Key", "key-3")]
        )
        .status,
        201
    );
    let long = "k".repeat(300);
    assert_eq!(
        post_with(
            &s,
            "/audit_logs/events",
            &sample_event(),
            &[("Idempotency-Key", &long)]
        )
        .status,
        400
    );
}

#[test]
fn racing_identical_requests_store_one_event() {
    let s = TestServer::start(&[]);
    let url = format!("{}/audit_logs/events", s.base_url());
    for round in 0..5 {
        let key = format!("race-{round}");
        let barrier = Arc::new(Barrier::new(16));
        let handles: Vec<_> = (0..16)
            .map(|_| {
                let (url, key, barrier) = (url.clone(), key.clone(), Arc::clone(&barrier));
                thread::spawn(move || {
                    barrier.wait();
                    send(
                        "POST",
                        &url,
                        Some(KEY),
                        &[("Idempotency-Key", &key)],
                        Some(&sample_event()),
                    )
                    .map(|r| r.status)
                })
            })
            .collect();
        for h in handles {
            assert_eq!(h.join().unwrap().unwrap(), 201);
        }
    }
    let stats = s.stats();
    assert_eq!(stats["events_stored"], 5);
    assert_eq!(stats["duplicates_replayed"], 75);
}

#[test]
fn legacy_endpoint_honours_keys_too() {
    let s = TestServer::start(&[]);
    let v1 = json!({"group": "org_1", "action": "user.login", "action_type": "C",
        "actor_name": "a", "actor_id": "user_1", "target_name": "t", "target_id": "user_1",
        "location": "1.1.1.1", "occurred_at": "2019-05-01T01:15:55.619Z"})
    .to_string();
    for _ in 0..2 {
        assert_eq!(
            post_with(&s, "/events", &v1, &[("Idempotency-Key", "v1-key")]).status,
            201
        );
    }
    assert_eq!(s.stats()["events_stored"], 1);
}

/// `sample_event` with another actor: a different request.
fn other_event(org: &str) -> String {
    event_body(
        org,
        "user.signed_in",
        ("user_tenant_b", "Tenant B"),
        "team",
        "2026-02-02T16:35:39.317Z",
    )
}

fn post_as(s: &TestServer, api_key: &str, body: &str, idem: &str) -> Reply {
    send(
        "POST",
        &format!("{}/audit_logs/events", s.base_url()),
        Some(api_key),
        &[("Idempotency-Key", idem)],
        Some(body),
    )
    .unwrap()
}

#[test]
fn keys_are_scoped_per_api_key_and_organization() {
    // Without --api-key the server accepts any key and scopes by the one presented.
    let s = TestServer::start(&[]);
    let org = "org_01EHWNCE74X7JSDV0X3SZ3KJNY";
    let first = post_as(&s, "sk_tenant_a", &sample_event(), "shared-key");
    assert_eq!(first.status, 201);
    // Another API key, same Idempotency-Key, another event: stored, not a replay.
    let b = post_as(&s, "sk_tenant_b", &other_event(org), "shared-key");
    assert_eq!((b.status, b.header("idempotent-replayed")), (201, None));
    // Same API key, another organization: its own scope.
    let other_org = post_as(&s, "sk_tenant_a", &other_event("org_other"), "shared-key");
    assert_eq!(
        (other_org.status, other_org.header("idempotent-replayed")),
        (201, None)
    );
    assert_eq!(s.stats()["events_stored"], 3);
    // Inside one scope: the same body replays, a different body is a 409.
    let again = post_as(&s, "sk_tenant_b", &other_event(org), "shared-key");
    assert_eq!(
        (again.status, again.header("idempotent-replayed")),
        (201, Some("true"))
    );
    let conflict = post_as(&s, "sk_tenant_a", &other_event(org), "shared-key");
    assert_eq!(conflict.status, 409, "{}", conflict.text);
    assert_eq!(conflict.json["code"], "idempotency_error");
    let message = conflict.json["message"].as_str().unwrap();
    assert!(message.contains("different request body"), "{message}");
    assert!(conflict.request_id.is_some());
    let stats = s.stats();
    assert_eq!(stats["events_stored"], 3);
    assert_eq!(stats["duplicates_replayed"], 1);
    assert_eq!(stats["idempotency_conflicts"], 1);
}

#[test]
fn the_client_rejects_a_reused_key_with_the_servers_message_without_retrying() {
    use auditwire::{Client, Config, EmitOptions, Event, Outcome};
    use std::time::Duration;
    let s = TestServer::start(&[]);
    let client = Client::new(
        Config::builder()
            .api_key(KEY)
            .base_url(s.base_url())
            .ignore_env(true)
            .build()
            .unwrap(),
    );
    let event = |body: &str| {
        let v: serde_json::Value = serde_json::from_str(body).unwrap();
        Event::from_json(v["event"].to_string().as_bytes()).unwrap()
    };
    let org = "org_01EHWNCE74X7JSDV0X3SZ3KJNY";
    let wait = Duration::from_secs(30);
    let first = client
        .emit(
            org,
            &event(&sample_event()),
            EmitOptions::with_key("reused-key"),
        )
        .unwrap()
        .wait(wait)
        .unwrap();
    assert!(first.is_delivered(), "{first:?}");
    let second = client
        .emit(
            org,
            &event(&other_event(org)),
            EmitOptions::with_key("reused-key"),
        )
        .unwrap()
        .wait(wait)
        .unwrap();
    let Outcome::Rejected { error, attempts } = &second else {
        panic!("expected a rejection: {second:?}")
    };
    assert_eq!(*attempts, 1, "a 409 is final");
    assert_eq!(error.status, Some(409));
    assert_eq!(error.code.as_deref(), Some("idempotency_error"));
    assert!(
        error.message.contains("different request body"),
        "{}",
        error.message
    );
    assert_eq!(client.stats().rejected, 1);
    let stats = s.stats();
    assert_eq!(stats["requests"], 2, "{stats}");
    assert_eq!(stats["events_stored"], 1);
}
