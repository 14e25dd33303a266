//! The disk spool end to end: kill -9 during emit, a 30 s outage, dead letters and retry.

use std::collections::{HashMap, HashSet};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use auditwire::{
    Actor, Backoff, Client, Config, Context, EmitOptions, Event, MetadataValue, Target, Timestamp,
};
use rand::Rng;

const BIN: &str = env!("CARGO_BIN_EXE_auditwire");
const KEY: &str = "sk_test_spool";

/// A scratch directory removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new(tag: &str) -> Scratch {
        let p = std::env::temp_dir().join(format!(
            "auditwire-{tag}-{}-{}",
            std::process::id(),
            rand::rng().random::<u32>()
        ));
        std::fs::create_dir_all(&p).unwrap();
        Scratch(p)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// `auditwire serve` on a chosen address with a database file; killed on drop.
struct Server {
    child: Child,
    addr: String,
}

impl Server {
    fn start(addr: &str, db: &Path, extra: &[&str]) -> Server {
        let mut child = Command::new(BIN)
            .args(["serve", "--test-endpoints", "--addr", addr, "--db"])
            .arg(db)
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn auditwire serve");
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines();
            if let Some(Ok(first)) = lines.next() {
                let _ = tx.send(first);
            }
            for _ in lines.by_ref() {}
        });
        let line = rx
            .recv_timeout(Duration::from_secs(20))
            .unwrap_or_else(|_| {
                let _ = child.kill();
                panic!("server on {addr} did not start")
            });
        let addr = line
            .strip_prefix("listening on http://")
            .unwrap_or_else(|| panic!("unexpected line {line:?}"))
            .trim()
            .to_owned();
        Server { child, addr }
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Events stored by the server for `org`, by metadata `n`, and the idempotency keys it saw.
fn stored(db: &Path, org: &str) -> (HashMap<u64, u32>, HashSet<String>) {
    let conn =
        rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .unwrap();
    conn.busy_timeout(Duration::from_secs(5)).unwrap();
    let mut by_n = HashMap::new();
    let mut stmt = conn
        .prepare("SELECT body FROM events WHERE organization_id = ?1")
        .unwrap();
    let bodies = stmt
        .query_map([org], |r| r.get::<_, String>(0))
        .unwrap()
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    for body in bodies {
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        let n = v["metadata"]["n"]
            .as_str()
            .and_then(|s| s.parse::<u64>().ok())
            .unwrap_or_else(|| panic!("no metadata.n in {body}"));
        *by_n.entry(n).or_insert(0) += 1;
    }
    let keys = conn
        .prepare("SELECT key FROM idempotency_keys")
        .unwrap()
        .query_map([], |r| r.get::<_, String>(0))
        .unwrap()
        .collect::<Result<HashSet<_>, _>>()
        .unwrap();
    (by_n, keys)
}

fn line(org: &str, n: u64) -> String {
    serde_json::json!({
        "organization_id": org,
        "event": {
            "action": "document.updated",
            "occurred_at": "2026-01-02T03:04:05.000Z",
            "actor": {"id": "user_1", "type": "user"},
            "targets": [{"id": format!("doc_{n}"), "type": "document"}],
            "context": {"location": "10.0.0.1"},
            "metadata": {"n": n.to_string()}
        }
    })
    .to_string()
}

fn drain(dir: &Path, url: &str, timeout_s: u32) -> serde_json::Value {
    let out = Command::new(BIN)
        .args(["spool", "drain"])
        .arg(dir)
        .args(["--base-url", url, "--workers", "64", "--timeout"])
        .arg(timeout_s.to_string())
        .env("WORKOS_API_KEY", KEY)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    serde_json::from_str(text.trim()).unwrap_or_else(|e| {
        panic!(
            "drain output {text:?} ({e}); stderr {}",
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

#[test]
fn kill_9_during_emit_loses_no_accepted_event() {
    let scratch = Scratch::new("crash");
    let db = scratch.0.join("server.db");
    // A slow server: deliveries lag far behind emits, so the spool fills up.
    let server = Server::start("127.0.0.1:0", &db, &["--latency-ms", "10"]);
    let mut rng = rand::rng();
    let mut adopted_total = 0;
    for round in 0..10 {
        let org = format!("org_crash_{round}");
        let input = scratch.0.join(format!("events-{round}.ndjson"));
        let mut f = std::fs::File::create(&input).unwrap();
        for n in 0..20_000 {
            writeln!(f, "{}", line(&org, n)).unwrap();
        }
        drop(f);
        let spool = scratch.0.join(format!("spool-{round}"));
        let mut child = Command::new(BIN)
            .args(["emit", "--print-accepted", "--workers", "4", "--spool"])
            .arg(&spool)
            .args(["--base-url", &server.url()])
            .env("WORKOS_API_KEY", KEY)
            .stdin(std::fs::File::open(&input).unwrap())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let kill_after: usize = rng.random_range(1..6_000);
        let mut accepted: Vec<(u64, String)> = Vec::new();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let t0 = Instant::now();
        let mut killed = false;
        for l in lines.by_ref() {
            let l = l.unwrap();
            if let Some(rest) = l.strip_prefix("accepted ") {
                let (n, key) = rest.split_once(' ').unwrap();
                // Line numbers are 1-based; metadata n is 0-based.
                accepted.push((n.parse::<u64>().unwrap() - 1, key.to_owned()));
                if accepted.len() >= kill_after && !killed {
                    child.kill().unwrap(); // SIGKILL
                    killed = true;
                }
            }
            assert!(t0.elapsed() < Duration::from_secs(30), "emit too slow");
        }
        // Lines already in the pipe when the child died were accepted before it died.
        let status = child.wait().unwrap();
        assert!(killed, "round {round}: emit finished before the kill");
        assert!(!status.success());
        let summary = drain(&spool, &server.url(), 60);
        assert_eq!(summary["spooled"], 0, "round {round}: {summary}");
        adopted_total += summary["adopted"].as_u64().unwrap_or(0);
        eprintln!(
            "round {round}: killed after {} accepted; drain {summary}",
            accepted.len()
        );
        let (by_n, keys) = stored(&db, &org);
        for (n, key) in &accepted {
            assert_eq!(
                by_n.get(n).copied(),
                Some(1),
                "round {round}: event {n} stored {:?} times",
                by_n.get(n)
            );
            assert!(keys.contains(key), "round {round}: key {key} never sent");
        }
        assert!(
            by_n.values().all(|&c| c == 1),
            "round {round}: duplicates stored"
        );
        let left = auditwire::spool_status(&spool).unwrap();
        assert_eq!(left.pending(), 0, "round {round}");
    }
    // The kills must have left undelivered events behind for the test to mean anything.
    assert!(adopted_total > 0, "no round left anything in the spool");
}

fn event(n: u64) -> Event {
    let mut metadata = auditwire::Metadata::default();
    metadata.insert("n".into(), auditwire::MetadataValue::from(n.to_string()));
    Event {
        action: "document.updated".into(),
        occurred_at: Timestamp::parse("2026-01-02T03:04:05.000Z").unwrap(),
        version: None,
        actor: Actor::new("user_1", "user"),
        targets: vec![Target::new(format!("doc_{n}"), "document")],
        context: Context::new("10.0.0.1"),
        metadata: Some(metadata),
    }
}

fn free_addr() -> String {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().to_string()
}

#[test]
fn a_30_second_outage_delays_but_never_blocks_or_loses() {
    let scratch = Scratch::new("outage");
    let db = scratch.0.join("server.db");
    let addr = free_addr();
    let server = Server::start(&addr, &db, &[]);
    let url = server.url();
    let client = Client::try_new(
        Config::builder()
            .api_key(KEY)
            .base_url(&url)
            .ignore_env(true)
            .spool_dir(scratch.0.join("spool"))
            .queue_capacity(500)
            .timeout(Duration::from_secs(2))
            .backoff(Backoff {
                base: Duration::from_millis(50),
                factor: 2.0,
                cap: Duration::from_millis(500),
            })
            .build()
            .unwrap(),
    )
    .unwrap();
    let org = "org_outage";
    let mut n = 0u64;
    let mut slowest = Duration::ZERO;
    let mut emit_for = |client: &Client, d: Duration, n: &mut u64| {
        let end = Instant::now() + d;
        while Instant::now() < end {
            let t = Instant::now();
            client
                .emit(org, &event(*n), EmitOptions::default())
                .unwrap_or_else(|e| panic!("emit {n} failed: {e}"));
            slowest = slowest.max(t.elapsed());
            *n += 1;
            std::thread::sleep(Duration::from_millis(2));
        }
    };
    emit_for(&client, Duration::from_secs(1), &mut n);
    drop(server); // the outage
    emit_for(&client, Duration::from_secs(30), &mut n);
    let during = client.stats();
    assert!(during.retried > 0, "{during:?}");
    let server = Server::start(&addr, &db, &[]);
    emit_for(&client, Duration::from_secs(1), &mut n);
    assert_eq!(
        client.flush(Duration::from_secs(20)),
        0,
        "{:?}",
        client.stats()
    );
    let s = client.stats();
    assert_eq!((s.accepted, s.delivered), (n, n), "{s:?}");
    assert!(
        slowest < Duration::from_millis(500),
        "emit blocked {slowest:?}"
    );
    let (by_n, _) = stored(&db, org);
    assert_eq!(by_n.len() as u64, n);
    assert!(by_n.values().all(|&c| c == 1));
    let report = client.shutdown_report(Duration::from_secs(1));
    assert_eq!((report.spooled, report.lost), (0, 0));
    drop(server);
}

#[test]
fn rejected_events_become_dead_letters_and_retry_delivers_them() {
    let scratch = Scratch::new("dead");
    let spool = scratch.0.join("spool");
    let bad = Server::start(
        "127.0.0.1:0",
        &scratch.0.join("bad.db"),
        &["--fail-rate", "1", "--fail-with", "422"],
    );
    let input: String = (0..20).map(|n| line("org_dead", n) + "\n").collect();
    let mut child = Command::new(BIN)
        .args(["emit", "--spool"])
        .arg(&spool)
        .args(["--base-url", &bad.url(), "--flush-timeout", "10"])
        .env("WORKOS_API_KEY", KEY)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let summary: serde_json::Value =
        serde_json::from_str(String::from_utf8_lossy(&out.stdout).trim()).unwrap();
    assert_eq!(summary["rejected"], 20, "{summary}");
    let status = auditwire::spool_status(&spool).unwrap();
    assert_eq!((status.pending(), status.dead_letters()), (0, 20));
    let dead = Command::new(BIN)
        .args(["spool", "dead"])
        .arg(&spool)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&dead.stdout);
    let letters: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(letters.len(), 20);
    for l in &letters {
        assert_eq!(l["status"], 422, "{l}");
        assert_eq!(l["code"], "injected_fault", "{l}");
        assert!(
            l["message"]
                .as_str()
                .unwrap()
                .contains("Unprocessable Entity"),
            "{l}"
        );
    }
    let retry = Command::new(BIN)
        .args(["spool", "retry"])
        .arg(&spool)
        .output()
        .unwrap();
    assert!(retry.status.success());
    let moved: serde_json::Value =
        serde_json::from_str(String::from_utf8_lossy(&retry.stdout).trim()).unwrap();
    assert_eq!(moved["moved"], 20);
    let status = auditwire::spool_status(&spool).unwrap();
    assert_eq!((status.pending(), status.dead_letters()), (20, 0));
    drop(bad);
    let good_db = scratch.0.join("good.db");
    let good = Server::start("127.0.0.1:0", &good_db, &[]);
    let summary = drain(&spool, &good.url(), 30);
    assert_eq!(summary["delivered"], 20, "{summary}");
    assert_eq!(summary["spooled"], 0, "{summary}");
    let (by_n, _) = stored(&good_db, "org_dead");
    assert_eq!(by_n.len(), 20);
    assert!(auditwire::spool_status(&spool).unwrap().runs.is_empty());
}

/// A small tmpfs at `path` (root only), unmounted on drop.
struct SmallDisk(PathBuf);

impl SmallDisk {
    fn mount(path: &Path, size: &str) -> Option<SmallDisk> {
        std::fs::create_dir_all(path).unwrap();
        let ok = Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={size},mode=0700"),
                "tmpfs",
            ])
            .arg(path)
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        ok.then(|| SmallDisk(path.to_owned()))
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

fn sized_event(n: u64) -> Event {
    Event {
        action: "document.updated".into(),
        occurred_at: Timestamp::parse("2026-01-02T03:04:05.000Z").unwrap(),
        version: None,
        actor: Actor::new("user_1", "user"),
        targets: vec![Target::new(format!("doc_{n}"), "document")],
        context: Context::new("10.0.0.1"),
        metadata: Some(
            [
                ("n".to_owned(), MetadataValue::from(n.to_string())),
                ("pad".to_owned(), MetadataValue::from("x".repeat(400))),
            ]
            .into_iter()
            .collect(),
        ),
    }
}

#[test]
fn a_full_disk_names_the_spool_file_and_drain_still_empties_it() {
    let scratch = Scratch::new("diskfull");
    let Some(disk) = SmallDisk::mount(&scratch.0.join("disk"), "4m") else {
        eprintln!("note: cannot mount a tmpfs (not root?): the disk-full test is skipped");
        return;
    };
    let spool = disk.0.join("spool");
    let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead_url = format!("http://{}", dead.local_addr().unwrap());
    drop(dead);
    let client = Client::try_new(
        Config::builder()
            .api_key(KEY)
            .base_url(&dead_url)
            .ignore_env(true)
            .spool_dir(&spool)
            .shutdown_timeout(Duration::ZERO)
            .build()
            .unwrap(),
    )
    .unwrap();
    let mut accepted = 0u64;
    let error = loop {
        match client.emit("org_full", &sized_event(accepted), EmitOptions::default()) {
            Ok(_) => accepted += 1,
            Err(e) => break e.to_string(),
        }
        assert!(accepted < 100_000, "the disk never filled");
    };
    let run = auditwire::spool_status(&spool).unwrap().runs[0]
        .path
        .clone();
    assert!(
        error.contains(&format!("spool {}: disk full (", run.display())),
        "{error}"
    );
    drop(client);
    assert_eq!(auditwire::spool_status(&spool).unwrap().pending(), accepted);
    // Whatever the shutdown freed is taken again: the disk is full for the drain.
    let mut filler = std::fs::File::create(disk.0.join("filler")).unwrap();
    while filler.write_all(&[0u8; 4096]).is_ok() {}
    drop(filler);

    let db = scratch.0.join("server.db");
    let server = Server::start("127.0.0.1:0", &db, &[]);
    let out = Command::new(BIN)
        .args(["spool", "drain"])
        .arg(&spool)
        .args(["--base-url", &server.url(), "--timeout", "60"])
        .env("WORKOS_API_KEY", KEY)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let text = String::from_utf8_lossy(&out.stdout);

    let summary: serde_json::Value = serde_json::from_str(text.trim())
        .unwrap_or_else(|e| panic!("drain output {text:?} ({e}); stderr {stderr}"));
    assert_eq!(summary["delivered"], accepted, "{summary} {stderr}");
    assert_eq!(summary["spooled"], 0, "{summary} {stderr}");
    let (by_n, _) = stored(&db, "org_full");
    assert_eq!(by_n.len() as u64, accepted);
    assert!(auditwire::spool_status(&spool).unwrap().runs.is_empty());
    drop(disk);
}
