//! The JSON-lines serializer shared by the file sink, the console sink's JSON mode and the
//! Parquet sink's `fields_json` column. String escaping and number formatting come from
//! `simd-json`'s generator (SIMD escaping, `ryu` floats, `itoa` integers).
//!
//! One record is one line:
//!
//! ```text
//! {"timestamp":"2026-11-27T12:00:00.123456789Z","level":"INFO","message":"order filled","thread_id":7,"fields":{"order_id":42,"price":101.25,"symbol":"AAPL"}}
//! ```
//!
//! Every line is valid RFC 8259 JSON for any input, with unique object keys:
//!
//! - **Top-level names** are fixed (`timestamp`, `level`, `message`, `thread_id`, `fields`);
//!   user fields live inside `"fields"`, so a field called `message` or `fields` collides with
//!   nothing. `"fields"` is left out when a record has none.
//! - **Strings** (messages, keys, values): `"` and `\` are escaped, every control character
//!   U+0000..U+001F is escaped (`\n`, `\t`, … or `\u00XX`), everything else, including non-BMP
//!   characters, is written as UTF-8. A line therefore never contains a raw newline or NUL byte,
//!   which is what lets readers treat NUL as "never written" (see the file sink).
//! - **Integers** (`I64`, `U64`): every digit; a u64 above 2^53 stays exact (JavaScript readers
//!   lose precision there; Python, simd-json and DuckDB do not).
//! - **Finite floats**: the shortest decimal that round-trips, always with a `.` or an exponent
//!   (`3.0`, `1e300`, `-0.0`), so it reads back as a float.
//! - **NaN and ±Infinity**, which JSON cannot express, become the one-key objects
//!   `{"$f64":"NaN"}`, `{"$f64":"Infinity"}`, `{"$f64":"-Infinity"}`. No other field value is an
//!   object, so the mapping is unambiguous; the NaN payload and sign are not kept.
//! - **Duplicate keys** in one record: RFC 8259 says names SHOULD be unique and readers disagree
//!   on duplicates (Python keeps the last, others the first), so a key that occurs more than once
//!   is written once, at its first position, with a JSON array of its values in logged order:
//!   `[a=1, b=2, a=3]` becomes `{"a":[1,3],"b":2}`. No other field value is an array, so this is
//!   unambiguous too; only the interleaving of different keys is lost.
//! - `Bool`, `Null`: `true`/`false`, `null`.
//!
//! [`read_jsonl`](crate::read_jsonl) reverses this mapping.

use crate::batch::{Batch, RecordView};
use crate::ring::record::FieldIter;
use crate::sinks::format::{rfc3339_nanos, RFC3339_NANOS_LEN};
use crate::value::{Level, Value};
use simd_json::prelude::BaseGenerator;
use std::collections::HashMap;
use std::io::{self, Write};

/// The key of the object that stands for a non-finite float: `{"$f64":"NaN"}`.
pub const NON_FINITE_KEY: &str = "$f64";

/// Fixed bytes of a line, at most (everything but the message and the fields): the four
/// top-level names, a 30-byte timestamp, the level, a 20-digit thread id, braces and newline.
const LINE_OVERHEAD_BOUND: usize = 128;
/// Escaping makes a string at most 6 times longer (`\u00XX` per byte).
const STRING_EXPANSION: usize = 6;
/// A field's JSON is at most this many times its encoded size (see [`line_bound`]).
const FIELD_EXPANSION: usize = 10;
/// Up to this many fields, duplicate keys are looked for by comparing every pair, without
/// allocating; above it, by sorting the keys.
const PAIRWISE_DUPLICATE_CHECK: usize = 32;

/// Adapts any `io::Write` (a `Vec<u8>`, a slice of a memory map) to simd-json's generator.
struct Gen<'a, W: Write> {
    out: &'a mut W,
}

impl<W: Write> BaseGenerator for Gen<'_, W> {
    type T = W;

    #[inline(always)]
    fn get_writer(&mut self) -> &mut W {
        self.out
    }

    #[inline(always)]
    fn write_min(&mut self, slice: &[u8], _min: u8) -> io::Result<()> {
        self.out.write_all(slice)
    }
}

/// An upper bound on the bytes [`write_record_line`] writes for a record whose message is
/// `message_len` bytes and whose encoded field region is `field_region_len` bytes.
///
/// Why it holds: the fixed parts take at most [`LINE_OVERHEAD_BOUND`] bytes; the message at
/// most `2 + 6 * len`. A field encoded as `2 + k + 1 + payload` bytes (key of `k` bytes) writes
/// at most `6k + 4` bytes of separator, quoted key and colon, plus a value of at most 24 bytes
/// (`-2.2250738585072014e-308`; integers take at most 20, `{"$f64":"-Infinity"}` 20, a string
/// of `s` bytes with its 4-byte length prefix `2 + 6s`), and grouping duplicates only removes
/// repeated keys while adding two brackets per group. `6k + 28 <= 10 * (3 + k)`, and a string
/// field's `6k + 6s + 6 <= 10 * (7 + k + s)`, so ten times the encoded size covers every field.
#[inline]
pub fn line_bound(message_len: usize, field_region_len: usize) -> usize {
    LINE_OVERHEAD_BOUND + STRING_EXPANSION * message_len + FIELD_EXPANSION * field_region_len
}

/// An upper bound on the bytes of every line of `batch` together (the sum of [`line_bound`]).
#[inline]
pub fn batch_bound(batch: &Batch) -> usize {
    LINE_OVERHEAD_BOUND * batch.len()
        + STRING_EXPANSION * batch.message_bytes().len()
        + FIELD_EXPANSION * batch.field_bytes().len()
}

/// Writes `s` as a JSON string (quotes included).
pub fn write_string(out: &mut Vec<u8>, s: &str) {
    // Writing to a Vec cannot fail.
    let _ = write_string_to(out, s);
}

/// [`write_string`] to any writer.
#[inline]
pub fn write_string_to<W: Write>(out: &mut W, s: &str) -> io::Result<()> {
    Gen { out }.write_string(s)
}

/// Writes one value per the module's mapping.
pub fn write_value(out: &mut Vec<u8>, value: &Value<'_>) {
    let _ = write_value_to(out, value);
}

/// [`write_value`] to any writer.
#[inline]
pub fn write_value_to<W: Write>(out: &mut W, value: &Value<'_>) -> io::Result<()> {
    let mut gen = Gen { out };
    match *value {
        Value::I64(v) => gen.write_int(v),
        Value::U64(v) => gen.write_int(v),
        Value::F64(v) if v.is_finite() => gen.write_float(v),
        Value::F64(v) if v.is_nan() => gen.write(br#"{"$f64":"NaN"}"#),
        Value::F64(v) if v > 0.0 => gen.write(br#"{"$f64":"Infinity"}"#),
        Value::F64(_) => gen.write(br#"{"$f64":"-Infinity"}"#),
        Value::Bool(v) => gen.write(if v { b"true" } else { b"false" }),
        Value::Str(s) => gen.write_string(s),
        Value::Null => gen.write(b"null"),
    }
}

/// Writes the fields as one JSON object: `{"order_id":42,"price":101.25}` (`{}` when empty).
/// A key logged more than once becomes one key with an array of its values (see the module
/// docs).
pub fn write_fields_object(out: &mut Vec<u8>, fields: FieldIter<'_>) {
    let _ = write_fields_object_to(out, fields);
}

/// [`write_fields_object`] to any writer.
pub fn write_fields_object_to<W: Write>(out: &mut W, fields: FieldIter<'_>) -> io::Result<()> {
    if has_duplicate_keys(&fields) {
        return write_grouped_fields(out, fields);
    }
    out.write_all(b"{")?;
    for (n, (key, value)) in fields.enumerate() {
        if n > 0 {
            out.write_all(b",")?;
        }
        write_string_to(out, key)?;
        out.write_all(b":")?;
        write_value_to(out, &value)?;
    }
    out.write_all(b"}")
}

/// Whether two fields share a key. Pairwise for the usual handful of fields (no allocation);
/// by sorting above [`PAIRWISE_DUPLICATE_CHECK`].
fn has_duplicate_keys(fields: &FieldIter<'_>) -> bool {
    for (n, (key, _)) in fields.clone().enumerate() {
        if n >= PAIRWISE_DUPLICATE_CHECK {
            let mut keys: Vec<&str> = fields.clone().map(|(k, _)| k).collect();
            keys.sort_unstable();
            return keys.windows(2).any(|w| w[0] == w[1]);
        }
        if fields.clone().take(n).any(|(earlier, _)| earlier == key) {
            return true;
        }
    }
    false
}

/// The rare path: some key occurs more than once. Allocates.
#[cold]
fn write_grouped_fields<W: Write>(out: &mut W, fields: FieldIter<'_>) -> io::Result<()> {
    let mut groups: Vec<(&str, Vec<Value<'_>>)> = Vec::new();
    let mut index: HashMap<&str, usize> = HashMap::new();
    for (key, value) in fields {
        let slot = *index.entry(key).or_insert_with(|| {
            groups.push((key, Vec::new()));
            groups.len() - 1
        });
        groups[slot].1.push(value);
    }
    out.write_all(b"{")?;
    for (n, (key, values)) in groups.iter().enumerate() {
        if n > 0 {
            out.write_all(b",")?;
        }
        write_string_to(out, key)?;
        out.write_all(b":")?;
        if let [value] = values.as_slice() {
            write_value_to(out, value)?;
        } else {
            out.write_all(b"[")?;
            for (i, value) in values.iter().enumerate() {
                if i > 0 {
                    out.write_all(b",")?;
                }
                write_value_to(out, value)?;
            }
            out.write_all(b"]")?;
        }
    }
    out.write_all(b"}")
}

/// Writes one record as a JSON line, newline included:
/// `{"timestamp":"2026-11-27T12:00:00.123456789Z","level":"INFO","message":"order filled","thread_id":7,"fields":{"order_id":42}}`
/// (`fields` left out when there are none). At most [`line_bound`] bytes.
pub fn write_record_line(out: &mut Vec<u8>, record: &RecordView<'_>) {
    let _ = write_record_line_to(out, record);
}

/// [`write_record_line`] to any writer; the file sink writes straight into its memory map.
#[inline]
pub fn write_record_line_to<W: Write>(out: &mut W, record: &RecordView<'_>) -> io::Result<()> {
    // The fixed head of the line is assembled on the stack and written in one call:
    // `{"timestamp":"<30 bytes>","level":"<level>","message":`.
    const TS: &[u8] = br#"{"timestamp":""#;
    const LEVEL: &[u8] = br#"","level":""#;
    const MESSAGE: &[u8] = br#"","message":"#;
    let mut head = [0u8; TS.len() + RFC3339_NANOS_LEN + LEVEL.len() + 5 + MESSAGE.len()];
    let mut len = 0;
    for part in [
        TS,
        &rfc3339_nanos(record.timestamp_ns),
        LEVEL,
        level_name(record.level),
        MESSAGE,
    ] {
        head[len..len + part.len()].copy_from_slice(part);
        len += part.len();
    }
    out.write_all(&head[..len])?;
    write_string_to(out, record.message)?;
    out.write_all(br#","thread_id":"#)?;
    Gen { out }.write_int(record.thread_id)?;
    if !record.fields.is_empty() {
        out.write_all(br#","fields":"#)?;
        write_fields_object_to(out, record.fields.clone())?;
    }
    out.write_all(b"}\n")
}

#[inline(always)]
fn level_name(level: Level) -> &'static [u8] {
    level.as_str().as_bytes()
}

/// A writer over a fixed slice (a window of the file sink's memory map). Running out of room
/// is an error (`WriteZero`), never a panic; callers size the slice with [`line_bound`].
#[derive(Debug)]
pub(crate) struct SliceWriter<'a> {
    buf: &'a mut [u8],
    pos: usize,
}

impl<'a> SliceWriter<'a> {
    pub(crate) fn new(buf: &'a mut [u8]) -> Self {
        SliceWriter { buf, pos: 0 }
    }

    /// Bytes written so far.
    pub(crate) fn position(&self) -> usize {
        self.pos
    }
}

impl Write for SliceWriter<'_> {
    #[inline]
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.write_all(data).map(|()| data.len())
    }

    #[inline(always)]
    fn write_all(&mut self, data: &[u8]) -> io::Result<()> {
        let end = self.pos + data.len();
        match self.buf.get_mut(self.pos..end) {
            Some(dst) => {
                dst.copy_from_slice(data);
                self.pos = end;
                Ok(())
            }
            None => Err(io::Error::new(
                io::ErrorKind::WriteZero,
                "JSON line longer than its computed bound",
            )),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::Field;
    use simd_json::prelude::*;

    fn line(message: &str, fields: &[Field<'_>]) -> String {
        let mut batch = Batch::new();
        batch
            .push(1_795_780_800_123_456_789, Level::Info, 7, message, fields)
            .unwrap();
        let mut out = Vec::new();
        write_record_line(&mut out, &batch.record(0));
        assert!(out.len() <= batch_bound(&batch));
        String::from_utf8(out).unwrap()
    }

    fn parse(text: &str) -> simd_json::OwnedValue {
        let mut bytes = text.trim_end().as_bytes().to_vec();
        simd_json::to_owned_value(&mut bytes).expect("valid JSON")
    }

    #[test]
    fn record_line_has_the_documented_shape() {
        let fields = [
            Field::new("order_id", 42u64),
            Field::new("price", 101.25),
            Field::new("symbol", "AAPL"),
        ];
        assert_eq!(
            line("order filled", &fields),
            "{\"timestamp\":\"2026-11-27T12:00:00.123456789Z\",\"level\":\"INFO\",\"message\":\"order filled\",\"thread_id\":7,\"fields\":{\"order_id\":42,\"price\":101.25,\"symbol\":\"AAPL\"}}\n"
        );
        assert!(!line("none", &[]).contains("\"fields\""));
    }

    #[test]
    fn awkward_values_stay_valid_json() {
        let fields = [
            Field::new("nan", f64::NAN),
            Field::new("inf", f64::INFINITY),
            Field::new("ninf", f64::NEG_INFINITY),
            Field::new("big", u64::MAX),
            Field::new("whole", 3.0),
            Field::new("ctl", "\u{0}\u{1f}\"\\\n😀"),
        ];
        let parsed = parse(&line("q\"uote\\", &fields));
        let f = parsed.get("fields").unwrap();
        assert_eq!(f.get("big").unwrap().as_u64(), Some(u64::MAX));
        assert_eq!(f.get("whole").unwrap().as_f64(), Some(3.0));
        assert_eq!(
            f.get("nan").unwrap().get("$f64").unwrap().as_str(),
            Some("NaN")
        );
        assert_eq!(
            f.get("inf").unwrap().get("$f64").unwrap().as_str(),
            Some("Infinity")
        );
        assert_eq!(
            f.get("ninf").unwrap().get("$f64").unwrap().as_str(),
            Some("-Infinity")
        );
        assert_eq!(f.get("ctl").unwrap().as_str(), Some("\u{0}\u{1f}\"\\\n😀"));
        assert_eq!(parsed.get("message").unwrap().as_str(), Some("q\"uote\\"));
    }

    #[test]
    fn every_control_character_is_escaped() {
        let all: String = (0u8..0x20).map(char::from).collect();
        let text = line(&all, &[Field::new(&all, all.as_str())]);
        assert!(text.bytes().take(text.len() - 1).all(|b| b >= 0x20));
        let parsed = parse(&text);
        assert_eq!(parsed.get("message").unwrap().as_str(), Some(all.as_str()));
        let fields = parsed.get("fields").unwrap().as_object().unwrap();
        assert_eq!(
            fields.get(all.as_str()).unwrap().as_str(),
            Some(all.as_str())
        );
    }

    #[test]
    fn duplicate_keys_are_grouped_into_arrays() {
        let fields = [
            Field::new("a", 1u64),
            Field::new("b", "x"),
            Field::new("a", f64::NAN),
            Field::new("a", "three"),
        ];
        let text = line("dup", &fields);
        assert!(
            text.contains(r#""fields":{"a":[1,{"$f64":"NaN"},"three"],"b":"x"}"#),
            "{text}"
        );
        // Above the pairwise limit, found by sorting.
        let keys: Vec<String> = (0..40).map(|i| format!("k{}", i % 39)).collect();
        let many: Vec<Field<'_>> = keys.iter().map(|k| Field::new(k, 1u64)).collect();
        let text = line("many", &many);
        assert!(text.contains(r#""k0":[1,1]"#), "{text}");
        assert!(text.contains(r#""k38":1}"#), "{text}");
        // Unique keys above the limit stay a plain object.
        let keys: Vec<String> = (0..40).map(|i| format!("u{i}")).collect();
        let many: Vec<Field<'_>> = keys.iter().map(|k| Field::new(k, 2u64)).collect();
        assert!(!line("many", &many).contains('['));
    }

    #[test]
    fn top_level_names_as_field_keys_stay_nested() {
        let fields = [
            Field::new("message", "inner"),
            Field::new("timestamp", 1u64),
            Field::new("fields", "f"),
            Field::new("$f64", "NaN"),
        ];
        let parsed = parse(&line("outer", &fields));
        assert_eq!(parsed.get("message").unwrap().as_str(), Some("outer"));
        let f = parsed.get("fields").unwrap();
        assert_eq!(f.get("message").unwrap().as_str(), Some("inner"));
        assert_eq!(f.get("fields").unwrap().as_str(), Some("f"));
        assert_eq!(f.get("$f64").unwrap().as_str(), Some("NaN"));
    }

    #[test]
    fn lines_never_exceed_their_bound() {
        // Worst cases per value kind, with keys and strings made of bytes that escape to 6.
        let ugly = "\u{1}".repeat(50);
        let values = [
            Value::I64(i64::MIN),
            Value::U64(u64::MAX),
            Value::F64(-2.2250738585072014e-308),
            Value::F64(f64::NEG_INFINITY),
            Value::F64(f64::NAN),
            Value::Bool(false),
            Value::Null,
            Value::Str(&ugly),
            Value::Str(""),
        ];
        for key in ["", ugly.as_str()] {
            for value in values {
                for count in [1, 2, 5] {
                    let fields = vec![Field { key, value }; count];
                    let mut batch = Batch::new();
                    batch
                        .push(i64::MIN, Level::Error, u64::MAX, &ugly, &fields)
                        .unwrap();
                    let mut out = Vec::new();
                    write_record_line(&mut out, &batch.record(0));
                    let bound = line_bound(batch.message(0).len(), batch.field_region(0).len());
                    assert!(out.len() <= bound, "{} > {bound}", out.len());
                    assert_eq!(bound, batch_bound(&batch));
                }
            }
        }
    }

    #[test]
    fn slice_writer_refuses_to_overflow() {
        let mut buf = [0u8; 4];
        let mut w = SliceWriter::new(&mut buf);
        w.write_all(b"abc").unwrap();
        assert_eq!(
            w.write_all(b"de").unwrap_err().kind(),
            io::ErrorKind::WriteZero
        );
        assert_eq!(w.position(), 3);
    }
}
