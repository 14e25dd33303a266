//! Shared state and the router of the API.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use auditwire::ParseLimits;
use axum::middleware;
use axum::routing::{get, post};
use axum::Router;

use super::args::ServeArgs;
use super::errors::ApiError;
use super::faults::Faults;
use super::registry::SchemaRegistry;
use super::stats::Stats;
use super::storage::Db;
use super::{auth, control, events, exports, retention, schemas};

/// Everything a handler needs.
pub struct AppState {
    /// The database.
    pub db: Arc<Db>,
    /// The only accepted API key, if set.
    pub api_key: Option<String>,
    /// Organizations that exist; `None` when every one does.
    pub orgs: Option<HashSet<String>>,
    /// `http://ADDR` of this server, for export URLs.
    pub public_url: String,
    /// Bounds on request bodies.
    pub limits: ParseLimits,
    /// Whether `/__stats` and `/__reset` answer.
    pub test_endpoints: bool,
    /// Delay before an export is built.
    pub export_delay: Duration,
    /// Delay added to every request.
    pub latency: Duration,
    /// How long a `timeout` fault holds a request.
    pub hold: Duration,
    /// `Retry-After` of injected 429 and 503 responses, in seconds.
    pub retry_after: u64,
    /// Counters.
    pub stats: Stats,
    /// Fault injection.
    pub faults: Faults,
    /// Compiled schemas, by action and version.
    pub registry: SchemaRegistry,
}

/// The state as handlers receive it.
pub type Shared = Arc<AppState>;

impl AppState {
    /// State for `args` with the resolved `api_key`, serving at `addr`, over `db`; compiles
    /// the stored schemas.
    pub fn new(
        args: &ServeArgs,
        api_key: Option<String>,
        db: Db,
        addr: SocketAddr,
    ) -> Result<AppState, String> {
        let registry = SchemaRegistry::default();
        let stored = db
            .all_schemas()
            .map_err(|e| format!("cannot read schemas: {e}"))?;
        for row in stored {
            registry.load(&row)?;
        }
        Ok(AppState {
            db: Arc::new(db),
            api_key,
            orgs: (!args.orgs.is_empty())
                .then(|| args.orgs.iter().map(|o| o.trim().to_owned()).collect()),
            public_url: format!("http://{addr}"),
            limits: ParseLimits {
                max_bytes: args.max_body_bytes,
                ..ParseLimits::default()
            },
            test_endpoints: args.test_endpoints,
            export_delay: Duration::from_millis(args.export_delay_ms),
            latency: Duration::from_millis(args.latency_ms),
            hold: Duration::from_millis(args.hold_ms),
            retry_after: args.retry_after,
            stats: Stats::default(),
            faults: Faults::new(args.fail_rate, args.fail_with.clone(), args.seed),
            registry,
        })
    }

    /// 404 unless the organization exists.
    pub fn check_org(&self, id: &str) -> Result<(), ApiError> {
        match &self.orgs {
            Some(orgs) if !orgs.contains(id) => Err(ApiError::org_not_found(id)),
            _ => Ok(()),
        }
    }

    /// Runs a database call: in place for an in-memory database (microseconds, no I/O),
    /// on the blocking pool for a file.
    pub async fn db<T, F>(&self, f: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&Db) -> rusqlite::Result<T> + Send + 'static,
    {
        if self.db.in_memory() {
            return Ok(f(&self.db)?);
        }
        let db = Arc::clone(&self.db);
        Ok(tokio::task::spawn_blocking(move || f(&db)).await??)
    }
}

/// The API routes (Bearer key required), export downloads and the test endpoints (the
/// configured key required when one is set).
pub fn router(state: Shared) -> Router {
    Router::new()
        .route("/audit_logs/events", post(events::create))
        .route("/events", post(events::create_legacy))
        .route("/audit_logs/exports", post(exports::create))
        .route("/audit_logs/exports/{id}", get(exports::get))
        .route("/audit_logs/actions", get(schemas::list_actions))
        .route(
            "/audit_logs/actions/{action}/schemas",
            post(schemas::create).get(schemas::list_schemas),
        )
        .route(
            "/organizations/{id}/audit_logs_retention",
            get(retention::get).put(retention::put),
        )
        .route_layer(middleware::from_fn_with_state(
            Arc::clone(&state),
            auth::require_key,
        ))
        .merge(
            Router::new()
                .route("/__stats", get(control::stats))
                .route("/__reset", post(control::reset))
                .route_layer(middleware::from_fn_with_state(
                    Arc::clone(&state),
                    auth::require_configured_key,
                )),
        )
        .route("/__exports/{file}", get(exports::download))
        .fallback(control::not_found)
        .method_not_allowed_fallback(control::method_not_allowed)
        .with_state(state)
}
