//! Configuration values at the edges: `Logger::new` refuses values past the limits with
//! `Error::Config` naming the field, and panics on nothing (not even on overflowing sizes); the
//! largest and smallest valid values work.

use crate::sinks;

use asynclog::config::{MAX_RING_BYTES, RING_BYTES_PER_MESSAGE};
use asynclog::{Config, Error, LogError, Logger};
use sinks::{config_with, owned, CollectSink};
use std::time::Duration;

fn refused(config: Config) -> (&'static str, String) {
    match Logger::new(config) {
        Err(error @ Error::Config { field, .. }) => (field, error.to_string()),
        Err(other) => panic!("expected a config error, got {other:?}"),
        Ok(_) => panic!("an invalid config was accepted"),
    }
}

fn with(change: impl FnOnce(&mut Config)) -> Config {
    let mut config = Config::default();
    change(&mut config);
    config
}

#[test]
fn values_at_and_past_the_limits_are_refused_without_overflow() {
    // config_errors.rs covers each field's ordinary bad value; these are the edges.
    let cases: Vec<(&str, Config)> = vec![
        (
            "buffer_size",
            with(|c| c.buffer_size = MAX_RING_BYTES / RING_BYTES_PER_MESSAGE + 1),
        ),
        // buffer_size × 128 would overflow: it saturates and is refused, not wrapped.
        ("buffer_size", with(|c| c.buffer_size = usize::MAX)),
        (
            "max_batch_records",
            with(|c| c.max_batch_records = i32::MAX as usize / 64 + 1),
        ),
        (
            "max_batch_records",
            with(|c| c.max_batch_records = usize::MAX),
        ),
    ];
    for (want, config) in cases {
        let debug = format!("{config:?}");
        let (field, message) = refused(config);
        assert_eq!(field, want, "for {debug}");
        assert!(
            message.starts_with(&format!("invalid config: `{want}` ")),
            "{message}"
        );
    }
    // The largest accepted values start a logger (rings are allocated only when a thread logs).
    let mut config = Config::default();
    config.buffer_size = MAX_RING_BYTES / RING_BYTES_PER_MESSAGE;
    config.max_batch_records = i32::MAX as usize / 64;
    Logger::new(config).unwrap().close().unwrap();
}

#[test]
fn the_smallest_valid_values_work() {
    let (sink, seen) = CollectSink::new("collect", owned);
    let mut config = config_with(vec![Box::new(sink)]);
    config.buffer_size = 1; // a 128-byte ring
    config.max_workers = 1;
    config.max_batch_records = 1;
    config.max_retries = 0;
    config.retry_delay = Duration::ZERO;
    config.flush_interval = Duration::from_nanos(1);
    let logger = Logger::new(config).unwrap();
    for i in 0..100u64 {
        asynclog::try_info!(logger, "tiny", i = i).unwrap();
    }
    // A record larger than the whole ring is refused with both sizes, not blocked on forever.
    match logger.info(&"x".repeat(200), &[]) {
        Err(LogError::TooLarge { size, capacity }) => assert_eq!((size, capacity), (220, 128)),
        other => panic!("expected TooLarge, got {other:?}"),
    }
    logger.close().unwrap();
    assert_eq!(seen.lock().unwrap().len(), 100);
    let stats = logger.stats();
    assert_eq!(
        (stats.buffered, stats.dropped, stats.delivered),
        (100, 1, 100)
    );
    assert_eq!(stats.batches, 100, "max_batch_records = 1");
}

#[test]
fn more_workers_than_sinks_and_no_sinks_at_all_are_fine() {
    let mut config = Config::default();
    config.max_workers = 1_000;
    let logger = Logger::new(config).unwrap();
    logger.info("nowhere to go", &[]).unwrap();
    logger.flush().unwrap();
    logger.close().unwrap();
    assert_eq!(logger.stats().delivered, 1);
}

#[test]
fn a_retry_delay_close_could_not_wait_out_is_refused() {
    // A sink that fails once would sleep this long before its retry, so `flush` and `close`
    // (bounded by `close_timeout`) would give up on it with the batch it holds.
    for (delay, timeout) in [
        (Duration::MAX, Duration::from_secs(10)),
        (Duration::from_secs(10), Duration::from_secs(10)),
        (Duration::MAX, Duration::MAX),
    ] {
        let (field, message) = refused(with(|c| {
            c.retry_delay = delay;
            c.close_timeout = timeout;
        }));
        assert_eq!(field, "retry_delay");
        assert!(message.contains("close_timeout"), "{message}");
    }
    // Without retries the delay is never waited.
    let mut config = Config::default();
    config.max_retries = 0;
    config.retry_delay = Duration::MAX;
    Logger::new(config).unwrap().close().unwrap();
    // Just under the timeout is fine.
    let mut config = Config::default();
    config.retry_delay = config.close_timeout - Duration::from_nanos(1);
    Logger::new(config).unwrap().close().unwrap();
}
