//! `auditwire serve` over HTTP: every endpoint, auth, error shapes, lists and retention.

mod common;

use common::*;
use serde_json::{json, Value};

#[test]
fn create_event_returns_201_success_with_request_id() {
    let s = TestServer::start(&[]);
    let r = post(&s, "/audit_logs/events", &sample_event());
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.json, json!({"success": true}));
    assert!(r.request_id.as_deref().is_some_and(|id| !id.is_empty()));
    assert_eq!(s.stats()["events_stored"], 1);
}

#[test]
fn auth_is_required_and_the_configured_key_enforced() {
    let s = TestServer::start(&["--api-key", "sk_right"]);
    let url = format!("{}/audit_logs/events", s.base_url());
    let body = sample_event();
    for key in [None, Some("sk_wrong"), Some("")] {
        let r = send("POST", &url, key, &[], Some(&body)).unwrap();
        assert_eq!(r.status, 401, "{key:?}");
        assert!(r.json["message"].as_str().is_some());
        assert!(r.request_id.is_some());
    }
    let r = send("POST", &url, Some("sk_right"), &[], Some(&body)).unwrap();
    assert_eq!(r.status, 201);
    // Without --api-key any non-empty key works.
    let open = TestServer::start(&[]);
    let r = send(
        "GET",
        &format!("{}/audit_logs/actions", open.base_url()),
        Some("anything"),
        &[],
        None,
    )
    .unwrap();
    assert_eq!(r.status, 200);
}

#[test]
fn missing_and_malformed_fields_are_422_with_code_and_field() {
    let s = TestServer::start(&[]);
    let body = json!({"organization_id": "org_1", "event": {"occurred_at": "soon", "actor": {"type": "user"},
        "targets": [{"id": "t", "type": "team"}], "context": {"location": "x"}}});
    let r = post(&s, "/audit_logs/events", &body.to_string());
    assert_eq!(r.status, 422, "{}", r.text);
    assert_eq!(r.json["message"], "Validation failed.");
    let errors = r.json["errors"].as_array().unwrap();
    let pairs: Vec<(String, String)> = errors
        .iter()
        .map(|e| {
            (
                e["code"].as_str().unwrap().into(),
                e["field"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert!(
        pairs.contains(&("required".into(), "event.action".into())),
        "{pairs:?}"
    );
    assert!(
        pairs.contains(&("required".into(), "event.actor.id".into())),
        "{pairs:?}"
    );
    assert!(
        pairs.contains(&("invalid_timestamp".into(), "event.occurred_at".into())),
        "{pairs:?}"
    );
    assert!(errors.iter().all(|e| e["message"].is_string()));
    assert_eq!(s.stats()["events_stored"], 0);
}

#[test]
fn metadata_problems_are_400_invalid_audit_log_event() {
    let s = TestServer::start(&[]);
    let mut body: Value = serde_json::from_str(&sample_event()).unwrap();
    body["event"]["metadata"] = json!({"owner": "x".repeat(501), "bad key": 1, "nested": {"a": 1}});
    let r = post(&s, "/audit_logs/events", &body.to_string());
    assert_eq!(r.status, 400, "{}", r.text);
    assert_eq!(r.json["code"], "invalid_audit_log_event");
    assert_eq!(r.json["message"], "Invalid Audit Log event.");
    let mut paths: Vec<&str> = r.json["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["instancePath"].as_str().unwrap())
        .collect();
    paths.sort_unstable();
    assert_eq!(
        paths,
        ["/metadata/bad key", "/metadata/nested", "/metadata/owner"]
    );
    let too_many: serde_json::Map<String, Value> =
        (0..51).map(|i| (format!("k{i}"), json!(i))).collect();
    body["event"]["metadata"] = Value::Null;
    body["event"]["targets"][0]["metadata"] = Value::Object(too_many);
    let r = post(&s, "/audit_logs/events", &body.to_string());
    assert_eq!(r.status, 400, "{}", r.text);
    assert_eq!(r.json["errors"][0]["instancePath"], "/targets/0/metadata");
}

#[test]
fn malformed_json_too_large_unknown_org_and_unknown_route() {
    let s = TestServer::start(&["--orgs", "org_a,org_b", "--max-body-bytes", "2000"]);
    let r = post(&s, "/audit_logs/events", "{\"organization_id\":");
    assert_eq!(r.status, 400);
    assert!(
        r.json["message"]
            .as_str()
            .unwrap()
            .starts_with("Malformed JSON body"),
        "{}",
        r.text
    );
    let big = format!("{{\"organization_id\":\"{}\"}}", "x".repeat(3000));
    assert_eq!(post(&s, "/audit_logs/events", &big).status, 413);
    let r = post(&s, "/audit_logs/events", &sample_event());
    assert_eq!(r.status, 404);
    assert_eq!(
        r.json["message"],
        "Organization not found: 'org_01EHWNCE74X7JSDV0X3SZ3KJNY'."
    );
    let ok = event_body("org_a", "a.b", ("u", "U"), "team", "2026-01-01T00:00:00Z");
    assert_eq!(post(&s, "/audit_logs/events", &ok).status, 201);
    assert_eq!(
        get(&s, "/organizations/org_c/audit_logs_retention").status,
        404
    );
    let r = get(&s, "/no/such/thing");
    assert_eq!(r.status, 404);
    assert!(r.request_id.is_some());
    let r = send(
        "DELETE",
        &format!("{}/audit_logs/events", s.base_url()),
        Some(KEY),
        &[],
        None,
    )
    .unwrap();
    assert_eq!(r.status, 405);
}

#[test]
fn legacy_v1_events_use_v1_rules() {
    let s = TestServer::start(&[]);
    let v1 = json!({"group": "org_1", "action": "user.login", "action_type": "C",
        "actor_name": "user@email.com", "actor_id": "user_1", "target_name": "user@email.com",
        "target_id": "user_1", "location": "1.1.1.1", "occurred_at": "2019-05-01T01:15:55.619Z", "metadata": {}});
    let r = post(&s, "/events", &v1.to_string());
    assert_eq!(r.status, 201, "{}", r.text);
    let mut bad = v1.clone();
    bad["action"] = json!("userlogin");
    bad["action_type"] = json!("X");
    let r = post(&s, "/events", &bad.to_string());
    assert_eq!(r.status, 422, "{}", r.text);
    let fields: Vec<&str> = r.json["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["action", "action_type"]);
    let mut meta = v1.clone();
    meta["metadata"] = json!({"action_type": "D"});
    let r = post(&s, "/events", &meta.to_string());
    assert_eq!(r.status, 400, "{}", r.text);
    assert_eq!(r.json["errors"][0]["instancePath"], "/metadata/action_type");
    // The stored v1 event is exported in its current form.
    let rows = export_rows(
        &s,
        json!({"organization_id": "org_1", "range_start": "2019-01-01T00:00:00Z",
        "range_end": "2019-12-31T00:00:00Z", "targets": ["user"]}),
    );
    assert_eq!(rows.len(), 1);
    assert!(
        rows[0][12].contains("\"action_type\":\"C\""),
        "{:?}",
        rows[0]
    );
}

/// Creates an export, waits for it, downloads the CSV and returns its data rows.
fn export_rows(s: &TestServer, request: Value) -> Vec<Vec<String>> {
    let r = post(s, "/audit_logs/exports", &request.to_string());
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.json["state"], "pending");
    assert_eq!(r.json["object"], "audit_log_export");
    let id = r.json["id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("audit_log_export_"));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let url = loop {
        let r = get(s, &format!("/audit_logs/exports/{id}"));
        assert_eq!(r.status, 200);
        if r.json["state"] == "ready" {
            break r.json["url"].as_str().unwrap().to_owned();
        }
        assert_eq!(r.json["state"], "pending");
        assert!(
            std::time::Instant::now() < deadline,
            "export never became ready"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    assert!(url.starts_with(&s.base_url()), "{url}");
    let csv = send("GET", &url, None, &[], None).unwrap();
    assert_eq!(csv.status, 200);
    assert!(csv.header("content-type").unwrap().starts_with("text/csv"));
    let mut rows = parse_csv(&csv.text);
    assert_eq!(
        rows[0][..4],
        ["id", "organization_id", "action", "occurred_at"]
    );
    rows.remove(0);
    rows
}

#[test]
fn export_csv_matches_every_filter() {
    let s = TestServer::start(&[]);
    let events = [
        (
            "org_1",
            "user.signed_in",
            ("u1", "Ann"),
            "team",
            "2026-03-01T10:00:00Z",
        ),
        (
            "org_1",
            "user.signed_in",
            ("u2", "Bob"),
            "doc",
            "2026-03-02T10:00:00Z",
        ),
        (
            "org_1",
            "doc.deleted",
            ("u1", "Ann"),
            "doc",
            "2026-03-03T10:00:00Z",
        ),
        (
            "org_1",
            "doc.deleted",
            ("u3", "Cy, \"the\" one"),
            "doc",
            "2026-04-01T10:00:00Z",
        ),
        (
            "org_2",
            "user.signed_in",
            ("u1", "Ann"),
            "team",
            "2026-03-01T12:00:00Z",
        ),
    ];
    for (org, action, actor, target, at) in events {
        assert_eq!(
            post(
                &s,
                "/audit_logs/events",
                &event_body(org, action, actor, target, at)
            )
            .status,
            201
        );
    }
    let base = json!({"organization_id": "org_1", "range_start": "2026-03-01T00:00:00Z", "range_end": "2026-03-31T00:00:00Z"});
    let with = |extra: Value| {
        let mut b = base.clone();
        for (k, v) in extra.as_object().unwrap() {
            b[k] = v.clone();
        }
        export_rows(&s, b)
    };
    let actor_ids = |rows: &[Vec<String>]| rows.iter().map(|r| r[5].clone()).collect::<Vec<_>>();
    let all = with(json!({}));
    assert_eq!(actor_ids(&all), ["u1", "u2", "u1"]);
    assert_eq!(all[0][1], "org_1");
    assert_eq!(all[0][3], "2026-03-01T10:00:00.000Z");
    assert_eq!(all[0][7], "Ann");
    assert_eq!(all[0][10], "123.123.123.123");
    let targets: Value = serde_json::from_str(&all[0][9]).unwrap();
    assert_eq!(targets[0]["type"], "team");
    assert_eq!(
        actor_ids(&with(json!({"actions": ["doc.deleted"]}))),
        ["u1"]
    );
    assert_eq!(actor_ids(&with(json!({"actor_ids": ["u2"]}))), ["u2"]);
    assert_eq!(actor_ids(&with(json!({"actor_names": ["Bob"]}))), ["u2"]);
    assert_eq!(actor_ids(&with(json!({"actors": ["Ann"]}))), ["u1", "u1"]);
    assert_eq!(actor_ids(&with(json!({"targets": ["doc"]}))), ["u2", "u1"]);
    assert_eq!(
        actor_ids(&with(
            json!({"targets": ["doc"], "actor_ids": ["u1"], "actions": ["doc.deleted"]})
        )),
        ["u1"]
    );
    let wide = with(json!({"range_end": "2026-12-01T00:00:00Z", "actions": ["doc.deleted"]}));
    assert_eq!(wide[1][7], "Cy, \"the\" one");
    assert!(with(json!({"actions": ["nothing"]})).is_empty());
}

#[test]
fn export_requests_are_validated() {
    let s = TestServer::start(&[]);
    let cases = [
        (
            json!({"range_start": "2026-01-01T00:00:00Z", "range_end": "2026-01-02T00:00:00Z"}),
            "organization_id",
        ),
        (
            json!({"organization_id": "o", "range_start": "01/01/2026", "range_end": "2026-01-02T00:00:00Z"}),
            "range_start",
        ),
        (
            json!({"organization_id": "o", "range_start": "2026-01-02T00:00:00Z", "range_end": "2026-01-01T00:00:00Z"}),
            "range_end",
        ),
        (
            json!({"organization_id": "o", "range_start": "2026-01-01T00:00:00Z"}),
            "range_end",
        ),
        (
            json!({"organization_id": "o", "range_start": "2026-01-01T00:00:00Z", "range_end": "2026-01-02T00:00:00Z", "actions": [1]}),
            "actions[0]",
        ),
    ];
    for (body, field) in cases {
        let r = post(&s, "/audit_logs/exports", &body.to_string());
        assert_eq!(r.status, 422, "{body}: {}", r.text);
        assert_eq!(r.json["errors"][0]["field"], field, "{body}");
    }
    let r = get(&s, "/audit_logs/exports/audit_log_export_nope");
    assert_eq!(r.status, 404);
    assert!(r.json["message"]
        .as_str()
        .unwrap()
        .contains("audit_log_export_nope"));
    let r = send(
        "GET",
        &format!("{}/__exports/nope.csv", s.base_url()),
        None,
        &[],
        None,
    )
    .unwrap();
    assert_eq!(r.status, 404);
}

#[test]
fn schemas_version_list_and_enforce() {
    let s = TestServer::start(&[]);
    let path = "/audit_logs/actions/invoice.paid/schemas";
    let v1 = json!({"actor": {"metadata": {"type": "object", "properties": {"role": {"type": "string"}}}},
        "targets": [{"type": "invoice", "metadata": {"type": "object", "properties": {"cents": {"type": "integer"}}, "required": ["cents"]}}],
        "metadata": {"type": "object", "properties": {"method": {"enum": ["card", "wire"]}}}});
    let r = post(&s, path, &v1.to_string());
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.json["object"], "audit_log_schema");
    assert_eq!(r.json["version"], 1);
    assert_eq!(r.json["targets"], v1["targets"]);
    let again = post(&s, path, &v1.to_string());
    assert_eq!(again.status, 200);
    assert_eq!(again.json["version"], 1);
    assert_eq!(again.json["id"], r.json["id"]);

    let event = |meta: Value, target_type: &str, version: Option<i64>| {
        let mut e = json!({"organization_id": "org_1", "event": {"action": "invoice.paid",
            "occurred_at": "2026-05-01T00:00:00Z", "actor": {"id": "u", "type": "user", "metadata": {"role": "admin"}},
            "targets": [{"id": "in_1", "type": target_type, "metadata": {"cents": 100}}],
            "context": {"location": "1.1.1.1"}, "metadata": meta}});
        if let Some(v) = version {
            e["event"]["version"] = json!(v);
        }
        post(&s, "/audit_logs/events", &e.to_string())
    };
    assert_eq!(
        event(json!({"method": "card"}), "invoice", None).status,
        201
    );
    let r = event(json!({"method": "cash"}), "invoice", None);
    assert_eq!(r.status, 400, "{}", r.text);
    assert_eq!(r.json["code"], "invalid_audit_log_event");
    assert_eq!(r.json["errors"][0]["instancePath"], "/metadata/method");
    let r = event(json!({}), "receipt", None);
    assert_eq!(r.status, 400);
    assert_eq!(r.json["errors"][0]["instancePath"], "/targets/0/type");

    // A different schema makes version 2; version 1 still applies to events that name it.
    let mut v2 = v1.clone();
    v2["metadata"] = json!({"type": "object", "properties": {"method": {"enum": ["cash"]}}});
    let r = post(&s, path, &v2.to_string());
    assert_eq!(r.status, 201);
    assert_eq!(r.json["version"], 2);
    assert_eq!(
        event(json!({"method": "cash"}), "invoice", None).status,
        201
    );
    assert_eq!(
        event(json!({"method": "cash"}), "invoice", Some(1)).status,
        400
    );
    assert_eq!(
        event(json!({"method": "card"}), "invoice", Some(1)).status,
        201
    );
    let r = event(json!({}), "invoice", Some(7));
    assert_eq!(r.status, 400);
    assert_eq!(r.json["errors"][0]["instancePath"], "/version");

    // Lists.
    let r = get(&s, &format!("{path}?order=asc"));
    assert_eq!(r.status, 200);
    assert_eq!(r.json["object"], "list");
    let versions: Vec<i64> = r.json["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["version"].as_i64().unwrap())
        .collect();
    assert_eq!(versions, [1, 2]);
    let r = get(&s, "/audit_logs/actions");
    assert_eq!(r.json["data"][0]["object"], "audit_log_action");
    assert_eq!(r.json["data"][0]["name"], "invoice.paid");
    assert_eq!(r.json["data"][0]["schema"]["version"], 2);
    assert_eq!(get(&s, "/audit_logs/actions/nope/schemas").status, 404);

    // Bad schemas.
    for bad in [
        json!({"targets": []}),
        json!({"targets": [{"type": "a"}], "metadata": {"type": 12}}),
        json!({"metadata": {}}),
    ] {
        let r = post(&s, "/audit_logs/actions/a.b/schemas", &bad.to_string());
        assert_eq!(r.status, 422, "{bad}: {}", r.text);
        assert!(r.json["errors"][0]["field"].is_string());
    }
}

#[test]
fn lists_page_with_limit_order_before_after() {
    let s = TestServer::start(&[]);
    for i in 1..=5 {
        let r = post(
            &s,
            &format!("/audit_logs/actions/a.n{i}/schemas"),
            r#"{"targets":[{"type":"t"}]}"#,
        );
        assert_eq!(r.status, 201);
    }
    let names = |r: &Reply| -> Vec<String> {
        r.json["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["name"].as_str().unwrap().to_owned())
            .collect()
    };
    let first = get(&s, "/audit_logs/actions?limit=2");
    assert_eq!(names(&first), ["a.n5", "a.n4"]);
    assert_eq!(
        first.json["list_metadata"],
        json!({"before": null, "after": "a.n4"})
    );
    let second = get(&s, "/audit_logs/actions?limit=2&after=a.n4");
    assert_eq!(names(&second), ["a.n3", "a.n2"]);
    assert_eq!(
        second.json["list_metadata"],
        json!({"before": "a.n3", "after": "a.n2"})
    );
    let back = get(&s, "/audit_logs/actions?limit=2&before=a.n3");
    assert_eq!(names(&back), ["a.n5", "a.n4"]);
    let asc = get(&s, "/audit_logs/actions?order=asc&limit=100");
    assert_eq!(names(&asc), ["a.n1", "a.n2", "a.n3", "a.n4", "a.n5"]);
    assert_eq!(
        asc.json["list_metadata"],
        json!({"before": null, "after": null})
    );
    for bad in [
        "limit=0",
        "limit=101",
        "limit=x",
        "order=sideways",
        "after=zzz",
    ] {
        let r = get(&s, &format!("/audit_logs/actions?{bad}"));
        assert_eq!(r.status, 422, "{bad}");
        assert_eq!(r.json["message"], "Validation failed.");
    }
}

#[test]
fn retention_is_30_or_365() {
    let s = TestServer::start(&[]);
    let path = "/organizations/org_1/audit_logs_retention";
    assert_eq!(get(&s, path).json, json!({"retention_period_in_days": 365}));
    let r = put(&s, path, r#"{"retention_period_in_days": 30}"#);
    assert_eq!(r.status, 200);
    assert_eq!(r.json, json!({"retention_period_in_days": 30}));
    assert_eq!(get(&s, path).json["retention_period_in_days"], 30);
    assert_eq!(
        put(&s, path, r#"{"retention_period": "1_YEAR"}"#).json["retention_period_in_days"],
        365
    );
    let r = put(&s, path, r#"{"retention_period_in_days": 90}"#);
    assert_eq!(r.status, 422);
    assert_eq!(r.json["errors"][0]["field"], "retention_period_in_days");
    assert_eq!(put(&s, path, "not json").status, 400);
}

#[test]
fn test_endpoints_are_refused_without_the_flag_and_reset_clears() {
    let s = TestServer::start(&[]);
    assert_eq!(post(&s, "/audit_logs/events", &sample_event()).status, 201);
    let stats = s.stats();
    assert_eq!(stats["requests"], 1);
    assert_eq!(stats["by_status"]["201"], 1);
    s.reset();
    let stats = s.stats();
    assert_eq!(stats["events_stored"], 0);
    assert_eq!(stats["requests"], 0);

    let out = std::process::Command::new(env!("CARGO_BIN_EXE_auditwire"))
        .args(["serve", "--addr", "127.0.0.1:0", "--fail-rate", "2"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("rate"));
}

#[test]
fn test_endpoints_need_the_flag() {
    // Start without --test-endpoints: TestServer always adds it, so spawn directly.
    use std::io::{BufRead, BufReader};
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_auditwire"))
        .args(["serve", "--addr", "127.0.0.1:0"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let base = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap()
        .to_owned();
    let stats = send("GET", &format!("{base}/__stats"), None, &[], None).unwrap();
    let reset = send("POST", &format!("{base}/__reset"), None, &[], None).unwrap();
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(stats.status, 404);
    assert_eq!(reset.status, 404);
}
