//! `auditwire`: validate events, run a local WorkOS-compatible Audit Logs server, and more.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod connection_args;
mod emit_cmd;
mod export_cmd;
mod serve;
mod spool_cmd;
mod validate_cmd;

/// auditwire: audit events for the WorkOS Audit Logs API, delivered in the background.
#[derive(Parser)]
#[command(name = "auditwire", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Check one event read from stdin and print the exact body that would be sent.
    Validate(validate_cmd::ValidateArgs),
    /// Run a local WorkOS-compatible Audit Logs server (SQLite, exports, schemas, faults).
    Serve(serve::ServeArgs),
    /// Emit newline-delimited events from stdin through a background-delivery client.
    Emit(emit_cmd::EmitArgs),
    /// Export an organization's events to CSV.
    Export(export_cmd::ExportArgs),
    /// Inspect, retry and drain a disk spool directory.
    Spool(spool_cmd::SpoolArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Validate(args) => validate_cmd::run(args),
        Command::Serve(args) => serve::run(args),
        Command::Emit(args) => emit_cmd::run(args),
        Command::Export(args) => export_cmd::run(args),
        Command::Spool(args) => spool_cmd::run(args),
    }
}
