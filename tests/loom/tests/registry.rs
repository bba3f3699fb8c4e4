//! Loom model of the ring registry hand-off (`ring::Registry::register` / `take_pending` and its
//! `has_pending` flag): every registered ring reaches the drain exactly once, and a drain pass that
//! happens after a registration (say, one answering a `flush` requested after the producer's
//! first log call) adopts that ring.
//!
//! Run: `cargo test --release --manifest-path tests/loom/Cargo.toml`.
//!
//! This is a faithful model of the logic in `src/ring/mod.rs` rather than that code itself (the
//! registry holds `rtrb` consumers and uses std's mutex, which loom cannot explore); the model
//! keeps its orderings and the fact that `register` sets the flag while still holding the lock.
//! `flag_set_before_the_push_loses_a_ring` shows that loom catches the obvious slip of setting
//! the flag before the ring is in the list.

use loom::sync::atomic::{AtomicBool, Ordering};
use loom::sync::{Arc, Mutex};
use loom::thread;

#[derive(Default)]
struct Registry {
    pending: Mutex<Vec<usize>>,
    has_pending: AtomicBool,
}

impl Registry {
    /// As `Registry::register`: push under the lock, raise the flag before unlocking.
    fn register(&self, ring: usize) {
        let mut pending = self.pending.lock().unwrap();
        pending.push(ring);
        // Release pairs with the Acquire in `take_pending`; the mutex orders the list itself.
        self.has_pending.store(true, Ordering::Release);
    }

    /// The slip the model must catch: the flag goes up before the ring is in the list, so the
    /// drain can clear it, find nothing, and never look again.
    fn register_flag_first(&self, ring: usize) {
        self.has_pending.store(true, Ordering::Release);
        let mut pending = self.pending.lock().unwrap();
        pending.push(ring);
    }

    /// As `Registry::take_pending`.
    fn take_pending(&self, into: &mut Vec<usize>) {
        if self.has_pending.load(Ordering::Acquire) {
            let mut pending = self.pending.lock().unwrap();
            self.has_pending.store(false, Ordering::Relaxed);
            into.append(&mut pending);
        }
    }
}

/// Two producers register (and then "log", raising `logged`) while the drain passes; the drain
/// then waits for both to have logged (the happens-before a `flush` request carries) and takes
/// pending rings once more. Every ring must be adopted exactly once.
fn check_hand_off(flag_first: bool) {
    let mut builder = loom::model::Builder::new();
    builder.preemption_bound = Some(3);
    builder.check(move || {
        let registry = Arc::new(Registry::default());
        let logged: Arc<[AtomicBool; 2]> =
            Arc::new([AtomicBool::new(false), AtomicBool::new(false)]);
        let producers: Vec<_> = (0..2)
            .map(|ring| {
                let registry = registry.clone();
                let logged = logged.clone();
                thread::spawn(move || {
                    if flag_first {
                        registry.register_flag_first(ring);
                    } else {
                        registry.register(ring);
                    }
                    logged[ring].store(true, Ordering::Release);
                })
            })
            .collect();

        let mut adopted = Vec::new();
        // An ordinary pass racing with the registrations.
        registry.take_pending(&mut adopted);
        // The flush: requested after both producers logged, so after both registered.
        while !logged.iter().all(|l| l.load(Ordering::Acquire)) {
            thread::yield_now();
        }
        registry.take_pending(&mut adopted);

        adopted.sort_unstable();
        assert_eq!(adopted, vec![0, 1], "rings adopted by the flush pass");
        for producer in producers {
            producer.join().unwrap();
        }
    });
}

#[test]
fn every_registered_ring_is_adopted_once() {
    check_hand_off(false);
}

#[test]
#[should_panic(expected = "rings adopted by the flush pass")]
fn flag_set_before_the_push_loses_a_ring() {
    check_hand_off(true);
}
