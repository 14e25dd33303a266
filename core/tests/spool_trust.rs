//! The spool trusts only its owner: a directory another user owns or may write is refused;
//! a run file of another user, or a symbolic link, is never adopted; new files are private.
#![cfg(unix)]

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use auditwire::{
    Actor, Client, Config, ConfigBuilder, ConfigError, Context, EmitOptions, Event, Target,
    Timestamp,
};

mod common;

use common::{accepting_server, chmod, dead_url, Scratch};

const KEY: &str = "sk_test_spool_trust";
/// The `nobody` user: "another user" in the tests that need root to chown.
const OTHER_UID: u32 = 65534;

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

fn skip(what: &str) {
    eprintln!("note: not root: skipped the part that chowns files to another user ({what})");
}

fn builder(url: &str, dir: &Path) -> ConfigBuilder {
    Config::builder()
        .api_key(KEY)
        .base_url(url)
        .ignore_env(true)
        .spool_dir(dir)
        .workers(2)
        .shutdown_timeout(Duration::ZERO)
}

fn forged() -> Event {
    Event {
        action: "admin.granted".into(),
        occurred_at: Timestamp::parse("2026-02-02T16:35:39.317Z").unwrap(),
        version: None,
        actor: Actor::new("mallory", "user"),
        targets: vec![Target::new("mallory", "user")],
        context: Context::new("6.6.6.6"),
        metadata: None,
    }
}

/// A run file holding one pending `admin.granted` event, made in `dir`; returns its path.
fn planted_run(dir: &Path) -> PathBuf {
    let c = Client::try_new(builder(&dead_url(), dir).build().unwrap()).unwrap();
    c.emit("org_1", &forged(), EmitOptions::default()).unwrap();
    assert_eq!(c.shutdown_report(Duration::from_millis(200)).spooled, 1);
    drop(c);
    let runs = auditwire::spool_status(dir).unwrap().runs;
    assert_eq!(runs.len(), 1);
    runs[0].path.clone()
}

fn try_open(url: &str, dir: &Path) -> Result<Client, String> {
    match Client::try_new(builder(url, dir).build().unwrap()) {
        Ok(c) => Ok(c),
        Err(e @ ConfigError::Spool(_)) => Err(e.to_string()),
        Err(e) => panic!("unexpected error {e}"),
    }
}

fn chown_all(dir: &Path, uid: u32) {
    std::os::unix::fs::chown(dir, Some(uid), None).unwrap();
    for e in std::fs::read_dir(dir).unwrap() {
        std::os::unix::fs::chown(e.unwrap().path(), Some(uid), None).unwrap();
    }
}

#[test]
fn a_directory_writable_by_group_or_others_is_refused_with_its_mode_and_the_fix() {
    for (mode, who) in [
        (0o777, "group and others"),
        (0o770, "group"),
        (0o703, "others"),
    ] {
        let dir = Scratch::new("mode");
        planted_run(&dir.0);
        chmod(&dir.0, mode);
        let (url, seen) = accepting_server();
        let msg = try_open(&url, &dir.0).expect_err("a shared directory was used");
        let shown = format!("mode {mode:04o}");
        assert!(msg.contains(&dir.0.display().to_string()), "{msg}");
        assert!(msg.contains(&shown) && msg.contains(who), "{msg}");
        assert!(msg.contains("chmod 700") && msg.contains("uid "), "{msg}");
        assert!(!msg.contains(KEY));
        std::thread::sleep(Duration::from_millis(200));
        assert_eq!(seen.lock().unwrap().len(), 0, "the planted event was sent");
        chmod(&dir.0, 0o700);
        // The same directory, made private, is used (and its run adopted).
        let c = try_open(&url, &dir.0).unwrap();
        assert_eq!(c.stats().adopted, 1);
    }
}

#[test]
fn another_users_world_writable_directory_with_a_forged_run_is_refused() {
    if !is_root() {
        return skip("directory owned by another user");
    }
    // The reproduction: another user's world-writable directory holding a forged event.
    let dir = Scratch::new("foreign-dir");
    let run = planted_run(&dir.0);
    chown_all(&dir.0, OTHER_UID);
    chmod(&dir.0, 0o777);
    let before = std::fs::read(&run).unwrap();
    let (url, seen) = accepting_server();
    let msg = try_open(&url, &dir.0).expect_err("a foreign directory was used");
    assert!(msg.contains("owned by uid 65534"), "{msg}");
    assert!(msg.contains("mode 0777"), "{msg}");
    // Private but another user's: still refused.
    chmod(&dir.0, 0o700);
    let msg = try_open(&url, &dir.0).expect_err("a foreign directory was used");
    assert!(
        msg.contains("owned by uid 65534") && msg.contains("mode 0700"),
        "{msg}"
    );
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(seen.lock().unwrap().len(), 0, "the forged event was sent");
    assert_eq!(std::fs::read(&run).unwrap(), before, "the run was changed");
}

#[test]
fn another_users_run_file_is_never_adopted_nor_removed() {
    if !is_root() {
        return skip("run file owned by another user");
    }
    // Each file of a run (database, lock) is checked on its own.
    for file in ["db", "lock"] {
        let dir = Scratch::new("foreign-run");
        let run = planted_run(&dir.0);
        let target = if file == "db" {
            run.clone()
        } else {
            run.with_extension("lock")
        };
        std::os::unix::fs::chown(&target, Some(OTHER_UID), None).unwrap();
        let before = std::fs::read(&run).unwrap();
        let (url, seen) = accepting_server();
        let c = try_open(&url, &dir.0).expect("our own directory was refused");
        assert_eq!(
            c.stats().adopted,
            0,
            "another user's run was adopted ({file})"
        );
        assert_eq!(c.flush(Duration::from_secs(2)), 0);
        drop(c);
        assert_eq!(
            seen.lock().unwrap().len(),
            0,
            "the foreign event was sent ({file})"
        );
        assert_eq!(std::fs::read(&run).unwrap(), before, "the run was changed");
        assert!(run.with_extension("lock").exists());
        let status = auditwire::spool_status(&dir.0).unwrap();
        let foreign = status.runs.iter().find(|r| r.path == run).unwrap();
        let why = foreign.error.as_deref().unwrap_or_default();
        assert!(why.contains("owned by uid 65534"), "{why}");
        let retry = auditwire::spool_retry(&dir.0).unwrap();
        assert_eq!(retry.skipped_untrusted.len(), 1);
    }
}

#[test]
fn a_symlinked_run_file_or_lock_is_skipped_and_left_alone() {
    let elsewhere = Scratch::new("elsewhere");
    let real = planted_run(&elsewhere.0);
    for linked in ["db", "lock"] {
        let dir = Scratch::new("symlink");
        let name = real.file_name().unwrap();
        let run = dir.0.join(name);
        if linked == "db" {
            std::os::unix::fs::symlink(&real, &run).unwrap();
        } else {
            std::fs::copy(&real, &run).unwrap();
            std::os::unix::fs::symlink(real.with_extension("lock"), run.with_extension("lock"))
                .unwrap();
        }
        let (url, seen) = accepting_server();
        let c = try_open(&url, &dir.0).expect("our own directory was refused");
        assert_eq!(c.stats().adopted, 0, "a symlinked {linked} was followed");
        assert_eq!(c.flush(Duration::from_secs(2)), 0);
        drop(c);
        assert_eq!(seen.lock().unwrap().len(), 0);
        let kept = if linked == "db" {
            run.clone()
        } else {
            run.with_extension("lock")
        };
        assert!(std::fs::symlink_metadata(&kept)
            .unwrap()
            .file_type()
            .is_symlink());
        let status = auditwire::spool_status(&dir.0).unwrap();
        let why = status.runs[0].error.as_deref().unwrap_or_default();
        assert!(why.contains("symbolic link"), "{why}");
    }
    // The run behind the links is intact.
    assert_eq!(auditwire::spool_status(&elsewhere.0).unwrap().pending(), 1);
}

#[test]
fn a_missing_directory_is_created_private_with_private_files() {
    let base = Scratch::new("create");
    let dir = base.0.join("a").join("spool");
    let c = try_open(&dead_url(), &dir).unwrap();
    c.emit("org_1", &forged(), EmitOptions::default()).unwrap();
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o7777;
    assert_eq!(mode(&dir), 0o700);
    assert_eq!(mode(&base.0.join("a")), 0o700);
    for e in std::fs::read_dir(&dir).unwrap() {
        let p = e.unwrap().path();
        assert_eq!(mode(&p), 0o600, "{p:?}");
    }
}

#[test]
fn a_nul_byte_in_the_path_is_a_clear_error() {
    let msg = try_open(&dead_url(), Path::new("/tmp/auditwire\0spool"))
        .expect_err("a path with a NUL byte was used");
    assert!(msg.contains("NUL"), "{msg}");
    assert!(!msg.contains('\0'), "{msg:?}");
}
