//! The disk spool inside the engine: shutdown keeps events, adoption, locks, bounds, bad files.

use std::collections::HashSet;
use std::io::Read;
use std::net::TcpListener;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use auditwire::{
    Actor, Backoff, Client, Config, ConfigBuilder, ConfigError, Context, EmitError, EmitOptions,
    Event, Target, Timestamp,
};

mod common;

use common::{accepting_server, dead_url, Scratch};

const KEY: &str = "sk_test_spool_secret";

fn builder(url: &str, dir: &Path) -> ConfigBuilder {
    Config::builder()
        .api_key(KEY)
        .base_url(url)
        .ignore_env(true)
        .spool_dir(dir)
        .workers(2)
        .shutdown_timeout(Duration::ZERO)
        .backoff(Backoff {
            base: Duration::from_millis(20),
            factor: 2.0,
            cap: Duration::from_millis(200),
        })
}

fn event() -> Event {
    Event {
        action: "user.signed_in".into(),
        occurred_at: Timestamp::parse("2026-02-02T16:35:39.317Z").unwrap(),
        version: None,
        actor: Actor::new("user_1", "user"),
        targets: vec![Target::new("team_1", "team")],
        context: Context::new("1.2.3.4"),
        metadata: None,
    }
}

fn emit_n(c: &Client, n: usize) -> Vec<String> {
    (0..n)
        .map(|_| {
            c.emit("org_1", &event(), EmitOptions::default())
                .unwrap()
                .idempotency_key()
                .to_owned()
        })
        .collect()
}

#[test]
fn shutdown_keeps_undelivered_events_and_the_next_client_delivers_them() {
    let dir = Scratch::new("adopt");
    let a = Client::try_new(builder(&dead_url(), &dir.0).build().unwrap()).unwrap();
    let keys = emit_n(&a, 50);
    let report = a.shutdown_report(Duration::from_millis(100));
    assert_eq!((report.spooled, report.lost, report.remaining), (50, 0, 50));
    let s = a.stats();
    assert_eq!((s.spooled, s.lost, s.queued), (50, 0, 0), "{s:?}");
    drop(a);
    let status = auditwire::spool_status(&dir.0).unwrap();
    assert_eq!(status.pending(), 50);
    assert!(!status.runs[0].live);

    let (url, seen) = accepting_server();
    let b = Client::try_new(builder(&url, &dir.0).build().unwrap()).unwrap();
    assert_eq!(b.stats().adopted, 50);
    assert_eq!(b.flush(Duration::from_secs(10)), 0, "{:?}", b.stats());
    assert_eq!(b.stats().delivered, 50);
    let sent: HashSet<String> = seen.lock().unwrap().iter().cloned().collect();
    assert_eq!(sent, keys.into_iter().collect::<HashSet<_>>());
    let report = b.shutdown_report(Duration::from_secs(1));
    assert_eq!(report.spooled, 0);
    // An empty run removes its files.
    assert!(auditwire::spool_status(&dir.0).unwrap().runs.is_empty());
}

#[test]
fn concurrent_emits_share_commits_and_every_one_is_kept_once() {
    let dir = Scratch::new("concurrent");
    let a = Arc::new(Client::try_new(builder(&dead_url(), &dir.0).build().unwrap()).unwrap());
    let threads: Vec<_> = (0..8)
        .map(|_| {
            let a = a.clone();
            std::thread::spawn(move || emit_n(&a, 300))
        })
        .collect();
    let keys: Vec<String> = threads
        .into_iter()
        .flat_map(|t| t.join().unwrap())
        .collect();
    assert_eq!(keys.iter().collect::<HashSet<_>>().len(), 2400);
    let report = a.shutdown_report(Duration::from_millis(100));
    assert_eq!((report.spooled, report.lost), (2400, 0));
    drop(a);
    assert_eq!(auditwire::spool_status(&dir.0).unwrap().pending(), 2400);

    let (url, seen) = accepting_server();
    let b = Client::try_new(builder(&url, &dir.0).build().unwrap()).unwrap();
    assert_eq!(b.flush(Duration::from_secs(30)), 0, "{:?}", b.stats());
    let sent = seen.lock().unwrap().clone();
    assert_eq!(sent.len(), 2400);
    assert_eq!(
        sent.into_iter().collect::<HashSet<_>>(),
        keys.into_iter().collect::<HashSet<_>>()
    );
}

#[test]
fn a_live_owners_events_are_never_taken() {
    let dir = Scratch::new("live");
    let a = Client::try_new(builder(&dead_url(), &dir.0).build().unwrap()).unwrap();
    emit_n(&a, 10);
    let (url, seen) = accepting_server();
    let b = Client::try_new(builder(&url, &dir.0).build().unwrap()).unwrap();
    assert_eq!(b.stats().adopted, 0);
    assert_eq!(b.flush(Duration::from_millis(300)), 0);
    assert!(seen.lock().unwrap().is_empty());
    let status = auditwire::spool_status(&dir.0).unwrap();
    assert_eq!(status.runs.iter().filter(|r| r.live).count(), 2);
    assert_eq!(a.shutdown_report(Duration::ZERO).spooled, 10);
    drop(a);
    let c = Client::try_new(builder(&url, &dir.0).build().unwrap()).unwrap();
    assert_eq!(c.stats().adopted, 10);
    assert_eq!(c.flush(Duration::from_secs(10)), 0);
    assert_eq!(seen.lock().unwrap().len(), 10);
}

#[test]
fn a_full_spool_refuses_with_spool_full() {
    let dir = Scratch::new("full");
    let c = Client::try_new(
        builder(&dead_url(), &dir.0)
            .spool_max_bytes(4096)
            .build()
            .unwrap(),
    )
    .unwrap();
    let mut accepted = 0;
    let err = loop {
        match c.emit("org_1", &event(), EmitOptions::default()) {
            Ok(_) => accepted += 1,
            Err(e) => break e,
        }
        assert!(accepted < 1000, "the spool bound was never reached");
    };
    assert!(
        matches!(err, EmitError::SpoolFull { max_bytes: 4096 }),
        "{err}"
    );
    assert!(err.to_string().contains("spool_max_bytes"));
    assert!(accepted > 0);
    let s = c.stats();
    assert_eq!((s.accepted, s.refused_queue_full), (accepted, 1));
    assert_eq!(c.shutdown_report(Duration::ZERO).spooled, accepted as usize);
}

#[test]
fn memory_full_spills_to_disk_and_everything_is_delivered() {
    let dir = Scratch::new("spill");
    let (url, seen) = accepting_server();
    let c = Client::try_new(builder(&url, &dir.0).queue_capacity(10).build().unwrap()).unwrap();
    let c = Arc::new(c);
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let c = c.clone();
            std::thread::spawn(move || {
                (0..125)
                    .map(|_| c.emit("org_1", &event(), EmitOptions::default()).unwrap())
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let receipts: Vec<_> = threads
        .into_iter()
        .flat_map(|t| t.join().unwrap())
        .collect();
    assert_eq!(c.flush(Duration::from_secs(20)), 0, "{:?}", c.stats());
    for r in &receipts {
        let o = r
            .wait(Duration::from_secs(5))
            .expect("every receipt completes");
        assert!(o.is_delivered(), "{o}");
    }
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 500, "each event sent exactly once");
    assert_eq!(seen.iter().collect::<HashSet<_>>().len(), 500);
}

fn spool_error(dir: &Path) -> String {
    match Client::try_new(builder(&dead_url(), dir).build().unwrap()) {
        Err(e @ ConfigError::Spool(_)) => e.to_string(),
        Err(e) => panic!("unexpected {e}"),
        Ok(_) => panic!("a bad spool file was accepted"),
    }
}

#[test]
fn corrupt_and_newer_files_are_reported_by_name_and_left_untouched() {
    let dir = Scratch::new("bad");
    let bad = dir.0.join("run-corrupt.db");
    std::fs::write(&bad, b"this is not a database, just some bytes....").unwrap();
    let msg = spool_error(&dir.0);
    assert!(msg.contains("run-corrupt.db"), "{msg}");
    assert_eq!(
        std::fs::read(&bad).unwrap(),
        b"this is not a database, just some bytes...."
    );
    std::fs::remove_file(&bad).unwrap();
    let _ = std::fs::remove_file(dir.0.join("run-corrupt.lock"));

    let newer = dir.0.join("run-newer.db");
    {
        let c = rusqlite::Connection::open(&newer).unwrap();
        c.execute_batch("CREATE TABLE events(x); PRAGMA user_version = 99;")
            .unwrap();
    }
    let before = std::fs::read(&newer).unwrap();
    let msg = spool_error(&dir.0);
    assert!(
        msg.contains("run-newer.db") && msg.contains("newer"),
        "{msg}"
    );
    assert_eq!(std::fs::read(&newer).unwrap(), before);
    // No run of ours is left behind by the failed start.
    let runs = std::fs::read_dir(&dir.0).unwrap().count();
    assert_eq!(runs, 2, "only the bad file and its lock");

    // `Client::new` cannot fail: it refuses every event instead, never drops one silently.
    let c = Client::new(builder(&dead_url(), &dir.0).build().unwrap());
    let e = c
        .emit("org_1", &event(), EmitOptions::default())
        .unwrap_err();
    assert!(matches!(e, EmitError::Spool(_)), "{e}");
}

#[cfg(unix)]
#[test]
fn spool_files_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let dir = Scratch::new("mode");
    let c = Client::try_new(builder(&dead_url(), &dir.0).build().unwrap()).unwrap();
    emit_n(&c, 1);
    for entry in std::fs::read_dir(&dir.0).unwrap() {
        let entry = entry.unwrap();
        let mode = entry.metadata().unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{:?}", entry.path());
    }
    let text = format!("{:?}", c);
    assert!(!text.contains(KEY));
}

/// Accepts connections and reads requests, never answering.
fn hanging_server() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            std::thread::spawn(move || {
                let mut buf = [0u8; 4096];
                while matches!(stream.read(&mut buf), Ok(n) if n > 0) {}
            });
        }
    });
    url
}

#[test]
fn every_event_left_in_the_spool_gets_one_spooled_callback() {
    let dir = Scratch::new("spooled-callbacks");
    let calls: Arc<Mutex<Vec<(String, &'static str)>>> = Arc::default();
    let c2 = calls.clone();
    // Ten fit in memory; the other forty wait on disk only.
    let a = Client::try_new(
        builder(&dead_url(), &dir.0)
            .queue_capacity(10)
            .on_outcome(move |r| {
                c2.lock()
                    .unwrap()
                    .push((r.idempotency_key.to_owned(), r.outcome.name()))
            })
            .build()
            .unwrap(),
    )
    .unwrap();
    let keys = emit_n(&a, 50);
    let report = a.shutdown_report(Duration::from_millis(50));
    assert_eq!((report.spooled, report.lost, report.in_doubt), (50, 0, 0));
    let calls = calls.lock().unwrap().clone();
    assert_eq!(calls.len(), 50, "{calls:?}");
    assert!(
        calls.iter().all(|(_, name)| *name == "spooled"),
        "{calls:?}"
    );
    let called: HashSet<String> = calls.into_iter().map(|(k, _)| k).collect();
    assert_eq!(called, keys.into_iter().collect::<HashSet<_>>());
    let s = a.stats();
    assert_eq!((s.spooled, s.queued, s.in_flight), (50, 0, 0), "{s:?}");
}

#[test]
fn an_in_doubt_event_stays_in_the_spool_and_the_next_run_resends_its_key() {
    let dir = Scratch::new("in-doubt");
    let a = Client::try_new(builder(&hanging_server(), &dir.0).build().unwrap()).unwrap();
    let receipt = a
        .emit("org_1", &event(), EmitOptions::with_key("doubtful-1"))
        .unwrap();
    std::thread::sleep(Duration::from_millis(200));
    let report = a.shutdown_report(Duration::from_millis(100));
    assert_eq!((report.in_doubt, report.spooled, report.lost), (1, 0, 0));
    assert_eq!(receipt.outcome().map(|o| o.name()), Some("in_doubt"));
    drop(a);
    assert_eq!(auditwire::spool_status(&dir.0).unwrap().pending(), 1);

    let (url, seen) = accepting_server();
    let b = Client::try_new(builder(&url, &dir.0).build().unwrap()).unwrap();
    assert_eq!(b.flush(Duration::from_secs(10)), 0);
    assert_eq!(*seen.lock().unwrap(), ["doubtful-1"]);
}
