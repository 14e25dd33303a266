//! Export jobs: their state and the finished CSV.

use rusqlite::{params, OptionalExtension};

use super::Db;

/// An export as `GET /audit_logs/exports/{id}` reports it.
#[derive(Clone, Debug, PartialEq)]
pub struct ExportRow {
    /// `audit_log_export_…`.
    pub id: String,
    /// `pending`, `ready` or `error`.
    pub state: String,
    /// Creation time, Unix milliseconds.
    pub created_at_ms: i64,
    /// Last change, Unix milliseconds.
    pub updated_at_ms: i64,
}

impl Db {
    /// Records a new pending export with its filters (JSON).
    pub fn insert_export(
        &self,
        id: &str,
        org: &str,
        filters: &str,
        now_ms: i64,
    ) -> rusqlite::Result<()> {
        self.lock()
            .execute(
                "INSERT INTO exports (id, organization_id, filters, state, created_at_ms, updated_at_ms)
                 VALUES (?1, ?2, ?3, 'pending', ?4, ?4)",
                params![id, org, filters, now_ms],
            )
            .map(|_| ())
    }

    /// Forgets the CSV parts of an export, e.g. of a build cut short by a restart.
    pub fn clear_export_parts(&self, id: &str) -> rusqlite::Result<()> {
        self.lock()
            .execute("DELETE FROM export_parts WHERE export_id = ?1", [id])
            .map(|_| ())
    }

    /// Stores part `part` of an export's CSV: a large CSV is written a part at a time so no
    /// single statement holds the database long.
    pub fn add_export_part(&self, id: &str, part: i64, data: &[u8]) -> rusqlite::Result<()> {
        self.lock()
            .prepare_cached("INSERT INTO export_parts (export_id, part, data) VALUES (?1, ?2, ?3)")?
            .execute(params![id, part, data])
            .map(|_| ())
    }

    /// Marks an export `ready` (its CSV is in its parts) or, when not `ok`, `error`.
    pub fn finish_export(&self, id: &str, ok: bool, now_ms: i64) -> rusqlite::Result<()> {
        let state = if ok { "ready" } else { "error" };
        self.lock()
            .execute(
                "UPDATE exports SET state = ?2, updated_at_ms = ?3 WHERE id = ?1",
                params![id, state, now_ms],
            )
            .map(|_| ())
    }

    /// One export, if it exists.
    pub fn get_export(&self, id: &str) -> rusqlite::Result<Option<ExportRow>> {
        self.lock()
            .query_row(
                "SELECT id, state, created_at_ms, updated_at_ms FROM exports WHERE id = ?1",
                [id],
                |r| {
                    Ok(ExportRow {
                        id: r.get(0)?,
                        state: r.get(1)?,
                        created_at_ms: r.get(2)?,
                        updated_at_ms: r.get(3)?,
                    })
                },
            )
            .optional()
    }

    /// Whether the export is ready, and its CSV if an earlier version stored it whole.
    pub fn export_csv(&self, id: &str) -> rusqlite::Result<Option<Option<Vec<u8>>>> {
        self.lock()
            .query_row(
                "SELECT csv FROM exports WHERE id = ?1 AND state = 'ready'",
                [id],
                |r| r.get(0),
            )
            .optional()
    }

    /// Part `part` of an export's CSV, if there is one.
    pub fn export_part(&self, id: &str, part: i64) -> rusqlite::Result<Option<Vec<u8>>> {
        self.lock()
            .prepare_cached("SELECT data FROM export_parts WHERE export_id = ?1 AND part = ?2")?
            .query_row(params![id, part], |r| r.get(0))
            .optional()
    }

    /// `(id, filters JSON)` of exports left pending, e.g. by a server that was killed.
    pub fn pending_exports(&self) -> rusqlite::Result<Vec<(String, String)>> {
        let conn = self.lock();
        let mut stmt = conn.prepare("SELECT id, filters FROM exports WHERE state = 'pending'")?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        rows.collect()
    }
}
