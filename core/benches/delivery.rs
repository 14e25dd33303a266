//! End-to-end delivery rate and client CPU per delivered event against a running server.
//!
//! `AUDITWIRE_BENCH_URL=http://127.0.0.1:PORT cargo bench -p auditwire --bench delivery`
//! Optional: `AUDITWIRE_BENCH_EVENTS` (default 100000), `AUDITWIRE_BENCH_WORKERS`
//! (default `8,16,32,64`), `AUDITWIRE_BENCH_RESET=1` to `POST /__reset` the server (run with
//! `--test-endpoints`) before each run so every run starts with an empty store.
//! Prints one JSON line per worker count. Used by `bench/delivery.sh`.

use std::time::{Duration, Instant};

use auditwire::{Actor, Client, Config, Context, EmitOptions, Event, Overflow, Target, Timestamp};

fn event(n: usize) -> Event {
    let mut actor = Actor::new(format!("user_{n}"), "user");
    actor.name = Some("Jon Smith".into());
    Event {
        action: "user.signed_in".into(),
        occurred_at: Timestamp::now(),
        version: None,
        actor,
        targets: vec![Target::new("team_01GBNJD4MKHVKJGEWK42JNMBGS", "team")],
        context: Context::new("123.123.123.123"),
        metadata: None,
    }
}

/// (user, system) CPU time of this process.
fn cpu_time() -> (Duration, Duration) {
    // SAFETY: getrusage fills the struct we pass.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) };
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    (tv(ru.ru_utime), tv(ru.ru_stime))
}

fn main() {
    let Ok(url) = std::env::var("AUDITWIRE_BENCH_URL") else {
        eprintln!("delivery bench skipped: set AUDITWIRE_BENCH_URL (bench/delivery.sh does)");
        return;
    };
    let n: usize = std::env::var("AUDITWIRE_BENCH_EVENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let workers: Vec<usize> = std::env::var("AUDITWIRE_BENCH_WORKERS")
        .unwrap_or_else(|_| "8,16,32,64".into())
        .split(',')
        .filter_map(|w| w.trim().parse().ok())
        .collect();
    let events: Vec<Event> = (0..n).map(event).collect();
    let reset = std::env::var_os("AUDITWIRE_BENCH_RESET").is_some();
    for w in workers {
        if reset {
            // The key the client uses: a server started with one requires it here too.
            ureq::post(format!("{url}/__reset"))
                .header("Authorization", "Bearer sk_bench")
                .send_empty()
                .expect("POST /__reset");
        }
        let client = Client::new(
            Config::builder()
                .api_key("sk_bench")
                .base_url(&url)
                .ignore_env(true)
                .workers(w)
                .overflow(Overflow::Block(Duration::from_secs(60)))
                // Room for every event: `emit_mean_us` is the caller's cost, not a wait.
                .queue_capacity(n.max(10_000))
                .queue_max_bytes(1 << 30)
                .build()
                .expect("config"),
        );
        let cpu0 = cpu_time();
        let t0 = Instant::now();
        for e in &events {
            client
                .emit("org_bench", e, EmitOptions::default())
                .expect("emit");
        }
        let emit_secs = t0.elapsed().as_secs_f64();
        let remaining = client.flush(Duration::from_secs(600));
        let secs = t0.elapsed().as_secs_f64();
        let s = client.stats();
        let cpu1 = cpu_time();
        let user = (cpu1.0 - cpu0.0).as_secs_f64();
        let sys = (cpu1.1 - cpu0.1).as_secs_f64();
        let per = |x: f64| x * 1e6 / s.delivered.max(1) as f64;
        println!(
            "{}",
            serde_json::json!({
                "workers": w,
                "events": n,
                "delivered": s.delivered,
                "remaining": remaining,
                "seconds": secs,
                "events_per_sec": s.delivered as f64 / secs,
                "emit_mean_us": emit_secs * 1e6 / n as f64,
                "cpu_us_per_event": per(user + sys),
                "user_us_per_event": per(user),
                "system_us_per_event": per(sys),
            })
        );
    }
}
