//! A record as one JSON line, and its fields as one JSON object, per the mapping in the
//! [module docs](super).

use super::number::{write_f32, write_f64, write_i64, write_u64};
use super::out::JsonOut;
use super::string::{is_plain, write_escaped, write_utf8_to, STRING_EXPANSION};
use crate::batch::{raw_fields, Batch, RecordView};
use crate::ring::callsite::MAX_CALLSITES;
use crate::ring::copy::copy_small;
use crate::ring::record::{read_raw_value, FieldIter, RawFields, RawValue};
use crate::sinks::format::{
    put_rfc3339_fraction, rfc3339_nanos, write_u64_digits, RFC3339_NANOS_LEN, RFC3339_SECONDS_LEN,
    U64_DIGITS_MAX,
};
use crate::value::{Level, Value};
use std::collections::HashMap;
use std::io;

/// Fixed bytes of a line, at most (everything but the message and the fields): the four
/// top-level names, a 30-byte timestamp, the level, a 20-digit thread id, braces and newline.
const LINE_OVERHEAD_BOUND: usize = 128;
/// A field's JSON is at most this many times its encoded size (see [`line_bound`]).
const FIELD_EXPANSION: usize = 10;
/// Up to this many fields, duplicate keys are found by comparing each key with the ones before
/// it, without allocating; above it, by sorting the keys.
const TRACKED_KEYS: usize = 16;

/// An upper bound on the bytes [`write_record_line`] writes for a record whose message is
/// `message_len` bytes and whose encoded field region is `field_region_len` bytes.
///
/// Why it holds: the fixed parts take at most 128 bytes; the message at
/// most `2 + 6 * len`. A field encoded as `2 + k + 1 + payload` bytes (key of `k` bytes) writes
/// at most `6k + 4` bytes of separator, quoted key and colon, plus a value of at most 24 bytes
/// (`-2.2250738585072014e-308`; integers take at most 20, `{"$f64":"-Infinity"}` 20, a string
/// of `s` bytes with its 4-byte length prefix `2 + 6s`), and grouping duplicates only removes
/// repeated keys while adding two brackets per group. `6k + 28 <= 10 * (3 + k)` (an `f32`,
/// 4 payload bytes and at most 20 of text: `6k + 24 <= 10 * (7 + k)`), and a string field's
/// `6k + 6s + 6 <= 10 * (7 + k + s)`, so ten times the encoded size covers every field.
#[inline]
pub fn line_bound(message_len: usize, field_region_len: usize) -> usize {
    LINE_OVERHEAD_BOUND + STRING_EXPANSION * message_len + FIELD_EXPANSION * field_region_len
}

/// An upper bound on the bytes of every line of `batch` together (the sum of [`line_bound`]).
#[inline]
pub fn batch_bound(batch: &Batch) -> usize {
    // A call-site record's region leaves its keys out; counting them back gives the size of
    // the keyed region the bound is proven for.
    LINE_OVERHEAD_BOUND * batch.len()
        + STRING_EXPANSION * batch.message_bytes().len()
        + FIELD_EXPANSION * (batch.field_bytes().len() + batch.callsite_key_bytes())
}

/// Writes one value per the module's mapping.
pub fn write_value(out: &mut Vec<u8>, value: &Value<'_>) {
    let _ = write_value_to(out, value);
}

#[inline]
fn write_value_to<W: JsonOut>(out: &mut W, value: &Value<'_>) -> io::Result<()> {
    write_raw_value_to(out, RawValue::from(*value))
}

/// Writes one value per the module's mapping; strings take the same path as keys and messages.
#[inline(always)]
fn write_raw_value_to<W: JsonOut>(out: &mut W, value: RawValue<'_>) -> io::Result<()> {
    match value {
        RawValue::I64(v) => write_i64(out, v),
        RawValue::U64(v) => write_u64(out, v),
        RawValue::F64(v) => write_f64(out, v),
        RawValue::F32(v) => write_f32(out, v),
        RawValue::Bool(v) => out.write_all(if v { b"true" } else { b"false" }),
        RawValue::Str(s) => write_utf8_to(out, s),
        RawValue::Null => out.write_all(b"null"),
    }
}

/// Writes the fields as one JSON object: `{"order_id":42,"price":101.25}` (`{}` when empty).
/// A key logged more than once becomes one key with an array of its values (see the module
/// docs).
pub fn write_fields_object(out: &mut Vec<u8>, fields: FieldIter<'_>) {
    out.push(b'{');
    let _ = write_members(out, fields.map(raw_field));
    out.push(b'}');
}

/// [`write_fields_object`] for a batch record's raw fields, into any [`JsonOut`]
/// (the Parquet sink's `fields_json` column): the fields are read as bytes, like the file sink's.
#[cfg(feature = "parquet")]
pub(crate) fn write_fields_object_to<W: JsonOut>(
    out: &mut W,
    callsite_keys: &mut CallsiteKeys,
    callsite: u32,
    fields: RawFields<'_>,
) -> io::Result<()> {
    out.write_all(b"{")?;
    callsite_keys.write_members(out, callsite, fields)?;
    out.write_all(b"}")
}

/// A `FieldIter` item as a `RawFields` one.
#[inline(always)]
fn raw_field<'a>((key, value): (&'a str, Value<'a>)) -> (&'a [u8], RawValue<'a>) {
    (key.as_bytes(), RawValue::from(value))
}

/// Writes the members of the fields object, `"k":v,"k2":v2`, without the braces, in one pass
/// over the fields, remembering the keys seen; the pass is only repeated, in the grouped form,
/// when a key turns out to be a duplicate.
#[inline]
fn write_members<'a, W: JsonOut>(
    out: &mut W,
    fields: impl Iterator<Item = (&'a [u8], RawValue<'a>)> + Clone,
) -> io::Result<()> {
    let start = out.position();
    let mut seen: [&[u8]; TRACKED_KEYS] = [&[]; TRACKED_KEYS];
    for (count, (key, value)) in fields.clone().enumerate() {
        if count < TRACKED_KEYS {
            if seen[..count].contains(&key) {
                out.rewind(start);
                return write_grouped_members(out, fields);
            }
            seen[count] = key;
        } else if count == TRACKED_KEYS && has_duplicate_keys(fields.clone()) {
            out.rewind(start);
            return write_grouped_members(out, fields);
        }
        write_key(out, count == 0, key)?;
        write_raw_value_to(out, value)?;
    }
    Ok(())
}

/// Writes `"key":`, preceded by a comma unless it is the first member; a plain key takes three
/// copies (`,"` then the key then `":`).
#[inline(always)]
fn write_key<W: JsonOut>(out: &mut W, first: bool, key: &[u8]) -> io::Result<()> {
    if is_plain(key) {
        out.write_all(&b",\""[usize::from(first)..])?;
        out.write_all(key)?;
        out.write_all(b"\":")
    } else {
        if !first {
            out.write_all(b",")?;
        }
        write_escaped(out, key)?;
        out.write_all(b":")
    }
}

/// Whether two fields share a key, by sorting the keys (for records with many fields).
#[cold]
fn has_duplicate_keys<'a>(fields: impl Iterator<Item = (&'a [u8], RawValue<'a>)>) -> bool {
    let mut keys: Vec<&[u8]> = fields.map(|(k, _)| k).collect();
    keys.sort_unstable();
    keys.windows(2).any(|w| w[0] == w[1])
}

/// The rare path: some key occurs more than once. Allocates.
#[cold]
fn write_grouped_members<'a, W: JsonOut>(
    out: &mut W,
    fields: impl Iterator<Item = (&'a [u8], RawValue<'a>)>,
) -> io::Result<()> {
    let mut groups: Vec<(&[u8], Vec<RawValue<'_>>)> = Vec::new();
    let mut index: HashMap<&[u8], usize> = HashMap::new();
    for (key, value) in fields {
        let slot = *index.entry(key).or_insert_with(|| {
            groups.push((key, Vec::new()));
            groups.len() - 1
        });
        groups[slot].1.push(value);
    }
    for (n, (key, values)) in groups.iter().enumerate() {
        write_key(out, n == 0, key)?;
        if let [value] = values.as_slice() {
            write_raw_value_to(out, *value)?;
        } else {
            out.write_all(b"[")?;
            for (i, value) in values.iter().enumerate() {
                if i > 0 {
                    out.write_all(b",")?;
                }
                write_raw_value_to(out, *value)?;
            }
            out.write_all(b"]")?;
        }
    }
    Ok(())
}

/// Writes one record as a JSON line, newline included:
/// `{"timestamp":"2026-11-27T12:00:00.123456789Z","level":"INFO","message":"order filled","thread_id":7,"fields":{"order_id":42}}`
/// (`fields` left out when there are none). At most [`line_bound`] bytes. To write many lines,
/// [`LineEncoder`] is faster: it formats each second's date and time once.
pub fn write_record_line(out: &mut Vec<u8>, record: &RecordView<'_>) {
    let _ = LineEncoder::new().write_line(out, record);
}

/// Serializes records to JSON lines (see [`write_record_line`]), keeping the formatted date and
/// time of the last second it saw, and the formatted thread id of the last thread, since
/// consecutive records almost always share them.
#[derive(Debug, Clone)]
pub struct LineEncoder {
    /// Whole seconds since the epoch that `date_time` shows.
    cached_secs: i64,
    /// `2026-11-27T12:00:00` for `cached_secs`.
    date_time: [u8; DATE_TIME_LEN],
    /// The thread id that `middle` shows.
    thread_id: u64,
    /// `","thread_id":7,"fields":{` for `thread_id`: what follows a message, from the quote
    /// that closes a plain message to the brace that opens the fields.
    middle: [u8; MIDDLE_MAX],
    /// Bytes of `middle` in use.
    middle_len: usize,
    /// The JSON of macro call sites' keys.
    callsite_keys: CallsiteKeys,
}

/// The JSON of each macro call site's keys, indexed by call-site id, made the first time a
/// record of that call site is written: a call-site record's fields are then written as one
/// copy of a key's fragment and one value per field, without scanning or quoting keys.
#[derive(Debug, Clone, Default)]
pub(crate) struct CallsiteKeys {
    table: Vec<Option<KeyFragments>>,
}

impl CallsiteKeys {
    /// Writes the members of a fields object, `"k":v,"k2":v2`, without the braces, for a record
    /// with call-site id `callsite` (0: its region holds its keys) and raw fields `fields`.
    #[inline]
    pub(crate) fn write_members<W: JsonOut>(
        &mut self,
        out: &mut W,
        callsite: u32,
        fields: RawFields<'_>,
    ) -> io::Result<()> {
        let fragments = fields
            .callsite_keys()
            .and_then(|keys| self.fragments(callsite, keys));
        let Some(fragments) = fragments else {
            return write_members(out, fields);
        };
        let (mut start, mut values) = (0, fields.rest());
        for &end in &fragments.ends {
            // A batch holds one well-formed value per key (checked when the record was added).
            let Ok((value, rest)) = read_raw_value(values) else {
                break;
            };
            out.write_all(&fragments.rendered[start..end])?;
            write_raw_value_to(out, value)?;
            (start, values) = (end, rest);
        }
        Ok(())
    }

    /// The fragments of call site `id`, made from `keys` on its first record; `None` when its
    /// keys repeat (the general path groups them) or past the call-site table's size.
    #[inline]
    fn fragments(&mut self, id: u32, keys: &[&str]) -> Option<&KeyFragments> {
        let id = id as usize;
        if id >= MAX_CALLSITES {
            return None;
        }
        if id >= self.table.len() {
            self.table.resize(id + 1, None);
        }
        Some(&*self.table[id].get_or_insert_with(|| KeyFragments::new(keys))).filter(|f| f.usable)
    }
}

/// A call site's keys as JSON object members need them: `"order_id":`, `,"price":`, ... back
/// to back, so a record's fields are one copy and one value per field.
#[derive(Debug, Clone)]
struct KeyFragments {
    rendered: Vec<u8>,
    /// Where each key's fragment ends in `rendered`.
    ends: Vec<usize>,
    /// False when a key repeats: such records take the general path, which groups duplicates.
    usable: bool,
}

impl KeyFragments {
    fn new(keys: &[&str]) -> KeyFragments {
        let mut rendered = Vec::new();
        let mut ends = Vec::with_capacity(keys.len());
        for (i, key) in keys.iter().enumerate() {
            let _ = write_key(&mut rendered, i == 0, key.as_bytes());
            ends.push(rendered.len());
        }
        let usable = !has_duplicate_keys(keys.iter().map(|k| (k.as_bytes(), RawValue::Null)));
        KeyFragments {
            rendered,
            ends,
            usable,
        }
    }
}

impl Default for LineEncoder {
    fn default() -> Self {
        Self::new()
    }
}

/// `2026-11-27T12:00:00`: the part of a timestamp before the fraction.
const DATE_TIME_LEN: usize = RFC3339_SECONDS_LEN;
/// Before the thread id in [`LineEncoder::middle`].
const MIDDLE_HEAD: &[u8] = br#"","thread_id":"#;
/// After the thread id in [`LineEncoder::middle`], when the record has fields.
const FIELDS_OPEN: &[u8] = br#","fields":{"#;
/// The longest [`LineEncoder::middle`]: a 20-digit thread id.
const MIDDLE_MAX: usize = MIDDLE_HEAD.len() + U64_DIGITS_MAX + FIELDS_OPEN.len();

impl LineEncoder {
    /// An encoder with nothing cached.
    pub fn new() -> LineEncoder {
        let mut encoder = LineEncoder {
            cached_secs: i64::MIN,
            date_time: [0; DATE_TIME_LEN],
            thread_id: 0,
            middle: [0; MIDDLE_MAX],
            middle_len: 0,
            callsite_keys: CallsiteKeys::default(),
        };
        encoder.set_thread_id(0);
        encoder
    }

    /// Appends one record as a JSON line to `out`.
    pub fn encode(&mut self, out: &mut Vec<u8>, record: &RecordView<'_>) {
        let _ = self.write_line(out, record);
    }

    /// Writes one line; fails only when `out` does (a slice out of room).
    #[inline]
    pub(crate) fn write_line<W: JsonOut>(
        &mut self,
        out: &mut W,
        record: &RecordView<'_>,
    ) -> io::Result<()> {
        let has_fields = !record.fields.is_empty();
        let message = record.message.as_bytes();
        self.write_head(
            out,
            record.timestamp_ns,
            record.level,
            record.thread_id,
            message,
            has_fields,
        )?;
        write_fields_and_end(out, has_fields, |out| {
            write_members(out, record.fields.clone().map(raw_field))
        })
    }

    /// Writes every record of `batch`, one line each, reading the batch's columns directly.
    // NB: going through `Batch::record` re-validates each message as UTF-8, which was ~5% of
    // the file sink's time in benches/file_sink.rs; the column is UTF-8 by `Batch`'s invariant.
    // The fields are read as bytes (`RawFields`) for the same reason: `FieldIter` validating
    // keys and strings cost 106 ns per record against 16 ns (`field_iteration_*_8192`).
    pub(crate) fn write_batch<W: JsonOut>(&mut self, out: &mut W, batch: &Batch) -> io::Result<()> {
        let (message_offsets, message_bytes) = (batch.message_offsets(), batch.message_bytes());
        let (field_offsets, field_bytes) = (batch.field_offsets(), batch.field_bytes());
        let rows = batch
            .timestamps()
            .iter()
            .zip(batch.levels())
            .zip(batch.thread_ids())
            .zip(batch.callsite_ids())
            .zip(message_offsets.windows(2).zip(field_offsets.windows(2)));
        for ((((&timestamp_ns, &level), &thread_id), &callsite), (message, fields)) in rows {
            let message = &message_bytes[message[0] as usize..message[1] as usize];
            let region = &field_bytes[fields[0] as usize..fields[1] as usize];
            let has_fields = !region.is_empty();
            self.write_head(out, timestamp_ns, level, thread_id, message, has_fields)?;
            let callsite_keys = &mut self.callsite_keys;
            write_fields_and_end(out, has_fields, |out| {
                callsite_keys.write_members(out, callsite, raw_fields(callsite, region))
            })?;
        }
        Ok(())
    }

    /// Writes a line up to its fields: up to the brace that opens them when `has_fields`, else
    /// to the end of the thread id.
    #[inline]
    fn write_head<W: JsonOut>(
        &mut self,
        out: &mut W,
        timestamp_ns: i64,
        level: Level,
        thread_id: u64,
        message: &[u8],
        has_fields: bool,
    ) -> io::Result<()> {
        // The fixed head of the line is written in one piece, in place when `out` is the map:
        // `{"timestamp":"2026-11-27T12:00:00.123456789Z","level":"INFO","message":`, plus the
        // opening quote of a plain message.
        const TS: &[u8] = br#"{"timestamp":""#;
        const HEAD: usize = TS.len() + RFC3339_NANOS_LEN + LEVEL_TAIL_MAX + 1;
        let plain = is_plain(message);
        out.write_fixed::<HEAD>(|head| {
            head[..TS.len()].copy_from_slice(TS);
            self.put_timestamp(
                &mut head[TS.len()..TS.len() + RFC3339_NANOS_LEN],
                timestamp_ns,
            );
            let start = TS.len() + RFC3339_NANOS_LEN;
            let tail = level_tail(level);
            copy_small(&mut head[start..start + tail.len()], tail);
            head[start + tail.len()] = b'"';
            start + tail.len() + usize::from(plain)
        })?;
        if plain {
            out.write_all(message)?;
        } else {
            write_escaped(out, message)?;
        }
        if thread_id != self.thread_id {
            self.set_thread_id(thread_id);
        }
        // From the quote closing a plain message (an escaped one wrote its own) to the brace
        // opening the fields, or to the end of the thread id when there are none.
        let middle = &self.middle[usize::from(!plain)..self.middle_len];
        if has_fields {
            out.write_all(middle)
        } else {
            out.write_all(&middle[..middle.len() - FIELDS_OPEN.len()])
        }
    }

    /// Formats [`middle`](Self::middle) for `thread_id` (once per change of thread, which
    /// with several producers can be every record: no allocation).
    #[inline(never)]
    fn set_thread_id(&mut self, thread_id: u64) {
        let mut buf = [0u8; U64_DIGITS_MAX];
        let len = write_u64_digits(&mut buf, thread_id);
        let digits = &buf[..len];
        let mut len = 0;
        for part in [MIDDLE_HEAD, digits, FIELDS_OPEN] {
            self.middle[len..len + part.len()].copy_from_slice(part);
            len += part.len();
        }
        self.middle_len = len;
        self.thread_id = thread_id;
    }

    /// Writes the 30-byte timestamp, formatting the date and time only when the second changed.
    #[inline]
    fn put_timestamp(&mut self, dst: &mut [u8], ns: i64) {
        let secs = ns.div_euclid(1_000_000_000);
        if secs != self.cached_secs {
            let full = rfc3339_nanos(ns);
            self.date_time.copy_from_slice(&full[..DATE_TIME_LEN]);
            self.cached_secs = secs;
            dst.copy_from_slice(&full);
            return;
        }
        let (date_time, fraction) = dst.split_at_mut(DATE_TIME_LEN);
        date_time.copy_from_slice(&self.date_time);
        put_rfc3339_fraction(
            fraction.try_into().expect("the 30-byte timestamp"),
            ns.rem_euclid(1_000_000_000) as u32,
        );
    }
}

/// Ends a line whose head [`LineEncoder::write_head`] wrote: the members `write` writes and the
/// closing braces when it has fields, else the record's closing brace.
#[inline(always)]
fn write_fields_and_end<W: JsonOut>(
    out: &mut W,
    has_fields: bool,
    write: impl FnOnce(&mut W) -> io::Result<()>,
) -> io::Result<()> {
    if has_fields {
        write(out)?;
        out.write_all(b"}}\n")
    } else {
        out.write_all(b"}\n")
    }
}

/// The longest [`level_tail`].
const LEVEL_TAIL_MAX: usize = br#"","level":"DEBUG","message":"#.len();

/// What follows the timestamp: `","level":"INFO","message":`.
#[inline(always)]
fn level_tail(level: Level) -> &'static [u8] {
    match level {
        Level::Trace => br#"","level":"TRACE","message":"#,
        Level::Debug => br#"","level":"DEBUG","message":"#,
        Level::Info => br#"","level":"INFO","message":"#,
        Level::Warn => br#"","level":"WARN","message":"#,
        Level::Error => br#"","level":"ERROR","message":"#,
        Level::Fatal => br#"","level":"FATAL","message":"#,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sinks::json::SliceWriter;
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
            Value::F32(-f32::MIN_POSITIVE),
            Value::F32(f32::NEG_INFINITY),
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
    fn level_tails_name_every_level() {
        for level in Level::ALL {
            let expected = format!(r#"","level":"{}","message":"#, level.as_str());
            assert_eq!(level_tail(level), expected.as_bytes());
            assert!(level_tail(level).len() <= LEVEL_TAIL_MAX);
        }
    }

    #[test]
    fn thread_ids_and_escaped_messages_keep_the_line_shape() {
        let mut batch = Batch::new();
        let fields = [Field::new("k", 1u64)];
        for (i, (thread_id, message, with_fields)) in [
            (7, "plain", true),
            (7, "plain", false),
            (u64::MAX, "tab\there", true),
            (0, "tab\there", false),
            (42, "", true),
        ]
        .into_iter()
        .enumerate()
        {
            let fields: &[Field<'_>] = if with_fields { &fields } else { &[] };
            batch
                .push(i as i64, Level::Warn, thread_id, message, fields)
                .unwrap();
        }
        let mut encoder = LineEncoder::new();
        let mut out = Vec::new();
        for record in batch.iter() {
            encoder.encode(&mut out, &record);
        }
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        let expected = |i: usize, rest: &str| {
            format!(
                r#"{{"timestamp":"1970-01-01T00:00:00.00000000{i}Z","level":"WARN","message":{rest}"#
            )
        };
        assert_eq!(
            lines[0],
            expected(0, r#""plain","thread_id":7,"fields":{"k":1}}"#)
        );
        assert_eq!(lines[1], expected(1, r#""plain","thread_id":7}"#));
        assert_eq!(
            lines[2],
            expected(
                2,
                r#""tab\there","thread_id":18446744073709551615,"fields":{"k":1}}"#
            )
        );
        assert_eq!(lines[3], expected(3, r#""tab\there","thread_id":0}"#));
        assert_eq!(
            lines[4],
            expected(4, r#""","thread_id":42,"fields":{"k":1}}"#)
        );
        // The map writer produces the same bytes.
        let mut map = vec![0u8; batch_bound(&batch)];
        let mut slice = SliceWriter::new(&mut map);
        LineEncoder::new().write_batch(&mut slice, &batch).unwrap();
        let written = slice.position();
        assert_eq!(&map[..written], text.as_bytes());
    }

    /// A batch holding one record of `site` with `values`, as the drain adds it from a ring.
    fn callsite_batch<const N: usize>(
        site: &'static crate::ring::callsite::Callsite,
        values: [Value<'_>; N],
    ) -> Batch {
        use crate::ring::record::{
            callsite_record_len, encode_callsite_into, split_record, Header,
        };
        use std::mem::MaybeUninit;
        let id = site.id().expect("a call-site id");
        let header = Header {
            level: Level::Info,
            flags: 0,
            timestamp: 0,
        };
        let mut bytes = vec![MaybeUninit::uninit(); callsite_record_len(&values).unwrap()];
        encode_callsite_into(&mut bytes, &mut [], &header, id, &values);
        // SAFETY: encode_callsite_into initialised every byte.
        let bytes: Vec<u8> = bytes.iter().map(|b| unsafe { b.assume_init() }).collect();
        let raw = split_record(&bytes).unwrap();
        let mut batch = Batch::new();
        batch
            .push_callsite(
                1_795_780_800_123_456_789,
                Level::Info,
                7,
                id,
                raw.field_count,
                raw.fields,
            )
            .unwrap();
        batch
    }

    #[test]
    fn call_site_records_serialize_as_records_that_carry_their_keys() {
        use crate::ring::callsite::Callsite;
        static PLAIN: Callsite = Callsite::new("order filled", &["order_id", "price", "symbol"]);
        static AWKWARD: Callsite = Callsite::new("q\"uote", &["k\"ey", "ctl\n", "n"]);
        static REPEATED: Callsite = Callsite::new("m", &["a", "b", "a"]);
        static NONE: Callsite = Callsite::new("no fields", &[]);
        let cases: Vec<(Batch, Vec<Field<'_>>)> = vec![
            (
                callsite_batch(
                    &PLAIN,
                    [Value::U64(42), Value::F64(101.25), Value::Str("AAPL")],
                ),
                vec![
                    Field::new("order_id", 42u64),
                    Field::new("price", 101.25),
                    Field::new("symbol", "AAPL"),
                ],
            ),
            (
                callsite_batch(&AWKWARD, [Value::Str("a\"b"), Value::Null, Value::I64(-3)]),
                vec![
                    Field::new("k\"ey", "a\"b"),
                    Field::new("ctl\n", Value::Null),
                    Field::new("n", -3i64),
                ],
            ),
            (
                callsite_batch(&REPEATED, [Value::U64(1), Value::Bool(true), Value::U64(2)]),
                vec![
                    Field::new("a", 1u64),
                    Field::new("b", true),
                    Field::new("a", 2u64),
                ],
            ),
            (callsite_batch(&NONE, []), vec![]),
        ];
        let mut encoder = LineEncoder::new();
        for (batch, fields) in cases {
            let mut keyed = Batch::new();
            keyed
                .push(
                    1_795_780_800_123_456_789,
                    Level::Info,
                    7,
                    batch.message(0),
                    &fields,
                )
                .unwrap();
            let (mut got, mut want) = (Vec::new(), Vec::new());
            // Twice: once making the call site's fragments, once using them.
            for _ in 0..2 {
                encoder.write_batch(&mut got, &batch).unwrap();
                encoder.write_batch(&mut want, &keyed).unwrap();
            }
            assert_eq!(
                String::from_utf8(got).unwrap(),
                String::from_utf8(want).unwrap()
            );
            assert!(batch.callsite_ids()[0] != 0);
            let mut map = vec![0u8; batch_bound(&batch)];
            let mut slice = SliceWriter::new(&mut map);
            encoder.write_batch(&mut slice, &batch).unwrap();
            assert!(batch_bound(&batch) >= batch_bound(&keyed));
        }
    }
}
