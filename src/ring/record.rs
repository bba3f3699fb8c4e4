//! The binary record layout shared by the frontend (which encodes into a ring) and the drain (which
//! decodes out of it). Nothing else in the crate knows these offsets.
//!
//! A record is a run of little-endian bytes, with no alignment requirement, so it can start
//! anywhere in a byte ring and wrap around its end:
//!
//! ```text
//! offset  size  field
//!      0     4  total length of the record in bytes, header included
//!      4     1  level (`Level as u8`)
//!      5     1  flags: bit 0 set = timestamp is wall-clock ns since the Unix epoch,
//!               clear = raw clock ticks (see `ring::clock`); bit 2 set = the message is
//!               finished text, not a template ([`FLAG_TEXT_MESSAGE`])
//!      6     2  number of fields
//!      8     8  timestamp
//!     16     4  message length in bytes
//!     20     m  message (UTF-8)
//!   20+m     …  fields, each: u16 key length, key (UTF-8), u8 tag, payload
//! ```
//!
//! Field payloads by tag: `I64`/`U64`/`F64` 8 bytes; `F32` 4 bytes; `BOOL` 1 byte (0 or 1); `STR` u32 length then
//! UTF-8 bytes; `NULL` nothing. The field region is copied verbatim into a batch, so sinks decode
//! fields with this module's readers: [`FieldIter`] (`&str` items, UTF-8 checked) and
//! [`RawFields`] (byte items, for serializers), which share one field decoder.
//!
//! A *call-site record* (flag bit 1, [`FLAG_CALLSITE`]) comes from a macro call with a literal
//! message: its message and keys live in a static [`Callsite`](super::callsite::Callsite), so the
//! record holds the call site's id in place of the message length, no message, and for each field
//! only the tag and payload. The drain copies those values into a batch as they are, with the
//! call-site id in a column beside them; the batch's readers pair them with the call site's keys
//! (`FieldIter` and `RawFields` over a values-only region).
//!
//! ```text
//!      0     4  total length
//!      4     1  level
//!      5     1  flags (bit 1 set)
//!      6     2  number of fields (= the call site's number of keys)
//!      8     8  timestamp
//!     16     4  call-site id
//!     20     …  values, each: u8 tag, payload
//! ```

use super::copy::copy_small;
use crate::value::{Field, Level, Value};
use std::mem::MaybeUninit;

/// Bytes before the message.
pub const HEADER_LEN: usize = 20;

// Where each part of the fixed header starts (the table in the module docs). Every read and
// write of a header goes through these: `fixed_header` writes them, `RecordHeader` reads them.
/// u32: the record's total length.
const LEN_AT: usize = 0;
/// u8: the level.
const LEVEL_AT: usize = 4;
/// u8: the `FLAG_*` bits.
const FLAGS_AT: usize = 5;
/// u16: the number of fields.
const COUNT_AT: usize = 6;
/// u64: the timestamp.
const TIMESTAMP_AT: usize = 8;
/// u32: the message length, or in a call-site record the call-site id.
const LAST_WORD_AT: usize = 16;
/// Flag bit: the timestamp is wall-clock nanoseconds, not clock ticks.
pub const FLAG_WALL_CLOCK: u8 = 1;
/// Flag bit: a call-site record (see the module docs).
pub const FLAG_CALLSITE: u8 = 2;
/// Flag bit: the message is finished text (formatted by `tracing` or `log`), so a
/// human-readable sink writes it as it is instead of rendering `{key}` placeholders in it.
pub const FLAG_TEXT_MESSAGE: u8 = 4;
/// The longest key a field may have.
pub const MAX_KEY_LEN: usize = u16::MAX as usize;
/// The most fields one record may carry.
pub const MAX_FIELDS: usize = u16::MAX as usize;

pub(crate) const TAG_NULL: u8 = 0;
pub(crate) const TAG_I64: u8 = 1;
pub(crate) const TAG_U64: u8 = 2;
pub(crate) const TAG_F64: u8 = 3;
pub(crate) const TAG_BOOL: u8 = 4;
pub(crate) const TAG_STR: u8 = 5;
pub(crate) const TAG_F32: u8 = 6;

/// Why a record cannot be encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum EncodeError {
    /// The record needs more than `u32::MAX` bytes: `size` of them.
    TooLong {
        /// The record's encoded size.
        size: usize,
    },
    /// A key is longer than [`MAX_KEY_LEN`] bytes.
    KeyTooLong,
    /// More than [`MAX_FIELDS`] fields.
    TooManyFields,
}

/// Why bytes are not a valid record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecodeError {
    /// Fewer bytes than the header or a length inside it says.
    Truncated,
    /// The length word disagrees with the content.
    BadLength,
    /// The level byte is not a [`Level`].
    BadLevel,
    /// Unknown flag bits.
    BadFlags,
    /// A field tag is unknown.
    BadTag,
    /// A string is not UTF-8.
    BadUtf8,
    /// A call-site record, whose message and keys only the call-site table has.
    CallsiteRecord,
    /// A call-site record naming an unknown call site, or with a field count that is not its
    /// call site's.
    BadCallsite,
}

/// The encoded size of the fields alone.
#[inline]
pub fn fields_len(fields: &[Field<'_>]) -> Result<usize, EncodeError> {
    if fields.len() > MAX_FIELDS {
        return Err(EncodeError::TooManyFields);
    }
    let mut len = 0usize;
    for field in fields {
        if field.key.len() > MAX_KEY_LEN {
            return Err(EncodeError::KeyTooLong);
        }
        len += key_len(field.key) + 1 + value_len(&field.value);
    }
    Ok(len)
}

/// The encoded size of a field's key: its `u16` length, then its bytes.
#[inline(always)]
pub const fn key_len(key: &str) -> usize {
    2 + key.len()
}

#[inline]
fn value_len(value: &Value<'_>) -> usize {
    match value {
        Value::I64(_) | Value::U64(_) | Value::F64(_) => 8,
        Value::F32(_) => 4,
        Value::Bool(_) => 1,
        Value::Str(s) => 4 + s.len(),
        Value::Null => 0,
    }
}

/// The total encoded size of a record, or why it cannot be encoded.
#[inline]
pub fn record_len(message: &str, fields: &[Field<'_>]) -> Result<usize, EncodeError> {
    let len = HEADER_LEN + message.len() + fields_len(fields)?;
    if len > u32::MAX as usize || message.len() > u32::MAX as usize {
        return Err(EncodeError::TooLong { size: len });
    }
    Ok(len)
}

/// The total encoded size of a call-site record carrying `values`.
#[inline(always)]
pub fn callsite_record_len<const N: usize>(values: &[Value<'_>; N]) -> Result<usize, EncodeError> {
    let mut len = HEADER_LEN;
    for value in values {
        len += 1 + value_len(value);
    }
    if len > u32::MAX as usize {
        return Err(EncodeError::TooLong { size: len });
    }
    Ok(len)
}

/// The part of a record that is not the message or the fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// Severity.
    pub level: Level,
    /// `FLAG_*` bits.
    pub flags: u8,
    /// Ticks or wall-clock ns, as `flags` says.
    pub timestamp: u64,
}

/// Where the encoder writes: one contiguous slice (the common case) or the two halves of a
/// record that wraps around the end of the ring.
trait Out {
    fn put(&mut self, bytes: &[u8]);

    /// Puts a one-byte tag and then `payload`, as two stores into the output. Gluing them into
    /// one array first would make the CPU load that array back from the stack across two
    /// differently sized stores, which store forwarding cannot serve (a stall per field).
    #[inline(always)]
    fn put_tagged<const P: usize>(&mut self, tag: u8, payload: [u8; P]) {
        self.put(&[tag]);
        self.put(&payload);
    }
}

/// A cursor over one contiguous slice. `split_at_mut` with the (usually constant) length lets
/// the compiler turn each `put` of a fixed-size array into a single store.
struct Contiguous<'a> {
    rest: &'a mut [MaybeUninit<u8>],
}

impl Out for Contiguous<'_> {
    #[inline(always)]
    fn put(&mut self, bytes: &[u8]) {
        let (head, tail) = std::mem::take(&mut self.rest).split_at_mut(bytes.len());
        copy_small(head, bytes);
        self.rest = tail;
    }
}

/// A cursor over the two halves of a wrapped record.
struct Split<'a> {
    first: &'a mut [MaybeUninit<u8>],
    second: &'a mut [MaybeUninit<u8>],
    pos: usize,
}

impl Out for Split<'_> {
    fn put(&mut self, bytes: &[u8]) {
        let first_len = self.first.len();
        let in_first = first_len.saturating_sub(self.pos).min(bytes.len());
        let (head, tail) = bytes.split_at(in_first);
        if !head.is_empty() {
            self.first[self.pos..self.pos + in_first].write_copy_of_slice(head);
        }
        if !tail.is_empty() {
            let start = self.pos + in_first - first_len;
            self.second[start..start + tail.len()].write_copy_of_slice(tail);
        }
        self.pos += bytes.len();
    }
}

/// A record ready to be written into a ring: its exact length, then its bytes.
pub trait EncodeRecord {
    /// The encoded length, or why it cannot be encoded.
    fn encoded_len(&self) -> Result<usize, EncodeError>;
    /// Writes every byte of `first` followed by `second`, which together are `len()` bytes.
    fn encode_into(&self, first: &mut [MaybeUninit<u8>], second: &mut [MaybeUninit<u8>]);
}

/// A record that carries its message and keys (see the module docs).
#[derive(Debug, Clone, Copy)]
pub struct GeneralRecord<'a> {
    /// Level, flags and timestamp.
    pub header: Header,
    /// The message.
    pub message: &'a str,
    /// The fields.
    pub fields: &'a [Field<'a>],
}

impl EncodeRecord for GeneralRecord<'_> {
    #[inline(always)]
    fn encoded_len(&self) -> Result<usize, EncodeError> {
        record_len(self.message, self.fields)
    }

    #[inline(always)]
    fn encode_into(&self, first: &mut [MaybeUninit<u8>], second: &mut [MaybeUninit<u8>]) {
        encode_into(first, second, &self.header, self.message, self.fields)
    }
}

/// A call-site record: the call site's id and one value per key (see the module docs).
#[derive(Debug, Clone, Copy)]
pub struct CallsiteRecord<'a, const N: usize> {
    /// Level, flags (without [`FLAG_CALLSITE`]) and timestamp.
    pub header: Header,
    /// From [`Callsite::id`](super::callsite::Callsite::id).
    pub callsite_id: u32,
    /// The values, in the order of the call site's keys.
    pub values: [Value<'a>; N],
}

impl<const N: usize> EncodeRecord for CallsiteRecord<'_, N> {
    #[inline(always)]
    fn encoded_len(&self) -> Result<usize, EncodeError> {
        callsite_record_len(&self.values)
    }

    #[inline(always)]
    fn encode_into(&self, first: &mut [MaybeUninit<u8>], second: &mut [MaybeUninit<u8>]) {
        encode_callsite_into(first, second, &self.header, self.callsite_id, &self.values)
    }
}

/// Encodes one record into `first` followed by `second`, which together must be exactly
/// `record_len(message, fields)` bytes long (the caller computed that length to reserve them).
/// Every byte of both slices is written.
///
/// # Panics
/// If the two slices are shorter than the record.
#[inline]
pub fn encode_into(
    first: &mut [MaybeUninit<u8>],
    second: &mut [MaybeUninit<u8>],
    header: &Header,
    message: &str,
    fields: &[Field<'_>],
) {
    let total = first.len() + second.len();
    if second.is_empty() {
        encode_with(
            &mut Contiguous { rest: first },
            total,
            header,
            message,
            fields,
        );
    } else {
        encode_wrapped(first, second, total, header, message, fields);
    }
}

/// Encodes a call-site record (call site `callsite_id`, one value per key) into `first` followed
/// by `second`, which together must be exactly `callsite_record_len(values)` bytes long.
///
/// # Panics
/// If the two slices are shorter than the record.
#[inline(always)]
pub fn encode_callsite_into<const N: usize>(
    first: &mut [MaybeUninit<u8>],
    second: &mut [MaybeUninit<u8>],
    header: &Header,
    callsite_id: u32,
    values: &[Value<'_>; N],
) {
    let total = first.len() + second.len();
    if second.is_empty() {
        encode_callsite_with(
            &mut Contiguous { rest: first },
            total,
            header,
            callsite_id,
            values,
        );
    } else {
        // By value: a reference here, even on this cold path, keeps the header and values in
        // memory on the hot one.
        encode_callsite_wrapped(first, second, total, *header, callsite_id, *values);
    }
}

#[cold]
#[inline(never)]
fn encode_callsite_wrapped<const N: usize>(
    first: &mut [MaybeUninit<u8>],
    second: &mut [MaybeUninit<u8>],
    total: usize,
    header: Header,
    callsite_id: u32,
    values: [Value<'_>; N],
) {
    let mut out = Split {
        first,
        second,
        pos: 0,
    };
    encode_callsite_with(&mut out, total, &header, callsite_id, &values);
    debug_assert_eq!(
        out.pos, total,
        "callsite_record_len and the encoder disagree"
    );
}

#[inline(always)]
fn encode_callsite_with<const N: usize>(
    out: &mut impl Out,
    total: usize,
    header: &Header,
    callsite_id: u32,
    values: &[Value<'_>; N],
) {
    out.put(&fixed_header(
        total,
        header.level,
        header.flags | FLAG_CALLSITE,
        N,
        header.timestamp,
        callsite_id,
    ));
    for value in values {
        put_value(out, value);
    }
}

/// The first [`HEADER_LEN`] bytes as one array: a few wide stores instead of five small copies.
#[inline(always)]
fn fixed_header(
    total: usize,
    level: Level,
    flags: u8,
    field_count: usize,
    timestamp: u64,
    last_word: u32,
) -> [u8; HEADER_LEN] {
    let mut fixed = [0u8; HEADER_LEN];
    fixed[LEN_AT..LEN_AT + 4].copy_from_slice(&(total as u32).to_le_bytes());
    fixed[LEVEL_AT] = level as u8;
    fixed[FLAGS_AT] = flags;
    fixed[COUNT_AT..COUNT_AT + 2].copy_from_slice(&(field_count as u16).to_le_bytes());
    fixed[TIMESTAMP_AT..TIMESTAMP_AT + 8].copy_from_slice(&timestamp.to_le_bytes());
    fixed[LAST_WORD_AT..LAST_WORD_AT + 4].copy_from_slice(&last_word.to_le_bytes());
    fixed
}

/// A view of a record's first [`HEADER_LEN`] bytes: the drain reads these to order records by
/// time before taking one, and [`split_record`] to split one.
#[derive(Debug, Clone, Copy)]
pub struct RecordHeader<'a> {
    bytes: &'a [u8; HEADER_LEN],
}

impl<'a> RecordHeader<'a> {
    /// Views `bytes`, the start of a record.
    #[inline(always)]
    pub fn new(bytes: &'a [u8; HEADER_LEN]) -> Self {
        RecordHeader { bytes }
    }

    /// The `N` bytes at `at` (constant offsets, so no bounds check survives).
    #[inline(always)]
    fn word<const N: usize>(&self, at: usize) -> [u8; N] {
        self.bytes[at..at + N]
            .try_into()
            .expect("within the header")
    }

    /// The record's total length in bytes, header included.
    #[inline(always)]
    pub fn total_len(&self) -> usize {
        u32::from_le_bytes(self.word(LEN_AT)) as usize
    }

    /// The level, if the level byte is one.
    #[inline(always)]
    pub fn level(&self) -> Option<Level> {
        Level::from_u8(self.bytes[LEVEL_AT])
    }

    /// The `FLAG_*` bits.
    #[inline(always)]
    pub fn flags(&self) -> u8 {
        self.bytes[FLAGS_AT]
    }

    /// Whether the timestamp is wall-clock nanoseconds ([`FLAG_WALL_CLOCK`]) rather than ticks.
    #[inline(always)]
    pub fn is_wall_clock(&self) -> bool {
        self.flags() & FLAG_WALL_CLOCK != 0
    }

    /// Whether this is a call-site record ([`FLAG_CALLSITE`]).
    #[inline(always)]
    pub fn is_callsite(&self) -> bool {
        self.flags() & FLAG_CALLSITE != 0
    }

    /// How many fields the record says it has.
    #[inline(always)]
    pub fn field_count(&self) -> u16 {
        u16::from_le_bytes(self.word(COUNT_AT))
    }

    /// Clock ticks or wall-clock nanoseconds, as [`is_wall_clock`](Self::is_wall_clock) says.
    #[inline(always)]
    pub fn timestamp(&self) -> u64 {
        u64::from_le_bytes(self.word(TIMESTAMP_AT))
    }

    /// The message length, or the call-site id of a call-site record.
    #[inline(always)]
    fn last_word(&self) -> u32 {
        u32::from_le_bytes(self.word(LAST_WORD_AT))
    }
}

/// Puts one field: its key's `u16` length, the key, then the tagged value.
#[inline(always)]
fn put_field(out: &mut impl Out, field: &Field<'_>) {
    out.put(&(field.key.len() as u16).to_le_bytes());
    out.put(field.key.as_bytes());
    put_value(out, &field.value);
}

#[inline(always)]
fn put_value(out: &mut impl Out, value: &Value<'_>) {
    match *value {
        Value::I64(v) => out.put_tagged(TAG_I64, v.to_le_bytes()),
        Value::U64(v) => out.put_tagged(TAG_U64, v.to_le_bytes()),
        Value::F64(v) => out.put_tagged(TAG_F64, v.to_bits().to_le_bytes()),
        Value::F32(v) => out.put_tagged(TAG_F32, v.to_bits().to_le_bytes()),
        Value::Bool(v) => out.put_tagged(TAG_BOOL, [v as u8]),
        Value::Str(s) => {
            out.put_tagged(TAG_STR, (s.len() as u32).to_le_bytes());
            out.put(s.as_bytes());
        }
        Value::Null => out.put(&[TAG_NULL]),
    }
}

#[cold]
#[inline(never)]
fn encode_wrapped(
    first: &mut [MaybeUninit<u8>],
    second: &mut [MaybeUninit<u8>],
    total: usize,
    header: &Header,
    message: &str,
    fields: &[Field<'_>],
) {
    let mut out = Split {
        first,
        second,
        pos: 0,
    };
    encode_with(&mut out, total, header, message, fields);
    debug_assert_eq!(out.pos, total, "record_len and encode_into disagree");
}

#[inline(always)]
fn encode_with(
    out: &mut impl Out,
    total: usize,
    header: &Header,
    message: &str,
    fields: &[Field<'_>],
) {
    out.put(&fixed_header(
        total,
        header.level,
        header.flags,
        fields.len(),
        header.timestamp,
        message.len() as u32,
    ));
    out.put(message.as_bytes());
    for field in fields {
        put_field(out, field);
    }
}

/// Encodes a record into a fresh vector (tests, fuzzing, and off-hot-path callers).
pub fn encode_to_vec(
    header: Header,
    message: &str,
    fields: &[Field<'_>],
) -> Result<Vec<u8>, EncodeError> {
    let len = record_len(message, fields)?;
    let mut out = Vec::with_capacity(len);
    out.extend_from_slice(&fixed_header(
        len,
        header.level,
        header.flags,
        fields.len(),
        header.timestamp,
        message.len() as u32,
    ));
    out.extend_from_slice(message.as_bytes());
    encode_fields(fields, &mut out)?;
    debug_assert_eq!(out.len(), len);
    Ok(out)
}

/// A growable byte buffer the field encoder can append to (a `Vec<u8>` or an arena vector).
pub trait ByteBuf {
    /// Appends `bytes`.
    fn put(&mut self, bytes: &[u8]);
}

impl ByteBuf for Vec<u8> {
    fn put(&mut self, bytes: &[u8]) {
        self.extend_from_slice(bytes);
    }
}

impl ByteBuf for bumpalo::collections::Vec<'_, u8> {
    fn put(&mut self, bytes: &[u8]) {
        self.extend_from_slice_copy(bytes);
    }
}

/// The encoder's cursor over a growable buffer.
struct Append<'a, B: ByteBuf>(&'a mut B);

impl<B: ByteBuf> Out for Append<'_, B> {
    #[inline(always)]
    fn put(&mut self, bytes: &[u8]) {
        self.0.put(bytes);
    }
}

/// Appends one encoded field (the caller has checked the key length with [`fields_len`]), as
/// the ring encoder writes it.
pub fn encode_field(field: &Field<'_>, out: &mut impl ByteBuf) {
    put_field(&mut Append(out), field);
}

/// Encodes just the field region (the form a batch stores fields in).
pub fn encode_fields(fields: &[Field<'_>], out: &mut impl ByteBuf) -> Result<(), EncodeError> {
    fields_len(fields)?;
    for field in fields {
        encode_field(field, out);
    }
    Ok(())
}

/// A decoded, validated record borrowing the bytes it came from.
#[derive(Debug, Clone, Copy)]
pub struct RecordRef<'a> {
    /// Level, flags and timestamp.
    pub header: Header,
    /// The message.
    pub message: &'a str,
    /// The encoded field region; iterate it with [`FieldIter::new`].
    pub fields: &'a [u8],
    /// How many fields `fields` holds.
    pub field_count: u16,
}

/// Reads the length word of the record starting at `bytes`, if four bytes are there.
#[inline]
pub fn peek_len(bytes: &[u8]) -> Option<usize> {
    Some(u32::from_le_bytes(*bytes.get(LEN_AT..)?.first_chunk::<4>()?) as usize)
}

/// A record split into its parts without checking the UTF-8 of its strings or the shape of its
/// fields: what the drain needs to copy a record from a ring into a batch.
#[derive(Debug, Clone, Copy)]
pub struct RawRecord<'a> {
    /// Level, flags and timestamp.
    pub header: Header,
    /// The message bytes (UTF-8 when the record came from [`encode_into`]); empty in a call-site
    /// record.
    pub message: &'a [u8],
    /// The encoded field region; in a call-site record, the values only (tag and payload each).
    pub fields: &'a [u8],
    /// How many fields the record says it has.
    pub field_count: u16,
    /// The call-site id of a call-site record, else `None`.
    pub callsite: Option<u32>,
}

/// Splits one record that occupies exactly `bytes` into header, message and field region,
/// checking lengths, level and flags but not string contents.
///
/// The drain uses this on its rings, which only [`encode_into`] writes (from `&str`s, so the
/// strings are UTF-8): a full [`decode`] there costs more than the rest of the drain's work per
/// record (measured with callgrind). Readers of the batch validate as they read
/// ([`FieldIter`], `Batch::message`).
pub fn split_record(bytes: &[u8]) -> Result<RawRecord<'_>, DecodeError> {
    let Some(fixed) = bytes.first_chunk::<HEADER_LEN>() else {
        return Err(DecodeError::Truncated);
    };
    let fixed = RecordHeader::new(fixed);
    if fixed.total_len() != bytes.len() {
        return Err(DecodeError::BadLength);
    }
    let level = fixed.level().ok_or(DecodeError::BadLevel)?;
    let flags = fixed.flags();
    if flags & !(FLAG_WALL_CLOCK | FLAG_CALLSITE | FLAG_TEXT_MESSAGE) != 0 {
        return Err(DecodeError::BadFlags);
    }
    let field_count = fixed.field_count();
    let last_word = fixed.last_word();
    let header = Header {
        level,
        flags: flags & !FLAG_CALLSITE,
        timestamp: fixed.timestamp(),
    };
    if fixed.is_callsite() {
        return Ok(RawRecord {
            header,
            message: &[],
            fields: &bytes[HEADER_LEN..],
            field_count,
            callsite: Some(last_word),
        });
    }
    let message_end = HEADER_LEN
        .checked_add(last_word as usize)
        .filter(|&end| end <= bytes.len())
        .ok_or(DecodeError::Truncated)?;
    Ok(RawRecord {
        header,
        message: &bytes[HEADER_LEN..message_end],
        fields: &bytes[message_end..],
        field_count,
        callsite: None,
    })
}

/// Decodes and validates one record that occupies exactly `bytes`.
///
/// Call-site records are refused with [`DecodeError::CallsiteRecord`]: their message and keys
/// are not in the bytes (a batch pairs the values with the call-site table's keys).
pub fn decode(bytes: &[u8]) -> Result<RecordRef<'_>, DecodeError> {
    let raw = split_record(bytes)?;
    if raw.callsite.is_some() {
        return Err(DecodeError::CallsiteRecord);
    }
    let field_count = raw.field_count;
    let message = std::str::from_utf8(raw.message).map_err(|_| DecodeError::BadUtf8)?;
    validate_fields(raw.fields, field_count)?;
    Ok(RecordRef {
        header: raw.header,
        message,
        fields: raw.fields,
        field_count,
    })
}

/// Checks that `bytes` holds exactly `count` well-formed fields.
pub fn validate_fields(bytes: &[u8], count: u16) -> Result<(), DecodeError> {
    let mut rest = bytes;
    for _ in 0..count {
        (_, _, rest) = read_field(rest)?;
    }
    if !rest.is_empty() {
        return Err(DecodeError::BadLength);
    }
    Ok(())
}

/// A field value whose string, if any, is bytes (UTF-8 in every batch; not re-validated).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum RawValue<'a> {
    /// A signed integer.
    I64(i64),
    /// An unsigned integer.
    U64(u64),
    /// A 64-bit float (any bit pattern, NaN and infinities included).
    F64(f64),
    /// A 32-bit float (any bit pattern).
    F32(f32),
    /// A boolean.
    Bool(bool),
    /// A string's UTF-8 bytes.
    Str(&'a [u8]),
    /// No value.
    Null,
}

impl<'a> From<Value<'a>> for RawValue<'a> {
    #[inline(always)]
    fn from(value: Value<'a>) -> Self {
        match value {
            Value::I64(v) => RawValue::I64(v),
            Value::U64(v) => RawValue::U64(v),
            Value::F64(v) => RawValue::F64(v),
            Value::F32(v) => RawValue::F32(v),
            Value::Bool(v) => RawValue::Bool(v),
            Value::Str(s) => RawValue::Str(s.as_bytes()),
            Value::Null => RawValue::Null,
        }
    }
}

// The field decoder. `read_raw_value` is the one reader of tags and payloads and
// `read_raw_field` the one reader of a key before it; everything that walks a field region or a
// call-site record's values goes through them: `RawFields` as they are, `FieldIter` and
// `validate_fields` through `read_field`, which adds the UTF-8 checks, and `check_values`, the
// drain's check of a call-site record's values. They check lengths, tags and the boolean byte,
// but not UTF-8.

/// Reads the tagged value (tag and payload) at the start of `bytes`: the value and the bytes
/// after it.
#[inline(always)]
pub(crate) fn read_raw_value(bytes: &[u8]) -> Result<(RawValue<'_>, &[u8]), DecodeError> {
    let (&tag, rest) = bytes.split_first().ok_or(DecodeError::Truncated)?;
    let word = |rest| <[u8]>::split_first_chunk::<8>(rest).ok_or(DecodeError::Truncated);
    Ok(match tag {
        TAG_NULL => (RawValue::Null, rest),
        TAG_I64 => {
            let (&w, rest) = word(rest)?;
            (RawValue::I64(i64::from_le_bytes(w)), rest)
        }
        TAG_U64 => {
            let (&w, rest) = word(rest)?;
            (RawValue::U64(u64::from_le_bytes(w)), rest)
        }
        TAG_F64 => {
            let (&w, rest) = word(rest)?;
            (RawValue::F64(f64::from_bits(u64::from_le_bytes(w))), rest)
        }
        TAG_F32 => {
            let (&w, rest) = rest
                .split_first_chunk::<4>()
                .ok_or(DecodeError::Truncated)?;
            (RawValue::F32(f32::from_bits(u32::from_le_bytes(w))), rest)
        }
        TAG_BOOL => match rest.split_first().ok_or(DecodeError::Truncated)? {
            (0, rest) => (RawValue::Bool(false), rest),
            (1, rest) => (RawValue::Bool(true), rest),
            _ => return Err(DecodeError::BadTag),
        },
        TAG_STR => {
            let (len, rest) = rest
                .split_first_chunk::<4>()
                .ok_or(DecodeError::Truncated)?;
            let len = u32::from_le_bytes(*len) as usize;
            if rest.len() < len {
                return Err(DecodeError::Truncated);
            }
            let (s, rest) = rest.split_at(len);
            (RawValue::Str(s), rest)
        }
        _ => return Err(DecodeError::BadTag),
    })
}

/// Reads the field at the start of `bytes`: its key, its value, and the bytes after it.
#[inline(always)]
fn read_raw_field(bytes: &[u8]) -> Result<(&[u8], RawValue<'_>, &[u8]), DecodeError> {
    let (key_len, rest) = bytes
        .split_first_chunk::<2>()
        .ok_or(DecodeError::Truncated)?;
    let key_len = u16::from_le_bytes(*key_len) as usize;
    // The key and the tag byte after it.
    if rest.len() <= key_len {
        return Err(DecodeError::Truncated);
    }
    let (key, rest) = rest.split_at(key_len);
    let (value, rest) = read_raw_value(rest)?;
    Ok((key, value, rest))
}

/// [`read_raw_field`] with its key and string checked as UTF-8.
#[inline]
fn read_field(bytes: &[u8]) -> Result<(&str, Value<'_>, &[u8]), DecodeError> {
    let (key, value, rest) = read_raw_field(bytes)?;
    let key = std::str::from_utf8(key).map_err(|_| DecodeError::BadUtf8)?;
    Ok((key, checked_utf8(value)?, rest))
}

/// A raw value as a [`Value`], its string checked as UTF-8.
#[inline]
fn checked_utf8(value: RawValue<'_>) -> Result<Value<'_>, DecodeError> {
    Ok(match value {
        RawValue::I64(v) => Value::I64(v),
        RawValue::U64(v) => Value::U64(v),
        RawValue::F64(v) => Value::F64(v),
        RawValue::F32(v) => Value::F32(v),
        RawValue::Bool(v) => Value::Bool(v),
        RawValue::Str(s) => Value::Str(std::str::from_utf8(s).map_err(|_| DecodeError::BadUtf8)?),
        RawValue::Null => Value::Null,
    })
}

/// Checks that `values` holds exactly `count` well-formed tagged values (a call-site record's
/// values, which a batch stores as they are; see `Batch::fields`).
#[inline]
pub(crate) fn check_values(values: &[u8], count: usize) -> Result<(), DecodeError> {
    let mut rest = values;
    for _ in 0..count {
        (_, rest) = read_raw_value(rest)?;
    }
    if !rest.is_empty() {
        return Err(DecodeError::BadLength);
    }
    Ok(())
}

/// Splits the values of a call-site record whose call site carries its message in the record
/// ([`Callsite::with_message_in_record`](super::callsite::Callsite::with_message_in_record)) into
/// that message, the leading string value, and the values after it.
#[inline]
pub(crate) fn split_message_value(values: &[u8]) -> Result<(&[u8], &[u8]), DecodeError> {
    match read_raw_value(values)? {
        (RawValue::Str(message), rest) => Ok((message, rest)),
        _ => Err(DecodeError::BadCallsite),
    }
}

/// Iterates the fields of an encoded field region as `(key, value)` pairs, in logged order.
///
/// Field regions inside a [`Batch`](crate::Batch) were validated when the batch was filled, so
/// iteration there never stops early; on unvalidated bytes it stops at the first malformed field.
#[derive(Debug, Clone)]
pub struct FieldIter<'a> {
    rest: &'a [u8],
    /// The keys still to pair with values when the region holds values only (a call-site
    /// record's); `None` when it holds keys too.
    keys: Option<&'a [&'a str]>,
}

impl<'a> FieldIter<'a> {
    /// Iterates `bytes`, an encoded field region.
    pub fn new(bytes: &'a [u8]) -> Self {
        FieldIter {
            rest: bytes,
            keys: None,
        }
    }

    /// Iterates `values`, tagged values without keys, pairing them with `keys` in order.
    pub(crate) fn with_keys(values: &'a [u8], keys: &'a [&'a str]) -> Self {
        FieldIter {
            rest: values,
            keys: Some(keys),
        }
    }

    /// True when there are no (more) fields.
    pub fn is_empty(&self) -> bool {
        self.rest.is_empty()
    }
}

impl<'a> Iterator for FieldIter<'a> {
    type Item = (&'a str, Value<'a>);

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        match &mut self.keys {
            None => next_field(&mut self.rest, read_field),
            Some(keys) => next_field(&mut self.rest, |bytes| {
                let (key, rest_keys) = keys.split_first().ok_or(DecodeError::BadLength)?;
                *keys = rest_keys;
                let (value, rest) = read_raw_value(bytes)?;
                Ok((*key, checked_utf8(value)?, rest))
            }),
        }
    }
}

/// Iterates an encoded field region as `(key bytes, value)` pairs, in logged order, without
/// validating UTF-8: [`FieldIter`] for serializers, which escape bytes and need no `&str`.
///
/// The bytes are UTF-8 anyway: a batch's field regions are written only by the crate's own
/// encoder from `&str`s (`Batch::push`, and the drain copying ring records that [`encode_into`]
/// wrote). On a malformed region (which no batch holds) iteration stops at the first bad field,
/// as `FieldIter`'s does.
///
/// ```
/// use asynclog::__private::record::{RawFields, RawValue};
/// use asynclog::{Batch, Field, Level};
///
/// let mut batch = Batch::new();
/// batch.push(0, Level::Info, 1, "m", &[Field::new("symbol", "AAPL"), Field::new("n", 3u64)])?;
/// let fields: Vec<_> = RawFields::new(batch.field_region(0)).collect();
/// assert_eq!(
///     fields,
///     vec![(&b"symbol"[..], RawValue::Str(b"AAPL")), (&b"n"[..], RawValue::U64(3))]
/// );
/// # Ok::<(), asynclog::PushError>(())
/// ```
// NB: a variant with `&str` items made by `from_utf8_unchecked` (sound only as long as every
// producer of a batch keeps the invariant above) measured no faster than these byte items:
// 18.6 ns against 15.5 ns per record of three fields, `FieldIter` 106 ns (benches/file_sink.rs,
// `field_iteration_*_8192`, same run, load average 9). So the crate has no unsafe here.
#[derive(Debug, Clone)]
pub struct RawFields<'a> {
    rest: &'a [u8],
    /// As [`FieldIter`]'s.
    keys: Option<&'a [&'a str]>,
}

impl<'a> RawFields<'a> {
    /// Iterates `region`, an encoded field region that holds its keys (a record added with
    /// `Batch::push`; [`Batch::raw_fields`] reads any record).
    ///
    /// [`Batch::raw_fields`]: crate::Batch::raw_fields
    #[inline]
    pub fn new(region: &'a [u8]) -> Self {
        RawFields {
            rest: region,
            keys: None,
        }
    }

    /// Iterates `values`, tagged values without keys, pairing them with `keys` in order.
    #[inline]
    pub(crate) fn with_keys(values: &'a [u8], keys: &'a [&'a str]) -> Self {
        RawFields {
            rest: values,
            keys: Some(keys),
        }
    }

    /// The keys of a values-only region (a call-site record's), all of them while the
    /// iteration has not begun; `None` for a region that holds its keys.
    #[inline]
    pub(crate) fn callsite_keys(&self) -> Option<&'a [&'a str]> {
        self.keys
    }

    /// The bytes not yet iterated: with [`callsite_keys`](Self::callsite_keys), tagged values
    /// to read with [`read_raw_value`].
    #[inline]
    pub(crate) fn rest(&self) -> &'a [u8] {
        self.rest
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
        match &mut self.keys {
            None => next_field(&mut self.rest, read_raw_field),
            Some(keys) => next_field(&mut self.rest, |bytes| {
                let (key, rest_keys) = keys.split_first().ok_or(DecodeError::BadLength)?;
                *keys = rest_keys;
                let (value, rest) = read_raw_value(bytes)?;
                Ok((key.as_bytes(), value, rest))
            }),
        }
    }
}

/// One step of [`FieldIter`] or [`RawFields`]: reads the field at the start of `rest` with
/// `read` and moves past it. `None` at the end of the region, and at a malformed field, which
/// also ends the region.
#[inline(always)]
fn next_field<'a, K, V>(
    rest: &mut &'a [u8],
    read: impl FnOnce(&'a [u8]) -> Result<(K, V, &'a [u8]), DecodeError>,
) -> Option<(K, V)> {
    if rest.is_empty() {
        return None;
    }
    match read(rest) {
        Ok((key, value, tail)) => {
            *rest = tail;
            Some((key, value))
        }
        Err(_) => {
            *rest = &[];
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample_fields() -> Vec<Field<'static>> {
        vec![
            Field::new("order_id", 42u64),
            Field::new("price", 101.25),
            Field::new("symbol", "AAPL"),
            Field::new("neg", -7i32),
            Field::new("ok", true),
            Field::new("none", Option::<i64>::None),
            Field::new("", ""),
        ]
    }

    #[test]
    fn round_trip_through_contiguous_bytes() {
        let header = Header {
            level: Level::Warn,
            flags: 0,
            timestamp: 123_456_789,
        };
        let fields = sample_fields();
        let bytes = encode_to_vec(header, "order filled ✓", &fields).unwrap();
        assert_eq!(bytes.len(), record_len("order filled ✓", &fields).unwrap());
        let rec = decode(&bytes).unwrap();
        assert_eq!(rec.header, header);
        assert_eq!(rec.message, "order filled ✓");
        let decoded: Vec<_> = FieldIter::new(rec.fields).collect();
        let expected: Vec<_> = fields.iter().map(|f| (f.key, f.value)).collect();
        assert_eq!(decoded, expected);
    }

    #[test]
    fn round_trip_across_every_wrap_point() {
        let header = Header {
            level: Level::Info,
            flags: FLAG_WALL_CLOCK,
            timestamp: u64::MAX,
        };
        let fields = sample_fields();
        let want = encode_to_vec(header, "msg", &fields).unwrap();
        for split in 0..=want.len() {
            let mut first = vec![MaybeUninit::uninit(); split];
            let mut second = vec![MaybeUninit::uninit(); want.len() - split];
            encode_into(&mut first, &mut second, &header, "msg", &fields);
            // SAFETY: encode_into initialised every byte of both slices.
            let got: Vec<u8> = first
                .iter()
                .chain(&second)
                .map(|b| unsafe { b.assume_init() })
                .collect();
            assert_eq!(got, want, "split at {split}");
        }
    }

    /// Exercises the producer's commit for Miri: records encoded straight into a real ring's
    /// uninitialised chunk, as `Producer::commit_record` does (a contiguous chunk re-sliced to the
    /// record's length, or the two halves of one that wraps the ring's end), committed with
    /// `commit_all`, then read back by the consumer.
    #[test]
    fn records_encoded_into_ring_chunks_read_back_whole_when_they_wrap() {
        fn commit(ring: &mut rtrb::Producer<u8>, record: &impl EncodeRecord) -> bool {
            let len = record.encoded_len().unwrap();
            let mut chunk = ring.write_chunk_uninit(len).unwrap();
            let (first, second) = chunk.as_mut_slices();
            let wrapped = !second.is_empty();
            if wrapped {
                record.encode_into(first, second);
            } else {
                record.encode_into(&mut first[..len], second);
            }
            // SAFETY: `encode_into` wrote every byte of both slices, which are the chunk's `len`.
            unsafe { chunk.commit_all() };
            wrapped
        }
        fn take(ring: &mut rtrb::Consumer<u8>, len: usize) -> Vec<u8> {
            let chunk = ring.read_chunk(len).unwrap();
            let (a, b) = chunk.as_slices();
            let bytes = [a, b].concat();
            chunk.commit_all();
            bytes
        }
        let header = Header {
            level: Level::Info,
            flags: FLAG_WALL_CLOCK,
            timestamp: 7,
        };
        let fields = sample_fields();
        let general = GeneralRecord {
            header,
            message: "msg",
            fields: &fields,
        };
        let callsite = CallsiteRecord {
            header,
            callsite_id: 3,
            values: [Value::U64(1), Value::Str("abc"), Value::Null],
        };
        let want_general = encode_to_vec(header, "msg", &fields).unwrap();
        let general_len = want_general.len();
        let callsite_len = callsite.encoded_len().unwrap();
        // Not a multiple of either length, so the records wrap at many different points.
        let (mut producer, mut consumer) = rtrb::RingBuffer::new(general_len + callsite_len + 5);
        let mut wraps = 0;
        for _ in 0..12 {
            wraps += usize::from(commit(&mut producer, &general));
            assert_eq!(take(&mut consumer, general_len), want_general);
            wraps += usize::from(commit(&mut producer, &callsite));
            let bytes = take(&mut consumer, callsite_len);
            let header_bytes: &[u8; HEADER_LEN] = bytes[..HEADER_LEN].try_into().unwrap();
            let view = RecordHeader::new(header_bytes);
            assert!(view.is_callsite() && view.field_count() == 3);
            assert_eq!(view.total_len(), callsite_len);
            check_values(&bytes[HEADER_LEN..], 3).unwrap();
        }
        assert!(wraps >= 2, "some records wrapped the ring ({wraps})");
    }

    /// A call-site record, split at every point as if it wrapped the ring, then added by the
    /// drain's path, gives the same batch record as the general encoding of the same call.
    #[test]
    fn callsite_records_expand_to_the_general_layout_across_every_wrap_point() {
        use crate::ring::callsite::Callsite;
        use crate::Batch;
        static SITE: Callsite = Callsite::new(
            "order filled ✓",
            &["order_id", "price", "symbol", "neg", "ok", "none", ""],
        );
        let id = SITE.id().expect("usable");
        let fields = sample_fields();
        let values: [Value<'_>; 7] = std::array::from_fn(|i| fields[i].value);
        let header = Header {
            level: Level::Warn,
            flags: 0,
            timestamp: 99,
        };
        let len = callsite_record_len(&values).unwrap();
        let mut want = Batch::new();
        want.push(7, Level::Warn, 3, "order filled ✓", &fields)
            .unwrap();
        for split in 0..=len {
            let mut first = vec![MaybeUninit::uninit(); split];
            let mut second = vec![MaybeUninit::uninit(); len - split];
            encode_callsite_into(&mut first, &mut second, &header, id, &values);
            // SAFETY: encode_callsite_into initialised every byte of both slices.
            let bytes: Vec<u8> = first
                .iter()
                .chain(&second)
                .map(|b| unsafe { b.assume_init() })
                .collect();
            let raw = split_record(&bytes).unwrap();
            assert_eq!(raw.callsite, Some(id));
            assert_eq!(
                raw.header, header,
                "the call-site flag is not part of the header"
            );
            assert_eq!(decode(&bytes).unwrap_err(), DecodeError::CallsiteRecord);
            let mut got = Batch::new();
            got.push_callsite(7, Level::Warn, 3, id, raw.field_count, raw.fields)
                .unwrap();
            assert_eq!(got.message(0), want.message(0), "split at {split}");
            assert_eq!(got.callsite_ids(), [id]);
            assert_eq!(
                got.fields(0).collect::<Vec<_>>(),
                want.fields(0).collect::<Vec<_>>(),
                "split at {split}"
            );
            assert_eq!(
                got.raw_fields(0).collect::<Vec<_>>(),
                want.raw_fields(0).collect::<Vec<_>>(),
                "split at {split}"
            );
        }
    }

    #[test]
    fn malformed_callsite_values_leave_the_batch_unchanged() {
        use crate::batch::PushError;
        use crate::ring::callsite::Callsite;
        use crate::Batch;
        static SITE: Callsite = Callsite::new("m", &["a", "b"]);
        let id = SITE.id().expect("a call-site id");
        let good: [Value<'_>; 2] = [Value::U64(1), Value::Str("xy")];
        let header = Header {
            level: Level::Info,
            flags: 0,
            timestamp: 1,
        };
        let mut out = vec![MaybeUninit::uninit(); callsite_record_len(&good).unwrap()];
        encode_callsite_into(&mut out, &mut [], &header, 1, &good);
        // SAFETY: encode_callsite_into initialised every byte.
        let bytes: Vec<u8> = out.iter().map(|b| unsafe { b.assume_init() }).collect();
        let values = &bytes[HEADER_LEN..];
        let mut batch = Batch::new();
        let cases: [(&[u8], u16); 4] = [
            (&values[..values.len() - 1], 2), // string cut short
            (values, 1),                      // field count is not the call site's
            (&[77, 0], 2),                    // unknown tag
            (&[values, &[0]].concat(), 2),    // trailing byte
        ];
        for (bad, count) in cases {
            assert_eq!(
                batch.push_callsite(1, Level::Info, 1, id, count, bad),
                Err(PushError::Malformed)
            );
            assert_eq!(batch.len(), 0);
            assert!(batch.field_bytes().is_empty(), "nothing left behind");
        }
        batch
            .push_callsite(1, Level::Info, 1, id, 2, values)
            .unwrap();
        let fields: Vec<_> = batch.fields(0).collect();
        assert_eq!(fields, [("a", Value::U64(1)), ("b", Value::Str("xy"))]);
    }

    #[test]
    fn decode_rejects_garbage() {
        let header = Header {
            level: Level::Info,
            flags: 0,
            timestamp: 1,
        };
        let good = encode_to_vec(header, "hello", &[Field::new("k", "v")]).unwrap();
        assert_eq!(decode(&good[..10]).unwrap_err(), DecodeError::Truncated);
        let mut bad_level = good.clone();
        bad_level[4] = 9;
        assert_eq!(decode(&bad_level).unwrap_err(), DecodeError::BadLevel);
        let mut bad_flags = good.clone();
        bad_flags[5] = 0x80;
        assert_eq!(decode(&bad_flags).unwrap_err(), DecodeError::BadFlags);
        let mut bad_utf8 = good.clone();
        bad_utf8[HEADER_LEN] = 0xff;
        assert_eq!(decode(&bad_utf8).unwrap_err(), DecodeError::BadUtf8);
        let mut bad_tag = good.clone();
        bad_tag[HEADER_LEN + 5 + 2 + 1] = 77;
        assert_eq!(decode(&bad_tag).unwrap_err(), DecodeError::BadTag);
        let mut extra = good.clone();
        extra.push(0);
        assert_eq!(decode(&extra).unwrap_err(), DecodeError::BadLength);
    }

    #[test]
    fn oversized_keys_and_field_counts_are_refused() {
        let key = "k".repeat(MAX_KEY_LEN + 1);
        assert_eq!(
            record_len("m", &[Field::new(&key, 1)]),
            Err(EncodeError::KeyTooLong)
        );
        let many = vec![Field::new("k", 1); MAX_FIELDS + 1];
        assert_eq!(record_len("m", &many), Err(EncodeError::TooManyFields));
    }

    fn every_kind() -> Vec<Field<'static>> {
        vec![
            Field::new("order_id", 42u64),
            Field::new("neg", i64::MIN),
            Field::new("big", u64::MAX),
            Field::new("price", 101.25),
            Field::new("nan", f64::NAN),
            Field::new("ratio", 0.1f32),
            Field::new("nan32", f32::NAN),
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
                (RawValue::F32(a), Value::F32(b)) => assert_eq!(a.to_bits(), b.to_bits()),
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
