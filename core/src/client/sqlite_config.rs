//! Process-wide SQLite settings, made once before this library opens its first database.

use std::ffi::c_int;
use std::sync::Once;

use rusqlite::ffi;

/// Turns SQLite's memory statistics off, before this library's first connection.
///
/// With them on, every SQLite allocation takes one process-wide mutex: the spool's
/// committing threads contend on it, and a `fork()` taken while another thread holds it
/// leaves the child's first spool call waiting forever.
pub(crate) fn configure() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // SAFETY: SQLITE_CONFIG_MEMSTATUS takes one int. SQLite is private to this library
        // and none of its connections is open yet; once SQLite is initialized the call
        // is refused (SQLITE_MISUSE) and changes nothing.
        let rc = unsafe { ffi::sqlite3_config(ffi::SQLITE_CONFIG_MEMSTATUS, 0 as c_int) };
        if rc != ffi::SQLITE_OK {
            log::debug!("auditwire: SQLite memory statistics stay on (code {rc})");
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_counts_no_memory_once_configured() {
        configure();
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE t (x); INSERT INTO t VALUES (randomblob(10000));")
            .unwrap();
        // SAFETY: reads a counter; no arguments.
        let used = unsafe { ffi::sqlite3_memory_used() };
        assert_eq!(used, 0, "memory statistics are still kept");
    }
}
