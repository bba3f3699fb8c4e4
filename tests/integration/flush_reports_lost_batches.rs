//! A batch a sink lost (its write failed on every attempt) makes the next flush with a caller
//! (`flush`, `fatal`) return `Error::Sink` naming that sink with the last write error, even when
//! a periodic flush came in between; each lost batch is reported once, so once the sink writes
//! again the flushes after that report are `Ok`. The healthy sink gets every record throughout.

use crate::sinks;

use asynclog::{Batch, Error, LogError, Logger, Sink, SinkError};
use sinks::{config_with, index, wait_until, CollectSink};
use std::io;
use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Fails every write while `failing` is set; collects record indices otherwise.
struct FlakySink {
    failing: Arc<AtomicBool>,
    seen: Arc<Mutex<Vec<u64>>>,
}

impl Sink for FlakySink {
    fn name(&self) -> &str {
        "flaky"
    }

    fn write_batch(&mut self, batch: &Batch) -> Result<(), SinkError> {
        if self.failing.load(SeqCst) {
            return Err(SinkError::io(
                "writing /var/log/flaky.jsonl",
                io::Error::other("No space left on device"),
            ));
        }
        let mut seen = self.seen.lock().unwrap();
        seen.extend(batch.iter().map(|r| index(&r)));
        Ok(())
    }
}

fn assert_lost(error: &Error) {
    match error {
        Error::Sink { sink, source } => {
            assert_eq!(sink, "flaky");
            assert_eq!(source.io_kind(), Some(io::ErrorKind::Other));
            assert_eq!(
                error.to_string(),
                "sink `flaky`: writing /var/log/flaky.jsonl: No space left on device"
            );
        }
        other => panic!("expected the flaky sink's write error, got {other:?}"),
    }
}

fn log(logger: &Logger, range: std::ops::Range<u64>) {
    for i in range {
        asynclog::try_info!(logger, "r", i = i).unwrap();
    }
}

#[test]
fn the_next_flush_reports_a_lost_batch_once_and_later_flushes_are_ok() {
    let failing = Arc::new(AtomicBool::new(true));
    let flaky_seen = Arc::new(Mutex::new(Vec::new()));
    let flaky = FlakySink {
        failing: failing.clone(),
        seen: flaky_seen.clone(),
    };
    let (healthy, healthy_seen) = CollectSink::new("healthy", index);
    let mut config = config_with(vec![Box::new(flaky), Box::new(healthy)]);
    config.max_retries = 2;
    config.flush_interval = Duration::from_millis(10);
    config.close_timeout = Duration::from_secs(2);
    let logger = Logger::new(config).unwrap();
    let failed_batches = || logger.stats().sink("flaky").unwrap().failed_batches;

    // A batch is lost, then a periodic flush passes before anyone calls `flush`.
    log(&logger, 0..10);
    assert!(wait_until(Duration::from_secs(5), || failed_batches() >= 1));
    let flushes = logger.stats().flushes;
    assert!(wait_until(Duration::from_secs(5), || logger
        .stats()
        .flushes
        >= flushes + 2));
    failing.store(false, SeqCst);
    assert_lost(&logger.flush().expect_err("the lost batch is reported"));
    assert_eq!(*healthy_seen.lock().unwrap(), (0..10).collect::<Vec<_>>());
    assert!(flaky_seen.lock().unwrap().is_empty());

    // Reported once: the sink writes again, and the next flushes are Ok.
    log(&logger, 10..20);
    logger.flush().expect("no batch lost since the last report");
    logger.flush().expect("still nothing lost");
    assert_eq!(*flaky_seen.lock().unwrap(), (10..20).collect::<Vec<_>>());
    assert_eq!(*healthy_seen.lock().unwrap(), (0..20).collect::<Vec<_>>());

    // `fatal` reports a loss the same way, through its flush.
    failing.store(true, SeqCst);
    log(&logger, 20..25);
    let lost_before = failed_batches();
    match logger.fatal("dying", &[asynclog::Field::new("i", 25u64)]) {
        Err(LogError::FlushFailed(error)) => assert_lost(&error),
        other => panic!("expected FlushFailed(Sink), got {other:?}"),
    }
    assert!(failed_batches() > lost_before);
    failing.store(false, SeqCst);
    logger.flush().expect("the loss was reported by fatal");
    assert_eq!(*healthy_seen.lock().unwrap(), (0..26).collect::<Vec<_>>());
    logger.close().unwrap();
}
