//! Counters of what the client accepted, delivered and refused.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use super::outcome::Outcome;

/// A snapshot of the client's counters, taken at one instant: in every snapshot
/// `accepted + adopted = delivered + rejected + expired + in_doubt + lost + spooled + queued + in_flight`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Events accepted by `emit`.
    pub accepted: u64,
    /// Events waiting in the queue or the spool (including those waiting to be retried).
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
    /// Events sent without an answer before the shutdown deadline: the server may have them.
    pub in_doubt: u64,
    /// Events left undelivered at shutdown without a spool.
    pub lost: u64,
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
    /// The names of the counters, in the order of [`Stats::fields`].
    pub const FIELD_NAMES: [&'static str; 15] = [
        "accepted",
        "queued",
        "in_flight",
        "delivered",
        "retried",
        "rejected",
        "expired",
        "in_doubt",
        "lost",
        "spooled",
        "adopted",
        "delivered_late",
        "refused_invalid",
        "refused_queue_full",
        "refused_closed",
    ];

    /// Every counter with its name, for bindings that build a dictionary or an object.
    pub fn fields(&self) -> [(&'static str, u64); 15] {
        let v = [
            self.accepted,
            self.queued,
            self.in_flight,
            self.delivered,
            self.retried,
            self.rejected,
            self.expired,
            self.in_doubt,
            self.lost,
            self.spooled,
            self.adopted,
            self.delivered_late,
            self.refused_invalid,
            self.refused_queue_full,
            self.refused_closed,
        ];
        std::array::from_fn(|i| (Self::FIELD_NAMES[i], v[i]))
    }

    /// Accepted events without an outcome yet (`queued + in_flight`).
    pub fn pending(&self) -> u64 {
        (self.accepted + self.adopted).saturating_sub(
            self.delivered
                + self.rejected
                + self.expired
                + self.in_doubt
                + self.lost
                + self.spooled,
        )
    }

    /// Events that ended without being delivered or refused by the API: in doubt, lost or
    /// left in the spool.
    pub fn undelivered_at_shutdown(&self) -> u64 {
        self.in_doubt + self.lost + self.spooled
    }
}

/// The live counters. Those in the invariant of [`Stats`] change only under the queue's lock.
#[derive(Default)]
pub(crate) struct Counters {
    pub(crate) accepted: AtomicU64,
    pub(crate) delivered: AtomicU64,
    pub(crate) retried: AtomicU64,
    pub(crate) rejected: AtomicU64,
    pub(crate) expired: AtomicU64,
    pub(crate) in_doubt: AtomicU64,
    pub(crate) lost: AtomicU64,
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

    /// Counts an event's final outcome.
    pub(crate) fn outcome(&self, outcome: &Outcome) {
        Counters::bump(match outcome {
            Outcome::Delivered { .. } => &self.delivered,
            Outcome::Rejected { .. } => &self.rejected,
            Outcome::Expired { .. } => &self.expired,
            Outcome::InDoubt { .. } => &self.in_doubt,
            Outcome::Lost { .. } => &self.lost,
            Outcome::Spooled { .. } => &self.spooled,
        });
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
            in_doubt: self.in_doubt.load(Relaxed),
            lost: self.lost.load(Relaxed),
            spooled: self.spooled.load(Relaxed),
            adopted: self.adopted.load(Relaxed),
            delivered_late: self.delivered_late.load(Relaxed),
            refused_invalid: self.refused_invalid.load(Relaxed),
            refused_queue_full: self.refused_queue_full.load(Relaxed),
            refused_closed: self.refused_closed.load(Relaxed),
        }
    }
}
