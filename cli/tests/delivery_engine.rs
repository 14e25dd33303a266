//! The delivery engine (`auditwire::Client`) against a real `auditwire serve`.

mod common;

use std::time::{Duration, Instant};

use auditwire::{
    Actor, Backoff, Client, Config, ConfigBuilder, Context, CreateEventError, EmitError,
    EmitOptions, ErrorKind, Event, Outcome, Overflow, QueueLimit, Target, Timestamp,
};
use common::{TestServer, KEY};

const WAIT: Duration = Duration::from_secs(60);

fn event(n: usize) -> Event {
    let mut actor = Actor::new(format!("user_{n}"), "user");
    actor.name = Some(format!("User {n}"));
    Event {
        action: "user.signed_in".into(),
        occurred_at: Timestamp::now(),
        version: None,
        actor,
        targets: vec![Target::new(format!("team_{n}"), "team")],
        context: Context::new("127.0.0.1"),
        metadata: None,
    }
}

fn config(server: &TestServer) -> ConfigBuilder {
    Config::builder()
        .api_key(KEY)
        .base_url(server.base_url())
        .ignore_env(true)
        .timeout(Duration::from_secs(20))
        .backoff(Backoff {
            base: Duration::from_millis(5),
            factor: 2.0,
            cap: Duration::from_millis(100),
        })
}

fn stored(server: &TestServer) -> u64 {
    server.stats()["events_stored"]
        .as_u64()
        .expect("events_stored")
}

#[test]
fn ten_thousand_events_are_each_stored_exactly_once() {
    let server = TestServer::start(&[]);
    let client = Client::new(config(&server).workers(8).build().unwrap());
    let t0 = Instant::now();
    let receipts: Vec<_> = (0..10_000)
        .map(|i| {
            client
                .emit("org_bulk", &event(i), EmitOptions::default())
                .unwrap()
        })
        .collect();
    assert_eq!(client.flush(WAIT), 0, "flush left events behind");
    let took = t0.elapsed();
    let s = client.stats();
    assert_eq!(
        (s.accepted, s.delivered, s.rejected, s.expired),
        (10_000, 10_000, 0, 0)
    );
    assert!(receipts
        .iter()
        .all(|r| r.outcome().is_some_and(|o| o.is_delivered())));
    assert_eq!(stored(&server), 10_000);
    assert_eq!(server.stats()["duplicates_replayed"], 0);
    eprintln!("10,000 events delivered in {took:?}");
}

#[test]
fn faults_are_retried_until_every_event_is_stored_once() {
    let server = TestServer::start(&[
        "--fail-rate",
        "0.3",
        "--fail-with",
        "500,503,429,reset,timeout",
        "--retry-after",
        "0",
        "--hold-ms",
        "400",
        "--seed",
        "7",
    ]);
    let client = Client::new(
        config(&server)
            .workers(16)
            .timeout(Duration::from_millis(250))
            .build()
            .unwrap(),
    );
    let n = 2_000;
    let receipts: Vec<_> = (0..n)
        .map(|i| {
            client
                .emit("org_faults", &event(i), EmitOptions::default())
                .unwrap()
        })
        .collect();
    assert_eq!(client.flush(WAIT), 0, "{:?}", client.stats());
    let s = client.stats();
    assert_eq!(
        (s.delivered, s.rejected, s.expired),
        (n as u64, 0, 0),
        "{s:?}"
    );
    assert!(s.retried > 0, "no fault was injected: {s:?}");
    let stats = server.stats();
    assert!(stats["faults_injected"].as_u64().unwrap() > 0, "{stats}");
    // Distinct idempotency keys stored = events emitted: retries never duplicated one.
    assert_eq!(stats["events_stored"].as_u64(), Some(n as u64), "{stats}");
    let keys: std::collections::HashSet<_> = receipts
        .iter()
        .map(|r| r.idempotency_key().to_owned())
        .collect();
    assert_eq!(keys.len(), n);
}

#[test]
fn final_statuses_end_as_rejected_with_the_servers_body() {
    for (status, kind) in [
        ("400", ErrorKind::BadRequest),
        ("401", ErrorKind::Authentication),
        ("422", ErrorKind::UnprocessableEntity),
    ] {
        let server = TestServer::start(&["--fail-rate", "1", "--fail-with", status]);
        let client = Client::new(config(&server).build().unwrap());
        let err = client
            .create_event("org_1", &event(1), EmitOptions::default())
            .unwrap_err();
        let CreateEventError::Api(api) = &err else {
            panic!("{status}: {err}")
        };
        assert_eq!(api.kind, kind, "{err}");
        assert_eq!(api.status, Some(status.parse().unwrap()));
        assert!(
            !api.message.is_empty() && !api.message.starts_with("HTTP "),
            "{err}"
        );
        assert!(api.request_id.is_some(), "no request id: {err}");
        assert_eq!(
            server.stats()["requests"],
            1,
            "{status} must not be retried"
        );
        assert_eq!(client.stats().rejected, 1);
    }
    // A real 401: the server only accepts another key.
    let server = TestServer::start(&["--api-key", "sk_other"]);
    let client = Client::new(config(&server).build().unwrap());
    let o = client
        .emit("org_1", &event(1), EmitOptions::default())
        .unwrap()
        .wait(WAIT)
        .unwrap();
    let Outcome::Rejected { error, attempts: 1 } = &o else {
        panic!("{o:?}")
    };
    assert_eq!(
        (error.kind, error.status),
        (ErrorKind::Authentication, Some(401))
    );
    assert!(!format!("{o} {o:?}").contains(KEY));
    assert_eq!(stored(&server), 0);
}

#[test]
fn retry_after_is_honoured() {
    let server = TestServer::start(&[
        "--fail-rate",
        "0.5",
        "--fail-with",
        "429",
        "--retry-after",
        "1",
        "--seed",
        "3",
    ]);
    let client = Client::new(config(&server).workers(1).build().unwrap());
    let mut checked = 0;
    for i in 0..40 {
        let t0 = Instant::now();
        let o = client
            .create_event("org_1", &event(i), EmitOptions::default())
            .unwrap();
        let waited = t0.elapsed();
        let retries = o.attempts() - 1;
        if retries > 0 {
            // Each 429 carried Retry-After: 1, a floor on the next attempt.
            assert!(
                waited >= Duration::from_secs(retries as u64),
                "{waited:?} for {o:?}"
            );
            checked += 1;
            if checked == 2 {
                break;
            }
        }
    }
    assert!(checked > 0, "the server never answered 429");
}

#[test]
fn the_retry_budget_ends_in_expired() {
    let server = TestServer::start(&[
        "--fail-rate",
        "1",
        "--fail-with",
        "503",
        "--retry-after",
        "0",
    ]);
    let client = Client::new(config(&server).max_retries(3).build().unwrap());
    let o = client
        .emit("org_1", &event(1), EmitOptions::default())
        .unwrap()
        .wait(WAIT)
        .unwrap();
    let Outcome::Expired {
        last_error,
        attempts,
    } = &o
    else {
        panic!("{o:?}")
    };
    assert_eq!((*attempts, last_error.status), (4, Some(503)));
    let client = Client::new(
        config(&server)
            .retry_window(Duration::from_millis(500))
            .build()
            .unwrap(),
    );
    let t0 = Instant::now();
    let err = client
        .create_event("org_1", &event(2), EmitOptions::default())
        .unwrap_err();
    assert!(matches!(err, CreateEventError::Expired { .. }), "{err}");
    assert!(
        t0.elapsed() >= Duration::from_millis(400),
        "{:?}",
        t0.elapsed()
    );
    assert_eq!(client.stats().expired, 1);
    assert_eq!(stored(&server), 0);
}

#[test]
fn flush_and_shutdown_keep_their_deadlines_while_the_server_hangs() {
    let server = TestServer::start(&["--latency-ms", "20000"]);
    let client = Client::new(
        config(&server)
            .workers(2)
            .shutdown_timeout(Duration::from_millis(500))
            .build()
            .unwrap(),
    );
    for i in 0..10 {
        client
            .emit("org_1", &event(i), EmitOptions::default())
            .unwrap();
    }
    let t0 = Instant::now();
    assert_eq!(client.flush(Duration::from_millis(500)), 10);
    let took = t0.elapsed();
    assert!(
        took >= Duration::from_millis(500) && took < Duration::from_secs(10),
        "{took:?}"
    );
    let t0 = Instant::now();
    assert_eq!(client.shutdown(Duration::from_millis(500)), 10);
    let took = t0.elapsed();
    assert!(
        took >= Duration::from_millis(500) && took < Duration::from_secs(10),
        "{took:?}"
    );
    assert_eq!(
        client
            .emit("org_1", &event(1), EmitOptions::default())
            .unwrap_err(),
        EmitError::Closed
    );
    let s = client.stats();
    // Two were sent without an answer (in doubt); eight never left the queue (lost).
    assert_eq!(
        (s.lost, s.in_doubt, s.refused_closed, s.queued, s.in_flight),
        (8, 2, 1, 0, 0),
        "{s:?}"
    );
    // Drop shuts down within shutdown_timeout too.
    let client = Client::new(
        config(&server)
            .shutdown_timeout(Duration::from_millis(300))
            .build()
            .unwrap(),
    );
    client
        .emit("org_1", &event(1), EmitOptions::default())
        .unwrap();
    let t0 = Instant::now();
    drop(client);
    assert!(t0.elapsed() < Duration::from_secs(10), "{:?}", t0.elapsed());
}

#[test]
fn queue_full_under_reject_and_block() {
    let slow = TestServer::start(&["--latency-ms", "20000"]);
    let client = Client::new(
        config(&slow)
            .workers(1)
            .queue_capacity(4)
            .shutdown_timeout(Duration::ZERO)
            .build()
            .unwrap(),
    );
    for i in 0..4 {
        client
            .emit("org_1", &event(i), EmitOptions::default())
            .unwrap();
    }
    let err = client
        .emit("org_1", &event(5), EmitOptions::default())
        .unwrap_err();
    assert!(
        matches!(
            err,
            EmitError::QueueFull {
                limit: QueueLimit::Events(4),
                ..
            }
        ),
        "{err}"
    );
    let client = Client::new(
        config(&slow)
            .workers(1)
            .queue_capacity(1)
            .overflow(Overflow::Block(Duration::from_millis(300)))
            .shutdown_timeout(Duration::ZERO)
            .build()
            .unwrap(),
    );
    client
        .emit("org_1", &event(1), EmitOptions::default())
        .unwrap();
    let t0 = Instant::now();
    let err = client
        .emit("org_1", &event(2), EmitOptions::default())
        .unwrap_err();
    assert!(
        t0.elapsed() >= Duration::from_millis(300),
        "{:?}",
        t0.elapsed()
    );
    assert!(matches!(err, EmitError::QueueFull { .. }), "{err}");
    assert_eq!(client.stats().refused_queue_full, 1);
    // With a live server, blocking emitters all get in and everything is delivered.
    let server = TestServer::start(&[]);
    let client = Client::new(
        config(&server)
            .workers(2)
            .queue_capacity(3)
            .overflow(Overflow::Block(Duration::from_secs(30)))
            .build()
            .unwrap(),
    );
    for i in 0..300 {
        client
            .emit("org_1", &event(i), EmitOptions::default())
            .unwrap();
    }
    assert_eq!(client.flush(WAIT), 0);
    assert_eq!(stored(&server), 300);
}

#[test]
fn management_calls_are_typed() {
    use auditwire::{CreateSchemaRequest, ExportState, ListOptions, SchemaTarget};
    let server = TestServer::start(&["--export-delay-ms", "0"]);
    let client = Client::new(config(&server).build().unwrap());
    let schema = CreateSchemaRequest {
        actor: None,
        targets: vec![SchemaTarget {
            kind: "invoice".into(),
            metadata: None,
        }],
        metadata: None,
    };
    let created = client.create_schema("invoice.paid", &schema).unwrap();
    assert_eq!(created.version, 1);
    assert_eq!(created.targets[0].kind, "invoice");
    let actions = client.list_actions(&ListOptions::default()).unwrap();
    assert!(
        actions.data.iter().any(|a| a.name == "invoice.paid"),
        "{actions:?}"
    );
    let schemas = client
        .list_schemas("invoice.paid", &ListOptions::default())
        .unwrap();
    assert_eq!(schemas.data.len(), 1);
    let set = client.set_retention("org_1", 365).unwrap();
    assert_eq!(set.retention_period_in_days, 365);
    assert_eq!(
        client
            .get_retention("org_1")
            .unwrap()
            .retention_period_in_days,
        365
    );
    let bad = client.set_retention("org_1", 7).unwrap_err();
    assert!(matches!(bad.status, Some(400) | Some(422)), "{bad}");
    client
        .create_event("org_1", &event(1), EmitOptions::default())
        .unwrap();
    let now = Timestamp::now().unix_millis();
    let request = auditwire::CreateExportRequest::new(
        "org_1",
        Timestamp::from_unix_millis(now - 3_600_000).unwrap(),
        Timestamp::from_unix_millis(now + 60_000).unwrap(),
    );
    let mut export = client.create_export(&request).unwrap();
    assert!(export.id.starts_with("audit_log_export_"), "{export:?}");
    let deadline = Instant::now() + Duration::from_secs(20);
    while export.state == ExportState::Pending && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
        export = client.get_export(&export.id).unwrap();
    }
    assert_eq!(export.state, ExportState::Ready);
    let csv = client.download_export(&export).unwrap();
    assert_eq!(common::parse_csv(&String::from_utf8(csv).unwrap()).len(), 2);
    let missing = client.get_export("audit_log_export_missing").unwrap_err();
    assert_eq!(missing.kind, ErrorKind::NotFound);
    assert!(missing.request_id.is_some());
}
