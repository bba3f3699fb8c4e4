//! Text formatting shared by the sinks: RFC 3339 timestamps and the human-readable line.

use crate::batch::RecordView;
use crate::value::Value;
use std::io::Write;

/// Writes `ns` (since the Unix epoch, UTC) as `2026-11-27T12:00:00.123456789Z`.
pub fn write_rfc3339_nanos(out: &mut Vec<u8>, ns: i64) {
    let secs = ns.div_euclid(1_000_000_000);
    let nanos = ns.rem_euclid(1_000_000_000);
    let days = secs.div_euclid(86_400);
    let secs_of_day = secs.rem_euclid(86_400);
    let (year, month, day) = civil_from_days(days);
    let _ = write!(
        out,
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{nanos:09}Z",
        secs_of_day / 3600,
        secs_of_day / 60 % 60,
        secs_of_day % 60
    );
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

/// Writes one human-readable line:
/// `2026-11-27T12:00:00.123456789Z INFO order filled order_id=42 price=101.25 symbol=AAPL`.
/// String values with spaces, quotes, `=` or control characters (and empty ones) are quoted with
/// Rust-style escapes so a line stays one line.
pub fn write_human_line(out: &mut Vec<u8>, record: &RecordView<'_>) {
    write_rfc3339_nanos(out, record.timestamp_ns);
    out.push(b' ');
    out.extend_from_slice(record.level.as_str().as_bytes());
    out.push(b' ');
    write_text(out, record.message, false);
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
    fn human_line_matches_the_documented_shape() {
        let mut batch = Batch::new();
        let fields = [
            Field::new("order_id", 42u64),
            Field::new("price", 101.25),
            Field::new("symbol", "AAPL"),
            Field::new("note", "two words"),
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
            "2026-11-27T12:00:00.123456789Z INFO order filled order_id=42 price=101.25 symbol=AAPL note=\"two words\"\n\
             1970-01-01T00:00:00.000000000Z WARN \"line\\nbreak\"\n"
        );
    }
}
