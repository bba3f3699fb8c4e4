//! Text formatting shared by the sinks: decimal digits (the one set of digit writers, used by
//! the timestamps and by the JSON numbers), RFC 3339 timestamps and the human-readable line.

use crate::batch::RecordView;
use crate::ring::callsite::positional_key;
use crate::ring::record::FieldIter;
use crate::value::Value;
use std::io::Write;

/// `"00" "01" … "99"`: two decimal digits per entry.
const DIGIT_PAIRS: [[u8; 2]; 100] = {
    let mut table = [[0u8; 2]; 100];
    let mut i = 0;
    while i < 100 {
        table[i] = [b'0' + (i / 10) as u8, b'0' + (i % 10) as u8];
        i += 1;
    }
    table
};

/// `v` (below 100) as two ASCII digits, zero-padded.
#[inline(always)]
pub(crate) fn two_digits(v: usize) -> [u8; 2] {
    DIGIT_PAIRS[v]
}

/// `v` (below 10^8) as eight ASCII digits, zero-padded, computed in parallel in one word
/// (the first digit in the lowest byte, so `to_le_bytes` is the text).
// NB: replaced a digit-at-a-time loop whose nine dependent divisions were the costliest part of
// a line's fixed head (perf on benches/file_sink.rs, `write_batch_8192`).
#[inline(always)]
pub(crate) fn eight_digits(v: u32) -> [u8; 8] {
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

/// The most digits a `u64` has (`18446744073709551615`).
pub(crate) const U64_DIGITS_MAX: usize = 20;

/// Writes `v` in decimal at the start of `buf` and returns the length: the same text as
/// `itoa`, written straight into the destination. `buf` needs room for 8 bytes past the first
/// eight digits' group, at most [`U64_DIGITS_MAX`] in all, and bytes past the digits may be
/// overwritten.
///
/// Eight digits at a time with [`eight_digits`]' word arithmetic: the leading group is shifted
/// down past its zero padding and stored whole, the groups after it are stored as they are.
// NB: `itoa` formats into its own stack buffer, which is then copied; reading those bytes back
// right after they were stored byte-wise stalled on store forwarding, the hottest instruction
// of the JSON value writer (perf on an end-to-end run of benches/file_sink.rs's workload). A
// later version wrote two digits per step from a table: `LineEncoder::write_batch` took 918
// instructions per record under callgrind (`loadgen --macro`, file sink, 10-digit `order_id`s),
// 895 this way.
#[inline(always)]
pub(crate) fn write_u64_digits(buf: &mut [u8], v: u64) -> usize {
    if v < 100_000_000 {
        return put_leading_group(buf, v as u32);
    }
    let (high, low) = (v / 100_000_000, (v % 100_000_000) as u32);
    let len = if high < 100_000_000 {
        put_leading_group(buf, high as u32)
    } else {
        let len = put_leading_group(buf, (high / 100_000_000) as u32);
        put_group(&mut buf[len..], (high % 100_000_000) as u32);
        len + 8
    };
    put_group(&mut buf[len..], low);
    len + 8
}

/// Writes `v < 10^8` without leading zeros as the first bytes of an 8-byte store; returns the
/// number of digits.
#[inline(always)]
fn put_leading_group(buf: &mut [u8], v: u32) -> usize {
    let len = v.checked_ilog10().unwrap_or(0) as usize + 1;
    // The text's first digit is the word's lowest byte: shifting right drops the leading zeros.
    let word = u64::from_le_bytes(eight_digits(v)) >> (8 * (8 - len));
    buf[..8].copy_from_slice(&word.to_le_bytes());
    len
}

/// Writes `v < 10^8` as exactly eight digits, zero-padded.
#[inline(always)]
fn put_group(buf: &mut [u8], v: u32) {
    buf[..8].copy_from_slice(&eight_digits(v));
}

/// Length of an RFC 3339 timestamp with nanoseconds: `2026-11-27T12:00:00.123456789Z`.
pub const RFC3339_NANOS_LEN: usize = 30;
/// Length of its date and time, `2026-11-27T12:00:00`: what every timestamp within one second
/// shares (the JSON line writer formats it once per second).
pub const RFC3339_SECONDS_LEN: usize = 19;
/// Length of the rest, `.123456789Z`.
const RFC3339_FRACTION_LEN: usize = RFC3339_NANOS_LEN - RFC3339_SECONDS_LEN;

/// Writes `ns` (since the Unix epoch, UTC) as `2026-11-27T12:00:00.123456789Z`.
pub fn write_rfc3339_nanos(out: &mut Vec<u8>, ns: i64) {
    out.extend_from_slice(&rfc3339_nanos(ns));
}

/// `ns` (since the Unix epoch, UTC) as the 30 bytes `2026-11-27T12:00:00.123456789Z`.
///
/// Every `i64` of nanoseconds falls in the years 1677..=2262, so the year always has four
/// digits and the length never varies. Digits are written by hand: this runs once per record
/// in the JSON sinks, where `write!` cost more than the rest of the line's fixed parts.
pub fn rfc3339_nanos(ns: i64) -> [u8; RFC3339_NANOS_LEN] {
    let secs = ns.div_euclid(1_000_000_000);
    let nanos = ns.rem_euclid(1_000_000_000) as u32;
    let days = secs.div_euclid(86_400);
    let secs_of_day = secs.rem_euclid(86_400) as u32;
    let (year, month, day) = civil_from_days(days);
    debug_assert!(
        (0..=9999).contains(&year),
        "i64 nanoseconds stay within 4-digit years"
    );
    let mut b = *b"0000-00-00T00:00:00.000000000Z";
    let year = year as usize;
    let secs_of_day = secs_of_day as usize;
    b[0..2].copy_from_slice(&two_digits(year / 100));
    b[2..4].copy_from_slice(&two_digits(year % 100));
    b[5..7].copy_from_slice(&two_digits(month as usize));
    b[8..10].copy_from_slice(&two_digits(day as usize));
    b[11..13].copy_from_slice(&two_digits(secs_of_day / 3600));
    b[14..16].copy_from_slice(&two_digits(secs_of_day / 60 % 60));
    b[17..19].copy_from_slice(&two_digits(secs_of_day % 60));
    put_rfc3339_fraction(
        (&mut b[RFC3339_SECONDS_LEN..])
            .try_into()
            .expect("11 bytes"),
        nanos,
    );
    b
}

/// Writes the end of an RFC 3339 timestamp, `.123456789Z`, for `nanos` (below 10^9).
#[inline(always)]
pub(crate) fn put_rfc3339_fraction(dst: &mut [u8; RFC3339_FRACTION_LEN], nanos: u32) {
    dst[0] = b'.';
    dst[1] = b'0' + (nanos / 100_000_000) as u8;
    dst[2..10].copy_from_slice(&eight_digits(nanos % 100_000_000));
    dst[10] = b'Z';
}

/// Gregorian date from days since 1970-01-01 (Howard Hinnant's `civil_from_days`).
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// Days since 1970-01-01 of a Gregorian date (Howard Hinnant's `days_from_civil`), the inverse
/// of [`civil_from_days`].
pub fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let yoe = year.rem_euclid(400);
    let month = i64::from(month);
    let doy = (153 * (if month > 2 { month - 3 } else { month + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Parses the UTC timestamps this crate writes, `2026-11-27T12:00:00.123456789Z`, back to
/// nanoseconds since the Unix epoch. The fraction may have 0 to 9 digits; the zone must be `Z`.
/// `None` for anything else, including dates that do not exist and values outside `i64`.
pub fn parse_rfc3339_nanos(text: &[u8]) -> Option<i64> {
    fn num(bytes: &[u8]) -> Option<u32> {
        bytes.iter().try_fold(0u32, |acc, &b| {
            b.is_ascii_digit().then(|| acc * 10 + u32::from(b - b'0'))
        })
    }
    let (date_time, rest) = (text.get(..19)?, text.get(19..)?);
    let seps = [(4, b'-'), (7, b'-'), (10, b'T'), (13, b':'), (16, b':')];
    if seps.iter().any(|&(i, c)| date_time[i] != c) {
        return None;
    }
    let (year, month, day) = (
        num(&date_time[0..4])?,
        num(&date_time[5..7])?,
        num(&date_time[8..10])?,
    );
    let (hour, minute, second) = (
        num(&date_time[11..13])?,
        num(&date_time[14..16])?,
        num(&date_time[17..19])?,
    );
    let nanos = match rest {
        [b'Z'] => 0,
        [b'.', digits @ .., b'Z'] if (1..=9).contains(&digits.len()) => {
            num(digits)? * 10u32.pow(9 - digits.len() as u32)
        }
        _ => return None,
    };
    let days_in_month = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        _ => return None,
    };
    if day == 0 || day > days_in_month || hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    let days = days_from_civil(i64::from(year), month, day);
    let secs = days * 86_400 + i64::from(hour * 3600 + minute * 60 + second);
    i64::try_from(i128::from(secs) * 1_000_000_000 + i128::from(nanos)).ok()
}

/// Writes one human-readable line:
/// `2026-11-27T12:00:00.123456789Z INFO order filled order_id=42 price=101.25 symbol=AAPL`.
/// String values with spaces, quotes, `=` or control characters (and empty ones) are quoted with
/// Rust-style escapes so a line stays one line.
///
/// A message that is a template (see `write_message`) is rendered with its fields' values, as
/// `format!` would; the fields follow as usual. A message that is already text
/// ([`RecordView::message_is_text`]: from `tracing` or `log`) is written as it is.
pub fn write_human_line(out: &mut Vec<u8>, record: &RecordView<'_>) {
    write_rfc3339_nanos(out, record.timestamp_ns);
    out.push(b' ');
    out.extend_from_slice(record.level.as_str().as_bytes());
    out.push(b' ');
    if record.message_is_text {
        write_text(out, record.message, false);
    } else {
        write_message(out, record.message, &record.fields);
    }
    for (key, value) in record.fields.clone() {
        out.push(b' ');
        write_text(out, key, true);
        out.push(b'=');
        match value {
            Value::Str(s) => write_text(out, s, true),
            other => {
                let _ = write!(out, "{other}");
            }
        }
    }
    out.push(b'\n');
}

/// Writes `message`, rendering it as a template when it is one: a message with at least one
/// placeholder `{key}` or `{key:?}` naming one of `fields` (a key of letters, digits and `_`;
/// `{}` and `{:?}` name the positional arguments in order, keyed `0`, `1`, ...).
/// Each such placeholder becomes the field's value (the first field of that name), with `Display`
/// (`{key}`: strings as they are) or `Debug` (`{key:?}`: strings quoted), and `{{` and `}}` become
/// `{` and `}`, as in `format!`. Placeholders naming no field, and ones with other format specs,
/// are written as they are. A message with no placeholder that names a field is written as it is,
/// braces included. Templates come from calls such as
/// `info!(logger, "filled {qty} lots of {symbol}", qty = 5, symbol = "AAPL")` or
/// `info!(logger, "filled {} lots of {}", 5, "AAPL")`: the call site keeps
/// the template, the values travel as typed fields, and only this human-readable line renders
/// them (JSON lines and Parquet keep the template in `message`, with the fields).
///
/// ```text
/// "filled {qty} lots of {symbol:?} {{sic}}"  with qty = 5, symbol = "AAPL"
/// filled 5 lots of "AAPL" {sic}
/// ```
pub fn write_message(out: &mut Vec<u8>, message: &str, fields: &FieldIter<'_>) {
    if !message.contains('{') || !is_template(message, fields) {
        write_text(out, message, false);
        return;
    }
    let start = out.len();
    render_template(out, message, fields);
    // The same test as `write_text`'s (`char::is_control`, which also covers U+0080..U+009F).
    let rendered = String::from_utf8_lossy(&out[start..]);
    if needs_quotes(&rendered, false) {
        // Rare: quote the rendered text so the line stays one line, as for any message.
        let rendered = rendered.into_owned();
        out.truncate(start);
        write_text(out, &rendered, false);
    }
}

/// One piece of a template.
enum Piece<'a> {
    Text(&'a str),
    /// `{key}` (`debug` false) or `{key:?}`; `raw` is the placeholder as written.
    Placeholder {
        key: &'a str,
        debug: bool,
        raw: &'a str,
    },
}

/// Splits `message` into text (with `{{`/`}}` undone) and placeholders, calling `each` in order.
fn pieces<'a>(message: &'a str, mut each: impl FnMut(Piece<'a>)) {
    let mut rest = message;
    // `{}` and `{:?}` take the positional arguments in order, as in `format!`: their fields are
    // keyed by index ("0", "1", ...).
    let mut next_positional = 0;
    while let Some(at) = rest.find(['{', '}']) {
        each(Piece::Text(&rest[..at]));
        let tail = &rest[at..];
        if tail.starts_with("{{") || tail.starts_with("}}") {
            each(Piece::Text(&tail[..1]));
            rest = &tail[2..];
            continue;
        }
        if tail.starts_with('{') {
            if let Some(end) = tail.find('}') {
                let inner = &tail[1..end];
                // `{qty:}` and `{:}` have an empty spec: `format!` reads them as `{qty}`, `{}`.
                let (mut key, debug) = match inner.strip_suffix(":?") {
                    Some(key) => (key, true),
                    None => (inner.strip_suffix(':').unwrap_or(inner), false),
                };
                if key.is_empty() {
                    if let Some(index) = positional_key(next_positional) {
                        key = index;
                        next_positional += 1;
                    }
                } else if inner.starts_with(':') {
                    // `{:>5}`, `{:x}`, ... are written as they are, but each takes the next
                    // positional argument (`{:.*}` two: precision, then value), as in `format!`,
                    // so the `{}` after them must not reuse it.
                    next_positional += 1 + usize::from(inner.contains(".*"));
                }
                // Letters as identifiers have them, non-ASCII ones included (`{数量}`).
                if !key.is_empty() && key.chars().all(|c| c.is_alphanumeric() || c == '_') {
                    each(Piece::Placeholder {
                        key,
                        debug,
                        raw: &tail[..=end],
                    });
                    rest = &tail[end + 1..];
                    continue;
                }
            }
        }
        each(Piece::Text(&tail[..1]));
        rest = &tail[1..];
    }
    each(Piece::Text(rest));
}

fn field_value<'a>(fields: &FieldIter<'a>, key: &str) -> Option<Value<'a>> {
    fields.clone().find(|(k, _)| *k == key).map(|(_, v)| v)
}

fn is_template(message: &str, fields: &FieldIter<'_>) -> bool {
    let mut found = false;
    pieces(message, |piece| {
        if let Piece::Placeholder { key, .. } = piece {
            found = found || field_value(fields, key).is_some();
        }
    });
    found
}

fn render_template(out: &mut Vec<u8>, message: &str, fields: &FieldIter<'_>) {
    pieces(message, |piece| match piece {
        Piece::Text(text) => out.extend_from_slice(text.as_bytes()),
        Piece::Placeholder { key, debug, raw } => match field_value(fields, key) {
            Some(value) if debug => {
                let _ = match value {
                    Value::I64(v) => write!(out, "{v:?}"),
                    Value::U64(v) => write!(out, "{v:?}"),
                    Value::F64(v) => write!(out, "{v:?}"),
                    Value::F32(v) => write!(out, "{v:?}"),
                    Value::Bool(v) => write!(out, "{v:?}"),
                    Value::Str(v) => write!(out, "{v:?}"),
                    Value::Null => write!(out, "None"),
                };
            }
            Some(value) => {
                let _ = write!(out, "{value}");
            }
            None => out.extend_from_slice(raw.as_bytes()),
        },
    });
}

fn needs_quotes(s: &str, is_token: bool) -> bool {
    (is_token && (s.is_empty() || s.contains([' ', '=', '"']))) || s.chars().any(|c| c.is_control())
}

fn write_text(out: &mut Vec<u8>, s: &str, is_token: bool) {
    if needs_quotes(s, is_token) {
        let _ = write!(out, "{s:?}");
    } else {
        out.extend_from_slice(s.as_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::batch::Batch;
    use crate::value::{Field, Level};

    fn rfc3339(ns: i64) -> String {
        let mut out = Vec::new();
        write_rfc3339_nanos(&mut out, ns);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn timestamps_format_as_rfc3339_utc() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00.000000000Z");
        assert_eq!(
            rfc3339(1_795_780_800_123_456_789),
            "2026-11-27T12:00:00.123456789Z"
        );
        assert_eq!(
            rfc3339(951_782_400_000_000_000),
            "2000-02-29T00:00:00.000000000Z"
        );
        assert_eq!(rfc3339(-1), "1969-12-31T23:59:59.999999999Z");
    }

    #[test]
    fn digit_writers_match_formatting() {
        let mut values: Vec<u64> = vec![0, 1, 9, 10, 99, 100, 101, u64::MAX, i64::MAX as u64];
        values.extend((0..64).map(|p| 1u64 << p));
        values.extend((1..20).flat_map(|p| [10u64.pow(p) - 1, 10u64.pow(p), 10u64.pow(p) + 1]));
        for v in values {
            let mut buf = [0u8; U64_DIGITS_MAX];
            let len = write_u64_digits(&mut buf, v);
            assert_eq!(&buf[..len], v.to_string().as_bytes());
        }
        for v in 0..100 {
            assert_eq!(two_digits(v), *format!("{v:02}").as_bytes());
        }
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
    fn timestamps_parse_back() {
        for ns in [
            0,
            -1,
            1_795_780_800_123_456_789,
            951_782_400_000_000_000,
            i64::MAX,
            i64::MIN,
            i64::MIN + 999_999_999,
        ] {
            assert_eq!(
                parse_rfc3339_nanos(rfc3339(ns).as_bytes()),
                Some(ns),
                "{ns}"
            );
        }
        assert_eq!(
            parse_rfc3339_nanos(b"2026-11-27T12:00:00.5Z"),
            Some(1_795_780_800_500_000_000)
        );
        assert_eq!(
            parse_rfc3339_nanos(b"2026-11-27T12:00:00Z"),
            Some(1_795_780_800_000_000_000)
        );
        for bad in [
            &b"2026-02-29T00:00:00Z"[..],
            b"2026-11-27T24:00:00Z",
            b"2026-11-27T12:00:00",
            b"2026-11-27T12:00:00.Z",
            b"2026-11-27T12:00:00.1234567890Z",
            b"2026-11-27 12:00:00Z",
            b"+026-11-27T12:00:00Z",
            b"",
        ] {
            assert_eq!(
                parse_rfc3339_nanos(bad),
                None,
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    fn rendered(message: &str, fields: &[Field<'_>]) -> String {
        let mut bytes = Vec::new();
        crate::ring::record::encode_fields(fields, &mut bytes).unwrap();
        let mut out = Vec::new();
        write_message(&mut out, message, &FieldIter::new(&bytes));
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn templates_render_as_format_would() {
        let fields = [
            Field::new("qty", 5u64),
            Field::new("symbol", "AAPL"),
            Field::new("price", 1.0),
            Field::new("ok", true),
            Field::new("none", Option::<u64>::None),
        ];
        let (qty, symbol, price, ok) = (5u64, "AAPL", 1.0, true);
        for (template, expected) in [
            (
                "filled {qty} lots of {symbol}",
                format!("filled {qty} lots of {symbol}"),
            ),
            (
                "{symbol:?} at {price} ({price:?}), {ok}",
                format!("{symbol:?} at {price} ({price:?}), {ok}"),
            ),
            ("{{literal}} {qty}}}", format!("{{literal}} {qty}}}")),
            ("unknown {nope} {qty}", format!("unknown {{nope}} {qty}")),
            ("spec {qty:>4} {qty}", format!("spec {{qty:>4}} {qty}")),
            ("{none:?} {none}", "None null".to_owned()),
        ] {
            assert_eq!(rendered(template, &fields), expected, "{template}");
        }
    }

    #[test]
    fn positional_placeholders_with_other_specs_still_take_their_argument() {
        let fields = [
            Field::new("0", 1u64),
            Field::new("1", 2u64),
            Field::new("2", 3u64),
        ];
        // `{:>5}` is written as it is, but as in `format!` it takes argument 1, so the `{}`
        // after it is argument 2.
        for (template, expected) in [
            ("{} {:>5} {}", "1 {:>5} 3"),
            ("{:#?} {}", "{:#?} 2"),
            ("{:x} {:?} {}", "{:x} 2 3"),
            ("{:.*} {}", "{:.*} 3"),
        ] {
            assert_eq!(rendered(template, &fields), expected, "{template}");
        }
    }

    #[test]
    fn times_outside_an_i64_of_nanoseconds_are_written_as_the_nearest_inside() {
        use crate::ring::clock::system_time_to_ns;
        use std::time::{Duration, UNIX_EPOCH};
        let year_9999 = UNIX_EPOCH + Duration::from_secs(253_402_300_799);
        let year_1600 = UNIX_EPOCH - Duration::from_secs(11_676_096_000);
        assert_eq!(
            &rfc3339_nanos(system_time_to_ns(year_9999)),
            b"2262-04-11T23:47:16.854775807Z"
        );
        assert_eq!(
            &rfc3339_nanos(system_time_to_ns(year_1600)),
            b"1677-09-21T00:12:43.145224192Z"
        );
    }

    #[test]
    fn an_empty_format_spec_is_a_plain_placeholder() {
        let fields = [
            Field::new("qty", 5u64),
            Field::new("0", 1u64),
            Field::new("1", 2u64),
        ];
        let (qty, a, b) = (5u64, 1u64, 2u64);
        assert_eq!(
            rendered("{qty:} {:} {}", &fields),
            format!("{qty:} {a:} {b}")
        );
    }

    #[test]
    fn non_ascii_identifiers_are_placeholders_too() {
        // Rust identifiers may be non-ASCII, so a macro key can be `é` or `数量`.
        let fields = [Field::new("é", 1u64), Field::new("数量", "x")];
        let (é, 数量) = (1u64, "x");
        assert_eq!(
            rendered("{é} and {数量:?}", &fields),
            format!("{é} and {数量:?}")
        );
    }

    #[test]
    fn a_message_without_a_field_placeholder_is_written_as_it_is() {
        let fields = [Field::new("qty", 5u64)];
        assert_eq!(
            rendered("json {\"a\": {{1}}}", &fields),
            "json {\"a\": {{1}}}"
        );
        assert_eq!(rendered("{other} {}", &fields), "{other} {}");
        assert_eq!(rendered("plain", &[]), "plain");
        // Control characters still make the message quoted, rendered or not.
        assert_eq!(rendered("a\n{qty}", &fields), "\"a\\n5\"");
    }

    #[test]
    fn a_rendered_template_is_quoted_for_the_same_characters_as_any_message() {
        // U+0085 (NEL) is a control character outside ASCII: quoted in a plain message, so in
        // a rendered one too, whether it came from the template or from a value.
        let fields = [Field::new("s", "x\u{85}y"), Field::new("qty", 5u64)];
        assert_eq!(rendered("a\u{85}b", &fields), "\"a\\u{85}b\"");
        assert_eq!(rendered("got {s}", &fields), "\"got x\\u{85}y\"");
        assert_eq!(rendered("a\u{85}{qty}", &fields), "\"a\\u{85}5\"");
        assert_eq!(rendered("got {s:?}", &fields), "got \"x\\u{85}y\"");
    }

    #[test]
    fn human_line_matches_the_documented_shape() {
        let mut batch = Batch::new();
        let fields = [
            Field::new("order_id", 42u64),
            Field::new("price", 101.25),
            Field::new("symbol", "AAPL"),
            Field::new("note", "two words"),
            Field::new("ratio", 0.1f32),
        ];
        batch
            .push(
                1_795_780_800_123_456_789,
                Level::Info,
                3,
                "order filled",
                &fields,
            )
            .unwrap();
        batch.push(0, Level::Warn, 3, "line\nbreak", &[]).unwrap();
        let mut out = Vec::new();
        for record in batch.iter() {
            write_human_line(&mut out, &record);
        }
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "2026-11-27T12:00:00.123456789Z INFO order filled order_id=42 price=101.25 symbol=AAPL note=\"two words\" ratio=0.1\n\
             1970-01-01T00:00:00.000000000Z WARN \"line\\nbreak\"\n"
        );
    }

    #[test]
    fn a_text_message_is_written_as_it_is_and_a_template_is_rendered() {
        let mut batch = Batch::new();
        let region = {
            let mut region = Vec::new();
            let fields = [Field::new("id", 7u64), Field::new("r", 0.1f32)];
            crate::ring::record::encode_fields(&fields, &mut region).unwrap();
            region
        };
        for text in [true, false] {
            batch
                .push_encoded(0, Level::Info, 3, b"to logs/{id}.log {r:?}", &region, text)
                .unwrap();
        }
        let mut out = Vec::new();
        for record in batch.iter() {
            write_human_line(&mut out, &record);
        }
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "1970-01-01T00:00:00.000000000Z INFO to logs/{id}.log {r:?} id=7 r=0.1\n\
             1970-01-01T00:00:00.000000000Z INFO to logs/7.log 0.1 id=7 r=0.1\n"
        );
    }
}
