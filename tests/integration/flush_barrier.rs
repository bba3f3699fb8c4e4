//! `flush` is a barrier across threads: everything logged before it, by any thread, is in every
//! sink when it returns.

use crate::common;
use asynclog::{try_info, Logger};
use common::*;
use std::sync::Barrier;

#[test]
fn flush_covers_records_logged_by_other_threads_before_it() {
    let a = Collector::default();
    let b = Collector::default();
    let mut config = asynclog::Config::default();
    config.sinks.push(a.sink("a"));
    config.sinks.push(b.sink("b"));
    let logger = Logger::new(config).unwrap();
    let logged = Barrier::new(5);
    let flushed = Barrier::new(5);

    std::thread::scope(|s| {
        for producer in 0..4u64 {
            let (logger, logged, flushed) = (&logger, &logged, &flushed);
            s.spawn(move || {
                for round in 0..20u64 {
                    for i in 0..100u64 {
                        try_info!(logger, "r", producer = producer, seq = round * 100 + i).unwrap();
                    }
                    logged.wait(); // all 4 threads logged round `round`
                    flushed.wait(); // the main thread checked the sinks
                }
            });
        }
        for round in 1..=20usize {
            logged.wait();
            logger.flush().unwrap();
            // Every record of rounds 0..round is in both sinks now, with no sleep or retry.
            assert_eq!(a.len(), round * 400, "sink a after round {round}");
            assert_eq!(b.len(), round * 400, "sink b after round {round}");
            flushed.wait();
        }
    });
    assert_per_producer_order(&a.records());
    assert_eq!(a.records(), b.records());
}

#[test]
fn each_flush_flushes_every_sink_and_fires_the_hook_with_the_records_since_the_last() {
    use std::sync::{Arc, Mutex};
    let c = Collector::default();
    let totals = Arc::new(Mutex::new(Vec::new()));
    let mut config = config_with(&c);
    let t = totals.clone();
    config.hooks =
        asynclog::Hooks::default().on_flush_completed(move |n, _| t.lock().unwrap().push(n));
    let logger = Logger::new(config).unwrap();
    for n in [3usize, 0, 7] {
        for _ in 0..n {
            logger.info("x", &[]).unwrap();
        }
        logger.flush().unwrap();
    }
    assert_eq!(*totals.lock().unwrap(), vec![3, 0, 7]);
    assert_eq!(c.flushes.load(std::sync::atomic::Ordering::SeqCst), 3);
    assert_eq!(logger.stats().flushes, 3);
}

#[test]
fn the_flush_interval_flushes_sinks_without_being_asked() {
    let c = Collector::default();
    let mut config = config_with(&c);
    config.flush_interval = std::time::Duration::from_millis(20);
    let logger = Logger::new(config).unwrap();
    logger.info("x", &[]).unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while c.flushes.load(std::sync::atomic::Ordering::SeqCst) < 3 {
        assert!(std::time::Instant::now() < deadline, "no periodic flushes");
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    // The record reached the sink without any explicit flush.
    assert_eq!(c.len(), 1);
}

#[test]
fn records_reach_the_sinks_without_a_flush_once_the_logger_is_quiet() {
    let c = Collector::default();
    let mut config = config_with(&c);
    // No periodic flush in the test's time: only the drain's own hand-over delivers.
    config.flush_interval = std::time::Duration::from_secs(3600);
    let logger = Logger::new(config).unwrap();
    for round in 1..=3usize {
        for i in 0..10u64 {
            try_info!(logger, "r", seq = i).unwrap();
        }
        // The drain hands its batch over a few microseconds after the rings go quiet (and
        // sleeps at most 1 ms before it looks): seconds here are only headroom.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while c.len() < round * 10 {
            assert!(
                std::time::Instant::now() < deadline,
                "round {round}: {} of {} records delivered without a flush",
                c.len(),
                round * 10
            );
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        assert_eq!(c.flushes.load(std::sync::atomic::Ordering::SeqCst), 0);
    }
    assert_eq!(c.len(), 30);
}
