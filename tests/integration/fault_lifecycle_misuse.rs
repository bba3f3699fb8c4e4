//! Misusing the logger's lifecycle: logging after close (every entry point), double and
//! concurrent close, and `close`/`flush` from inside hooks and sinks. Each gives a clear error or
//! a documented result, promptly: no panic, no hang.

use crate::sinks;

use asynclog::{Batch, Error, Field, Level, LogError, LogMessage, Logger, Sink, SinkError};
use sinks::{config_with, owned, CollectSink};
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::Duration;

#[test]
fn every_entry_point_refuses_after_close() {
    let (sink, seen) = CollectSink::new("collect", owned);
    let logger = Logger::new(config_with(vec![Box::new(sink)])).unwrap();
    let mut producer = logger.producer().unwrap();
    logger.info("before", &[]).unwrap();
    producer.info("before, producer", &[]).unwrap();
    logger.close().unwrap();

    assert!(logger.is_closed());
    assert!(matches!(logger.info("after", &[]), Err(LogError::Closed)));
    assert!(matches!(
        asynclog::try_warn!(logger, "after", k = 1),
        Err(LogError::Closed)
    ));
    assert!(matches!(
        logger.log_message(&LogMessage::new(Level::Error, "after")),
        Err(LogError::Closed)
    ));
    assert!(matches!(producer.info("after", &[]), Err(LogError::Closed)));
    // fatal reports the refused log call, not a flush failure.
    assert!(matches!(logger.fatal("after", &[]), Err(LogError::Closed)));
    assert!(matches!(logger.flush(), Err(Error::Closed)));
    assert!(matches!(producer.flush(), Err(Error::Closed)));
    assert!(matches!(logger.producer(), Err(Error::Closed)));
    assert!(matches!(logger.preallocate(), Err(Error::Closed)));
    // A thread that never logged before close is refused too (it gets no ring).
    std::thread::scope(|s| {
        s.spawn(|| {
            assert!(matches!(
                logger.info("new thread", &[]),
                Err(LogError::Closed)
            ))
        });
    });
    // A level filter still short-circuits with Ok: filtered records are never an error.
    logger.set_min_level(Level::Error);
    assert!(logger.debug("filtered", &[]).is_ok());

    let messages: Vec<String> = seen
        .lock()
        .unwrap()
        .iter()
        .map(|r| r.message.clone())
        .collect();
    assert_eq!(messages, ["before", "before, producer"]);
    let stats = logger.stats();
    assert_eq!((stats.buffered, stats.delivered), (2, 2));
}

#[test]
fn double_and_concurrent_close_all_return_ok() {
    let logger = Arc::new(Logger::new(config_with(Vec::new())).unwrap());
    logger.info("x", &[]).unwrap();
    let closers: Vec<_> = (0..8)
        .map(|_| {
            let logger = logger.clone();
            std::thread::spawn(move || logger.close())
        })
        .collect();
    for closer in closers {
        closer.join().unwrap().expect("concurrent close");
    }
    logger.close().expect("close after close");
    logger.close().expect("and again");
    assert_eq!(logger.stats().delivered, 1);
    drop(logger); // Drop closes again: nothing to do, no panic.
}

/// What each hook saw when it called `close` and `flush`.
#[derive(Default)]
struct FromHooks {
    calls: Mutex<Vec<(&'static str, String, String)>>,
}

impl FromHooks {
    fn record(&self, hook: &'static str, logger: &OnceLock<Weak<Logger>>) {
        let logger = logger.get().and_then(Weak::upgrade).expect("logger set");
        let close = format!("{:?}", logger.close());
        let flush = format!("{:?}", logger.flush());
        self.calls.lock().unwrap().push((hook, close, flush));
    }
}

/// Calls `close` and `flush` from inside `write_batch` (a sink-worker thread).
struct SelfClosingSink {
    logger: Arc<OnceLock<Weak<Logger>>>,
    seen: Arc<FromHooks>,
}

impl Sink for SelfClosingSink {
    fn name(&self) -> &str {
        "self-closing"
    }

    fn write_batch(&mut self, _batch: &Batch) -> Result<(), SinkError> {
        self.seen.record("write_batch", &self.logger);
        Ok(())
    }
}

#[test]
fn close_and_flush_from_worker_hooks_and_sinks_return_called_from_worker() {
    let slot: Arc<OnceLock<Weak<Logger>>> = Arc::default();
    let seen = Arc::new(FromHooks::default());
    let mut config = config_with(vec![Box::new(SelfClosingSink {
        logger: slot.clone(),
        seen: seen.clone(),
    })]);
    let (written_slot, written_seen) = (slot.clone(), seen.clone());
    let (flushed_slot, flushed_seen) = (slot.clone(), seen.clone());
    config.hooks = asynclog::Hooks::default()
        .on_batch_written(move |_, _, _| written_seen.record("on_batch_written", &written_slot))
        .on_flush_completed(move |_, _| flushed_seen.record("on_flush_completed", &flushed_slot));
    let logger = Arc::new(Logger::new(config).unwrap());
    slot.set(Arc::downgrade(&logger)).unwrap();

    logger.info("one", &[]).unwrap();
    logger.flush().expect("flush from the caller's thread");
    assert!(!logger.is_closed(), "a hook's close took effect");
    logger.info("two", &[]).expect("still open");
    logger.close().unwrap();

    let calls = seen.calls.lock().unwrap();
    let hooks: Vec<&str> = calls.iter().map(|c| c.0).collect();
    for hook in ["write_batch", "on_batch_written", "on_flush_completed"] {
        assert!(hooks.contains(&hook), "{hook} never ran: {hooks:?}");
    }
    for (hook, close, flush) in calls.iter() {
        assert_eq!(
            close, "Err(CalledFromWorker(\"close\"))",
            "close from {hook}"
        );
        assert_eq!(
            flush, "Err(CalledFromWorker(\"flush\"))",
            "flush from {hook}"
        );
    }
    assert_eq!(logger.stats().hook_panics, 0);
}

#[test]
fn close_from_the_logging_threads_own_hook_closes_and_keeps_the_record() {
    // `on_message_buffered` runs on the caller's thread after its record is committed, so close
    // there is an ordinary close: it succeeds and the record that triggered it is delivered.
    let slot: Arc<OnceLock<Weak<Logger>>> = Arc::default();
    let results = Arc::new(Mutex::new(Vec::new()));
    let (sink, seen) = CollectSink::new("collect", owned);
    let mut config = config_with(vec![Box::new(sink)]);
    let (hook_slot, hook_results) = (slot.clone(), results.clone());
    config.hooks = asynclog::Hooks::default().on_message_buffered(move |message| {
        if message.message == "last words" {
            let logger = hook_slot.get().and_then(Weak::upgrade).expect("logger set");
            hook_results
                .lock()
                .unwrap()
                .push(format!("{:?}", logger.close()));
        }
    });
    let logger = Arc::new(Logger::new(config).unwrap());
    slot.set(Arc::downgrade(&logger)).unwrap();

    logger.info("first", &[]).unwrap();
    logger
        .info("last words", &[Field::new("k", "v")])
        .expect("the record was accepted before its hook closed the logger");
    assert_eq!(*results.lock().unwrap(), ["Ok(())"]);
    assert!(logger.is_closed());
    assert!(matches!(
        logger.info("too late", &[]),
        Err(LogError::Closed)
    ));
    let messages: Vec<String> = seen
        .lock()
        .unwrap()
        .iter()
        .map(|r| r.message.clone())
        .collect();
    assert_eq!(messages, ["first", "last words"]);
}

#[test]
fn dropping_the_logger_with_records_in_flight_delivers_them() {
    let (sink, seen) = CollectSink::new("collect", owned);
    let mut config = config_with(vec![Box::new(sink)]);
    config.flush_interval = Duration::from_secs(3600);
    let logger = Logger::new(config).unwrap();
    for i in 0..1_000u64 {
        asynclog::try_info!(logger, "m", i = i).unwrap();
    }
    drop(logger);
    assert_eq!(seen.lock().unwrap().len(), 1_000);
}
