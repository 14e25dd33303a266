//! The bounded in-memory queue (events and bytes), with delayed retries and the 429 pause.
//!
//! [`EventStore`] is the seam where the disk spool will plug in: workers only `take`, `ack`
//! and `nack`; callers only `push`.

use std::cmp::Ordering;
use std::collections::{BinaryHeap, HashMap, HashSet, VecDeque};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use super::config::Overflow;
use super::envelope::{Envelope, IdempotencyKey};
use super::errors::{EmitError, QueueLimit};
use super::outcome::Outcome;
use super::pause::PauseGate;
use super::receipt::Slot;
use super::spool::{now_ms, Spool};
use super::stats::{Counters, Stats};

/// Rows loaded from the spool per read.
const LOAD_BATCH: usize = 512;

/// Where accepted events wait for a worker.
pub(crate) trait EventStore: Send + Sync {
    /// Accepts an event under the overflow policy; gives it back with the error on refusal.
    fn push(&self, env: Envelope, overflow: Overflow) -> Result<(), (EmitError, Envelope)>;
    /// An event that is due (and no pause in force), or when to ask again.
    fn try_take(&self) -> Take;
    /// Registers a worker's wake-up: called with `false` when one event became ready, with
    /// `true` when every waiting sender should look again (timers, pauses, stop).
    fn subscribe(&self, wake: Waker);
    /// A taken event has its final outcome (with a spool: delete it or dead-letter it); it is
    /// counted unless shutdown settled it already (see [`EventStore::settle_in_flight`]).
    fn ack(&self, env: &Envelope, outcome: &Outcome);
    /// A taken event goes back to wait until `retry_at`; if the store has stopped it is
    /// returned instead, still in flight, for the caller to settle and `ack`.
    fn nack(&self, env: Envelope, retry_at: Instant) -> Option<Envelope>;
    /// No worker may start a request before `until` (a 429).
    fn pause(&self, until: Instant);
    /// Waits until no event is pending or `deadline`; returns the pending count.
    fn wait_idle(&self, deadline: Instant) -> usize;
    /// Refuses further pushes (and wakes blocked callers).
    fn close(&self);
    /// Makes workers stop; counts every queued event (in memory or on disk) as spooled, or
    /// lost without a spool, and returns those that have a receipt, to be reported.
    fn stop(&self) -> Stopped;
    /// Settles every event still in flight as in doubt (or as the outcome its worker stored
    /// already) and counts it; a later `ack` of such an event changes nothing.
    /// Returns each with its outcome and whether this call stored it (its callback is due).
    fn settle_in_flight(&self) -> Vec<(Arc<Slot>, Outcome, bool)>;
    /// The counters and the queue's counts, at one instant.
    fn stats(&self) -> Stats;
    /// A worker thread ended.
    fn worker_exited(&self);
    /// Waits until `live` workers have exited or `deadline`; true if all did.
    fn wait_workers(&self, live: usize, deadline: Instant) -> bool;
}

/// A worker's wake-up call (see [`EventStore::subscribe`]).
pub(crate) type Waker = Arc<dyn Fn(bool) + Send + Sync>;

/// What [`EventStore::stop`] left: queued events and receipts of events spilled to disk,
/// each with the outcome it was counted under.
pub(crate) struct Stopped {
    /// Events that were in memory.
    pub(crate) queued: Vec<(Envelope, Outcome)>,
    /// Receipts of events that wait on disk only.
    pub(crate) spilled: Vec<(Arc<Slot>, Outcome)>,
}

/// What [`EventStore::try_take`] found.
pub(crate) enum Take {
    /// An event to send, now counted in flight.
    Event(Envelope),
    /// Nothing due: ask again when woken, or at this instant.
    Wait(Option<Instant>),
    /// The store stopped.
    Stopped,
}

/// Spool reads per `try_take` before it answers `Wait` (rows still being registered).
const LOADS_PER_TAKE: usize = 4;

struct Delayed {
    at: Instant,
    seq: u64,
    env: Envelope,
}

impl PartialEq for Delayed {
    fn eq(&self, o: &Self) -> bool {
        (self.at, self.seq) == (o.at, o.seq)
    }
}
impl Eq for Delayed {}
impl PartialOrd for Delayed {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Delayed {
    // Reversed: BinaryHeap is a max-heap and the earliest retry must come first.
    fn cmp(&self, o: &Self) -> Ordering {
        (o.at, o.seq).cmp(&(self.at, self.seq))
    }
}

#[derive(Default)]
struct State {
    ready: VecDeque<Envelope>,
    delayed: BinaryHeap<Delayed>,
    seq: u64,
    /// Pending events: queued, delayed and in flight.
    events: usize,
    bytes: usize,
    in_flight: usize,
    closed: bool,
    stopping: bool,
    /// The workers' wake-ups.
    wakers: Vec<Waker>,
    /// Spool only: no read before this instant (after a read error).
    load_retry_at: Option<Instant>,
    blocked_pushers: usize,
    idle_waiters: usize,
    exited_workers: usize,
    pause: PauseGate,
    /// Spool only: events on disk and not in memory, and those being written there.
    disk_only: usize,
    spilling: usize,
    loading: bool,
    rescan: bool,
    rescan_pass: bool,
    /// Spool rows up to this id are in memory, delivered, or being written (see `load`).
    cursor: i64,
    /// Spool rows held in memory (queued, delayed or in flight).
    resident: HashSet<i64>,
    /// Receipt slots of events spilled to disk, matched up when they are loaded.
    spilled_slots: HashMap<i64, Arc<Slot>>,
    /// Events in flight, by slot address: slot, size, attempts with this one.
    sending: HashMap<usize, (Arc<Slot>, usize, u32)>,
}

impl State {
    fn pending(&self) -> usize {
        self.events + self.disk_only + self.spilling
    }

    /// Pending events not in flight: in memory, on disk, or being written there.
    fn queued(&self) -> usize {
        self.pending() - self.in_flight
    }
}

/// The memory queue, bounded by events and bytes.
pub(crate) struct MemoryQueue {
    state: Mutex<State>,
    room: Condvar,
    idle: Condvar,
    max_events: usize,
    max_bytes: usize,
    spool: Option<Arc<Spool>>,
    /// Those of [`Stats`]'s invariant change only under `state`'s lock.
    counters: Arc<Counters>,
}

/// The key of an in-flight event in [`State::sending`].
fn slot_key(slot: &Arc<Slot>) -> usize {
    Arc::as_ptr(slot) as usize
}

impl MemoryQueue {
    pub(crate) fn new(max_events: usize, max_bytes: usize, counters: Arc<Counters>) -> Self {
        MemoryQueue {
            state: Mutex::default(),
            room: Condvar::new(),
            idle: Condvar::new(),
            max_events,
            max_bytes,
            spool: None,
            counters,
        }
    }

    /// A queue in front of a disk spool: every event is written to the spool before `push`
    /// returns; memory holds up to the bounds, the rest waits on disk.
    pub(crate) fn with_spool(
        max_events: usize,
        max_bytes: usize,
        spool: Arc<Spool>,
        counters: Arc<Counters>,
    ) -> Self {
        let q = MemoryQueue {
            spool: Some(spool),
            ..MemoryQueue::new(max_events, max_bytes, counters)
        };
        let initial = q.spool.as_ref().map_or(0, |s| s.initial_pending());
        q.lock().disk_only = initial;
        q
    }

    fn push_spooled(
        &self,
        spool: &Spool,
        mut env: Envelope,
        overflow: Overflow,
    ) -> Result<(), (EmitError, Envelope)> {
        let size = env.size();
        let mut st = self.lock();
        let mut started: Option<Instant> = None;
        let resident = loop {
            if st.closed {
                return Err((EmitError::Closed, env));
            }
            let disk_behind = st.disk_only + st.spilling > 0;
            let Some(limit) = self.full(&st, size) else {
                break !disk_behind;
            };
            let budget = match overflow {
                Overflow::Spill => break false,
                Overflow::Block(t) => t,
                Overflow::Reject => Duration::ZERO,
            };
            let t0 = *started.get_or_insert_with(Instant::now);
            let waited = t0.elapsed();
            if waited >= budget {
                return Err((EmitError::QueueFull { limit, waited }, env));
            }
            st.blocked_pushers += 1;
            st = wait(&self.room, st, Some(budget - waited));
            st.blocked_pushers -= 1;
        };
        if resident {
            st.events += 1;
            st.bytes += size;
        } else {
            st.spilling += 1;
        }
        // Counted as accepted while it is counted as queued; taken back if the write fails.
        Counters::bump(&self.counters.accepted);
        drop(st);
        let undo = |st: &mut State| {
            if resident {
                self.finished(st, size);
            } else {
                st.spilling -= 1;
                if st.pending() == 0 && st.idle_waiters > 0 {
                    self.idle.notify_all();
                }
            }
        };
        let unaccept = |st: &mut State| {
            self.counters
                .accepted
                .fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
            undo(st);
        };
        if !spool.reserve(size) {
            unaccept(&mut self.lock());
            let max_bytes = spool.max_bytes();
            return Err((EmitError::SpoolFull { max_bytes }, env));
        }
        let id = match spool.insert(&env) {
            Ok(id) => id,
            Err(message) => {
                spool.unreserve(size);
                unaccept(&mut self.lock());
                return Err((EmitError::Spool(message), env));
            }
        };
        env.spool_id = Some(id);
        let mut st = self.lock();
        if st.stopping {
            // Written, so accepted; it stays on disk for the next run.
            undo(&mut st);
            let outcome = Outcome::Spooled { attempts: 0 };
            self.counters.outcome(&outcome);
            env.slot.complete(outcome);
            return Ok(());
        }
        if resident {
            st.resident.insert(id);
            st.ready.push_back(env);
        } else {
            st.spilling -= 1;
            st.disk_only += 1;
            st.spilled_slots.insert(id, env.slot.clone());
        }
        self.wake_worker(&mut st);
        Ok(())
    }

    /// Loads rows from the spool into memory; the lock is released during the read.
    fn load<'a>(&'a self, spool: &Spool, mut st: MutexGuard<'a, State>) -> MutexGuard<'a, State> {
        let limit = (self.max_events - st.events).min(LOAD_BATCH);
        if std::mem::take(&mut st.rescan) {
            st.cursor = 0;
        }
        let after = st.cursor;
        st.loading = true;
        drop(st);
        let rows = spool.load(after, limit);
        let mut st = self.lock();
        st.loading = false;
        self.wake_all(&st);
        if st.stopping {
            // Counted as spooled by `stop`; the rows stay on disk.
            return st;
        }
        let rows = match rows {
            Ok(rows) => rows,
            Err(e) => {
                log::error!("auditwire: cannot read the spool: {e}");
                st.load_retry_at = Some(Instant::now() + Duration::from_secs(1));
                return st;
            }
        };
        if rows.is_empty() {
            if st.rescan_pass {
                // A full pass found nothing that is not already in memory.
                st.rescan_pass = false;
                st.disk_only = 0;
                if st.pending() == 0 && st.idle_waiters > 0 {
                    self.idle.notify_all();
                }
            } else {
                st.rescan = true;
                st.rescan_pass = true;
            }
            return st;
        }
        let now = Instant::now();
        let wall = now_ms();
        for row in rows {
            if st.resident.contains(&row.id) {
                st.cursor = st.cursor.max(row.id);
                continue;
            }
            // A row is ours to load if it was adopted, or spilled and registered as such.
            // Any other row is still between its commit and its registration (by the
            // pushing thread, as resident or spilled): stop before it and come back.
            let slot = match st.spilled_slots.remove(&row.id) {
                Some(slot) => slot,
                None if row.id <= spool.initial_max_id() => {
                    Slot::new(IdempotencyKey::custom(&row.key), &row.organization_id)
                }
                None => break,
            };
            st.cursor = st.cursor.max(row.id);
            let mut env = Envelope::new(row.body, row.endpoint, slot);
            env.attempts = row.attempts;
            env.accepted_ms = row.accepted_ms;
            env.spool_id = Some(row.id);
            st.resident.insert(row.id);
            st.disk_only = st.disk_only.saturating_sub(1);
            st.events += 1;
            st.bytes += env.size();
            if row.next_ms > wall {
                let wait = Duration::from_millis((row.next_ms - wall).min(3_600_000) as u64);
                st.seq += 1;
                let seq = st.seq;
                st.delayed.push(Delayed {
                    at: now + wait,
                    seq,
                    env,
                });
            } else {
                st.ready.push_back(env);
            }
        }
        st
    }

    /// (queued, in flight).
    #[cfg(test)]
    fn counts(&self) -> (usize, usize) {
        let st = self.lock();
        (st.queued(), st.in_flight)
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn full(&self, st: &State, size: usize) -> Option<QueueLimit> {
        if st.events >= self.max_events {
            Some(QueueLimit::Events(self.max_events))
        } else if st.bytes + size > self.max_bytes {
            Some(QueueLimit::Bytes(self.max_bytes))
        } else {
            None
        }
    }

    /// One event became ready: one waiting sender of each worker looks.
    fn wake_worker(&self, st: &mut State) {
        for w in &st.wakers {
            w(false);
        }
    }

    /// Every waiting sender looks again.
    fn wake_all(&self, st: &State) {
        for w in &st.wakers {
            w(true);
        }
    }

    fn finished(&self, st: &mut State, size: usize) {
        st.events -= 1;
        st.bytes -= size;
        if st.blocked_pushers > 0 {
            self.room.notify_all();
        }
        if st.pending() == 0 && st.idle_waiters > 0 {
            self.idle.notify_all();
        }
    }
}

fn wait<'a>(
    cv: &Condvar,
    g: MutexGuard<'a, State>,
    timeout: Option<Duration>,
) -> MutexGuard<'a, State> {
    match timeout {
        Some(t) => {
            cv.wait_timeout(g, t)
                .unwrap_or_else(PoisonError::into_inner)
                .0
        }
        None => cv.wait(g).unwrap_or_else(PoisonError::into_inner),
    }
}

impl EventStore for MemoryQueue {
    fn push(&self, env: Envelope, overflow: Overflow) -> Result<(), (EmitError, Envelope)> {
        let size = env.size();
        if size > self.max_bytes {
            let max = self.max_bytes;
            return Err((EmitError::TooLarge { size, max }, env));
        }
        if let Some(spool) = &self.spool {
            return self.push_spooled(spool, env, overflow);
        }
        let mut st = self.lock();
        let mut started: Option<Instant> = None;
        loop {
            if st.closed {
                return Err((EmitError::Closed, env));
            }
            let Some(limit) = self.full(&st, size) else {
                break;
            };
            let budget = match overflow {
                Overflow::Block(t) => t,
                Overflow::Reject | Overflow::Spill => Duration::ZERO,
            };
            let t0 = *started.get_or_insert_with(Instant::now);
            let waited = t0.elapsed();
            if waited >= budget {
                return Err((EmitError::QueueFull { limit, waited }, env));
            }
            st.blocked_pushers += 1;
            st = wait(&self.room, st, Some(budget - waited));
            st.blocked_pushers -= 1;
        }
        st.events += 1;
        st.bytes += size;
        Counters::bump(&self.counters.accepted);
        st.ready.push_back(env);
        self.wake_worker(&mut st);
        Ok(())
    }

    fn try_take(&self) -> Take {
        let mut st = self.lock();
        let mut loads = 0;
        loop {
            if st.stopping {
                return Take::Stopped;
            }
            let now = Instant::now();
            if let Some(until) = st.pause.remaining(now).map(|d| now + d) {
                return Take::Wait(Some(until));
            }
            if let Some(spool) = &self.spool {
                // Read ahead from disk before memory runs dry, so that the other
                // senders keep sending while this one reads.
                let may_read = st.load_retry_at.map_or(true, |at| at <= now);
                if st.disk_only > 0
                    && !st.loading
                    && may_read
                    && loads < LOADS_PER_TAKE
                    && st.ready.len() < LOAD_BATCH / 2
                    && st.events < self.max_events
                {
                    st.load_retry_at = None;
                    loads += 1;
                    st = self.load(spool, st);
                    continue;
                }
            }
            let due = st.delayed.peek().is_some_and(|d| d.at <= now);
            let env = if due {
                st.delayed.pop().map(|d| d.env)
            } else {
                st.ready.pop_front()
            };
            if let Some(env) = env {
                st.in_flight += 1;
                let entry = (env.slot.clone(), env.size(), env.attempts + 1);
                st.sending.insert(slot_key(&env.slot), entry);
                return Take::Event(env);
            }
            let mut at = st.delayed.peek().map(|d| d.at);
            if self.spool.is_some() && st.disk_only > 0 {
                // Rows on disk not loadable yet: look again soon.
                let soon = st.load_retry_at.unwrap_or(now + Duration::from_millis(10));
                at = Some(at.map_or(soon, |a| a.min(soon)));
            }
            return Take::Wait(at);
        }
    }

    fn subscribe(&self, wake: Waker) {
        self.lock().wakers.push(wake);
    }

    fn ack(&self, env: &Envelope, outcome: &Outcome) {
        if let (Some(spool), Some(id)) = (&self.spool, env.spool_id) {
            match outcome {
                Outcome::Delivered { .. } => spool.delete(id, env.size()),
                Outcome::Rejected { error, attempts } => {
                    spool.dead(id, "rejected", *attempts, error)
                }
                Outcome::Expired {
                    last_error,
                    attempts,
                } => spool.dead(id, "expired", *attempts, last_error),
                // Stays on disk for the next run.
                Outcome::InDoubt { .. } | Outcome::Lost { .. } | Outcome::Spooled { .. } => {}
            }
        }
        let mut st = self.lock();
        if st.sending.remove(&slot_key(&env.slot)).is_none() {
            // Settled by `settle_in_flight` already.
            return;
        }
        st.in_flight -= 1;
        self.counters.outcome(outcome);
        if let Some(id) = env.spool_id {
            st.resident.remove(&id);
        }
        self.finished(&mut st, env.size());
    }

    fn nack(&self, env: Envelope, retry_at: Instant) -> Option<Envelope> {
        if let (Some(spool), Some(id)) = (&self.spool, env.spool_id) {
            let after = retry_at.saturating_duration_since(Instant::now());
            spool.attempted(id, env.attempts, now_ms() + after.as_millis() as i64);
        }
        let mut st = self.lock();
        if st.stopping {
            // Still in flight: the caller settles it and then acks.
            return Some(env);
        }
        st.sending.remove(&slot_key(&env.slot));
        st.in_flight -= 1;
        st.seq += 1;
        let seq = st.seq;
        st.delayed.push(Delayed {
            at: retry_at,
            seq,
            env,
        });
        // A waiting sender may be waiting on a later timer than this one.
        self.wake_all(&st);
        None
    }

    fn pause(&self, until: Instant) {
        self.lock().pause.extend(until);
    }

    fn wait_idle(&self, deadline: Instant) -> usize {
        let mut st = self.lock();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if st.pending() == 0 || left.is_zero() {
                return st.pending();
            }
            st.idle_waiters += 1;
            st = wait(&self.idle, st, Some(left));
            st.idle_waiters -= 1;
        }
    }

    fn close(&self) {
        let mut st = self.lock();
        st.closed = true;
        self.room.notify_all();
    }

    fn stop(&self) -> Stopped {
        let mut st = self.lock();
        st.closed = true;
        st.stopping = true;
        let mut left: Vec<Envelope> = st.ready.drain(..).collect();
        left.extend(std::mem::take(&mut st.delayed).into_iter().map(|d| d.env));
        let durable = self.spool.is_some();
        let at_stop = |attempts| {
            if durable {
                Outcome::Spooled { attempts }
            } else {
                Outcome::Lost { attempts }
            }
        };
        let mut queued = Vec::with_capacity(left.len());
        for env in left {
            st.events -= 1;
            st.bytes -= env.size();
            if let Some(id) = env.spool_id {
                st.resident.remove(&id);
            }
            let outcome = at_stop(env.attempts);
            self.counters.outcome(&outcome);
            queued.push((env, outcome));
        }
        // Events on disk only (spilled by this client, or adopted and not loaded yet) stay
        // there for the next run.
        self.counters
            .spooled
            .fetch_add(st.disk_only as u64, std::sync::atomic::Ordering::Relaxed);
        st.disk_only = 0;
        let spilled = st
            .spilled_slots
            .drain()
            .map(|(_, slot)| (slot, Outcome::Spooled { attempts: 0 }))
            .collect();
        self.wake_all(&st);
        self.room.notify_all();
        self.idle.notify_all();
        Stopped { queued, spilled }
    }

    fn settle_in_flight(&self) -> Vec<(Arc<Slot>, Outcome, bool)> {
        let mut st = self.lock();
        let sending: Vec<_> = st.sending.drain().map(|(_, v)| v).collect();
        let mut settled = Vec::with_capacity(sending.len());
        for (slot, size, attempts) in sending {
            let in_doubt = Outcome::InDoubt {
                idempotency_key: slot.key.as_str().to_owned(),
                attempts,
            };
            let (outcome, stored) = match slot.settle(&in_doubt) {
                Ok(_) => (in_doubt, true),
                // Its worker stored an outcome and has not counted it yet.
                Err(earlier) => (earlier, false),
            };
            self.counters.outcome(&outcome);
            st.in_flight -= 1;
            self.finished(&mut st, size);
            settled.push((slot, outcome, stored));
        }
        settled
    }

    fn stats(&self) -> Stats {
        let st = self.lock();
        self.counters
            .snapshot(st.queued() as u64, st.in_flight as u64)
    }

    fn worker_exited(&self) {
        let mut st = self.lock();
        st.exited_workers += 1;
        self.idle.notify_all();
    }

    fn wait_workers(&self, live: usize, deadline: Instant) -> bool {
        let mut st = self.lock();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if st.exited_workers >= live {
                return true;
            }
            if left.is_zero() {
                return false;
            }
            st = wait(&self.idle, st, Some(left));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::envelope::{Endpoint, IdempotencyKey};
    use crate::client::receipt::Slot;
    use std::sync::Arc;

    /// Waits as a sender does: until an event is due, or `None` once stopped.
    fn take(q: &MemoryQueue) -> Option<Envelope> {
        loop {
            match q.try_take() {
                Take::Event(e) => return Some(e),
                Take::Stopped => return None,
                Take::Wait(at) => {
                    let now = Instant::now();
                    let nap = at.map_or(Duration::from_millis(1), |a| {
                        a.saturating_duration_since(now)
                            .min(Duration::from_millis(1))
                    });
                    std::thread::sleep(nap);
                }
            }
        }
    }

    fn env(size: usize) -> Envelope {
        let slot = Slot::new(IdempotencyKey::new_v4(), "org");
        Envelope::new(vec![b'x'; size], Endpoint::Events, slot)
    }

    #[test]
    fn reject_policy_bounds_events_and_bytes() {
        let q = MemoryQueue::new(2, 2048, Arc::default());
        q.push(env(10), Overflow::Reject).unwrap();
        q.push(env(10), Overflow::Reject).unwrap();
        let (e, _) = q.push(env(10), Overflow::Reject).unwrap_err();
        assert!(matches!(
            e,
            EmitError::QueueFull {
                limit: QueueLimit::Events(2),
                ..
            }
        ));
        let q = MemoryQueue::new(100, 2048, Arc::default());
        q.push(env(1500), Overflow::Reject).unwrap();
        let (e, _) = q.push(env(1000), Overflow::Reject).unwrap_err();
        assert!(matches!(
            e,
            EmitError::QueueFull {
                limit: QueueLimit::Bytes(2048),
                ..
            }
        ));
        let (e, _) = q.push(env(4096), Overflow::Reject).unwrap_err();
        assert!(matches!(
            e,
            EmitError::TooLarge {
                size: 4096,
                max: 2048
            }
        ));
        assert_eq!(q.counts(), (1, 0));
    }

    #[test]
    fn block_policy_waits_for_room_then_times_out() {
        let q = Arc::new(MemoryQueue::new(1, 4096, Arc::default()));
        q.push(env(10), Overflow::Reject).unwrap();
        let t0 = Instant::now();
        let (e, _) = q
            .push(env(10), Overflow::Block(Duration::from_millis(50)))
            .unwrap_err();
        assert!(t0.elapsed() >= Duration::from_millis(50));
        assert!(
            matches!(e, EmitError::QueueFull { waited, .. } if waited >= Duration::from_millis(50))
        );
        let q2 = q.clone();
        let consumer = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(30));
            let e = take(&q2).unwrap();
            q2.ack(&e, &Outcome::Lost { attempts: 0 });
        });
        q.push(env(10), Overflow::Block(Duration::from_secs(10)))
            .unwrap();
        consumer.join().unwrap();
        assert_eq!(q.counts(), (1, 0));
    }

    #[test]
    fn retries_wait_their_turn_and_pause_holds_everything() {
        let q = MemoryQueue::new(10, 4096, Arc::default());
        q.push(env(1), Overflow::Reject).unwrap();
        let e = take(&q).unwrap();
        let t0 = Instant::now();
        assert!(q.nack(e, t0 + Duration::from_millis(60)).is_none());
        let e = take(&q).unwrap();
        assert!(t0.elapsed() >= Duration::from_millis(60));
        q.pause(Instant::now() + Duration::from_millis(60));
        assert!(q.nack(e, Instant::now()).is_none());
        let t1 = Instant::now();
        let e = take(&q).unwrap();
        assert!(t1.elapsed() >= Duration::from_millis(50));
        q.ack(&e, &Outcome::Lost { attempts: 0 });
        assert_eq!(q.wait_idle(Instant::now()), 0);
    }

    #[test]
    fn close_and_stop() {
        let q = MemoryQueue::new(10, 4096, Arc::default());
        q.push(env(1), Overflow::Reject).unwrap();
        q.push(env(1), Overflow::Reject).unwrap();
        let taken = take(&q).unwrap();
        q.close();
        assert!(matches!(
            q.push(env(1), Overflow::Reject),
            Err((EmitError::Closed, _))
        ));
        let t0 = Instant::now();
        assert_eq!(q.wait_idle(t0 + Duration::from_millis(30)), 2);
        assert!(t0.elapsed() >= Duration::from_millis(30));
        let stopped = q.stop();
        assert_eq!((stopped.queued.len(), q.counts()), (1, (0, 1)));
        assert_eq!(q.stats().lost, 1);
        assert!(take(&q).is_none());
        let back = q.nack(taken, Instant::now()).unwrap();
        assert_eq!(q.wait_idle(Instant::now()), 1);
        q.ack(&back, &Outcome::Lost { attempts: 1 });
        assert_eq!(q.wait_idle(Instant::now()), 0);
        let s = q.stats();
        assert_eq!((s.accepted, s.lost, s.queued, s.in_flight), (2, 2, 0, 0));
    }

    #[test]
    fn in_flight_events_are_settled_once_at_shutdown() {
        let q = MemoryQueue::new(10, 4096, Arc::default());
        q.push(env(1), Overflow::Reject).unwrap();
        q.push(env(1), Overflow::Reject).unwrap();
        let first = take(&q).unwrap();
        let second = take(&q).unwrap();
        // The second one's worker stored its outcome but has not acked yet.
        let delivered = Outcome::Delivered {
            status: 201,
            request_id: None,
            attempts: 1,
        };
        second.slot.settle(&delivered).unwrap();
        q.stop();
        let settled = q.settle_in_flight();
        assert_eq!(settled.len(), 2);
        let s = q.stats();
        assert_eq!(
            (s.in_doubt, s.delivered, s.in_flight, s.queued),
            (1, 1, 0, 0)
        );
        // A late answer for a settled event changes nothing.
        q.ack(&first, &delivered);
        q.ack(&second, &delivered);
        assert_eq!(q.stats(), s);
        let in_doubt = settled
            .iter()
            .find(|(slot, ..)| Arc::ptr_eq(slot, &first.slot));
        assert!(matches!(
            in_doubt,
            Some((_, Outcome::InDoubt { attempts: 1, .. }, true))
        ));
    }
}
