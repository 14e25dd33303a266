//! The callback gate: once shutdown closes it, no `on_outcome` callback starts, and closing
//! waits for the callbacks already running.

use std::cell::Cell;
use std::sync::{Condvar, Mutex, PoisonError};

thread_local! {
    /// Callbacks of any gate running on this thread (a callback may shut a client down).
    static RUNNING_HERE: Cell<usize> = const { Cell::new(0) };
}

#[derive(Default)]
struct State {
    closed: bool,
    running: usize,
}

/// Lets callbacks run until closed.
#[derive(Default)]
pub(crate) struct Gate {
    state: Mutex<State>,
    done: Condvar,
}

impl Gate {
    /// Runs `f` unless the gate is closed; true if it ran.
    pub(crate) fn run(&self, f: impl FnOnce()) -> bool {
        {
            let mut st = self.state.lock().unwrap_or_else(PoisonError::into_inner);
            if st.closed {
                return false;
            }
            st.running += 1;
        }
        RUNNING_HERE.with(|n| n.set(n.get() + 1));
        // Counted down even if `f` unwinds.
        struct Leave<'a>(&'a Gate);
        impl Drop for Leave<'_> {
            fn drop(&mut self) {
                RUNNING_HERE.with(|n| n.set(n.get() - 1));
                let mut st = self.0.state.lock().unwrap_or_else(PoisonError::into_inner);
                st.running -= 1;
                self.0.done.notify_all();
            }
        }
        let _leave = Leave(self);
        f();
        true
    }

    /// Closes the gate and waits until no callback runs, except those on this very thread
    /// (a callback that shuts its client down cannot wait for itself).
    pub(crate) fn close(&self) {
        let here = RUNNING_HERE.with(Cell::get);
        let mut st = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        st.closed = true;
        while st.running > here {
            st = self.done.wait(st).unwrap_or_else(PoisonError::into_inner);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::time::Duration;

    #[test]
    fn close_waits_for_a_running_callback_and_refuses_later_ones() {
        let gate = Arc::new(Gate::default());
        let g = gate.clone();
        let (started, wait_started) = std::sync::mpsc::channel();
        let t = std::thread::spawn(move || {
            g.run(|| {
                started.send(()).unwrap();
                std::thread::sleep(Duration::from_millis(100));
            })
        });
        wait_started.recv().unwrap();
        let t0 = std::time::Instant::now();
        gate.close();
        assert!(
            t0.elapsed() >= Duration::from_millis(50),
            "close did not wait"
        );
        assert!(t.join().unwrap());
        assert!(!gate.run(|| panic!("ran after close")));
    }

    #[test]
    fn a_callback_may_close_its_own_gate() {
        let gate = Gate::default();
        assert!(gate.run(|| gate.close()));
        assert!(!gate.run(|| {}));
    }
}
