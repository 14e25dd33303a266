//! Checkpoints of a spool's WAL: committed frames are copied into the database so that the
//! next commit starts the WAL over from its beginning, keeping the file bounded.
//!
//! A checkpoint that runs beside commits never catches up with them, and SQLite starts the
//! WAL over only once every frame is in the database. So passes run beside commits until
//! one is quick, and the few frames left are copied with commits held off.

use std::ffi::c_void;
use std::ptr;
use std::time::{Duration, Instant};

use rusqlite::{ffi, Connection};

use super::fork::SqliteCalls;

/// Passes beside commits before the held one; each copies what the last one's time let in.
const PASSES: usize = 4;
/// A pass this quick leaves too little behind to be worth another.
const QUICK_PASS: Duration = Duration::from_millis(2);
/// WAL frames below which the WAL is left to start over by itself, with nothing held.
const HOLD_FRAMES: i64 = 1024;

/// Checkpoints `conn`'s database; `hold_commits` keeps commits off while its guard lives.
pub(super) fn checkpoint<G>(conn: &Connection, hold_commits: impl FnOnce() -> G) {
    let mut frames = 0;
    for _ in 0..PASSES {
        let start = Instant::now();
        let calls = SqliteCalls::enter();
        frames = passive(conn);
        // A pass that did not reach the WAL's end leaves the database unsynced; syncing
        // here keeps that cost out of the held pass.
        sync_database(conn);
        drop(calls);
        if start.elapsed() < QUICK_PASS {
            break;
        }
    }
    if frames >= HOLD_FRAMES {
        let _held = hold_commits();
        let _calls = SqliteCalls::enter();
        passive(conn);
    }
}

/// Copies the frames committed so far into the database without waiting for anyone;
/// returns the frames the WAL held (0 on error).
fn passive(conn: &Connection) -> i64 {
    conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| r.get(1))
        .unwrap_or_else(|e| {
            log::debug!("auditwire: spool checkpoint: {e}");
            0
        })
}

/// Syncs the database file through the connection's own handle (a second descriptor,
/// once closed, would drop SQLite's POSIX locks on the file).
fn sync_database(conn: &Connection) {
    let mut file: *mut ffi::sqlite3_file = ptr::null_mut();
    // SAFETY: the handle is live for `conn`'s lifetime; FILE_POINTER writes one pointer to
    // the main database's file, which stays open as long as the connection.
    let rc = unsafe {
        ffi::sqlite3_file_control(
            conn.handle(),
            c"main".as_ptr(),
            ffi::SQLITE_FCNTL_FILE_POINTER,
            (&mut file as *mut *mut ffi::sqlite3_file).cast::<c_void>(),
        )
    };
    if rc != ffi::SQLITE_OK || file.is_null() {
        return;
    }
    // SAFETY: `file` is the open file SQLite gave us; its methods table is SQLite's own.
    let rc = unsafe {
        match (*file).pMethods.as_ref().and_then(|m| m.xSync) {
            Some(sync) => sync(file, ffi::SQLITE_SYNC_NORMAL),
            None => return,
        }
    };
    if rc != ffi::SQLITE_OK {
        log::debug!("auditwire: spool database sync failed (code {rc})");
    }
}
