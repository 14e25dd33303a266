//! The receipt of an accepted event: a one-shot slot its worker fills with the outcome.

use std::num::NonZeroU64;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use super::envelope::IdempotencyKey;
use super::outcome::Outcome;

#[derive(Default)]
struct State {
    /// The outcome, stored before the `on_outcome` callback runs (boxed: most of an
    /// event's queued life is without one).
    outcome: Option<Box<Outcome>>,
    /// The receipt shows the outcome (after the callback has run).
    published: bool,
    waiters: u32,
    /// Set by [`Receipt::set_tag`]; 0 for none.
    tag: u64,
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

    /// Stores the outcome without showing it on the receipt yet, unless one was stored
    /// before: `Ok` with the event's tag for the `on_outcome` callback if this call stored
    /// it, `Err` with the outcome stored earlier otherwise.
    pub(crate) fn settle(&self, outcome: &Outcome) -> Result<Option<NonZeroU64>, Outcome> {
        let mut st = self.lock();
        match &st.outcome {
            Some(earlier) => Err(Outcome::clone(earlier)),
            None => {
                st.outcome = Some(Box::new(outcome.clone()));
                Ok(NonZeroU64::new(st.tag))
            }
        }
    }

    /// The tag given with [`Receipt::set_tag`], if any.
    pub(crate) fn tag(&self) -> Option<NonZeroU64> {
        NonZeroU64::new(self.lock().tag)
    }

    /// Shows the stored outcome on the receipt and wakes waiters, if any.
    pub(crate) fn publish(&self) {
        let mut st = self.lock();
        if st.published || st.outcome.is_none() {
            return;
        }
        st.published = true;
        if st.waiters > 0 {
            self.done.notify_all();
        }
    }

    /// Stores and shows the outcome (the first one wins); for paths without a callback.
    pub(crate) fn complete(&self, outcome: Outcome) {
        {
            let mut st = self.lock();
            if st.outcome.is_none() {
                st.outcome = Some(Box::new(outcome));
            }
        }
        self.publish();
    }

    /// The outcome once the receipt shows it.
    fn shown(st: &State) -> Option<&Outcome> {
        st.outcome.as_deref().filter(|_| st.published)
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
        Slot::shown(&self.slot.lock()).is_some()
    }

    /// The outcome, if there is one yet.
    pub fn outcome(&self) -> Option<Outcome> {
        Slot::shown(&self.slot.lock()).cloned()
    }

    /// Labels the event with `tag`, which the `on_outcome` callback then receives (a
    /// binding's handle for the event); `Err` with the outcome if it has one already.
    pub fn set_tag(&self, tag: NonZeroU64) -> Result<(), Outcome> {
        let mut st = self.slot.lock();
        match &st.outcome {
            Some(outcome) => Err(Outcome::clone(outcome)),
            None => {
                st.tag = tag.get();
                Ok(())
            }
        }
    }

    /// Waits up to `timeout` for the outcome; `None` if it has not come by then.
    pub fn wait(&self, timeout: Duration) -> Option<Outcome> {
        let deadline = Instant::now().checked_add(timeout);
        let mut st = self.slot.lock();
        loop {
            if let Some(o) = Slot::shown(&st) {
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
        slot.complete(Outcome::Lost { attempts: 0 });
        slot.complete(Outcome::Lost { attempts: 9 });
        assert_eq!(t.join().unwrap(), Some(Outcome::Lost { attempts: 0 }));
        assert!(r.is_done());
        assert_eq!((r.idempotency_key(), r.organization_id()), ("k", "org_1"));
    }

    #[test]
    fn a_tag_reaches_the_settler_unless_the_outcome_came_first() {
        let tag = NonZeroU64::new(7).unwrap();
        let slot = Slot::new(IdempotencyKey::custom("k"), "org_1");
        let r = Receipt::new(slot.clone());
        assert_eq!(r.set_tag(tag), Ok(()));
        let delivered = Outcome::Lost { attempts: 1 };
        assert_eq!(slot.settle(&delivered), Ok(Some(tag)));
        assert_eq!(
            slot.settle(&Outcome::Lost { attempts: 2 }),
            Err(delivered.clone())
        );
        // Stored but not shown until published (the callback runs in between).
        assert!(!r.is_done());
        assert_eq!(r.set_tag(tag), Err(delivered.clone()));
        slot.publish();
        assert_eq!(r.outcome(), Some(delivered));

        let late = Slot::new(IdempotencyKey::custom("k2"), "org_1");
        let r = Receipt::new(late.clone());
        assert_eq!(late.settle(&Outcome::Lost { attempts: 0 }), Ok(None));
        assert_eq!(r.set_tag(tag), Err(Outcome::Lost { attempts: 0 }));
    }
}
