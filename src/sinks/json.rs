//! The JSON-lines serializer shared by the file sink, the console sink's JSON mode and the
//! Parquet sink's `fields_json` column. String escaping and number formatting come from
//! `simd-json`'s generator (SIMD escaping, `ryu` floats, `itoa` integers).
//!
//! Mapping of field values:
//! - `I64`, `U64`: JSON integers with every digit (u64 above 2^53 stays exact; JavaScript
//!   readers lose precision there, Python, simd-json and DuckDB do not).
//! - `F64`: the shortest decimal that round-trips (always with a `.` or exponent, so it reads back
//!   as a float); NaN and ±Infinity, which JSON cannot express, become the one-key objects
//!   `{"$f64":"NaN"}`, `{"$f64":"Infinity"}`, `{"$f64":"-Infinity"}` (no other value is an object,
//!   so the mapping is unambiguous).
//! - `Bool`, `Str`, `Null`: `true`/`false`, escaped strings, `null`.

use crate::batch::RecordView;
use crate::ring::record::FieldIter;
use crate::sinks::format::write_rfc3339_nanos;
use crate::value::Value;
use simd_json::prelude::BaseGenerator;
use std::io;

/// Adapts a `Vec<u8>` to simd-json's generator.
struct VecGenerator<'a> {
    out: &'a mut Vec<u8>,
}

impl BaseGenerator for VecGenerator<'_> {
    type T = Vec<u8>;

    fn get_writer(&mut self) -> &mut Vec<u8> {
        self.out
    }

    fn write_min(&mut self, slice: &[u8], _min: u8) -> io::Result<()> {
        self.out.extend_from_slice(slice);
        Ok(())
    }
}

/// Writes `s` as a JSON string (quotes included).
pub fn write_string(out: &mut Vec<u8>, s: &str) {
    // Writing to a Vec cannot fail.
    let _ = VecGenerator { out }.write_string(s);
}

/// Writes one value per the module's mapping.
pub fn write_value(out: &mut Vec<u8>, value: &Value<'_>) {
    let mut gen = VecGenerator { out };
    let _ = match *value {
        Value::I64(v) => gen.write_int(v),
        Value::U64(v) => gen.write_int(v),
        Value::F64(v) if v.is_nan() => gen.write(br#"{"$f64":"NaN"}"#),
        Value::F64(v) if v.is_infinite() && v > 0.0 => gen.write(br#"{"$f64":"Infinity"}"#),
        Value::F64(v) if v.is_infinite() => gen.write(br#"{"$f64":"-Infinity"}"#),
        Value::F64(v) => gen.write_float(v),
        Value::Bool(v) => gen.write(if v { b"true" } else { b"false" }),
        Value::Str(s) => gen.write_string(s),
        Value::Null => gen.write(b"null"),
    };
}

/// Writes the fields as one JSON object: `{"order_id":42,"price":101.25}` (`{}` when empty).
pub fn write_fields_object(out: &mut Vec<u8>, fields: FieldIter<'_>) {
    out.push(b'{');
    for (n, (key, value)) in fields.enumerate() {
        if n > 0 {
            out.push(b',');
        }
        write_string(out, key);
        out.push(b':');
        write_value(out, &value);
    }
    out.push(b'}');
}

/// Writes one record as a JSON line, newline included:
/// `{"timestamp":"2026-11-27T12:00:00.123456789Z","level":"INFO","message":"order filled","thread_id":7,"fields":{"order_id":42}}`
/// (`fields` left out when there are none).
pub fn write_record_line(out: &mut Vec<u8>, record: &RecordView<'_>) {
    out.extend_from_slice(br#"{"timestamp":""#);
    write_rfc3339_nanos(out, record.timestamp_ns);
    out.extend_from_slice(br#"","level":""#);
    out.extend_from_slice(record.level.as_str().as_bytes());
    out.extend_from_slice(br#"","message":"#);
    write_string(out, record.message);
    out.extend_from_slice(br#","thread_id":"#);
    let _ = VecGenerator { out }.write_int(record.thread_id);
    if !record.fields.is_empty() {
        out.extend_from_slice(br#","fields":"#);
        write_fields_object(out, record.fields.clone());
    }
    out.extend_from_slice(b"}\n");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::batch::Batch;
    use crate::value::{Field, Level};

    fn line(message: &str, fields: &[Field<'_>]) -> String {
        let mut batch = Batch::new();
        batch
            .push(1_795_780_800_123_456_789, Level::Info, 7, message, fields)
            .unwrap();
        let mut out = Vec::new();
        write_record_line(&mut out, &batch.record(0));
        String::from_utf8(out).unwrap()
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
        let text = line("q\"uote\\", &fields);
        let mut bytes = text.trim_end().as_bytes().to_vec();
        let parsed = simd_json::to_owned_value(&mut bytes).expect("valid JSON");
        use simd_json::prelude::*;
        let f = parsed.get("fields").unwrap();
        assert_eq!(f.get("big").unwrap().as_u64(), Some(u64::MAX));
        assert_eq!(f.get("whole").unwrap().as_f64(), Some(3.0));
        assert_eq!(
            f.get("nan").unwrap().get("$f64").unwrap().as_str(),
            Some("NaN")
        );
        assert_eq!(
            f.get("ninf").unwrap().get("$f64").unwrap().as_str(),
            Some("-Infinity")
        );
        assert_eq!(f.get("ctl").unwrap().as_str(), Some("\u{0}\u{1f}\"\\\n😀"));
        assert_eq!(parsed.get("message").unwrap().as_str(), Some("q\"uote\\"));
    }
}
