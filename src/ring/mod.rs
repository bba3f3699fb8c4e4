//! What the calling thread and the drain share: the record encoding, the clock, the close fence,
//! and the registry through which a new producer's ring reaches the drain.

pub mod barrier;
pub mod callsite;
pub mod clock;
pub(crate) mod copy;
pub mod record;

use crate::os;
use crossbeam_utils::CachePadded;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

/// Counters owned by one producer. Only the producer writes them, so an increment is a relaxed
/// load and store (no locked instruction); readers (`Logger::stats`) may see a slightly old value.
/// Each sits on its own cache line so the drain reading one never slows the producer writing the
/// other.
#[derive(Debug, Default)]
pub struct RingCounters {
    buffered: CachePadded<AtomicU64>,
    dropped: CachePadded<AtomicU64>,
}

impl RingCounters {
    /// One more record accepted. Only the owning producer may call this.
    #[inline(always)]
    pub fn add_buffered(&self) {
        let c = &self.buffered;
        c.store(c.load(Ordering::Relaxed) + 1, Ordering::Relaxed);
    }

    /// One more record refused. Only the owning producer may call this.
    #[inline]
    pub fn add_dropped(&self) {
        let c = &self.dropped;
        c.store(c.load(Ordering::Relaxed) + 1, Ordering::Relaxed);
    }

    fn totals(&self) -> (u64, u64) {
        (
            self.buffered.load(Ordering::Relaxed),
            self.dropped.load(Ordering::Relaxed),
        )
    }
}

/// The drain's end of a new ring.
pub struct RingHandle {
    /// Reads records out of the ring.
    pub consumer: rtrb::Consumer<u8>,
    /// The producer's counters (for retiring them when the ring goes).
    pub counters: Arc<RingCounters>,
    /// Stamped on every record from this ring.
    pub thread_id: u64,
}

#[derive(Default)]
struct RegistryInner {
    /// Rings registered since the drain last looked.
    pending: Vec<RingHandle>,
    /// Counters of every ring not yet retired, for `stats()`.
    live: Vec<Arc<RingCounters>>,
    retired_buffered: u64,
    retired_dropped: u64,
}

/// Hands new rings to the drain and keeps the producers' counters for `stats()`. Registration
/// happens once per producer, so a mutex is fine here; the flag lets the drain skip the lock on
/// every pass when nothing is new.
#[derive(Default)]
pub struct Registry {
    inner: Mutex<RegistryInner>,
    has_pending: AtomicBool,
}

impl Registry {
    fn lock(&self) -> MutexGuard<'_, RegistryInner> {
        // Nothing inside can be left half-updated by a panic, so a poisoned lock is still usable.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Makes a new ring visible to the drain.
    pub fn register(&self, handle: RingHandle) {
        let mut inner = self.lock();
        inner.live.push(handle.counters.clone());
        inner.pending.push(handle);
        // Release pairs with the Acquire in `take_pending`; the mutex orders the list itself.
        self.has_pending.store(true, Ordering::Release);
    }

    /// Moves rings registered since the last call into `into`.
    pub fn take_pending(&self, into: &mut Vec<RingHandle>) {
        if self.has_pending.load(Ordering::Acquire) {
            let mut inner = self.lock();
            self.has_pending.store(false, Ordering::Relaxed);
            into.append(&mut inner.pending);
        }
    }

    /// Forgets a ring whose producer is gone, keeping its counts.
    pub fn retire(&self, counters: &Arc<RingCounters>) {
        let mut inner = self.lock();
        if let Some(pos) = inner.live.iter().position(|c| Arc::ptr_eq(c, counters)) {
            let gone = inner.live.swap_remove(pos);
            let (buffered, dropped) = gone.totals();
            inner.retired_buffered += buffered;
            inner.retired_dropped += dropped;
        }
    }

    /// Rings registered and not yet retired (their producer is alive, or the drain has not yet
    /// emptied and freed them).
    pub fn live_rings(&self) -> usize {
        self.lock().live.len()
    }

    /// `(buffered, dropped)` over every producer this logger ever had.
    pub fn totals(&self) -> (u64, u64) {
        let inner = self.lock();
        inner.live.iter().fold(
            (inner.retired_buffered, inner.retired_dropped),
            |(b, d), c| {
                let (cb, cd) = c.totals();
                (b + cb, d + cd)
            },
        )
    }
}

/// The calling thread's id as stamped on records: the Linux thread id (`gettid`) where there is
/// one, else a process-wide sequence number. Cached per thread.
pub fn current_thread_id() -> u64 {
    use std::cell::Cell;
    thread_local! {
        static ID: Cell<u64> = const { Cell::new(0) };
    }
    ID.with(|id| {
        if id.get() == 0 {
            id.set(os::thread_id().unwrap_or_else(|| {
                static NEXT: AtomicU64 = AtomicU64::new(1);
                NEXT.fetch_add(1, Ordering::Relaxed)
            }));
        }
        id.get()
    })
}
