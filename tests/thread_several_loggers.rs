//! One thread logging to several loggers: each logger gets exactly its own records, in order;
//! switching between loggers allocates nothing once each has the thread's producer; a closed
//! logger's producer gives way to a new logger's; a thread-local destructor that logs while the
//! thread exits gets an error, not a crash.

mod common;
#[path = "common/counting_alloc.rs"]
mod counting_alloc;

use asynclog::{try_info, LogError, Logger};
use common::*;
use counting_alloc::{allocations, CountingAllocator};

#[global_allocator]
static GLOBAL: CountingAllocator = CountingAllocator;

fn seqs(c: &Collector) -> Vec<u64> {
    c.records().iter().map(|r| r.u64_field("seq")).collect()
}

#[test]
fn alternating_loggers_each_get_their_own_records_without_allocating() {
    let (a, b) = (Collector::default(), Collector::default());
    let logger_a = Logger::new(config_with(&a)).unwrap();
    let logger_b = Logger::new(config_with(&b)).unwrap();
    try_info!(logger_a, "to a", seq = 0u64).unwrap();
    try_info!(logger_b, "to b", seq = 0u64).unwrap();
    let before = allocations();
    for seq in 1..20_000u64 {
        try_info!(logger_a, "to a", seq = seq).unwrap();
        try_info!(logger_b, "to b", seq = seq).unwrap();
        if seq % 3 == 0 {
            // Two in a row to one logger, so the switches are not strictly alternating.
            logger_b.info("to b, general record", &[]).unwrap();
        }
    }
    let made = allocations() - before;
    logger_a.flush().unwrap();
    logger_b.flush().unwrap();
    assert_eq!(made, 0, "{made} allocations while switching loggers");
    assert_eq!(seqs(&a), (0..20_000).collect::<Vec<_>>());
    let b_records = b.records();
    let b_seqs: Vec<u64> = b_records
        .iter()
        .filter(|r| r.message == "to b")
        .map(|r| r.u64_field("seq"))
        .collect();
    assert_eq!(b_seqs, (0..20_000).collect::<Vec<_>>());
    assert_eq!(b_records.len(), 20_000 + 19_999 / 3);
    assert!(a.records().iter().all(|r| r.message == "to a"));
}

#[test]
fn a_new_logger_after_a_closed_one_gets_the_threads_records() {
    let (a, b) = (Collector::default(), Collector::default());
    let logger_a = Logger::new(config_with(&a)).unwrap();
    for seq in 0..100u64 {
        try_info!(logger_a, "to a", seq = seq).unwrap();
    }
    logger_a.close().unwrap();
    assert!(matches!(
        try_info!(logger_a, "late", seq = 100u64),
        Err(LogError::Closed)
    ));
    let logger_b = Logger::new(config_with(&b)).unwrap();
    for seq in 0..100u64 {
        try_info!(logger_b, "to b", seq = seq).unwrap();
    }
    // The closed logger still refuses, and does not take the new logger's producer.
    assert!(matches!(
        try_info!(logger_a, "late", seq = 101u64),
        Err(LogError::Closed)
    ));
    try_info!(logger_b, "to b", seq = 100u64).unwrap();
    logger_b.flush().unwrap();
    assert_eq!(seqs(&a), (0..100).collect::<Vec<_>>());
    assert_eq!(seqs(&b), (0..=100).collect::<Vec<_>>());
}

/// Logs from its destructor, which runs while the thread exits, possibly after the thread's
/// producers are gone.
struct LogsOnDrop {
    logger: &'static Logger,
    result: &'static std::sync::Mutex<Option<Result<(), String>>>,
}

impl Drop for LogsOnDrop {
    fn drop(&mut self) {
        let r = try_info!(self.logger, "from a destructor", seq = 1u64).map_err(|e| e.to_string());
        *self.result.lock().unwrap() = Some(r);
    }
}

thread_local! {
    static LOGS_ON_DROP: std::cell::RefCell<Option<LogsOnDrop>> = const { std::cell::RefCell::new(None) };
}

#[test]
fn logging_from_a_thread_local_destructor_is_delivered_or_refused_cleanly() {
    static RESULT: std::sync::Mutex<Option<Result<(), String>>> = std::sync::Mutex::new(None);
    let c = Collector::default();
    let logger: &'static Logger = Box::leak(Box::new(Logger::new(config_with(&c)).unwrap()));
    std::thread::spawn(move || {
        // Registered before the thread's first log call, so (destructors run in reverse order of
        // registration on Linux) it runs after the thread's producers are dropped.
        LOGS_ON_DROP.with(|d| {
            *d.borrow_mut() = Some(LogsOnDrop {
                logger,
                result: &RESULT,
            })
        });
        try_info!(logger, "before exit", seq = 0u64).unwrap();
    })
    .join()
    .unwrap();
    logger.flush().unwrap();
    let result = RESULT.lock().unwrap().clone().expect("the destructor ran");
    let seen = seqs(&c);
    match result {
        Ok(()) => assert_eq!(seen, vec![0, 1]),
        Err(message) => {
            assert!(message.contains("exiting"), "{message}");
            assert_eq!(seen, vec![0]);
        }
    }
}
