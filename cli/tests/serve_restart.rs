//! A file database keeps events, keys, schemas and exports across a restart.

mod common;

use common::*;
use serde_json::json;

#[test]
fn events_keys_and_schemas_survive_a_restart() {
    let dir = std::env::temp_dir().join(format!("auditwire-serve-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let db = dir.join("events.sqlite");
    let _ = std::fs::remove_file(&db);
    let db_arg = db.to_str().unwrap();

    let s = TestServer::start(&["--db", db_arg]);
    for i in 0..3 {
        let key = format!("restart-{i}");
        let r = post_with(
            &s,
            "/audit_logs/events",
            &sample_event(),
            &[("Idempotency-Key", &key)],
        );
        assert_eq!(r.status, 201);
    }
    let schema = json!({"targets": [{"type": "team"}], "metadata": {"type": "object", "required": ["owner"]}});
    assert_eq!(
        post(
            &s,
            "/audit_logs/actions/user.signed_in/schemas",
            &schema.to_string()
        )
        .status,
        201
    );
    s.stop();

    let s = TestServer::start(&["--db", db_arg]);
    assert_eq!(s.stats()["events_stored"], 3);
    // The key is still remembered, and the schema still enforced.
    let r = post_with(
        &s,
        "/audit_logs/events",
        &sample_event(),
        &[("Idempotency-Key", "restart-0")],
    );
    assert_eq!(r.header("idempotent-replayed"), Some("true"));
    let mut no_owner: serde_json::Value = serde_json::from_str(&sample_event()).unwrap();
    no_owner["event"]["metadata"] = json!({});
    assert_eq!(
        post(&s, "/audit_logs/events", &no_owner.to_string()).status,
        400
    );
    assert_eq!(s.stats()["events_stored"], 3);
    s.stop();
    let _ = std::fs::remove_dir_all(&dir);
}
