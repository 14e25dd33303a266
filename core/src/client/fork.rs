//! Fork detection: a `pthread_atfork` child handler bumps a generation counter, so the
//! client notices a fork with one atomic load (no `getpid` system call per call).
//!
//! In a forked child the client's worker threads do not exist and its locks may have been
//! held by them; the client then forgets the inherited engine (the parent's queued events
//! stay the parent's) and starts fresh workers on its next call.
//!
//! A spool run is locked with `flock`, which belongs to the open file and so is shared
//! with a forked child: the handler points the child's copies of those descriptors at
//! `/dev/null`, so that a run stays locked exactly as long as its owner lives.
//!
//! SQLite keeps process-wide mutexes (file and random-number state). A child that
//! inherited one held by a parent's thread would hang on its first spool call, so a fork
//! first waits until no thread is inside this library's SQLite calls ([`SqliteCalls`]).

use std::cell::Cell;
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

static GENERATION: AtomicU64 = AtomicU64::new(0);

/// Spool lock descriptors of this process; -1 marks a free slot.
static LOCKS: [AtomicI32; 64] = [const { AtomicI32::new(-1) }; 64];

/// A descriptor open on `/dev/null` (opened by `install`).
static DEV_NULL: AtomicI32 = AtomicI32::new(-1);

/// Threads inside [`SqliteCalls`] sections, counted once per thread.
static IN_SQLITE: AtomicUsize = AtomicUsize::new(0);

/// A fork is about to happen: new sections wait until it has.
static FORKING: AtomicBool = AtomicBool::new(false);

/// Longest a fork waits for SQLite calls in progress before it goes ahead anyway.
#[cfg(unix)]
const FORK_WAIT_LIMIT: Duration = Duration::from_secs(2);

thread_local! {
    /// How deep this thread is in nested sections.
    static DEPTH: Cell<usize> = const { Cell::new(0) };
}

/// A stretch of SQLite calls that a `fork()` does not cut through: while any thread holds
/// one, a fork waits (up to two seconds). Hold it inside any Rust lock, never across a wait.
pub(crate) struct SqliteCalls(());

impl SqliteCalls {
    /// Enters a section, first waiting out a fork in progress.
    pub(crate) fn enter() -> Self {
        install();
        if DEPTH.get() == 0 {
            loop {
                IN_SQLITE.fetch_add(1, Ordering::SeqCst);
                if !FORKING.load(Ordering::SeqCst) {
                    break;
                }
                IN_SQLITE.fetch_sub(1, Ordering::SeqCst);
                while FORKING.load(Ordering::SeqCst) {
                    std::thread::sleep(Duration::from_micros(100));
                }
            }
        }
        DEPTH.set(DEPTH.get() + 1);
        SqliteCalls(())
    }
}

impl Drop for SqliteCalls {
    fn drop(&mut self) {
        let depth = DEPTH.get() - 1;
        DEPTH.set(depth);
        if depth == 0 {
            IN_SQLITE.fetch_sub(1, Ordering::SeqCst);
        }
    }
}

#[cfg(unix)]
extern "C" fn before_fork() {
    FORKING.store(true, Ordering::SeqCst);
    // A fork from inside a section (a callback) cannot wait for itself.
    let own = usize::from(DEPTH.get() > 0);
    let start = std::time::Instant::now();
    while IN_SQLITE.load(Ordering::SeqCst) > own {
        if start.elapsed() > FORK_WAIT_LIMIT {
            log::warn!("auditwire: forking while SQLite calls are in progress");
            break;
        }
        std::thread::sleep(Duration::from_micros(50));
    }
}

#[cfg(unix)]
extern "C" fn in_parent() {
    FORKING.store(false, Ordering::SeqCst);
}

#[cfg(unix)]
extern "C" fn in_child() {
    GENERATION.fetch_add(1, Ordering::Relaxed);
    // Only the forking thread exists here.
    IN_SQLITE.store(usize::from(DEPTH.get() > 0), Ordering::SeqCst);
    FORKING.store(false, Ordering::SeqCst);
    let null = DEV_NULL.load(Ordering::Relaxed);
    if null < 0 {
        return;
    }
    for slot in &LOCKS {
        let fd = slot.swap(-1, Ordering::Relaxed);
        if fd >= 0 {
            // SAFETY: dup2 and fcntl are async-signal-safe; both descriptors are open.
            unsafe {
                if libc::dup2(null, fd) == fd {
                    libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC);
                }
            }
        }
    }
}

/// Remembers a spool lock descriptor to release in forked children; false when full.
pub(crate) fn register_lock(fd: i32) -> bool {
    install();
    LOCKS.iter().any(|slot| {
        slot.compare_exchange(-1, fd, Ordering::AcqRel, Ordering::Relaxed)
            .is_ok()
    })
}

/// Forgets a lock descriptor about to be closed.
pub(crate) fn forget_lock(fd: i32) {
    for slot in &LOCKS {
        let _ = slot.compare_exchange(fd, -1, Ordering::AcqRel, Ordering::Relaxed);
    }
}

/// Registers the fork handler once per process.
pub(crate) fn install() {
    #[cfg(unix)]
    {
        static ONCE: std::sync::Once = std::sync::Once::new();
        ONCE.call_once(|| {
            if let Ok(null) = std::fs::File::open("/dev/null") {
                DEV_NULL.store(
                    std::os::unix::io::IntoRawFd::into_raw_fd(null),
                    Ordering::Relaxed,
                );
            }
            // SAFETY: registers handlers; the child's does only async-signal-safe work.
            unsafe {
                libc::pthread_atfork(Some(before_fork), Some(in_parent), Some(in_child));
            }
        });
    }
}

/// How many forks this process descends from (since `install`).
pub(crate) fn generation() -> u64 {
    GENERATION.load(Ordering::Acquire)
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[test]
    fn a_fork_waits_for_sqlite_calls_in_progress() {
        install();
        let (entered, inside) = std::sync::mpsc::channel();
        let holder = std::thread::spawn(move || {
            let calls = SqliteCalls::enter();
            entered.send(()).unwrap();
            std::thread::sleep(Duration::from_millis(300));
            drop(calls);
        });
        inside.recv().unwrap();
        let t0 = std::time::Instant::now();
        // SAFETY: the child leaves at once with _exit.
        let pid = unsafe { libc::fork() };
        if pid == 0 {
            // SAFETY: ends the child without running the parent's destructors.
            unsafe { libc::_exit(0) };
        }
        let waited = t0.elapsed();
        assert!(pid > 0, "fork failed");
        let mut status = 0;
        // SAFETY: waits for our own child.
        assert_eq!(unsafe { libc::waitpid(pid, &mut status, 0) }, pid);
        holder.join().unwrap();
        assert!(
            waited >= Duration::from_millis(250),
            "the fork went ahead after {waited:?}, inside a section"
        );
        // The section is over and the fork done: a new one enters at once.
        drop(SqliteCalls::enter());
    }
}
