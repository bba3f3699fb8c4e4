//! Retry policy: a sink that fails twice then succeeds gets each batch once; one that always fails
//! yields `on_batch_failed` with attempts = max_retries + 1 while another sink gets every batch,
//! and the next `flush` or `close` reports the lost batches, naming the sink.

use crate::common;
use asynclog::{Batch, Error, Hooks, Logger, Sink, SinkError};
use common::*;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Fails the first `failures` attempts of every batch, then records it.
struct Flaky {
    failures_per_batch: u32,
    attempts_this_batch: u32,
    out: Collector,
    attempts_total: Arc<AtomicU32>,
}

impl Sink for Flaky {
    fn name(&self) -> &str {
        "flaky"
    }
    fn write_batch(&mut self, batch: &Batch) -> Result<(), SinkError> {
        self.attempts_total.fetch_add(1, Ordering::SeqCst);
        if self.attempts_this_batch < self.failures_per_batch {
            self.attempts_this_batch += 1;
            return Err(SinkError::io(
                "writing flaky",
                std::io::Error::other("transient"),
            ));
        }
        self.attempts_this_batch = 0;
        self.out.records.lock().unwrap().extend(to_seen(batch));
        Ok(())
    }
}

struct Broken;
impl Sink for Broken {
    fn name(&self) -> &str {
        "broken"
    }
    fn write_batch(&mut self, _: &Batch) -> Result<(), SinkError> {
        Err(SinkError::io(
            "writing /nowhere",
            std::io::Error::from_raw_os_error(28),
        ))
    }
}

#[test]
fn a_sink_failing_twice_then_succeeding_gets_each_batch_once() {
    let out = Collector::default();
    let attempts = Arc::new(AtomicU32::new(0));
    let mut config = asynclog::Config::default();
    config.max_retries = 3;
    config.retry_delay = Duration::from_millis(1);
    config.sinks.push(Box::new(Flaky {
        failures_per_batch: 2,
        attempts_this_batch: 0,
        out: out.clone(),
        attempts_total: attempts.clone(),
    }));
    let logger = Logger::new(config).unwrap();
    for seq in 0..3u64 {
        asynclog::try_info!(logger, "r", producer = 0u64, seq = seq).unwrap();
        logger.flush().unwrap(); // one batch per record
    }
    logger.close().unwrap();
    assert_eq!(out.len(), 3, "each record exactly once");
    assert_per_producer_order(&out.records());
    assert_eq!(
        attempts.load(Ordering::SeqCst),
        9,
        "3 batches x (2 failures + 1 success)"
    );
    let stats = logger.stats();
    let flaky = stats.sink("flaky").unwrap();
    assert_eq!(
        (flaky.retries, flaky.failed_batches, flaky.written_batches),
        (6, 0, 3)
    );
}

#[test]
fn an_always_failing_sink_reports_and_the_other_sink_gets_everything() {
    let good = Collector::default();
    let failures = Arc::new(Mutex::new(Vec::new()));
    let mut config = asynclog::Config::default();
    config.max_retries = 2;
    config.retry_delay = Duration::from_millis(1);
    config.sinks.push(Box::new(Broken));
    config.sinks.push(good.sink("good"));
    let f = failures.clone();
    config.hooks = Hooks::default().on_batch_failed(move |sink, count, err, attempts| {
        f.lock().unwrap().push((
            sink.to_owned(),
            count,
            err.io_kind(),
            err.to_string(),
            attempts,
        ));
    });
    let logger = Logger::new(config).unwrap();
    for seq in 0..1_000u64 {
        asynclog::try_info!(logger, "r", producer = 0u64, seq = seq).unwrap();
    }
    // No flush since the batches were lost: close's final flush reports them.
    match logger.close() {
        Err(Error::Sink { sink, source }) => {
            assert_eq!(sink, "broken");
            assert!(source.to_string().contains("/nowhere"), "{source}");
        }
        other => panic!("expected the broken sink's lost batches, got {other:?}"),
    }

    assert_eq!(good.len(), 1_000);
    assert_per_producer_order(&good.records());
    let failures = failures.lock().unwrap();
    assert!(!failures.is_empty());
    let mut failed_records = 0;
    for (sink, count, kind, message, attempts) in failures.iter() {
        assert_eq!(sink, "broken");
        assert_eq!(*attempts, 3);
        assert_eq!(*kind, Some(std::io::ErrorKind::StorageFull));
        assert!(message.contains("/nowhere"), "{message}");
        failed_records += count;
    }
    assert_eq!(failed_records, 1_000);
    let stats = logger.stats();
    assert_eq!(stats.sink("broken").unwrap().failed_records, 1_000);
    assert_eq!(stats.sink("good").unwrap().written_records, 1_000);
}

#[test]
fn a_panicking_sink_counts_as_a_failed_write() {
    struct Panics;
    impl Sink for Panics {
        fn name(&self) -> &str {
            "panics"
        }
        fn write_batch(&mut self, _: &Batch) -> Result<(), SinkError> {
            panic!("sink bug");
        }
        fn flush(&mut self) -> Result<(), SinkError> {
            Ok(())
        }
        fn close(&mut self) -> Result<(), SinkError> {
            Ok(())
        }
    }
    let good = Collector::default();
    let errors = Arc::new(Mutex::new(Vec::new()));
    let mut config = asynclog::Config::default();
    config.max_retries = 0;
    config.sinks.push(Box::new(Panics));
    config.sinks.push(good.sink("good"));
    let e = errors.clone();
    config.hooks = Hooks::default().on_batch_failed(move |_, _, err, attempts| {
        e.lock().unwrap().push((err.to_string(), attempts));
    });
    let logger = Logger::new(config).unwrap();
    let assert_lost = |result: Result<(), Error>| match result {
        Err(Error::Sink { sink, source }) => {
            assert_eq!(sink, "panics");
            assert_eq!(source.to_string(), "sink panicked: sink bug");
        }
        other => panic!("expected the panicking sink's lost batch, got {other:?}"),
    };
    logger.info("a", &[]).unwrap();
    assert_lost(logger.flush());
    logger.info("b", &[]).unwrap();
    assert_lost(logger.close());
    assert_eq!(good.len(), 2);
    let errors = errors.lock().unwrap();
    assert_eq!(errors.len(), 2);
    assert_eq!(errors[0], ("sink panicked: sink bug".to_owned(), 1));
}
