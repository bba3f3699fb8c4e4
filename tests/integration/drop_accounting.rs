//! Under `Backpressure::Drop` with a deliberately slow sink, every call either returns `Ok` (and
//! its record is delivered) or `Err(Dropped)` (and it is counted and reported): exactly.

use crate::common;
use asynclog::{try_info, Backpressure, Hooks, LogError, Logger};
use common::*;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

#[test]
fn delivered_plus_dropped_equals_sent_exactly() {
    const SENT: u64 = 200_000;
    let collector = Collector::default();
    let dropped_hook = Arc::new(AtomicU64::new(0));
    let buffered_hook = Arc::new(AtomicU64::new(0));
    let mut config = asynclog::Config::default();
    config
        .sinks
        .push(collector.slow_sink("slow", Duration::from_millis(2)));
    config.backpressure = Backpressure::Drop;
    config.buffer_size = 16; // ~2 KiB ring: fills almost at once
    let (d, b) = (dropped_hook.clone(), buffered_hook.clone());
    config.hooks = Hooks::default()
        .on_message_dropped(move |m| {
            assert_eq!(m.message, "burst");
            d.fetch_add(1, Ordering::Relaxed);
        })
        .on_message_buffered(move |_| {
            b.fetch_add(1, Ordering::Relaxed);
        });
    let logger = Logger::new(config).unwrap();

    let mut ok = 0u64;
    let mut dropped = 0u64;
    for seq in 0..SENT {
        match try_info!(logger, "burst", producer = 0u64, seq = seq) {
            Ok(()) => ok += 1,
            Err(LogError::Dropped) => dropped += 1,
            Err(other) => panic!("unexpected {other}"),
        }
    }
    logger.close().unwrap();

    assert!(dropped > 0, "the slow sink should have forced drops");
    assert_eq!(ok + dropped, SENT);
    let stats = logger.stats();
    assert_eq!(stats.dropped, dropped);
    assert_eq!(stats.buffered, ok);
    assert_eq!(stats.delivered, ok);
    assert_eq!(collector.len() as u64, ok);
    assert_eq!(dropped_hook.load(Ordering::Relaxed), dropped);
    assert_eq!(buffered_hook.load(Ordering::Relaxed), ok);
    // What got through is in order, with gaps only where calls were dropped.
    let seqs: Vec<u64> = collector
        .records()
        .iter()
        .map(|r| r.u64_field("seq"))
        .collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]));
}

#[test]
fn a_stats_snapshot_never_has_more_delivered_than_buffered() {
    // A monitor computing the records in flight as `buffered - delivered` while the logger runs
    // must never see it negative. Three producers on two cores are preempted often, some of them
    // between writing a record and counting it, while the drain delivers it.
    let logger = Logger::new(asynclog::Config::default()).unwrap();
    let stop = std::sync::atomic::AtomicBool::new(false);
    let (mut snapshots, mut bad) = (0u64, None);
    std::thread::scope(|s| {
        for producer in 0..3u64 {
            let (logger, stop) = (&logger, &stop);
            s.spawn(move || {
                let mut seq = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    asynclog::info!(logger, "r", producer = producer, seq = seq);
                    seq += 1;
                }
            });
        }
        let until = std::time::Instant::now() + Duration::from_millis(1500);
        while bad.is_none() && std::time::Instant::now() < until {
            let stats = logger.stats();
            if stats.delivered > stats.buffered {
                bad = Some(stats);
            }
            snapshots += 1;
        }
        stop.store(true, Ordering::Relaxed);
    });
    assert_eq!(bad, None, "after {snapshots} snapshots");
    let stats = logger.stats();
    assert!(
        snapshots > 1000 && stats.delivered > 0,
        "{snapshots} {stats:?}"
    );
    logger.close().unwrap();
}
