//! Many threads switching among loggers that are created and closed while they run: every
//! record reaches the logger it was logged to, in order, and none other (the thread-local fast
//! path caches one logger's producer per thread; this drives its slow path on every switch).

use crate::common;
use asynclog::{try_info, LogError, Logger};
use common::*;
use std::sync::Arc;

const THREADS: u64 = 8;
const ROUNDS: u64 = 30;
const PER_ROUND: u64 = 50;

#[test]
fn records_follow_their_logger_across_switches_closes_and_new_loggers() {
    let shared_sink = Collector::default();
    let shared = Arc::new(Logger::new(config_with(&shared_sink)).unwrap());
    let per_thread: Vec<(u64, Vec<Collector>)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..THREADS)
            .map(|producer| {
                let shared = shared.clone();
                s.spawn(move || {
                    let mut own_sinks = Vec::new();
                    let mut shared_seq = 0u64;
                    for round in 0..ROUNDS {
                        // A logger of this thread's own for this round, closed at its end.
                        let own_sink = Collector::default();
                        let own = Logger::new(config_with(&own_sink)).unwrap();
                        for seq in 0..PER_ROUND {
                            try_info!(own, "own", producer = producer, seq = seq).unwrap();
                            try_info!(shared, "shared", producer = producer, seq = shared_seq)
                                .unwrap();
                            shared_seq += 1;
                        }
                        own.close().unwrap();
                        assert!(matches!(
                            try_info!(own, "after close", producer = producer, seq = round),
                            Err(LogError::Closed)
                        ));
                        own_sinks.push(own_sink);
                    }
                    (producer, own_sinks)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    shared.flush().unwrap();

    let records = shared_sink.records();
    assert!(records.iter().all(|r| r.message == "shared"));
    let counts = assert_per_producer_order(&records);
    assert_eq!(counts.len() as u64, THREADS);
    assert!(counts.values().all(|&n| n == ROUNDS * PER_ROUND));

    for (producer, sinks) in per_thread {
        for sink in sinks {
            let own = sink.records();
            assert_eq!(own.len() as u64, PER_ROUND);
            assert!(own
                .iter()
                .all(|r| r.message == "own" && r.u64_field("producer") == producer));
            let seqs: Vec<u64> = own.iter().map(|r| r.u64_field("seq")).collect();
            assert_eq!(seqs, (0..PER_ROUND).collect::<Vec<_>>());
        }
    }
}
