//! Fault injection: seeded rates, Retry-After, real connection resets, held requests, latency.

mod common;

use std::time::{Duration, Instant};

use common::*;

/// Statuses of `n` sequential event posts (`0` for a transport error).
fn statuses(s: &TestServer, n: usize) -> Vec<u16> {
    let url = format!("{}/audit_logs/events", s.base_url());
    (0..n)
        .map(|_| {
            send("POST", &url, Some(KEY), &[], Some(&sample_event()))
                .map(|r| r.status)
                .unwrap_or(0)
        })
        .collect()
}

#[test]
fn fixed_seed_gives_the_rate_and_the_same_sequence() {
    let s = TestServer::start(&[
        "--fail-rate",
        "0.3",
        "--fail-with",
        "500,503,429",
        "--seed",
        "42",
        "--retry-after",
        "2",
    ]);
    let n = 400;
    let first = statuses(&s, n);
    let failed = first.iter().filter(|&&c| c != 201).count();
    assert!(
        (90..=150).contains(&failed),
        "{failed} of {n} failed; expected about 30%"
    );
    for code in [500, 503, 429] {
        assert!(first.contains(&code), "no {code} injected");
    }
    let stats = s.stats();
    assert_eq!(stats["faults_injected"], failed as u64);
    assert_eq!(stats["events_stored"], (n - failed) as u64);
    assert_eq!(stats["requests"], n as u64);
    // After a reset the seeded sequence starts again.
    s.reset();
    assert_eq!(statuses(&s, n), first);
    // 429 carries the WorkOS body and Retry-After; every response has a request id.
    let url = format!("{}/audit_logs/events", s.base_url());
    let r = loop {
        let r = send("POST", &url, Some(KEY), &[], Some(&sample_event())).unwrap();
        assert!(r.request_id.is_some());
        if r.status == 429 {
            break r;
        }
    };
    assert_eq!(r.json["code"], "rate_limit_exceeded");
    assert_eq!(r.header("retry-after"), Some("2"));
}

#[test]
fn reset_closes_the_connection_without_a_response() {
    let s = TestServer::start(&["--fail-rate", "1", "--fail-with", "reset"]);
    let url = format!("{}/audit_logs/events", s.base_url());
    for _ in 0..3 {
        let err = send("POST", &url, Some(KEY), &[], Some(&sample_event())).unwrap_err();
        // The socket is closed with no status line: an I/O (reset) or protocol error, never a response.
        assert!(
            matches!(err, ureq::Error::Io(_) | ureq::Error::Protocol(_)),
            "{err:?}"
        );
    }
    let stats = s.stats();
    assert_eq!(stats["faults"]["reset"], 3);
    assert_eq!(stats["events_stored"], 0);
}

#[test]
fn timeout_holds_the_request_without_blocking_others() {
    let s = TestServer::start(&[
        "--fail-rate",
        "1",
        "--fail-with",
        "timeout",
        "--hold-ms",
        "3000",
    ]);
    let url = format!("{}/audit_logs/events", s.base_url());
    let held = std::thread::spawn(move || {
        let started = Instant::now();
        let r = agent_with_timeout(Duration::from_millis(500))
            .post(&url)
            .header("Authorization", format!("Bearer {KEY}"))
            .send(sample_event());
        (r.map(|r| r.status().as_u16()), started.elapsed())
    });
    std::thread::sleep(Duration::from_millis(100));
    // Other requests (here the unfaulted stats endpoint) are served meanwhile.
    let started = Instant::now();
    assert_eq!(s.stats()["faults"]["timeout"], 1);
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    let (result, waited) = held.join().unwrap();
    assert!(matches!(result, Err(ureq::Error::Timeout(_))), "{result:?}");
    assert!(waited >= Duration::from_millis(450), "{waited:?}");
}

#[test]
fn short_hold_answers_504_and_latency_delays() {
    let s = TestServer::start(&[
        "--fail-rate",
        "1",
        "--fail-with",
        "timeout",
        "--hold-ms",
        "200",
        "--latency-ms",
        "100",
    ]);
    let started = Instant::now();
    let r = post(&s, "/audit_logs/events", &sample_event());
    assert_eq!(r.status, 504);
    assert!(
        started.elapsed() >= Duration::from_millis(300),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn bad_fault_options_are_refused() {
    for args in [
        ["--fail-with", "200"],
        ["--fail-with", "explode"],
        ["--fail-rate", "-1"],
    ] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_auditwire"))
            .args(["serve", "--addr", "127.0.0.1:0"])
            .args(args)
            .output()
            .unwrap();
        assert!(!out.status.success(), "{args:?}");
        assert!(!out.stderr.is_empty());
    }
}
