//! Reading a batch's field regions as bytes, for sinks that write bytes.
//!
//! [`FieldIter`](crate::FieldIter) hands out `&str` keys and strings, so it validates their
//! UTF-8 every time a region is read. A serializer does not need `&str`: JSON escaping works on
//! bytes. [`RawFields`] decodes the same layout (see `ring::record`: u16 key length, key, u8
//! tag, payload) and hands out `&[u8]`, with no UTF-8 check and no `unsafe`.
//!
//! The bytes are UTF-8 anyway: a batch's field regions are written only by the crate's own
//! encoder from `&str`s (`Batch::push`, and the drain copying ring records that
//! `ring::record::encode_into` wrote). A reader that needs `&str` uses `FieldIter`.
//!
//! On a malformed region (which no batch holds) iteration stops at the first bad field, as
//! `FieldIter` does.
// NB: a variant with `&str` items made by `from_utf8_unchecked` (sound only as long as every
// producer of a batch keeps the invariant above) measured no faster than these byte items:
// 18.6 ns against 15.5 ns per record of three fields, `FieldIter` 106 ns (benches/file_sink.rs,
// `field_iteration_*_8192`, same run, load average 9). So the crate has no unsafe here.

/// A field value whose string, if any, is bytes (UTF-8 in every batch; not re-validated).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum RawValue<'a> {
    /// A signed integer.
    I64(i64),
    /// An unsigned integer.
    U64(u64),
    /// A float (any bit pattern, NaN and infinities included).
    F64(f64),
    /// A boolean.
    Bool(bool),
    /// A string's UTF-8 bytes.
    Str(&'a [u8]),
    /// No value.
    Null,
}

impl<'a> From<crate::value::Value<'a>> for RawValue<'a> {
    #[inline(always)]
    fn from(value: crate::value::Value<'a>) -> Self {
        use crate::value::Value;
        match value {
            Value::I64(v) => RawValue::I64(v),
            Value::U64(v) => RawValue::U64(v),
            Value::F64(v) => RawValue::F64(v),
            Value::Bool(v) => RawValue::Bool(v),
            Value::Str(s) => RawValue::Str(s.as_bytes()),
            Value::Null => RawValue::Null,
        }
    }
}

// The tags of `ring::record`'s field layout; the test `raw_fields_agree_with_field_iter`
// encodes every kind with the ring's encoder and reads it back here.
use crate::ring::record::{TAG_BOOL, TAG_F64, TAG_I64, TAG_NULL, TAG_STR, TAG_U64};

/// Iterates an encoded field region as `(key bytes, value)` pairs, in logged order, without
/// validating UTF-8. See the [module docs](self).
///
/// ```
/// use asynclog::batch::fields::{RawFields, RawValue};
/// use asynclog::{Batch, Field, Level};
///
/// let mut batch = Batch::new();
/// batch.push(0, Level::Info, 1, "m", &[Field::new("symbol", "AAPL"), Field::new("n", 3u64)])?;
/// let fields: Vec<_> = RawFields::new(batch.field_region(0)).collect();
/// assert_eq!(
///     fields,
///     vec![(&b"symbol"[..], RawValue::Str(b"AAPL")), (&b"n"[..], RawValue::U64(3))]
/// );
/// # Ok::<(), asynclog::batch::PushError>(())
/// ```
#[derive(Debug, Clone)]
pub struct RawFields<'a> {
    rest: &'a [u8],
}

impl<'a> RawFields<'a> {
    /// Iterates `region`, an encoded field region (for instance [`Batch::field_region`]).
    ///
    /// [`Batch::field_region`]: crate::Batch::field_region
    #[inline]
    pub fn new(region: &'a [u8]) -> Self {
        RawFields { rest: region }
    }

    /// True when there are no (more) fields.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.rest.is_empty()
    }
}

impl<'a> Iterator for RawFields<'a> {
    type Item = (&'a [u8], RawValue<'a>);

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() {
            return None;
        }
        match read_field(self.rest) {
            Some((key, value, rest)) => {
                self.rest = rest;
                Some((key, value))
            }
            None => {
                self.rest = &[];
                None
            }
        }
    }
}

/// Reads the field at the start of `bytes`: key, value, and the bytes after it; `None` if it
/// is malformed.
#[inline(always)]
fn read_field<'a>(bytes: &'a [u8]) -> Option<(&'a [u8], RawValue<'a>, &'a [u8])> {
    let (key_len, rest) = bytes.split_first_chunk::<2>()?;
    let key_len = u16::from_le_bytes(*key_len) as usize;
    // The key and the tag byte after it.
    if rest.len() <= key_len {
        return None;
    }
    let (key, rest) = rest.split_at(key_len);
    let (&tag, rest) = rest.split_first()?;
    let (value, rest) = match tag {
        TAG_NULL => (RawValue::Null, rest),
        TAG_I64 => {
            let (&w, rest) = rest.split_first_chunk::<8>()?;
            (RawValue::I64(i64::from_le_bytes(w)), rest)
        }
        TAG_U64 => {
            let (&w, rest) = rest.split_first_chunk::<8>()?;
            (RawValue::U64(u64::from_le_bytes(w)), rest)
        }
        TAG_F64 => {
            let (&w, rest) = rest.split_first_chunk::<8>()?;
            (RawValue::F64(f64::from_bits(u64::from_le_bytes(w))), rest)
        }
        TAG_BOOL => match rest.split_first()? {
            (0, rest) => (RawValue::Bool(false), rest),
            (1, rest) => (RawValue::Bool(true), rest),
            _ => return None,
        },
        TAG_STR => {
            let (len, rest) = rest.split_first_chunk::<4>()?;
            let len = u32::from_le_bytes(*len) as usize;
            if rest.len() < len {
                return None;
            }
            let (s, rest) = rest.split_at(len);
            (RawValue::Str(s), rest)
        }
        _ => return None,
    };
    Some((key, value, rest))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ring::record::{encode_fields, FieldIter};
    use crate::value::{Field, Value};

    fn every_kind() -> Vec<Field<'static>> {
        vec![
            Field::new("order_id", 42u64),
            Field::new("neg", i64::MIN),
            Field::new("big", u64::MAX),
            Field::new("price", 101.25),
            Field::new("nan", f64::NAN),
            Field::new("yes", true),
            Field::new("no", false),
            Field::new("none", Option::<i64>::None),
            Field::new("symbol", "AAPL"),
            Field::new("", ""),
            Field::new("ключ", "😀 \u{0}\"\\"),
        ]
    }

    #[test]
    fn raw_fields_agree_with_field_iter() {
        let fields = every_kind();
        let mut region = Vec::new();
        encode_fields(&fields, &mut region).unwrap();
        let raw: Vec<_> = RawFields::new(&region).collect();
        let checked: Vec<_> = FieldIter::new(&region).collect();
        assert_eq!(raw.len(), fields.len());
        assert_eq!(checked.len(), fields.len());
        for ((key, value), (checked_key, checked_value)) in raw.iter().zip(&checked) {
            assert_eq!(*key, checked_key.as_bytes());
            match (value, checked_value) {
                // NaN != NaN: compare bits.
                (RawValue::F64(a), Value::F64(b)) => assert_eq!(a.to_bits(), b.to_bits()),
                (a, b) => assert_eq!(*a, RawValue::from(*b)),
            }
        }
        assert!(RawFields::new(&[]).is_empty());
    }

    #[test]
    fn malformed_regions_stop_where_field_iter_stops() {
        let fields = every_kind();
        let mut region = Vec::new();
        encode_fields(&fields, &mut region).unwrap();
        // Every truncation, and every single-byte corruption of the tag/length bytes, yields the
        // same number of fields from both iterators (UTF-8 aside, the layouts agree).
        for cut in 0..region.len() {
            let bytes = &region[..cut];
            assert_eq!(
                RawFields::new(bytes).count(),
                FieldIter::new(bytes).count(),
                "cut at {cut}"
            );
        }
        for at in 0..region.len() {
            for bad in [2u8, 9, 0xff] {
                let mut bytes = region.clone();
                bytes[at] = bad;
                // FieldIter also stops at strings that stop being UTF-8; only compare when the
                // corrupted region still reads as UTF-8 where FieldIter looks.
                let checked = FieldIter::new(&bytes).count();
                let raw = RawFields::new(&bytes).count();
                assert!(raw >= checked, "at {at} = {bad}: {raw} < {checked}");
            }
        }
    }
}
