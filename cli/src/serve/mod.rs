//! `auditwire serve`: a local WorkOS-compatible Audit Logs server for development and tests.
//!
//! Same paths, bodies, status codes and error shapes as the WorkOS API (validation reuses
//! `core`), SQLite storage, idempotency keys for 24 h, CSV exports served from this server,
//! versioned schemas enforced with JSON Schema, and fault injection for testing clients.

mod app;
mod args;
mod auth;
mod body;
mod control;
mod csv;
mod errors;
mod events;
mod exports;
mod faults;
mod ids;
mod lists;
mod problems;
mod registry;
mod retention;
mod schemas;
mod server;
mod stats;
mod storage;

use std::io::Write;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

pub use args::ServeArgs;

use app::AppState;
use storage::Db;

/// Runs the server until Ctrl-C or SIGTERM; exit 1 when it cannot start.
pub fn run(args: ServeArgs) -> ExitCode {
    // One thread: no lock contention or cross-thread wake-ups per request (in-memory
    // database calls run in place); files and exports use the blocking pool.
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("auditwire serve: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(serve(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("auditwire serve: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(args: ServeArgs) -> Result<(), String> {
    let api_key = args.resolve_api_key()?;
    let db = match &args.db {
        Some(path) => {
            storage::create_private(path)
                .map_err(|e| format!("cannot create database {}: {e}", path.display()))?;
            Db::open(Some(path))
                .map_err(|e| format!("cannot open database {}: {e}", path.display()))?
        }
        None => Db::open(None).map_err(|e| format!("cannot open database: {e}"))?,
    };
    let listener = tokio::net::TcpListener::bind(args.addr)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", args.addr))?;
    let addr = listener
        .local_addr()
        .map_err(|e| format!("cannot read the listening address: {e}"))?;
    let state = Arc::new(AppState::new(&args, api_key, db, addr)?);
    exports::resume_pending(&state)?;
    spawn_key_purge(Arc::clone(&state));
    let router = app::router(Arc::clone(&state));
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "listening on http://{addr}")
            .and_then(|()| out.flush())
            .map_err(|e| format!("cannot write to stdout: {e}"))?;
    }
    server::accept_loop(listener, state, router).await;
    Ok(())
}

/// Forgets expired idempotency keys every ten minutes.
fn spawn_key_purge(st: app::Shared) {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(Duration::from_secs(600));
        loop {
            every.tick().await;
            let cutoff = ids::now_millis() - events::KEY_WINDOW_MS;
            if let Err(e) = st.db(move |db| db.purge_keys(cutoff)).await {
                eprintln!("auditwire serve: cannot purge idempotency keys: {e:?}");
            }
        }
    });
}
