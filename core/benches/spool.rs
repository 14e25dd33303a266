//! `emit` into the disk spool: throughput and p50/p99/p99.9 latency from 1 and 8 threads, with
//! and without an fsync per group commit. Run: `cargo bench -p auditwire --bench spool`.
//!
//! The workers point at a local listener that never answers, so each holds one event in
//! flight: what is measured is the caller's path (validate, serialise, commit to SQLite).
//! `SPOOL_BENCH_EVENTS` sets the events per thread (default 25,000), `SPOOL_BENCH_THREADS`
//! the thread counts (default `1,8`).

use std::net::TcpListener;
use std::path::PathBuf;
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use auditwire::{
    Actor, Client, Config, Context, Durability, EmitOptions, Event, Metadata, Target, Timestamp,
};

fn event() -> Event {
    let mut actor = Actor::new("user_01GBNJC3MX9ZZJW1FSTF4C5938", "user");
    actor.name = Some("Jon Smith".into());
    let mut m = Metadata::new();
    m.insert("owner".into(), "user_01GBTCQ2".into());
    Event {
        action: "user.signed_in".into(),
        occurred_at: Timestamp::parse("2026-02-02T16:35:39.317Z").unwrap(),
        version: None,
        actor,
        targets: vec![Target::new("team_01GBNJD4MKHVKJGEWK42JNMBGS", "team")],
        context: Context::new("123.123.123.123"),
        metadata: Some(m),
    }
}

fn run(url: &str, threads: usize, per_thread: usize, durability: Durability) {
    let dir: PathBuf = std::env::temp_dir().join(format!(
        "auditwire-bench-spool-{}-{threads}-{durability:?}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    let client = Arc::new(
        Client::try_new(
            Config::builder()
                .api_key("sk_bench")
                .base_url(url)
                .ignore_env(true)
                .workers(1)
                .timeout(Duration::from_secs(600))
                .spool_dir(&dir)
                .durability(durability)
                .shutdown_timeout(Duration::ZERO)
                .build()
                .unwrap(),
        )
        .unwrap(),
    );
    let ev = event();
    let barrier = Arc::new(Barrier::new(threads + 1));
    let handles: Vec<_> = (0..threads)
        .map(|_| {
            let (client, barrier, ev) = (client.clone(), barrier.clone(), ev.clone());
            std::thread::spawn(move || {
                let mut lat = Vec::with_capacity(per_thread);
                barrier.wait();
                for _ in 0..per_thread {
                    let t = Instant::now();
                    client
                        .emit("org_bench", &ev, EmitOptions::default())
                        .unwrap();
                    lat.push(t.elapsed());
                }
                lat
            })
        })
        .collect();
    barrier.wait();
    let cpu0 = cpu_time();
    let t0 = Instant::now();
    let mut lat: Vec<Duration> = handles
        .into_iter()
        .flat_map(|h| h.join().unwrap())
        .collect();
    let elapsed = t0.elapsed();
    let cpu = cpu_time() - cpu0;
    lat.sort();
    let q = |p: f64| lat[((lat.len() as f64 * p) as usize).min(lat.len() - 1)];
    println!(
        "spool emit  threads={threads:<2} durability={durability:<9?} events={:<7} rate={:>9.0}/s  p50={:>7.1?}  p99={:>7.1?}  p999={:>7.1?}  cpu={:>5.1}µs/event",
        lat.len(),
        lat.len() as f64 / elapsed.as_secs_f64(),
        q(0.50),
        q(0.99),
        q(0.999),
        cpu.as_secs_f64() * 1e6 / lat.len() as f64,
    );
    drop(client);
    let _ = std::fs::remove_dir_all(&dir);
}

/// User plus system CPU time of this process so far.
fn cpu_time() -> Duration {
    // SAFETY: getrusage only writes the struct it is given.
    let ru = unsafe {
        let mut ru: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_SELF, &mut ru);
        ru
    };
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    tv(ru.ru_utime) + tv(ru.ru_stime)
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` passes nothing: run small.
    let quick = !std::env::args().any(|a| a == "--bench");
    let per_thread: usize = std::env::var("SPOOL_BENCH_EVENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(if quick { 200 } else { 25_000 });
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    for durability in [Durability::Process, Durability::PowerLoss] {
        let threads_list: Vec<usize> = match std::env::var("SPOOL_BENCH_THREADS") {
            Ok(v) => v.split(',').filter_map(|t| t.trim().parse().ok()).collect(),
            Err(_) => vec![1, 8],
        };
        for &threads in &threads_list {
            let n = if durability == Durability::PowerLoss && !quick {
                per_thread / 10
            } else {
                per_thread
            };
            run(&url, threads, n, durability);
        }
    }
    drop(listener);
}
