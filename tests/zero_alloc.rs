//! "Zero allocation" checked, not claimed: a counting global allocator counts heap allocations
//! made by the calling thread while it logs.

#[path = "common/counting_alloc.rs"]
mod counting_alloc;

use asynclog::{info, try_info, Logger, NullSink};
use counting_alloc::{allocations, CountingAllocator};

#[global_allocator]
static GLOBAL: CountingAllocator = CountingAllocator;

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
    try_info!(
        logger,
        "order filled",
        order_id = 0u64,
        price = price,
        symbol = symbol
    )
    .unwrap();
    let before = allocations();
    for order_id in 1..=CALLS {
        try_info!(
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
fn statements_and_message_templates_allocate_nothing() {
    // The statement form, and a message naming its fields: the template stays in the call
    // site's static and the primitive arguments travel as typed fields, so nothing is formatted
    // (or allocated) on this thread.
    let logger = logger();
    info!(
        logger,
        "filled {qty} lots of {symbol} at {px}",
        qty = 0u64,
        symbol = "AAPL",
        px = 1.5
    );
    let before = allocations();
    for qty in 1..=CALLS {
        info!(
            logger,
            "filled {qty} lots of {symbol} at {px}",
            qty = qty,
            symbol = "AAPL",
            px = 1.5
        );
        info!(logger, "order filled", order_id = qty);
    }
    let made = allocations() - before;
    logger.flush().unwrap();
    assert_eq!(made, 0, "{made} allocations in {} calls", 2 * CALLS);
    assert_eq!(logger.stats().delivered, 2 * CALLS + 1);
}

#[test]
fn an_explicit_producer_allocates_nothing() {
    let logger = logger();
    let mut producer = logger.producer().unwrap();
    let before = allocations();
    for order_id in 0..CALLS {
        try_info!(
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
    try_info!(logger, "first", order_id = 1u64).unwrap();
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
