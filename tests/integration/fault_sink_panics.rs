//! A sink that panics in every method: each panic is caught and counted as that sink's failure
//! (retried like an error, reported to `on_batch_failed` as `SinkError::Panicked` with the panic
//! message, and named in the `Error::Sink` that `flush` and `close` return: a flush names the
//! lost batches' write panic, `close` its own flush's panic), while the healthy
//! sink beside it gets every record and the logger keeps working.

use crate::sinks;

use asynclog::{Batch, Error, Logger, Sink, SinkError};
use sinks::{config_with, owned, CollectSink};
use std::sync::{Arc, Mutex};

struct PanickingSink;

impl Sink for PanickingSink {
    fn name(&self) -> &str {
        "panicky"
    }

    fn write_batch(&mut self, batch: &Batch) -> Result<(), SinkError> {
        panic!("write_batch blew up on {} records", batch.len());
    }

    fn flush(&mut self) -> Result<(), SinkError> {
        panic!("flush blew up");
    }

    fn close(&mut self) -> Result<(), SinkError> {
        std::panic::panic_any(42u32); // a payload that is not a string
    }
}

fn assert_names_panicky(error: &Error, expected_message: &str) {
    match error {
        Error::Sink {
            sink,
            source: SinkError::Panicked(message),
        } => {
            assert_eq!(sink, "panicky");
            assert_eq!(message, expected_message);
        }
        other => panic!("expected a panicked `panicky` sink, got {other:?}"),
    }
}

#[test]
fn a_panicking_sink_is_a_counted_failure_and_the_others_keep_going() {
    let failures = Arc::new(Mutex::new(Vec::new()));
    let (healthy, seen) = CollectSink::new("healthy", owned);
    let mut config = config_with(vec![Box::new(PanickingSink), Box::new(healthy)]);
    config.max_retries = 2;
    config.max_batch_records = 10;
    let record = failures.clone();
    config.hooks =
        asynclog::Hooks::default().on_batch_failed(move |sink, records, error, attempts| {
            record
                .lock()
                .unwrap()
                .push((sink.to_owned(), records, error.to_string(), attempts));
        });
    let logger = Logger::new(config).unwrap();

    for round in 0..3u64 {
        for i in 0..25u64 {
            asynclog::try_info!(logger, "event", round = round, i = i).unwrap();
        }
        let error = logger.flush().expect_err("the panicking sink lost batches");
        // The last lost batch's panic: its record count depends on how the drain split them.
        let message = match &error {
            Error::Sink {
                source: SinkError::Panicked(message),
                ..
            } => message.clone(),
            other => panic!("expected a panicked `panicky` sink, got {other:?}"),
        };
        assert!(message.starts_with("write_batch blew up on "), "{message}");
        assert_names_panicky(&error, &message);
        assert!(error.to_string().contains("panicky"), "{error}");
        // The healthy sink has every record so far, in order.
        assert_eq!(seen.lock().unwrap().len() as u64, (round + 1) * 25);
    }

    let stats = logger.stats();
    let panicky = stats.sink("panicky").unwrap();
    let healthy = stats.sink("healthy").unwrap();
    assert_eq!(healthy.written_records, 75);
    assert_eq!((healthy.failed_batches, healthy.failed_flushes), (0, 0));
    assert_eq!(panicky.written_records, 0);
    assert_eq!(panicky.failed_records, 75);
    assert_eq!(panicky.failed_batches, healthy.written_batches);
    assert_eq!(panicky.retries, 2 * panicky.failed_batches);
    assert_eq!(panicky.failed_flushes, 3);

    let failures = failures.lock().unwrap();
    assert_eq!(failures.len() as u64, panicky.failed_batches);
    let failed_records: usize = failures.iter().map(|f| f.1).sum();
    assert_eq!(failed_records, 75);
    for (sink, records, error, attempts) in failures.iter() {
        assert_eq!(sink, "panicky");
        assert_eq!(*attempts, 3, "1 try + 2 retries");
        assert_eq!(
            error,
            &format!("sink panicked: write_batch blew up on {records} records")
        );
    }

    // close reports the first failure (the final flush); the close panic is counted too.
    let error = logger
        .close()
        .expect_err("the panicking sink's close fails");
    assert_names_panicky(&error, "flush blew up");
    assert_eq!(logger.stats().sink("panicky").unwrap().failed_flushes, 5);
    // Closed for good, despite the failure.
    assert!(logger.is_closed());
    assert!(matches!(logger.close(), Ok(())));
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 75);
    assert_eq!(seen[74].message, "event");
}
