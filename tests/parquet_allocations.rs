//! Allocations per batch in steady state, counted by a global allocator on the writing thread.
//! The column buffers are reused (one miss per file with the journal on), and the rest — Arrow's array and RecordBatch
//! wrappers, the parquet encoders' per-batch work, the journal's IPC framing — stays a small,
//! small number of allocations that grows with the pages the writer finishes, not with records. Run with `--nocapture`
//! to see the numbers.

#[path = "parquet_common/mod.rs"]
mod common;

use asynclog::{ParquetSink, ParquetSinkConfig, Sink};
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

struct Counting;

thread_local! {
    static ON: Cell<bool> = const { Cell::new(false) };
    static COUNT: Cell<(u64, u64)> = const { Cell::new((0, 0)) };
}

// SAFETY: every call is forwarded to `System` unchanged; counting only touches const-initialised
// thread-locals, which never allocate.
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
    let _ = ON.try_with(|on| {
        if on.get() {
            let _ = COUNT.try_with(|c| {
                let (n, b) = c.get();
                c.set((n + 1, b + bytes as u64));
            });
        }
    });
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Median (allocations, bytes) of one `write_batch` over `batches` batches after a warm-up.
fn measure(journal: bool, per_batch: usize) -> ((u64, u64), u64) {
    let dir = tempfile::tempdir().unwrap();
    let mut sink = ParquetSink::new(ParquetSinkConfig {
        file_path: dir.path().join("alloc"),
        // Row groups end only on flush here: this measures the per-batch path; ending a row
        // group (once per 64k rows by default) allocates its pages and metadata.
        row_group_rows: 1 << 30,
        journal,
        ..Default::default()
    })
    .unwrap();
    let batches: Vec<_> = (0..60)
        .map(|b| common::batches::varied_batch(b * per_batch as u64, per_batch))
        .collect();
    for batch in &batches[..20] {
        sink.write_batch(batch).unwrap();
    }
    let mut samples = Vec::new();
    for batch in &batches[20..] {
        COUNT.with(|c| c.set((0, 0)));
        ON.with(|on| on.set(true));
        sink.write_batch(batch).unwrap();
        ON.with(|on| on.set(false));
        samples.push(COUNT.with(|c| c.get()));
    }
    samples.sort();
    let misses = sink.buffer_reuse_misses();
    sink.close().unwrap();
    (samples[samples.len() / 2], misses)
}

#[test]
fn allocations_per_batch_are_few_and_independent_of_batch_size() {
    for journal in [false, true] {
        let (small, misses_small) = measure(journal, 1024);
        let (large, misses_large) = measure(journal, 8192);
        eprintln!(
            "journal {journal}: median per write_batch: 1024 records {} allocs / {} bytes; \
             8192 records {} allocs / {} bytes",
            small.0, small.1, large.0, large.1
        );
        // The journal's IPC dictionary tracker keeps the first batch's `level` column of each
        // file (to compare later dictionaries with), so that one buffer is not returned.
        let expected = u64::from(journal);
        assert_eq!(
            (misses_small, misses_large),
            (expected, expected),
            "column buffers were not reused"
        );
        // 128 KiB data pages: an 8192-record batch finishes about four pages, each a few
        // allocations (page buffer, compressed copy, header).
        assert!(large.0 < 200, "{} allocations per batch", large.0);
        // Nothing allocates per record: 8x the records, well under 8x the allocations (what
        // grows is the number of parquet pages finished per batch).
        assert!(large.0 < 3 * small.0, "{} vs {}", large.0, small.0);
    }
}
