//! SQLite storage: one connection behind a mutex; WAL when backed by a file.

mod events;
mod exports;
mod retention;
mod schemas;

use std::path::Path;
use std::sync::{Mutex, MutexGuard};

use rusqlite::{Connection, FileControl, OpenFlags, MAIN_DB};

pub use events::{EventRecord, ExportFilter, ScopedKey, Stored};
pub use exports::ExportRow;
pub use schemas::{ActionRow, SchemaRow};

/// The server's database.
pub struct Db {
    conn: Mutex<Connection>,
    in_memory: bool,
}

/// Few B-tree writes per create: events carry one index (organization and time) that
/// exports filter; `idempotency_keys` is keyed by its scope and key (no rowid); `events.seq`
/// has no AUTOINCREMENT, safe because events are only deleted all at once, with their targets.
/// The scope is the SHA-256 of the API key (never the key itself) and the organization; the
/// unscoped `idempotency` table of earlier versions is dropped.
const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL,
    organization_id TEXT NOT NULL,
    action TEXT NOT NULL,
    occurred_at_ms INTEGER NOT NULL,
    actor_id TEXT NOT NULL,
    actor_name TEXT,
    body TEXT NOT NULL,
    source TEXT NOT NULL,
    received_at_ms INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS events_org_time ON events(organization_id, occurred_at_ms);
CREATE TABLE IF NOT EXISTS event_targets (
    event_seq INTEGER NOT NULL,
    type TEXT NOT NULL,
    PRIMARY KEY (event_seq, type)
) WITHOUT ROWID;
DROP TABLE IF EXISTS idempotency;
CREATE TABLE IF NOT EXISTS idempotency_keys (
    api_key_hash TEXT NOT NULL,
    organization_id TEXT NOT NULL,
    key TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    status INTEGER NOT NULL,
    body TEXT NOT NULL,
    created_at_ms INTEGER NOT NULL,
    PRIMARY KEY (api_key_hash, organization_id, key)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS exports (
    id TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL,
    filters TEXT NOT NULL,
    state TEXT NOT NULL,
    csv BLOB,
    created_at_ms INTEGER NOT NULL,
    updated_at_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS export_parts (
    export_id TEXT NOT NULL,
    part INTEGER NOT NULL,
    data BLOB NOT NULL,
    PRIMARY KEY (export_id, part)
);
CREATE TABLE IF NOT EXISTS actions (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    created_at_ms INTEGER NOT NULL,
    updated_at_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS schemas (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    action TEXT NOT NULL,
    version INTEGER NOT NULL,
    body TEXT NOT NULL,
    created_at_ms INTEGER NOT NULL,
    UNIQUE (action, version)
);
CREATE TABLE IF NOT EXISTS retention (
    organization_id TEXT PRIMARY KEY,
    days INTEGER NOT NULL
);
";

/// A private in-memory database on the memdb VFS, without a size limit.
///
/// Not `:memory:`: its page cache holds the whole database, and every commit scans all of
/// it, so each create costs time in proportion to the events stored (half the rate by
/// 300,000 events). On memdb the page cache keeps its default bound.
fn open_memdb() -> rusqlite::Result<Connection> {
    let conn = Connection::open_with_flags(
        "file:auditwire-serve?vfs=memdb",
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_URI
            | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    // memdb stops at 1 GiB unless told otherwise; a soak stores more than that.
    let mut limit = i64::MAX;
    conn.file_control(Some(MAIN_DB), FileControl::SizeLimit(&mut limit))?;
    conn.pragma_update(None, "journal_mode", "MEMORY")?;
    Ok(conn)
}

/// Creates `path` empty with mode 0600 unless it exists, so the database (and the `-wal` and
/// `-shm` files SQLite gives the same mode) is readable by its owner only.
pub fn create_private(path: &Path) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e),
    }
}

impl Db {
    /// Opens (creating if needed) the database at `path`, or an in-memory one.
    pub fn open(path: Option<&Path>) -> rusqlite::Result<Db> {
        let conn = match path {
            Some(p) => {
                let conn = Connection::open(p)?;
                conn.pragma_update(None, "journal_mode", "WAL")?;
                conn.pragma_update(None, "synchronous", "NORMAL")?;
                conn
            }
            None => open_memdb()?,
        };
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        conn.execute_batch(SCHEMA)?;
        Ok(Db {
            conn: Mutex::new(conn),
            in_memory: path.is_none(),
        })
    }

    /// Whether the database lives in memory only.
    pub fn in_memory(&self) -> bool {
        self.in_memory
    }

    pub(super) fn lock(&self) -> MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Deletes everything: events, keys, exports, actions, schemas, retention.
    pub fn reset(&self) -> rusqlite::Result<()> {
        self.lock().execute_batch(
            "BEGIN;
             DELETE FROM events; DELETE FROM event_targets; DELETE FROM idempotency_keys;
             DELETE FROM exports; DELETE FROM export_parts; DELETE FROM actions; DELETE FROM schemas; DELETE FROM retention;
             COMMIT;",
        )
    }

    /// How many events are stored.
    pub fn event_count(&self) -> rusqlite::Result<u64> {
        self.lock()
            .query_row("SELECT COUNT(*) FROM events", [], |r| r.get::<_, i64>(0))
            .map(|n| n.max(0) as u64)
    }

    /// Forgets idempotency keys first seen before `cutoff_ms`.
    pub fn purge_keys(&self, cutoff_ms: i64) -> rusqlite::Result<usize> {
        self.lock().execute(
            "DELETE FROM idempotency_keys WHERE created_at_ms <= ?1",
            [cutoff_ms],
        )
    }
}

/// A write transaction begun and committed by cached statements (no SQL parsed per call);
/// rolled back when dropped uncommitted.
pub(super) struct WriteTx<'c> {
    conn: &'c Connection,
    open: bool,
}

impl<'c> WriteTx<'c> {
    /// `BEGIN`.
    pub(super) fn begin(conn: &'c Connection) -> rusqlite::Result<Self> {
        conn.prepare_cached("BEGIN")?.execute([])?;
        Ok(WriteTx { conn, open: true })
    }

    /// `COMMIT`; on failure the drop rolls back.
    pub(super) fn commit(mut self) -> rusqlite::Result<()> {
        self.conn.prepare_cached("COMMIT")?.execute([])?;
        self.open = false;
        Ok(())
    }
}

impl std::ops::Deref for WriteTx<'_> {
    type Target = Connection;

    fn deref(&self) -> &Connection {
        self.conn
    }
}

impl Drop for WriteTx<'_> {
    fn drop(&mut self) {
        if self.open && !self.conn.is_autocommit() {
            if let Err(e) = self.conn.execute_batch("ROLLBACK") {
                eprintln!("auditwire serve: rollback failed: {e}");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_in_memory_database_is_private_and_unbounded() {
        let db = Db::open(None).unwrap();
        let conn = db.lock();
        // A negative argument reads the limit back.
        let mut limit = -1;
        conn.file_control(Some(MAIN_DB), FileControl::SizeLimit(&mut limit))
            .unwrap();
        assert_eq!(limit, i64::MAX);
        let mode: String = conn
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "memory");
        // Two databases do not share their contents.
        drop(conn);
        db.lock()
            .execute("INSERT INTO retention VALUES ('org_1', 7)", [])
            .unwrap();
        let other = Db::open(None).unwrap();
        let n: i64 = other
            .lock()
            .query_row("SELECT COUNT(*) FROM retention", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 0);
    }
}
