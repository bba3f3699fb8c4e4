//! A thread that exits has its ring drained completely, then freed.

use crate::common;
use asynclog::{try_info, Logger};
use common::*;

#[test]
fn records_of_exited_threads_all_arrive() {
    let c = Collector::default();
    let logger = Logger::new(config_with(&c)).unwrap();
    for producer in 0..50u64 {
        std::thread::scope(|s| {
            s.spawn(|| {
                for seq in 0..200u64 {
                    try_info!(logger, "bye", producer = producer, seq = seq).unwrap();
                }
            });
        });
        // The thread is gone; its ring may still hold records.
    }
    logger.flush().unwrap();
    let counts = assert_per_producer_order(&c.records());
    assert_eq!(counts.len(), 50);
    assert!(counts.values().all(|&n| n == 200));
    assert_eq!(
        logger.stats().buffered,
        10_000,
        "retired rings keep their counts"
    );
}
