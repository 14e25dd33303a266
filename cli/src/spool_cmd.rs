//! `auditwire spool`: inspect, retry and drain a disk spool directory.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use auditwire::{Client, Config, SpoolStatus};
use clap::Subcommand;

/// Options of `auditwire spool`.
#[derive(clap::Args)]
pub struct SpoolArgs {
    #[command(subcommand)]
    command: SpoolCommand,
}

#[derive(Subcommand)]
enum SpoolCommand {
    /// Pending events, dead letters, oldest event and size, per run and in total (JSON).
    Status {
        /// The spool directory.
        dir: PathBuf,
    },
    /// List dead letters with the server's answer, one JSON object per line.
    Dead {
        /// The spool directory.
        dir: PathBuf,
    },
    /// Move dead letters back to pending (runs owned by a live process are skipped).
    Retry {
        /// The spool directory.
        dir: PathBuf,
    },
    /// Deliver everything pending (adopting runs of dead processes), then print a summary.
    Drain(DrainArgs),
}

/// Options of `auditwire spool drain`.
#[derive(clap::Args)]
struct DrainArgs {
    /// The spool directory.
    dir: PathBuf,
    #[command(flatten)]
    connection: crate::connection_args::ConnectionArgs,
    /// Delivery workers: requests in flight at once, each on its own keep-alive connection.
    #[arg(long, default_value_t = auditwire::DEFAULT_WORKERS)]
    workers: usize,
    /// Events held in memory at a time (the rest is read from disk as delivery goes).
    #[arg(long, default_value_t = auditwire::DEFAULT_QUEUE_CAPACITY)]
    queue: usize,
    /// Seconds to keep delivering before giving up (what is left stays spooled).
    #[arg(long, default_value_t = 600.0)]
    timeout: f64,
}

/// Runs `auditwire spool …`.
pub fn run(args: SpoolArgs) -> ExitCode {
    match args.command {
        SpoolCommand::Status { dir } => status(&dir),
        SpoolCommand::Dead { dir } => dead(&dir),
        SpoolCommand::Retry { dir } => retry(&dir),
        SpoolCommand::Drain(a) => drain(a),
    }
}

fn fail(e: impl std::fmt::Display) -> ExitCode {
    eprintln!("auditwire spool: {e}");
    ExitCode::from(2)
}

fn print(v: &serde_json::Value) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{v}").and_then(|()| out.flush());
}

fn rfc3339(ms: i64) -> Option<String> {
    jiff::Timestamp::from_millisecond(ms)
        .ok()
        .map(|t| t.to_string())
}

fn status_json(s: &SpoolStatus) -> serde_json::Value {
    let runs: Vec<serde_json::Value> = s
        .runs
        .iter()
        .map(|r| {
            serde_json::json!({
                "file": r.path.display().to_string(),
                "live": r.live,
                "pending": r.pending,
                "dead_letters": r.dead_letters,
                "oldest_event": r.oldest_accepted_ms.and_then(rfc3339),
                "size_bytes": r.size_bytes,
                "error": r.error,
            })
        })
        .collect();
    serde_json::json!({
        "pending": s.pending(),
        "dead_letters": s.dead_letters(),
        "oldest_event": s.oldest_accepted_ms().and_then(rfc3339),
        "size_bytes": s.size_bytes(),
        "runs": runs,
    })
}

fn status(dir: &Path) -> ExitCode {
    match auditwire::spool_status(dir) {
        Ok(s) => {
            print(&status_json(&s));
            let bad: Vec<_> = s.runs.iter().filter(|r| r.error.is_some()).collect();
            for r in &bad {
                eprintln!(
                    "auditwire spool: {}: {} (left untouched)",
                    r.path.display(),
                    r.error.as_deref().unwrap_or_default()
                );
            }
            if bad.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        Err(e) => fail(e),
    }
}

fn dead(dir: &Path) -> ExitCode {
    match auditwire::spool_dead_letters(dir) {
        Ok(letters) => {
            for d in &letters {
                let errors = d
                    .errors
                    .as_deref()
                    .and_then(|e| serde_json::from_str::<serde_json::Value>(e).ok());
                print(&serde_json::json!({
                    "idempotency_key": d.idempotency_key,
                    "organization_id": d.organization_id,
                    "outcome": d.outcome,
                    "status": d.status,
                    "code": d.code,
                    "message": d.message,
                    "errors": errors,
                    "request_id": d.request_id,
                    "attempts": d.attempts,
                    "accepted_at": rfc3339(d.accepted_ms),
                    "dead_at": rfc3339(d.dead_ms),
                    "body": d.body,
                }));
            }
            eprintln!("{} dead letter(s)", letters.len());
            ExitCode::SUCCESS
        }
        Err(e) => fail(e),
    }
}

fn retry(dir: &Path) -> ExitCode {
    match auditwire::spool_retry(dir) {
        Ok(r) => {
            for p in &r.skipped_live {
                eprintln!(
                    "auditwire spool: {} is owned by a live process; skipped",
                    p.display()
                );
            }
            for (p, why) in &r.skipped_untrusted {
                eprintln!(
                    "auditwire spool: {}: {why}; skipped, left untouched",
                    p.display()
                );
            }
            print(&serde_json::json!({
                "moved": r.moved,
                "skipped_live": r.skipped_live.len(),
                "skipped_untrusted": r.skipped_untrusted.len(),
            }));
            ExitCode::SUCCESS
        }
        Err(e) => fail(e),
    }
}

fn drain(args: DrainArgs) -> ExitCode {
    let Some(timeout) = crate::emit_cmd::secs(args.timeout) else {
        return fail("--timeout must be a non-negative number of seconds");
    };
    if !args.dir.is_dir() {
        return fail(format!("{}: no such directory", args.dir.display()));
    }
    let started = Instant::now();
    let mut builder = Config::builder()
        .spool_dir(&args.dir)
        .workers(args.workers)
        .queue_capacity(args.queue)
        .shutdown_timeout(Duration::ZERO)
        .user_agent_suffix("spool-drain");
    builder = args.connection.apply(builder);
    let client = match builder.build().and_then(Client::try_new) {
        Ok(c) => c,
        Err(e) => return fail(e),
    };
    let deadline = started + timeout;
    let mut remaining = client.flush(Duration::ZERO);
    while remaining > 0 {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break;
        }
        remaining = client.flush(left.min(Duration::from_millis(500)));
    }
    let report = client.shutdown_report(Duration::ZERO);
    let s = client.stats();
    let live = auditwire::spool_status(&args.dir)
        .map(|st| st.runs.iter().filter(|r| r.live).count())
        .unwrap_or(0);
    print(&serde_json::json!({
        "adopted": s.adopted,
        "delivered": s.delivered,
        "delivered_late": s.delivered_late,
        "rejected": s.rejected,
        "expired": s.expired,
        "spooled": report.spooled,
        "live_runs_skipped": live,
        "seconds": (started.elapsed().as_secs_f64() * 1000.0).round() / 1000.0,
    }));
    if report.spooled == 0 && s.rejected == 0 && s.expired == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
