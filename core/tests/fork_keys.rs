//! After `fork()`, parent and child make different idempotency keys (alone in its file:
//! no other test threads run during the fork).

#![cfg(unix)]

use std::io::{Read, Write};
use std::os::fd::FromRawFd;
use std::time::Duration;

use auditwire::{Actor, Client, Config, Context, EmitOptions, Event, Target, Timestamp};

fn event() -> Event {
    Event {
        action: "user.signed_in".into(),
        occurred_at: Timestamp::now(),
        version: None,
        actor: Actor::new("user_1", "user"),
        targets: vec![Target::new("team_1", "team")],
        context: Context::new("127.0.0.1"),
        metadata: None,
    }
}

fn keys(client: &Client, n: usize) -> Vec<String> {
    (0..n)
        .map(|_| {
            let receipt = client
                .emit("org_1", &event(), EmitOptions::default())
                .expect("emit");
            receipt.idempotency_key().to_owned()
        })
        .collect()
}

#[test]
fn parent_and_child_make_different_keys_after_fork() {
    let config = Config::builder()
        .api_key("sk_test_fork")
        .base_url("http://127.0.0.1:9")
        .ignore_env(true)
        .shutdown_timeout(Duration::ZERO)
        .build()
        .expect("config");
    let client = Client::new(config);
    keys(&client, 3); // seed this thread's generator before the fork
    let mut fds = [0; 2];
    // SAFETY: plain pipe(2) on a local array.
    assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
    // SAFETY: the child only emits, writes to the pipe and `_exit`s.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork failed");
    if pid == 0 {
        let child_keys = keys(&client, 5).join("\n");
        // SAFETY: the write end of the pipe belongs to this process.
        let mut w = unsafe { std::fs::File::from_raw_fd(fds[1]) };
        let ok = w.write_all(child_keys.as_bytes()).is_ok();
        drop(w);
        // SAFETY: leave the child without running the parent's destructors.
        unsafe { libc::_exit(if ok { 0 } else { 1 }) };
    }
    // SAFETY: close the parent's copy of the write end; own the read end.
    unsafe { libc::close(fds[1]) };
    let mut r = unsafe { std::fs::File::from_raw_fd(fds[0]) };
    let parent_keys = keys(&client, 5);
    let mut child_text = String::new();
    r.read_to_string(&mut child_text).expect("read child keys");
    let mut status = 0;
    // SAFETY: waits for our own child.
    assert_eq!(unsafe { libc::waitpid(pid, &mut status, 0) }, pid);
    assert_eq!(status, 0, "child failed");
    let child_keys: Vec<&str> = child_text.lines().collect();
    assert_eq!(child_keys.len(), 5);
    for key in &parent_keys {
        assert!(!child_keys.contains(&key.as_str()), "key {key} made twice");
    }
}
