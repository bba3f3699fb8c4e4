//! A `GlobalGuard` dropped on an asynclog thread (here: a sink of another logger owns it and
//! lets go of it in `close`) still closes the global logger, as dropping a `Logger` there does:
//! its records are delivered, its sinks closed, and later records refused. One test: the global
//! logger is per process.

mod common;

use asynclog::Logger;
use common::{config_with, Collector, DropsOnClose};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

#[test]
fn a_guard_dropped_on_another_loggers_worker_closes_the_global_logger() {
    let global_out = Collector::default();
    let mut global_config = config_with(&global_out);
    global_config.flush_interval = Duration::from_secs(3600);
    let guard = asynclog::init(global_config).unwrap();
    let global = guard.logger();
    for i in 0..100u64 {
        asynclog::info!("global", i = i);
    }

    let mut outer_config = asynclog::Config::default();
    outer_config
        .sinks
        .push(Box::new(DropsOnClose { held: Some(guard) }));
    let outer = Logger::new(outer_config).unwrap();
    outer.close().unwrap();

    // The global logger's close runs on its own drain; give it a moment.
    let deadline = Instant::now() + Duration::from_secs(5);
    while global_out.closes.load(Ordering::SeqCst) == 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    assert!(
        global.is_closed(),
        "the guard is gone, the logger must be closed"
    );
    assert_eq!(
        global_out.closes.load(Ordering::SeqCst),
        1,
        "the global logger's sink was never closed"
    );
    assert_eq!(global_out.len(), 100);
    assert!(matches!(
        asynclog::try_info!("after the guard"),
        Err(asynclog::LogError::Closed)
    ));
}
