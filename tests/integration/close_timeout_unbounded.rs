//! `Config::close_timeout = Duration::MAX` ("wait as long as it takes") is accepted by
//! validation, so `close` must honour it: drain every record, flush and close every sink, and
//! return `Ok`, not trip over the deadline arithmetic.

use crate::common;
use asynclog::{try_info, Logger};
use common::*;
use std::sync::atomic::Ordering;
use std::time::Duration;

#[test]
fn close_with_an_unbounded_timeout_delivers_everything_and_closes_the_sinks() {
    let collector = Collector::default();
    let mut config = config_with(&collector);
    config.close_timeout = Duration::MAX;
    let logger = Logger::new(config).unwrap();
    for seq in 0..100u64 {
        try_info!(logger, "tick", seq = seq, producer = 0u64).unwrap();
    }
    let closed = logger.close();
    assert!(closed.is_ok(), "close: {closed:?}");
    let seen = collector.records();
    assert_eq!(seen.len(), 100);
    assert_per_producer_order(&seen);
    assert_eq!(
        collector.closes.load(Ordering::SeqCst),
        1,
        "the sink was closed"
    );
}
