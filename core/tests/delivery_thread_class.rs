//! Delivery threads run in `SCHED_BATCH` (Linux): their wake-ups do not preempt the caller.
//! Alone in its test binary, so that no other test's client is starting threads meanwhile.
#![cfg(target_os = "linux")]

use auditwire::{Client, Config};

/// The scheduling policy of every thread of this process named `prefix…`.
fn policies(prefix: &str) -> Vec<libc::c_int> {
    let mut out = Vec::new();
    for task in std::fs::read_dir("/proc/self/task").unwrap() {
        let task = task.unwrap();
        let comm = std::fs::read_to_string(task.path().join("comm")).unwrap_or_default();
        if !comm.starts_with(prefix) {
            continue;
        }
        let tid: libc::pid_t = task.file_name().to_str().unwrap().parse().unwrap();
        // SAFETY: reads the policy of a thread of this process.
        out.push(unsafe { libc::sched_getscheduler(tid) });
    }
    out
}

#[test]
fn delivery_threads_are_batch_and_the_callers_thread_is_untouched() {
    // No event is sent: the threads only need to start.
    let config = Config::builder()
        .api_key("sk_test_thread_class")
        .base_url("http://127.0.0.1:9")
        .ignore_env(true)
        .workers(4)
        .build()
        .unwrap();
    let client = Client::new(config);
    // Linux truncates thread names to 15 bytes.
    let workers = policies("auditwire-work");
    assert!(!workers.is_empty(), "no delivery thread found");
    assert!(
        workers.iter().all(|&p| p == libc::SCHED_BATCH),
        "policies {workers:?}"
    );
    // SAFETY: pid 0 is the calling thread.
    assert_eq!(unsafe { libc::sched_getscheduler(0) }, libc::SCHED_OTHER);
    drop(client);
}
