//! Counters behind `GET /__stats`.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use serde_json::{json, Value};

use super::args::FaultKind;

/// Request, replay and fault counters, safe to bump from any task.
#[derive(Default)]
pub struct Stats {
    requests: AtomicU64,
    accepted: AtomicU64,
    replayed: AtomicU64,
    conflicts: AtomicU64,
    faults: AtomicU64,
    by_fault: Mutex<BTreeMap<String, u64>>,
    by_status: Mutex<BTreeMap<u16, u64>>,
}

impl Stats {
    /// Counts one request.
    pub fn request(&self) {
        self.requests.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts one response status.
    pub fn status(&self, status: u16) {
        *lock(&self.by_status).entry(status).or_default() += 1;
    }

    /// Counts one event stored.
    pub fn accepted(&self) {
        self.accepted.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts one idempotent replay.
    pub fn replayed(&self) {
        self.replayed.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts one idempotency key reused with a different request (409).
    pub fn conflict(&self) {
        self.conflicts.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts one injected fault.
    pub fn fault(&self, kind: FaultKind) {
        self.faults.fetch_add(1, Ordering::Relaxed);
        *lock(&self.by_fault).entry(kind.to_string()).or_default() += 1;
    }

    /// Sets every counter back to zero.
    pub fn clear(&self) {
        for counter in [
            &self.requests,
            &self.accepted,
            &self.replayed,
            &self.conflicts,
            &self.faults,
        ] {
            counter.store(0, Ordering::Relaxed);
        }
        lock(&self.by_fault).clear();
        lock(&self.by_status).clear();
    }

    /// The counters as JSON; `events_stored` is the number of events in the database.
    pub fn to_json(&self, events_stored: u64) -> Value {
        let by_status: serde_json::Map<String, Value> = lock(&self.by_status)
            .iter()
            .map(|(k, v)| (k.to_string(), json!(v)))
            .collect();
        let by_fault: serde_json::Map<String, Value> = lock(&self.by_fault)
            .iter()
            .map(|(k, v)| (k.clone(), json!(v)))
            .collect();
        json!({
            "requests": self.requests.load(Ordering::Relaxed),
            "events_stored": events_stored,
            "events_accepted": self.accepted.load(Ordering::Relaxed),
            "duplicates_replayed": self.replayed.load(Ordering::Relaxed),
            "idempotency_conflicts": self.conflicts.load(Ordering::Relaxed),
            "faults_injected": self.faults.load(Ordering::Relaxed),
            "faults": by_fault,
            "by_status": by_status,
        })
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}
