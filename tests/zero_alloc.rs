//! "Zero allocation" checked, not claimed: a counting global allocator counts heap allocations
//! made by the calling thread while it logs.

use asynclog::{info, Logger, NullSink};
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

struct CountingAllocator;

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

#[global_allocator]
static GLOBAL: CountingAllocator = CountingAllocator;

fn allocations() -> u64 {
    ALLOCATIONS.with(Cell::get)
}

fn logger() -> Logger {
    let mut config = asynclog::Config::default();
    config.sinks.push(Box::new(NullSink));
    Logger::new(config).unwrap()
}

const CALLS: u64 = 100_000;

#[test]
fn the_macro_path_allocates_nothing_after_the_first_call() {
    let logger = logger();
    let (price, symbol) = (101.25, "AAPL");
    info!(
        logger,
        "order filled",
        order_id = 0u64,
        price = price,
        symbol = symbol
    )
    .unwrap();
    let before = allocations();
    for order_id in 1..=CALLS {
        info!(
            logger,
            "order filled",
            order_id = order_id,
            price = price,
            symbol = symbol
        )
        .unwrap();
    }
    let made = allocations() - before;
    logger.flush().unwrap();
    assert_eq!(made, 0, "{made} allocations in {CALLS} calls");
    assert_eq!(
        logger.stats().delivered,
        CALLS + 1,
        "and every record arrived"
    );
}

#[test]
fn an_explicit_producer_allocates_nothing() {
    let logger = logger();
    let mut producer = logger.producer().unwrap();
    let before = allocations();
    for order_id in 0..CALLS {
        info!(
            producer,
            "order filled",
            order_id = order_id,
            price = 101.25,
            symbol = "AAPL"
        )
        .unwrap();
    }
    let made = allocations() - before;
    logger.flush().unwrap();
    assert_eq!(made, 0, "{made} allocations in {CALLS} calls");
    assert_eq!(logger.stats().delivered, CALLS);
}

#[test]
fn preallocate_makes_even_the_first_call_allocation_free() {
    let logger = logger();
    logger.preallocate().unwrap();
    let before = allocations();
    info!(logger, "first", order_id = 1u64).unwrap();
    assert_eq!(allocations() - before, 0);
}

#[test]
fn the_counter_does_count() {
    // Guards the test itself: an allocation on this thread must register.
    let before = allocations();
    let v = std::hint::black_box(vec![1u8; 10]);
    drop(v);
    assert_eq!(allocations() - before, 1);
}
