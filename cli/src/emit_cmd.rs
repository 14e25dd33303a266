//! `auditwire emit`: newline-delimited events on stdin, delivered through a `Client`.

use std::io::{BufRead, IsTerminal, Write};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use auditwire::{
    Client, Config, CreateEventBody, Durability, EmitError, EmitOptions, LegacyEvent, Overflow,
    ValidationError,
};
use indicatif::{ProgressBar, ProgressStyle};

/// Options of `auditwire emit`.
#[derive(clap::Args)]
pub struct EmitArgs {
    /// Each line is a flat v1 event of `@workos-inc/js` instead of `{"organization_id", "event"}`.
    #[arg(long)]
    legacy: bool,
    #[command(flatten)]
    connection: crate::connection_args::ConnectionArgs,
    /// Delivery workers: requests in flight at once, each on its own keep-alive connection.
    #[arg(long, default_value_t = auditwire::DEFAULT_WORKERS)]
    workers: usize,
    /// Queue capacity in events; reading pauses while the queue is full.
    #[arg(long, default_value_t = auditwire::DEFAULT_QUEUE_CAPACITY)]
    queue: usize,
    /// Seconds to wait for delivery after the last line.
    #[arg(long, default_value_t = 60.0)]
    flush_timeout: f64,
    /// Disk spool directory: each event is committed there before it counts as accepted;
    /// what is undelivered at exit stays there for the next run (or `auditwire spool drain`).
    #[arg(long)]
    spool: Option<std::path::PathBuf>,
    /// Spool bound in bytes.
    #[arg(long, default_value_t = auditwire::DEFAULT_SPOOL_MAX_BYTES, requires = "spool")]
    spool_max_bytes: u64,
    /// fsync each spool commit (survives power loss, not only a killed process).
    #[arg(long, requires = "spool")]
    fsync: bool,
    /// Print `accepted LINE KEY` on stdout as each event is accepted.
    #[arg(long)]
    print_accepted: bool,
}

/// Per-line refusals are printed as `line N: path: message`.
fn report(err: &mut impl Write, line: usize, e: &ValidationError) {
    for p in e.problems() {
        let _ = writeln!(err, "line {line}: {p}");
    }
}

/// Runs the command: 0 when every line was accepted and every accepted event delivered.
pub fn run(args: EmitArgs) -> ExitCode {
    let Some(flush_timeout) = secs(args.flush_timeout) else {
        eprintln!("--flush-timeout must be a non-negative number of seconds");
        return ExitCode::from(2);
    };
    let mut builder = Config::builder()
        .workers(args.workers)
        .queue_capacity(args.queue)
        .shutdown_timeout(Duration::ZERO)
        .user_agent_suffix("emit");
    builder = match &args.spool {
        // With a spool, a full queue spills to disk (the default).
        Some(dir) => builder
            .spool_dir(dir)
            .spool_max_bytes(args.spool_max_bytes)
            .durability(if args.fsync {
                Durability::PowerLoss
            } else {
                Durability::Process
            }),
        // Reading waits for room rather than dropping lines.
        None => builder.overflow(Overflow::Block(Duration::from_secs(24 * 3600))),
    };
    builder = args.connection.apply(builder);
    let client = match builder.build().and_then(Client::try_new) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("auditwire emit: {e}");
            return ExitCode::from(2);
        }
    };
    let started = Instant::now();
    let bar = std::io::stderr().is_terminal().then(|| {
        let bar = ProgressBar::new_spinner();
        bar.set_style(
            ProgressStyle::with_template("{spinner} {msg} [{elapsed}]")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        bar.enable_steady_tick(Duration::from_millis(120));
        bar
    });
    let progress = |client: &Client| {
        if let Some(bar) = &bar {
            let s = client.stats();
            bar.set_message(format!(
                "accepted {} · delivered {} · rejected {} · expired {} · pending {}",
                s.accepted,
                s.delivered,
                s.rejected,
                s.expired,
                s.pending()
            ));
        }
    };
    let stdin = std::io::stdin();
    let mut input = stdin.lock();
    let mut line = Vec::new();
    let (mut number, mut invalid, mut other_refusals) = (0usize, 0u64, 0u64);
    loop {
        line.clear();
        match input.read_until(b'\n', &mut line) {
            Ok(0) => break,
            Ok(_) => {}
            Err(e) => {
                eprintln!("auditwire emit: cannot read stdin: {e}");
                return ExitCode::from(2);
            }
        }
        number += 1;
        let text = trim(&line);
        if text.is_empty() {
            continue;
        }
        let result = if args.legacy {
            LegacyEvent::from_json(text)
                .map_err(EmitError::Invalid)
                .and_then(|e| client.emit_legacy(&e, EmitOptions::default()))
        } else {
            CreateEventBody::from_json(text)
                .map_err(EmitError::Invalid)
                .and_then(|b| client.emit_body(&b, EmitOptions::default()))
        };
        match result {
            Ok(receipt) => {
                if args.print_accepted {
                    let mut out = std::io::stdout().lock();
                    let _ = writeln!(out, "accepted {number} {}", receipt.idempotency_key())
                        .and_then(|()| out.flush());
                }
            }
            Err(EmitError::Invalid(e)) => {
                invalid += 1;
                let err = std::io::stderr();
                let mut err = err.lock();
                report(&mut err, number, &e);
            }
            Err(e) => {
                other_refusals += 1;
                eprintln!("line {number}: not sent: {e}");
            }
        }
        if number % 1024 == 0 {
            progress(&client);
        }
    }
    let accepted = client.stats().accepted;
    if let Some(bar) = &bar {
        bar.suspend(|| eprintln!("accepted {accepted}"));
    } else {
        eprintln!("accepted {accepted}");
    }
    let deadline = Instant::now() + flush_timeout;
    let mut remaining = client.flush(Duration::ZERO);
    while remaining > 0 {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break;
        }
        remaining = client.flush(left.min(Duration::from_millis(200)));
        progress(&client);
    }
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    // In-flight requests are cancelled now: their events are in doubt (re-sent from the
    // spool under the same key by the next run, if there is one).
    let report = client.shutdown_report(Duration::ZERO);
    let s = client.stats();
    if let Some(line) = report.exit_message() {
        eprintln!("{line}");
    }
    let summary = serde_json::json!({
        "accepted": s.accepted,
        "delivered": s.delivered,
        "rejected": s.rejected,
        "expired": s.expired,
        "remaining": report.remaining,
        "spooled": report.spooled,
        "lost": report.lost,
        "in_doubt": report.in_doubt,
        "seconds": (started.elapsed().as_secs_f64() * 1000.0).round() / 1000.0,
        "invalid": invalid,
        "refused": other_refusals,
    });
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{summary}").and_then(|()| out.flush());
    if s.delivered == s.accepted && invalid == 0 && other_refusals == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

fn trim(line: &[u8]) -> &[u8] {
    let start = line
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(line.len());
    let end = line
        .iter()
        .rposition(|b| !b.is_ascii_whitespace())
        .map_or(start, |e| e + 1);
    &line[start..end]
}

pub(crate) fn secs(v: f64) -> Option<Duration> {
    (0.0..1e9).contains(&v).then(|| Duration::from_secs_f64(v))
}
