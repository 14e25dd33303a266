//! The delivery engine against tiny in-test HTTP responders (no `auditwire serve` needed).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use auditwire::{
    Actor, Backoff, Client, Config, ConfigBuilder, Context, CreateEventError, EmitError,
    EmitOptions, ErrorKind, Event, LegacyEndpoint, LegacyEvent, Outcome, Overflow, QueueLimit,
    Target, Timestamp,
};

const KEY: &str = "sk_test_engine_secret";

/// A request as the responder saw it.
#[derive(Clone, Debug)]
struct Seen {
    path: String,
    head: String,
}

/// Serves HTTP/1.1 keep-alive; `reply(n)` answers the n-th request (0-based), `None` hangs.
struct Responder {
    url: String,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl Responder {
    fn start(reply: impl Fn(usize) -> Option<String> + Send + Sync + 'static) -> Responder {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let seen = Arc::new(Mutex::new(Vec::new()));
        let reply = Arc::new(reply);
        let count = Arc::new(AtomicUsize::new(0));
        let seen2 = seen.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { return };
                let (reply, count, seen) = (reply.clone(), count.clone(), seen2.clone());
                std::thread::spawn(move || serve(stream, &*reply, &count, &seen));
            }
        });
        Responder { url, seen }
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

fn serve(
    stream: TcpStream,
    reply: &(dyn Fn(usize) -> Option<String> + Send + Sync),
    count: &AtomicUsize,
    seen: &Mutex<Vec<Seen>>,
) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut out = stream;
    loop {
        let mut head = String::new();
        let mut len = 0usize;
        loop {
            let mut line = String::new();
            match reader.read_line(&mut line) {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
            if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                len = v.trim().parse().unwrap_or(0);
            }
            head.push_str(&line);
            if line == "\r\n" {
                break;
            }
        }
        let mut body = vec![0; len];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        let path = head.split(' ').nth(1).unwrap_or("").to_owned();
        seen.lock().unwrap().push(Seen { path, head });
        let n = count.fetch_add(1, Ordering::SeqCst);
        match reply(n) {
            Some(r) => {
                if out.write_all(r.as_bytes()).is_err() {
                    return;
                }
            }
            None => {
                // Hang: hold the connection without answering.
                std::thread::sleep(Duration::from_secs(30));
                return;
            }
        }
    }
}

fn response(status: u16, extra: &str, body: &str) -> String {
    format!(
        "HTTP/1.1 {status} X\r\nContent-Length: {}\r\nContent-Type: application/json\r\n{extra}\r\n{body}",
        body.len()
    )
}

fn created() -> Option<String> {
    Some(response(
        201,
        "X-Request-Id: req_ok\r\n",
        "{\"success\":true}",
    ))
}

fn event(n: usize) -> Event {
    Event {
        action: "user.signed_in".into(),
        occurred_at: Timestamp::parse("2026-02-02T16:35:39.317Z").unwrap(),
        version: None,
        actor: Actor::new(format!("user_{n}"), "user"),
        targets: vec![Target::new("team_1", "team")],
        context: Context::new("1.2.3.4"),
        metadata: None,
    }
}

fn config(url: &str) -> ConfigBuilder {
    Config::builder()
        .api_key(KEY)
        .base_url(url)
        .ignore_env(true)
        .timeout(Duration::from_secs(20))
        .backoff(Backoff {
            base: Duration::from_millis(10),
            factor: 2.0,
            cap: Duration::from_millis(50),
        })
}

fn client(b: ConfigBuilder) -> Client {
    Client::new(b.build().unwrap())
}

const WAIT: Duration = Duration::from_secs(20);

#[test]
fn delivers_with_headers_and_one_key_across_retries() {
    let r = Responder::start(|n| match n {
        0 => Some(response(503, "", "{\"message\":\"busy\"}")),
        1 => Some(response(500, "", "")),
        _ => created(),
    });
    let c = client(config(&r.url).workers(1).user_agent_suffix("engine-test"));
    let receipt = c
        .emit("org_1", &event(1), EmitOptions::with_key("my-key-1"))
        .unwrap();
    let outcome = receipt.wait(WAIT).expect("an outcome");
    assert_eq!(
        outcome,
        Outcome::Delivered {
            status: 201,
            request_id: Some("req_ok".into()),
            attempts: 3
        }
    );
    let seen = r.seen();
    assert_eq!(seen.len(), 3);
    for s in &seen {
        let head = s.head.to_ascii_lowercase();
        assert_eq!(s.path, "/audit_logs/events");
        assert!(head.contains("idempotency-key: my-key-1"), "{head}");
        assert!(head.contains(&format!(
            "authorization: bearer {}",
            KEY.to_ascii_lowercase()
        )));
        assert!(head.contains("user-agent: auditwire/") && head.contains("engine-test"));
    }
    let s = c.stats();
    assert_eq!(
        (s.accepted, s.delivered, s.retried, s.queued, s.in_flight),
        (1, 1, 2, 0, 0)
    );
}

#[test]
fn invalid_events_are_refused_on_the_callers_thread() {
    let r = Responder::start(|_| created());
    let c = client(config(&r.url));
    let mut e = event(1);
    e.actor.id.clear();
    let err = c
        .emit("", &e, EmitOptions::with_key("bad key"))
        .unwrap_err();
    let EmitError::Invalid(v) = &err else {
        panic!("{err}")
    };
    let paths: Vec<_> = v.problems().iter().map(|p| p.path.as_str()).collect();
    assert_eq!(
        paths,
        ["organization_id", "event.actor.id", "idempotency_key"]
    );
    assert!(c
        .emit_json(b"{\"organization_id\":\"o\"}", EmitOptions::default())
        .is_err());
    let err = c
        .emit_legacy_json(b"{\"group\":\"g\"", EmitOptions::default())
        .unwrap_err();
    assert!(err.to_string().contains("invalid JSON"), "{err}");
    let built = auditwire::ValidationError::single(auditwire::Problem::new(
        "event.actor",
        auditwire::Rule::Required,
        "required",
    ));
    assert!(matches!(
        c.refuse_invalid(built),
        EmitError::Invalid(ref v) if v.problems()[0].path == "event.actor"
    ));
    assert_eq!(c.stats().refused_invalid, 4);
    assert_eq!(c.stats().accepted, 0);
    assert_eq!(c.flush(WAIT), 0);
    assert!(r.seen().is_empty());
}

#[test]
fn rejections_carry_the_servers_error_and_call_back_once() {
    let r = Responder::start(|_| {
        Some(response(
            400,
            "x-request-id: req_bad\r\n",
            r#"{"message":"Invalid Audit Log event.","code":"invalid_audit_log_event","errors":[{"instancePath":"/targets"}]}"#,
        ))
    });
    let calls = Arc::new(Mutex::new(Vec::new()));
    let calls2 = calls.clone();
    let c = client(config(&r.url).on_outcome(move |rep| {
        calls2
            .lock()
            .unwrap()
            .push((rep.idempotency_key.to_owned(), rep.outcome.name()));
    }));
    let err = c
        .create_event("org_1", &event(1), EmitOptions::with_key("k1"))
        .unwrap_err();
    let CreateEventError::Api(api) = &err else {
        panic!("{err}")
    };
    assert_eq!(api.kind, ErrorKind::BadRequest);
    assert_eq!(api.status, Some(400));
    assert_eq!(api.code.as_deref(), Some("invalid_audit_log_event"));
    assert_eq!(api.request_id.as_deref(), Some("req_bad"));
    assert_eq!(api.errors.as_ref().unwrap()[0]["instancePath"], "/targets");
    assert!(!format!("{err} {err:?}").contains(KEY));
    assert_eq!(r.seen().len(), 1, "a 400 is final");
    assert_eq!(*calls.lock().unwrap(), [("k1".to_owned(), "rejected")]);
    assert_eq!(c.stats().rejected, 1);
}

#[test]
fn retry_budget_ends_in_expired() {
    let r = Responder::start(|_| Some(response(503, "", "{\"message\":\"down\"}")));
    let c = client(config(&r.url).max_retries(2));
    let o = c
        .emit("org_1", &event(1), EmitOptions::default())
        .unwrap()
        .wait(WAIT)
        .unwrap();
    match &o {
        Outcome::Expired {
            last_error,
            attempts,
        } => {
            assert_eq!((*attempts, last_error.status), (3, Some(503)));
            assert_eq!(last_error.message, "down");
        }
        other => panic!("{other:?}"),
    }
    let c = client(config(&r.url).retry_window(Duration::from_millis(300)));
    let t0 = Instant::now();
    let o = c
        .emit("org_1", &event(1), EmitOptions::default())
        .unwrap()
        .wait(WAIT)
        .unwrap();
    assert!(
        matches!(o, Outcome::Expired { attempts, .. } if attempts >= 2),
        "{o:?}"
    );
    assert!(
        t0.elapsed() >= Duration::from_millis(200),
        "{:?}",
        t0.elapsed()
    );
    assert_eq!(c.stats().expired, 1);
}

#[test]
fn retry_after_pauses_the_whole_client() {
    let r = Responder::start(|n| match n {
        0 => Some(response(
            429,
            "Retry-After: 1\r\n",
            "{\"message\":\"Too many requests.\"}",
        )),
        _ => created(),
    });
    let c = client(config(&r.url).workers(1));
    let t0 = Instant::now();
    let first = c.emit("org_1", &event(1), EmitOptions::default()).unwrap();
    // Let the 429 arrive, then queue a second event: it must wait for the pause too.
    while r.seen().is_empty() {
        std::thread::sleep(Duration::from_millis(5));
    }
    std::thread::sleep(Duration::from_millis(50));
    let second = c.emit("org_1", &event(2), EmitOptions::default()).unwrap();
    assert!(second.wait(WAIT).unwrap().is_delivered());
    assert!(t0.elapsed() >= Duration::from_secs(1), "{:?}", t0.elapsed());
    assert_eq!(first.wait(WAIT).unwrap().attempts(), 2);
}

#[test]
fn queue_full_under_each_policy() {
    let r = Responder::start(|_| None);
    let c = client(
        config(&r.url)
            .workers(1)
            .queue_capacity(3)
            .shutdown_timeout(Duration::ZERO),
    );
    for i in 0..3 {
        c.emit("org_1", &event(i), EmitOptions::default()).unwrap();
    }
    let e = c
        .emit("org_1", &event(9), EmitOptions::default())
        .unwrap_err();
    assert!(
        matches!(
            e,
            EmitError::QueueFull {
                limit: QueueLimit::Events(3),
                ..
            }
        ),
        "{e}"
    );
    assert!(e.to_string().contains("queue_capacity of 3"));
    assert_eq!(c.stats().refused_queue_full, 1);
    let c = client(
        config(&r.url)
            .workers(1)
            .queue_capacity(2)
            .overflow(Overflow::Block(Duration::from_millis(200)))
            .shutdown_timeout(Duration::ZERO),
    );
    c.emit("org_1", &event(1), EmitOptions::default()).unwrap();
    c.emit("org_1", &event(2), EmitOptions::default()).unwrap();
    let t0 = Instant::now();
    let e = c
        .emit("org_1", &event(3), EmitOptions::default())
        .unwrap_err();
    assert!(t0.elapsed() >= Duration::from_millis(200));
    assert!(
        matches!(e, EmitError::QueueFull { waited, .. } if waited >= Duration::from_millis(200))
    );
    // Blocking succeeds when the workers make room.
    let ok = Responder::start(|_| created());
    let c = client(
        config(&ok.url)
            .workers(2)
            .queue_capacity(2)
            .overflow(Overflow::Block(Duration::from_secs(20))),
    );
    for i in 0..50 {
        c.emit("org_1", &event(i), EmitOptions::default()).unwrap();
    }
    assert_eq!(c.flush(WAIT), 0);
    assert_eq!(c.stats().delivered, 50);
}

#[test]
fn flush_shutdown_and_drop_are_bounded_while_the_server_hangs() {
    let r = Responder::start(|_| None);
    let c = client(
        config(&r.url)
            .workers(2)
            .shutdown_timeout(Duration::from_millis(300)),
    );
    let receipts: Vec<_> = (0..5)
        .map(|i| c.emit("org_1", &event(i), EmitOptions::default()).unwrap())
        .collect();
    let t0 = Instant::now();
    assert_eq!(c.flush(Duration::from_millis(300)), 5);
    let took = t0.elapsed();
    assert!(
        took >= Duration::from_millis(300) && took < Duration::from_secs(5),
        "{took:?}"
    );
    let t0 = Instant::now();
    assert_eq!(c.shutdown(Duration::from_millis(300)), 5);
    let took = t0.elapsed();
    assert!(
        took >= Duration::from_millis(300) && took < Duration::from_secs(5),
        "{took:?}"
    );
    assert_eq!(
        c.emit("org_1", &event(1), EmitOptions::default())
            .unwrap_err(),
        EmitError::Closed
    );
    assert_eq!(c.stats().refused_closed, 1);
    // The three that never left the queue are lost; the two sent without an answer are in
    // doubt, each with its key.
    let named = |name: &str| {
        receipts
            .iter()
            .filter(|r| r.outcome().is_some_and(|o| o.name() == name))
            .count()
    };
    assert_eq!((named("lost"), named("in_doubt")), (3, 2));
    for r in &receipts {
        if let Some(Outcome::InDoubt {
            idempotency_key, ..
        }) = r.outcome()
        {
            assert_eq!(idempotency_key, r.idempotency_key());
        }
    }
    let s = c.stats();
    assert_eq!((s.lost, s.in_doubt, s.queued, s.in_flight), (3, 2, 0, 0));
    let c = client(
        config(&r.url)
            .workers(2)
            .shutdown_timeout(Duration::from_millis(300)),
    );
    for i in 0..5 {
        c.emit("org_1", &event(i), EmitOptions::default()).unwrap();
    }
    let t0 = Instant::now();
    drop(c);
    assert!(t0.elapsed() < Duration::from_secs(5), "{:?}", t0.elapsed());
}

#[test]
fn legacy_events_go_to_the_chosen_endpoint() {
    let legacy = LegacyEvent::from_json(
        br#"{"group":"org_1","action":"user.login","action_type":"C","actor_name":"a","actor_id":"u1",
            "target_name":"t","target_id":"t1","location":"1.1.1.1","occurred_at":"2019-05-01T01:15:55.619Z"}"#,
    )
    .unwrap();
    let r = Responder::start(|_| created());
    let c = client(config(&r.url));
    assert!(c
        .create_legacy_event(&legacy, EmitOptions::default())
        .is_ok());
    let c = client(config(&r.url).legacy_endpoint(LegacyEndpoint::V1));
    assert!(c
        .create_legacy_event(&legacy, EmitOptions::default())
        .is_ok());
    let paths: Vec<_> = r.seen().into_iter().map(|s| s.path).collect();
    assert_eq!(paths, ["/audit_logs/events", "/events"]);
}

#[test]
fn the_key_never_shows_and_creation_does_no_io() {
    // Nothing listens on this port: a client is still created, and Debug hides the key.
    let c = client(
        config("http://127.0.0.1:9")
            .workers(1)
            .shutdown_timeout(Duration::ZERO),
    );
    let text = format!("{c:?}");
    assert!(!text.contains(KEY) && text.contains("redacted"), "{text}");
    assert_eq!(c.stats().accepted, 0);
    assert_eq!(c.pid(), std::process::id());
}

/// Every `stats()` snapshot balances: each accepted event is in exactly one place.
fn assert_balanced(s: &auditwire::Stats) {
    assert_eq!(
        s.accepted + s.adopted,
        s.delivered
            + s.rejected
            + s.expired
            + s.in_doubt
            + s.lost
            + s.spooled
            + s.queued
            + s.in_flight,
        "{s:?}"
    );
}

/// (idempotency key, outcome name) of each `on_outcome` call.
type Calls = Arc<Mutex<Vec<(String, &'static str)>>>;

fn recording(b: ConfigBuilder) -> (ConfigBuilder, Calls) {
    let calls: Calls = Arc::default();
    let c2 = calls.clone();
    let b = b.on_outcome(move |rep| {
        c2.lock()
            .unwrap()
            .push((rep.idempotency_key.to_owned(), rep.outcome.name()));
    });
    (b, calls)
}

#[test]
fn no_callback_and_no_receipt_change_after_shutdown_returns() {
    // Answers come 1.5 s after each request: well after the shutdown deadline.
    let r = Responder::start(|_| {
        std::thread::sleep(Duration::from_millis(1500));
        created()
    });
    let (b, calls) = recording(
        config(&r.url)
            .workers(4)
            .shutdown_timeout(Duration::from_millis(200)),
    );
    let c = client(b);
    let receipts: Vec<_> = (0..4)
        .map(|i| c.emit("org_1", &event(i), EmitOptions::default()).unwrap())
        .collect();
    std::thread::sleep(Duration::from_millis(300));
    let report = c.shutdown_report(Duration::from_millis(200));
    assert_eq!(
        (
            report.in_doubt,
            report.lost,
            report.spooled,
            report.remaining
        ),
        (4, 0, 0, 4)
    );
    let at_return = calls.lock().unwrap().clone();
    let stats = c.stats();
    assert_balanced(&stats);
    assert_eq!((stats.in_doubt, stats.delivered), (4, 0), "{stats:?}");
    let outcomes: Vec<_> = receipts.iter().map(|r| r.outcome()).collect();
    for (r, o) in receipts.iter().zip(&outcomes) {
        match o {
            Some(Outcome::InDoubt {
                idempotency_key, ..
            }) => assert_eq!(idempotency_key, r.idempotency_key()),
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(at_return.len(), 4);
    assert!(at_return.iter().all(|(_, name)| *name == "in_doubt"));
    // The late answers arrive now: nothing may change.
    std::thread::sleep(Duration::from_millis(1800));
    assert_eq!(*calls.lock().unwrap(), at_return);
    assert_eq!(c.stats(), stats);
    let later: Vec<_> = receipts.iter().map(|r| r.outcome()).collect();
    assert_eq!(later, outcomes);
    drop(c);
    assert_eq!(*calls.lock().unwrap(), at_return);
}

#[test]
fn blocking_call_cut_by_shutdown_says_in_doubt() {
    let r = Responder::start(|_| None);
    let c = Arc::new(client(config(&r.url).workers(1)));
    let c2 = c.clone();
    let t = std::thread::spawn(move || {
        c2.create_event("org_1", &event(1), EmitOptions::with_key("k-doubt"))
    });
    std::thread::sleep(Duration::from_millis(200));
    c.shutdown(Duration::from_millis(100));
    let err = t.join().unwrap().unwrap_err();
    assert!(
        matches!(&err, CreateEventError::Shutdown(Outcome::InDoubt { idempotency_key, .. }) if idempotency_key == "k-doubt"),
        "{err:?}"
    );
    assert!(err.to_string().contains("k-doubt"), "{err}");
}

mod invariant {
    use super::*;
    use proptest::prelude::*;

    #[derive(Clone, Debug)]
    enum Op {
        Emit(usize),
        Flush(u64),
        Stats,
        Sleep(u64),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            (1usize..12).prop_map(Op::Emit),
            (0u64..80).prop_map(Op::Flush),
            Just(Op::Stats),
            (0u64..60).prop_map(Op::Sleep),
        ]
    }

    /// A server that is slow, fails, or hangs, by a pattern fixed per case.
    fn answer(n: usize, seed: u64) -> Option<String> {
        match (n as u64).wrapping_mul(seed | 1).wrapping_add(seed >> 3) % 7 {
            0 | 1 => created(),
            2 => {
                std::thread::sleep(Duration::from_millis(40));
                created()
            }
            3 => Some(response(500, "", "{\"message\":\"boom\"}")),
            4 => Some(response(400, "", "{\"message\":\"bad\"}")),
            5 => {
                std::thread::sleep(Duration::from_millis(150));
                Some(response(503, "", ""))
            }
            _ => None,
        }
    }

    fn spool_dir(tag: u64) -> std::path::PathBuf {
        use std::os::unix::fs::DirBuilderExt;
        let dir = std::env::temp_dir().join(format!(
            "auditwire-invariant-{}-{tag}-{:?}",
            std::process::id(),
            Instant::now()
        ));
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&dir)
            .unwrap();
        dir
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 16, ..ProptestConfig::default() })]
        #[test]
        fn every_stats_snapshot_balances(
            ops in proptest::collection::vec(op(), 1..10),
            seed in any::<u64>(),
            durable in any::<bool>(),
            deadline in 0u64..150,
        ) {
            let r = Responder::start(move |n| answer(n, seed));
            let dir = durable.then(|| spool_dir(seed));
            let mut b = config(&r.url)
                .workers(3)
                .timeout(Duration::from_secs(2))
                .max_retries(2);
            if let Some(d) = &dir {
                b = b.spool_dir(d);
            }
            let (b, calls) = recording(b);
            let c = Client::try_new(b.build().unwrap()).unwrap();
            let mut receipts = Vec::new();
            for op in ops {
                match op {
                    Op::Emit(n) => {
                        for i in 0..n {
                            receipts.push(c.emit("org_1", &event(i), EmitOptions::default()).unwrap());
                        }
                    }
                    Op::Flush(ms) => {
                        c.flush(Duration::from_millis(ms));
                    }
                    Op::Sleep(ms) => std::thread::sleep(Duration::from_millis(ms)),
                    Op::Stats => {}
                }
                assert_balanced(&c.stats());
            }
            let report = c.shutdown_report(Duration::from_millis(deadline));
            let s = c.stats();
            assert_balanced(&s);
            prop_assert_eq!((s.queued, s.in_flight), (0, 0));
            prop_assert_eq!(report.remaining as u64, s.in_doubt + s.lost + s.spooled);
            if durable {
                prop_assert_eq!(s.lost, 0);
            } else {
                prop_assert_eq!(s.spooled, 0);
            }
            // Each accepted event: one receipt outcome, one callback, by the time shutdown returns.
            let calls = calls.lock().unwrap().clone();
            prop_assert_eq!(calls.len(), receipts.len());
            let mut keys: Vec<_> = calls.iter().map(|(k, _)| k.clone()).collect();
            keys.sort();
            keys.dedup();
            prop_assert_eq!(keys.len(), receipts.len());
            for r in &receipts {
                let o = r.outcome();
                prop_assert!(o.is_some(), "a receipt without an outcome");
                let name = o.unwrap().name();
                let called = calls.iter().find(|(k, _)| k == r.idempotency_key()).map(|(_, n)| *n);
                prop_assert_eq!(called, Some(name));
            }
            drop(c);
            if let Some(d) = dir {
                let _ = std::fs::remove_dir_all(d);
            }
        }
    }
}
