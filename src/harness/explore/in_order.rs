//! Work on worker threads, committed in order: what makes an exploration's result the same on
//! any number of threads.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// Run `work(i)` for every `i` below `n` on `jobs` threads, taking them in order, and hand each
/// result to `commit` on this thread in order of `i`, as soon as it and every one before it
/// are done (so nothing waits in memory longer than it must). When `commit` returns false, no
/// more work starts and `stop` is set, for the work in progress to end early.
pub(super) fn in_order<T: Send>(
    n: usize,
    jobs: usize,
    stop: &AtomicBool,
    work: &(dyn Fn(usize) -> T + Sync),
    commit: &mut dyn FnMut(usize, T) -> bool,
) {
    use std::sync::{Condvar, Mutex};
    let slots: Mutex<Vec<Option<std::thread::Result<T>>>> =
        Mutex::new((0..n).map(|_| None).collect());
    let filled = Condvar::new();
    let next = AtomicUsize::new(0);
    std::thread::scope(|threads| {
        for _ in 0..jobs.clamp(1, n.max(1)) {
            threads.spawn(|| loop {
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= n {
                    break;
                }
                // A panic is handed to the committer, which raises it, instead of leaving it
                // waiting for a result that never comes.
                let done = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| work(i)));
                slots.lock().expect("not poisoned")[i] = Some(done);
                filled.notify_all();
            });
        }
        for i in 0..n {
            let done = {
                let mut slots = slots.lock().expect("not poisoned");
                loop {
                    if let Some(done) = slots[i].take() {
                        break done;
                    }
                    slots = filled.wait(slots).expect("not poisoned");
                }
            };
            let result = done.unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            if !commit(i, result) {
                stop.store(true, Ordering::Relaxed);
                break;
            }
        }
    });
}
