//! Peak memory with 1,000,000 events queued: the server accepts connections and never
//! answers, so every event stays in the in-memory queue.
//!
//! `cargo bench -p auditwire --bench memory` prints one JSON line (`AUDITWIRE_BENCH_EVENTS`
//! changes the count). Used by `bench/run.sh`.

use std::io::Read;
use std::net::TcpListener;
use std::time::{Duration, Instant};

use auditwire::{Actor, Client, Config, Context, EmitOptions, Event, Target, Timestamp};

/// A kibibyte figure from /proc/self/status (`VmHWM`, `VmRSS`).
fn status_kib(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let n: usize = std::env::var("AUDITWIRE_BENCH_EVENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    // A server that takes requests and never answers.
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for s in listener.incoming().flatten() {
            let mut s2 = s.try_clone().expect("clone");
            std::thread::spawn(move || {
                let mut sink = [0u8; 4096];
                while matches!(s2.read(&mut sink), Ok(k) if k > 0) {}
            });
            held.push(s);
        }
    });
    let client = Client::new(
        Config::builder()
            .api_key("sk_bench")
            .base_url(&url)
            .ignore_env(true)
            .workers(4)
            .timeout(Duration::from_secs(3600))
            .queue_capacity(n + 16)
            .queue_max_bytes(8 << 30)
            .shutdown_timeout(Duration::ZERO)
            .build()
            .expect("config"),
    );
    let base_kib = status_kib("VmRSS:");
    let t0 = Instant::now();
    let when = Timestamp::now();
    for i in 0..n {
        let mut actor = Actor::new(format!("user_{i:08}"), "user");
        actor.name = Some("Jon Smith".into());
        let event = Event {
            action: "user.signed_in".into(),
            occurred_at: when,
            version: None,
            actor,
            targets: vec![Target::new("team_01GBNJD4MKHVKJGEWK42JNMBGS", "team")],
            context: Context::new("123.123.123.123"),
            metadata: None,
        };
        client
            .emit(
                "org_01EHWNCE74X7JSDV0X3SZ3KJNY",
                &event,
                EmitOptions::default(),
            )
            .expect("emit");
    }
    let secs = t0.elapsed().as_secs_f64();
    let stats = client.stats();
    let peak_kib = status_kib("VmHWM:");
    println!(
        "{}",
        serde_json::json!({
            "events": n,
            "queued": stats.queued,
            "seconds": secs,
            "baseline_rss_mib": base_kib as f64 / 1024.0,
            "peak_rss_mib": peak_kib as f64 / 1024.0,
            "bytes_per_event": (peak_kib.saturating_sub(base_kib) * 1024) as f64 / n as f64,
        })
    );
    // Nothing will be delivered: leave without waiting.
    std::process::exit(0);
}
