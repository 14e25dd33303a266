//! `auditwire`: validate events, run a local WorkOS-compatible Audit Logs server, and more.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

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
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Validate(args) => validate_cmd::run(args),
    }
}
