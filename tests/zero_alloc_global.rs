//! A global-macro call (`info!("msg", k = v)` after `asynclog::init`) makes no heap allocation
//! on the calling thread after its first call, like a call through a `Logger`.

#[path = "common/counting_alloc.rs"]
mod counting_alloc;

use asynclog::{try_info, NullSink};
use counting_alloc::{allocations, CountingAllocator};

#[global_allocator]
static GLOBAL: CountingAllocator = CountingAllocator;

const CALLS: u64 = 100_000;

#[test]
fn the_global_macro_allocates_nothing_after_the_first_call() {
    let mut config = asynclog::Config::default();
    config.sinks.push(Box::new(NullSink));
    let guard = asynclog::init(config).unwrap();
    let (price, symbol) = (101.25, "AAPL");
    try_info!(
        "order filled",
        order_id = 0u64,
        price = price,
        symbol = symbol
    )
    .unwrap();
    let before = allocations();
    for order_id in 1..=CALLS {
        asynclog::info!(
            "order filled",
            order_id = order_id,
            price = price,
            symbol = symbol
        );
    }
    let made = allocations() - before;
    asynclog::flush_global().unwrap();
    assert_eq!(made, 0, "{made} allocations in {CALLS} calls");
    assert_eq!(guard.logger().stats().delivered, CALLS + 1);
}
