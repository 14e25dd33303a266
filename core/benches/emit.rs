//! Caller-side cost of `Client::emit`: validate, serialise once, key, enqueue.
//!
//! The workers point at a local listener that never answers, so each holds one event in
//! flight and the measured loop is the caller's work alone (no delivery on this thread).

use std::net::TcpListener;
use std::time::{Duration, Instant};

use auditwire::{Actor, Client, Config, Context, EmitOptions, Event, Target, Timestamp};
use criterion::{criterion_group, criterion_main, Criterion};

/// Events per client before it is dropped (unmeasured) to keep memory flat.
const CHUNK: u64 = 50_000;

fn event() -> Event {
    let mut actor = Actor::new("user_01GBNJC3MX9ZZJW1FSTF4C5938", "user");
    actor.name = Some("Jon Smith".into());
    let mut e = Event {
        action: "user.signed_in".into(),
        occurred_at: Timestamp::parse("2026-02-02T16:35:39.317Z").unwrap(),
        version: None,
        actor,
        targets: vec![Target::new("team_01GBNJD4MKHVKJGEWK42JNMBGS", "team")],
        context: Context::new("123.123.123.123"),
        metadata: None,
    };
    let mut m = auditwire::Metadata::new();
    m.insert("owner".into(), "user_01GBTCQ2".into());
    e.metadata = Some(m);
    e
}

fn client(url: &str) -> Client {
    Client::new(
        Config::builder()
            .api_key("sk_bench")
            .base_url(url)
            .ignore_env(true)
            .workers(1)
            .queue_capacity(CHUNK as usize + 16)
            .timeout(Duration::from_secs(300))
            .shutdown_timeout(Duration::ZERO)
            .build()
            .unwrap(),
    )
}

fn bench(c: &mut Criterion) {
    // A long-lived client's heap is not handed back to the system between emits. Dropping a
    // chunk's client frees all its memory (its workers are cancelled, not left holding an
    // event), and glibc would then trim the heap, so that the next chunk's emits page-fault
    // fresh pages: a cost of the bench's teardown, not of `emit`.
    // SAFETY: mallopt only sets an allocator parameter.
    unsafe { libc::mallopt(libc::M_TRIM_THRESHOLD, 1 << 30) };
    // Accepts connections (kernel backlog) and never answers.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let e = event();
    c.bench_function("emit (validate + serialise + key + enqueue)", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            let mut left = iters;
            while left > 0 {
                let n = left.min(CHUNK);
                let client = client(&url);
                let t0 = Instant::now();
                for _ in 0..n {
                    let r =
                        client.emit("org_01EHWNCE74X7JSDV0X3SZ3KJNY", &e, EmitOptions::default());
                    std::hint::black_box(r.unwrap());
                }
                total += t0.elapsed();
                drop(client);
                left -= n;
            }
            total
        })
    });
    drop(listener);
}

criterion_group!(benches, bench);
criterion_main!(benches);
