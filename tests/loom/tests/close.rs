//! Loom model of the close protocol: a log call that returns `Ok` is delivered, even when it races
//! with `close` (including a thread's first log call, which registers its ring).
//!
//! Run: `cargo test --release --manifest-path tests/loom/Cargo.toml`.
//!
//! # What is modelled
//! This is a faithful model of the logic, not the real code: loom can only explore code written
//! against its own atomics, and the ring is `rtrb`'s (whose own correctness is rtrb's business).
//! Each step below names the line it stands for.
//!
//! - Producer (`frontend::Logger::add_local_producer`, `frontend::producer::Producer::write`):
//!   if `closed` (Relaxed) → `Closed`; register the ring on first use (`ring::Registry::register`);
//!   check `closed` (Relaxed) again; write the record and commit it (rtrb: slot write, then a
//!   Release store of the tail); `barrier::light()`; re-check `closed` (Relaxed) → `Closed`, else
//!   `Ok`.
//! - Closer (`Logger::close`): store `closed = true` (SeqCst); `barrier::heavy()`; send
//!   `Command::Close` to the drain (a channel: Release/Acquire).
//! - Drain (`drain::Drain::run` then `Drain::close`): ordinary passes (adopt pending rings, take
//!   every committed record: Acquire load of the tail), then after the close command, passes
//!   until one moves nothing.
//!
//! # The fence assumption
//! In the real code `light` is a compiler fence and `heavy` is `membarrier(PRIVATE_EXPEDITED)`,
//! which runs a full barrier on every CPU running one of our threads: together they act like a
//! `fence(SeqCst)` on both sides (the asymmetric-fence argument in `ring::barrier`). Loom cannot
//! model membarrier, so both are modelled as `fence(SeqCst)` (also the real fallback when
//! membarrier is unavailable). Loom models `fence(SeqCst)` but treats SeqCst loads and stores
//! as AcqRel, so the model relies on the fences only, as the real protocol does.
//!
//! `producer_without_the_light_fence_loses_records` shows the model is not vacuous: drop the
//! producer's fence and loom finds an execution where a call returns `Ok` and its record is lost.

use loom::cell::UnsafeCell;
use loom::sync::atomic::{fence, AtomicBool, AtomicUsize, Ordering};
use loom::sync::{Arc, Mutex};
use loom::thread;

/// Records one producer writes in the model.
const RECORDS: usize = 2;

/// A single-producer single-consumer ring with room for every record of the model (backpressure
/// is not what is being checked): slot writes, then a Release store of the tail.
struct Ring {
    slots: [UnsafeCell<usize>; RECORDS],
    tail: AtomicUsize,
    /// Only the drain touches it, so it needs no atomicity; kept atomic for loom's sake.
    head: AtomicUsize,
}

impl Ring {
    fn new() -> Ring {
        Ring {
            slots: std::array::from_fn(|_| UnsafeCell::new(0)),
            tail: AtomicUsize::new(0),
            head: AtomicUsize::new(0),
        }
    }

    /// Producer: write the record, then publish it (`commit_all`).
    fn commit(&self, value: usize) {
        let tail = self.tail.load(Ordering::Relaxed);
        self.slots[tail].with_mut(|slot| unsafe { *slot = value });
        self.tail.store(tail + 1, Ordering::Release);
    }

    /// Drain: take every published record.
    fn take_all(&self, into: &mut Vec<usize>) -> usize {
        let tail = self.tail.load(Ordering::Acquire);
        let head = self.head.load(Ordering::Relaxed);
        for index in head..tail {
            into.push(self.slots[index].with(|slot| unsafe { *slot }));
        }
        self.head.store(tail, Ordering::Relaxed);
        tail - head
    }
}

/// `ring::Registry`: a mutex-guarded pending list and a flag the drain reads without the lock.
#[derive(Default)]
struct Registry {
    pending: Mutex<Vec<Arc<Ring>>>,
    has_pending: AtomicBool,
}

impl Registry {
    fn register(&self, ring: Arc<Ring>) {
        let mut pending = self.pending.lock().unwrap();
        pending.push(ring);
        self.has_pending.store(true, Ordering::Release);
    }

    fn take_pending(&self, into: &mut Vec<Arc<Ring>>) {
        if self.has_pending.load(Ordering::Acquire) {
            let mut pending = self.pending.lock().unwrap();
            self.has_pending.store(false, Ordering::Relaxed);
            into.append(&mut pending);
        }
    }
}

#[derive(Default)]
struct Logger {
    closed: AtomicBool,
    close_command: AtomicBool,
    registry: Registry,
}

#[derive(Debug, PartialEq)]
enum Outcome {
    Ok,
    Closed,
}

/// One producer thread's view: its ring, registered on the first call.
struct Producer {
    ring: Option<Arc<Ring>>,
    light_fence: bool,
}

impl Producer {
    fn log(&mut self, logger: &Logger, value: usize) -> Outcome {
        if self.ring.is_none() {
            // `add_local_producer`: refuse once closed, else register.
            if logger.closed.load(Ordering::Relaxed) {
                return Outcome::Closed;
            }
            let ring = Arc::new(Ring::new());
            logger.registry.register(ring.clone());
            self.ring = Some(ring);
        }
        // `write`, step 1.
        if logger.closed.load(Ordering::Relaxed) {
            return Outcome::Closed;
        }
        // Steps 3-4: reserve, encode, commit.
        self.ring.as_ref().expect("registered").commit(value);
        // Step 5: `barrier::light()`, then re-check.
        if self.light_fence {
            fence(Ordering::SeqCst);
        }
        if logger.closed.load(Ordering::Relaxed) {
            return Outcome::Closed;
        }
        Outcome::Ok
    }
}

fn close(logger: &Logger) {
    logger.closed.store(true, Ordering::SeqCst);
    fence(Ordering::SeqCst); // barrier::heavy()
    logger.close_command.store(true, Ordering::Release); // commands.send(Command::Close)
}

/// The drain thread: one ordinary pass, wait for the close command, then the final passes.
fn drain(logger: &Logger) -> Vec<usize> {
    let mut rings: Vec<Arc<Ring>> = Vec::new();
    let mut delivered = Vec::new();
    let mut pass = |rings: &mut Vec<Arc<Ring>>, delivered: &mut Vec<usize>| {
        logger.registry.take_pending(rings);
        rings
            .iter()
            .map(|ring| ring.take_all(delivered))
            .sum::<usize>()
    };
    pass(&mut rings, &mut delivered);
    while !logger.close_command.load(Ordering::Acquire) {
        thread::yield_now();
    }
    while pass(&mut rings, &mut delivered) > 0 {}
    delivered
}

/// Runs one producer logging `RECORDS` records against a concurrent close and checks that every
/// `Ok` record was delivered, exactly once and in order.
fn check_close_race(light_fence: bool) {
    let mut builder = loom::model::Builder::new();
    builder.preemption_bound = Some(3);
    builder.check(move || {
        let logger = Arc::new(Logger::default());
        let producer = {
            let logger = logger.clone();
            thread::spawn(move || {
                let mut producer = Producer {
                    ring: None,
                    light_fence,
                };
                (0..RECORDS)
                    .map(|value| producer.log(&logger, value))
                    .collect::<Vec<_>>()
            })
        };
        let drain_thread = {
            let logger = logger.clone();
            thread::spawn(move || drain(&logger))
        };
        close(&logger);
        let outcomes = producer.join().unwrap();
        let delivered = drain_thread.join().unwrap();

        // Delivered once each, in logged order.
        assert!(
            delivered.windows(2).all(|w| w[0] < w[1]),
            "out of order or duplicated: {delivered:?}"
        );
        for (value, outcome) in outcomes.iter().enumerate() {
            if *outcome == Outcome::Ok {
                assert!(
                    delivered.contains(&value),
                    "record {value} returned Ok but was not delivered \
                     (outcomes {outcomes:?}, delivered {delivered:?})"
                );
            }
        }
        // Once a call returns Closed, later calls do too.
        if let Some(first) = outcomes.iter().position(|o| *o == Outcome::Closed) {
            assert!(outcomes[first..].iter().all(|o| *o == Outcome::Closed));
        }
    });
}

#[test]
fn ok_records_survive_a_racing_close() {
    check_close_race(true);
}

#[test]
#[should_panic(expected = "returned Ok but was not delivered")]
fn producer_without_the_light_fence_loses_records() {
    check_close_race(false);
}
