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

use std::sync::atomic::{AtomicI32, AtomicU64, Ordering};

static GENERATION: AtomicU64 = AtomicU64::new(0);

/// Spool lock descriptors of this process; -1 marks a free slot.
static LOCKS: [AtomicI32; 64] = [const { AtomicI32::new(-1) }; 64];

/// A descriptor open on `/dev/null` (opened by `install`).
static DEV_NULL: AtomicI32 = AtomicI32::new(-1);

#[cfg(unix)]
extern "C" fn in_child() {
    GENERATION.fetch_add(1, Ordering::Relaxed);
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
            // SAFETY: registers a handler that only does async-signal-safe work.
            unsafe {
                libc::pthread_atfork(None, None, Some(in_child));
            }
        });
    }
}

/// How many forks this process descends from (since `install`).
pub(crate) fn generation() -> u64 {
    GENERATION.load(Ordering::Acquire)
}
