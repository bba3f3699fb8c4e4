//! A logger whose last handle is dropped on an asynclog thread (here: a sink of another logger
//! owns it and lets go of it in `close`) is still closed: its sinks are flushed and closed and
//! its records delivered, without the dropping thread waiting for them.

use crate::common;
use asynclog::Logger;
use common::*;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

#[test]
fn a_logger_dropped_on_another_loggers_worker_is_closed() {
    let inner_out = Collector::default();
    let mut inner_config = config_with(&inner_out);
    // No periodic flush to hide behind.
    inner_config.flush_interval = Duration::from_secs(3600);
    let inner = Logger::new(inner_config).unwrap();
    for i in 0..100u64 {
        inner
            .info("inner", &[asynclog::Field::new("i", i)])
            .unwrap();
    }

    let mut outer_config = asynclog::Config::default();
    outer_config
        .sinks
        .push(Box::new(DropsOnClose { held: Some(inner) }));
    let outer = Logger::new(outer_config).unwrap();
    outer.info("outer", &[]).unwrap();
    outer.close().unwrap();

    // The inner logger's close runs on its own drain; give it a moment.
    let deadline = Instant::now() + Duration::from_secs(5);
    while inner_out.closes.load(Ordering::SeqCst) == 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(
        inner_out.closes.load(Ordering::SeqCst),
        1,
        "the inner logger's sink was never closed"
    );
    assert!(inner_out.flushes.load(Ordering::SeqCst) >= 1);
    assert_eq!(inner_out.len(), 100);
}
