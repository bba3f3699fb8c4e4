//! Macro calls with a literal message take the compact call-site encoding (message and keys stay
//! in a static; the ring holds an id and the values). Sinks must not be able to tell: every value
//! type arrives exactly as through `Logger::log`, through the thread's producer and an explicit
//! one, across ring wrap-arounds, and hooks still see the keys.

use crate::common;
use asynclog::{try_info, try_log, try_warn, Field, Hooks, Level, LogError, Logger, OwnedValue};
use common::*;
use std::sync::{Arc, Mutex};

fn same_record(macro_seen: &Seen, general_seen: &Seen) {
    assert_eq!(macro_seen.level, general_seen.level);
    assert_eq!(macro_seen.message, general_seen.message);
    assert_eq!(macro_seen.fields, general_seen.fields);
}

#[test]
fn every_value_type_arrives_as_through_the_general_path() {
    let collector = Collector::default();
    let logger = Logger::new(config_with(&collector)).unwrap();
    let owned = String::from("owned \"quoted\" ✓");
    let none: Option<i64> = None;
    let expected_fields = [
        Field::new("i", -7i32),
        Field::new("u", u64::MAX),
        Field::new("f", f64::NAN),
        Field::new("g", 0.1f32),
        Field::new("b", true),
        Field::new("s", "AAPL"),
        Field::new("owned", &owned),
        Field::new("empty", ""),
        Field::new("none", none),
        Field::new("some", Some(3u8)),
    ];
    try_warn!(
        logger,
        "every type",
        i = -7i32,
        u = u64::MAX,
        f = f64::NAN,
        g = 0.1f32,
        b = true,
        s = "AAPL",
        owned = &owned,
        empty = "",
        none = none,
        some = Some(3u8),
    )
    .unwrap();
    logger
        .log(Level::Warn, "every type", &expected_fields)
        .unwrap();
    try_info!(logger, "no fields").unwrap();
    logger.info("no fields", &[]).unwrap();
    let message = String::from("not a literal");
    try_info!(logger, &message, k = 1u64).unwrap();
    logger.flush().unwrap();

    let seen = collector.records();
    assert_eq!(seen.len(), 5);
    // NaN != NaN, so compare that field by its bits first, then the rest.
    for record in &seen[..2] {
        match record.field("f") {
            Some(OwnedValue::F64(f)) => assert!(f.is_nan()),
            other => panic!("f is {other:?}"),
        }
    }
    let without_nan = |s: &Seen| Seen {
        fields: s.fields.iter().filter(|(k, _)| k != "f").cloned().collect(),
        ..s.clone()
    };
    same_record(&without_nan(&seen[0]), &without_nan(&seen[1]));
    assert_eq!(seen[0].fields.len(), 10);
    assert_eq!(seen[0].field("g"), Some(&OwnedValue::F32(0.1)));
    assert_eq!(
        seen[0].field("owned"),
        Some(&OwnedValue::Str(owned.clone()))
    );
    assert_eq!(seen[0].field("none"), Some(&OwnedValue::Null));
    same_record(&seen[2], &seen[3]);
    assert!(seen[2].fields.is_empty());
    assert_eq!(seen[4].message, "not a literal");
    assert_eq!(seen[4].u64_field("k"), 1);
}

#[test]
fn records_wrapping_a_tiny_ring_arrive_intact_and_in_order() {
    let collector = Collector::default();
    let mut config = config_with(&collector);
    config.buffer_size = 2; // a ring of a few hundred bytes: records wrap every few calls
    let logger = Logger::new(config).unwrap();
    let mut producer = logger.producer().unwrap();
    const N: u64 = 5_000;
    for seq in 0..N {
        // A string whose length varies moves the wrap point through every offset of a record.
        let pad = &"abcdefghijklmnopqrstuvwxyz"[..(seq % 27) as usize];
        try_info!(logger, "via thread", seq = seq, producer = 0u64, pad = pad).unwrap();
        try_info!(
            producer,
            "via producer",
            seq = seq,
            producer = 1u64,
            pad = pad
        )
        .unwrap();
    }
    logger.flush().unwrap();
    let seen = collector.records();
    assert_eq!(seen.len() as u64, 2 * N);
    let per_producer = assert_per_producer_order(&seen);
    assert_eq!(per_producer.values().copied().collect::<Vec<_>>(), [N, N]);
    for record in &seen {
        let seq = record.u64_field("seq");
        let pad = &"abcdefghijklmnopqrstuvwxyz"[..(seq % 27) as usize];
        assert_eq!(record.field("pad"), Some(&OwnedValue::Str(pad.into())));
        let expected = ["via thread", "via producer"][record.u64_field("producer") as usize];
        assert_eq!(record.message, expected);
    }
}

#[test]
fn hooks_see_the_keys_and_level_filtering_still_applies() {
    let collector = Collector::default();
    let mut config = config_with(&collector);
    let buffered = Arc::new(Mutex::new(Vec::new()));
    let seen_by_hook = buffered.clone();
    config.hooks = Hooks::default().on_message_buffered(move |m| {
        let keys: Vec<String> = m.fields.iter().map(|f| f.key.to_owned()).collect();
        seen_by_hook
            .lock()
            .unwrap()
            .push((m.message.to_owned(), keys));
    });
    config.min_level = Level::Info;
    let logger = Logger::new(config).unwrap();
    for level in Level::ALL {
        try_log!(logger, level, "levelled", a = 1u64, b = "x").unwrap();
    }
    logger.flush().unwrap();
    assert_eq!(collector.len(), 4, "Info, Warn, Error, Fatal pass");
    let hook = buffered.lock().unwrap().clone();
    assert_eq!(hook.len(), 4);
    for (message, keys) in hook {
        assert_eq!(message, "levelled");
        assert_eq!(keys, ["a", "b"]);
    }
}

#[test]
fn a_call_site_after_close_reports_closed() {
    let collector = Collector::default();
    let logger = Logger::new(config_with(&collector)).unwrap();
    try_info!(logger, "before", n = 1u64).unwrap();
    logger.close().unwrap();
    assert!(matches!(
        try_info!(logger, "after", n = 2u64),
        Err(LogError::Closed)
    ));
    assert_eq!(collector.len(), 1);
}

#[test]
fn a_hand_made_call_site_with_the_wrong_number_of_values_takes_the_general_record() {
    use asynclog::__private::callsite::Callsite;
    use asynclog::Value;
    static SITE: Callsite = Callsite::new("hand made", &["a"]);
    let collector = Collector::default();
    let logger = Logger::new(config_with(&collector)).unwrap();
    logger
        .log_callsite(Level::Info, &SITE, [Value::U64(1), Value::U64(2)])
        .unwrap();
    logger
        .log_callsite(Level::Info, &SITE, [Value::U64(3)])
        .unwrap();
    logger.flush().unwrap();
    let seen = collector.records();
    assert_eq!(seen.len(), 2, "neither record was lost");
    assert_eq!(seen[0].message, "hand made");
    // The value without a key gets the empty key.
    assert_eq!(
        seen[0].fields,
        [
            ("a".to_owned(), OwnedValue::U64(1)),
            (String::new(), OwnedValue::U64(2))
        ]
    );
    assert_eq!(seen[1].fields, [("a".to_owned(), OwnedValue::U64(3))]);
}
