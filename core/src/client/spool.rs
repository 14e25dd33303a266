//! The disk spool: accepted events in SQLite (WAL) before `emit` returns.
//!
//! Layout: `spool_dir/run-<id>.db` is one owner run's database, `run-<id>.lock` its lock
//! file, held with an exclusive `flock` for the life of the run, `run-<id>.reserve` 1 MiB
//! kept allocated so that delivered events can still be deleted on a full disk. A new run
//! takes the first run whose lock it can take (its owner is dead) over by name, with no
//! copy, and adopts every other such run: the rows move into its database in one
//! transaction, then the old files are removed. A live owner's run is never touched. A
//! file that is corrupt or from a newer schema is reported by name and left as it is.
//!
//! Full disk: an insert fails with `spool <file>: disk full (...)`; deletes and dead letters
//! let the WAL start over and, if that is not enough, free the reserve.
//!
//! Trust: the directory must belong to the effective user and not be writable by group or
//! others; a run file (or its `-wal`, `-shm` or lock) that is a symbolic link or belongs to
//! another user is never opened nor adopted (it is skipped with a warning and left as it is).
//!
//! Writes are group commits: callers queue inserts and wait until the transaction holding
//! them commits — the first of them commits for all (no thread hand-off when alone);
//! deletes, retry bookkeeping and dead letters are queued without waiting and committed by
//! a background thread (or with the next batch of inserts).

use std::collections::HashMap;
use std::fmt;
use std::fs::{File, OpenOptions};
use std::mem::ManuallyDrop;
use std::ops::Deref;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use rusqlite::{params, Connection, OpenFlags};

use super::api_error::ApiError;
use super::envelope::{Endpoint, Envelope};
use super::fork::SqliteCalls;
use super::wal_checkpoint;

/// How long queued deletes and bookkeeping wait after a failed commit before another try.
const OPS_RETRY_AFTER: Duration = Duration::from_secs(1);

/// How long a caller polls for its group commit to end before it sleeps.
const POLL_FOR_COMMIT: Duration = Duration::from_micros(300);

/// The schema version this build writes (`PRAGMA user_version`).
pub const SPOOL_SCHEMA_VERSION: i64 = 1;

/// `events.id` comes from the run's writer, which never reuses one (`WriterConn`): no
/// AUTOINCREMENT, whose `sqlite_sequence` page would be one more WAL frame per commit.
const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY,
    idempotency_key TEXT NOT NULL,
    organization_id TEXT NOT NULL,
    endpoint INTEGER NOT NULL,
    body BLOB NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    accepted_ms INTEGER NOT NULL,
    next_ms INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS dead_letters (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    idempotency_key TEXT NOT NULL,
    organization_id TEXT NOT NULL,
    endpoint INTEGER NOT NULL,
    body BLOB NOT NULL,
    attempts INTEGER NOT NULL,
    accepted_ms INTEGER NOT NULL,
    dead_ms INTEGER NOT NULL,
    outcome TEXT NOT NULL,
    status INTEGER,
    code TEXT,
    message TEXT NOT NULL,
    errors TEXT,
    request_id TEXT
);
";

/// How much of a commit survives: the process being killed, or the machine losing power.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Durability {
    /// A commit survives `kill -9` (WAL in the OS page cache, `synchronous=NORMAL`); the default.
    #[default]
    Process,
    /// A commit is fsynced (`synchronous=FULL`, one fsync per group commit): survives power loss.
    PowerLoss,
}

/// A spool file could not be used; names the file. The file is left untouched.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SpoolError {
    /// The file or directory concerned.
    pub path: PathBuf,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for SpoolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "spool {}: {}", self.path.display(), self.message)
    }
}

impl std::error::Error for SpoolError {}

fn err(path: &Path, message: impl fmt::Display) -> SpoolError {
    SpoolError {
        path: path.to_owned(),
        message: message.to_string(),
    }
}

fn is_disk_full<T>(r: &rusqlite::Result<T>) -> bool {
    matches!(r, Err(e) if e.sqlite_error_code() == Some(rusqlite::ErrorCode::DiskFull))
}

/// A failed write to `path`, a full disk called by its name.
fn write_error(path: &Path, e: &rusqlite::Error) -> SpoolError {
    match e.sqlite_error_code() {
        Some(rusqlite::ErrorCode::DiskFull) => err(path, format!("disk full ({e})")),
        _ => err(path, format!("write failed ({e})")),
    }
}

pub(crate) fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

fn endpoint_code(e: Endpoint) -> i64 {
    match e {
        Endpoint::Events => 0,
        Endpoint::LegacyV1 => 1,
    }
}

fn endpoint_from(code: i64) -> Endpoint {
    if code == 1 {
        Endpoint::LegacyV1
    } else {
        Endpoint::Events
    }
}

/// A row read back from the spool.
pub(crate) struct StoredRow {
    pub(crate) id: i64,
    pub(crate) key: String,
    pub(crate) organization_id: String,
    pub(crate) endpoint: Endpoint,
    pub(crate) body: Vec<u8>,
    pub(crate) attempts: u32,
    pub(crate) accepted_ms: i64,
    pub(crate) next_ms: i64,
}

struct Insert {
    seq: u64,
    key: String,
    organization_id: String,
    endpoint: i64,
    body: Vec<u8>,
    accepted_ms: i64,
}

enum Op {
    Delete {
        id: i64,
        size: u64,
    },
    Attempt {
        id: i64,
        attempts: u32,
        next_ms: i64,
    },
    Dead {
        id: i64,
        outcome: &'static str,
        attempts: u32,
        error: Box<ApiError>,
    },
}

#[derive(Default)]
struct WriterState {
    inserts: Vec<Insert>,
    ops: Vec<Op>,
    next_seq: u64,
    done: HashMap<u64, Result<i64, String>>,
    stop: bool,
    stopped: bool,
    /// A thread is committing a batch (holding the connection).
    committing: bool,
    /// Callers asleep waiting for their batch.
    waiting: usize,
    /// Callers polling for the end of a commit before they sleep.
    polling: usize,
    /// The number of the batch that new inserts join; bumped as a committer takes one.
    batch: u64,
    /// Ops whose commit failed wait until then before the background thread tries again.
    ops_retry_at: Option<Instant>,
}

/// Group commit: the first caller to find no commit in progress commits everything queued
/// (its own insert and those of callers that arrived meanwhile) on its own thread, then
/// wakes them; one background thread commits deletes and retry bookkeeping when no caller
/// is writing. One transaction at a time, so at most one writer.
struct Writer {
    state: Mutex<WriterState>,
    conn: Mutex<WriterConn>,
    /// Wakes the background thread.
    work: Condvar,
    /// Callers of even and odd batches wait apart, so a commit wakes only its own batch.
    committed: [Condvar; 2],
    bytes: Arc<AtomicU64>,
    path: PathBuf,
    /// A connection of its own for checkpoints, run by the background thread so that no
    /// caller's commit waits for one (automatic checkpoints are off on `conn`).
    checkpointer: Mutex<Db>,
    /// Commits since the last checkpoint.
    commits: AtomicU64,
    /// Commit rounds ended so far: what polling callers watch.
    rounds: AtomicU64,
    /// How long a caller polls for its commit before it sleeps (zero: it sleeps at once).
    poll_for: Duration,
}

impl Writer {
    fn lock(&self) -> MutexGuard<'_, WriterState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Waits up to `limit` for the commit round after `round` to end, yielding the CPU to
    /// runnable threads between looks; true if it ended. A sleep and wake-up per caller
    /// costs more than the few tens of µs a commit takes.
    fn poll(&self, round: u64, limit: Duration) -> bool {
        let until = Instant::now() + limit;
        loop {
            if self.rounds.load(Ordering::Acquire) != round {
                return true;
            }
            if Instant::now() >= until {
                return false;
            }
            std::thread::yield_now();
        }
    }

    /// Commits everything queued as one transaction; call with `committing` false. Returns
    /// with the state lock held again.
    fn commit_round<'a>(
        &'a self,
        mut st: MutexGuard<'a, WriterState>,
    ) -> MutexGuard<'a, WriterState> {
        st.committing = true;
        let batch = st.batch;
        st.batch += 1;
        let inserts = std::mem::take(&mut st.inserts);
        let ops = std::mem::take(&mut st.ops);
        drop(st);
        let result = {
            let mut w = self.conn.lock().unwrap_or_else(PoisonError::into_inner);
            let first = w.next_id;
            let calls = SqliteCalls::enter();
            let mut result = commit(&w.conn, first, &inserts, &ops);
            // On a full disk, deliveries and bookkeeping let the WAL start over (once copied
            // into the database it is rewritten from its start: no new space), with the
            // reserve freed for the database to grow into if need be. New events and retry
            // bookkeeping never use the reserve: it is kept for the end of delivery.
            if inserts.is_empty() && is_disk_full(&result) {
                let ends = ops
                    .iter()
                    .any(|op| matches!(op, Op::Delete { .. } | Op::Dead { .. }));
                let retry = |release: bool| {
                    if release && !release_reserve(&self.path) {
                        return None;
                    }
                    let ckpt = w
                        .conn
                        .query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()));
                    if let Err(e) = ckpt {
                        log::debug!("auditwire: spool {}: {e}", self.path.display());
                    }
                    Some(commit(&w.conn, first, &inserts, &ops))
                };
                result = retry(false).unwrap_or(result);
                if ends && is_disk_full(&result) {
                    result = retry(true).unwrap_or(result);
                }
            }
            drop(calls);
            if result.is_ok() {
                w.next_id = first + inserts.len() as i64;
            }
            result
        };
        self.commits.fetch_add(1, Ordering::Relaxed);
        let mut st = self.lock();
        st.committing = false;
        self.rounds.fetch_add(1, Ordering::Release);
        match result {
            Ok((ids, freed)) => {
                st.ops_retry_at = None;
                self.bytes.fetch_sub(freed, Ordering::AcqRel);
                for (ins, id) in inserts.iter().zip(ids) {
                    st.done.insert(ins.seq, Ok(id));
                }
            }
            Err(e) => {
                let e = write_error(&self.path, &e);
                log::error!("auditwire: {e}");
                for ins in &inserts {
                    st.done.insert(ins.seq, Err(e.to_string()));
                }
                if !ops.is_empty() && !st.stop {
                    // Deletes and bookkeeping are kept and tried again a little later.
                    st.ops.splice(0..0, ops);
                    st.ops_retry_at = Some(Instant::now() + OPS_RETRY_AFTER);
                }
            }
        }
        if !inserts.is_empty() {
            self.committed[(batch % 2) as usize].notify_all();
        }
        if !st.inserts.is_empty() {
            // A caller of the next batch takes over as committer.
            self.committed[((batch + 1) % 2) as usize].notify_one();
        } else if !st.ops.is_empty() || st.stop {
            self.work.notify_one();
        }
        st
    }
}

/// The writing connection and the next event id: only this run writes its file while it
/// lives, so ids counted from the highest at start are new, and a deleted one never comes
/// back (the reader's `id >` cursor relies on that).
struct WriterConn {
    conn: Db,
    next_id: i64,
}

/// A connection the spool keeps open; it is closed inside [`SqliteCalls`].
struct Db(ManuallyDrop<Connection>);

impl Db {
    fn new(conn: Connection) -> Self {
        Db(ManuallyDrop::new(conn))
    }
}

impl Deref for Db {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        &self.0
    }
}

impl Drop for Db {
    fn drop(&mut self) {
        let _calls = SqliteCalls::enter();
        // SAFETY: dropped once, here, and never used again.
        unsafe { ManuallyDrop::drop(&mut self.0) }
    }
}

/// One owner run's spool: its database, its lock, its writer thread.
pub(crate) struct Spool {
    db_path: PathBuf,
    lock: File,
    writer: Arc<Writer>,
    thread: Mutex<Option<JoinHandle<()>>>,
    reader: Mutex<Db>,
    initial_max_id: i64,
    max_bytes: u64,
    bytes: Arc<AtomicU64>,
    initial_pending: usize,
}

fn open_conn(path: &Path, durability: Durability) -> Result<Connection, SpoolError> {
    super::sqlite_config::configure();
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
            | OpenFlags::SQLITE_OPEN_NOFOLLOW,
    )
    .map_err(|e| err(path, e))?;
    let sync = match durability {
        Durability::Process => "NORMAL",
        Durability::PowerLoss => "FULL",
    };
    conn.busy_timeout(Duration::from_secs(5))
        .map_err(|e| err(path, e))?;
    conn.execute_batch(&format!(
        "PRAGMA journal_mode=WAL; PRAGMA synchronous={sync};"
    ))
    .map_err(|e| err(path, e))?;
    Ok(conn)
}

/// Checks an existing spool database's version; an error names the file.
fn check_version(conn: &Connection, path: &Path) -> Result<(), SpoolError> {
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(|e| {
            err(
                path,
                format!("unreadable (corrupt or not a spool database): {e}"),
            )
        })?;
    if version > SPOOL_SCHEMA_VERSION {
        return Err(err(
            path,
            format!(
                "written by a newer auditwire (spool schema {version}, this version reads up to {SPOOL_SCHEMA_VERSION}); left untouched"
            ),
        ));
    }
    if version < 1 {
        return Err(err(
            path,
            "not an auditwire spool database (no schema version); left untouched",
        ));
    }
    let tables: i64 = conn
        .query_row(
            "SELECT count(*) FROM sqlite_master WHERE type='table' AND name IN ('events','dead_letters')",
            [],
            |r| r.get(0),
        )
        .map_err(|e| err(path, format!("unreadable (corrupt?): {e}")))?;
    if tables != 2 {
        return Err(err(path, "missing spool tables (corrupt?); left untouched"));
    }
    Ok(())
}

/// Opens (or creates, 0600) a spool file without following a symbolic link; refuses a
/// file another user owns. `fresh`: the file must not exist yet.
fn create_private(path: &Path, fresh: bool) -> std::io::Result<File> {
    let mut o = OpenOptions::new();
    o.read(true).write(true);
    if fresh {
        o.create_new(true);
    } else {
        o.create(true).truncate(false);
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600)
            .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC);
    }
    let file = o.open(path)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let uid = file.metadata()?.uid();
        if uid != trust::euid() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::PermissionDenied,
                format!("owned by {}, not by this process's user", trust::user(uid)),
            ));
        }
    }
    Ok(file)
}

/// Releases the run lock taken with `try_lock` (closing the file would too).
fn unlock(file: &File) {
    #[cfg(unix)]
    {
        use std::os::unix::io::AsRawFd;
        // SAFETY: flock on a file descriptor we own.
        unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_UN) };
    }
    #[cfg(not(unix))]
    let _ = file;
}

/// Takes the exclusive lock without waiting: `Ok(false)` when a live process holds it.
fn try_lock(file: &File) -> std::io::Result<bool> {
    #[cfg(unix)]
    {
        use std::os::unix::io::AsRawFd;
        // SAFETY: flock on a file descriptor we own.
        let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
        if rc == 0 {
            return Ok(true);
        }
        let e = std::io::Error::last_os_error();
        if e.raw_os_error() == Some(libc::EWOULDBLOCK) {
            Ok(false)
        } else {
            Err(e)
        }
    }
    #[cfg(not(unix))]
    {
        let _ = file;
        Ok(true)
    }
}

/// Whom a spool trusts: the effective user, and nobody else.
mod trust {
    use std::path::{Path, PathBuf};

    use super::{err, SpoolError};

    /// The effective user id.
    #[cfg(unix)]
    pub(super) fn euid() -> u32 {
        // SAFETY: geteuid has no preconditions and cannot fail.
        unsafe { libc::geteuid() }
    }

    /// A user as messages show it: `uid 65534 (nobody)`.
    #[cfg(unix)]
    pub(super) fn user(uid: u32) -> String {
        // SAFETY: a zeroed passwd is a valid out-parameter; `buf` outlives the call and the
        // name is copied out before it is dropped.
        unsafe {
            let mut pw: libc::passwd = std::mem::zeroed();
            let mut buf = vec![0 as libc::c_char; 4096];
            let mut found = std::ptr::null_mut();
            let rc = libc::getpwuid_r(uid, &mut pw, buf.as_mut_ptr(), buf.len(), &mut found);
            if rc == 0 && !found.is_null() && !pw.pw_name.is_null() {
                let name = std::ffi::CStr::from_ptr(pw.pw_name).to_string_lossy();
                return format!("uid {uid} ({name})");
            }
        }
        format!("uid {uid}")
    }

    /// Refuses a spool directory that another user owns or that group or others may write.
    #[cfg(unix)]
    pub(super) fn check_dir(dir: &Path) -> Result<(), SpoolError> {
        use std::os::unix::fs::MetadataExt;
        let me = euid();
        let link = std::fs::symlink_metadata(dir).map_err(|e| err(dir, e))?;
        if link.file_type().is_symlink() && link.uid() != me && link.uid() != 0 {
            return Err(err(
                dir,
                format!(
                    "is a symbolic link owned by {}, not by {} that runs auditwire; use a directory you own (`mkdir -m 700 DIR`)",
                    user(link.uid()),
                    user(me)
                ),
            ));
        }
        let meta = std::fs::metadata(dir).map_err(|e| err(dir, e))?;
        if !meta.is_dir() {
            return Err(err(dir, "not a directory"));
        }
        let (mode, owner) = (meta.mode() & 0o7777, meta.uid());
        if owner != me {
            return Err(err(
                dir,
                format!(
                    "owned by {} (mode {mode:04o}), not by {} that runs auditwire: another user's directory could hold events that would be sent under this API key; use a directory you own (`mkdir -m 700 DIR`)",
                    user(owner),
                    user(me)
                ),
            ));
        }
        let writers = match (mode & 0o020 != 0, mode & 0o002 != 0) {
            (true, true) => "group and others",
            (true, false) => "group",
            (false, true) => "others",
            (false, false) => return Ok(()),
        };
        Err(err(
            dir,
            format!(
                "writable by {writers} (mode {mode:04o}, owner {}): another user could plant events that would be sent under this API key; run `chmod 700 {}` or use a private directory",
                user(owner),
                dir.display()
            ),
        ))
    }

    #[cfg(not(unix))]
    pub(super) fn check_dir(_dir: &Path) -> Result<(), SpoolError> {
        Ok(())
    }

    /// The files of a run: its database, `-wal`, `-shm` and lock.
    pub(super) fn files_of(db: &Path) -> [PathBuf; 4] {
        let with = |suffix: &str| {
            let mut p = db.as_os_str().to_owned();
            p.push(suffix);
            PathBuf::from(p)
        };
        [
            db.to_owned(),
            with("-wal"),
            with("-shm"),
            super::lock_path_of(db),
        ]
    }

    /// Why a run must be neither opened nor adopted: one of its files is a symbolic link,
    /// not a regular file, or another user's. `None` when it is this user's.
    #[cfg(unix)]
    pub(super) fn untrusted_run(db: &Path) -> Option<String> {
        use std::os::unix::fs::MetadataExt;
        let me = euid();
        for file in files_of(db) {
            let Ok(meta) = std::fs::symlink_metadata(&file) else {
                continue;
            };
            let name = file.file_name().unwrap_or_default().to_string_lossy();
            if meta.file_type().is_symlink() {
                return Some(format!("{name} is a symbolic link"));
            }
            if !meta.is_file() {
                return Some(format!("{name} is not a regular file"));
            }
            if meta.uid() != me {
                return Some(format!(
                    "{name} is owned by {}, not by {} that runs auditwire",
                    user(meta.uid()),
                    user(me)
                ));
            }
        }
        None
    }

    #[cfg(not(unix))]
    pub(super) fn untrusted_run(_db: &Path) -> Option<String> {
        None
    }
}

/// The run databases in a spool directory, sorted.
pub(crate) fn run_files(dir: &Path) -> Result<Vec<PathBuf>, SpoolError> {
    let mut out = Vec::new();
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
        Err(e) => return Err(err(dir, e)),
    };
    for entry in entries.flatten() {
        let p = entry.path();
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with("run-") && name.ends_with(".db") {
            out.push(p);
        }
    }
    out.sort();
    Ok(out)
}

fn lock_path_of(db: &Path) -> PathBuf {
    db.with_extension("lock")
}

fn remove_run_files(db: &Path) {
    let reserve = reserve_of(db);
    let [db, wal, shm, lock] = trust::files_of(db);
    for p in [reserve, wal, shm, db, lock] {
        let _ = std::fs::remove_file(p);
    }
}

/// A dead owner's run, locked by us; `None` when its owner is alive.
pub(crate) fn lock_dead_run(db: &Path) -> Result<Option<File>, SpoolError> {
    let lock_path = lock_path_of(db);
    let file = create_private(&lock_path, false).map_err(|e| err(&lock_path, e))?;
    match try_lock(&file) {
        Ok(true) => Ok(Some(file)),
        Ok(false) => Ok(None),
        Err(e) => Err(err(&lock_path, e)),
    }
}

impl Spool {
    /// Creates this run's database in `dir` and adopts the runs of dead owners.
    pub(crate) fn open(
        dir: &Path,
        max_bytes: u64,
        durability: Durability,
    ) -> Result<Spool, SpoolError> {
        let poll_for = match durability {
            Durability::Process => POLL_FOR_COMMIT,
            // A commit waits for the disk: polling would only burn CPU.
            Durability::PowerLoss => Duration::ZERO,
        };
        Self::open_polling(dir, max_bytes, durability, poll_for)
    }

    /// [`Spool::open`] with callers polling `poll_for` for their commit before they sleep.
    fn open_polling(
        dir: &Path,
        max_bytes: u64,
        durability: Durability,
        poll_for: Duration,
    ) -> Result<Spool, SpoolError> {
        let shown = dir.to_string_lossy();
        if shown.contains('\0') {
            return Err(err(
                Path::new(&shown.replace('\0', "\\0")),
                "the path contains a NUL byte, which no file name can hold",
            ));
        }
        create_dir(dir)?;
        trust::check_dir(dir)?;
        let id = uuid::Uuid::new_v4().simple().to_string();
        let db_path = dir.join(format!("run-{}.db", &id[..16]));
        let lock_path = lock_path_of(&db_path);
        let lock = create_private(&lock_path, true).map_err(|e| err(&lock_path, e))?;
        if !try_lock(&lock).map_err(|e| err(&lock_path, e))? {
            return Err(err(&lock_path, "locked by another process"));
        }
        let _calls = SqliteCalls::enter();
        // Take a dead owner's run over by name (no disk space needed, so a drain works on a
        // full disk); only when there is none, start an empty database.
        let took_over = take_over(dir, &db_path);
        if !took_over {
            if let Err(e) = create_private(&db_path, true) {
                remove_run_files(&db_path);
                return Err(err(&db_path, e));
            }
        }
        let setup = || -> Result<Connection, SpoolError> {
            let conn = open_conn(&db_path, durability)?;
            if !took_over {
                conn.execute_batch(SCHEMA).map_err(|e| err(&db_path, e))?;
                conn.pragma_update(None, "user_version", SPOOL_SCHEMA_VERSION)
                    .map_err(|e| err(&db_path, e))?;
            }
            Ok(conn)
        };
        // On failure, a run taken over is left in place (unlocked) for the next owner.
        let fail = |e: SpoolError| {
            if !took_over {
                remove_run_files(&db_path);
            }
            Err(e)
        };
        let conn = match setup() {
            Ok(c) => c,
            Err(e) => return fail(e),
        };
        if took_over {
            // Adopted rows are due now, as copied ones are; on a full disk they keep their time.
            if let Err(e) = conn.execute("UPDATE events SET next_ms = 0 WHERE next_ms > 0", []) {
                log::debug!("auditwire: spool {}: {e}", db_path.display());
            }
        }
        // Adopt dead owners' runs; a bad file stops us (reported, untouched).
        let adopted = (|| {
            for other in run_files(dir)? {
                if other == db_path {
                    continue;
                }
                if let Some(why) = trust::untrusted_run(&other) {
                    log::warn!(
                        "auditwire: spool {}: {why}; not adopted, left untouched",
                        other.display()
                    );
                    continue;
                }
                match adopt(&conn, &other) {
                    Err(AdoptError::DiskFull(e)) => {
                        log::warn!("auditwire: {e}; the run is left for a later start");
                        return Ok(());
                    }
                    Err(AdoptError::Bad(e)) => return Err(e),
                    Ok(()) => {}
                }
            }
            Ok(())
        })();
        if let Err(e) = adopted {
            drop(conn);
            return fail(e);
        }
        make_reserve(&db_path);
        let (pending, bytes, initial_max_id): (i64, i64, i64) = conn
            .query_row(
                "SELECT (SELECT count(*) FROM events),
                        (SELECT coalesce(sum(length(body)),0) FROM events)
                      + (SELECT coalesce(sum(length(body)),0) FROM dead_letters),
                        (SELECT coalesce(max(id),0) FROM events)",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .map_err(|e| err(&db_path, e))?;
        let reader = open_conn(&db_path, durability)?;
        let bytes = Arc::new(AtomicU64::new(bytes.max(0) as u64));
        conn.pragma_update(None, "wal_autocheckpoint", 0)
            .map_err(|e| err(&db_path, e))?;
        let checkpointer = open_conn(&db_path, durability)?;
        let writer = Arc::new(Writer {
            checkpointer: Mutex::new(Db::new(checkpointer)),
            commits: AtomicU64::new(0),
            rounds: AtomicU64::new(0),
            poll_for,
            state: Mutex::default(),
            conn: Mutex::new(WriterConn {
                conn: Db::new(conn),
                next_id: initial_max_id.max(0) + 1,
            }),
            work: Condvar::new(),
            committed: [Condvar::new(), Condvar::new()],
            bytes: bytes.clone(),
            path: db_path.clone(),
        });
        let thread = {
            let writer = writer.clone();
            std::thread::Builder::new()
                .name("auditwire-spool-writer".into())
                .spawn(move || background_loop(&writer))
                .map_err(|e| err(&db_path, format!("cannot start the writer thread: {e}")))?
        };
        // A forked child must not keep this run locked (see `fork`); `Drop` forgets it.
        #[cfg(unix)]
        if !super::fork::register_lock(std::os::unix::io::AsRawFd::as_raw_fd(&lock)) {
            log::warn!("auditwire: too many open spools: a forked child keeps this run locked");
        }
        Ok(Spool {
            db_path,
            lock,
            writer,
            thread: Mutex::new(Some(thread)),
            reader: Mutex::new(Db::new(reader)),
            initial_max_id,
            max_bytes,
            bytes,
            initial_pending: pending.max(0) as usize,
        })
    }

    /// The highest row id on disk when the run started: rows up to it are adopted ones.
    pub(crate) fn initial_max_id(&self) -> i64 {
        self.initial_max_id
    }

    /// Rows already on disk when the run started (adopted).
    pub(crate) fn initial_pending(&self) -> usize {
        self.initial_pending
    }

    /// Reserves room for `size` bytes; `false` when the spool is full.
    pub(crate) fn reserve(&self, size: usize) -> bool {
        let size = size as u64;
        let mut cur = self.bytes.load(Ordering::Relaxed);
        loop {
            if cur.saturating_add(size) > self.max_bytes {
                return false;
            }
            match self.bytes.compare_exchange_weak(
                cur,
                cur + size,
                Ordering::AcqRel,
                Ordering::Relaxed,
            ) {
                Ok(_) => return true,
                Err(now) => cur = now,
            }
        }
    }

    /// Returns a reservation that was not used.
    pub(crate) fn unreserve(&self, size: usize) {
        self.bytes.fetch_sub(size as u64, Ordering::AcqRel);
    }

    /// The spool's byte bound.
    pub(crate) fn max_bytes(&self) -> u64 {
        self.max_bytes
    }

    /// Writes the event and waits until its transaction has committed; returns its row id.
    pub(crate) fn insert(&self, env: &Envelope) -> Result<i64, String> {
        let mut st = self.writer.lock();
        if st.stop {
            return Err(err(&self.writer.path, "closed").to_string());
        }
        st.next_seq += 1;
        let seq = st.next_seq;
        st.inserts.push(Insert {
            seq,
            key: env.key().to_owned(),
            organization_id: env.slot.organization_id.to_string(),
            endpoint: endpoint_code(env.endpoint),
            body: env.body.clone(),
            accepted_ms: env.accepted_ms,
        });
        let cv = &self.writer.committed[(st.batch % 2) as usize];
        let mut yielded = false;
        // The commit round this caller last polled for: it sleeps only once that round
        // has been polled, with every check above made again under the lock.
        let mut polled = None;
        loop {
            if let Some(r) = st.done.remove(&seq) {
                return r;
            }
            if st.stopped {
                return Err(err(&self.writer.path, "the writer stopped").to_string());
            }
            if !st.committing {
                if (st.waiting > 0 || st.polling > 0) && !yielded {
                    // Others are queued behind: let runnable callers join this batch.
                    yielded = true;
                    drop(st);
                    std::thread::yield_now();
                    st = self.writer.lock();
                    continue;
                }
                st = self.writer.commit_round(st);
                continue;
            }
            let round = self.writer.rounds.load(Ordering::Acquire);
            if !self.writer.poll_for.is_zero() && polled != Some(round) {
                polled = Some(round);
                st.polling += 1;
                drop(st);
                self.writer.poll(round, self.writer.poll_for);
                st = self.writer.lock();
                st.polling -= 1;
                // The round may have ended after the poll gave up: look again.
                continue;
            }
            st.waiting += 1;
            st = cv.wait(st).unwrap_or_else(PoisonError::into_inner);
            st.waiting -= 1;
        }
    }

    fn op(&self, op: Op) {
        let mut st = self.writer.lock();
        if st.stopped {
            return;
        }
        st.ops.push(op);
        if !st.committing && st.ops.len() == 1 {
            self.writer.work.notify_one();
        }
    }

    /// The event was delivered: remove it.
    pub(crate) fn delete(&self, id: i64, size: usize) {
        self.op(Op::Delete {
            id,
            size: size as u64,
        });
    }

    /// Records an attempt and when the next one is due.
    pub(crate) fn attempted(&self, id: i64, attempts: u32, next_ms: i64) {
        self.op(Op::Attempt {
            id,
            attempts,
            next_ms,
        });
    }

    /// Moves the event to the dead letters with the server's answer.
    pub(crate) fn dead(&self, id: i64, outcome: &'static str, attempts: u32, error: &ApiError) {
        self.op(Op::Dead {
            id,
            outcome,
            attempts,
            error: Box::new(error.clone()),
        });
    }

    /// Reads up to `limit` rows with ids above `after`, in id order.
    pub(crate) fn load(&self, after: i64, limit: usize) -> Result<Vec<StoredRow>, SpoolError> {
        let guard = self.reader.lock().unwrap_or_else(PoisonError::into_inner);
        let _calls = SqliteCalls::enter();
        let mut stmt = guard
            .prepare_cached(
                "SELECT id, idempotency_key, organization_id, endpoint, body, attempts, accepted_ms, next_ms
                 FROM events WHERE id > ?1 ORDER BY id LIMIT ?2",
            )
            .map_err(|e| err(&self.db_path, e))?;
        let rows = stmt
            .query_map(params![after, limit as i64], |r| {
                Ok(StoredRow {
                    id: r.get(0)?,
                    key: r.get(1)?,
                    organization_id: r.get(2)?,
                    endpoint: endpoint_from(r.get(3)?),
                    body: r.get(4)?,
                    attempts: r.get::<_, i64>(5)?.clamp(0, u32::MAX as i64) as u32,
                    accepted_ms: r.get(6)?,
                    next_ms: r.get(7)?,
                })
            })
            .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
            .map_err(|e| err(&self.db_path, e))?;
        Ok(rows)
    }

    /// Waits (up to `deadline`) for queued writes to commit, then stops the writer. Returns
    /// the events still on disk, or `None` if that could not be read.
    pub(crate) fn close(&self, deadline: Instant) -> Option<usize> {
        {
            let mut st = self.writer.lock();
            st.stop = true;
            self.writer.work.notify_one();
            while !st.stopped {
                let left = deadline.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    break;
                }
                st = self.writer.committed[0]
                    .wait_timeout(st, left)
                    .unwrap_or_else(PoisonError::into_inner)
                    .0;
            }
            if !st.stopped {
                return None;
            }
        }
        if let Some(h) = self
            .thread
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
        {
            let _ = h.join();
        }
        let guard = self.reader.lock().unwrap_or_else(PoisonError::into_inner);
        let calls = SqliteCalls::enter();
        let counts: Option<(i64, i64)> = guard
            .query_row(
                "SELECT (SELECT count(*) FROM events), (SELECT count(*) FROM dead_letters)",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .ok();
        drop(calls);
        drop(guard);
        let (pending, dead) = counts?;
        if pending == 0 && dead == 0 {
            // Nothing left: remove this run's files, the lock file last (we hold its lock).
            remove_run_files(&self.db_path);
        } else {
            // Nothing here writes to the run any more: the next owner may adopt it now,
            // even while a detached worker still holds this `Spool`.
            unlock(&self.lock);
        }
        Some(pending.max(0) as usize)
    }
}

impl Drop for Spool {
    fn drop(&mut self) {
        #[cfg(unix)]
        super::fork::forget_lock(std::os::unix::io::AsRawFd::as_raw_fd(&self.lock));
        let mut st = self.writer.lock();
        st.stop = true;
        self.writer.work.notify_one();
    }
}

fn create_dir(dir: &Path) -> Result<(), SpoolError> {
    let mut b = std::fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        b.mode(0o700);
    }
    b.create(dir).map_err(|e| err(dir, e))
}

/// Why a dead owner's run was not adopted.
enum AdoptError {
    /// The disk is full: the run is left for a later start.
    DiskFull(SpoolError),
    /// The run is unreadable, corrupt or newer: reported, left untouched.
    Bad(SpoolError),
}

/// Opens a dead owner's database to check its schema; the error names the file.
fn check_run(db: &Path) -> Result<(), SpoolError> {
    let old = Connection::open_with_flags(
        db,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NOFOLLOW,
    )
    .map_err(|e| err(db, format!("cannot open: {e}; left untouched")))?;
    check_version(&old, db)
}

/// Moves a dead owner's rows into `conn`'s database and removes its files.
fn adopt(conn: &Connection, other: &Path) -> Result<(), AdoptError> {
    let Some(lock) = lock_dead_run(other).map_err(AdoptError::Bad)? else {
        return Ok(());
    };
    if !other.exists() {
        // Its owner finished and removed it while we looked: nothing to adopt.
        let _ = std::fs::remove_file(lock_path_of(other));
        return Ok(());
    }
    check_run(other).map_err(AdoptError::Bad)?;
    let path = other.to_string_lossy().into_owned();
    let run = || -> rusqlite::Result<(usize, usize)> {
        conn.execute("ATTACH DATABASE ?1 AS old", [&path])?;
        let moved = (|| {
            conn.execute_batch("BEGIN IMMEDIATE")?;
            let n = conn.execute(
                "INSERT INTO main.events (idempotency_key, organization_id, endpoint, body, attempts, accepted_ms, next_ms)
                 SELECT idempotency_key, organization_id, endpoint, body, attempts, accepted_ms, 0
                 FROM old.events ORDER BY id",
                [],
            )?;
            let d = conn.execute(
                "INSERT INTO main.dead_letters (idempotency_key, organization_id, endpoint, body, attempts, accepted_ms, dead_ms, outcome, status, code, message, errors, request_id)
                 SELECT idempotency_key, organization_id, endpoint, body, attempts, accepted_ms, dead_ms, outcome, status, code, message, errors, request_id
                 FROM old.dead_letters ORDER BY id",
                [],
            )?;
            conn.execute_batch("COMMIT")?;
            Ok((n, d))
        })();
        if moved.is_err() {
            let _ = conn.execute_batch("ROLLBACK");
        }
        let _ = conn.execute("DETACH DATABASE old", []);
        moved
    };
    let (n, d) = run().map_err(|e| {
        if e.sqlite_error_code() == Some(rusqlite::ErrorCode::DiskFull) {
            AdoptError::DiskFull(write_error(other, &e))
        } else {
            AdoptError::Bad(err(other, format!("cannot adopt: {e}; left untouched")))
        }
    })?;
    log::info!(
        "auditwire: adopted {n} pending event(s) and {d} dead letter(s) from {}",
        other.display()
    );
    remove_run_files(other);
    drop(lock);
    Ok(())
}

/// Makes the first dead owner's run found (trusted and readable) this run's, under
/// `db_path`: its files are hard-linked to the new names, then the old names removed, so
/// no byte is copied. A crash in between leaves the rows under both names: the next start
/// adopts both and sends the copies under the same idempotency keys. False if none was
/// taken (nothing to take, or the links failed).
fn take_over(dir: &Path, db_path: &Path) -> bool {
    let Ok(runs) = run_files(dir) else {
        return false;
    };
    for other in runs {
        if other == db_path || trust::untrusted_run(&other).is_some() {
            continue;
        }
        let Ok(Some(lock)) = lock_dead_run(&other) else {
            continue;
        };
        if check_run(&other).is_err() {
            // Left for `adopt`, which reports it by name.
            continue;
        }
        let [old_db, old_wal, old_shm, old_lock] = trust::files_of(&other);
        let [new_db, new_wal, _, _] = trust::files_of(db_path);
        let linked = std::fs::hard_link(&old_db, &new_db).and_then(|()| {
            if old_wal.exists() {
                std::fs::hard_link(&old_wal, &new_wal)?;
            }
            Ok(())
        });
        if let Err(e) = linked {
            log::debug!("auditwire: spool {}: cannot link: {e}", other.display());
            let _ = std::fs::remove_file(&new_wal);
            let _ = std::fs::remove_file(&new_db);
            return false;
        }
        let _ = std::fs::rename(reserve_of(&other), reserve_of(db_path));
        for p in [old_wal, old_shm, old_db, old_lock] {
            let _ = std::fs::remove_file(p);
        }
        drop(lock);
        log::info!(
            "auditwire: took over the run {} as {}",
            other.display(),
            db_path.display()
        );
        return true;
    }
    false
}

/// Bytes a run keeps allocated on disk (its reserve file) so that deleting delivered
/// events still works once the disk is full.
const RESERVE_BYTES: i64 = 1 << 20;

/// The reserve file of a run.
fn reserve_of(db: &Path) -> PathBuf {
    db.with_extension("reserve")
}

/// Allocates the run's reserve file, unless it has one; best effort (the disk may be full).
fn make_reserve(db: &Path) {
    let path = reserve_of(db);
    if std::fs::symlink_metadata(&path).is_ok() {
        return;
    }
    let Ok(file) = create_private(&path, true) else {
        return;
    };
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::io::AsRawFd;
        // SAFETY: posix_fallocate on a file descriptor we own.
        let rc = unsafe { libc::posix_fallocate(file.as_raw_fd(), 0, RESERVE_BYTES) };
        if rc != 0 {
            drop(file);
            let _ = std::fs::remove_file(&path);
        }
    }
    #[cfg(not(target_os = "linux"))]
    {
        if file.set_len(RESERVE_BYTES as u64).is_err() {
            drop(file);
            let _ = std::fs::remove_file(&path);
        }
    }
}

/// Frees the run's reserve (the disk is full); true if there was one.
fn release_reserve(db: &Path) -> bool {
    let freed = std::fs::remove_file(reserve_of(db)).is_ok();
    if freed {
        log::warn!(
            "auditwire: spool {}: disk full; released its {RESERVE_BYTES}-byte reserve to record deliveries",
            db.display()
        );
    }
    freed
}

/// How often the background thread checkpoints the WAL into the database.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(250);

/// Commits queued deletes and bookkeeping when no caller is committing; ends on `stop`
/// once everything queued is written.
fn background_loop(writer: &Writer) {
    let mut st = writer.lock();
    let mut last_checkpoint = Instant::now();
    loop {
        if last_checkpoint.elapsed() >= CHECKPOINT_EVERY
            && writer.commits.load(Ordering::Relaxed) > 0
        {
            drop(st);
            writer.commits.store(0, Ordering::Relaxed);
            let conn = writer
                .checkpointer
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            wal_checkpoint::checkpoint(&conn, || {
                writer.conn.lock().unwrap_or_else(PoisonError::into_inner)
            });
            drop(conn);
            last_checkpoint = Instant::now();
            st = writer.lock();
        }
        let ops_due = !st.ops.is_empty()
            && (st.stop || st.ops_retry_at.map_or(true, |t| Instant::now() >= t));
        if st.committing || (st.inserts.is_empty() && !ops_due) {
            if st.stop && !st.committing {
                st.stopped = true;
                for cv in &writer.committed {
                    cv.notify_all();
                }
                return;
            }
            st = writer
                .work
                .wait_timeout(st, Duration::from_millis(50))
                .unwrap_or_else(PoisonError::into_inner)
                .0;
            continue;
        }
        st = writer.commit_round(st);
    }
}

/// Writes `inserts` (with ids from `first_id` on) and `ops` as one transaction, begun and
/// committed by cached statements (no SQL parsed per commit).
fn commit(
    conn: &Connection,
    first_id: i64,
    inserts: &[Insert],
    ops: &[Op],
) -> rusqlite::Result<(Vec<i64>, u64)> {
    conn.prepare_cached("BEGIN")?.execute([])?;
    let written = write_batch(conn, first_id, inserts, ops)
        .and_then(|done| conn.prepare_cached("COMMIT")?.execute([]).map(|_| done));
    if written.is_err() && !conn.is_autocommit() {
        if let Err(e) = conn.execute_batch("ROLLBACK") {
            log::error!("auditwire: spool rollback failed: {e}");
        }
    }
    written
}

fn write_batch(
    tx: &Connection,
    first_id: i64,
    inserts: &[Insert],
    ops: &[Op],
) -> rusqlite::Result<(Vec<i64>, u64)> {
    let mut ids = Vec::with_capacity(inserts.len());
    let mut freed = 0u64;
    {
        let mut ins = tx.prepare_cached(
            "INSERT INTO events (id, idempotency_key, organization_id, endpoint, body, accepted_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )?;
        for (id, i) in (first_id..).zip(inserts) {
            ins.execute(params![
                id,
                i.key,
                i.organization_id,
                i.endpoint,
                i.body,
                i.accepted_ms
            ])?;
            ids.push(id);
        }
        let mut del = tx.prepare_cached("DELETE FROM events WHERE id = ?1")?;
        let mut upd =
            tx.prepare_cached("UPDATE events SET attempts = ?2, next_ms = ?3 WHERE id = ?1")?;
        let mut dead = tx.prepare_cached(
            "INSERT INTO dead_letters (idempotency_key, organization_id, endpoint, body, attempts, accepted_ms, dead_ms, outcome, status, code, message, errors, request_id)
             SELECT idempotency_key, organization_id, endpoint, body, ?2, accepted_ms, ?3, ?4, ?5, ?6, ?7, ?8, ?9 FROM events WHERE id = ?1",
        )?;
        for op in ops {
            match op {
                Op::Delete { id, size } => {
                    if del.execute([id])? > 0 {
                        freed += size;
                    }
                }
                Op::Attempt {
                    id,
                    attempts,
                    next_ms,
                } => {
                    upd.execute(params![id, attempts, next_ms])?;
                }
                Op::Dead {
                    id,
                    outcome,
                    attempts,
                    error,
                } => {
                    let errors = error.errors.as_ref().map(|v| v.to_string());
                    dead.execute(params![
                        id,
                        attempts,
                        now_ms(),
                        outcome,
                        error.status,
                        error.code,
                        error.message,
                        errors,
                        error.request_id
                    ])?;
                    del.execute([id])?;
                }
            }
        }
    }
    Ok((ids, freed))
}

// ---------------------------------------------------------------------------------------
// Offline inspection for the CLI: status, dead letters, retry.

/// One run database in a spool directory, as `spool status` reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SpoolRun {
    /// The database file.
    pub path: PathBuf,
    /// A live process owns it (its lock is held).
    pub live: bool,
    /// Events waiting for delivery.
    pub pending: u64,
    /// Events in the dead-letter table.
    pub dead_letters: u64,
    /// When the oldest pending event was first accepted (Unix milliseconds).
    pub oldest_accepted_ms: Option<i64>,
    /// Bytes on disk (database and its WAL).
    pub size_bytes: u64,
    /// Why the file could not be read, if it could not (it is left untouched).
    pub error: Option<String>,
}

/// The state of a spool directory: one entry per run database.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SpoolStatus {
    /// Every run database found.
    pub runs: Vec<SpoolRun>,
}

impl SpoolStatus {
    /// Pending events across runs.
    pub fn pending(&self) -> u64 {
        self.runs.iter().map(|r| r.pending).sum()
    }
    /// Dead letters across runs.
    pub fn dead_letters(&self) -> u64 {
        self.runs.iter().map(|r| r.dead_letters).sum()
    }
    /// The oldest pending event's first-accepted time (Unix milliseconds).
    pub fn oldest_accepted_ms(&self) -> Option<i64> {
        self.runs.iter().filter_map(|r| r.oldest_accepted_ms).min()
    }
    /// Bytes on disk across runs.
    pub fn size_bytes(&self) -> u64 {
        self.runs.iter().map(|r| r.size_bytes).sum()
    }
}

/// An event the API refused (or whose retry budget ran out), with the server's answer.
#[derive(Clone, Debug, PartialEq)]
pub struct DeadLetter {
    /// The run database holding it.
    pub path: PathBuf,
    /// The idempotency key.
    pub idempotency_key: String,
    /// The organization.
    pub organization_id: String,
    /// The request body.
    pub body: String,
    /// Attempts made.
    pub attempts: u32,
    /// First accepted (Unix milliseconds).
    pub accepted_ms: i64,
    /// Moved to the dead letters (Unix milliseconds).
    pub dead_ms: i64,
    /// `rejected` or `expired`.
    pub outcome: String,
    /// The HTTP status, if there was a response.
    pub status: Option<u16>,
    /// The server's error code.
    pub code: Option<String>,
    /// The server's message.
    pub message: String,
    /// The server's `errors` JSON.
    pub errors: Option<String>,
    /// The server's request id.
    pub request_id: Option<String>,
}

fn file_size(p: &Path) -> u64 {
    let mut total = std::fs::metadata(p).map_or(0, |m| m.len());
    let mut wal = p.as_os_str().to_owned();
    wal.push("-wal");
    total += std::fs::metadata(PathBuf::from(wal)).map_or(0, |m| m.len());
    total
}

fn is_live(db: &Path) -> bool {
    let lock_path = lock_path_of(db);
    let mut o = OpenOptions::new();
    o.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC);
    }
    match o.open(&lock_path) {
        Ok(f) => !try_lock(&f).unwrap_or(false),
        Err(_) => false,
    }
}

fn open_read(db: &Path) -> Result<Connection, SpoolError> {
    super::sqlite_config::configure();
    let conn = Connection::open_with_flags(
        db,
        OpenFlags::SQLITE_OPEN_READ_ONLY
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
            | OpenFlags::SQLITE_OPEN_NOFOLLOW,
    )
    .map_err(|e| err(db, e))?;
    conn.busy_timeout(Duration::from_secs(5))
        .map_err(|e| err(db, e))?;
    check_version(&conn, db)?;
    Ok(conn)
}

/// Reads a spool directory without changing it.
pub fn spool_status(dir: &Path) -> Result<SpoolStatus, SpoolError> {
    let _calls = SqliteCalls::enter();
    if !dir.is_dir() {
        return Err(err(dir, "no such directory"));
    }
    let mut status = SpoolStatus::default();
    for path in run_files(dir)? {
        if let Some(why) = trust::untrusted_run(&path) {
            status.runs.push(SpoolRun {
                path,
                live: false,
                pending: 0,
                dead_letters: 0,
                oldest_accepted_ms: None,
                size_bytes: 0,
                error: Some(format!("{why}; not read")),
            });
            continue;
        }
        let mut run = SpoolRun {
            live: is_live(&path),
            size_bytes: file_size(&path),
            path: path.clone(),
            pending: 0,
            dead_letters: 0,
            oldest_accepted_ms: None,
            error: None,
        };
        let read = open_read(&path).and_then(|c| {
            c.query_row(
                "SELECT (SELECT count(*) FROM events), (SELECT count(*) FROM dead_letters),
                        (SELECT min(accepted_ms) FROM events)",
                [],
                |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        r.get::<_, i64>(1)?,
                        r.get::<_, Option<i64>>(2)?,
                    ))
                },
            )
            .map_err(|e| err(&path, e))
        });
        match read {
            Ok((p, d, o)) => {
                run.pending = p.max(0) as u64;
                run.dead_letters = d.max(0) as u64;
                run.oldest_accepted_ms = o;
            }
            Err(e) => run.error = Some(e.message),
        }
        status.runs.push(run);
    }
    Ok(status)
}

/// Lists the dead letters of every run in a spool directory.
pub fn spool_dead_letters(dir: &Path) -> Result<Vec<DeadLetter>, SpoolError> {
    let _calls = SqliteCalls::enter();
    if !dir.is_dir() {
        return Err(err(dir, "no such directory"));
    }
    let mut out = Vec::new();
    for path in run_files(dir)? {
        if let Some(why) = trust::untrusted_run(&path) {
            log::warn!("auditwire: spool {}: {why}; not read", path.display());
            continue;
        }
        let conn = open_read(&path)?;
        let mut stmt = conn
            .prepare(
                "SELECT idempotency_key, organization_id, body, attempts, accepted_ms, dead_ms, outcome,
                        status, code, message, errors, request_id FROM dead_letters ORDER BY id",
            )
            .map_err(|e| err(&path, e))?;
        let rows = stmt
            .query_map([], |r| {
                let body: Vec<u8> = r.get(2)?;
                Ok(DeadLetter {
                    path: path.clone(),
                    idempotency_key: r.get(0)?,
                    organization_id: r.get(1)?,
                    body: String::from_utf8_lossy(&body).into_owned(),
                    attempts: r.get::<_, i64>(3)?.clamp(0, u32::MAX as i64) as u32,
                    accepted_ms: r.get(4)?,
                    dead_ms: r.get(5)?,
                    outcome: r.get(6)?,
                    status: r
                        .get::<_, Option<i64>>(7)?
                        .and_then(|s| u16::try_from(s).ok()),
                    code: r.get(8)?,
                    message: r.get(9)?,
                    errors: r.get(10)?,
                    request_id: r.get(11)?,
                })
            })
            .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
            .map_err(|e| err(&path, e))?;
        out.extend(rows);
    }
    Ok(out)
}

/// What `spool retry` did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RetryReport {
    /// Dead letters moved back to pending.
    pub moved: u64,
    /// Runs skipped because a live process owns them.
    pub skipped_live: Vec<PathBuf>,
    /// Runs skipped because a file of theirs is another user's or a symbolic link, with why.
    pub skipped_untrusted: Vec<(PathBuf, String)>,
}

/// Moves every dead letter back to pending (attempts reset), in runs no live process owns.
pub fn spool_retry(dir: &Path) -> Result<RetryReport, SpoolError> {
    let _calls = SqliteCalls::enter();
    if !dir.is_dir() {
        return Err(err(dir, "no such directory"));
    }
    trust::check_dir(dir)?;
    let mut report = RetryReport::default();
    for path in run_files(dir)? {
        if let Some(why) = trust::untrusted_run(&path) {
            report.skipped_untrusted.push((path, why));
            continue;
        }
        let Some(lock) = lock_dead_run(&path)? else {
            report.skipped_live.push(path);
            continue;
        };
        let mut conn = open_conn(&path, Durability::PowerLoss)?;
        check_version(&conn, &path)?;
        let tx = conn.transaction().map_err(|e| err(&path, e))?;
        let n = tx
            .execute(
                "INSERT INTO events (idempotency_key, organization_id, endpoint, body, attempts, accepted_ms, next_ms)
                 SELECT idempotency_key, organization_id, endpoint, body, 0, accepted_ms, 0 FROM dead_letters ORDER BY id",
                [],
            )
            .map_err(|e| err(&path, e))?;
        tx.execute("DELETE FROM dead_letters", [])
            .map_err(|e| err(&path, e))?;
        tx.commit().map_err(|e| err(&path, e))?;
        report.moved += n as u64;
        drop(conn);
        drop(lock);
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::envelope::IdempotencyKey;
    use crate::client::receipt::Slot;

    fn env() -> Envelope {
        env_of(b"{}".to_vec())
    }

    fn env_of(body: Vec<u8>) -> Envelope {
        let slot = Slot::new(IdempotencyKey::new_v4(), "org");
        Envelope::new(body, Endpoint::Events, slot)
    }

    /// Waits until the background thread has committed every queued op.
    fn settle(spool: &Spool) {
        for _ in 0..500 {
            let st = spool.writer.lock();
            if st.ops.is_empty() && !st.committing {
                return;
            }
            drop(st);
            std::thread::sleep(Duration::from_millis(2));
        }
        panic!("the spool writer did not commit its ops");
    }

    #[test]
    fn a_poll_ends_with_the_next_commit_or_at_its_limit() {
        let dir = std::env::temp_dir().join(format!("auditwire-spool-poll-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let spool = Spool::open(&dir, 1 << 20, Durability::Process).unwrap();
        assert_eq!(spool.writer.poll_for, POLL_FOR_COMMIT);
        let round = spool.writer.rounds.load(Ordering::Acquire);
        let start = Instant::now();
        assert!(!spool.writer.poll(round, Duration::from_millis(20)));
        assert!(start.elapsed() >= Duration::from_millis(20));
        std::thread::scope(|s| {
            s.spawn(|| {
                std::thread::sleep(Duration::from_millis(20));
                spool.insert(&env()).unwrap();
            });
            let start = Instant::now();
            assert!(
                spool.writer.poll(round, Duration::from_secs(30)),
                "the commit went unseen"
            );
            assert!(start.elapsed() < Duration::from_secs(10));
        });
        drop(spool);
        let power = Spool::open(&dir, 1 << 20, Durability::PowerLoss).unwrap();
        assert!(
            power.writer.poll_for.is_zero(),
            "a caller waiting on fsync polls"
        );
        drop(power);
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// A poll that gives up just as its round ends must not leave the caller asleep with
    /// its result already there: with 1 µs polls that happens often, and the last inserts
    /// of a thread have no later commit to wake them.
    #[test]
    fn a_caller_whose_poll_gives_up_still_gets_its_result() {
        let dir =
            std::env::temp_dir().join(format!("auditwire-spool-giveup-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let spool = Arc::new(
            Spool::open_polling(&dir, 1 << 30, Durability::Process, Duration::from_micros(1))
                .unwrap(),
        );
        let (threads, each) = (6, 1500);
        let (tx, rx) = std::sync::mpsc::channel();
        for _ in 0..threads {
            let (spool, tx) = (spool.clone(), tx.clone());
            std::thread::spawn(move || {
                for _ in 0..each {
                    spool.insert(&env()).unwrap();
                }
                tx.send(()).unwrap();
            });
        }
        for done in 0..threads {
            if rx.recv_timeout(Duration::from_secs(60)).is_err() {
                panic!("{} of {threads} inserting threads stuck", threads - done);
            }
        }
        assert_eq!(
            spool.load(0, threads * each + 1).unwrap().len(),
            threads * each
        );
        drop(spool);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn an_id_is_never_reused_after_the_newest_row_is_deleted() {
        let dir = std::env::temp_dir().join(format!("auditwire-spool-ids-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let spool = Spool::open(&dir, 1 << 20, Durability::Process).unwrap();
        let first = spool.insert(&env()).unwrap();
        let second = spool.insert(&env()).unwrap();
        assert_eq!(second, first + 1);
        spool.delete(second, 2);
        settle(&spool);
        let third = spool.insert(&env()).unwrap();
        assert_eq!(third, second + 1, "the deleted newest id came back");
        let ids: Vec<i64> = spool.load(0, 10).unwrap().iter().map(|r| r.id).collect();
        assert_eq!(ids, vec![first, third]);
        // The reader's cursor past the deleted row still finds the new one.
        assert_eq!(spool.load(second, 10).unwrap()[0].id, third);
        drop(spool);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn the_wal_starts_over_under_sustained_commits() {
        let dir = std::env::temp_dir().join(format!("auditwire-spool-wal-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let spool = Spool::open(&dir, 1 << 40, Durability::Process).unwrap();
        let mut wal = spool.db_path.clone().into_os_string();
        wal.push("-wal");
        // The WAL header's checkpoint sequence number counts the times it started over.
        let restarts = || {
            let mut header = [0u8; 16];
            File::open(&wal)
                .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut header))
                .map_or(0, |()| {
                    u32::from_be_bytes(header[12..16].try_into().unwrap())
                })
        };
        // Commits from several threads at once, with no pause for a checkpoint to catch
        // up in; the WAL must go on starting over once it is large.
        let started = Instant::now();
        let (warm, end) = (CHECKPOINT_EVERY * 4, CHECKPOINT_EVERY * 12);
        let mut after_warm_up = None;
        std::thread::scope(|s| {
            for _ in 0..4 {
                s.spawn(|| {
                    while started.elapsed() < end {
                        for _ in 0..20 {
                            spool.insert(&env_of(vec![b'x'; 200])).unwrap();
                        }
                    }
                });
            }
            std::thread::sleep(warm);
            after_warm_up = Some(restarts());
        });
        let (restarts, size) = (restarts(), file_size(Path::new(&wal)));
        drop(spool);
        let _ = std::fs::remove_dir_all(&dir);
        let since = restarts.saturating_sub(after_warm_up.unwrap());
        assert!(
            since >= 2,
            "the WAL started over {since} times under load; {size} bytes"
        );
    }
}
