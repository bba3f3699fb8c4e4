//! A `tracing` event through `AsyncLogLayer` makes no heap allocation on the calling thread after
//! its call site's first event: primitive and `&str` fields, a formatted message with `%` and
//! `?` values (formatted into the per-thread buffer, not a `String`), and an event inside spans
//! with fields (the spans' fields are stored when the span is made).

#![cfg(feature = "tracing")]

#[path = "common/counting_alloc.rs"]
mod counting_alloc;

use asynclog::tracing::AsyncLogLayer;
use asynclog::{Logger, NullSink};
use counting_alloc::{allocations, CountingAllocator};
use std::sync::Arc;
use tracing_subscriber::layer::SubscriberExt;

#[global_allocator]
static GLOBAL: CountingAllocator = CountingAllocator;

const CALLS: u64 = 100_000;

#[inline(never)]
fn event(order_id: u64, price: f64, symbol: &str, filled: bool) {
    tracing::info!(order_id, price, symbol, filled, "order filled");
}

#[inline(never)]
fn formatted_event(order_id: u64, symbol: &str) {
    let side = ("buy", Some(2u8));
    tracing::warn!(shown = %order_id, side = ?side, "slow fill of {} for {}", symbol, order_id);
}

#[test]
fn a_tracing_event_allocates_nothing_after_the_first() {
    let mut config = asynclog::Config::default();
    config.sinks.push(Box::new(NullSink));
    let logger = Arc::new(Logger::new(config).unwrap());
    let subscriber = tracing_subscriber::registry().with(AsyncLogLayer::new(logger.clone()));
    tracing::subscriber::with_default(subscriber, || {
        event(0, 101.25, "AAPL", true);
        formatted_event(0, "AAPL");
        let before = allocations();
        for order_id in 1..=CALLS {
            event(order_id, 101.25, "AAPL", order_id % 2 == 0);
        }
        let plain = allocations() - before;
        let before = allocations();
        for order_id in 1..=CALLS {
            formatted_event(order_id, "AAPL");
        }
        let formatted = allocations() - before;

        let request = tracing::info_span!("request", request_id = 42u64, path = "/fill");
        let _request = request.enter();
        let fill = tracing::info_span!("fill", venue = %"XNAS", attempt = 1u64);
        let _fill = fill.enter();
        event(0, 101.25, "AAPL", true);
        let before = allocations();
        for order_id in 1..=CALLS {
            event(order_id, 101.25, "AAPL", order_id % 2 == 0);
        }
        let in_spans = allocations() - before;

        assert_eq!(plain, 0, "{plain} allocations in {CALLS} plain events");
        assert_eq!(
            formatted, 0,
            "{formatted} allocations in {CALLS} formatted events"
        );
        assert_eq!(
            in_spans, 0,
            "{in_spans} allocations in {CALLS} events inside spans"
        );
    });
    logger.flush().unwrap();
    let stats = logger.stats();
    assert_eq!(stats.delivered, 3 * (CALLS + 1));
    assert_eq!(stats.dropped, 0);
    logger.close().unwrap();
}
