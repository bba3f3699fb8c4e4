//! A flush that times out puts back the lost-batch errors it took. A second flush issued while
//! the first still waited covers the same lost batch; when it passed the failing sink before the
//! first gave up, and returns after, it must report the loss: `Ok` would claim every record it
//! covers was written ("`Error::Sink` naming the first sink that lost a batch since the last flush
//! that reported one"), and only a third flush would then report it.

#[path = "common/sinks.rs"]
mod sinks;

use asynclog::{Batch, Error, Logger, Sink, SinkError};
use sinks::{config_with, wait_until, Gate};
use std::io;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::SeqCst};
use std::sync::Arc;
use std::time::Duration;

const TIMEOUT: Duration = Duration::from_millis(600);

/// Fails every write while `failing` is set.
struct FlakySink {
    failing: Arc<AtomicBool>,
    flushes: Arc<AtomicU64>,
    closed: Arc<AtomicBool>,
}

impl Sink for FlakySink {
    fn name(&self) -> &str {
        "flaky"
    }

    fn write_batch(&mut self, _batch: &Batch) -> Result<(), SinkError> {
        if self.failing.load(SeqCst) {
            return Err(SinkError::io(
                "writing /var/log/flaky.jsonl",
                io::Error::other("No space left on device"),
            ));
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<(), SinkError> {
        self.flushes.fetch_add(1, SeqCst);
        Ok(())
    }

    fn close(&mut self) -> Result<(), SinkError> {
        self.closed.store(true, SeqCst);
        Ok(())
    }
}

/// Writes fine; `flush` waits at the gate.
struct SlowFlushSink {
    gate: Arc<Gate>,
}

impl Sink for SlowFlushSink {
    fn name(&self) -> &str {
        "slow"
    }

    fn write_batch(&mut self, _batch: &Batch) -> Result<(), SinkError> {
        Ok(())
    }

    fn flush(&mut self) -> Result<(), SinkError> {
        self.gate.pass();
        Ok(())
    }

    fn close(&mut self) -> Result<(), SinkError> {
        Ok(())
    }
}

#[test]
fn a_flush_issued_before_another_times_out_reports_the_loss_it_put_back() {
    let failing = Arc::new(AtomicBool::new(true));
    let flaky_flushes = Arc::new(AtomicU64::new(0));
    let gate = Gate::new();
    let flaky = FlakySink {
        failing: failing.clone(),
        flushes: flaky_flushes.clone(),
        closed: Arc::default(),
    };
    let slow = SlowFlushSink { gate: gate.clone() };
    let mut config = config_with(vec![Box::new(flaky), Box::new(slow)]);
    config.max_retries = 0;
    config.close_timeout = TIMEOUT;
    config.flush_interval = Duration::from_secs(3600);
    let logger = Arc::new(Logger::new(config).unwrap());

    // The flaky sink loses a batch.
    for i in 0..10u64 {
        asynclog::info!(logger, "r", i = i).unwrap();
    }
    assert!(wait_until(Duration::from_secs(5), || {
        logger.stats().sink("flaky").unwrap().failed_batches >= 1
    }));
    failing.store(false, SeqCst);

    // The first flush takes the lost batch's error at the flaky sink, then waits for the slow
    // sink's flush.
    let flush_in_thread = || {
        let logger = logger.clone();
        std::thread::spawn(move || logger.flush())
    };
    let first = flush_in_thread();
    assert!(wait_until(Duration::from_secs(5), || gate.waiting() == 1
        && flaky_flushes.load(SeqCst) == 1));
    // A second flush a while later passes the flaky sink (nothing left to take there) and
    // queues behind the first at the slow sink.
    std::thread::sleep(TIMEOUT / 2);
    let second = flush_in_thread();
    assert!(wait_until(Duration::from_secs(5), || flaky_flushes
        .load(SeqCst)
        == 2));

    // The first gives up, naming the slow sink, and puts the error back.
    match first.join().unwrap() {
        Err(Error::FlushTimedOut { sinks, .. }) => assert_eq!(sinks, ["slow"]),
        other => panic!("expected FlushTimedOut naming `slow`, got {other:?}"),
    }
    // The slow sink returns well before the second flush's timeout.
    gate.open();
    match second.join().unwrap() {
        Err(Error::Sink { sink, source }) => {
            assert_eq!(sink, "flaky");
            assert_eq!(
                source.to_string(),
                "writing /var/log/flaky.jsonl: No space left on device"
            );
        }
        other => panic!("the second flush covers the lost batch, yet returned {other:?}"),
    }
    // Reported once.
    logger
        .flush()
        .expect("the loss was reported by the second flush");
    logger.close().expect("nothing left to report");
}
