//! A sink that never returns from `write_batch` cannot hold `close` hostage: after
//! `Config::close_timeout`, `close` returns `Error::CloseTimedOut` naming it, having delivered
//! every record to every other sink, even when the hung sink holds more batches than the drain
//! keeps in flight.

use crate::sinks;

use asynclog::{Batch, Error, Logger, Sink, SinkError};
use sinks::{config_with, index, wait_until, CollectSink, Gate};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Blocks in every `write_batch` until its gate opens.
struct StuckSink {
    gate: Arc<Gate>,
}

impl Sink for StuckSink {
    fn name(&self) -> &str {
        "stuck"
    }

    fn write_batch(&mut self, _: &Batch) -> Result<(), SinkError> {
        self.gate.pass();
        Ok(())
    }
}

#[test]
fn close_gives_up_on_a_stuck_sink_after_the_timeout_and_the_others_get_everything() {
    const TIMEOUT: Duration = Duration::from_millis(300);
    const RECORDS: u64 = 200;
    let gate = Gate::new();
    let (healthy, healthy_seen) = CollectSink::new("healthy", index);
    let stuck = StuckSink { gate: gate.clone() };
    let mut config = config_with(vec![Box::new(stuck), Box::new(healthy)]);
    config.close_timeout = TIMEOUT;
    // Ten records per batch: 20 batches, more than the 8 the drain keeps in flight, so the
    // drain itself stalls behind the stuck sink before close.
    config.max_batch_records = 10;
    let logger = Logger::new(config).unwrap();
    for i in 0..RECORDS {
        asynclog::try_info!(logger, "r", i = i).unwrap();
    }
    assert!(wait_until(Duration::from_secs(5), || gate.waiting() == 1));

    let started = Instant::now();
    let result = logger.close();
    let took = started.elapsed();
    match result {
        Err(Error::CloseTimedOut { sinks, timeout }) => {
            assert_eq!(sinks, ["stuck"]);
            assert_eq!(timeout, TIMEOUT);
        }
        other => panic!("expected CloseTimedOut, got {other:?}"),
    }
    assert!(took >= TIMEOUT, "close returned after {took:?}");
    assert!(
        took < TIMEOUT + Duration::from_secs(2),
        "close took {took:?}"
    );
    let all: Vec<u64> = (0..RECORDS).collect();
    assert_eq!(*healthy_seen.lock().unwrap(), all);
    // Closing again is a no-op, and the stuck worker finishes once released.
    assert!(logger.close().is_ok());
    gate.open();
}

#[test]
fn a_zero_close_timeout_is_a_config_error() {
    let mut config = config_with(Vec::new());
    config.close_timeout = Duration::ZERO;
    match Logger::new(config) {
        Err(Error::Config { field, .. }) => assert_eq!(field, "close_timeout"),
        other => panic!("expected a config error, got {other:?}"),
    }
}
