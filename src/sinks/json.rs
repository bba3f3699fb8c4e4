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
use crate::ring::record::{FieldIter, RawFields, RawValue};
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
/// Up to this many fields, duplicate keys are found by comparing each key with the ones before
/// it, without allocating; above it, by sorting the keys.
const TRACKED_KEYS: usize = 16;

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
/// Why it holds: the fixed parts take at most 128 bytes; the message at
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

/// Where the serializer writes: a `Vec<u8>`, or a window of the file sink's memory map. Both can
/// take back what they were given since a position, which is how a record with duplicate keys
/// is rewritten in the grouped form without a second pass over the fields in the common case.
pub(crate) trait JsonOut: Write {
    /// Bytes written so far.
    fn position(&self) -> usize;
    /// Forgets everything written after `position`.
    fn rewind(&mut self, position: usize);

    /// Lets `fill` write up to `N` bytes in place and keeps the first `n` it reports. The
    /// default fills a stack buffer and copies it.
    #[inline(always)]
    fn write_fixed<const N: usize>(
        &mut self,
        fill: impl FnOnce(&mut [u8; N]) -> usize,
    ) -> io::Result<()> {
        let mut buf = [0u8; N];
        let n = fill(&mut buf);
        self.write_all(&buf[..n])
    }
}

impl JsonOut for Vec<u8> {
    #[inline(always)]
    fn position(&self) -> usize {
        self.len()
    }

    #[inline(always)]
    fn rewind(&mut self, position: usize) {
        self.truncate(position);
    }
}

/// Writes `s` as a JSON string (quotes included).
pub fn write_string(out: &mut Vec<u8>, s: &str) {
    // Writing to a Vec cannot fail.
    let _ = write_string_to(out, s);
}

/// Strings up to this long that need no escaping are copied directly; the rest go through
/// simd-json's escaping writer.
const SHORT_STRING: usize = 64;

#[inline]
pub(crate) fn write_string_to<W: Write>(out: &mut W, s: &str) -> io::Result<()> {
    write_utf8_to(out, s.as_bytes())
}

/// Writes `bytes`, which must be UTF-8 (a batch's message column, whose every entry came from
/// a `&str` or was validated by the drain), as a JSON string, without validating it again
/// unless it needs escaping. Bytes that are not UTF-8 (a broken caller) are written lossily,
/// so the line stays valid JSON.
#[inline]
pub(crate) fn write_utf8_to<W: Write>(out: &mut W, bytes: &[u8]) -> io::Result<()> {
    // NB: keys and values are mostly short and plain ("order_id", "AAPL"). simd-json's writer
    // scans such strings byte by byte through its escape table and copies them in two calls;
    // checking with three comparisons per byte and copying once measured 15-20% faster per
    // record in benches/file_sink.rs (`serialize_to_vec_8192`).
    if is_plain(bytes) {
        out.write_all(b"\"")?;
        out.write_all(bytes)?;
        return out.write_all(b"\"");
    }
    write_escaped(out, bytes)
}

/// True when `bytes` is short and has nothing to escape, so `"bytes"` is its JSON string.
#[inline(always)]
fn is_plain(bytes: &[u8]) -> bool {
    bytes.len() <= SHORT_STRING && !needs_escape(bytes)
}

/// Whether any byte of `bytes` is a control character, `"` or `\`, checked eight bytes at a
/// time.
// NB: the byte-at-a-time check of messages, keys and string values was the hottest loop of
// the line writer (perf on benches/file_sink.rs's end-to-end workload).
#[inline(always)]
fn needs_escape(bytes: &[u8]) -> bool {
    let n = bytes.len();
    let word = |at: usize| u64::from_le_bytes(bytes[at..at + 8].try_into().expect("8 bytes"));
    let half = |at: usize| u64::from(u32::from_le_bytes(bytes[at..at + 4].try_into().expect("4")));
    // Whole words, then the tail as one more word overlapping the previous one (the bytes it
    // checks twice do not change the answer); short strings are read as two overlapping halves.
    let mut found = 0;
    if n >= 8 {
        let mut at = 0;
        while at + 8 <= n {
            found |= escape_bytes(word(at));
            at += 8;
        }
        found |= escape_bytes(word(n - 8));
    } else if n >= 4 {
        found = escape_bytes(half(0) | (half(n - 4) << 32));
    } else {
        // 0 to 3 bytes; padding with spaces, which need no escape.
        let mut padded = u64::from_le_bytes(*b"        ");
        for (i, &b) in bytes.iter().enumerate() {
            padded = (padded & !(0xff << (8 * i))) | (u64::from(b) << (8 * i));
        }
        found = escape_bytes(padded);
    }
    found != 0
}

/// Non-zero when some byte of `w` is below 0x20, `"` or `\` (the "has a byte less than / equal
/// to" bit tricks: a borrow can flag a neighbouring byte too, but never when no byte matches).
#[inline(always)]
fn escape_bytes(w: u64) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let below_space = w.wrapping_sub(ONES * 0x20) & !w;
    let quote = w ^ (ONES * u64::from(b'"'));
    let quote = quote.wrapping_sub(ONES) & !quote;
    let backslash = w ^ (ONES * u64::from(b'\\'));
    let backslash = backslash.wrapping_sub(ONES) & !backslash;
    (below_space | quote | backslash) & HIGH
}

/// simd-json's escaping writer, for long strings and strings with characters to escape.
#[inline(never)]
fn write_escaped<W: Write>(out: &mut W, bytes: &[u8]) -> io::Result<()> {
    match std::str::from_utf8(bytes) {
        Ok(s) => Gen { out }.write_string(s),
        Err(_) => Gen { out }.write_string(&String::from_utf8_lossy(bytes)),
    }
}

/// Writes one value per the module's mapping.
pub fn write_value(out: &mut Vec<u8>, value: &Value<'_>) {
    let _ = write_value_to(out, value);
}

#[inline]
pub(crate) fn write_value_to<W: JsonOut>(out: &mut W, value: &Value<'_>) -> io::Result<()> {
    write_raw_value_to(out, RawValue::from(*value))
}

/// Writes one value per the module's mapping; strings take the same path as keys and messages.
#[inline]
fn write_raw_value_to<W: JsonOut>(out: &mut W, value: RawValue<'_>) -> io::Result<()> {
    match value {
        RawValue::I64(v) => out.write_fixed::<INT_MAX>(|buf| {
            buf[0] = b'-';
            let sign = usize::from(v < 0);
            sign + format_u64(&mut buf[sign..], v.unsigned_abs())
        }),
        RawValue::U64(v) => out.write_fixed::<INT_MAX>(|buf| format_u64(buf, v)),
        RawValue::F64(v) => match short_decimal_scaled(v) {
            Some(scaled) => out.write_fixed::<SHORT_DECIMAL_MAX>(|buf| {
                format_short_decimal(buf, v.is_sign_negative(), scaled)
            }),
            None => write_other_f64(out, v),
        },
        RawValue::Bool(v) => out.write_all(if v { b"true" } else { b"false" }),
        RawValue::Str(s) => write_utf8_to(out, s),
        RawValue::Null => out.write_all(b"null"),
    }
}

/// Floats that are not short decimals: `ryu` for finite ones, the `$f64` objects for the rest.
#[inline(never)]
fn write_other_f64<W: JsonOut>(out: &mut W, v: f64) -> io::Result<()> {
    if v.is_finite() {
        Gen { out }.write_float(v)
    } else if v.is_nan() {
        out.write_all(br#"{"$f64":"NaN"}"#)
    } else if v > 0.0 {
        out.write_all(br#"{"$f64":"Infinity"}"#)
    } else {
        out.write_all(br#"{"$f64":"-Infinity"}"#)
    }
}

/// Digits after the point that [`short_decimal`] handles.
const SHORT_DECIMALS: u32 = 4;
/// `10^SHORT_DECIMALS`.
const SHORT_SCALE: f64 = 10_000.0;

/// The longest integer: `-9223372036854775808` and `18446744073709551615` take 20 bytes.
const INT_MAX: usize = 20;

/// Writes `v` in decimal at the start of `buf` (which has room for its digits) and returns the
/// length: the same text as `itoa`, written straight into the destination.
// NB: `itoa` formats into its own stack buffer, which is then copied; reading those bytes back
// right after they were stored byte-wise stalled on store forwarding, the hottest instruction
// of the value writer (perf on an end-to-end run of benches/file_sink.rs's workload).
#[inline(always)]
fn format_u64(buf: &mut [u8], v: u64) -> usize {
    let len = v.checked_ilog10().unwrap_or(0) as usize + 1;
    let mut end = len;
    let mut rest = v;
    while rest >= 100 {
        let pair = (rest % 100) as usize;
        rest /= 100;
        end -= 2;
        buf[end..end + 2].copy_from_slice(&DIGIT_PAIRS[2 * pair..2 * pair + 2]);
    }
    if rest >= 10 {
        let pair = rest as usize;
        buf[..2].copy_from_slice(&DIGIT_PAIRS[2 * pair..2 * pair + 2]);
    } else {
        buf[0] = b'0' + rest as u8;
    }
    len
}

/// The longest short decimal: a sign, 11 integer digits, the point and 4 decimals.
const SHORT_DECIMAL_MAX: usize = 17;

/// `|v| * 10^4` as an integer when `v` is a decimal with at most four digits after the point
/// and below 1e11 in magnitude (prices, durations, ratios), which [`format_short_decimal`]
/// then writes with integer arithmetic; `None` (also for NaN and infinities) sends `v` to `ryu`.
///
/// Why the text reads back as exactly `v`: `m ≈ |v| * 10^4` is an integer below 2^53, so it
/// converts to f64 exactly and `m / 10^4` is correctly rounded; `m / 10^4 == |v|` says that the double
/// nearest to the decimal `m / 10^4` is `v`, and that decimal is what gets printed, so any
/// correctly rounding parser returns `v`. (Sign and `-0.0` are taken from `v`'s sign bit.)
#[inline(always)]
fn short_decimal_scaled(v: f64) -> Option<u64> {
    let magnitude = v.abs();
    if magnitude.is_nan() || magnitude >= 1e11 {
        return None;
    }
    // Round to nearest by hand: `f64::round` is a libm call on baseline x86-64. Which neighbour
    // a tie picks does not matter, the check below rejects any that is not exact. The values
    // are below 2^53, so the conversions go through i64 (one instruction; u64 takes several).
    let product = magnitude * SHORT_SCALE;
    let truncated = product as i64;
    let scaled = truncated + i64::from(product - truncated as f64 >= 0.5);
    if scaled as f64 / SHORT_SCALE != magnitude {
        return None;
    }
    Some(scaled as u64)
}

/// Writes `[-]int.frac` for `scaled = |v| * 10^4` (from [`short_decimal_scaled`]): the integer
/// part, then one to four decimals without trailing zeros ("3.0", "101.25"). Returns the length.
#[inline(always)]
fn format_short_decimal(buf: &mut [u8; SHORT_DECIMAL_MAX], negative: bool, scaled: u64) -> usize {
    let scale = 10u64.pow(SHORT_DECIMALS);
    let (int, frac) = (scaled / scale, (scaled % scale) as usize);
    buf[0] = b'-';
    let mut len = usize::from(negative);
    // At most 11 integer digits (below 1e11).
    len += format_u64(&mut buf[len..], int);
    buf[len] = b'.';
    // Four decimals, of which the ones before the trailing zeros count (at least one: "3.0").
    let (high, low) = (frac / 100, frac % 100);
    buf[len + 1..len + 3].copy_from_slice(&DIGIT_PAIRS[2 * high..2 * high + 2]);
    buf[len + 3..len + 5].copy_from_slice(&DIGIT_PAIRS[2 * low..2 * low + 2]);
    let places = if frac % 10 != 0 {
        4
    } else if frac % 100 != 0 {
        3
    } else if frac % 1000 != 0 {
        2
    } else {
        1
    };
    len + 1 + places
}

/// `"00" "01" … "99"`: two decimal digits per entry.
const DIGIT_PAIRS: [u8; 200] = {
    let mut table = [0u8; 200];
    let mut i = 0;
    while i < 100 {
        table[2 * i] = b'0' + (i / 10) as u8;
        table[2 * i + 1] = b'0' + (i % 10) as u8;
        i += 1;
    }
    table
};

/// `v` (below 10^8) as eight ASCII digits, zero-padded, computed in parallel in one word
/// (the first digit in the lowest byte, so `to_le_bytes` is the text).
// NB: replaced a digit-at-a-time loop whose nine dependent divisions were the costliest part of
// a line's fixed head (perf on benches/file_sink.rs, `write_batch_8192`).
#[inline(always)]
fn eight_digits(v: u32) -> [u8; 8] {
    debug_assert!(v < 100_000_000);
    let v = u64::from(v);
    // Two lanes of 32 bits: the high four digits in the low lane, the low four in the high.
    let lanes = (v / 10_000) | ((v % 10_000) << 32);
    // Each lane n < 10^4 becomes n / 100 (low 16 bits) and n % 100 (high 16 bits); n / 100 is
    // (n * 10486) >> 20 for n < 10^4, and the products stay inside their lanes.
    let hundreds = ((lanes * 10_486) >> 20) & 0x0000_007F_0000_007F;
    let lanes = hundreds | ((lanes - hundreds * 100) << 16);
    // Each 16-bit lane m < 100 becomes m / 10 (low byte) and m % 10 (high byte); m / 10 is
    // (m * 103) >> 10 for m < 100.
    let tens = ((lanes * 103) >> 10) & 0x000F_000F_000F_000F;
    let lanes = tens | ((lanes - tens * 10) << 8);
    (lanes + 0x3030_3030_3030_3030).to_le_bytes()
}

/// Writes the fields as one JSON object: `{"order_id":42,"price":101.25}` (`{}` when empty).
/// A key logged more than once becomes one key with an array of its values (see the module
/// docs).
pub fn write_fields_object(out: &mut Vec<u8>, fields: FieldIter<'_>) {
    out.push(b'{');
    let _ = write_members(out, fields.map(raw_field));
    out.push(b'}');
}

/// [`write_fields_object`] for an encoded field region from a batch, into any [`JsonOut`]
/// (the Parquet sink's `fields_json` column): the fields are read as bytes, like the file sink's.
pub(crate) fn write_fields_object_to<W: JsonOut>(out: &mut W, region: &[u8]) -> io::Result<()> {
    out.write_all(b"{")?;
    write_members(out, RawFields::new(region))?;
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
}

impl Default for LineEncoder {
    fn default() -> Self {
        Self::new()
    }
}

/// `2026-11-27T12:00:00`: the part of a timestamp before the fraction.
const DATE_TIME_LEN: usize = 19;
/// Before the thread id in [`LineEncoder::middle`].
const MIDDLE_HEAD: &[u8] = br#"","thread_id":"#;
/// After the thread id in [`LineEncoder::middle`], when the record has fields.
const FIELDS_OPEN: &[u8] = br#","fields":{"#;
/// The longest [`LineEncoder::middle`]: a 20-digit thread id.
const MIDDLE_MAX: usize = MIDDLE_HEAD.len() + 20 + FIELDS_OPEN.len();

impl LineEncoder {
    /// An encoder with nothing cached.
    pub fn new() -> LineEncoder {
        let mut encoder = LineEncoder {
            cached_secs: i64::MIN,
            date_time: [0; DATE_TIME_LEN],
            thread_id: 0,
            middle: [0; MIDDLE_MAX],
            middle_len: 0,
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
        self.write_parts(
            out,
            record.timestamp_ns,
            record.level,
            record.thread_id,
            record.message.as_bytes(),
            !record.fields.is_empty(),
            record.fields.clone().map(raw_field),
        )
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
            .zip(message_offsets.windows(2).zip(field_offsets.windows(2)));
        for (((&timestamp_ns, &level), &thread_id), (message, fields)) in rows {
            let message = &message_bytes[message[0] as usize..message[1] as usize];
            let region = &field_bytes[fields[0] as usize..fields[1] as usize];
            self.write_parts(
                out,
                timestamp_ns,
                level,
                thread_id,
                message,
                !region.is_empty(),
                RawFields::new(region),
            )?;
        }
        Ok(())
    }

    #[inline]
    #[allow(clippy::too_many_arguments)]
    fn write_parts<'a, W: JsonOut>(
        &mut self,
        out: &mut W,
        timestamp_ns: i64,
        level: Level,
        thread_id: u64,
        message: &[u8],
        has_fields: bool,
        fields: impl Iterator<Item = (&'a [u8], RawValue<'a>)> + Clone,
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
            out.write_all(middle)?;
            write_members(out, fields)?;
            out.write_all(b"}}\n")
        } else {
            out.write_all(&middle[..middle.len() - FIELDS_OPEN.len()])?;
            out.write_all(b"}\n")
        }
    }

    /// Formats [`middle`](Self::middle) for `thread_id` (once per change of thread, which
    /// with several producers can be every record: no allocation).
    #[inline(never)]
    fn set_thread_id(&mut self, thread_id: u64) {
        let mut buf = [0u8; 20];
        let mut first = buf.len();
        let mut rest = thread_id;
        loop {
            first -= 1;
            buf[first] = b'0' + (rest % 10) as u8;
            rest /= 10;
            if rest == 0 {
                break;
            }
        }
        let digits = &buf[first..];
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
        dst[..DATE_TIME_LEN].copy_from_slice(&self.date_time);
        let nanos = ns.rem_euclid(1_000_000_000) as u32;
        dst[DATE_TIME_LEN] = b'.';
        dst[DATE_TIME_LEN + 1] = b'0' + (nanos / 100_000_000) as u8;
        dst[DATE_TIME_LEN + 2..RFC3339_NANOS_LEN - 1]
            .copy_from_slice(&eight_digits(nanos % 100_000_000));
        dst[RFC3339_NANOS_LEN - 1] = b'Z';
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
}

impl JsonOut for SliceWriter<'_> {
    #[inline(always)]
    fn position(&self) -> usize {
        self.pos
    }

    /// Also zeroes what it forgets: the file sink relies on everything past the last line
    /// being zero (that is how readers and reopening find the end).
    #[inline]
    fn rewind(&mut self, position: usize) {
        debug_assert!(position <= self.pos);
        self.buf[position..self.pos].fill(0);
        self.pos = position;
    }

    /// Fills the map directly when `N` bytes are left (always, within a reserved bound).
    #[inline(always)]
    fn write_fixed<const N: usize>(
        &mut self,
        fill: impl FnOnce(&mut [u8; N]) -> usize,
    ) -> io::Result<()> {
        let Some(dst) = self
            .buf
            .get_mut(self.pos..self.pos + N)
            .and_then(|s| <&mut [u8; N]>::try_from(s).ok())
        else {
            let mut buf = [0u8; N];
            let n = fill(&mut buf);
            return self.write_all(&buf[..n]);
        };
        let n = fill(dst);
        self.pos += n;
        Ok(())
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
                copy_small(dst, data);
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

/// `dst.copy_from_slice(src)` for equal lengths, with the short lengths a JSON line is made of
/// done as two overlapping fixed-size moves instead of a `memcpy` call.
// NB: the line is written in about 20 pieces of 1 to 60 bytes; library memcpy calls for them
// were 6-8% of the file sink's profile (perf on benches/file_sink.rs, `write_batch_8192`).
#[inline(always)]
fn copy_small(dst: &mut [u8], src: &[u8]) {
    let n = src.len();
    debug_assert_eq!(dst.len(), n);
    match n {
        0 => {}
        1..=3 => {
            dst[0] = src[0];
            dst[n / 2] = src[n / 2];
            dst[n - 1] = src[n - 1];
        }
        4..=7 => {
            dst[..4].copy_from_slice(&src[..4]);
            dst[n - 4..].copy_from_slice(&src[n - 4..]);
        }
        8..=16 => {
            dst[..8].copy_from_slice(&src[..8]);
            dst[n - 8..].copy_from_slice(&src[n - 8..]);
        }
        17..=32 => {
            dst[..16].copy_from_slice(&src[..16]);
            dst[n - 16..].copy_from_slice(&src[n - 16..]);
        }
        _ => dst.copy_from_slice(src),
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

    /// The short-decimal text of `v`, if it has one.
    fn short_decimal(v: f64) -> Option<Vec<u8>> {
        short_decimal_scaled(v).map(|scaled| {
            let mut buf = [0u8; SHORT_DECIMAL_MAX];
            let len = format_short_decimal(&mut buf, v.is_sign_negative(), scaled);
            buf[..len].to_vec()
        })
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
    fn short_decimals_read_back_exactly() {
        let mut rng = 0x2545_F491_4F6C_DD1Du64;
        let mut next = || {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            rng
        };
        let mut fast = 0;
        let fixed = [
            0.0,
            -0.0,
            3.0,
            101.25,
            0.1,
            0.0001,
            99_999_999_999.999_9,
            1e-5,
            0.30000000000000004,
        ];
        let random = (0..200_000).map(|_| {
            let m = next() % 100_000_000_000_000;
            let div = [1.0, 10.0, 100.0, 1000.0, 10_000.0, 100_000.0][(next() % 6) as usize];
            let v = m as f64 / div;
            if next() % 2 == 0 {
                v
            } else {
                -v
            }
        });
        for v in fixed.into_iter().chain(random) {
            let mut out = Vec::new();
            write_value(&mut out, &Value::F64(v));
            let text = std::str::from_utf8(&out).unwrap();
            let back: f64 = text.parse().unwrap();
            assert_eq!(back.to_bits(), v.to_bits(), "{v:?} written as {text}");
            assert!(text.contains('.') || text.contains('e'), "{text}");
            if let Some(short) = short_decimal(v) {
                fast += 1;
                assert_eq!(short, text.as_bytes());
                let digits_after = text.split('.').nth(1).unwrap().len();
                assert!((1..=4).contains(&digits_after), "{text}");
            }
        }
        assert!(
            fast > 50_000,
            "the fast path is taken for short decimals ({fast})"
        );
        assert_eq!(short_decimal(101.25), Some(b"101.25".to_vec()));
        assert_eq!(short_decimal(-0.0), Some(b"-0.0".to_vec()));
        assert_eq!(short_decimal(0.1 + 0.2), None, "not a short decimal: ryu");
        assert_eq!(short_decimal(1e11), None);
    }

    #[test]
    fn plain_and_escaped_strings_match_simd_json() {
        let long_plain = "p".repeat(SHORT_STRING);
        let long_escaped = format!("{}\"", "q".repeat(SHORT_STRING));
        for s in [
            "",
            "AAPL",
            "a\"b",
            "\\",
            "tab\there",
            "😀",
            &long_plain,
            &long_escaped,
        ] {
            let mut ours = Vec::new();
            write_string(&mut ours, s);
            let mut theirs = Vec::new();
            let _ = Gen { out: &mut theirs }.write_string(s);
            assert_eq!(ours, theirs, "{s:?}");
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
    fn integers_match_formatting() {
        let mut values: Vec<u64> = vec![0, 1, 9, 10, 99, 100, 101, u64::MAX, i64::MAX as u64];
        values.extend((0..64).map(|p| 1u64 << p));
        values.extend((1..20).flat_map(|p| [10u64.pow(p) - 1, 10u64.pow(p), 10u64.pow(p) + 1]));
        for v in values {
            let mut buf = [0u8; INT_MAX];
            let len = format_u64(&mut buf, v);
            assert_eq!(&buf[..len], v.to_string().as_bytes());
        }
        for v in [0i64, -1, 1, i64::MIN, i64::MAX, -100, -99] {
            let mut out = Vec::new();
            write_value(&mut out, &Value::I64(v));
            assert_eq!(out, v.to_string().as_bytes());
        }
    }

    #[test]
    fn escape_check_matches_the_byte_rule() {
        let slow = |s: &[u8]| s.iter().any(|&b| b < 0x20 || b == b'"' || b == b'\\');
        let mut rng = 0x9E37_79B9_7F4A_7C15u64;
        for len in 0..=40 {
            for _ in 0..2_000 {
                let bytes: Vec<u8> = (0..len)
                    .map(|_| {
                        rng ^= rng << 13;
                        rng ^= rng >> 7;
                        rng ^= rng << 17;
                        // Mostly plain bytes, sometimes one of the escaped ones or a neighbour.
                        match rng % 16 {
                            0 => b'"',
                            1 => b'\\',
                            2 => (rng >> 8) as u8 % 0x22,
                            3 => 0x80 | (rng >> 8) as u8,
                            _ => b'!' + (rng >> 8) as u8 % 90,
                        }
                    })
                    .collect();
                assert_eq!(needs_escape(&bytes), slow(&bytes), "{bytes:?}");
            }
        }
        for b in 0..=255u8 {
            for len in 1..12 {
                for at in 0..len {
                    let mut bytes = vec![b'a'; len];
                    bytes[at] = b;
                    assert_eq!(needs_escape(&bytes), slow(&bytes), "{b} at {at} of {len}");
                }
            }
        }
    }

    #[test]
    fn eight_digits_match_formatting() {
        let check = |v: u32| assert_eq!(eight_digits(v), *format!("{v:08}").as_bytes(), "{v}");
        for v in (0..100_000_000).step_by(9_973) {
            check(v);
        }
        for v in [
            0, 1, 9, 10, 99, 100, 9_999, 10_000, 10_001, 99_999_999, 12_345_678,
        ] {
            check(v);
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

    #[test]
    fn small_copies_copy_every_length() {
        let src: Vec<u8> = (0..100).collect();
        for n in 0..100 {
            let mut dst = vec![0xAAu8; n];
            copy_small(&mut dst, &src[..n]);
            assert_eq!(dst, &src[..n]);
        }
    }

    #[test]
    fn rewinding_a_slice_leaves_zeros() {
        let mut buf = [0u8; 16];
        let mut w = SliceWriter::new(&mut buf);
        w.write_all(b"abcdef").unwrap();
        w.rewind(2);
        w.write_all(b"X").unwrap();
        assert_eq!(w.position(), 3);
        assert_eq!(&buf[..8], b"abX\0\0\0\0\0");
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
