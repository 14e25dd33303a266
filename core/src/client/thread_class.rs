//! The scheduling class of delivery threads: background work that yields to the caller's.
//!
//! A delivery thread sleeps and wakes once per response. As a normal thread, each wake-up
//! may preempt the application's running thread on its core. In `SCHED_BATCH` it keeps its
//! fair share of CPU, but a wake-up waits for an idle core or the next tick instead.

/// Moves the calling thread from the normal class to `SCHED_BATCH` (Linux; elsewhere, and
/// for threads in any other class, nothing changes). Its nice value is kept.
pub(crate) fn yield_to_callers() {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: pid 0 is the calling thread; `param` is a valid `sched_param`.
        unsafe {
            if libc::sched_getscheduler(0) != libc::SCHED_OTHER {
                return;
            }
            let param = libc::sched_param { sched_priority: 0 };
            if libc::sched_setscheduler(0, libc::SCHED_BATCH, &param) != 0 {
                log::debug!(
                    "auditwire: the delivery thread stays in the normal scheduling class: {}",
                    std::io::Error::last_os_error()
                );
            }
        }
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    fn policy() -> libc::c_int {
        // SAFETY: pid 0 is the calling thread.
        unsafe { libc::sched_getscheduler(0) }
    }

    #[test]
    fn a_normal_thread_becomes_batch_and_keeps_its_nice_value() {
        std::thread::spawn(|| {
            // SAFETY: `nice` on the calling thread.
            let nice = unsafe { libc::nice(3) };
            assert_eq!(policy(), libc::SCHED_OTHER);
            yield_to_callers();
            assert_eq!(policy(), libc::SCHED_BATCH);
            // SAFETY: `nice(0)` reads the calling thread's value.
            assert_eq!(unsafe { libc::nice(0) }, nice);
        })
        .join()
        .unwrap();
    }

    #[test]
    fn an_idle_thread_is_left_idle() {
        std::thread::spawn(|| {
            let param = libc::sched_param { sched_priority: 0 };
            // SAFETY: pid 0 is the calling thread; `param` is valid.
            assert_eq!(
                unsafe { libc::sched_setscheduler(0, libc::SCHED_IDLE, &param) },
                0
            );
            yield_to_callers();
            assert_eq!(policy(), libc::SCHED_IDLE);
        })
        .join()
        .unwrap();
    }
}
