//! Every line a `FileSink` writes is one valid JSON object (parsed here with simd-json's DOM,
//! independently of asynclog's reader) with unique keys, for every hostile input: each nasty
//! string as message, key and value, each edge number, duplicate keys, top-level names as keys.
//! The documented mapping is checked on the parsed objects, and `read_jsonl` reverses it.

use crate::file_common;
use asynclog::{Batch, Field, FileSink, Level, OwnedValue, Sink, Value};
use file_common::*;
use simd_json::prelude::*;

fn write_batch(path: &std::path::Path, build: impl FnOnce(&mut Batch)) {
    let mut batch = Batch::new();
    build(&mut batch);
    let mut sink = FileSink::new(path).unwrap();
    sink.write_batch(&batch).unwrap();
    sink.close().unwrap();
}

fn lines(path: &std::path::Path) -> Vec<Vec<u8>> {
    let bytes = std::fs::read(path).unwrap();
    assert_eq!(bytes.last(), Some(&b'\n'), "file ends with a complete line");
    bytes[..bytes.len() - 1]
        .split(|&b| b == b'\n')
        .map(<[u8]>::to_vec)
        .collect()
}

fn parse(line: &[u8]) -> simd_json::OwnedValue {
    let mut copy = line.to_vec();
    simd_json::to_owned_value(&mut copy)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(line)))
}

#[test]
fn every_hostile_input_gives_one_valid_json_object_per_line() {
    let dir = Scratch::new("validity");
    let path = dir.join("app.log");
    let strings = nasty_strings();
    let numbers = nasty_numbers();
    write_batch(&path, |batch| {
        for s in &strings {
            batch
                .push(1, Level::Info, 1, s, &[Field::new(s, s.as_str())])
                .unwrap();
        }
        for n in &numbers {
            batch
                .push(2, Level::Warn, 2, "number", &[Field::new("n", n)])
                .unwrap();
        }
    });
    let lines = lines(&path);
    assert_eq!(
        lines.len(),
        strings.len() + numbers.len(),
        "one line per record"
    );
    for (i, line) in lines.iter().enumerate() {
        assert!(std::str::from_utf8(line).is_ok(), "line {i} is UTF-8");
        assert!(
            line.iter().all(|&b| b >= 0x20),
            "line {i} has a raw control character"
        );
        let value = parse(line);
        let object = value.as_object().expect("each line is an object");
        let keys: Vec<&str> = object.keys().map(|k| k.as_ref()).collect();
        assert_eq!(
            keys,
            ["timestamp", "level", "message", "thread_id", "fields"]
        );
    }
    for (s, line) in strings.iter().zip(&lines) {
        let value = parse(line);
        assert_eq!(
            value.get("message").and_then(|v| v.as_str()),
            Some(s.as_str())
        );
        let fields = value.get("fields").unwrap().as_object().unwrap();
        assert_eq!(fields.len(), 1);
        assert_eq!(
            fields.get(s.as_str()).and_then(|v| v.as_str()),
            Some(s.as_str())
        );
    }
    for (n, line) in numbers.iter().zip(&lines[strings.len()..]) {
        let value = parse(line);
        let got = value.get("fields").unwrap().get("n").unwrap();
        // A non-finite f32 is written as the f64 it widens to.
        let widened;
        let n = match n {
            OwnedValue::F32(f) if !f.is_finite() => {
                widened = OwnedValue::F64(f64::from(*f));
                &widened
            }
            n => n,
        };
        match n {
            OwnedValue::U64(u) => assert_eq!(got.as_u64(), Some(*u), "{n:?}"),
            OwnedValue::I64(i) => assert_eq!(got.as_i64(), Some(*i), "{n:?}"),
            OwnedValue::F64(f) if f.is_finite() => {
                assert_eq!(got.as_f64().map(f64::to_bits), Some(f.to_bits()), "{n:?}");
                let text = std::str::from_utf8(line).unwrap();
                let written = text.split("\"n\":").nth(1).unwrap();
                assert!(
                    written.contains('.') || written.contains('e'),
                    "float {f} written as {written}: reads back as a float"
                );
            }
            OwnedValue::F64(f) => {
                let name = if f.is_nan() {
                    "NaN"
                } else if *f > 0.0 {
                    "Infinity"
                } else {
                    "-Infinity"
                };
                assert_eq!(got.get("$f64").and_then(|v| v.as_str()), Some(name));
            }
            OwnedValue::F32(f) if f.is_finite() => {
                let text = std::str::from_utf8(line).unwrap();
                let written = text.split("\"n\":").nth(1).unwrap().trim_end_matches('}');
                assert_eq!(
                    written.parse::<f32>().map(f32::to_bits),
                    Ok(f.to_bits()),
                    "{written} reads back as {f:?}"
                );
                assert!(
                    written.len() <= format!("{f:?}").len(),
                    "{written}: the shortest text of {f:?}"
                );
                assert!(written.contains('.') || written.contains('e'), "{written}");
            }
            OwnedValue::Bool(b) => assert_eq!(got.as_bool(), Some(*b)),
            OwnedValue::Null => assert!(got.is_null()),
            _ => unreachable!(),
        }
    }
    // u64 above 2^53 is written with every digit.
    let text = String::from_utf8(lines[strings.len()..].concat()).unwrap();
    assert!(text.contains("\"n\":18446744073709551615}"));
    assert!(text.contains("\"n\":9007199254740993}"));

    // And the project's reader maps all of it back.
    let contents = asynclog::read_jsonl(&path).unwrap();
    assert!(contents.bad_lines.is_empty(), "{:?}", contents.bad_lines);
    assert_eq!(contents.records.len(), lines.len());
    for (n, record) in numbers.iter().zip(&contents.records[strings.len()..]) {
        let expected = expected_fields(&[("n".to_owned(), n.clone())]);
        assert_same_fields(0, &record.fields, &expected);
    }
}

#[test]
fn duplicate_keys_and_top_level_names_never_collide() {
    let dir = Scratch::new("dup-keys");
    let path = dir.join("app.log");
    let fields = [
        Field::new("message", "field, not the message"),
        Field::new("a", 1u64),
        Field::new("timestamp", "not a timestamp"),
        Field::new("a", f64::NAN),
        Field::new("fields", "nested"),
        Field::new("a", "three"),
        Field::new("level", Value::Null),
        Field::new("$f64", "NaN"),
    ];
    write_batch(&path, |batch| {
        batch
            .push(
                1_795_780_800_123_456_789,
                Level::Error,
                9,
                "the message",
                &fields,
            )
            .unwrap();
    });
    let lines = lines(&path);
    assert_eq!(lines.len(), 1);
    let text = std::str::from_utf8(&lines[0]).unwrap();
    assert_eq!(
        text,
        concat!(
            r#"{"timestamp":"2026-11-27T12:00:00.123456789Z","level":"ERROR","message":"the message","#,
            r#""thread_id":9,"fields":{"message":"field, not the message","a":[1,{"$f64":"NaN"},"three"],"#,
            r#""timestamp":"not a timestamp","fields":"nested","level":null,"$f64":"NaN"}}"#
        )
    );
    let value = parse(&lines[0]);
    assert_eq!(
        value.get("message").and_then(|v| v.as_str()),
        Some("the message")
    );
    assert_eq!(value.get("level").and_then(|v| v.as_str()), Some("ERROR"));

    let record = asynclog::read_jsonl(&path).unwrap().records.remove(0);
    let owned: Vec<(String, OwnedValue)> = fields
        .iter()
        .map(|f| (f.key.to_owned(), OwnedValue::from(f.value)))
        .collect();
    assert_same_fields(0, &record.fields, &expected_fields(&owned));
    assert_eq!(record.field("$f64"), Some(&OwnedValue::Str("NaN".into())));
}

#[test]
fn rewritten_duplicate_keys_leave_only_zeros_after_the_last_line() {
    // A duplicate key found mid-object makes the serializer take the object back and write it
    // grouped; what it took back must not linger in the map past the last line.
    let dir = Scratch::new("dup-tail");
    let path = dir.join("app.log");
    let mut batch = Batch::new();
    let long = "v".repeat(200);
    for seq in 0..10u64 {
        let fields = [
            Field::new("seq", seq),
            Field::new("a", long.as_str()),
            Field::new("b", long.as_str()),
            Field::new("a", 1u64),
        ];
        batch.push(1, Level::Info, 1, "dup", &fields).unwrap();
    }
    let mut sink = FileSink::new(&path).unwrap();
    sink.write_batch(&batch).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    let len = sink.file_len() as usize;
    assert!(bytes.len() > len, "the file is preallocated while open");
    assert!(
        bytes[len..].iter().all(|&b| b == 0),
        "only zeros after the last line"
    );
    let contents = asynclog::read_jsonl(&path).unwrap();
    assert_eq!(contents.records.len(), 10);
    assert_eq!(contents.tail.torn, None);
    sink.close().unwrap();
}
