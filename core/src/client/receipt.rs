//! The receipt of an accepted event: a one-shot slot its worker fills with the outcome.

use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use super::envelope::IdempotencyKey;
use super::outcome::Outcome;

#[derive(Default)]
struct State {
    outcome: Option<Outcome>,
    waiters: u32,
}

/// The shared slot with the event's identity; one allocation per event.
pub(crate) struct Slot {
    pub(crate) key: IdempotencyKey,
    pub(crate) organization_id: Box<str>,
    state: Mutex<State>,
    done: Condvar,
}

impl Slot {
    pub(crate) fn new(key: IdempotencyKey, organization_id: &str) -> Arc<Self> {
        Arc::new(Slot {
            key,
            organization_id: organization_id.into(),
            state: Mutex::default(),
            done: Condvar::new(),
        })
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Stores the outcome (the first one wins) and wakes waiters, if any.
    pub(crate) fn complete(&self, outcome: Outcome) {
        let mut st = self.lock();
        if st.outcome.is_some() {
            return;
        }
        st.outcome = Some(outcome);
        if st.waiters > 0 {
            self.done.notify_all();
        }
    }
}

/// A handle to an accepted event's outcome. Cheap to clone; usable from any thread.
#[derive(Clone)]
pub struct Receipt {
    slot: Arc<Slot>,
}

impl std::fmt::Debug for Receipt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Receipt")
            .field("idempotency_key", &self.idempotency_key())
            .field("outcome", &self.outcome())
            .finish()
    }
}

impl Receipt {
    pub(crate) fn new(slot: Arc<Slot>) -> Self {
        Receipt { slot }
    }

    /// The idempotency key sent with every attempt for this event.
    pub fn idempotency_key(&self) -> &str {
        self.slot.key.as_str()
    }

    /// The organization the event belongs to.
    pub fn organization_id(&self) -> &str {
        &self.slot.organization_id
    }

    /// True once the event has an outcome.
    pub fn is_done(&self) -> bool {
        self.slot.lock().outcome.is_some()
    }

    /// The outcome, if there is one yet.
    pub fn outcome(&self) -> Option<Outcome> {
        self.slot.lock().outcome.clone()
    }

    /// Waits up to `timeout` for the outcome; `None` if it has not come by then.
    pub fn wait(&self, timeout: Duration) -> Option<Outcome> {
        let deadline = Instant::now().checked_add(timeout);
        let mut st = self.slot.lock();
        loop {
            if let Some(o) = &st.outcome {
                return Some(o.clone());
            }
            let left = match deadline {
                Some(d) => d.saturating_duration_since(Instant::now()),
                None => Duration::from_secs(3600),
            };
            if left.is_zero() {
                return None;
            }
            st.waiters += 1;
            st = self
                .slot
                .done
                .wait_timeout(st, left)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
            st.waiters -= 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wait_times_out_then_sees_the_outcome_from_another_thread() {
        let slot = Slot::new(IdempotencyKey::custom("k"), "org_1");
        let r = Receipt::new(slot.clone());
        assert!(!r.is_done());
        assert_eq!(r.wait(Duration::from_millis(20)), None);
        let r2 = r.clone();
        let t = std::thread::spawn(move || r2.wait(Duration::from_secs(10)));
        std::thread::sleep(Duration::from_millis(20));
        slot.complete(Outcome::Shutdown { attempts: 0 });
        slot.complete(Outcome::Shutdown { attempts: 9 });
        assert_eq!(t.join().unwrap(), Some(Outcome::Shutdown { attempts: 0 }));
        assert!(r.is_done());
        assert_eq!((r.idempotency_key(), r.organization_id()), ("k", "org_1"));
    }
}
