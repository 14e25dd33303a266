//! Keeps the outcome of every accepted event for as long as JavaScript may ask for it.
//!
//! Events live in numbered slots, grouped in chunks of `CHUNK`; a chunk is freed when its
//! `NativeChunk` is collected (no receipt of it is left), and each reuse of a chunk gets a
//! new generation. An `emit` is one slot write, with no object per event: the receipt is
//! tagged with its slot and the chunk's generation, and the core hands that tag to
//! `on_outcome`, which stores the outcome in the slot (a tag of an older generation
//! finds its event gone). Only outcomes a promise waits for (or every one, for
//! `onOutcome`) are queued for JavaScript, which is woken once per batch.

use std::num::NonZeroU64;
use std::sync::{Mutex, MutexGuard, PoisonError};

use auditwire::{Outcome, OutcomeReport, Receipt};
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi::Status;

use crate::convert::{config_error, Settled};

/// Wakes the JavaScript drain; weak (never keeps the event loop alive).
pub(crate) type Notify = ThreadsafeFunction<u32, (), u32, Status, false, true>;

/// Slots per chunk.
pub(crate) const CHUNK: u32 = 64;

/// Released chunk buffers kept for reuse.
const SPARE_CHUNKS: usize = 32;

/// Where an event stands.
enum State {
    /// Nobody waits for the outcome yet.
    Pending,
    /// Promise `id` waits for the outcome.
    Watched(u32),
    /// Settled (boxed: slots are small while they wait).
    Done(Box<Outcome>),
}

/// One accepted event (vacant without a receipt).
struct Slot {
    receipt: Option<Receipt>,
    state: State,
}

impl Slot {
    fn vacant() -> Self {
        Slot {
            receipt: None,
            state: State::Pending,
        }
    }
}

/// A chunk's place: its generation (never 0) and its slots while in use.
#[derive(Default)]
struct Chunk {
    generation: u32,
    slots: Option<Vec<Slot>>,
}

/// The tag of slot `id` in a chunk of generation `generation`.
fn tag(generation: u32, id: u32) -> NonZeroU64 {
    NonZeroU64::new(u64::from(generation) << 32 | u64::from(id)).expect("generations start at 1")
}

#[derive(Default)]
struct Inner {
    chunks: Vec<Chunk>,
    free_chunks: Vec<u32>,
    spare: Vec<Vec<Slot>>,
    outbox: Vec<Settled>,
}

impl Inner {
    fn slot(&mut self, id: u32) -> Option<&mut Slot> {
        let chunk = self.chunks.get_mut((id / CHUNK) as usize)?.slots.as_mut()?;
        chunk.get_mut((id % CHUNK) as usize)
    }

    /// The slot a tag names, if its chunk is still of the tag's generation.
    fn tagged(&mut self, tag: NonZeroU64) -> Option<u32> {
        let (generation, id) = ((tag.get() >> 32) as u32, tag.get() as u32);
        let chunk = self.chunks.get((id / CHUNK) as usize)?;
        (chunk.generation == generation && chunk.slots.is_some()).then_some(id)
    }

    /// Registers an accepted event in slot `id` (see [`Hub::track`]).
    fn track(&mut self, id: u32, receipt: Receipt, watch: u32) -> napi::Result<()> {
        let generation = self.chunks.get((id / CHUNK) as usize).map(|c| c.generation);
        let (Some(generation), Some(slot)) =
            (generation, self.slot(id).filter(|s| s.receipt.is_none()))
        else {
            return Err(config_error(format!("slot {id} is not free")));
        };
        // Tagged under the hub's lock: the hook, which takes it too, sees the slot filled.
        let settled = match receipt.set_tag(tag(generation, id)) {
            Ok(()) => {
                slot.state = match watch {
                    0 => State::Pending,
                    w => State::Watched(w),
                };
                None
            }
            // Settled before it was tagged: the hook could not name the slot.
            Err(outcome) => {
                let key = receipt.idempotency_key();
                let settled = (watch != 0).then(|| Settled::new(watch, &outcome, key, None));
                slot.state = State::Done(Box::new(outcome));
                settled
            }
        };
        slot.receipt = Some(receipt);
        self.outbox.extend(settled);
        Ok(())
    }

    /// Stores the outcome of slot `id`; queues it for its promise and, with `org` (the
    /// event's organization), for `onOutcome`.
    fn settle(&mut self, id: u32, outcome: &Outcome, org: Option<&str>) {
        let Some(slot) = self.slot(id) else {
            return;
        };
        let Some(receipt) = &slot.receipt else {
            return;
        };
        let watcher = match slot.state {
            State::Pending => 0,
            State::Watched(w) => w,
            State::Done(_) => return,
        };
        let settled = (watcher != 0 || org.is_some())
            .then(|| Settled::new(watcher, outcome, receipt.idempotency_key(), org));
        slot.state = State::Done(Box::new(outcome.clone()));
        self.outbox.extend(settled);
    }
}

/// The per-client registry of accepted events and settled outcomes.
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

    /// A fresh chunk; returns its first slot id.
    pub(crate) fn new_chunk(&self) -> u32 {
        let mut inner = lock(&self.inner);
        let buffer = inner
            .spare
            .pop()
            .unwrap_or_else(|| (0..CHUNK).map(|_| Slot::vacant()).collect());
        let c = inner.free_chunks.pop().unwrap_or_else(|| {
            inner.chunks.push(Chunk::default());
            (inner.chunks.len() - 1) as u32
        });
        let chunk = &mut inner.chunks[c as usize];
        chunk.generation = chunk.generation.checked_add(1).unwrap_or(1);
        chunk.slots = Some(buffer);
        c * CHUNK
    }

    /// Forgets the chunk starting at slot `first`: no receipt of it is left.
    pub(crate) fn release_chunk(&self, first: u32) {
        let c = (first / CHUNK) as usize;
        let mut inner = lock(&self.inner);
        let Some(mut buffer) = inner.chunks.get_mut(c).and_then(|ch| ch.slots.take()) else {
            return;
        };
        for slot in &mut buffer {
            slot.receipt = None;
            slot.state = State::Pending;
        }
        if inner.spare.len() < SPARE_CHUNKS {
            inner.spare.push(buffer);
        }
        inner.free_chunks.push(c as u32);
    }

    /// Registers an accepted event in slot `id`, watched by promise `watch` (0: nobody);
    /// an error if the slot is not free.
    pub(crate) fn track(&self, id: u32, receipt: Receipt, watch: u32) -> napi::Result<()> {
        self.queueing(|inner| inner.track(id, receipt, watch))
    }

    /// Makes promise `watch` wait for slot `id`; returns the outcome at once if there is one.
    /// `Err` if the slot holds no event.
    pub(crate) fn watch(&self, id: u32, watch: u32) -> Result<Option<Settled>, ()> {
        let mut inner = lock(&self.inner);
        let slot = inner.slot(id).ok_or(())?;
        let key = slot.receipt.as_ref().ok_or(())?.idempotency_key();
        match &slot.state {
            State::Done(outcome) => Ok(Some(Settled::new(watch, outcome, key, None))),
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

    /// The `on_outcome` hook: records the outcome in its slot and queues it if someone
    /// waits for it.
    pub(crate) fn on_outcome(&self, report: &OutcomeReport<'_>) {
        let org = self.report_all.then_some(report.organization_id);
        self.queueing(|inner| match report.tag.and_then(|t| inner.tagged(t)) {
            Some(id) => inner.settle(id, report.outcome, org),
            // Untagged (settled before `track`, or adopted from a spool) or its chunk is
            // gone: only `onOutcome` hears of it.
            None => {
                if org.is_some() {
                    let key = report.idempotency_key;
                    inner.outbox.push(Settled::new(0, report.outcome, key, org));
                }
            }
        });
    }

    /// After shutdown: settles the slots whose receipt has an outcome the hook did not
    /// bring (the core settles every receipt before shutdown returns, but runs no callback
    /// once its gate is closed).
    pub(crate) fn sweep(&self) {
        self.queueing(|inner| self.sweep_in(inner));
    }

    fn sweep_in(&self, inner: &mut Inner) {
        let mut open = Vec::new();
        for (c, chunk) in inner.chunks.iter().enumerate() {
            for (i, slot) in chunk.slots.iter().flatten().enumerate() {
                if matches!(slot.state, State::Done(_)) {
                    continue;
                }
                if let Some(outcome) = slot.receipt.as_ref().and_then(Receipt::outcome) {
                    let org = slot
                        .receipt
                        .as_ref()
                        .map(|r| r.organization_id().to_owned());
                    open.push(((c as u32) * CHUNK + i as u32, outcome, org));
                }
            }
        }
        for (id, outcome, org) in open {
            let org = org.filter(|_| self.report_all);
            inner.settle(id, &outcome, org.as_deref());
        }
    }

    /// Runs `f` under the lock, then wakes the JavaScript drain if `f` queued the first
    /// outcome of a batch.
    fn queueing<R>(&self, f: impl FnOnce(&mut Inner) -> R) -> R {
        let mut inner = lock(&self.inner);
        let before = inner.outbox.len();
        let result = f(&mut inner);
        let wake = before == 0 && !inner.outbox.is_empty();
        drop(inner);
        if wake {
            self.wake();
        }
        result
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

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use auditwire::{Actor, Client, Config, Context, EmitOptions, Event, Target, Timestamp};

    use super::*;

    /// A client whose events fail at once (nothing listens on the port), reporting to `hub`.
    fn client(hub: &Arc<Hub>) -> Client {
        let h = hub.clone();
        let config = Config::builder()
            .api_key("sk_test_hub")
            .base_url("http://127.0.0.1:9")
            .max_retries(0)
            .on_outcome(move |r| h.on_outcome(r))
            .build()
            .expect("valid config");
        Client::try_new(config).expect("client starts")
    }

    fn emit(c: &Client) -> Receipt {
        let mut e = Event::empty();
        e.action = "user.signed_in".into();
        e.occurred_at = Timestamp::now();
        e.actor = Actor::new("user_1", "user");
        e.targets = vec![Target::new("team_1", "team")];
        e.context = Context::new("127.0.0.1");
        c.emit("org_1", &e, EmitOptions::default())
            .expect("valid event")
    }

    fn settled_ids(hub: &Hub) -> Vec<u32> {
        hub.take().iter().map(|s| s.id).collect()
    }

    /// A hub with one chunk (its first slot id) and a client that has emitted one event.
    fn one_event() -> (Arc<Hub>, Client, u32, Receipt) {
        let hub = Arc::new(Hub::new(false));
        let c = client(&hub);
        let first = hub.new_chunk();
        let r = emit(&c);
        (hub, c, first, r)
    }

    #[test]
    fn the_hook_settles_a_tracked_event_through_its_tag() {
        let (hub, _c, first, r) = one_event();
        assert!(hub.track(first, r.clone(), 7).is_ok());
        // The receipt shows the outcome only after the hook has run.
        assert!(r.wait(Duration::from_secs(10)).is_some());
        assert_eq!(settled_ids(&hub), [7]);
        assert!(hub.track(first, r, 8).is_err(), "a used slot is not free");
    }

    #[test]
    fn an_event_settled_before_it_is_tracked_settles_at_once() {
        let (hub, _c, first, r) = one_event();
        assert!(r.wait(Duration::from_secs(10)).is_some());
        assert!(
            settled_ids(&hub).is_empty(),
            "an untagged event has no slot"
        );
        assert!(hub.track(first + 1, r, 9).is_ok());
        assert_eq!(settled_ids(&hub), [9]);
    }

    #[test]
    fn a_tag_from_a_released_chunk_names_nothing() {
        let mut inner = Inner::default();
        inner.chunks.push(Chunk {
            generation: 1,
            slots: Some((0..CHUNK).map(|_| Slot::vacant()).collect()),
        });
        let old = tag(1, 5);
        assert_eq!(inner.tagged(old), Some(5));
        // Released, then reused under the next generation.
        let slots = inner.chunks[0].slots.take();
        assert_eq!(inner.tagged(old), None);
        inner.chunks[0] = Chunk {
            generation: 2,
            slots,
        };
        assert_eq!(inner.tagged(old), None);
        assert_eq!(inner.tagged(tag(2, 5)), Some(5));
    }
}
