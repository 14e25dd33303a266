//! `auditwire validate`: one JSON document on stdin in, the wire body or every problem out.

use std::io::{Read, Write};
use std::process::ExitCode;

use auditwire::{CreateEventBody, LegacyEvent, ParseLimits, ValidationError};

/// Options of `auditwire validate`.
#[derive(clap::Args)]
pub struct ValidateArgs {
    /// Read a flat v1 event of `@workos-inc/js` instead of a current-API body.
    #[arg(long)]
    legacy: bool,
    /// With --legacy, print the v1 body for `POST /events` instead of the current-API body.
    #[arg(long, requires = "legacy")]
    v1_body: bool,
    /// On failure, print the problems as one JSON array on stdout (path, rule, message).
    #[arg(long)]
    problems_json: bool,
    /// Largest accepted document, in bytes.
    #[arg(long, default_value_t = ParseLimits::default().max_bytes)]
    max_bytes: usize,
}

/// Runs the command: exit 0 with the body on stdout, or 1 with problems on stderr.
pub fn run(args: ValidateArgs) -> ExitCode {
    let mut input = Vec::new();
    let limits = ParseLimits {
        max_bytes: args.max_bytes,
        ..ParseLimits::default()
    };
    // Read one byte past the limit so that oversize input is reported, not truncated.
    let cap = limits.max_bytes.saturating_add(1) as u64;
    if let Err(e) = std::io::stdin().take(cap).read_to_end(&mut input) {
        eprintln!("cannot read stdin: {e}");
        return ExitCode::FAILURE;
    }
    match body_for(&input, &args, &limits) {
        Ok(bytes) => {
            let mut out = std::io::stdout().lock();
            let written = out
                .write_all(&bytes)
                .and_then(|()| out.write_all(b"\n"))
                .and_then(|()| out.flush());
            if written.is_err() {
                return ExitCode::FAILURE;
            }
            ExitCode::SUCCESS
        }
        Err(e) if args.problems_json => {
            let problems: Vec<_> = e
                .problems()
                .iter()
                .map(|p| {
                    serde_json::json!({"path": p.path, "rule": p.rule.code(), "message": p.message})
                })
                .collect();
            println!("{}", serde_json::Value::Array(problems));
            ExitCode::FAILURE
        }
        Err(e) => {
            let mut err = std::io::stderr().lock();
            for p in e.problems() {
                let _ = writeln!(err, "{p}");
            }
            ExitCode::FAILURE
        }
    }
}

fn body_for(
    input: &[u8],
    args: &ValidateArgs,
    limits: &ParseLimits,
) -> Result<Vec<u8>, ValidationError> {
    if args.legacy {
        let event = LegacyEvent::from_json_with(input, limits)?;
        if args.v1_body {
            Ok(event.to_json())
        } else {
            Ok(event.to_current()?.to_json())
        }
    } else {
        Ok(CreateEventBody::from_json_with(input, limits)?.to_json())
    }
}
