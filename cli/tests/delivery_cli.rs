//! `auditwire emit` and `auditwire export` against a real `auditwire serve`.

mod common;

use std::io::Write;
use std::process::{Command, Output, Stdio};

use common::{TestServer, KEY};

fn run(args: &[&str], stdin: &str, base_url: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_auditwire"))
        .args(args)
        .env("WORKOS_API_KEY", KEY)
        .env("WORKOS_BASE_URL", base_url)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn auditwire");
    let mut input = child.stdin.take().unwrap();
    let text = stdin.to_owned();
    let writer = std::thread::spawn(move || {
        let _ = input.write_all(text.as_bytes());
    });
    let out = child.wait_with_output().expect("wait");
    writer.join().unwrap();
    out
}

/// An RFC 3339 time `offset_ms` from now.
fn at(offset_ms: i64) -> String {
    let now = auditwire::Timestamp::now().unix_millis();
    auditwire::Timestamp::from_unix_millis(now + offset_ms)
        .unwrap()
        .to_rfc3339()
}

fn line(org: &str, n: usize) -> String {
    serde_json::json!({
        "organization_id": org,
        "event": {
            "action": if n % 2 == 0 { "user.signed_in" } else { "invoice.paid" },
            "occurred_at": at(-3_600_000),
            "actor": {"id": format!("user_{n}"), "type": "user", "name": format!("User {n}")},
            "targets": [{"id": format!("t_{n}"), "type": if n % 2 == 0 { "team" } else { "invoice" }}],
            "context": {"location": "127.0.0.1"}
        }
    })
    .to_string()
}

fn summary(out: &Output) -> serde_json::Value {
    let stdout = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<_> = stdout.lines().collect();
    assert_eq!(lines.len(), 1, "one summary line expected: {stdout}");
    serde_json::from_str(lines[0]).expect("summary JSON")
}

#[test]
fn emit_delivers_every_line_and_prints_a_summary() {
    let server = TestServer::start(&[]);
    let input: String = (0..2_000).map(|n| line("org_cli", n) + "\n").collect();
    let out = run(
        &[
            "emit",
            "--workers",
            "8",
            "--queue",
            "100",
            "--flush-timeout",
            "60",
        ],
        &input,
        &server.base_url(),
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "stderr: {stderr}");
    assert_eq!(
        stderr.trim(),
        "accepted 2000",
        "piped: nothing but the lines above"
    );
    let s = summary(&out);
    assert_eq!(s["accepted"], 2000);
    assert_eq!(s["delivered"], 2000);
    assert_eq!(
        (s["rejected"].as_u64(), s["expired"].as_u64()),
        (Some(0), Some(0))
    );
    assert_eq!(s["remaining"], 0);
    assert!(s["seconds"].as_f64().is_some());
    assert_eq!(server.stats()["events_stored"].as_u64(), Some(2000));
}

#[test]
fn emit_reports_invalid_lines_and_fails() {
    let server = TestServer::start(&[]);
    let mut input = String::new();
    input.push_str(&line("org_cli", 1));
    input.push('\n');
    input.push_str(r#"{"organization_id":"org_cli","event":{"action":"","occurred_at":"2026-02-02T16:35:39Z","actor":{"type":"user"},"targets":[],"context":{"location":"x"}}}"#);
    input.push('\n');
    input.push_str("not json\n");
    input.push_str(&line("org_cli", 2));
    input.push('\n');
    let out = run(&["emit"], &input, &server.base_url());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("line 2: event.action"), "{stderr}");
    assert!(stderr.contains("line 2: event.actor.id"), "{stderr}");
    assert!(stderr.contains("line 3:"), "{stderr}");
    assert!(stderr.contains("accepted 2"), "{stderr}");
    let s = summary(&out);
    assert_eq!(
        (s["accepted"].as_u64(), s["delivered"].as_u64()),
        (Some(2), Some(2))
    );
    assert_eq!(s["invalid"], 2);
    assert_eq!(server.stats()["events_stored"].as_u64(), Some(2));
}

#[test]
fn emit_fails_when_events_are_rejected_and_with_legacy_lines() {
    let server = TestServer::start(&["--api-key", "sk_other"]);
    let out = run(&["emit"], &(line("org_cli", 1) + "\n"), &server.base_url());
    assert!(!out.status.success());
    assert_eq!(summary(&out)["rejected"], 1);
    let server = TestServer::start(&[]);
    let legacy = r#"{"group":"org_legacy","action":"user.login","action_type":"C","actor_name":"a","actor_id":"u1","target_name":"t","target_id":"t1","location":"1.1.1.1","occurred_at":"2019-05-01T01:15:55.619Z","metadata":{}}"#;
    let out = run(
        &["emit", "--legacy"],
        &format!("{legacy}\n"),
        &server.base_url(),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(summary(&out)["delivered"], 1);
}

#[test]
fn export_writes_the_csv_of_matching_events() {
    let server = TestServer::start(&["--export-delay-ms", "300"]);
    let input: String = (0..10).map(|n| line("org_exp", n) + "\n").collect();
    let out = run(&["emit"], &input, &server.base_url());
    assert!(out.status.success());
    let dir = std::env::temp_dir().join(format!("auditwire-export-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("out.csv");
    let file_arg = file.to_str().unwrap();
    let (since, until) = (at(-86_400_000), at(60_000));
    let out = run(
        &[
            "export",
            "--org",
            "org_exp",
            "--since",
            &since,
            "--until",
            &until,
            "--action",
            "user.signed_in",
            "-o",
            file_arg,
        ],
        "",
        &server.base_url(),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let csv = std::fs::read_to_string(&file).unwrap();
    let rows = common::parse_csv(&csv);
    assert_eq!(
        rows.len(),
        1 + 5,
        "header and the five user.signed_in events: {csv}"
    );
    // Without filters, to stdout.
    let out = run(
        &[
            "export", "--org", "org_exp", "--since", &since, "--until", &until,
        ],
        "",
        &server.base_url(),
    );
    assert!(out.status.success());
    assert_eq!(
        common::parse_csv(&String::from_utf8_lossy(&out.stdout)).len(),
        11
    );
    // A server that refuses: a clear failure.
    let out = run(
        &[
            "export", "--org", "org_exp", "--since", &since, "--until", &until,
        ],
        "",
        "http://127.0.0.1:9",
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot create the export"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn emit_cut_by_its_flush_timeout_reports_in_doubt_and_lost_events() {
    // Each request takes 3 s; the command waits 0.5 s.
    let server = TestServer::start(&["--latency-ms", "3000"]);
    let input: String = (0..10).map(|n| line("org_doubt", n) + "\n").collect();
    let out = run(
        &["emit", "--workers", "2", "--flush-timeout", "0.5"],
        &input,
        &server.base_url(),
    );
    assert!(!out.status.success());
    let s = summary(&out);
    assert_eq!(
        (&s["in_doubt"], &s["lost"], &s["spooled"], &s["remaining"]),
        (&2.into(), &8.into(), &0.into(), &10.into()),
        "{s}"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(
            "auditwire: 10 event(s) not delivered at exit: 8 lost, 0 spooled, 2 in doubt"
        ),
        "{stderr}"
    );
}
