//! Matches outcomes to the promises waiting for them.
//!
//! The core reports every settled event to `on_outcome` with its idempotency key, just
//! before its receipt completes. The hub keeps each pending event under its key; an outcome
//! is queued for JavaScript only when a promise watches that event (or `onOutcome` is set),
//! and the JavaScript side is woken once per batch through a weak threadsafe function.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use auditwire::{Outcome, Receipt};
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi::Status;

use crate::convert::Settled;

/// Wakes the JavaScript drain; weak (never keeps the event loop alive).
pub(crate) type Notify = ThreadsafeFunction<u32, (), u32, Status, false, true>;

/// Outcomes seen before their event was registered are kept this long at most.
const EARLY_TTL: Duration = Duration::from_secs(30);

/// Where an event stands: waiting (0 = nobody watches, else the promise id) or settled.
enum Track {
    Pending(u32),
    Done(Outcome),
}

/// One accepted event, shared by the hub and its JavaScript receipt.
pub(crate) struct Tracked {
    pub(crate) receipt: Receipt,
    state: Mutex<Track>,
}

#[derive(Default)]
struct Inner {
    by_key: HashMap<String, VecDeque<Arc<Tracked>>>,
    early: HashMap<String, (Outcome, Instant)>,
    /// `early` is pruned when it grows past this (doubling keeps pruning amortised O(1)).
    prune_at: usize,
    watched: HashMap<u32, Arc<Tracked>>,
    outbox: Vec<Settled>,
}

/// The per-client registry of pending events and settled outcomes.
pub(crate) struct Hub {
    inner: Mutex<Inner>,
    notify: Mutex<Option<Notify>>,
    report_all: bool,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Hub {
    /// A hub; with `report_all` every outcome goes to JavaScript (for `onOutcome`).
    pub(crate) fn new(report_all: bool) -> Self {
        Hub {
            inner: Mutex::default(),
            notify: Mutex::new(None),
            report_all,
        }
    }

    /// Sets the function that wakes the JavaScript drain.
    pub(crate) fn set_notify(&self, notify: Notify) {
        *lock(&self.notify) = Some(notify);
    }

    /// Drops the wake-up function (the client is closed or its environment is going away).
    pub(crate) fn clear_notify(&self) {
        lock(&self.notify).take();
    }

    /// Registers an accepted event, watched by promise `id` (0: not watched yet).
    pub(crate) fn track(&self, receipt: Receipt, id: u32) -> Arc<Tracked> {
        let key = receipt.idempotency_key().to_owned();
        let tracked = Arc::new(Tracked {
            receipt,
            state: Mutex::new(Track::Pending(id)),
        });
        let mut inner = lock(&self.inner);
        let before = inner.outbox.len();
        if let Some((outcome, _)) = inner.early.remove(&key) {
            // `onOutcome` already heard of it from the hook.
            Self::settle(&mut inner, &tracked, outcome, None);
        } else {
            if id != 0 {
                inner.watched.insert(id, tracked.clone());
            }
            inner
                .by_key
                .entry(key)
                .or_default()
                .push_back(tracked.clone());
        }
        let wake = before == 0 && !inner.outbox.is_empty();
        drop(inner);
        if wake {
            self.wake();
        }
        tracked
    }

    /// Makes promise `id` watch an event; returns its outcome at once if it has one.
    pub(crate) fn watch(&self, tracked: &Arc<Tracked>, id: u32) -> Option<Settled> {
        let mut inner = lock(&self.inner);
        let mut state = lock(&tracked.state);
        match &*state {
            Track::Done(outcome) => Some(Settled::new(id, outcome, None)),
            Track::Pending(_) => {
                *state = Track::Pending(id);
                drop(state);
                inner.watched.insert(id, tracked.clone());
                None
            }
        }
    }

    /// The `on_outcome` hook: records the outcome and queues it if someone waits for it.
    pub(crate) fn on_outcome(&self, organization_id: &str, key: &str, outcome: &Outcome) {
        let mut inner = lock(&self.inner);
        let before = inner.outbox.len();
        let ident = self.report_all.then_some((organization_id, key));
        let tracked = match inner.by_key.get_mut(key) {
            Some(queue) => {
                let t = queue.pop_front();
                if queue.is_empty() {
                    inner.by_key.remove(key);
                }
                t
            }
            None => None,
        };
        match tracked {
            Some(t) => Self::settle(&mut inner, &t, outcome.clone(), ident),
            None => {
                // Settled before `track` ran (or adopted from a spool): keep it briefly.
                let now = Instant::now();
                if inner.early.len() >= inner.prune_at.max(1024) {
                    inner
                        .early
                        .retain(|_, (_, at)| now.duration_since(*at) < EARLY_TTL);
                    inner.prune_at = inner.early.len() * 2;
                }
                inner.early.insert(key.to_owned(), (outcome.clone(), now));
                if ident.is_some() {
                    inner.outbox.push(Settled::new(0, outcome, ident));
                }
            }
        }
        let wake = before == 0 && !inner.outbox.is_empty();
        drop(inner);
        if wake {
            self.wake();
        }
    }

    /// Records the outcome; queues it for the watching promise and, with `ident`, for
    /// `onOutcome`.
    fn settle(inner: &mut Inner, t: &Arc<Tracked>, outcome: Outcome, ident: Option<(&str, &str)>) {
        let mut state = lock(&t.state);
        let id = match &*state {
            Track::Pending(id) => *id,
            Track::Done(_) => return,
        };
        if id != 0 || ident.is_some() {
            inner.outbox.push(Settled::new(id, &outcome, ident));
        }
        if id != 0 {
            inner.watched.remove(&id);
        }
        *state = Track::Done(outcome);
    }

    /// After shutdown: settles watched events that the hook never saw (left in the spool).
    pub(crate) fn sweep(&self) {
        let mut inner = lock(&self.inner);
        let before = inner.outbox.len();
        let watched: Vec<Arc<Tracked>> = inner.watched.values().cloned().collect();
        for t in watched {
            let outcome = t
                .receipt
                .outcome()
                .unwrap_or(Outcome::Shutdown { attempts: 0 });
            let r = &t.receipt;
            let ident = self
                .report_all
                .then_some((r.organization_id(), r.idempotency_key()));
            Self::settle(&mut inner, &t, outcome, ident);
        }
        inner.by_key.clear();
        inner.early.clear();
        let wake = before == 0 && !inner.outbox.is_empty();
        drop(inner);
        if wake {
            self.wake();
        }
    }

    /// Takes the queued outcomes.
    pub(crate) fn take(&self) -> Vec<Settled> {
        std::mem::take(&mut lock(&self.inner).outbox)
    }

    fn wake(&self) {
        if let Some(n) = &*lock(&self.notify) {
            n.call(0, ThreadsafeFunctionCallMode::NonBlocking);
        }
    }
}
