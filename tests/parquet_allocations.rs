//! Allocations per batch in steady state, counted by a global allocator on every thread (the
//! writing thread and the sink's encoder thread). The column buffers are reused (one miss per
//! file with the journal on), and the rest — Arrow's array and RecordBatch wrappers, the parquet
//! encoders' per-batch work, the journal's IPC framing, the encoder queue — stays a small number
//! of allocations that grows with the pages the writer finishes, not with records. Run with
//! `--nocapture` to see the numbers.
#![cfg(feature = "parquet")]

#[path = "parquet_common/mod.rs"]
mod common;

use asynclog::{ParquetSink, ParquetSinkConfig, Sink};
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};

struct Counting;

static ON: AtomicBool = AtomicBool::new(false);
static COUNT: AtomicU64 = AtomicU64::new(0);
static BYTES: AtomicU64 = AtomicU64::new(0);

// SAFETY: every call is forwarded to `System` unchanged; counting only touches atomics.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count(layout.size());
        // SAFETY: forwarded with the caller's layout.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System` with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count(new_size);
        // SAFETY: forwarded unchanged.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

fn count(bytes: usize) {
    if ON.load(Relaxed) {
        COUNT.fetch_add(1, Relaxed);
        BYTES.fetch_add(bytes as u64, Relaxed);
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Mean (allocations, bytes) per `write_batch` over 40 batches after a warm-up, on every thread,
/// and the buffer reuse misses. With the encoder thread, the window counts the encoding of 40
/// batches too (the one queued before it began instead of the last one queued in it).
fn measure(journal: bool, encode_thread: bool, per_batch: usize) -> ((u64, u64), u64) {
    let dir = tempfile::tempdir().unwrap();
    // Row groups end only on flush here: this measures the per-batch path; ending a row
    // group (once per 64k rows by default) allocates its pages and metadata.
    let mut sink = ParquetSink::with_config(
        ParquetSinkConfig::new(dir.path().join("alloc"))
            .with_row_group_rows(1 << 30)
            .with_journal(journal)
            .with_encode_thread(encode_thread),
    )
    .unwrap();
    let batches: Vec<_> = (0..60)
        .map(|b| common::batches::varied_batch(b * per_batch as u64, per_batch))
        .collect();
    for batch in &batches[..20] {
        sink.write_batch(batch).unwrap();
    }
    let measured = &batches[20..];
    COUNT.store(0, Relaxed);
    BYTES.store(0, Relaxed);
    ON.store(true, Relaxed);
    for batch in measured {
        sink.write_batch(batch).unwrap();
    }
    ON.store(false, Relaxed);
    let n = measured.len() as u64;
    let mean = (COUNT.load(Relaxed) / n, BYTES.load(Relaxed) / n);
    let misses = sink.buffer_reuse_misses();
    sink.close().unwrap();
    (mean, misses)
}

#[test]
fn allocations_per_batch_are_few_and_independent_of_batch_size() {
    for journal in [false, true] {
        for encode_thread in [false, true] {
            let (small, misses_small) = measure(journal, encode_thread, 1024);
            let (large, misses_large) = measure(journal, encode_thread, 8192);
            eprintln!(
                "journal {journal}, encoder thread {encode_thread}: mean per write_batch: \
                 1024 records {} allocs / {} bytes; 8192 records {} allocs / {} bytes",
                small.0, small.1, large.0, large.1
            );
            // The journal's IPC dictionary tracker keeps the first batch's `level` column of
            // each file (to compare later dictionaries with), so that one buffer is not returned.
            let expected = u64::from(journal);
            assert_eq!(
                (misses_small, misses_large),
                (expected, expected),
                "column buffers were not reused"
            );
            // 128 KiB data pages: an 8192-record batch finishes about four pages, each a few
            // allocations (page buffer, compressed copy, header).
            assert!(large.0 < 200, "{} allocations per batch", large.0);
            // Nothing allocates per record: 8x the records, well under 8x the allocations
            // (what grows is the number of parquet pages finished per batch).
            assert!(large.0 < 3 * small.0, "{} vs {}", large.0, small.0);
        }
    }
}
