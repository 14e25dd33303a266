//! Fork detection: a `pthread_atfork` child handler bumps a generation counter, so the
//! client notices a fork with one atomic load (no `getpid` system call per call).
//!
//! In a forked child the client's worker threads do not exist and its locks may have been
//! held by them; the client then forgets the inherited engine (the parent's queued events
//! stay the parent's) and starts fresh workers on its next call.

use std::sync::atomic::{AtomicU64, Ordering};

static GENERATION: AtomicU64 = AtomicU64::new(0);

#[cfg(unix)]
extern "C" fn in_child() {
    GENERATION.fetch_add(1, Ordering::Relaxed);
}

/// Registers the fork handler once per process.
pub(crate) fn install() {
    #[cfg(unix)]
    {
        static ONCE: std::sync::Once = std::sync::Once::new();
        ONCE.call_once(|| {
            // SAFETY: registers a handler that only touches an atomic; async-signal-safe.
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
