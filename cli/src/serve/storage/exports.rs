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

    /// Marks an export `ready` with its CSV, or `error` when `csv` is `None`.
    pub fn finish_export(&self, id: &str, csv: Option<&[u8]>, now_ms: i64) -> rusqlite::Result<()> {
        let state = if csv.is_some() { "ready" } else { "error" };
        self.lock()
            .execute(
                "UPDATE exports SET state = ?2, csv = ?3, updated_at_ms = ?4 WHERE id = ?1",
                params![id, state, csv, now_ms],
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

    /// The CSV of a ready export.
    pub fn export_csv(&self, id: &str) -> rusqlite::Result<Option<Vec<u8>>> {
        self.lock()
            .query_row(
                "SELECT csv FROM exports WHERE id = ?1 AND state = 'ready'",
                [id],
                |r| r.get(0),
            )
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
