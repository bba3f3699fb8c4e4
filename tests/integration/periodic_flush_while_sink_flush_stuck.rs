//! While a sink's flush is stuck (or slower than `flush_interval`), the drain does not queue a
//! new periodic flush every interval behind it: the queue would grow without bound, and once the
//! sink recovers it would be flushed hundreds of times in a row.

use asynclog::{Batch, Hooks, Logger, Sink, SinkError};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

/// Counts flushes; the first one waits until the gate opens.
struct StuckFlush {
    flushes: Arc<AtomicUsize>,
    gate: Arc<(Mutex<bool>, Condvar)>,
}

impl Sink for StuckFlush {
    fn name(&self) -> &str {
        "stuck-flush"
    }
    fn write_batch(&mut self, _: &Batch) -> Result<(), SinkError> {
        Ok(())
    }
    fn flush(&mut self) -> Result<(), SinkError> {
        self.flushes.fetch_add(1, Ordering::SeqCst);
        let (open, opened) = &*self.gate;
        let mut open = open.lock().unwrap();
        while !*open {
            open = opened.wait(open).unwrap();
        }
        Ok(())
    }
}

#[test]
fn periodic_flushes_do_not_pile_up_behind_a_stuck_flush() {
    let flushes = Arc::new(AtomicUsize::new(0));
    let completed = Arc::new(AtomicUsize::new(0));
    let gate = Arc::new((Mutex::new(false), Condvar::new()));
    let mut config = asynclog::Config::default();
    config.flush_interval = Duration::from_millis(1);
    config.sinks.push(Box::new(StuckFlush {
        flushes: flushes.clone(),
        gate: gate.clone(),
    }));
    let seen = completed.clone();
    config.hooks = Hooks::default().on_flush_completed(move |_, _| {
        seen.fetch_add(1, Ordering::SeqCst);
    });
    let logger = Logger::new(config).unwrap();
    logger.info("one", &[]).unwrap();
    // About 300 flush intervals pass while the first flush is stuck.
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(
        flushes.load(Ordering::SeqCst),
        1,
        "the first flush is stuck"
    );
    *gate.0.lock().unwrap() = true;
    gate.1.notify_all();
    logger.close().unwrap();
    // The stuck flush, perhaps one queued behind it and a few after it, and close's.
    let flushes = flushes.load(Ordering::SeqCst);
    assert!(
        flushes < 30,
        "{flushes} flushes: periodic flushes queued up behind the stuck one"
    );
    assert_eq!(completed.load(Ordering::SeqCst), flushes);
}
