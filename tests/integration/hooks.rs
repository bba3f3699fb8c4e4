//! Each of the five hooks fires the right number of times with the right arguments.

use crate::common;
use asynclog::{
    Backpressure, Batch, Error, Field, Hooks, Level, LogError, Logger, Sink, SinkError, Value,
};
use common::*;
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Debug, Clone, PartialEq)]
enum Event {
    Buffered(Level, String, Vec<String>),
    Dropped(Level, String),
    Written(String, usize),
    Failed(String, usize, String, u32),
    Flushed(usize),
}

struct AlwaysFails;
impl Sink for AlwaysFails {
    fn name(&self) -> &str {
        "broken"
    }
    fn write_batch(&mut self, _: &Batch) -> Result<(), SinkError> {
        Err(SinkError::Encode("disk on fire".into()))
    }
}

fn recording_hooks(events: &Arc<Mutex<Vec<Event>>>) -> Hooks {
    let (e1, e2, e3, e4, e5) = (
        events.clone(),
        events.clone(),
        events.clone(),
        events.clone(),
        events.clone(),
    );
    Hooks::default()
        .on_message_buffered(move |m| {
            let keys = m.fields.iter().map(|f| f.key.to_owned()).collect();
            e1.lock()
                .unwrap()
                .push(Event::Buffered(m.level, m.message.to_owned(), keys));
        })
        .on_message_dropped(move |m| {
            e2.lock()
                .unwrap()
                .push(Event::Dropped(m.level, m.message.to_owned()))
        })
        .on_batch_written(move |sink, n, took| {
            assert!(took < Duration::from_secs(5));
            e3.lock().unwrap().push(Event::Written(sink.to_owned(), n));
        })
        .on_batch_failed(move |sink, n, err, attempts| {
            e4.lock()
                .unwrap()
                .push(Event::Failed(sink.to_owned(), n, err.to_string(), attempts));
        })
        .on_flush_completed(move |total, _took| e5.lock().unwrap().push(Event::Flushed(total)))
}

#[test]
fn every_hook_fires_with_its_arguments() {
    let events = Arc::new(Mutex::new(Vec::new()));
    let collector = Collector::default();
    let mut config = asynclog::Config::default();
    config.sinks.push(collector.sink("good"));
    config.sinks.push(Box::new(AlwaysFails));
    config.max_retries = 2;
    config.retry_delay = Duration::from_millis(1);
    config.hooks = recording_hooks(&events);
    let logger = Logger::new(config).unwrap();

    logger.info("one", &[Field::new("a", 1)]).unwrap();
    logger
        .warn("two", &[Field::new("b", "x"), Field::new("c", true)])
        .unwrap();
    // The flush reports the batch the broken sink lost (flush_reports_lost_batches.rs).
    match logger.flush() {
        Err(Error::Sink { sink, .. }) => assert_eq!(sink, "broken"),
        other => panic!("expected the broken sink's lost batch, got {other:?}"),
    }
    let snapshot = events.lock().unwrap().clone();

    let count = |pred: &dyn Fn(&Event) -> bool| snapshot.iter().filter(|e| pred(e)).count();
    assert_eq!(
        snapshot[0],
        Event::Buffered(Level::Info, "one".into(), vec!["a".into()])
    );
    assert_eq!(
        snapshot[1],
        Event::Buffered(Level::Warn, "two".into(), vec!["b".into(), "c".into()])
    );
    // Both records were logged before the flush, and one flush pass moves them; they may travel
    // in one batch or two, but the written counts add up to 2 for the good sink...
    let written: usize = snapshot
        .iter()
        .filter_map(|e| match e {
            Event::Written(s, n) if s == "good" => Some(*n),
            _ => None,
        })
        .sum();
    assert_eq!(written, 2);
    // ...and every batch failed on the broken sink after 1 + max_retries attempts.
    let failed: Vec<_> = snapshot
        .iter()
        .filter(|e| matches!(e, Event::Failed(..)))
        .collect();
    assert!(!failed.is_empty());
    let failed_records: usize = failed
        .iter()
        .map(|e| match e {
            Event::Failed(sink, n, err, attempts) => {
                assert_eq!(sink, "broken");
                assert_eq!(err, "disk on fire");
                assert_eq!(*attempts, 3);
                *n
            }
            _ => unreachable!(),
        })
        .sum();
    assert_eq!(failed_records, 2);
    assert_eq!(
        count(&|e| matches!(e, Event::Flushed(2))),
        1,
        "{snapshot:?}"
    );
    assert_eq!(count(&|e| matches!(e, Event::Dropped(..))), 0);
    // The flush hook fires after the batch hooks of the records it covers.
    let flushed_at = snapshot
        .iter()
        .position(|e| matches!(e, Event::Flushed(_)))
        .unwrap();
    assert!(
        snapshot[..flushed_at]
            .iter()
            .filter(|e| matches!(e, Event::Written(..)))
            .count()
            >= 1
    );
    logger.close().unwrap();
}

#[test]
fn dropped_hook_sees_drop_and_too_large_records() {
    let events = Arc::new(Mutex::new(Vec::new()));
    let collector = Collector::default();
    let mut config = asynclog::Config::default();
    config
        .sinks
        .push(collector.slow_sink("slow", Duration::from_millis(50)));
    config.backpressure = Backpressure::Drop;
    config.buffer_size = 1; // 128-byte ring
    config.hooks = recording_hooks(&events);
    let logger = Logger::new(config).unwrap();

    let big = "x".repeat(200);
    assert!(matches!(
        logger.error(&big, &[]),
        Err(LogError::TooLarge {
            size: 220,
            capacity: 128
        })
    ));
    let mut dropped = 0;
    for _ in 0..20 {
        if let Err(LogError::Dropped) = logger.debug("small", &[Field::new("k", Value::Null)]) {
            dropped += 1;
        }
    }
    assert!(dropped > 0);
    let snapshot = events.lock().unwrap().clone();
    assert_eq!(snapshot[0], Event::Dropped(Level::Error, big.clone()));
    let dropped_events = snapshot
        .iter()
        .filter(|e| matches!(e, Event::Dropped(Level::Debug, m) if m == "small"))
        .count();
    assert_eq!(dropped_events, dropped);
    assert_eq!(logger.stats().dropped, dropped as u64 + 1);
}

#[test]
fn a_panicking_hook_is_counted_and_logging_goes_on() {
    let collector = Collector::default();
    let mut config = config_with(&collector);
    config.hooks = Hooks::default().on_message_buffered(|m| {
        if m.message == "boom" {
            panic!("hook exploded");
        }
    });
    let logger = Logger::new(config).unwrap();
    logger.info("boom", &[]).unwrap();
    logger.info("fine", &[]).unwrap();
    logger.flush().unwrap();
    assert_eq!(collector.len(), 2);
    assert_eq!(logger.stats().hook_panics, 1);
}

#[test]
fn a_hook_that_logs_to_its_own_logger_does_not_call_itself_again() {
    use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
    use std::sync::{OnceLock, Weak};
    let collector = Collector::default();
    let cell: Arc<OnceLock<Weak<Logger>>> = Arc::default();
    let calls = Arc::new(AtomicUsize::new(0));
    let (hook_cell, hook_calls) = (cell.clone(), calls.clone());
    let mut config = config_with(&collector);
    config.hooks = Hooks::default().on_message_buffered(move |m| {
        // Bounded, so that the recursion this test looks for cannot overflow the stack.
        if hook_calls.fetch_add(1, SeqCst) < 100 {
            if let Some(logger) = hook_cell.get().and_then(Weak::upgrade) {
                asynclog::info!(logger, "seen by the hook", seen = m.message);
            }
        }
    });
    let logger = Arc::new(Logger::new(config).unwrap());
    cell.set(Arc::downgrade(&logger)).unwrap();
    asynclog::info!(logger, "outer");
    logger.close().unwrap();
    let messages: Vec<String> = collector.records().into_iter().map(|r| r.message).collect();
    assert_eq!(messages, ["outer", "seen by the hook"]);
    assert_eq!(
        calls.load(SeqCst),
        1,
        "the hook's own record does not call it"
    );
}

#[test]
fn a_worker_hook_that_logs_to_its_own_logger_cannot_stall_it() {
    // A sink-worker hook that logs writes into the worker's own ring. With that ring full under
    // `Block`, waiting for the drain could wait for ever: the drain may itself be waiting for a
    // batch that this worker still holds.
    use std::sync::mpsc;
    use std::sync::{OnceLock, Weak};
    use std::time::Duration;
    let collector = Collector::default();
    let cell: Arc<OnceLock<Weak<Logger>>> = Arc::default();
    let calls = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let (hook_cell, hook_calls) = (cell.clone(), calls.clone());
    let mut config = asynclog::Config::default()
        // A ring of 128 bytes: four of the hook's records.
        .with_buffer_size(1)
        .with_max_batch_records(1)
        .with_close_timeout(Duration::from_secs(20));
    config
        .sinks
        .push(collector.slow_sink("collect", Duration::from_millis(1)));
    config.hooks = Hooks::default().on_batch_written(move |_, _, _| {
        // Bounded: the hook's own records make batches too.
        if hook_calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst) >= 50 {
            return;
        }
        if let Some(logger) = hook_cell.get().and_then(Weak::upgrade) {
            for n in 0..8u64 {
                asynclog::info!(logger, "written", n = n);
            }
        }
    });
    let logger = Arc::new(Logger::new(config).unwrap());
    cell.set(Arc::downgrade(&logger)).unwrap();
    let (done, finished) = mpsc::channel();
    let producer = {
        let logger = logger.clone();
        std::thread::spawn(move || {
            for seq in 0..200u64 {
                asynclog::info!(logger, "work", seq = seq);
            }
            let _ = done.send(());
        })
    };
    let stalled = finished.recv_timeout(Duration::from_secs(10)).is_err();
    // `close` ends a stall: every wait on a full ring gives up once the logger is closing.
    let closed = logger.close();
    producer.join().unwrap();
    assert!(!stalled, "the logger stalled with a full worker ring");
    closed.unwrap();
    let records = collector.records();
    let count = |message: &str| records.iter().filter(|r| r.message == message).count();
    assert_eq!(count("work"), 200);
    // Each of the hook's records arrived or was counted as dropped.
    let stats = logger.stats();
    assert_eq!(
        count("written") as u64 + stats.dropped + stats.refused,
        50 * 8,
        "{stats:?}"
    );
}
