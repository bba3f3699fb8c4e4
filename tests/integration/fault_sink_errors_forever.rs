//! A sink whose every call fails with an I/O error. Each batch is retried `max_retries` times,
//! then counted and reported to `on_batch_failed` (never silently lost); the failing sink costs
//! only its own worker's time, so the healthy sink and the log calls are unaffected; `flush` and
//! `close` return the error, naming the sink and the path: a flush reports the write error of
//! the batches lost since the previous flush before its own failure to flush.

use crate::sinks;

use asynclog::{Batch, Error, Logger, Sink, SinkError};
use sinks::{config_with, CollectSink};
use std::io;
use std::sync::{Arc, Mutex};

struct BrokenSink;

fn disk_full(what: &str) -> SinkError {
    SinkError::io(
        format!("{what} /var/log/app.jsonl"),
        io::Error::other("No space left on device"),
    )
}

impl Sink for BrokenSink {
    fn name(&self) -> &str {
        "broken"
    }

    fn write_batch(&mut self, _batch: &Batch) -> Result<(), SinkError> {
        Err(disk_full("writing"))
    }

    fn flush(&mut self) -> Result<(), SinkError> {
        Err(disk_full("flushing"))
    }

    fn close(&mut self) -> Result<(), SinkError> {
        Err(disk_full("closing"))
    }
}

fn assert_broken(error: &Error, action: &str) {
    match error {
        Error::Sink { sink, source } => {
            assert_eq!(sink, "broken");
            assert_eq!(source.io_kind(), Some(io::ErrorKind::Other));
            assert_eq!(
                error.to_string(),
                format!("sink `broken`: {action} /var/log/app.jsonl: No space left on device")
            );
        }
        other => panic!("expected the broken sink's error, got {other:?}"),
    }
}

#[test]
fn a_sink_failing_forever_is_retried_counted_and_reported_while_the_rest_carry_on() {
    const RECORDS: u64 = 1_000;
    let failures = Arc::new(Mutex::new(Vec::new()));
    let (healthy, seen) = CollectSink::new("healthy", |r| r.message.to_owned());
    let mut config = config_with(vec![Box::new(BrokenSink), Box::new(healthy)]);
    config.max_retries = 3;
    config.max_batch_records = 100;
    let record = failures.clone();
    config.hooks =
        asynclog::Hooks::default().on_batch_failed(move |sink, records, error, attempts| {
            assert_eq!(error.io_kind(), Some(io::ErrorKind::Other));
            record
                .lock()
                .unwrap()
                .push((sink.to_owned(), records, attempts));
        });
    let logger = Logger::new(config).unwrap();

    for i in 0..RECORDS {
        logger.info(&format!("m{i}"), &[]).unwrap();
    }
    assert_broken(&logger.flush().expect_err("flush fails"), "writing");
    assert_eq!(seen.lock().unwrap().len() as u64, RECORDS);
    // Still accepting and delivering after the failures.
    logger.info("after", &[]).unwrap();
    assert_broken(&logger.flush().expect_err("flush fails"), "writing");
    assert_eq!(
        seen.lock().unwrap().last().map(String::as_str),
        Some("after")
    );

    let stats = logger.stats();
    let broken = stats.sink("broken").unwrap();
    let healthy = stats.sink("healthy").unwrap();
    assert_eq!(healthy.written_records, RECORDS + 1);
    assert_eq!(broken.written_records, 0);
    assert_eq!(broken.failed_records, RECORDS + 1);
    assert_eq!(broken.failed_batches, healthy.written_batches);
    assert_eq!(broken.retries, 3 * broken.failed_batches);
    assert_eq!(broken.failed_flushes, 2);
    assert_eq!(stats.dropped, 0, "sink failures are not log-call drops");
    assert_eq!(stats.hook_panics, 0, "an assertion inside the hook failed");

    let failures = failures.lock().unwrap();
    assert_eq!(failures.len() as u64, broken.failed_batches);
    assert_eq!(
        failures.iter().map(|f| f.1 as u64).sum::<u64>(),
        RECORDS + 1
    );
    assert!(failures
        .iter()
        .all(|(sink, _, attempts)| sink == "broken" && *attempts == 4));

    assert_broken(&logger.close().expect_err("close fails"), "flushing");
    assert_eq!(logger.stats().sink("broken").unwrap().failed_flushes, 4);
    assert!(
        logger.close().is_ok(),
        "a second close has nothing left to fail"
    );
}
