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
    // The three that never left the queue are settled as Shutdown.
    let shut = receipts
        .iter()
        .filter(|r| matches!(r.outcome(), Some(Outcome::Shutdown { .. })))
        .count();
    assert_eq!(shut, 3);
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
