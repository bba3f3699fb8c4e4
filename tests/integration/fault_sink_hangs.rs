//! A sink that hangs for seconds inside `write_batch`.
//!
//! - The other sinks keep receiving records while it hangs (each sink worker is its own thread),
//!   and log calls keep returning at once.
//! - `close` (and so `Drop`) waits up to `Config::close_timeout` (default 10 s, longer than this
//!   hang): it returns when the hung sink's write, final flush and close have returned, with
//!   every record delivered to every sink. The healthy sinks are flushed and closed without
//!   waiting for the hung one. A sink that outlasts the timeout is abandoned:
//!   `tests/integration/fault_close_timeout.rs`.
//! - The drain keeps at most a fixed number of batches in flight (8), shared by all sinks. A sink
//!   that hangs for longer than it takes to fill them stalls the others too, and then the log
//!   calls (under `Backpressure::Block`), until it returns or `close` begins; nothing is lost. The
//!   second test pins that behaviour down.

use crate::sinks;

use asynclog::{Batch, Logger, Sink, SinkError};
use sinks::{config_with, index, wait_until, CollectSink};
use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const HANG: Duration = Duration::from_secs(2);

/// Sleeps for `HANG` in its first `write_batch`, then writes like `CollectSink`.
struct HangingSink {
    hanging: Arc<AtomicBool>,
    hung_once: bool,
    seen: Arc<Mutex<Vec<u64>>>,
}

impl Sink for HangingSink {
    fn name(&self) -> &str {
        "hanging"
    }

    fn write_batch(&mut self, batch: &Batch) -> Result<(), SinkError> {
        if !self.hung_once {
            self.hung_once = true;
            self.hanging.store(true, SeqCst);
            std::thread::sleep(HANG);
            self.hanging.store(false, SeqCst);
        }
        self.seen
            .lock()
            .unwrap()
            .extend(batch.iter().map(|r| index(&r)));
        Ok(())
    }
}

struct Setup {
    logger: Arc<Logger>,
    hanging: Arc<AtomicBool>,
    hung_seen: Arc<Mutex<Vec<u64>>>,
    healthy_seen: Arc<Mutex<Vec<u64>>>,
}

fn setup(max_batch_records: usize) -> Setup {
    let hanging = Arc::new(AtomicBool::new(false));
    let hung_seen = Arc::new(Mutex::new(Vec::new()));
    let (healthy, healthy_seen) = CollectSink::new("healthy", index);
    let hung = HangingSink {
        hanging: hanging.clone(),
        hung_once: false,
        seen: hung_seen.clone(),
    };
    let mut config = config_with(vec![Box::new(hung), Box::new(healthy)]);
    config.max_batch_records = max_batch_records;
    Setup {
        logger: Arc::new(Logger::new(config).unwrap()),
        hanging,
        hung_seen,
        healthy_seen,
    }
}

#[test]
fn others_keep_going_and_close_waits_for_the_hung_sink() {
    let Setup {
        logger,
        hanging,
        hung_seen,
        healthy_seen,
    } = setup(64);
    let started = Instant::now();
    for i in 0..50u64 {
        asynclog::try_info!(logger, "before", i = i).unwrap();
    }
    assert!(
        wait_until(HANG / 4, || healthy_seen.lock().unwrap().len() == 50),
        "the healthy sink waited for the hung one"
    );
    assert!(hanging.load(SeqCst), "the hang should still be going on");
    // Log calls return at once, and their records reach the healthy sink, during the hang.
    for i in 50..100u64 {
        asynclog::try_info!(logger, "during", i = i).unwrap();
    }
    assert!(
        wait_until(HANG / 4, || healthy_seen.lock().unwrap().len() == 100),
        "the healthy sink stopped receiving during the hang"
    );
    assert!(hanging.load(SeqCst));
    assert!(hung_seen.lock().unwrap().is_empty());
    assert!(started.elapsed() < HANG);

    // close waits for the hang to end, then delivers everything everywhere.
    logger.close().unwrap();
    assert!(
        !hanging.load(SeqCst),
        "close returned while the sink still hung"
    );
    assert!(started.elapsed() >= HANG);
    let all: Vec<u64> = (0..100).collect();
    assert_eq!(*hung_seen.lock().unwrap(), all);
    assert_eq!(*healthy_seen.lock().unwrap(), all);
}

#[test]
fn a_long_hang_stalls_everything_once_the_batches_in_flight_run_out_and_loses_nothing() {
    let Setup {
        logger,
        hanging,
        hung_seen,
        healthy_seen,
    } = setup(1); // one record per batch, so the 8 batches in flight run out after 8 records
    const RECORDS: u64 = 40;
    let producer = {
        let logger = logger.clone();
        std::thread::spawn(move || {
            for i in 0..RECORDS {
                asynclog::try_info!(logger, "r", i = i).unwrap();
                // Paced, so each record travels in its own batch.
                std::thread::sleep(Duration::from_millis(2));
            }
        })
    };
    assert!(wait_until(HANG / 4, || hanging.load(SeqCst)));
    std::thread::sleep(HANG / 2);
    // Mid-hang: the healthy sink got the records of the batches in flight, then stalled with the
    // hung one; the rest wait in the producer's ring (which has room for them all here; a full
    // ring would block the producer).
    let healthy_mid_hang = healthy_seen.lock().unwrap().len() as u64;
    assert!(hanging.load(SeqCst));
    assert!(
        (1..RECORDS).contains(&healthy_mid_hang),
        "healthy sink had {healthy_mid_hang} records mid-hang"
    );
    producer.join().unwrap();
    logger.flush().unwrap();
    let all: Vec<u64> = (0..RECORDS).collect();
    assert_eq!(*hung_seen.lock().unwrap(), all);
    assert_eq!(*healthy_seen.lock().unwrap(), all);
    assert_eq!(logger.stats().dropped, 0);
    logger.close().unwrap();
}
