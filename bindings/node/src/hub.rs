//! Keeps the outcome of every accepted event for as long as JavaScript may ask for it.
//!
//! Events live in numbered slots, grouped in chunks of `CHUNK`; a chunk is freed when its
//! `NativeChunk` is collected (no receipt of it is left). An `emit` is one slot write and
//! one map insert, with no object per event. The core reports every settled event to
//! `on_outcome` by idempotency key; the hook finds the slot through the key's hash and
//! stores the outcome there. Only outcomes a promise waits for (or every
//! one, for `onOutcome`) are queued for JavaScript, which is woken once per batch.

use std::collections::hash_map::RandomState;
use std::collections::{HashMap, VecDeque};
use std::hash::{BuildHasher, BuildHasherDefault, Hasher};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use auditwire::{Outcome, Receipt};
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi::Status;

use crate::convert::Settled;

/// Wakes the JavaScript drain; weak (never keeps the event loop alive).
pub(crate) type Notify = ThreadsafeFunction<u32, (), u32, Status, false, true>;

/// Slots per chunk.
pub(crate) const CHUNK: u32 = 64;

/// Outcomes seen before their event was registered are kept this long at most.
const EARLY_TTL: Duration = Duration::from_secs(30);

/// Released chunk buffers kept for reuse.
const SPARE_CHUNKS: usize = 32;

/// Where an event stands.
enum State {
    /// Nobody waits for the outcome yet.
    Pending,
    /// Promise `id` waits for the outcome.
    Watched(u32),
    /// Settled.
    Done(Outcome),
}

/// One accepted event (vacant without a receipt).
struct Slot {
    receipt: Option<Receipt>,
    hash: u64,
    state: State,
}

impl Slot {
    fn vacant() -> Self {
        Slot {
            receipt: None,
            hash: 0,
            state: State::Pending,
        }
    }
}

/// The event an idempotency key hash stands for: a slot, or one of a released chunk.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Target {
    Slot(u32),
    Gone,
}

/// Hashes are already SipHash values: the maps use them as they are.
#[derive(Default)]
struct Passthrough(u64);

impl Hasher for Passthrough {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

type ByHash<V> = HashMap<u64, V, BuildHasherDefault<Passthrough>>;

#[derive(Default)]
struct Inner {
    chunks: Vec<Option<Vec<Slot>>>,
    free_chunks: Vec<u32>,
    spare: Vec<Vec<Slot>>,
    /// Unsettled events by key hash; events sharing a key queue up in `dups`.
    pending: ByHash<Target>,
    dups: ByHash<VecDeque<Target>>,
    early: ByHash<(Outcome, Instant)>,
    /// `early` is pruned when it grows past this (doubling keeps pruning amortised O(1)).
    prune_at: usize,
    outbox: Vec<Settled>,
}

impl Inner {
    fn slot(&mut self, id: u32) -> Option<&mut Slot> {
        let chunk = self.chunks.get_mut((id / CHUNK) as usize)?.as_mut()?;
        chunk.get_mut((id % CHUNK) as usize)
    }

    fn push_target(&mut self, hash: u64, target: Target) {
        if let Some(first) = self.pending.insert(hash, target) {
            // Another unsettled event has this key: the first one stays first.
            self.pending.insert(hash, first);
            self.dups.entry(hash).or_default().push_back(target);
        }
    }

    fn pop_target(&mut self, hash: u64) -> Option<Target> {
        let first = self.pending.remove(&hash)?;
        if !self.dups.is_empty() {
            if let Some(queue) = self.dups.get_mut(&hash) {
                if let Some(next) = queue.pop_front() {
                    self.pending.insert(hash, next);
                }
                if queue.is_empty() {
                    self.dups.remove(&hash);
                }
            }
        }
        Some(first)
    }

    fn forget_target(&mut self, hash: u64, id: u32) {
        let target = Target::Slot(id);
        if let Some(t) = self.pending.get_mut(&hash) {
            if *t == target {
                *t = Target::Gone;
                return;
            }
        }
        if let Some(queue) = self.dups.get_mut(&hash) {
            if let Some(t) = queue.iter_mut().find(|t| **t == target) {
                *t = Target::Gone;
            }
        }
    }

    /// Stores the outcome of slot `id`; queues it for its promise and, with `ident`, for
    /// `onOutcome`.
    fn settle(&mut self, id: u32, outcome: &Outcome, ident: Option<(&str, &str)>) {
        let Some(slot) = self.slot(id) else { return };
        let watcher = match slot.state {
            State::Pending => 0,
            State::Watched(w) => w,
            State::Done(_) => return,
        };
        slot.state = State::Done(outcome.clone());
        if watcher != 0 || ident.is_some() {
            self.outbox.push(Settled::new(watcher, outcome, ident));
        }
    }

    fn remember_early(&mut self, hash: u64, outcome: &Outcome) {
        let now = Instant::now();
        if self.early.len() >= self.prune_at.max(1024) {
            self.early
                .retain(|_, (_, at)| now.duration_since(*at) < EARLY_TTL);
            self.prune_at = self.early.len() * 2;
        }
        self.early.insert(hash, (outcome.clone(), now));
    }
}

/// The per-client registry of accepted events and settled outcomes.
pub(crate) struct Hub {
    inner: Mutex<Inner>,
    notify: Mutex<Option<Notify>>,
    report_all: bool,
    hasher: RandomState,
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
            hasher: RandomState::new(),
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

    /// A fresh chunk; returns its first slot id.
    pub(crate) fn new_chunk(&self) -> u32 {
        let mut inner = lock(&self.inner);
        let buffer = inner
            .spare
            .pop()
            .unwrap_or_else(|| (0..CHUNK).map(|_| Slot::vacant()).collect());
        let c = match inner.free_chunks.pop() {
            Some(c) => {
                inner.chunks[c as usize] = Some(buffer);
                c
            }
            None => {
                inner.chunks.push(Some(buffer));
                (inner.chunks.len() - 1) as u32
            }
        };
        c * CHUNK
    }

    /// Forgets the chunk starting at slot `first`: no receipt of it is left.
    pub(crate) fn release_chunk(&self, first: u32) {
        let c = (first / CHUNK) as usize;
        let mut inner = lock(&self.inner);
        let Some(mut buffer) = inner.chunks.get_mut(c).and_then(Option::take) else {
            return;
        };
        for (i, slot) in buffer.iter_mut().enumerate() {
            if slot.receipt.take().is_some() && !matches!(slot.state, State::Done(_)) {
                inner.forget_target(slot.hash, first + i as u32);
            }
            slot.state = State::Pending;
        }
        if inner.spare.len() < SPARE_CHUNKS {
            inner.spare.push(buffer);
        }
        inner.free_chunks.push(c as u32);
    }

    /// Registers an accepted event in slot `id`, watched by promise `watch` (0: nobody).
    /// False if the slot is not free.
    pub(crate) fn track(&self, id: u32, receipt: Receipt, watch: u32) -> bool {
        let hash = self.hasher.hash_one(receipt.idempotency_key());
        let mut inner = lock(&self.inner);
        let before = inner.outbox.len();
        let early = if inner.early.is_empty() {
            None
        } else {
            inner.early.remove(&hash)
        };
        let Some(slot) = inner.slot(id).filter(|s| s.receipt.is_none()) else {
            return false;
        };
        slot.receipt = Some(receipt);
        slot.hash = hash;
        match early {
            // The hook saw the outcome first (and told `onOutcome` then).
            Some((outcome, _)) => {
                let settled = (watch != 0).then(|| Settled::new(watch, &outcome, None));
                slot.state = State::Done(outcome);
                inner.outbox.extend(settled);
            }
            None => {
                slot.state = match watch {
                    0 => State::Pending,
                    w => State::Watched(w),
                };
                inner.push_target(hash, Target::Slot(id));
            }
        }
        let wake = before == 0 && !inner.outbox.is_empty();
        drop(inner);
        if wake {
            self.wake();
        }
        true
    }

    /// Makes promise `watch` wait for slot `id`; returns the outcome at once if there is one.
    /// `Err` if the slot holds no event.
    pub(crate) fn watch(&self, id: u32, watch: u32) -> Result<Option<Settled>, ()> {
        let mut inner = lock(&self.inner);
        let slot = inner.slot(id).filter(|s| s.receipt.is_some()).ok_or(())?;
        match &slot.state {
            State::Done(outcome) => Ok(Some(Settled::new(watch, outcome, None))),
            _ => {
                slot.state = State::Watched(watch);
                Ok(None)
            }
        }
    }

    /// The organization and idempotency key of the event in slot `id`.
    pub(crate) fn identity(&self, id: u32) -> Option<(String, String)> {
        let mut inner = lock(&self.inner);
        let r = inner.slot(id)?.receipt.as_ref()?;
        Some((
            r.organization_id().to_owned(),
            r.idempotency_key().to_owned(),
        ))
    }

    /// The `on_outcome` hook: records the outcome and queues it if someone waits for it.
    pub(crate) fn on_outcome(&self, organization_id: &str, key: &str, outcome: &Outcome) {
        let hash = self.hasher.hash_one(key);
        let ident = self.report_all.then_some((organization_id, key));
        let mut inner = lock(&self.inner);
        let before = inner.outbox.len();
        match inner.pop_target(hash) {
            Some(Target::Slot(id)) => inner.settle(id, outcome, ident),
            found => {
                if found.is_none() {
                    // Settled before `track` ran (or adopted from a spool): keep it briefly.
                    inner.remember_early(hash, outcome);
                }
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

    /// After shutdown: settles the events that the hook never saw (left in the spool).
    pub(crate) fn sweep(&self) {
        let mut inner = lock(&self.inner);
        let before = inner.outbox.len();
        let mut targets: Vec<Target> = inner.pending.drain().map(|(_, t)| t).collect();
        targets.extend(inner.dups.drain().flat_map(|(_, q)| q));
        for target in targets {
            let Target::Slot(id) = target else { continue };
            let Some(r) = inner.slot(id).and_then(|s| s.receipt.clone()) else {
                continue;
            };
            let outcome = r.outcome().unwrap_or(Outcome::Shutdown { attempts: 0 });
            let ident = self
                .report_all
                .then_some((r.organization_id(), r.idempotency_key()));
            inner.settle(id, &outcome, ident);
        }
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
