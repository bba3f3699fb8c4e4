//! Timestamps: calls are stamped within the call's wall-clock window (the TSC calibration
//! works end to end), and pre-built messages keep their own timestamp.

use crate::common;
use asynclog::{Level, LogMessage, Logger, OwnedValue};
use common::*;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

fn now_ns() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos() as i64
}

#[test]
fn records_are_stamped_inside_the_call_window() {
    let c = Collector::default();
    let logger = Logger::new(config_with(&c)).unwrap();
    let mut windows = Vec::new();
    for _ in 0..5 {
        let before = now_ns();
        logger.info("t", &[]).unwrap();
        let after = now_ns();
        windows.push((before, after));
        std::thread::sleep(Duration::from_millis(30));
    }
    logger.flush().unwrap();
    let records = c.records();
    for (record, (before, after)) in records.iter().zip(windows) {
        // Allow 250 us of calibration error.
        assert!(
            record.timestamp_ns >= before - 250_000 && record.timestamp_ns <= after + 250_000,
            "{} not within [{before}, {after}]",
            record.timestamp_ns
        );
    }
}

#[test]
fn log_message_keeps_its_timestamp_level_and_fields() {
    let c = Collector::default();
    let logger = Logger::new(config_with(&c)).unwrap();
    let at = UNIX_EPOCH + Duration::from_nanos(1_795_780_800_123_456_789);
    let msg = LogMessage {
        timestamp: at,
        level: Level::Warn,
        message: "pre-built".into(),
        fields: vec![
            ("key".into(), "value".into()),
            ("n".into(), OwnedValue::I64(-5)),
        ],
    };
    logger.log_message(&msg).unwrap();
    logger
        .log_message(&LogMessage::new(Level::Info, "built").with_field("ok", true))
        .unwrap();
    logger.flush().unwrap();
    let records = c.records();
    assert_eq!(records[0].timestamp_ns, 1_795_780_800_123_456_789);
    assert_eq!(records[0].level, Level::Warn);
    assert_eq!(records[0].message, "pre-built");
    assert_eq!(
        records[0].fields,
        vec![
            ("key".into(), OwnedValue::Str("value".into())),
            ("n".into(), OwnedValue::I64(-5))
        ]
    );
    assert_eq!(records[1].field("ok"), Some(&OwnedValue::Bool(true)));
}

#[test]
fn the_minimum_level_filters_on_the_calling_thread() {
    let c = Collector::default();
    let mut config = config_with(&c);
    config.min_level = Level::Warn;
    let logger = Logger::new(config).unwrap();
    logger.info("hidden", &[]).unwrap();
    logger.error("shown", &[]).unwrap();
    logger.set_min_level(Level::Trace);
    assert_eq!(logger.min_level(), Level::Trace);
    asynclog::try_trace!(logger, "now shown").unwrap();
    logger.flush().unwrap();
    let messages: Vec<String> = c.records().into_iter().map(|r| r.message).collect();
    assert_eq!(messages, vec!["shown", "now shown"]);
    assert_eq!(logger.stats().buffered, 2);
}
