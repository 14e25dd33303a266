//! Forks taken while another thread of the parent is emitting, with and without a spool:
//! each child still sets up its own engine and delivers its own events. A fork copies
//! whatever locks the parent's threads held at that instant, so any lock the child's new
//! engine shares with them (a library's global state) shows up here as a hung child.
//! Alone in its file so that no other test's threads run while the process forks.

#![cfg(target_os = "linux")]

mod common;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use auditwire::{Actor, Client, Config, Context, EmitOptions, Event, Overflow, Target, Timestamp};
use common::{TestServer, KEY};

/// Forks per configuration.
const FORKS: u64 = 12;
/// Events each child emits.
const PER_CHILD: usize = 5;

fn event(who: &str) -> Event {
    Event {
        action: "user.signed_in".into(),
        occurred_at: Timestamp::now(),
        version: None,
        actor: Actor::new(who, "user"),
        targets: vec![Target::new("team_1", "team")],
        context: Context::new("127.0.0.1"),
        metadata: None,
    }
}

/// What a child checks; its exit status names the failed check.
fn child(client: &Client) -> i32 {
    for _ in 0..PER_CHILD {
        if client
            .emit("org_fork", &event("child"), EmitOptions::default())
            .is_err()
        {
            return 12;
        }
    }
    if client.flush(Duration::from_secs(20)) != 0 {
        return 13;
    }
    // A child that `_exit`s right after its flush may leave delivered rows in its spool
    // run; the next child adopts and sends them again under the same key (stored once).
    let s = client.stats();
    if s.accepted != PER_CHILD as u64 || s.delivered != s.accepted + s.adopted {
        return 14;
    }
    0
}

/// Forks `FORKS` times while a thread emits; returns the events the parent accepted.
fn fork_while_emitting(client: Arc<Client>) -> u64 {
    let stop = Arc::new(AtomicBool::new(false));
    let emitted = Arc::new(AtomicU64::new(0));
    let emitter = {
        let (client, stop, emitted) = (client.clone(), stop.clone(), emitted.clone());
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                if client
                    .emit("org_fork", &event("parent"), EmitOptions::default())
                    .is_ok()
                {
                    emitted.fetch_add(1, Ordering::Relaxed);
                }
            }
        })
    };
    for round in 0..FORKS {
        // Fork at varied moments of the emitter's work.
        std::thread::sleep(Duration::from_micros(700 * (round % 7) + 300));
        // SAFETY: the child only uses the client and then leaves with _exit.
        let pid = unsafe { libc::fork() };
        assert!(pid >= 0, "fork failed");
        if pid == 0 {
            let code = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| child(&client)))
                .unwrap_or(99);
            // SAFETY: ends the child at once, without running the parent's destructors.
            unsafe { libc::_exit(code) };
        }
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut status = 0;
        loop {
            // SAFETY: waits for our own child without blocking.
            let r = unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) };
            if r == pid {
                break;
            }
            if Instant::now() > deadline {
                // SAFETY: kills our own child.
                unsafe { libc::kill(pid, libc::SIGKILL) };
                panic!("fork {round}: the child hung (waitpid: {r})");
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        assert!(
            libc::WIFEXITED(status),
            "fork {round}: child died: {status}"
        );
        assert_eq!(
            libc::WEXITSTATUS(status),
            0,
            "fork {round}: child check failed"
        );
    }
    stop.store(true, Ordering::Relaxed);
    emitter.join().expect("emitter");
    assert_eq!(client.flush(Duration::from_secs(60)), 0);
    emitted.load(Ordering::Relaxed)
}

fn config(server: &TestServer) -> auditwire::ConfigBuilder {
    Config::builder()
        .api_key(KEY)
        .base_url(server.base_url())
        .ignore_env(true)
        .workers(2)
        .queue_capacity(2_000)
        .overflow(Overflow::Block(Duration::from_secs(5)))
}

/// A spool directory, removed when the test ends, passed or not.
struct TempDir(std::path::PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn children_forked_while_the_parent_emits_deliver_their_own_events() {
    let server = TestServer::start(&[]);
    let dir =
        TempDir(std::env::temp_dir().join(format!("auditwire-fork-busy-{}", std::process::id())));
    let _ = std::fs::remove_dir_all(&dir.0);

    let in_memory = Arc::new(Client::new(config(&server).build().unwrap()));
    let mut parent = fork_while_emitting(in_memory);

    let spooled = Arc::new(Client::new(
        config(&server).spool_dir(&dir.0).build().unwrap(),
    ));
    parent += fork_while_emitting(spooled);

    let children = 2 * FORKS * PER_CHILD as u64;
    assert_eq!(
        server.stats()["events_stored"].as_u64(),
        Some(parent + children),
        "every event of the parent and of each child stored once"
    );
}
