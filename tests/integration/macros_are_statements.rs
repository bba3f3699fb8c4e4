//! Every logging macro is a statement: no `unused_must_use` (this file denies warnings), and a
//! record the logger does not take is counted in the stats and reported to the hook instead of
//! returned. The `try_` forms return the same outcome as a `Result`.

#![deny(warnings)]

use crate::common;

use asynclog::{
    debug, error, fatal, info, log, trace, try_info, warn, Backpressure, Config, Hooks, Level,
    LogError, Logger,
};
use common::Collector;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

#[test]
fn every_macro_is_a_statement_and_every_record_arrives() {
    let collector = Collector::default();
    let mut config = Config::default();
    config.sinks.push(collector.sink("collect"));
    let logger = Logger::new(config).unwrap();
    let mut producer = logger.producer().unwrap();
    let name = String::from("dyn");

    trace!(logger, "t", n = 1u64);
    debug!(logger, "d", n = 2u64);
    info!(logger, "i", n = 3u64);
    warn!(logger, "w", n = 4u64);
    error!(logger, "e", n = 5u64);
    log!(logger, Level::Info, "l", n = 6u64);
    info!(logger, name.as_str(), n = 7u64); // a non-literal message: the general path
    info!(producer, "p", n = 8u64);
    fatal!(logger, "f", n = 9u64); // logs, then flushes

    logger.close().unwrap();
    let mut got_sorted: Vec<(Level, String)> = collector
        .records()
        .iter()
        .map(|r| (r.level, r.message.clone()))
        .collect();
    got_sorted.sort_by(|a, b| a.1.cmp(&b.1));
    let mut expected = vec![
        (Level::Trace, "t".to_owned()),
        (Level::Debug, "d".to_owned()),
        (Level::Info, "i".to_owned()),
        (Level::Warn, "w".to_owned()),
        (Level::Error, "e".to_owned()),
        (Level::Info, "l".to_owned()),
        (Level::Info, "dyn".to_owned()),
        (Level::Info, "p".to_owned()),
        (Level::Fatal, "f".to_owned()),
    ];
    expected.sort_by(|a, b| a.1.cmp(&b.1));
    assert_eq!(got_sorted, expected);
}

#[test]
fn a_dropped_statement_is_counted_and_reported_and_try_returns_it() {
    let hooked = Arc::new(AtomicU64::new(0));
    let seen = hooked.clone();
    let hooks = Hooks::default().on_message_dropped(move |_| {
        seen.fetch_add(1, Ordering::Relaxed);
    });
    // A one-unit ring (128 bytes) under Drop: a record larger than it is refused every time.
    let logger = Logger::new(
        Config::default()
            .with_buffer_size(1)
            .with_backpressure(Backpressure::Drop)
            .with_hooks(hooks),
    )
    .unwrap();
    let big = "x".repeat(200);

    info!(logger, "too large", payload = big.as_str());
    assert_eq!(logger.stats().dropped, 1);
    assert_eq!(hooked.load(Ordering::Relaxed), 1);

    let outcome = try_info!(logger, "too large", payload = big.as_str());
    assert!(
        matches!(outcome, Err(LogError::TooLarge { .. })),
        "{outcome:?}"
    );
    assert_eq!(logger.stats().dropped, 2);
    assert_eq!(hooked.load(Ordering::Relaxed), 2);
}

#[test]
fn a_statement_after_close_is_counted_as_refused() {
    let logger = Logger::new(Config::default()).unwrap();
    logger.close().unwrap();
    info!(logger, "late", n = 1u64);
    warn!(logger, "late too");
    assert_eq!(logger.stats().refused, 2);
    assert!(matches!(
        try_info!(logger, "late", n = 2u64),
        Err(LogError::Closed)
    ));
    assert_eq!(logger.stats().refused, 3);
    assert_eq!(logger.stats().dropped, 0);
}
