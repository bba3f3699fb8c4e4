//! Loom model of call-site registration (`ring::callsite::Callsite::id` / `register` and
//! `lookup`): two threads log through the same call site for the first time at once; both must
//! use the same id, and the drain, which learns the id only from a record in a ring, must find
//! the call site in the table.
//!
//! Run: `cargo test --release --manifest-path tests/loom/Cargo.toml`.
//!
//! A faithful model of the logic in `src/ring/callsite.rs` rather than that code itself (it uses
//! std atomics in statics, which loom cannot explore): the same orderings, the table slot stored
//! before the id is published, the id taken with a compare-exchange. `id_published_before_the_slot`
//! shows that loom catches the slip of publishing the id before the table slot is filled.

use loom::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use loom::sync::Arc;
use loom::thread;

const UNREGISTERED: u32 = 0;
/// Stands for the call site's address in a table slot (0 = null).
const CALLSITE: usize = 0xC0FFEE;

struct Model {
    /// `TABLE`, three slots (ids 1 and 2 are handed out; slot 0 is never used).
    table: [AtomicUsize; 3],
    next_id: AtomicU32,
    /// The call site's `id` field.
    id: AtomicU32,
}

impl Model {
    fn new() -> Model {
        Model {
            table: [
                AtomicUsize::new(0),
                AtomicUsize::new(0),
                AtomicUsize::new(0),
            ],
            next_id: AtomicU32::new(1),
            id: AtomicU32::new(UNREGISTERED),
        }
    }

    /// As `Callsite::id` and `register`.
    fn id(&self, slot_first: bool) -> u32 {
        let id = self.id.load(Ordering::Acquire);
        if id != UNREGISTERED {
            return id;
        }
        let mine = self.next_id.fetch_add(1, Ordering::Relaxed);
        if slot_first {
            self.table[mine as usize].store(CALLSITE, Ordering::Release);
        }
        let id =
            match self
                .id
                .compare_exchange(UNREGISTERED, mine, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => mine,
                Err(winner) => winner,
            };
        if !slot_first {
            // The slip: the id is visible before the slot that resolves it.
            self.table[mine as usize].store(CALLSITE, Ordering::Release);
        }
        id
    }

    /// As `lookup`.
    fn lookup(&self, id: u32) -> usize {
        self.table[id as usize].load(Ordering::Acquire)
    }
}

/// Two producers log through the call site for the first time; each publishes its record (the
/// id) through its own "ring" (Release on commit, Acquire on the drain's read, as rtrb does).
fn check_registration(slot_first: bool) {
    loom::model(move || {
        let model = Arc::new(Model::new());
        let rings: Arc<[AtomicU32; 2]> = Arc::new([AtomicU32::new(0), AtomicU32::new(0)]);
        let producers: Vec<_> = (0..2)
            .map(|n| {
                let model = model.clone();
                let rings = rings.clone();
                thread::spawn(move || {
                    let id = model.id(slot_first);
                    rings[n].store(id, Ordering::Release);
                    id
                })
            })
            .collect();
        // The drain reads whichever records have arrived and resolves their ids.
        for ring in rings.iter() {
            let id = ring.load(Ordering::Acquire);
            if id != 0 {
                assert_eq!(model.lookup(id), CALLSITE, "the drain met an unknown id");
            }
        }
        let ids: Vec<u32> = producers.into_iter().map(|p| p.join().unwrap()).collect();
        assert_eq!(ids[0], ids[1], "both threads use the same id");
        assert_eq!(model.lookup(ids[0]), CALLSITE);
    });
}

#[test]
fn racing_first_calls_agree_on_an_id_the_drain_can_resolve() {
    check_registration(true);
}

#[test]
#[should_panic(expected = "the drain met an unknown id")]
fn id_published_before_the_slot() {
    check_registration(false);
}
