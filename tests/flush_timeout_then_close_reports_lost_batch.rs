//! A flush that times out puts back the lost-batch errors it took, so a later flush with a
//! caller reports them. `close` is such a flush: when it started while the timed-out flush was
//! still waiting (another thread closes while one thread's flush hangs on a slow sink), its
//! final flush has already passed the failing sink when the timed-out flush puts the error
//! back, and the lost batch must still be reported, by `close`, not by nobody.

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
fn close_reports_a_lost_batch_that_a_timed_out_flush_put_back() {
    let failing = Arc::new(AtomicBool::new(true));
    let flaky_flushes = Arc::new(AtomicU64::new(0));
    let flaky_closed = Arc::new(AtomicBool::new(false));
    let gate = Gate::new();
    let flaky = FlakySink {
        failing: failing.clone(),
        flushes: flaky_flushes.clone(),
        closed: flaky_closed.clone(),
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

    // One thread's flush takes the lost batch's error at the flaky sink, then waits for the
    // slow sink's flush.
    let flusher = {
        let logger = logger.clone();
        std::thread::spawn(move || logger.flush())
    };
    assert!(wait_until(Duration::from_secs(5), || gate.waiting() == 1
        && flaky_flushes.load(SeqCst) == 1));

    // Another thread closes a while later: close's flush passes the flaky sink (and closes it)
    // while the first flush still waits.
    std::thread::sleep(TIMEOUT / 2);
    let closer = {
        let logger = logger.clone();
        std::thread::spawn(move || logger.close())
    };
    assert!(wait_until(Duration::from_secs(5), || flaky_closed.load(SeqCst)));

    // The first flush gives up, naming the slow sink, and puts the error back.
    match flusher.join().unwrap() {
        Err(Error::FlushTimedOut { sinks, .. }) => assert_eq!(sinks, ["slow"]),
        other => panic!("expected FlushTimedOut naming `slow`, got {other:?}"),
    }
    // The slow sink returns well before close's own timeout.
    gate.open();
    match closer.join().unwrap() {
        Err(Error::Sink { sink, source }) => {
            assert_eq!(sink, "flaky");
            assert_eq!(
                source.to_string(),
                "writing /var/log/flaky.jsonl: No space left on device"
            );
        }
        other => panic!("the lost batch was never reported: close returned {other:?}"),
    }
}
