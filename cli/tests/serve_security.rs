//! `auditwire serve` secrets and files: the key from a file or the environment, a private
//! database, and the test endpoints behind the key.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use common::*;

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("auditwire-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// 401 for another key, 201 for `key`, and `key` absent from the command line.
fn only_accepts(s: &TestServer, key: &str) {
    let url = format!("{}/audit_logs/events", s.base_url());
    let wrong = send("POST", &url, Some("sk_wrong"), &[], Some(&sample_event())).unwrap();
    assert_eq!(wrong.status, 401, "{}", wrong.text);
    let right = send("POST", &url, Some(key), &[], Some(&sample_event())).unwrap();
    assert_eq!(right.status, 201, "{}", right.text);
    let cmdline = std::fs::read(format!("/proc/{}/cmdline", s.pid())).unwrap();
    assert!(!String::from_utf8_lossy(&cmdline).contains(key));
}

#[test]
fn the_key_can_come_from_the_environment() {
    let s = TestServer::start_env(&[], &[("AUDITWIRE_SERVE_API_KEY", "sk_from_env")]);
    only_accepts(&s, "sk_from_env");
}

#[test]
fn the_key_can_come_from_a_file() {
    let dir = temp_dir("keyfile");
    let file = dir.join("key");
    std::fs::write(&file, "sk_from_file\n").unwrap();
    let s = TestServer::start(&["--api-key-file", file.to_str().unwrap()]);
    only_accepts(&s, "sk_from_file");
    // The option wins over the environment.
    let s = TestServer::start_env(
        &["--api-key-file", file.to_str().unwrap()],
        &[("AUDITWIRE_SERVE_API_KEY", "sk_from_env")],
    );
    only_accepts(&s, "sk_from_file");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn an_unusable_key_file_stops_the_server_with_a_clear_error() {
    let dir = temp_dir("badkey");
    let empty = dir.join("empty");
    std::fs::write(&empty, "\n").unwrap();
    let missing = dir.join("missing");
    for (path, why) in [(&empty, "empty"), (&missing, "cannot read")] {
        let out = Command::new(env!("CARGO_BIN_EXE_auditwire"))
            .args(["serve", "--addr", "127.0.0.1:0", "--api-key-file"])
            .arg(path)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{stderr}");
        assert!(out.stdout.is_empty(), "it must not listen");
        assert!(
            stderr.contains(why) && stderr.contains(path.to_str().unwrap()),
            "{stderr}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn help_names_every_source_of_the_key() {
    let out = Command::new(env!("CARGO_BIN_EXE_auditwire"))
        .args(["serve", "--help"])
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(help.contains("--api-key-file"), "{help}");
    assert!(help.contains("AUDITWIRE_SERVE_API_KEY"), "{help}");
}

#[test]
fn database_files_are_readable_by_their_owner_only() {
    // A usual umask, so the check does not depend on the one the tests run with.
    // SAFETY: umask only sets this process's file-creation mask.
    unsafe { libc::umask(0o022) };
    let dir = temp_dir("dbmode");
    let db = dir.join("events.sqlite");
    let s = TestServer::start(&["--db", db.to_str().unwrap()]);
    assert_eq!(post(&s, "/audit_logs/events", &sample_event()).status, 201);
    for name in ["events.sqlite", "events.sqlite-wal", "events.sqlite-shm"] {
        let mode = std::fs::metadata(dir.join(name))
            .unwrap_or_else(|e| panic!("{name}: {e}"))
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "{name} has mode {:o}", mode & 0o777);
    }
    s.stop();
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_test_endpoints_require_the_configured_key() {
    let s = TestServer::start(&["--api-key", "sk_right"]);
    let base = s.base_url();
    for (method, path) in [("GET", "/__stats"), ("POST", "/__reset")] {
        let url = format!("{base}{path}");
        for key in [None, Some("sk_wrong")] {
            let r = send(method, &url, key, &[], None).unwrap();
            assert_eq!(r.status, 401, "{method} {path} with {key:?}: {}", r.text);
            assert!(r.json["message"].as_str().is_some());
        }
        let r = send(method, &url, Some("sk_right"), &[], None).unwrap();
        assert_eq!(r.status, 200, "{method} {path}: {}", r.text);
    }
    // A server that accepts any key keeps them open.
    let open = TestServer::start(&[]);
    let r = send(
        "GET",
        &format!("{}/__stats", open.base_url()),
        None,
        &[],
        None,
    )
    .unwrap();
    assert_eq!(r.status, 200);
}
