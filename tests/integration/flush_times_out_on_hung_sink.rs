//! A sink that never returns from `write_batch` cannot hold `flush` (or `fatal`) hostage: after
//! `Config::close_timeout`, `flush` returns `Error::FlushTimedOut` naming it, the other sink
//! having received and flushed every record. The hung sink's worker keeps its work: once the
//! sink returns, a later flush is `Ok` with every record delivered; while it still hangs, later
//! flushes time out again and `close` reports it with `Error::CloseTimedOut`.

use crate::sinks;

use asynclog::{Batch, Error, LogError, Logger, Sink, SinkError};
use sinks::{config_with, index, wait_until, Gate};
use std::sync::atomic::{AtomicU64, Ordering::SeqCst};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

const TIMEOUT: Duration = Duration::from_millis(200);

/// Collects record indices; `write_batch` first passes the gate (when it has one).
struct TestSink {
    name: &'static str,
    gate: Option<Arc<Gate>>,
    seen: Arc<Mutex<Vec<u64>>>,
    flushes: Arc<AtomicU64>,
}

impl Sink for TestSink {
    fn name(&self) -> &str {
        self.name
    }

    fn write_batch(&mut self, batch: &Batch) -> Result<(), SinkError> {
        if let Some(gate) = &self.gate {
            gate.pass();
        }
        let mut seen = self.seen.lock().unwrap();
        seen.extend(batch.iter().map(|r| index(&r)));
        Ok(())
    }

    fn flush(&mut self) -> Result<(), SinkError> {
        self.flushes.fetch_add(1, SeqCst);
        Ok(())
    }
}

struct Setup {
    logger: Arc<Logger>,
    gate: Arc<Gate>,
    stuck_seen: Arc<Mutex<Vec<u64>>>,
    healthy_seen: Arc<Mutex<Vec<u64>>>,
    healthy_flushes: Arc<AtomicU64>,
}

fn setup(max_batch_records: usize) -> Setup {
    let gate = Gate::new();
    let stuck_seen = Arc::new(Mutex::new(Vec::new()));
    let healthy_seen = Arc::new(Mutex::new(Vec::new()));
    let healthy_flushes = Arc::new(AtomicU64::new(0));
    let stuck = TestSink {
        name: "stuck",
        gate: Some(gate.clone()),
        seen: stuck_seen.clone(),
        flushes: Arc::default(),
    };
    let healthy = TestSink {
        name: "healthy",
        gate: None,
        seen: healthy_seen.clone(),
        flushes: healthy_flushes.clone(),
    };
    let mut config = config_with(vec![Box::new(stuck), Box::new(healthy)]);
    config.close_timeout = TIMEOUT;
    config.max_batch_records = max_batch_records;
    // No periodic flush during the test: every healthy flush counted is the caller's.
    config.flush_interval = Duration::from_secs(3600);
    Setup {
        logger: Arc::new(Logger::new(config).unwrap()),
        gate,
        stuck_seen,
        healthy_seen,
        healthy_flushes,
    }
}

/// Runs `f` on another thread and waits for it a bounded time, so that a call that hangs (the
/// defect) fails the test instead of hanging it.
fn bounded<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> (T, Duration) {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let started = Instant::now();
        let result = f();
        let _ = tx.send((result, started.elapsed()));
    });
    rx.recv_timeout(TIMEOUT + Duration::from_secs(5))
        .expect("the call did not return: it is not bounded by close_timeout")
}

fn assert_timed_out(error: &Error) {
    match error {
        Error::FlushTimedOut { sinks, timeout } => {
            assert_eq!(sinks, &["stuck"]);
            assert_eq!(*timeout, TIMEOUT);
        }
        other => panic!("expected FlushTimedOut naming `stuck`, got {other:?}"),
    }
}

fn log(logger: &Logger, range: std::ops::Range<u64>) {
    for i in range {
        asynclog::try_info!(logger, "r", i = i).unwrap();
    }
}

#[test]
fn flush_and_fatal_give_up_after_the_timeout_and_a_flush_after_recovery_is_ok() {
    let s = setup(1000);
    log(&s.logger, 0..50);
    assert!(wait_until(Duration::from_secs(5), || s.gate.waiting() == 1));

    let logger = s.logger.clone();
    let (result, took) = bounded(move || logger.flush());
    assert_timed_out(&result.expect_err("flush must time out"));
    assert!(took >= TIMEOUT, "flush returned after {took:?}");
    // The healthy sink got every record and was flushed, within the wait.
    assert_eq!(*s.healthy_seen.lock().unwrap(), (0..50).collect::<Vec<_>>());
    assert_eq!(s.healthy_flushes.load(SeqCst), 1);

    // `fatal` logs, then flushes under the same bound, and says why the flush failed.
    let logger = s.logger.clone();
    let (result, _) = bounded(move || logger.fatal("dying", &[asynclog::Field::new("i", 50u64)]));
    match result {
        Err(LogError::FlushFailed(error)) => assert_timed_out(&error),
        other => panic!("expected FlushFailed(FlushTimedOut), got {other:?}"),
    }
    assert_eq!(*s.healthy_seen.lock().unwrap(), (0..51).collect::<Vec<_>>());
    assert_eq!(s.healthy_flushes.load(SeqCst), 2);

    // The sink returns: its worker still has every batch, and the next flush is Ok.
    s.gate.open();
    let logger = s.logger.clone();
    let (result, _) = bounded(move || logger.flush());
    result.expect("flush after the sink recovered");
    let all: Vec<u64> = (0..51).collect();
    assert_eq!(*s.stuck_seen.lock().unwrap(), all);
    assert_eq!(*s.healthy_seen.lock().unwrap(), all);
    s.logger.close().unwrap();
}

#[test]
fn while_the_sink_still_hangs_later_flushes_time_out_and_close_names_it() {
    let s = setup(1000);
    log(&s.logger, 0..20);
    assert!(wait_until(Duration::from_secs(5), || s.gate.waiting() == 1));
    let logger = s.logger.clone();
    assert_timed_out(&bounded(move || logger.flush()).0.unwrap_err());

    log(&s.logger, 20..40);
    let logger = s.logger.clone();
    assert_timed_out(&bounded(move || logger.flush()).0.unwrap_err());
    assert_eq!(*s.healthy_seen.lock().unwrap(), (0..40).collect::<Vec<_>>());

    let logger = s.logger.clone();
    match bounded(move || logger.close()).0 {
        Err(Error::CloseTimedOut { sinks, timeout }) => {
            assert_eq!(sinks, ["stuck"]);
            assert_eq!(timeout, TIMEOUT);
        }
        other => panic!("expected CloseTimedOut, got {other:?}"),
    }
    assert_eq!(*s.healthy_seen.lock().unwrap(), (0..40).collect::<Vec<_>>());
    assert!(s.stuck_seen.lock().unwrap().is_empty());
    s.gate.open();
}

#[test]
fn a_hang_that_stalls_the_drain_still_times_out_naming_the_hung_sink() {
    // One record per batch: the hung sink holds every batch in flight (8), the drain waits for
    // one and cannot even take the flush request to the workers.
    let s = setup(1);
    log(&s.logger, 0..20);
    assert!(wait_until(Duration::from_secs(5), || s.gate.waiting() == 1));
    assert!(wait_until(Duration::from_secs(5), || {
        s.healthy_seen.lock().unwrap().len() >= 7
    }));
    let logger = s.logger.clone();
    assert_timed_out(&bounded(move || logger.flush()).0.unwrap_err());

    s.gate.open();
    let logger = s.logger.clone();
    bounded(move || logger.flush())
        .0
        .expect("flush after the sink recovered");
    let all: Vec<u64> = (0..20).collect();
    assert_eq!(*s.stuck_seen.lock().unwrap(), all);
    assert_eq!(*s.healthy_seen.lock().unwrap(), all);
    s.logger.close().unwrap();
}
