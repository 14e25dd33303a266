//! Counters of what the client accepted, delivered and refused.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// A snapshot of the client's counters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Events accepted by `emit`.
    pub accepted: u64,
    /// Events waiting in the queue (including those waiting to be retried).
    pub queued: u64,
    /// Events being sent right now.
    pub in_flight: u64,
    /// Events delivered (2xx).
    pub delivered: u64,
    /// Attempts that failed and were scheduled for another try.
    pub retried: u64,
    /// Events rejected by the API (final 4xx).
    pub rejected: u64,
    /// Events whose retry budget ran out.
    pub expired: u64,
    /// Events left undelivered at shutdown without a spool (lost).
    pub abandoned: u64,
    /// Events left on disk at shutdown (spool): not lost, the next run delivers them.
    pub spooled: u64,
    /// Events taken over from the spool of a previous (dead) run.
    pub adopted: u64,
    /// Events delivered more than 24 h (the idempotency window) after they were accepted.
    pub delivered_late: u64,
    /// `emit` calls refused because the event was invalid.
    pub refused_invalid: u64,
    /// `emit` calls refused because the queue was full (or the event too large for it).
    pub refused_queue_full: u64,
    /// `emit` calls refused because the client was shut down.
    pub refused_closed: u64,
}

impl Stats {
    /// Accepted events without an outcome yet.
    pub fn pending(&self) -> u64 {
        (self.accepted + self.adopted).saturating_sub(
            self.delivered + self.rejected + self.expired + self.abandoned + self.spooled,
        )
    }
}

/// The live counters.
#[derive(Default)]
pub(crate) struct Counters {
    pub(crate) accepted: AtomicU64,
    pub(crate) delivered: AtomicU64,
    pub(crate) retried: AtomicU64,
    pub(crate) rejected: AtomicU64,
    pub(crate) expired: AtomicU64,
    pub(crate) abandoned: AtomicU64,
    pub(crate) spooled: AtomicU64,
    pub(crate) adopted: AtomicU64,
    pub(crate) delivered_late: AtomicU64,
    pub(crate) refused_invalid: AtomicU64,
    pub(crate) refused_queue_full: AtomicU64,
    pub(crate) refused_closed: AtomicU64,
}

impl Counters {
    pub(crate) fn bump(counter: &AtomicU64) {
        counter.fetch_add(1, Relaxed);
    }

    pub(crate) fn snapshot(&self, queued: u64, in_flight: u64) -> Stats {
        Stats {
            accepted: self.accepted.load(Relaxed),
            queued,
            in_flight,
            delivered: self.delivered.load(Relaxed),
            retried: self.retried.load(Relaxed),
            rejected: self.rejected.load(Relaxed),
            expired: self.expired.load(Relaxed),
            abandoned: self.abandoned.load(Relaxed),
            spooled: self.spooled.load(Relaxed),
            adopted: self.adopted.load(Relaxed),
            delivered_late: self.delivered_late.load(Relaxed),
            refused_invalid: self.refused_invalid.load(Relaxed),
            refused_queue_full: self.refused_queue_full.load(Relaxed),
            refused_closed: self.refused_closed.load(Relaxed),
        }
    }
}
