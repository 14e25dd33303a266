//! Exports: `POST /audit_logs/exports` (built in the background), `GET …/{id}`, and the CSV download.

use auditwire::Timestamp;
use axum::body::Body;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Map, Value};

use super::app::Shared;
use super::body::{self, Fields};
use super::csv;
use super::errors::{json_response, ApiError};
use super::ids::{new_id, now_millis, rfc3339};
use super::schemas::path_param;
use super::storage::{Db, ExportFilter, ExportRow};

const FIELDS: [&str; 8] = [
    "organization_id",
    "range_start",
    "range_end",
    "actions",
    "actors",
    "actor_names",
    "actor_ids",
    "targets",
];

/// Most values one export filter list (`actions`, `actor_names`, `actor_ids`, `targets`) may
/// hold: four full lists stay far below SQLite's 32,766 bound parameters.
pub const MAX_FILTER_VALUES: usize = 1_000;

/// Starts an export: 201 `pending`; the CSV is built in the background.
pub async fn create(State(st): State<Shared>, body: Body) -> Result<Response, ApiError> {
    let bytes = body::read(body, st.limits.max_bytes).await?;
    let filter = parse_filter(&body::object(&bytes)?)?;
    st.check_org(&filter.organization_id)?;
    let id = new_id("audit_log_export");
    let now = now_millis();
    let filters = serde_json::to_string(&filter).map_err(ApiError::internal)?;
    let (row_id, org) = (id.clone(), filter.organization_id.clone());
    st.db(move |db| db.insert_export(&row_id, &org, &filters, now))
        .await?;
    spawn_build(st.clone(), id.clone(), filter);
    let row = ExportRow {
        id,
        state: "pending".into(),
        created_at_ms: now,
        updated_at_ms: now,
    };
    Ok(json_response(StatusCode::CREATED, &export_json(&st, &row)))
}

/// The export's state, with its `url` once ready.
pub async fn get(
    State(st): State<Shared>,
    path: Result<Path<String>, PathRejection>,
) -> Result<Response, ApiError> {
    let id = path_param(path)?;
    let lookup = id.clone();
    match st.db(move |db| db.get_export(&lookup)).await? {
        Some(row) => Ok(json_response(StatusCode::OK, &export_json(&st, &row))),
        None => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            format!("Audit Log Export not found: '{id}'."),
        )),
    }
}

/// `GET /__exports/{id}.csv`: the CSV of a ready export (no key needed, like a signed URL).
pub async fn download(
    State(st): State<Shared>,
    path: Result<Path<String>, PathRejection>,
) -> Result<Response, ApiError> {
    let file = path_param(path)?;
    let id = file.strip_suffix(".csv").unwrap_or("").to_owned();
    let lookup = id.clone();
    let Some(whole) = st.db(move |db| db.export_csv(&lookup)).await? else {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            format!("No ready export named '{file}'."),
        ));
    };
    let csv = match whole {
        Some(csv) => csv,
        None => {
            // Part by part, so other requests are served between the reads.
            let mut csv = Vec::new();
            for part in 0.. {
                let lookup = id.clone();
                match st.db(move |db| db.export_part(&lookup, part)).await? {
                    Some(data) => csv.extend_from_slice(&data),
                    None => break,
                }
                tokio::task::yield_now().await;
            }
            csv
        }
    };
    let mut resp = (StatusCode::OK, csv).into_response();
    let headers = resp.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{id}.csv\"")) {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(resp)
}

/// Events read per query while an export builds: each query holds the database lock for
/// well under a millisecond, so requests served meanwhile barely wait.
const EXPORT_CHUNK: usize = 64;
/// Bytes of CSV stored per part.
const EXPORT_PART_BYTES: usize = 64 * 1024;

/// Builds an export after the configured delay, on the blocking pool.
pub fn spawn_build(st: Shared, id: String, filter: ExportFilter) {
    tokio::spawn(async move {
        tokio::time::sleep(st.export_delay).await;
        let db = std::sync::Arc::clone(&st.db);
        let done = tokio::task::spawn_blocking(move || build(&db, &id, &filter)).await;
        if let Err(e) = done {
            eprintln!("auditwire serve: export task failed: {e}");
        }
    });
}

/// Reads the matching events chunk by chunk and stores the CSV part by part, letting go of
/// the database between chunks (the CSV rows are rendered then).
fn build(db: &Db, id: &str, filter: &ExportFilter) {
    let _background = Background::enter();
    let ok = match write_csv(db, id, filter) {
        Ok(()) => true,
        Err(e) => {
            eprintln!("auditwire serve: export {id} failed: {e}");
            let _ = db.clear_export_parts(id);
            false
        }
    };
    if let Err(e) = db.finish_export(id, ok, now_millis()) {
        eprintln!("auditwire serve: cannot save export {id}: {e}");
    }
}

/// Lowers this blocking-pool thread's priority (nice 19) while an export builds, so that
/// requests are served first on a busy machine; restored when dropped.
struct Background(Option<i32>);

impl Background {
    #[cfg(target_os = "linux")]
    fn enter() -> Self {
        // SAFETY: plain system calls on this thread's own id.
        unsafe {
            let tid = libc::gettid() as libc::id_t;
            *libc::__errno_location() = 0;
            let old = libc::getpriority(libc::PRIO_PROCESS, tid);
            if *libc::__errno_location() != 0 || libc::setpriority(libc::PRIO_PROCESS, tid, 19) != 0
            {
                return Background(None);
            }
            Background(Some(old))
        }
    }

    #[cfg(not(target_os = "linux"))]
    fn enter() -> Self {
        Background(None)
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        #[cfg(target_os = "linux")]
        if let Some(old) = self.0 {
            // SAFETY: as in `enter`. Raising priority back may need a privilege the process
            // lacks: then the thread stays at nice 19 (it only serves file-database calls).
            unsafe {
                libc::setpriority(libc::PRIO_PROCESS, libc::gettid() as libc::id_t, old);
            }
        }
    }
}

fn write_csv(db: &Db, id: &str, filter: &ExportFilter) -> rusqlite::Result<()> {
    db.clear_export_parts(id)?;
    let mut out = csv::header();
    let mut part = 0;
    let mut after = None;
    loop {
        let chunk = db.export_chunk(filter, after, EXPORT_CHUNK)?;
        if let Some(last) = chunk.last() {
            after = Some(last.cursor);
        }
        for e in &chunk {
            csv::push_event(&mut out, &e.id, &e.organization_id, &e.body);
        }
        let done = chunk.len() < EXPORT_CHUNK;
        if out.len() >= EXPORT_PART_BYTES || (done && !out.is_empty()) {
            db.add_export_part(id, part, out.as_bytes())?;
            part += 1;
            out.clear();
        }
        if done {
            return Ok(());
        }
        std::thread::yield_now();
    }
}

fn export_json(st: &Shared, row: &ExportRow) -> Value {
    let mut out = Map::new();
    out.insert("object".into(), json!("audit_log_export"));
    out.insert("id".into(), json!(row.id));
    out.insert("state".into(), json!(row.state));
    if row.state == "ready" {
        out.insert(
            "url".into(),
            json!(format!("{}/__exports/{}.csv", st.public_url, row.id)),
        );
    }
    out.insert("created_at".into(), json!(rfc3339(row.created_at_ms)));
    out.insert("updated_at".into(), json!(rfc3339(row.updated_at_ms)));
    Value::Object(out)
}

/// Reads and checks the export request; `actors` (deprecated) joins `actor_names`.
fn parse_filter(map: &Map<String, Value>) -> Result<ExportFilter, ApiError> {
    let mut f = Fields::default();
    f.unknown(map, "", &FIELDS);
    let org = f.required_str(map, "organization_id");
    let start = timestamp(&mut f, map, "range_start");
    let end = timestamp(&mut f, map, "range_end");
    if let (Some(s), Some(e)) = (start, end) {
        if e < s {
            f.push(
                "invalid_value",
                "range_end",
                "must not be before range_start",
            );
        }
    }
    let actions = f.string_list(map, "actions");
    let mut actor_names = f.string_list(map, "actor_names");
    for name in f.string_list(map, "actors") {
        if !actor_names.contains(&name) {
            actor_names.push(name);
        }
    }
    let actor_ids = f.string_list(map, "actor_ids");
    let targets = f.string_list(map, "targets");
    for (field, values) in [
        ("actions", &actions),
        ("actor_names", &actor_names),
        ("actor_ids", &actor_ids),
        ("targets", &targets),
    ] {
        if values.len() > MAX_FILTER_VALUES {
            let with_actors = if field == "actor_names" && map.contains_key("actors") {
                " (actor_names and actors together)"
            } else {
                ""
            };
            f.push(
                "too_many_values",
                field,
                format!(
                    "at most {MAX_FILTER_VALUES} values{with_actors}, found {}",
                    values.len()
                ),
            );
        }
    }
    f.finish()?;
    match (org, start, end) {
        (Some(organization_id), Some(s), Some(e)) => Ok(ExportFilter {
            organization_id,
            range_start_ms: s.unix_millis(),
            range_end_ms: e.unix_millis(),
            actions,
            actor_names,
            actor_ids,
            targets,
        }),
        _ => Err(ApiError::internal(
            "export filter incomplete without a recorded problem",
        )),
    }
}

fn timestamp(f: &mut Fields, map: &Map<String, Value>, field: &str) -> Option<Timestamp> {
    let text = f.required_str(map, field)?;
    match Timestamp::parse(&text) {
        Ok(t) => Some(t),
        Err(e) => {
            f.push("invalid_timestamp", field, e.to_string());
            None
        }
    }
}

/// Resumes exports left pending by an earlier run.
pub fn resume_pending(st: &Shared) -> Result<(), String> {
    let pending = st
        .db
        .pending_exports()
        .map_err(|e| format!("cannot read exports: {e}"))?;
    for (id, filters) in pending {
        match serde_json::from_str::<ExportFilter>(&filters) {
            Ok(filter) => spawn_build(st.clone(), id, filter),
            Err(e) => eprintln!("auditwire serve: export {id} has unreadable filters: {e}"),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(v: Value) -> Result<ExportFilter, ApiError> {
        parse_filter(v.as_object().unwrap())
    }

    #[test]
    fn filters() {
        let ok = parse(json!({
            "organization_id": "org_1",
            "range_start": "2026-01-01T00:00:00Z",
            "range_end": "2026-02-01T00:00:00+01:00",
            "actors": ["Jon"], "actor_names": ["Ann", "Jon"], "targets": ["team"]
        }))
        .unwrap();
        assert_eq!(ok.actor_names, ["Ann", "Jon"]);
        assert_eq!(
            ok.range_end_ms - ok.range_start_ms,
            31 * 86_400_000 - 3_600_000
        );
        for bad in [
            json!({"range_start": "2026-01-01T00:00:00Z", "range_end": "2026-01-02T00:00:00Z"}),
            json!({"organization_id": "o", "range_start": "yesterday", "range_end": "2026-01-02T00:00:00Z"}),
            json!({"organization_id": "o", "range_start": "2026-01-02T00:00:00Z", "range_end": "2026-01-01T00:00:00Z"}),
            json!({"organization_id": "o", "range_start": "2026-01-01T00:00:00Z", "range_end": "2026-01-02T00:00:00Z", "actions": "a"}),
            json!({"organization_id": "o", "range_start": "2026-01-01T00:00:00Z", "range_end": "2026-01-02T00:00:00Z", "x": 1}),
        ] {
            assert_eq!(
                parse(bad.clone()).unwrap_err().status().as_u16(),
                422,
                "{bad}"
            );
        }
        let values = |n: usize| (0..n).map(|i| format!("a.{i}")).collect::<Vec<_>>();
        let with = |field: &str, n: usize| {
            let mut v = json!({"organization_id": "o", "range_start": "2026-01-01T00:00:00Z",
                "range_end": "2026-01-02T00:00:00Z"});
            v[field] = json!(values(n));
            v
        };
        for field in ["actions", "actor_names", "actors", "actor_ids", "targets"] {
            assert!(parse(with(field, MAX_FILTER_VALUES)).is_ok(), "{field}");
            assert_eq!(
                parse(with(field, MAX_FILTER_VALUES + 1))
                    .unwrap_err()
                    .status()
                    .as_u16(),
                422,
                "{field}"
            );
        }
    }
}
