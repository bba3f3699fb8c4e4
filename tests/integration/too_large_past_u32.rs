//! A record whose encoding would pass `u32::MAX` bytes (the format's length word) is refused
//! with `LogError::TooLarge` carrying its real size, like any other record bigger than the ring,
//! not a sentinel: the error a user reads must say how big the record was.
//!
//! 65 fields sharing one 64 MiB string make a 4.2 GB record while allocating only 64 MiB.

use crate::common;
use asynclog::{Field, LogError, Logger};
use common::*;

#[test]
fn a_record_past_four_gib_reports_its_real_size() {
    let c = Collector::default();
    let logger = Logger::new(config_with(&c)).unwrap();
    let blob = "x".repeat(64 << 20);
    let fields = vec![Field::new("k", blob.as_str()); 65];
    // Header 20 + message 1 + per field (u16 key length, key, tag, u32 string length, string).
    let expected = 20 + 1 + 65 * (2 + 1 + 1 + 4 + blob.len());
    assert!(expected > u32::MAX as usize);
    let error = logger.info("m", &fields).unwrap_err();
    match &error {
        LogError::TooLarge { size, capacity } => {
            assert_eq!((*size, *capacity), (expected, 128_000), "{error}");
        }
        other => panic!("expected TooLarge, got {other:?}"),
    }
    assert!(error.to_string().contains(&expected.to_string()), "{error}");
    assert_eq!(logger.stats().dropped, 1);
}

#[test]
fn a_call_site_record_past_four_gib_reports_its_real_size() {
    static SITE: asynclog::__private::callsite::Callsite =
        asynclog::__private::callsite::Callsite::new("m", &["k"; 65]);
    let c = Collector::default();
    let logger = Logger::new(config_with(&c)).unwrap();
    let blob = "x".repeat(64 << 20);
    // A call-site record: header 20, then per value (tag, u32 string length, string).
    let expected = 20 + 65 * (1 + 4 + blob.len());
    assert!(expected > u32::MAX as usize);
    let values = [asynclog::Value::Str(blob.as_str()); 65];
    match logger.log_callsite(asynclog::Level::Info, &SITE, values) {
        Err(LogError::TooLarge { size, capacity }) => {
            assert_eq!((size, capacity), (expected, 128_000));
        }
        other => panic!("expected TooLarge, got {other:?}"),
    }
    assert_eq!(logger.stats().dropped, 1);
}
