//! A 64 KiB message with fields arrives intact; a record larger than the ring is refused and
//! counted, never truncated.

use crate::common;
use asynclog::{Field, LogError, Logger, OwnedValue};
use common::*;

#[test]
fn a_64k_message_with_fields_arrives_byte_for_byte() {
    let c = Collector::default();
    let logger = Logger::new(config_with(&c)).unwrap();
    // Non-repeating, multi-byte content so a shifted or truncated copy cannot pass.
    let message: String = (0..64 * 1024 / 4)
        .map(|i| char::from_u32(0x1F600 + (i % 80)).unwrap())
        .collect();
    assert_eq!(message.len(), 64 * 1024);
    let blob: String = (0..8_000)
        .map(|i| char::from(b'a' + (i % 26) as u8))
        .collect();
    for i in 0..20u64 {
        // Interleave small records so the big ones wrap around the ring end at varying offsets.
        logger.info("small", &[Field::new("i", i)]).unwrap();
        logger
            .info(&message, &[Field::new("blob", &blob), Field::new("i", i)])
            .unwrap();
    }
    logger.flush().unwrap();
    let records = c.records();
    assert_eq!(records.len(), 40);
    for pair in records.chunks(2) {
        assert_eq!(pair[0].message, "small");
        assert_eq!(pair[1].message, message);
        assert_eq!(pair[1].field("blob"), Some(&OwnedValue::Str(blob.clone())));
    }
}

#[test]
fn a_record_bigger_than_the_ring_is_refused_and_counted() {
    let c = Collector::default();
    let mut config = config_with(&c);
    config.buffer_size = 10; // 1280-byte ring
    let logger = Logger::new(config).unwrap();
    let big = "y".repeat(2_000);
    match logger.info(&big, &[]) {
        Err(LogError::TooLarge { size, capacity }) => {
            assert_eq!((size, capacity), (2_020, 1_280));
        }
        other => panic!("{other:?}"),
    }
    let err = logger.info(&big, &[]).unwrap_err();
    assert!(err.to_string().contains("buffer_size"), "{err}");
    logger.info("fits", &[]).unwrap();
    logger.flush().unwrap();
    assert_eq!(c.len(), 1);
    let stats = logger.stats();
    assert_eq!((stats.dropped, stats.buffered), (2, 1));
}

#[test]
fn oversized_keys_and_too_many_fields_are_refused() {
    let c = Collector::default();
    let logger = Logger::new(config_with(&c)).unwrap();
    let key = "k".repeat(70_000);
    match logger.info("m", &[Field::new(&key, 1)]) {
        Err(LogError::KeyTooLong { key_prefix }) => assert_eq!(key_prefix, "k".repeat(32)),
        other => panic!("{other:?}"),
    }
    let many = vec![Field::new("f", 1); 70_000];
    assert!(matches!(
        logger.info("m", &many),
        Err(LogError::TooManyFields { count: 70_000 })
    ));
    assert_eq!(logger.stats().dropped, 2);
}
