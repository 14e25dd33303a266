//! The API key never shows: not in any log record (at trace level), error message, `Debug`
//! output, CLI output or server output of a run full of rejections, faults and retries.

mod common;

use std::io::Write;
use std::process::{Command, Output, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use auditwire::{
    Actor, Client, Config, Context, CreateExportRequest, EmitOptions, Event, Target, Timestamp,
};
use common::TestServer;

/// Recognisable, and refused by every server below that names its own key.
const SECRET: &str = "sk_test_SECRET_b7f3c2a9e1d4";

/// Every log record of this process, formatted with its target.
struct Capture(Mutex<Vec<String>>);

impl log::Log for Capture {
    fn enabled(&self, _: &log::Metadata<'_>) -> bool {
        true
    }
    fn log(&self, r: &log::Record<'_>) {
        let line = format!("{} {}: {}", r.level(), r.target(), r.args());
        self.0.lock().unwrap().push(line);
    }
    fn flush(&self) {}
}

fn capture() -> &'static Capture {
    static LOGS: OnceLock<&'static Capture> = OnceLock::new();
    LOGS.get_or_init(|| {
        let c: &'static Capture = Box::leak(Box::new(Capture(Mutex::new(Vec::new()))));
        log::set_logger(c).expect("logger");
        log::set_max_level(log::LevelFilter::Trace);
        c
    })
}

fn event(n: usize) -> Event {
    Event {
        action: "user.signed_in".into(),
        occurred_at: Timestamp::now(),
        version: None,
        actor: Actor::new(format!("user_{n}"), "user"),
        targets: vec![Target::new("team_1", "team")],
        context: Context::new("1.1.1.1"),
        metadata: None,
    }
}

fn client(url: &str) -> Client {
    Client::new(
        Config::builder()
            .api_key(SECRET)
            .base_url(url)
            .max_retries(2)
            .backoff(auditwire::Backoff {
                base: Duration::from_millis(1),
                factor: 2.0,
                cap: Duration::from_millis(5),
            })
            .retry_after_cap(Duration::from_millis(10))
            .timeout(Duration::from_secs(2))
            .ignore_env(true)
            .build()
            .unwrap(),
    )
}

fn assert_clean(what: &str, text: &str) {
    assert!(!text.contains(SECRET), "{what} shows the API key:\n{text}");
    // Not even a recognisable part of it.
    assert!(
        !text.contains("b7f3c2a9e1d4"),
        "{what} shows part of the API key"
    );
}

#[test]
fn library_logs_errors_and_debug_output_never_show_the_key() {
    let logs = capture();
    let mut seen = String::new();
    // A server that knows another key: every event is rejected with 401.
    let refusing = TestServer::start(&["--api-key", "sk_test_the_right_one"]);
    let c = client(&refusing.base_url());
    for n in 0..20 {
        let err = c
            .create_event("org_1", &event(n), EmitOptions::default())
            .unwrap_err();
        seen.push_str(&format!("{err}\n{err:?}\n"));
    }
    let export = c
        .create_export(&CreateExportRequest::new(
            "org_1",
            Timestamp::parse("2026-01-01T00:00:00Z").unwrap(),
            Timestamp::now(),
        ))
        .unwrap_err();
    seen.push_str(&format!("{export}\n{export:?}\n{:?}\n", c.config()));
    seen.push_str(&format!("{:?}\n", Config::builder().api_key(SECRET)));
    c.shutdown(Duration::from_secs(5));
    // A faulty server: retries, resets, timeouts, 429s, expiries.
    let faulty = TestServer::start(&[
        "--fail-rate",
        "0.7",
        "--fail-with",
        "500,503,429,reset,timeout",
        "--hold-ms",
        "1000",
        "--retry-after",
        "0",
    ]);
    let c = client(&faulty.base_url());
    for n in 0..25 {
        match c.create_event("org_1", &event(n), EmitOptions::default()) {
            Ok(o) => seen.push_str(&format!("{o:?}\n")),
            Err(e) => seen.push_str(&format!("{e}\n{e:?}\n")),
        }
    }
    c.shutdown(Duration::from_secs(5));
    let records = logs.0.lock().unwrap().join("\n");
    assert!(
        records.contains("rejected") && records.contains("401"),
        "the rejections were logged:\n{records}"
    );
    assert_clean("a log record", &records);
    assert_clean("an error or Debug output", &seen);
    assert_clean("the refusing server's output", &refusing.stderr());
    assert_clean("the faulty server's output", &faulty.stderr());
}

fn cli(args: &[&str], stdin: &str, base_url: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_auditwire"))
        .args(args)
        .env("WORKOS_API_KEY", SECRET)
        .env("WORKOS_BASE_URL", base_url)
        .env("RUST_LOG", "trace")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn auditwire");
    let mut input = child.stdin.take().unwrap();
    input.write_all(stdin.as_bytes()).unwrap();
    drop(input);
    child.wait_with_output().expect("wait")
}

#[test]
fn cli_output_never_shows_the_key() {
    let refusing = TestServer::start(&["--api-key", "sk_test_the_right_one"]);
    let url = refusing.base_url();
    let line = serde_json::json!({"organization_id": "org_1", "event": {
        "action": "user.signed_in", "occurred_at": "2026-02-02T16:35:39.317Z",
        "actor": {"id": "u", "type": "user"}, "targets": [{"id": "t", "type": "team"}],
        "context": {"location": "1.1.1.1"}}})
    .to_string();
    let spool = std::env::temp_dir().join(format!("auditwire-hygiene-{}", std::process::id()));
    let runs = [
        cli(
            &["emit", "--flush-timeout", "10"],
            &format!("{line}\n{line}\n"),
            &url,
        ),
        cli(
            &[
                "emit",
                "--spool",
                spool.to_str().unwrap(),
                "--flush-timeout",
                "10",
            ],
            &format!("{line}\n"),
            &url,
        ),
        cli(&["spool", "status", spool.to_str().unwrap()], "", &url),
        cli(&["spool", "dead", spool.to_str().unwrap()], "", &url),
        cli(
            &[
                "export",
                "--org",
                "org_1",
                "--since",
                "2026-01-01",
                "--until",
                "2026-02-01",
            ],
            "",
            &url,
        ),
    ];
    for (i, out) in runs.iter().enumerate() {
        let text = format!(
            "{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert_clean(&format!("CLI run {i}"), &text);
    }
    assert!(!runs[0].status.success(), "rejected events fail `emit`");
    assert!(
        String::from_utf8_lossy(&runs[4].stderr).contains("401")
            || String::from_utf8_lossy(&runs[4].stderr)
                .to_lowercase()
                .contains("unauthorized"),
        "export names the refusal: {}",
        String::from_utf8_lossy(&runs[4].stderr)
    );
    assert_clean("the server's output", &refusing.stderr());
    std::fs::remove_dir_all(&spool).ok();
}

#[test]
fn credentials_in_a_base_url_never_show() {
    let password = "pw_b7f3c2a9e1d4";
    let url = format!("https://user:{password}@127.0.0.1:1");
    let mut seen = String::new();
    for args in [
        &["emit", "--flush-timeout", "1"][..],
        &[
            "export",
            "--org",
            "org_1",
            "--since",
            "2026-01-01",
            "--until",
            "2026-02-01",
        ][..],
    ] {
        // From the environment, then from the command line. No input: the configuration is
        // refused before any is read (writing some could meet a closed pipe).
        let out = cli(args, "", &url);
        let with_flag = [args, &["--base-url", url.as_str()]].concat();
        let out2 = cli(&with_flag, "", "https://api.workos.com");
        for o in [out, out2] {
            assert!(!o.status.success(), "{args:?} refuses the URL");
            seen.push_str(&String::from_utf8_lossy(&o.stdout));
            seen.push_str(&String::from_utf8_lossy(&o.stderr));
        }
    }
    let e = Config::builder()
        .api_key(SECRET)
        .base_url(&url)
        .ignore_env(true)
        .build()
        .unwrap_err();
    seen.push_str(&format!("{e}\n{e:?}\n"));
    seen.push_str(&format!("{:?}\n", Config::builder().base_url(&url)));
    assert!(
        !seen.contains(password),
        "the URL's password shows:\n{seen}"
    );
    assert!(seen.contains("https://***@127.0.0.1:1"), "{seen}");
    assert_clean("a refused base URL", &seen);
}
