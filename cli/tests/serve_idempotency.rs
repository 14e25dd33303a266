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
