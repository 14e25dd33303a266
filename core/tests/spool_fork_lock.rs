//! A forked child does not keep its parent's spool run locked: once the parent is gone,
//! the run can be adopted even while the child lives (alone in its file: no other test
//! threads run during the fork).

#![cfg(unix)]

use std::io::{Read, Write};
use std::os::fd::FromRawFd;
use std::time::Duration;

use auditwire::{
    spool_status, Actor, Client, Config, Context, EmitOptions, Event, Target, Timestamp,
};

fn event() -> Event {
    Event {
        action: "user.signed_in".into(),
        occurred_at: Timestamp::now(),
        version: None,
        actor: Actor::new("user_1", "user"),
        targets: vec![Target::new("team_1", "team")],
        context: Context::new("1.1.1.1"),
        metadata: None,
    }
}

fn pipe() -> (std::fs::File, std::fs::File) {
    let mut fds = [0; 2];
    // SAFETY: plain pipe(2) on a local array; each end is owned once below.
    assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
    // SAFETY: fresh descriptors from pipe(2).
    unsafe {
        (
            std::fs::File::from_raw_fd(fds[0]),
            std::fs::File::from_raw_fd(fds[1]),
        )
    }
}

#[test]
fn a_forked_child_does_not_hold_the_parents_run_lock() {
    let dir = std::env::temp_dir().join(format!("auditwire-fork-lock-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let client = Client::new(
        Config::builder()
            .api_key("sk_test_fork_lock")
            .base_url("http://127.0.0.1:9")
            .spool_dir(&dir)
            .ignore_env(true)
            .shutdown_timeout(Duration::ZERO)
            .build()
            .expect("config"),
    );
    client
        .emit("org_1", &event(), EmitOptions::default())
        .expect("emit");
    let before = spool_status(&dir).expect("status");
    assert_eq!(before.runs.len(), 1);
    let parents_run = before.runs[0].path.clone();
    assert!(before.runs[0].live);

    let (mut ready_r, mut ready_w) = pipe();
    let (mut done_r, mut done_w) = pipe();
    // SAFETY: the child emits, talks over the pipes and `_exit`s.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork failed");
    if pid == 0 {
        drop(ready_r);
        drop(done_w);
        // The child uses the client: it opens a run of its own.
        let ok = client
            .emit("org_1", &event(), EmitOptions::default())
            .is_ok();
        let _ = ready_w.write_all(if ok { b"y" } else { b"n" });
        drop(ready_w);
        let mut buf = [0u8; 1];
        let _ = done_r.read(&mut buf); // until the parent has looked
                                       // SAFETY: leave the child without running the parent's destructors.
        unsafe { libc::_exit(0) };
    }
    drop(ready_w);
    drop(done_r);
    let mut buf = [0u8; 1];
    ready_r.read_exact(&mut buf).expect("child ready");
    assert_eq!(&buf, b"y", "the child could emit");

    // The parent goes away; its undelivered event stays in its run.
    drop(client);
    let after = spool_status(&dir).expect("status");
    let parents = after
        .runs
        .iter()
        .find(|r| r.path == parents_run)
        .expect("the parent's run is kept");
    let childs: Vec<_> = after
        .runs
        .iter()
        .filter(|r| r.path != parents_run)
        .collect();
    let _ = done_w.write_all(b"x");
    drop(done_w);
    let mut status = 0;
    // SAFETY: waits for our own child.
    assert_eq!(unsafe { libc::waitpid(pid, &mut status, 0) }, pid);
    assert_eq!(parents.pending, 1);
    assert!(
        !parents.live,
        "the parent's run is still locked while only the child lives"
    );
    assert_eq!(childs.len(), 1, "the child has its own run");
    assert!(childs[0].live, "the child's own run is locked by the child");
    let _ = std::fs::remove_dir_all(&dir);
}
