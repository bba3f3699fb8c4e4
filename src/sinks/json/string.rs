//! JSON strings: messages, keys and string values, escaped per the mapping in the
//! [module docs](super).

use super::out::Gen;
use simd_json::prelude::BaseGenerator;
use std::io::{self, Write};

/// Escaping makes a string at most 6 times longer (`\u00XX` per byte).
pub(super) const STRING_EXPANSION: usize = 6;

/// Writes `s` as a JSON string (quotes included).
pub fn write_string(out: &mut Vec<u8>, s: &str) {
    // Writing to a Vec cannot fail.
    let _ = write_string_to(out, s);
}

/// Strings up to this long that need no escaping are copied directly; the rest go through
/// simd-json's escaping writer.
const SHORT_STRING: usize = 64;

#[inline]
fn write_string_to<W: Write>(out: &mut W, s: &str) -> io::Result<()> {
    write_utf8_to(out, s.as_bytes())
}

/// Writes `bytes`, which must be UTF-8 (a batch's message column, whose every entry came from
/// a `&str` or was validated by the drain), as a JSON string, without validating it again
/// unless it needs escaping. Bytes that are not UTF-8 (a broken caller) are written lossily,
/// so the line stays valid JSON.
#[inline]
pub(super) fn write_utf8_to<W: Write>(out: &mut W, bytes: &[u8]) -> io::Result<()> {
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
pub(super) fn is_plain(bytes: &[u8]) -> bool {
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
pub(super) fn write_escaped<W: Write>(out: &mut W, bytes: &[u8]) -> io::Result<()> {
    match std::str::from_utf8(bytes) {
        Ok(s) => Gen { out }.write_string(s),
        Err(_) => Gen { out }.write_string(&String::from_utf8_lossy(bytes)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
