//! JSON numbers: integers with every digit, floats as the shortest decimal that reads back
//! (or the `$f64` objects), per the mapping in the [module docs](super).

use super::out::{Gen, JsonOut};
use crate::sinks::format::{two_digits, write_u64_digits, U64_DIGITS_MAX};
use simd_json::prelude::BaseGenerator;
use std::io;

/// The key of the object that stands for a non-finite float: `{"$f64":"NaN"}`.
pub const NON_FINITE_KEY: &str = "$f64";

/// The longest integer: `-9223372036854775808` and `18446744073709551615` take 20 bytes.
const INT_MAX: usize = U64_DIGITS_MAX;

/// Writes a signed integer.
#[inline(always)]
pub(super) fn write_i64<W: JsonOut>(out: &mut W, v: i64) -> io::Result<()> {
    out.write_fixed::<INT_MAX>(|buf| {
        buf[0] = b'-';
        let sign = usize::from(v < 0);
        sign + write_u64_digits(&mut buf[sign..], v.unsigned_abs())
    })
}

/// Writes an unsigned integer.
#[inline(always)]
pub(super) fn write_u64<W: JsonOut>(out: &mut W, v: u64) -> io::Result<()> {
    out.write_fixed::<INT_MAX>(|buf| write_u64_digits(buf, v))
}

/// Writes a float: a short decimal with integer arithmetic when it is one, else `ryu`'s text or
/// a `$f64` object.
#[inline(always)]
pub(super) fn write_f64<W: JsonOut>(out: &mut W, v: f64) -> io::Result<()> {
    match short_decimal_scaled(v) {
        Some(scaled) => out.write_fixed::<SHORT_DECIMAL_MAX>(|buf| {
            format_short_decimal(buf, v.is_sign_negative(), scaled)
        }),
        None => write_other_f64(out, v),
    }
}

/// The longest `f32` text: 16 bytes, as `-0.0000010000003` (ryu writes magnitudes from 1e-6
/// in plain decimal; checked over every finite `f32`).
const F32_MAX: usize = 16;

/// Writes an `f32`: the shortest decimal that reads back as this `f32` (`ryu`'s), or a `$f64`
/// object for NaN and the infinities (the same objects as for an `f64`).
#[inline]
pub(super) fn write_f32<W: JsonOut>(out: &mut W, v: f32) -> io::Result<()> {
    if !v.is_finite() {
        return write_other_f64(out, f64::from(v));
    }
    out.write_fixed::<F32_MAX>(|buf| {
        let mut ryu = ryu::Buffer::new();
        let text = ryu.format_finite(v).as_bytes();
        buf[..text.len()].copy_from_slice(text);
        text.len()
    })
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

/// Digits after the point that [`short_decimal_scaled`] handles.
const SHORT_DECIMALS: u32 = 4;
/// `10^SHORT_DECIMALS`.
const SHORT_SCALE: f64 = 10_000.0;

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
    len += write_u64_digits(&mut buf[len..], int);
    buf[len] = b'.';
    // Four decimals, of which the ones before the trailing zeros count (at least one: "3.0").
    buf[len + 1..len + 3].copy_from_slice(&two_digits(frac / 100));
    buf[len + 3..len + 5].copy_from_slice(&two_digits(frac % 100));
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The short-decimal text of `v`, if it has one.
    fn short_decimal(v: f64) -> Option<Vec<u8>> {
        short_decimal_scaled(v).map(|scaled| {
            let mut buf = [0u8; SHORT_DECIMAL_MAX];
            let len = format_short_decimal(&mut buf, v.is_sign_negative(), scaled);
            buf[..len].to_vec()
        })
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
            write_f64(&mut out, v).unwrap();
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
    fn f32_is_its_own_shortest_text() {
        let text = |v: f32| {
            let mut out = Vec::new();
            write_f32(&mut out, v).unwrap();
            String::from_utf8(out).unwrap()
        };
        assert_eq!(text(0.1), "0.1");
        assert_eq!(text(101.25), "101.25");
        assert_eq!(text(3.0), "3.0");
        assert_eq!(text(-0.0), "-0.0");
        assert_eq!(text(f32::NAN), r#"{"$f64":"NaN"}"#);
        assert_eq!(text(f32::NEG_INFINITY), r#"{"$f64":"-Infinity"}"#);
        // Every bit pattern's text reads back as the same f32 within F32_MAX bytes.
        let mut bits = 0x9E37_79B9u32;
        for _ in 0..200_000 {
            bits ^= bits << 13;
            bits ^= bits >> 17;
            bits ^= bits << 5;
            let v = f32::from_bits(bits);
            let written = text(v);
            assert!(written.len() <= F32_MAX, "{written}");
            if v.is_finite() {
                assert_eq!(written.parse::<f32>().unwrap().to_bits(), bits, "{written}");
                assert!(written.contains('.') || written.contains('e'), "{written}");
            }
        }
    }

    #[test]
    fn integers_match_formatting() {
        // The digits themselves are tested with `sinks::format`'s digit writers.
        for v in [0i64, -1, 1, i64::MIN, i64::MAX, -100, -99] {
            let mut out = Vec::new();
            write_i64(&mut out, v).unwrap();
            assert_eq!(out, v.to_string().as_bytes());
        }
        for v in [0u64, 9, 10, u64::MAX] {
            let mut out = Vec::new();
            write_u64(&mut out, v).unwrap();
            assert_eq!(out, v.to_string().as_bytes());
        }
    }
}
