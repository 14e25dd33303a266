//! `auditwire export`: create an export, wait for it, and download its CSV.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use auditwire::{Client, Config, CreateExportRequest, ExportState, Timestamp};
use indicatif::{ProgressBar, ProgressStyle};

use crate::emit_cmd::secs;

/// Options of `auditwire export`.
#[derive(clap::Args)]
pub struct ExportArgs {
    /// The organization whose events are exported.
    #[arg(long)]
    org: String,
    /// Start of the range: ISO 8601 date-time with offset, or a date (midnight UTC).
    #[arg(long, value_parser = parse_time)]
    since: Timestamp,
    /// End of the range, in the same forms.
    #[arg(long, value_parser = parse_time)]
    until: Timestamp,
    /// Only this action (repeatable).
    #[arg(long = "action")]
    actions: Vec<String>,
    /// Only this actor id (repeatable).
    #[arg(long = "actor-id")]
    actor_ids: Vec<String>,
    /// Only this actor name (repeatable).
    #[arg(long = "actor-name")]
    actor_names: Vec<String>,
    /// Only events with a target of this type (repeatable).
    #[arg(long = "target")]
    targets: Vec<String>,
    /// Where to write the CSV; `-` or absent for stdout.
    #[arg(short = 'o', long = "output")]
    output: Option<PathBuf>,
    #[command(flatten)]
    connection: crate::connection_args::ConnectionArgs,
    /// Seconds between polls of the export's state.
    #[arg(long, default_value_t = 0.5)]
    poll_interval: f64,
    /// Seconds to wait for the export to become ready.
    #[arg(long, default_value_t = 600.0)]
    wait_timeout: f64,
}

fn parse_time(s: &str) -> Result<Timestamp, String> {
    let full = if s.len() == 10 && s.as_bytes().get(4) == Some(&b'-') {
        format!("{s}T00:00:00Z")
    } else {
        s.to_owned()
    };
    Timestamp::parse(&full).map_err(|e| e.to_string())
}

fn nonempty(v: Vec<String>) -> Option<Vec<String>> {
    (!v.is_empty()).then_some(v)
}

/// Runs the command: 0 with the CSV written, 1 when the export fails, 2 on usage errors.
pub fn run(args: ExportArgs) -> ExitCode {
    let (Some(poll), Some(wait)) = (secs(args.poll_interval), secs(args.wait_timeout)) else {
        eprintln!("auditwire export: --poll-interval and --wait-timeout take seconds");
        return ExitCode::from(2);
    };
    if args.until < args.since {
        eprintln!("auditwire export: --until is before --since");
        return ExitCode::from(2);
    }
    let mut builder = Config::builder()
        .workers(1)
        .shutdown_timeout(Duration::ZERO)
        .user_agent_suffix("export");
    builder = args.connection.apply(builder);
    let client = match builder.build() {
        Ok(c) => Client::new(c),
        Err(e) => {
            eprintln!("auditwire export: {e}");
            return ExitCode::from(2);
        }
    };
    let mut request = CreateExportRequest::new(args.org.clone(), args.since, args.until);
    request.actions = nonempty(args.actions);
    request.actor_ids = nonempty(args.actor_ids);
    request.actor_names = nonempty(args.actor_names);
    request.targets = nonempty(args.targets);
    let bar = std::io::stderr().is_terminal().then(|| {
        let bar = ProgressBar::new_spinner();
        bar.set_style(
            ProgressStyle::with_template("{spinner} {msg} [{elapsed}]")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        bar.enable_steady_tick(Duration::from_millis(120));
        bar.set_message("creating export");
        bar
    });
    let fail = |msg: String| {
        if let Some(bar) = &bar {
            bar.finish_and_clear();
        }
        eprintln!("auditwire export: {msg}");
        ExitCode::FAILURE
    };
    let mut export = match client.create_export(&request) {
        Ok(e) => e,
        Err(e) => return fail(format!("cannot create the export: {e}")),
    };
    let deadline = Instant::now() + wait;
    loop {
        match export.state {
            ExportState::Ready => break,
            ExportState::Error => {
                return fail(format!("export {} failed on the server", export.id))
            }
            ExportState::Expired => {
                return fail(format!(
                    "export {} expired before it was downloaded",
                    export.id
                ))
            }
            ExportState::Pending | ExportState::Unknown => {}
        }
        if Instant::now() >= deadline {
            return fail(format!(
                "export {} still not ready after {:?}",
                export.id, wait
            ));
        }
        if let Some(bar) = &bar {
            bar.set_message(format!("export {} pending", export.id));
        }
        std::thread::sleep(poll.min(deadline.saturating_duration_since(Instant::now())));
        export = match client.get_export(&export.id) {
            Ok(e) => e,
            Err(e) => return fail(format!("cannot read export {}: {e}", export.id)),
        };
    }
    if let Some(bar) = &bar {
        bar.set_message(format!("downloading export {}", export.id));
    }
    let csv = match client.download_export(&export) {
        Ok(b) => b,
        Err(e) => return fail(format!("cannot download export {}: {e}", export.id)),
    };
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    let written = match args.output.as_deref() {
        Some(p) if p.as_os_str() != "-" => {
            std::fs::write(p, &csv).map_err(|e| format!("cannot write {}: {e}", p.display()))
        }
        _ => {
            let mut out = std::io::stdout().lock();
            out.write_all(&csv)
                .and_then(|()| out.flush())
                .map_err(|e| format!("cannot write stdout: {e}"))
        }
    };
    match written {
        Ok(()) => {
            eprintln!("export {}: {} bytes", export.id, csv.len());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("auditwire export: {e}");
            ExitCode::FAILURE
        }
    }
}
