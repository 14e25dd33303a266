//! Exports against a large store: filter lists within SQLite's limits, and a build that does
//! not stall the requests served meanwhile.

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::*;
use serde_json::json;

const ORG: &str = "org_load";

fn export_request(actions: Vec<String>) -> String {
    json!({
        "organization_id": ORG,
        "range_start": "2026-01-01T00:00:00Z",
        "range_end": "2026-12-31T00:00:00Z",
        "actions": actions,
    })
    .to_string()
}

#[test]
fn more_filter_values_than_allowed_is_a_422_naming_the_field_and_limit() {
    let s = TestServer::start(&[]);
    let many: Vec<String> = (0..40_000).map(|i| format!("user.action_{i}")).collect();
    let r = post(&s, "/audit_logs/exports", &export_request(many));
    assert_eq!(r.status, 422, "{}", &r.text[..r.text.len().min(500)]);
    let errors = r.json["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{}", r.text);
    assert_eq!(errors[0]["field"], "actions");
    assert_eq!(errors[0]["code"], "too_many_values");
    let message = errors[0]["message"].as_str().unwrap();
    assert!(
        message.contains("1000") && message.contains("40000"),
        "{message}"
    );
    // The limit itself is fine, and nothing reached the log.
    let limit: Vec<String> = (0..1_000).map(|i| format!("user.action_{i}")).collect();
    let r = post(&s, "/audit_logs/exports", &export_request(limit));
    assert_eq!(r.status, 201, "{}", r.text);
    let id = r.json["id"].as_str().unwrap().to_owned();
    let deadline = Instant::now() + Duration::from_secs(10);
    while get(&s, &format!("/audit_logs/exports/{id}")).json["state"] == "pending" {
        assert!(Instant::now() < deadline, "export never finished");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(
        get(&s, &format!("/audit_logs/exports/{id}")).json["state"],
        "ready"
    );
    assert!(s.stderr().is_empty(), "{}", s.stderr());
}

/// Writes `n` events of `ORG` straight into a database file the server created.
fn seed(db: &Path, n: usize) {
    let mut conn = rusqlite::Connection::open(db).unwrap();
    let tx = conn.transaction().unwrap();
    {
        let mut event = tx
            .prepare(
                "INSERT INTO events (id, organization_id, action, occurred_at_ms, actor_id,
                     actor_name, body, source, received_at_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'current', ?4)",
            )
            .unwrap();
        let mut target = tx
            .prepare("INSERT INTO event_targets (event_seq, type) VALUES (?1, 'team')")
            .unwrap();
        // 2026-03-01T00:00:00Z, one event a second.
        let start_ms: i64 = 1_772_323_200_000;
        for i in 0..n {
            let at = start_ms + i as i64 * 1000;
            let body: serde_json::Value = serde_json::from_str(&event_body(
                ORG,
                "user.signed_in",
                (&format!("user_{i}"), &format!("User {i}")),
                "team",
                "2026-03-01T00:00:00.000Z",
            ))
            .unwrap();
            event
                .execute(rusqlite::params![
                    format!("audit_log_event_{i:026}"),
                    ORG,
                    "user.signed_in",
                    at,
                    format!("user_{i}"),
                    format!("User {i}"),
                    body["event"].to_string(),
                ])
                .unwrap();
            target.execute([tx.last_insert_rowid()]).unwrap();
        }
    }
    tx.commit().unwrap();
}

/// Sends one small authenticated GET at each tick of a fixed schedule, as a steady stream of
/// users would, and records each one's latency from its scheduled time: a stall delays every
/// request due during it, not only the one that met it.
struct Sampler {
    agent: ureq::Agent,
    url: String,
    next: Instant,
}

/// Time between the scheduled requests.
const TICK: Duration = Duration::from_millis(2);

impl Sampler {
    fn new(url: String) -> Self {
        Sampler {
            agent: agent(),
            url,
            next: Instant::now(),
        }
    }

    /// Sends the next scheduled request and returns its latency.
    fn sample(&mut self) -> Duration {
        let now = Instant::now();
        if self.next > now {
            std::thread::sleep(self.next - now);
        }
        let due = self.next;
        let mut r = self
            .agent
            .get(&self.url)
            .header("Authorization", format!("Bearer {KEY}"))
            .call()
            .unwrap();
        let _ = r.body_mut().read_to_string().unwrap();
        assert_eq!(r.status().as_u16(), 200);
        self.next = due + TICK;
        due.elapsed()
    }

    /// Starts the schedule afresh from now.
    fn restart(&mut self) {
        self.next = Instant::now();
    }
}

fn p99(samples: &mut [Duration]) -> Duration {
    samples.sort();
    samples[(samples.len() * 99).div_ceil(100) - 1]
}

/// Samples on schedule while one export of every event builds; returns its CSV URL.
fn sample_one_export(s: &TestServer, sampler: &mut Sampler, out: &mut Vec<Duration>) -> String {
    let r = post(s, "/audit_logs/exports", &export_request(vec![]));
    assert_eq!(r.status, 201);
    let state_path = format!("/audit_logs/exports/{}", r.json["id"].as_str().unwrap());
    sampler.restart();
    loop {
        for _ in 0..10 {
            out.push(sampler.sample());
        }
        // Not timed: the schedule restarts after it.
        let export = get(s, &state_path).json;
        sampler.restart();
        if export["state"] != "pending" {
            assert_eq!(export["state"], "ready");
            return export["url"].as_str().unwrap().to_owned();
        }
    }
}

/// Stores `n` events of `ORG` through the API, with `auditwire emit` (8 workers).
fn seed_through_the_api(s: &TestServer, n: usize) {
    use std::io::Write;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_auditwire"))
        .args(["emit", "--workers", "8", "--flush-timeout", "120"])
        .env("WORKOS_API_KEY", KEY)
        .env("WORKOS_BASE_URL", s.base_url())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || {
        for i in 0..n {
            let line = event_body(
                ORG,
                "user.signed_in",
                (&format!("user_{i}"), &format!("User {i}")),
                "team",
                "2026-03-01T00:00:00.000Z",
            );
            writeln!(input, "{line}").unwrap();
        }
    });
    writer.join().unwrap();
    assert!(child.wait().unwrap().success());
}

#[test]
fn a_large_export_does_not_stall_requests_on_a_file_database() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let dir = std::env::temp_dir().join(format!("auditwire-export-load-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let db = dir.join("events.sqlite");
    let db_arg = db.to_str().unwrap();
    TestServer::start(&["--db", db_arg]).stop();
    seed(&db, EVENTS);
    let s = TestServer::start(&["--db", db_arg, "--export-delay-ms", "0"]);
    let csv = exports_do_not_stall(&s);
    let lines: Vec<&str> = csv.trim_end().split("\r\n").collect();
    assert!(lines[1].starts_with(&format!("audit_log_event_{:026},", 0)));
    let last = format!("audit_log_event_{:026},", EVENTS - 1);
    assert!(lines[EVENTS].starts_with(&last), "{}", lines[EVENTS]);
    s.stop();
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_large_export_does_not_stall_requests_in_memory() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let s = TestServer::start(&["--export-delay-ms", "0"]);
    seed_through_the_api(&s, EVENTS);
    exports_do_not_stall(&s);
}

/// Events in the store of the stall tests.
const EVENTS: usize = 30_000;

/// The stall tests run one at a time: each would load the machine the other measures.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Compares the p99 of small requests while exports of every event build with their p99
/// idle; returns the CSV of the last export.
fn exports_do_not_stall(s: &TestServer) -> String {
    const ROUNDS: usize = 3;
    const IDLE_PER_ROUND: usize = 200;
    // Latency the machine adds when the export's thread takes one of its two cores, whatever
    // the server does: a request may wait for a thread preempted by other processes (on the
    // shared 2-core test machine, at load 14, 30-50 ms at p99 with the fix). The bug this
    // guards against held the database for the whole build: p99 80-150 ms on this store.
    const FLOOR: Duration = Duration::from_millis(30);
    assert_eq!(s.stats()["events_stored"], EVENTS as u64);

    let mut sampler = Sampler::new(format!("{}/audit_logs/actions", s.base_url()));
    for _ in 0..50 {
        sampler.sample();
    }
    // Idle and export windows alternate, so both see the same background load.
    let (mut idle, mut during) = (Vec::new(), Vec::new());
    let started = Instant::now();
    let mut url = String::new();
    for _ in 0..ROUNDS {
        sampler.restart();
        idle.extend((0..IDLE_PER_ROUND).map(|_| sampler.sample()));
        let before = during.len();
        while during.len() - before < IDLE_PER_ROUND {
            assert!(started.elapsed() < Duration::from_secs(90), "too slow");
            url = sample_one_export(s, &mut sampler, &mut during);
        }
    }
    let (idle_p99, during_p99) = (p99(&mut idle), p99(&mut during));
    let bound = (idle_p99 * 3).max(idle_p99 + FLOOR);
    eprintln!(
        "idle: {} samples, p50 {:?} p99 {idle_p99:?}; during exports of {EVENTS} events: {} samples, p50 {:?} p99 {during_p99:?} max {:?}; bound {bound:?}",
        idle.len(),
        idle[idle.len() / 2],
        during.len(),
        during[during.len() / 2],
        during[during.len() - 1],
    );
    assert!(
        during_p99 < bound,
        "p99 {during_p99:?} while exporting, {idle_p99:?} idle"
    );
    // The CSV, stored in parts, comes back whole: a header and one row per event.
    let csv = send("GET", &url, None, &[], None).unwrap().text;
    assert_eq!(csv.trim_end().split("\r\n").count(), EVENTS + 1);
    csv
}
