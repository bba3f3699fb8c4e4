//! A flush that times out puts back the lost-batch errors it took, and the next flush with a
//! caller that covers the lost batch reports it, even one that had already passed the failing
//! sink when the error was put back:
//! - a second `flush` issued while the first still waited must not return `Ok` (that claims every
//!   record it covers was written; only a third flush would then report the loss);
//! - a `close` from another thread meanwhile must report it, or nobody ever does.
//!
//! The same holds for a sink's flush error that a flush which gave up had (its own, or one a
//! periodic flush kept for the next caller).

use crate::sinks;

use asynclog::{Batch, Error, Logger, Sink, SinkError};
use sinks::{config_with, wait_until, Gate};
use std::io;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::SeqCst};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

const TIMEOUT: Duration = Duration::from_millis(600);

/// Fails every write while `failing` is set.
#[derive(Default)]
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
}

/// The scenario up to the point both tests share: the flaky sink has lost a batch, and a first
/// flush, on its own thread, has taken that loss at the flaky sink and waits at the slow one.
struct FirstFlushWaiting {
    logger: Arc<Logger>,
    gate: Arc<Gate>,
    flaky_flushes: Arc<AtomicU64>,
    flaky_closed: Arc<AtomicBool>,
    first: JoinHandle<Result<(), Error>>,
}

fn first_flush_waiting() -> FirstFlushWaiting {
    let flaky = FlakySink {
        failing: Arc::new(AtomicBool::new(true)),
        ..Default::default()
    };
    let (failing, flaky_flushes, flaky_closed) = (
        flaky.failing.clone(),
        flaky.flushes.clone(),
        flaky.closed.clone(),
    );
    let gate = Gate::new();
    let slow = SlowFlushSink { gate: gate.clone() };
    let mut config = config_with(vec![Box::new(flaky), Box::new(slow)]);
    config.max_retries = 0;
    config.close_timeout = TIMEOUT;
    config.flush_interval = Duration::from_secs(3600);
    let logger = Arc::new(Logger::new(config).unwrap());

    for i in 0..10u64 {
        asynclog::try_info!(logger, "r", i = i).unwrap();
    }
    assert!(wait_until(Duration::from_secs(5), || {
        logger.stats().sink("flaky").unwrap().failed_batches >= 1
    }));
    failing.store(false, SeqCst);

    let first = flush_in_thread(&logger);
    assert!(wait_until(Duration::from_secs(5), || gate.waiting() == 1
        && flaky_flushes.load(SeqCst) == 1));
    FirstFlushWaiting {
        logger,
        gate,
        flaky_flushes,
        flaky_closed,
        first,
    }
}

fn flush_in_thread(logger: &Arc<Logger>) -> JoinHandle<Result<(), Error>> {
    let logger = logger.clone();
    std::thread::spawn(move || logger.flush())
}

/// The first flush gives up, naming the slow sink (and puts the loss back).
fn assert_timed_out_on_slow(first: JoinHandle<Result<(), Error>>) {
    match first.join().unwrap() {
        Err(Error::FlushTimedOut { sinks, .. }) => assert_eq!(sinks, ["slow"]),
        other => panic!("expected FlushTimedOut naming `slow`, got {other:?}"),
    }
}

fn assert_reports_flaky_loss(result: Result<(), Error>, who: &str) {
    match result {
        Err(Error::Sink { sink, source }) => {
            assert_eq!(sink, "flaky");
            assert_eq!(
                source.to_string(),
                "writing /var/log/flaky.jsonl: No space left on device"
            );
        }
        other => panic!("{who} covers the lost batch, yet returned {other:?}"),
    }
}

#[test]
fn a_flush_issued_before_another_times_out_reports_the_loss_it_put_back() {
    let s = first_flush_waiting();
    // A second flush a while later passes the flaky sink (nothing left to take there) and
    // queues behind the first at the slow sink.
    std::thread::sleep(TIMEOUT / 2);
    let second = flush_in_thread(&s.logger);
    assert!(wait_until(Duration::from_secs(5), || s
        .flaky_flushes
        .load(SeqCst)
        == 2));
    assert_timed_out_on_slow(s.first);
    // The slow sink returns well before the second flush's timeout.
    s.gate.open();
    assert_reports_flaky_loss(second.join().unwrap(), "the second flush");
    // Reported once.
    s.logger
        .flush()
        .expect("the loss was reported by the second flush");
    s.logger.close().expect("nothing left to report");
}

#[test]
fn close_reports_a_lost_batch_that_a_timed_out_flush_put_back() {
    let s = first_flush_waiting();
    // Another thread closes a while later: close's flush passes the flaky sink (and closes it)
    // while the first flush still waits.
    std::thread::sleep(TIMEOUT / 2);
    let closer = {
        let logger = s.logger.clone();
        std::thread::spawn(move || logger.close())
    };
    assert!(wait_until(Duration::from_secs(5), || s
        .flaky_closed
        .load(SeqCst)));
    assert_timed_out_on_slow(s.first);
    // The slow sink returns well before close's own timeout.
    s.gate.open();
    assert_reports_flaky_loss(closer.join().unwrap(), "close");
}

/// Its first `flush` fails; the rest succeed.
#[derive(Default)]
struct FirstFlushFails {
    flushes: Arc<AtomicU64>,
}

impl Sink for FirstFlushFails {
    fn name(&self) -> &str {
        "first-flush-fails"
    }

    fn write_batch(&mut self, _batch: &Batch) -> Result<(), SinkError> {
        Ok(())
    }

    fn flush(&mut self) -> Result<(), SinkError> {
        if self.flushes.fetch_add(1, SeqCst) == 0 {
            return Err(SinkError::io(
                "syncing /var/log/app.jsonl",
                io::Error::other("Input/output error"),
            ));
        }
        Ok(())
    }
}

#[test]
fn a_periodic_flush_error_taken_by_a_flush_that_times_out_is_reported_by_the_next() {
    let failing = FirstFlushFails::default();
    let flushes = failing.flushes.clone();
    let gate = Gate::new();
    let slow = SlowFlushSink { gate: gate.clone() };
    let mut config = config_with(vec![Box::new(failing), Box::new(slow)]);
    config.close_timeout = TIMEOUT;
    config.flush_interval = Duration::from_millis(20);
    let logger = Arc::new(Logger::new(config).unwrap());
    asynclog::try_info!(logger, "r").unwrap();
    // A periodic flush fails at the first sink (nobody to tell: kept for the next caller) and
    // waits at the slow one.
    assert!(wait_until(Duration::from_secs(5), || {
        logger
            .stats()
            .sink("first-flush-fails")
            .unwrap()
            .failed_flushes
            == 1
            && gate.waiting() == 1
    }));
    // A flush with a caller takes the kept error at the first sink, then gives up at the slow one.
    let first = flush_in_thread(&logger);
    assert!(wait_until(Duration::from_secs(5), || flushes.load(SeqCst) >= 2));
    assert_timed_out_on_slow(first);
    gate.open();
    match logger.flush() {
        Err(Error::Sink { sink, source }) => {
            assert_eq!(sink, "first-flush-fails");
            assert_eq!(
                source.to_string(),
                "syncing /var/log/app.jsonl: Input/output error"
            );
        }
        other => panic!("the flush error nobody was told of is lost: {other:?}"),
    }
    // Once.
    logger.flush().unwrap();
    logger.close().unwrap();
}

/// The first flush with a caller has failed at `first-flush-fails` and waits at the slow sink.
struct FailedFlushWaiting {
    logger: Arc<Logger>,
    gate: Arc<Gate>,
    flushes: Arc<AtomicU64>,
    first: JoinHandle<Result<(), Error>>,
}

fn failed_flush_waiting() -> FailedFlushWaiting {
    let failing = FirstFlushFails::default();
    let flushes = failing.flushes.clone();
    let gate = Gate::new();
    let slow = SlowFlushSink { gate: gate.clone() };
    let mut config = config_with(vec![Box::new(failing), Box::new(slow)]);
    config.close_timeout = TIMEOUT;
    config.flush_interval = Duration::from_secs(3600);
    let logger = Arc::new(Logger::new(config).unwrap());
    asynclog::try_info!(logger, "r").unwrap();
    let first = flush_in_thread(&logger);
    assert!(wait_until(Duration::from_secs(5), || flushes.load(SeqCst)
        == 1
        && gate.waiting() == 1));
    FailedFlushWaiting {
        logger,
        gate,
        flushes,
        first,
    }
}

fn assert_reports_failed_flush(result: Result<(), Error>, who: &str) {
    match result {
        Err(Error::Sink { sink, source }) => {
            assert_eq!(sink, "first-flush-fails");
            assert_eq!(
                source.to_string(),
                "syncing /var/log/app.jsonl: Input/output error"
            );
        }
        other => panic!("{who} covers the failed flush, yet returned {other:?}"),
    }
}

#[test]
fn a_flush_issued_before_another_times_out_reports_the_flush_error_it_gave_up_on() {
    let FailedFlushWaiting {
        logger,
        gate,
        flushes,
        first,
    } = failed_flush_waiting();
    // A second flush passes the failing sink (its flush succeeds now) while the first waits.
    std::thread::sleep(TIMEOUT / 2);
    let second = flush_in_thread(&logger);
    assert!(wait_until(Duration::from_secs(5), || flushes.load(SeqCst) == 2));
    assert_timed_out_on_slow(first);
    gate.open();
    assert_reports_failed_flush(second.join().unwrap(), "the second flush");
    // Once.
    logger.flush().unwrap();
    logger.close().unwrap();
}

#[test]
fn close_reports_a_flush_error_that_a_timed_out_flush_gave_up_on() {
    let FailedFlushWaiting {
        logger,
        gate,
        flushes,
        first,
    } = failed_flush_waiting();
    // Close's flush passes the failing sink while the first flush waits.
    std::thread::sleep(TIMEOUT / 2);
    let closer = {
        let logger = logger.clone();
        std::thread::spawn(move || logger.close())
    };
    assert!(wait_until(Duration::from_secs(5), || flushes.load(SeqCst) == 2));
    assert_timed_out_on_slow(first);
    gate.open();
    assert_reports_failed_flush(closer.join().unwrap(), "close");
}
