//! Every invalid configuration value is refused with an error naming the field.

use asynclog::{Config, ConsoleSink, Error, Logger};
use std::time::Duration;

fn rejected(config: Config) -> (&'static str, String) {
    match Logger::new(config) {
        Err(Error::Config { field, reason }) => (field, reason),
        other => panic!("expected a config error, got {other:?}"),
    }
}

#[test]
fn each_bad_value_names_its_field() {
    let (field, _) = rejected(Config::default().with_buffer_size(0));
    assert_eq!(field, "buffer_size");
    let (field, reason) = rejected(Config::default().with_buffer_size(usize::MAX / 2));
    assert_eq!(field, "buffer_size");
    assert!(reason.contains("2 GiB"), "{reason}");
    let (field, _) = rejected(Config::default().with_max_workers(0));
    assert_eq!(field, "max_workers");
    let (field, _) = rejected(Config::default().with_flush_interval(Duration::ZERO));
    assert_eq!(field, "flush_interval");
    let (field, _) = rejected(Config::default().with_max_batch_records(0));
    assert_eq!(field, "max_batch_records");

    let mut twins = Config::default();
    twins.sinks.push(Box::new(ConsoleSink::new(false)));
    twins.sinks.push(Box::new(ConsoleSink::new(false)));
    let (field, reason) = rejected(twins);
    assert_eq!(field, "sinks");
    assert!(reason.contains("console:stdout"), "{reason}");

    let mut nameless = Config::default();
    nameless
        .sinks
        .push(Box::new(ConsoleSink::new(true).with_name("")));
    assert_eq!(rejected(nameless).0, "sinks");
}

#[test]
fn the_error_message_names_the_field() {
    let err = Logger::new(Config::default().with_max_workers(0)).unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid config: `max_workers` must be at least 1"
    );
}

#[test]
fn defaults_are_the_reference_values() {
    let c = Config::default();
    assert_eq!(c.buffer_size, 1000);
    assert_eq!(c.max_workers, 10);
    assert_eq!(c.backpressure, asynclog::Backpressure::Block);
    assert_eq!(c.max_retries, 3);
    assert_eq!(c.retry_delay, Duration::from_millis(100));
    assert_eq!(c.flush_interval, Duration::from_secs(5));
    assert!(c.sinks.is_empty());
    assert_eq!(c.min_level, asynclog::Level::Trace);
}
