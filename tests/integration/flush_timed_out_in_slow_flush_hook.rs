//! When every sink has flushed but `flush` still times out (here: an `on_flush_completed` hook
//! slower than `Config::close_timeout`), `Error::FlushTimedOut` names no sink, and its message
//! says what held the flush up instead of "waiting for sink(s) []".

use asynclog::{Config, Error, Hooks, Logger, NullSink};
use std::sync::atomic::{AtomicU64, Ordering::SeqCst};
use std::sync::Arc;
use std::time::Duration;

#[test]
fn a_flush_held_up_by_its_hook_times_out_naming_no_sink_and_saying_why() {
    let hook_calls = Arc::new(AtomicU64::new(0));
    let hooks_done = Arc::new(AtomicU64::new(0));
    let mut config = Config::default();
    config.sinks.push(Box::new(NullSink));
    config.close_timeout = Duration::from_millis(200);
    config.flush_interval = Duration::from_secs(3600);
    config.hooks = Hooks::default().on_flush_completed({
        let (hook_calls, hooks_done) = (hook_calls.clone(), hooks_done.clone());
        move |_, _| {
            // Only the first flush's hook is slow.
            if hook_calls.fetch_add(1, SeqCst) == 0 {
                std::thread::sleep(Duration::from_millis(600));
            }
            hooks_done.fetch_add(1, SeqCst);
        }
    });
    let logger = Logger::new(config).unwrap();
    asynclog::try_info!(logger, "r", i = 1u64).unwrap();

    let error = logger.flush().expect_err("the hook outlasts close_timeout");
    match &error {
        Error::FlushTimedOut { sinks, timeout } => {
            assert!(sinks.is_empty(), "named {sinks:?}");
            assert_eq!(*timeout, Duration::from_millis(200));
        }
        other => panic!("expected FlushTimedOut, got {other:?}"),
    }
    assert_eq!(
        error.to_string(),
        "flush timed out after 200ms: every sink had flushed, but the flush had not completed \
         (an on_flush_completed hook still running, or the drain thread held up)"
    );
    assert_eq!(hook_calls.load(SeqCst), 1);
    // Close waits at most 200 ms too: let the hook finish first.
    while hooks_done.load(SeqCst) < 1 {
        std::thread::sleep(Duration::from_millis(5));
    }
    logger.close().unwrap();
    assert_eq!(
        hook_calls.load(SeqCst),
        2,
        "close's final flush ran the hook once more"
    );
}
