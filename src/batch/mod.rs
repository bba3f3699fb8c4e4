//! The columnar batch the drain fills and every sink reads.
//!
//! A batch is a set of columns (timestamps, levels, thread ids, message bytes and offsets, field
//! bytes and offsets) allocated in one `bumpalo` arena. The drain fills a batch, hands it to the
//! sink workers behind an `Arc`, and gets it back once every worker has dropped its clone; then it
//! resets the arena and fills the batch again, so in steady state a batch costs no allocation.
//!
//! Offsets are `i32` and start at 0, exactly Arrow's `StringArray` layout, so a Parquet sink can
//! wrap the columns as Arrow buffers.

mod arena;

use crate::ring::callsite::{self, Callsite};
use crate::ring::record::{self, EncodeError, FieldIter};
use crate::value::{Field, Level};
use arena::{ArenaColumns, ColumnsRef};

/// The byte-item reader of a field region, for serializers (the layout, and [`FieldIter`] with
/// `&str` items, are `ring::record`'s).
pub use crate::ring::record::RawFields;

/// One record of a batch, borrowed. Made by [`Batch::record`] and [`Batch::iter`]; more fields
/// may come, hence `#[non_exhaustive]`.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct RecordView<'a> {
    /// Nanoseconds since the Unix epoch, UTC.
    pub timestamp_ns: i64,
    /// Severity.
    pub level: Level,
    /// The OS thread id of the thread that logged (Linux `gettid`), or the id of the thread
    /// that created the [`Producer`](crate::Producer).
    pub thread_id: u64,
    /// The message.
    pub message: &'a str,
    /// True when the message is finished text (an event from `tracing` or a record from `log`,
    /// formatted by its front end) rather than a template: the console's human-readable line
    /// writes it as it is, `{braces}` included, where it renders a template's `{key}`
    /// placeholders with the fields' values.
    pub message_is_text: bool,
    /// The fields, in logged order.
    pub fields: FieldIter<'a>,
}

/// The keys of call site `id`, or `None` for 0 (a record whose region holds its keys).
#[inline]
fn callsite_keys(id: u32) -> Option<&'static [&'static str]> {
    // Every id in a batch was looked up when the record was added, and ids stay valid for the
    // life of the process, so the lookup finds it.
    (id != 0).then(|| callsite::lookup(id).map_or(&[][..], Callsite::keys))
}

/// The raw fields of a region whose record has call-site id `id` (0: the region has its keys).
#[inline]
pub(crate) fn raw_fields(id: u32, region: &[u8]) -> RawFields<'_> {
    match callsite_keys(id) {
        None => RawFields::new(region),
        Some(keys) => RawFields::with_keys(region, keys),
    }
}

/// Why a record cannot be added to a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PushError {
    /// The fields cannot be encoded (key too long, too many fields).
    #[error("cannot encode the record's fields")]
    Encode(#[source] EncodeError),
    /// The batch's byte columns would pass `i32::MAX` bytes; start a new batch.
    #[error("batch full: its byte columns would pass i32::MAX bytes")]
    Full,
    /// A record from a ring does not have the shape its header claims.
    #[error("malformed record: its bytes do not have the shape its header claims")]
    Malformed,
}

/// A reusable, arena-backed columnar batch of records: what a [`Sink`](crate::Sink) reads.
///
/// The columns (timestamps, levels, thread ids, message bytes and offsets, field bytes and
/// offsets) live in one arena. The drain fills a batch, hands it to the sink workers, and once
/// every worker is done with it resets the arena and fills it again, so in steady state a batch
/// costs no allocation. Offsets are `i32` and start at 0, Arrow's `StringArray` layout. Read it
/// record by record with [`iter`](Batch::iter), or column by column.
pub struct Batch {
    columns: ArenaColumns,
}

impl Default for Batch {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for Batch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Batch")
            .field("len", &self.len())
            .field("message_bytes", &self.message_bytes().len())
            .field("field_bytes", &self.field_bytes().len())
            .finish()
    }
}

impl Batch {
    /// An empty batch.
    pub fn new() -> Batch {
        Batch::with_capacity(0, 0)
    }

    /// An empty batch with room for `records` records and `bytes` message-plus-field bytes.
    pub fn with_capacity(records: usize, bytes: usize) -> Batch {
        Batch {
            columns: ArenaColumns::with_capacity(records, bytes),
        }
    }

    fn cols(&self) -> ColumnsRef<'_> {
        self.columns.get()
    }

    /// Number of records.
    pub fn len(&self) -> usize {
        self.cols().timestamps.len()
    }

    /// True when the batch has no records.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Appends a record, encoding its fields.
    ///
    /// # Errors
    /// [`PushError::Encode`] when the fields cannot be encoded (a key longer than 65,535 bytes,
    /// more than 65,535 fields); [`PushError::Full`] when the batch's byte columns would pass
    /// `i32::MAX` bytes. The batch is unchanged either way.
    pub fn push(
        &mut self,
        timestamp_ns: i64,
        level: Level,
        thread_id: u64,
        message: &str,
        fields: &[Field<'_>],
    ) -> Result<(), PushError> {
        let fields_len = record::fields_len(fields).map_err(PushError::Encode)?;
        self.reserve_bytes(message.len(), fields_len)?;
        let mut cols = self.columns.get_mut();
        cols.push_header(timestamp_ns, level, thread_id, message.as_bytes(), 0);
        let written = cols.push_fields(fields);
        debug_assert_eq!(written, fields_len);
        Ok(())
    }

    /// Appends a record whose message and field region come straight from a ring (the drain's
    /// path; see [`record::split_record`] for why they are not validated here).
    /// `message_is_text`: see [`RecordView::message_is_text`].
    pub(crate) fn push_encoded(
        &mut self,
        timestamp_ns: i64,
        level: Level,
        thread_id: u64,
        message: &[u8],
        field_bytes: &[u8],
        message_is_text: bool,
    ) -> Result<(), PushError> {
        self.reserve_bytes(message.len(), field_bytes.len())?;
        let mut cols = self.columns.get_mut();
        if message_is_text {
            cols.mark_next_message_text();
        }
        cols.push_header(timestamp_ns, level, thread_id, message, 0);
        cols.push_field_region(field_bytes);
        Ok(())
    }

    /// Appends a record of call site `id` from a ring: the call site's message (or the record's own,
    /// see [`Callsite::message_in_record`]) into the message column, and the record's tagged
    /// values as they are into the field region, with the call-site id beside them; readers
    /// pair the values with the call site's keys ([`fields`](Self::fields)). `values` must hold
    /// exactly `field_count` well-formed values; if it does not (a corrupt ring), nothing is
    /// appended.
    ///
    /// The keys are not copied: expanding every record into keys and values took 121 of the
    /// drain's 495 instructions per record (callgrind, `examples/callcost macro`).
    pub(crate) fn push_callsite(
        &mut self,
        timestamp_ns: i64,
        level: Level,
        thread_id: u64,
        id: u32,
        field_count: u16,
        values: &[u8],
    ) -> Result<(), PushError> {
        let callsite = callsite::lookup(id).ok_or(PushError::Malformed)?;
        if usize::from(field_count) != callsite.values_len() {
            return Err(PushError::Malformed);
        }
        let (message, values) = if callsite.message_in_record() {
            record::split_message_value(values).map_err(|_| PushError::Malformed)?
        } else {
            (callsite.message().as_bytes(), values)
        };
        record::check_values(values, callsite.keys().len()).map_err(|_| PushError::Malformed)?;
        self.reserve_bytes(message.len(), values.len())?;
        let mut cols = self.columns.get_mut();
        cols.push_header(timestamp_ns, level, thread_id, message, id);
        cols.push_field_region(values);
        cols.add_callsite_key_bytes(callsite.keys_len());
        Ok(())
    }

    fn reserve_bytes(&self, message_len: usize, fields_len: usize) -> Result<(), PushError> {
        let cols = self.cols();
        let fits = |used: usize, more: usize| {
            used.checked_add(more)
                .is_some_and(|n| n <= i32::MAX as usize)
        };
        if fits(cols.message_bytes.len(), message_len) && fits(cols.field_bytes.len(), fields_len) {
            Ok(())
        } else {
            Err(PushError::Full)
        }
    }

    /// Empties the batch and resets its arena, keeping the arena's memory for the next fill.
    pub fn clear(&mut self) {
        self.columns.reset();
    }

    /// Bytes the arena holds from the allocator (for allocation accounting).
    #[doc(hidden)]
    pub fn arena_bytes(&self) -> usize {
        self.columns.arena_bytes()
    }

    /// Timestamps, ns since the Unix epoch (UTC).
    pub fn timestamps(&self) -> &[i64] {
        self.cols().timestamps
    }

    /// Levels.
    pub fn levels(&self) -> &[Level] {
        self.cols().levels
    }

    /// Thread ids.
    pub fn thread_ids(&self) -> &[u64] {
        self.cols().thread_ids
    }

    /// `len() + 1` offsets into [`message_bytes`](Self::message_bytes), starting at 0.
    pub fn message_offsets(&self) -> &[i32] {
        self.cols().message_offsets
    }

    /// Every message's UTF-8 bytes, back to back.
    pub fn message_bytes(&self) -> &[u8] {
        self.cols().message_bytes
    }

    /// `len() + 1` offsets into [`field_bytes`](Self::field_bytes), starting at 0.
    pub fn field_offsets(&self) -> &[i32] {
        self.cols().field_offsets
    }

    /// Every record's encoded field region, back to back. The encoding is not part of the API:
    /// iterate one record's fields with [`fields`](Self::fields).
    pub fn field_bytes(&self) -> &[u8] {
        self.cols().field_bytes
    }

    /// Per record, the id of the macro call site whose keys its field region leaves out, or 0
    /// when the region holds the keys (see [`fields`](Self::fields)).
    #[doc(hidden)]
    pub fn callsite_ids(&self) -> &[u32] {
        self.cols().callsites
    }

    /// The bytes the keys left out of call-site records' regions would take (for size bounds).
    pub(crate) fn callsite_key_bytes(&self) -> usize {
        self.cols().callsite_key_bytes
    }

    /// The fields of record `i`, in logged order.
    ///
    /// ```
    /// use asynclog::{Batch, Field, Level, Value};
    ///
    /// let mut batch = Batch::new();
    /// batch.push(0, Level::Info, 1, "order filled", &[Field::new("order_id", 42u64)])?;
    /// let fields: Vec<_> = batch.fields(0).collect();
    /// assert_eq!(fields, [("order_id", Value::U64(42))]);
    /// # Ok::<(), asynclog::PushError>(())
    /// ```
    ///
    /// # Panics
    /// If `i >= len()`.
    #[inline]
    pub fn fields(&self, i: usize) -> FieldIter<'_> {
        match callsite_keys(self.cols().callsites[i]) {
            None => FieldIter::new(self.field_region(i)),
            Some(keys) => FieldIter::with_keys(self.field_region(i), keys),
        }
    }

    /// The fields of record `i` with their strings as bytes, for serializers (see
    /// [`RawFields`]).
    ///
    /// # Panics
    /// If `i >= len()`.
    #[doc(hidden)]
    #[inline]
    pub fn raw_fields(&self, i: usize) -> RawFields<'_> {
        raw_fields(self.cols().callsites[i], self.field_region(i))
    }

    /// The message of record `i`.
    ///
    /// # Panics
    /// If `i >= len()`.
    pub fn message(&self, i: usize) -> &str {
        let cols = self.cols();
        let (start, end) = (
            cols.message_offsets[i] as usize,
            cols.message_offsets[i + 1] as usize,
        );
        // Every message was encoded from a `&str` and offsets fall on those boundaries, so this
        // cannot fail short of memory corruption; then a replacement character beats a panic.
        std::str::from_utf8(&cols.message_bytes[start..end]).unwrap_or("\u{fffd}")
    }

    /// Whether the message of record `i` is finished text rather than a template (see
    /// [`RecordView::message_is_text`]).
    ///
    /// # Panics
    /// If `i >= len()`.
    pub fn message_is_text(&self, i: usize) -> bool {
        let cols = self.cols();
        match cols.callsites[i] {
            0 => cols.text_messages.binary_search(&(i as u32)).is_ok(),
            id => callsite::lookup(id).is_some_and(Callsite::message_in_record),
        }
    }

    /// The encoded field region of record `i`. A record logged through a macro call site holds
    /// only its values here (the keys are the call site's); [`fields`](Self::fields) reads
    /// either kind.
    ///
    /// # Panics
    /// If `i >= len()`.
    pub fn field_region(&self, i: usize) -> &[u8] {
        let cols = self.cols();
        &cols.field_bytes[cols.field_offsets[i] as usize..cols.field_offsets[i + 1] as usize]
    }

    /// Record `i`.
    ///
    /// # Panics
    /// If `i >= len()`.
    pub fn record(&self, i: usize) -> RecordView<'_> {
        let cols = self.cols();
        RecordView {
            timestamp_ns: cols.timestamps[i],
            level: cols.levels[i],
            thread_id: cols.thread_ids[i],
            message: self.message(i),
            message_is_text: self.message_is_text(i),
            fields: self.fields(i),
        }
    }

    /// The records in batch order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = RecordView<'_>> + '_ {
        (0..self.len()).map(|i| self.record(i))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::Value;

    #[test]
    fn records_come_back_as_pushed() {
        let mut batch = Batch::new();
        batch
            .push(
                1,
                Level::Info,
                7,
                "first",
                &[Field::new("a", 1u64), Field::new("s", "x y")],
            )
            .unwrap();
        batch.push(2, Level::Error, 8, "", &[]).unwrap();
        assert_eq!(batch.len(), 2);
        assert_eq!(batch.message_offsets(), &[0, 5, 5]);
        let first = batch.record(0);
        assert_eq!(
            (first.timestamp_ns, first.level, first.thread_id),
            (1, Level::Info, 7)
        );
        assert_eq!(first.message, "first");
        assert_eq!(
            first.fields.collect::<Vec<_>>(),
            vec![("a", Value::U64(1)), ("s", Value::Str("x y"))]
        );
        let second = batch.record(1);
        assert_eq!(second.message, "");
        assert!(second.fields.is_empty());
    }

    #[test]
    fn clear_reuses_the_arena_without_growing_it() {
        let mut batch = Batch::new();
        let fill = |batch: &mut Batch| {
            for i in 0..10_000u64 {
                batch
                    .push(
                        i as i64,
                        Level::Debug,
                        1,
                        "some message text",
                        &[Field::new("i", i)],
                    )
                    .unwrap();
            }
        };
        fill(&mut batch);
        batch.clear();
        fill(&mut batch);
        batch.clear();
        let settled = batch.arena_bytes();
        for _ in 0..5 {
            fill(&mut batch);
            assert_eq!(batch.len(), 10_000);
            assert_eq!(batch.record(9_999).timestamp_ns, 9_999);
            batch.clear();
            assert!(batch.is_empty());
            assert_eq!(
                batch.arena_bytes(),
                settled,
                "the arena grew after it settled"
            );
        }
    }

    #[test]
    fn text_messages_are_marked_per_record_and_cleared_with_the_batch() {
        let mut batch = Batch::new();
        for i in 0..6u8 {
            let text = i % 3 == 1;
            let message: &[u8] = if text { b"to {id}" } else { b"template {id}" };
            batch
                .push_encoded(i64::from(i), Level::Info, 1, message, &[], text)
                .unwrap();
        }
        batch.push(6, Level::Info, 1, "api {id}", &[]).unwrap();
        let marked: Vec<bool> = batch.iter().map(|r| r.message_is_text).collect();
        assert_eq!(marked, [false, true, false, false, true, false, false]);
        assert_eq!(batch.record(4).message, "to {id}");

        batch.clear();
        batch
            .push_encoded(0, Level::Info, 1, b"after clear", &[], false)
            .unwrap();
        batch
            .push_encoded(1, Level::Info, 1, b"after clear", &[], false)
            .unwrap();
        assert!(!batch.message_is_text(0) && !batch.message_is_text(1));
    }

    /// Exercises the arena's unsafe paths for Miri: columns that grow past their first chunk,
    /// `clear` (drop the columns, reset the arena, rebuild them) and refill, the batch moved to
    /// and read from other threads at once, and the drop that frees the arena.
    #[test]
    fn a_batch_refilled_after_clear_is_read_from_several_threads() {
        let mut batch = Batch::with_capacity(2, 16);
        for round in 0..3u64 {
            // Past the reserved capacity, so the columns reallocate inside the arena.
            for i in 0..20u64 {
                let message = format!("round {round} record {i}");
                batch
                    .push(
                        i as i64,
                        Level::Info,
                        round,
                        &message,
                        &[Field::new("i", i), Field::new("s", message.as_str())],
                    )
                    .unwrap();
            }
            let text = round == 1;
            batch
                .push_encoded(20, Level::Warn, round, b"encoded", &[], text)
                .unwrap();
            let shared = std::sync::Arc::new(std::mem::take(&mut batch));
            let readers: Vec<_> = (0..2)
                .map(|_| {
                    let batch = shared.clone();
                    std::thread::spawn(move || {
                        assert_eq!(batch.len(), 21);
                        for (i, record) in batch.iter().take(20).enumerate() {
                            assert_eq!(record.message, format!("round {round} record {i}"));
                            assert_eq!(record.fields.count(), 2);
                        }
                        assert_eq!(batch.record(20).message_is_text, text);
                    })
                })
                .collect();
            for reader in readers {
                reader.join().unwrap();
            }
            batch = std::sync::Arc::into_inner(shared).expect("the readers are done");
            batch.clear();
            assert!(batch.is_empty() && batch.message_offsets() == [0]);
        }
    }
}
