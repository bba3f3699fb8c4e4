//! A global allocator that counts the heap allocations each thread makes, shared by
//! `tests/zero_alloc.rs` and `benches/peers.rs` (each includes this file with
//! `#[path = ...] mod counting_alloc;` and installs it itself):
//!
//! ```ignore
//! #[global_allocator]
//! static GLOBAL: counting_alloc::CountingAllocator = counting_alloc::CountingAllocator;
//! ```
//!
//! Counting costs every allocation one thread-local add; frees are not counted.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

/// Forwards to [`System`], counting `alloc`, `alloc_zeroed` and `realloc` calls per thread.
pub struct CountingAllocator;

thread_local! {
    /// Allocations made by this thread. A const-initialised `Cell` needs no destructor, so the
    /// allocator can touch it at any time.
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

fn count() {
    let _ = ALLOCATIONS.try_with(|c| c.set(c.get() + 1));
}

// SAFETY: every method forwards to `System` unchanged; counting touches only a thread-local Cell.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count();
        // SAFETY: forwarded with the caller's guarantees.
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count();
        // SAFETY: forwarded with the caller's guarantees.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count();
        // SAFETY: forwarded with the caller's guarantees.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded with the caller's guarantees.
        unsafe { System.dealloc(ptr, layout) }
    }
}

/// Allocations the calling thread has made so far (while the allocator is installed).
pub fn allocations() -> u64 {
    ALLOCATIONS.with(Cell::get)
}
