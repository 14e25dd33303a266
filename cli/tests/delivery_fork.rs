//! After `fork()`, the child gets fresh workers and an empty queue; the parent keeps its own.
//! Alone in its file so that no other test thread runs while the process forks.

#![cfg(target_os = "linux")]

mod common;

use std::time::{Duration, Instant};

use auditwire::{Actor, Client, Config, Context, EmitOptions, Event, Target, Timestamp};
use common::{TestServer, KEY};

fn event(who: &str, n: usize) -> Event {
    Event {
        action: "user.signed_in".into(),
        occurred_at: Timestamp::now(),
        version: None,
        actor: Actor::new(format!("{who}_{n}"), "user"),
        targets: vec![Target::new("team_1", "team")],
        context: Context::new("127.0.0.1"),
        metadata: None,
    }
}

/// What the child checks; its exit status tells the parent which check failed.
fn child(client: &Client, parent_pid: u32) -> i32 {
    if client.pid() == parent_pid || client.pid() != std::process::id() {
        return 10;
    }
    if client.stats().accepted != 0 {
        return 11; // the parent's queue leaked into the child
    }
    for i in 0..20 {
        if client
            .emit("org_fork", &event("child", i), EmitOptions::default())
            .is_err()
        {
            return 12;
        }
    }
    if client.flush(Duration::from_secs(30)) != 0 {
        return 13;
    }
    let s = client.stats();
    if (s.accepted, s.delivered) != (20, 20) {
        return 14;
    }
    0
}

#[test]
fn a_forked_child_delivers_its_own_events_and_not_the_parents() {
    // Slow answers keep the parent's events queued at the moment of the fork.
    let server = TestServer::start(&["--latency-ms", "100"]);
    let client = Client::new(
        Config::builder()
            .api_key(KEY)
            .base_url(server.base_url())
            .ignore_env(true)
            .workers(2)
            .build()
            .unwrap(),
    );
    for i in 0..30 {
        client
            .emit("org_fork", &event("parent", i), EmitOptions::default())
            .unwrap();
    }
    let parent_pid = std::process::id();
    // SAFETY: the child only uses the client and then leaves with _exit.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork failed");
    if pid == 0 {
        let code =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| child(&client, parent_pid)))
                .unwrap_or(99);
        // SAFETY: ends the child at once, without running the parent's destructors.
        unsafe { libc::_exit(code) };
    }
    // Wait for the child, bounded.
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut status = 0;
    loop {
        // SAFETY: waits for our own child without blocking.
        let r = unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) };
        if r == pid {
            break;
        }
        if Instant::now() > deadline {
            unsafe { libc::kill(pid, libc::SIGKILL) };
            panic!("the child did not finish in time");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(libc::WIFEXITED(status), "child died: status {status}");
    assert_eq!(libc::WEXITSTATUS(status), 0, "child check failed");
    assert_eq!(client.flush(Duration::from_secs(30)), 0);
    assert_eq!(client.stats().delivered, 30);
    assert_eq!(client.pid(), parent_pid);
    // 30 from the parent and 20 from the child: nothing was sent twice.
    assert_eq!(server.stats()["events_stored"].as_u64(), Some(50));
}
