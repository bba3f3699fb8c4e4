//! When a sink worker dies (here: a sink's `name()` panics outside the calls the worker guards),
//! `close` says which sinks that worker served.

use asynclog::{Batch, Error, Logger, Sink, SinkError};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// Its name panics once `broken` is set.
struct BadName {
    broken: Arc<AtomicBool>,
}

impl Sink for BadName {
    fn name(&self) -> &str {
        if self.broken.load(Ordering::SeqCst) {
            panic!("name() broke");
        }
        "bad-name"
    }
    fn write_batch(&mut self, _: &Batch) -> Result<(), SinkError> {
        Ok(())
    }
}

#[test]
fn a_dead_worker_is_named_by_its_sinks() {
    let broken = Arc::new(AtomicBool::new(false));
    let mut config = asynclog::Config::default();
    config.sinks.push(Box::new(BadName {
        broken: broken.clone(),
    }));
    let logger = Logger::new(config).unwrap();
    logger.info("m", &[]).unwrap();
    logger.flush().unwrap();
    broken.store(true, Ordering::SeqCst);
    match logger.close() {
        Err(error @ Error::ThreadDied(_)) => {
            let message = error.to_string();
            assert!(message.contains("bad-name"), "{message}");
        }
        other => panic!("expected ThreadDied, got {other:?}"),
    }
}
