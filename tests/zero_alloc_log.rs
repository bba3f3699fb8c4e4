//! A `log` record with key-values through `asynclog::log_compat` makes no heap allocation on the
//! calling thread after the first: typed key-values, a literal message, and a formatted message
//! with a `:%` value (formatted into the per-thread buffer, not a `String`).

#![cfg(feature = "log")]

#[path = "common/counting_alloc.rs"]
mod counting_alloc;

use asynclog::{Logger, NullSink};
use counting_alloc::{allocations, CountingAllocator};
use std::sync::Arc;

#[global_allocator]
static GLOBAL: CountingAllocator = CountingAllocator;

const CALLS: u64 = 100_000;

#[inline(never)]
fn record(order_id: u64, price: f64, symbol: &str, filled: bool) {
    log::info!(order_id, price, symbol, filled; "order filled");
}

#[inline(never)]
fn formatted_record(order_id: u64, symbol: &str) {
    log::warn!(shown:% = order_id; "slow fill of {} for {}", symbol, order_id);
}

#[test]
fn a_log_record_allocates_nothing_after_the_first() {
    let mut config = asynclog::Config::default();
    config.sinks.push(Box::new(NullSink));
    let logger = Arc::new(Logger::new(config).unwrap());
    asynclog::log_compat::init_with(logger.clone(), log::LevelFilter::Info).unwrap();
    record(0, 101.25, "AAPL", true);
    formatted_record(0, "AAPL");
    let before = allocations();
    for order_id in 1..=CALLS {
        record(order_id, 101.25, "AAPL", order_id % 2 == 0);
    }
    let plain = allocations() - before;
    let before = allocations();
    for order_id in 1..=CALLS {
        formatted_record(order_id, "AAPL");
    }
    let formatted = allocations() - before;
    assert_eq!(plain, 0, "{plain} allocations in {CALLS} records");
    assert_eq!(
        formatted, 0,
        "{formatted} allocations in {CALLS} formatted records"
    );
    logger.flush().unwrap();
    let stats = logger.stats();
    assert_eq!(stats.delivered, 2 * (CALLS + 1));
    logger.close().unwrap();
}
