//! Awkward records through the whole engine: empty and 64 KiB messages, 1,000 fields, empty keys,
//! non-finite floats and extreme integers arrive intact (and serialize to valid JSON under the
//! documented mapping); records past the format's limits are refused with an error naming the
//! limit, counted as dropped, and leave the logger working.

use crate::sinks;

use asynclog::__private::json::write_record_line;
use asynclog::{Field, LogError, Logger, OwnedValue, RecordView};
use simd_json::prelude::*;
use sinks::{config_with, CollectSink, Owned};

/// Keeps each record as owned data plus its JSON line.
fn owned_and_json(record: &RecordView<'_>) -> (Owned, String) {
    let mut line = Vec::new();
    write_record_line(&mut line, record);
    (
        sinks::owned(record),
        String::from_utf8(line).expect("JSON lines are UTF-8"),
    )
}

fn parse(line: &str) -> simd_json::OwnedValue {
    assert!(line.ends_with('\n') && !line[..line.len() - 1].contains('\n'));
    let mut bytes = line.trim_end().as_bytes().to_vec();
    simd_json::to_owned_value(&mut bytes).unwrap_or_else(|e| panic!("{e}: {line}"))
}

#[test]
fn awkward_records_arrive_intact_and_oversized_ones_are_refused() {
    let (sink, seen) = CollectSink::new("collect", owned_and_json);
    let logger = Logger::new(config_with(vec![Box::new(sink)])).unwrap();

    let big_message = "é".repeat(32 * 1024); // 64 KiB of two-byte characters
    let thousand_keys: Vec<String> = (0..1_000).map(|i| format!("k{i}")).collect();
    let thousand: Vec<Field<'_>> = thousand_keys
        .iter()
        .enumerate()
        .map(|(i, k)| Field::new(k, i as u64))
        .collect();
    let non_finite = [
        Field::new("nan", f64::NAN),
        Field::new("inf", f64::INFINITY),
        Field::new("ninf", f64::NEG_INFINITY),
        Field::new("neg_zero", -0.0),
        Field::new("tiny", f64::from_bits(1)), // the smallest subnormal
        Field::new("max", f64::MAX),
        Field::new("u64max", u64::MAX),
        Field::new("i64min", i64::MIN),
    ];
    let empty_keys = [
        Field::new("", ""),
        Field::new("", 1),
        Field::new("", Option::<bool>::None),
    ];

    logger.info("", &[]).unwrap();
    logger.info(&big_message, &[]).unwrap();
    logger.info("thousand", &thousand).unwrap();
    logger.info("non-finite", &non_finite).unwrap();
    logger.info("empty keys", &empty_keys).unwrap();
    logger
        .info(
            "ctl \u{0}\u{1b}[31m\r\n\"\\ 😀",
            &[Field::new("\n", "\u{7f}")],
        )
        .unwrap();

    // Past the limits: each refused with an error that names the limit, counted as dropped.
    let too_many = vec![Field::new("k", 1); 65_536];
    assert!(matches!(
        logger.info("too many", &too_many),
        Err(LogError::TooManyFields { count: 65_536 })
    ));
    let long_key = format!("ключ{}", "x".repeat(70_000));
    match logger.info("long key", &[Field::new(&long_key, 1)]) {
        Err(error @ LogError::KeyTooLong { .. }) => {
            let LogError::KeyTooLong { key_prefix } = &error else {
                unreachable!()
            };
            assert!(long_key.starts_with(key_prefix.as_str()) && key_prefix.len() <= 32);
            assert!(error.to_string().contains("ключ"), "{error}");
        }
        other => panic!("expected KeyTooLong, got {other:?}"),
    }
    let huge = "x".repeat(200_000); // more than the default 128,000-byte ring
    assert!(matches!(
        logger.info(&huge, &[]),
        Err(LogError::TooLarge {
            size: 200_020,
            capacity: 128_000
        })
    ));
    logger.info("still working", &[]).unwrap();
    logger.flush().unwrap();

    let stats = logger.stats();
    assert_eq!((stats.buffered, stats.dropped, stats.delivered), (7, 3, 7));
    let seen = seen.lock().unwrap();
    let messages: Vec<&str> = seen.iter().map(|(r, _)| r.message.as_str()).collect();
    assert_eq!(
        messages,
        [
            "",
            big_message.as_str(),
            "thousand",
            "non-finite",
            "empty keys",
            "ctl \u{0}\u{1b}[31m\r\n\"\\ 😀",
            "still working"
        ]
    );
    // Every line parses back to its record's message.
    for (record, line) in seen.iter() {
        let parsed = parse(line);
        assert_eq!(
            parsed.get("message").and_then(|m| m.as_str()),
            Some(record.message.as_str())
        );
    }

    let (thousand_rec, thousand_line) = &seen[2];
    assert_eq!(thousand_rec.fields.len(), 1_000);
    assert!(thousand_rec
        .fields
        .iter()
        .enumerate()
        .all(|(i, (k, v))| *k == format!("k{i}") && *v == OwnedValue::U64(i as u64)));
    let parsed = parse(thousand_line);
    let fields = parsed.get("fields").and_then(|f| f.as_object()).unwrap();
    assert_eq!(fields.len(), 1_000);
    assert_eq!(fields.get("k999").and_then(|v| v.as_u64()), Some(999));

    let (non_finite_rec, non_finite_line) = &seen[3];
    let bits: Vec<Option<u64>> = non_finite_rec
        .fields
        .iter()
        .map(|(_, v)| match v {
            OwnedValue::F64(f) => Some(f.to_bits()),
            _ => None,
        })
        .collect();
    let want: Vec<Option<u64>> = non_finite[..6]
        .iter()
        .map(|f| match f.value {
            asynclog::Value::F64(x) => Some(x.to_bits()),
            _ => None,
        })
        .chain([None, None])
        .collect();
    assert_eq!(bits, want, "floats keep their exact bits through the ring");
    let parsed = parse(non_finite_line);
    let f = parsed.get("fields").unwrap();
    let special = |key: &str| {
        f.get(key)
            .and_then(|v| v.get("$f64"))
            .and_then(|v| v.as_str())
    };
    assert_eq!(special("nan"), Some("NaN"));
    assert_eq!(special("inf"), Some("Infinity"));
    assert_eq!(special("ninf"), Some("-Infinity"));
    let float = |key: &str| f.get(key).and_then(|v| v.as_f64()).map(f64::to_bits);
    assert_eq!(float("neg_zero"), Some((-0.0f64).to_bits()));
    assert_eq!(float("tiny"), Some(1));
    assert_eq!(float("max"), Some(f64::MAX.to_bits()));
    assert_eq!(f.get("u64max").and_then(|v| v.as_u64()), Some(u64::MAX));
    assert_eq!(f.get("i64min").and_then(|v| v.as_i64()), Some(i64::MIN));

    let (empty_rec, empty_line) = &seen[4];
    assert_eq!(
        empty_rec.fields,
        [
            (String::new(), OwnedValue::Str(String::new())),
            (String::new(), OwnedValue::I64(1)),
            (String::new(), OwnedValue::Null),
        ]
    );
    // A repeated (here: empty) key is written once, holding every value in logged order (the
    // serializer's mapping for duplicate keys, see src/sinks/json.rs).
    assert!(
        empty_line.contains(r#""fields":{"":["",1,null]}"#),
        "{empty_line}"
    );

    let (ctl_rec, ctl_line) = &seen[5];
    assert_eq!(
        ctl_rec.fields,
        [("\n".to_owned(), OwnedValue::Str("\u{7f}".into()))]
    );
    let parsed = parse(ctl_line);
    assert_eq!(
        parsed
            .get("fields")
            .and_then(|f| f.get("\n"))
            .and_then(|v| v.as_str()),
        Some("\u{7f}")
    );
    logger.close().unwrap();
}
