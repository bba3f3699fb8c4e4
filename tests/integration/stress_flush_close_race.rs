//! 64 threads log as fast as they can while other threads call `flush` and two threads race to
//! `close`. Every record whose call returned `Ok` is delivered exactly once, in its thread's
//! order; a call that raced with close and returned `Closed` may or may not have been delivered;
//! no call fails in any other way, and `flush` keeps its promise up to the close.

use crate::sinks;

use asynclog::{Error, LogError, Logger};
use sinks::{config_with, thread_and_seq, CollectSink};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Barrier};
use std::time::Duration;

const LOGGERS: u64 = 64;
/// Upper bound per thread, so the test ends even if close were never reached.
const MAX_PER_THREAD: u64 = 4_000;
/// Close once this many records were accepted, so close races with busy producers.
const CLOSE_AFTER: u64 = LOGGERS * MAX_PER_THREAD / 4;
/// The flusher's own thread index.
const FLUSHER: u64 = LOGGERS;

/// Races per test run: each one takes about 0.1 s.
const ROUNDS: usize = 5;

#[test]
fn records_returning_ok_are_delivered_once_in_order_across_flush_and_close() {
    for _ in 0..ROUNDS {
        race();
    }
}

fn race() {
    let (sink, seen) = CollectSink::new("collect", thread_and_seq);
    let mut config = config_with(vec![Box::new(sink)]);
    // Small rings, so producers also block on full rings (Block is the default) mid-race.
    config.buffer_size = 32;
    config.max_batch_records = 512;
    let logger = Arc::new(Logger::new(config).unwrap());
    // Producers, the flusher, two closers and this thread start together.
    let start = Arc::new(Barrier::new(LOGGERS as usize + 4));

    // The flusher's count of completed flushes; producers start after the first one, so that
    // flushes are under way when close comes.
    let flushes_done = Arc::new(AtomicU64::new(0));
    let producers: Vec<_> = (0..LOGGERS)
        .map(|t| {
            let logger = logger.clone();
            let start = start.clone();
            let flushes_done = flushes_done.clone();
            std::thread::spawn(move || {
                start.wait();
                while flushes_done.load(Ordering::SeqCst) == 0 {
                    std::thread::sleep(Duration::from_micros(100));
                }
                // Seqs 0..ok returned Ok; `ok` itself (if below the cap) returned Closed.
                for seq in 0..MAX_PER_THREAD {
                    match asynclog::try_info!(logger, "tick", t = t, seq = seq) {
                        Ok(()) => {}
                        Err(LogError::Closed) => return seq,
                        Err(other) => panic!("thread {t}, seq {seq}: {other}"),
                    }
                }
                MAX_PER_THREAD
            })
        })
        .collect();

    // Logs a marker, flushes, and checks the marker reached the sink when flush said Ok.
    let flusher = {
        let logger = logger.clone();
        let start = start.clone();
        let seen = seen.clone();
        let flushes_done = flushes_done.clone();
        std::thread::spawn(move || {
            start.wait();
            let mut flushes = 0u64;
            for seq in 0.. {
                match asynclog::try_info!(logger, "marker", t = FLUSHER, seq = seq) {
                    Ok(()) => {}
                    Err(LogError::Closed) => return (seq, flushes),
                    Err(other) => panic!("flusher log: {other}"),
                }
                match logger.flush() {
                    Ok(()) => {
                        flushes += 1;
                        flushes_done.fetch_add(1, Ordering::SeqCst);
                        let seen = seen.lock().unwrap();
                        assert!(
                            seen.iter().rev().any(|&r| r == (FLUSHER, seq)),
                            "flush returned Ok before marker {seq} reached the sink"
                        );
                    }
                    Err(Error::Closed) => return (seq + 1, flushes),
                    Err(other) => panic!("flush: {other}"),
                }
            }
            unreachable!()
        })
    };

    // Two closers: the first close does the work, the other returns Ok once it is done. They
    // close a quarter of the way through the producers' work.
    let closed = Arc::new(AtomicBool::new(false));
    let closers: Vec<_> = (0..2)
        .map(|_| {
            let logger = logger.clone();
            let start = start.clone();
            let closed = closed.clone();
            std::thread::spawn(move || {
                start.wait();
                while logger.stats().buffered < CLOSE_AFTER {
                    std::thread::sleep(Duration::from_micros(200));
                }
                let result = logger.close();
                closed.store(true, Ordering::SeqCst);
                result
            })
        })
        .collect();
    start.wait();

    for closer in closers {
        closer.join().unwrap().expect("close");
    }
    let ok_counts: Vec<u64> = producers.into_iter().map(|p| p.join().unwrap()).collect();
    let (flusher_ok, flushes) = flusher.join().unwrap();
    assert!(closed.load(Ordering::SeqCst));
    assert!(flushes >= 1, "the producers wait for a flush");
    assert!(
        ok_counts.iter().any(|&n| n < MAX_PER_THREAD),
        "close came after every producer finished: the race was not exercised"
    );

    // Per thread: the delivered seqs are 0, 1, 2, ... in order, covering every Ok call, plus at
    // most the one call that returned Closed after its commit.
    let seen = seen.lock().unwrap();
    let mut per_thread: Vec<Vec<u64>> = vec![Vec::new(); LOGGERS as usize + 1];
    for &(t, seq) in seen.iter() {
        per_thread[t as usize].push(seq);
    }
    let ok_counts = ok_counts.iter().chain([&flusher_ok]);
    for (t, (seqs, &ok)) in per_thread.iter().zip(ok_counts).enumerate() {
        let expected: Vec<u64> = (0..seqs.len() as u64).collect();
        assert_eq!(seqs, &expected, "thread {t}: lost, duplicated or reordered");
        let delivered = seqs.len() as u64;
        assert!(
            delivered == ok || (delivered == ok + 1 && ok < MAX_PER_THREAD),
            "thread {t}: {ok} calls returned Ok but {delivered} records were delivered"
        );
    }

    let stats = logger.stats();
    assert_eq!(stats.delivered, seen.len() as u64);
    assert_eq!(
        stats.sink("collect").unwrap().written_records,
        seen.len() as u64
    );
    assert_eq!(stats.dropped, 0);
    assert!(stats.buffered >= stats.delivered);
}
