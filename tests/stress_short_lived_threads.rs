//! 10,000 short-lived threads each log once. Every record arrives, every thread's ring is freed
//! once the drain has emptied it, and the process's live heap returns to its baseline (a
//! counting global allocator measures it: a leaked ring is at least its 8 KiB buffer here, so
//! 10,000 of them could not hide under the tolerance).

#[path = "common/sinks.rs"]
mod sinks;

use asynclog::{Logger, Value};
use sinks::{config_with, wait_until, CollectSink};
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering::Relaxed};
use std::sync::Arc;
use std::time::Duration;

/// Counts live heap bytes.
struct Counting;

static LIVE_BYTES: AtomicIsize = AtomicIsize::new(0);

// SAFETY: defers every call to `System`, adding bookkeeping only.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller upholds `GlobalAlloc::alloc`'s contract, which we pass on.
        let ptr = unsafe { System.alloc(layout) };
        if !ptr.is_null() {
            LIVE_BYTES.fetch_add(layout.size() as isize, Relaxed);
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as for `alloc`; `ptr` came from `System` with this layout.
        unsafe { System.dealloc(ptr, layout) };
        LIVE_BYTES.fetch_sub(layout.size() as isize, Relaxed);
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as for `alloc`.
        let ptr = unsafe { System.alloc_zeroed(layout) };
        if !ptr.is_null() {
            LIVE_BYTES.fetch_add(layout.size() as isize, Relaxed);
        }
        ptr
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: as for `alloc`; `ptr` came from `System` with `layout`.
        let new = unsafe { System.realloc(ptr, layout, new_size) };
        if !new.is_null() {
            LIVE_BYTES.fetch_add(new_size as isize - layout.size() as isize, Relaxed);
        }
        new
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

const THREADS: u64 = 10_000;
/// Threads alive at once (spawned, then joined, a wave at a time).
const WAVE: u64 = 100;
/// 64 × 128 bytes: an 8 KiB ring per thread.
const BUFFER_SIZE: usize = 64;
/// What the heap may grow by over its baseline and keep: the drain's pool of batches can grow to
/// its 8 batches after the warm-up (about 512 KiB of arena each, 4 MiB in all, seen under load),
/// plus vectors that grew. Leaking the rings of the 9,000 threads after the warm-up would be at
/// least 9,000 × 8 KiB = 72 MiB.
const TOLERANCE: isize = 16 << 20;

/// Spawns threads `from..to` in waves; each logs `t = index` once and exits.
fn run_threads(logger: &Arc<Logger>, from: u64, to: u64) {
    for wave in (from..to).step_by(WAVE as usize) {
        let threads: Vec<_> = (wave..(wave + WAVE).min(to))
            .map(|t| {
                let logger = logger.clone();
                std::thread::spawn(move || {
                    asynclog::try_info!(logger, "hello", t = t).expect("log");
                })
            })
            .collect();
        for thread in threads {
            thread.join().unwrap();
        }
    }
}

fn settle(logger: &Logger) {
    logger.flush().unwrap();
    assert!(
        wait_until(Duration::from_secs(10), || logger.live_rings() == 0),
        "{} rings of exited threads were never freed",
        logger.live_rings()
    );
}

#[test]
fn every_record_arrives_and_every_ring_is_freed() {
    let (sink, seen) = CollectSink::new("collect", |r| match r.fields.clone().next() {
        Some(("t", Value::U64(t))) => t,
        other => panic!("unexpected field {other:?}"),
    });
    let mut config = config_with(vec![Box::new(sink)]);
    config.buffer_size = BUFFER_SIZE;
    let logger = Arc::new(Logger::new(config).unwrap());

    // Warm up: let batches, worker queues and the drain's vectors reach their working size.
    let warm_up = 1_000;
    run_threads(&logger, 0, warm_up);
    settle(&logger);
    let baseline = LIVE_BYTES.load(Relaxed);

    run_threads(&logger, warm_up, THREADS);
    settle(&logger);
    let after = LIVE_BYTES.load(Relaxed);

    let mut got = seen.lock().unwrap().clone();
    got.sort_unstable();
    assert_eq!(
        got,
        (0..THREADS).collect::<Vec<_>>(),
        "lost or duplicated records"
    );
    let stats = logger.stats();
    assert_eq!(
        (stats.buffered, stats.delivered, stats.dropped),
        (THREADS, THREADS, 0)
    );
    assert!(
        after - baseline < TOLERANCE,
        "live heap grew by {} bytes over {} threads (baseline {baseline}, after {after})",
        after - baseline,
        THREADS - warm_up
    );
    logger.close().unwrap();
}
