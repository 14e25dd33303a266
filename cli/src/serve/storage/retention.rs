//! Per-organization retention periods.

use rusqlite::{params, OptionalExtension};

use super::Db;

impl Db {
    /// The retention period set for `org`, in days.
    pub fn retention(&self, org: &str) -> rusqlite::Result<Option<i64>> {
        self.lock()
            .query_row(
                "SELECT days FROM retention WHERE organization_id = ?1",
                [org],
                |r| r.get(0),
            )
            .optional()
    }

    /// Sets the retention period of `org`.
    pub fn set_retention(&self, org: &str, days: i64) -> rusqlite::Result<()> {
        self.lock()
            .execute(
                "INSERT INTO retention (organization_id, days) VALUES (?1, ?2)
                 ON CONFLICT (organization_id) DO UPDATE SET days = excluded.days",
                params![org, days],
            )
            .map(|_| ())
    }
}
