//! The one Parquet schema asynclog writes, and the Arrow arrays built from a [`Batch`] for it.
//!
//! | column        | Arrow type                                  | Parquet type                                   | nullable |
//! |---------------|---------------------------------------------|------------------------------------------------|----------|
//! | `timestamp`   | `Timestamp(Microsecond, "UTC")` (or `Nanosecond`, see [`TimestampUnit`]) | `INT64 TIMESTAMP(MICROS\|NANOS, isAdjustedToUTC=true)` | no |
//! | `timestamp_extra_ns` | `UInt16`, 0..=999 (default unit only) | `INT32 INTEGER(16, unsigned)`                | no       |
//! | `level`       | `Dictionary(Int8, Utf8)`                    | `BYTE_ARRAY STRING`, dictionary-encoded        | no       |
//! | `message`     | `Utf8`                                      | `BYTE_ARRAY STRING`                            | no       |
//! | `thread_id`   | `UInt64`                                    | `INT64 INTEGER(64, unsigned)`                  | no       |
//! | `fields_json` | `Utf8`                                      | `BYTE_ARRAY STRING`                            | yes      |
//!
//! `fields_json` is the record's fields as one JSON object, written by the same serializer as the
//! JSON-lines output ([`write_fields_object`](crate::sinks::json::write_fields_object)); it is null when the record has no fields. Every
//! file carries the key-value metadata [`META_VERSION`] (the asynclog version) and
//! [`META_SCHEMA_VERSION`] ([`SCHEMA_VERSION`]).
//!
//! Arrays are built column by column from the batch's slices into `Vec`s this module keeps
//! between batches: `Buffer::from_vec` lends a `Vec` to Arrow without copying, and once the writer
//! has dropped the arrays `Buffer::into_vec` hands the same allocation back (see
//! `ColumnBuffers::reclaim`).

use crate::batch::{raw_fields, Batch};
use crate::sinks::json::{write_fields_object_to, CallsiteKeys, JsonOut, SliceWriter};
use crate::value::Level;
use arrow_array::types::{Int8Type, UInt16Type, UInt64Type};
use arrow_array::{
    ArrayRef, DictionaryArray, PrimitiveArray, RecordBatch, StringArray, TimestampMicrosecondArray,
    TimestampNanosecondArray,
};
use arrow_buffer::{BooleanBuffer, Buffer, NullBuffer, OffsetBuffer, ScalarBuffer};
use arrow_schema::{ArrowError, DataType, Field, Schema, SchemaRef, TimeUnit};
use std::collections::HashMap;
use std::sync::Arc;

/// Version of the column layout above; bumped whenever a column is added, removed or retyped.
pub const SCHEMA_VERSION: &str = "2";
/// Room reserved for `fields_json` per record and per byte of encoded fields (a guess: a record
/// that does not fit grows the buffer).
const FIELDS_ROOM_PER_RECORD: usize = 2;
const FIELDS_ROOM_PER_BYTE: usize = 3;
/// Key-value metadata key holding the asynclog crate version that wrote the file.
pub const META_VERSION: &str = "asynclog.version";
/// Key-value metadata key holding [`SCHEMA_VERSION`].
pub const META_SCHEMA_VERSION: &str = "asynclog.schema_version";

/// How the record's nanosecond timestamp is stored.
///
/// Every engine reads a microsecond `TIMESTAMP`; Spark (4.3) refuses a nanosecond one
/// (`PARQUET_TYPE_ILLEGAL ... TIMESTAMP(NANOS,true)`) unless the reader is configured for it.
/// The default keeps nanoseconds and opens everywhere without a setting: a microsecond
/// `timestamp` plus the nanoseconds past that microsecond in `timestamp_extra_ns`. The full
/// value is `epoch_us(timestamp) * 1000 + timestamp_extra_ns` (DuckDB).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum TimestampUnit {
    /// `timestamp` in microseconds (floored) and `timestamp_extra_ns` (0..=999): nanosecond
    /// precision that DuckDB, pyarrow, polars, DataFusion and Spark all read as is.
    #[default]
    MicrosWithExtraNanos,
    /// One nanosecond `timestamp` column. DuckDB, pyarrow, polars and DataFusion read it; Spark
    /// and Athena need a setting.
    Nanos,
    /// One microsecond `timestamp` column (floored); the sub-microsecond part is dropped.
    Micros,
}

impl TimestampUnit {
    fn arrow(self) -> TimeUnit {
        match self {
            TimestampUnit::Nanos => TimeUnit::Nanosecond,
            TimestampUnit::Micros | TimestampUnit::MicrosWithExtraNanos => TimeUnit::Microsecond,
        }
    }

    /// Whether files carry the `timestamp_extra_ns` column.
    fn extra_nanos(self) -> bool {
        self == TimestampUnit::MicrosWithExtraNanos
    }
}

/// The name of the column holding the nanoseconds past `timestamp`'s microsecond
/// ([`TimestampUnit::MicrosWithExtraNanos`]).
pub const EXTRA_NANOS_COLUMN: &str = "timestamp_extra_ns";

/// The Arrow schema of every file the Parquet sink writes, with its key-value metadata.
///
/// ```
/// use asynclog::sinks::parquet::{arrow_schema, TimestampUnit};
/// let schema = arrow_schema(TimestampUnit::default());
/// let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
/// assert_eq!(
///     names,
///     ["timestamp", "timestamp_extra_ns", "level", "message", "thread_id", "fields_json"]
/// );
/// ```
pub fn arrow_schema(unit: TimestampUnit) -> SchemaRef {
    let mut fields = vec![Field::new(
        "timestamp",
        DataType::Timestamp(unit.arrow(), Some("UTC".into())),
        false,
    )];
    if unit.extra_nanos() {
        fields.push(Field::new(EXTRA_NANOS_COLUMN, DataType::UInt16, false));
    }
    fields.extend([
        Field::new(
            "level",
            DataType::Dictionary(Box::new(DataType::Int8), Box::new(DataType::Utf8)),
            false,
        ),
        Field::new("message", DataType::Utf8, false),
        Field::new("thread_id", DataType::UInt64, false),
        Field::new("fields_json", DataType::Utf8, true),
    ]);
    let metadata: HashMap<String, String> = key_value_metadata().into_iter().collect();
    Arc::new(Schema::new_with_metadata(fields, metadata))
}

/// The key-value pairs every file carries.
pub(crate) fn key_value_metadata() -> Vec<(String, String)> {
    vec![
        (META_VERSION.into(), env!("CARGO_PKG_VERSION").into()),
        (META_SCHEMA_VERSION.into(), SCHEMA_VERSION.into()),
    ]
}

/// The dictionary of the `level` column: every level's name, indexed by `Level as u8`.
fn level_dictionary() -> ArrayRef {
    Arc::new(StringArray::from_iter_values(
        Level::ALL.iter().map(|level| level.as_str()),
    ))
}

/// Column buffers kept between batches. Each set is lent to Arrow for one batch and taken back;
/// with the encoder thread a few sets are in flight at once.
pub(crate) struct ColumnBuffers {
    schema: SchemaRef,
    unit: TimestampUnit,
    /// Shared by every batch, so the IPC journal writes the dictionary once per file.
    levels_dict: ArrayRef,
    spare: Vec<Vecs>,
    /// Vecs that could not be taken back because something still held the buffer.
    pub(crate) lost: u64,
    /// The JSON of macro call sites' keys, for `fields_json`.
    callsite_keys: CallsiteKeys,
}

/// One batch's column buffers.
#[derive(Default)]
struct Vecs {
    timestamps: Vec<i64>,
    extra_nanos: Vec<u16>,
    level_keys: Vec<i8>,
    thread_ids: Vec<u64>,
    message_offsets: Vec<i32>,
    message_bytes: Vec<u8>,
    fields_offsets: Vec<i32>,
    fields_bytes: Vec<u8>,
    fields_valid: Vec<u8>,
}

/// The buffers of one built batch, held so they can be taken back once Arrow lets go.
pub(crate) struct Lent {
    buffers: [Buffer; 9],
    /// The batch's Arrow bytes: more than its encoded Parquet size (see
    /// [`ColumnBuffers::build`]).
    pub(crate) bytes: u64,
}

impl ColumnBuffers {
    pub(crate) fn new(unit: TimestampUnit) -> ColumnBuffers {
        ColumnBuffers {
            schema: arrow_schema(unit),
            unit,
            levels_dict: level_dictionary(),
            spare: Vec::new(),
            lost: 0,
            callsite_keys: CallsiteKeys::default(),
        }
    }

    pub(crate) fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    /// Builds the record batch for `batch`. The returned [`Lent`] must be passed to
    /// [`reclaim`](Self::reclaim) after the record batch is dropped.
    pub(crate) fn build(&mut self, batch: &Batch) -> Result<(RecordBatch, Lent), ArrowError> {
        let n = batch.len();
        let Vecs {
            mut timestamps,
            mut extra_nanos,
            mut level_keys,
            mut thread_ids,
            mut message_offsets,
            mut message_bytes,
            mut fields_offsets,
            mut fields_bytes,
            mut fields_valid,
        } = self.spare.pop().unwrap_or_default();

        // Fixed-width columns: straight copies of the batch's slices (a memcpy each; micros is
        // one vectorised division).
        timestamps.clear();
        extra_nanos.clear();
        match self.unit {
            TimestampUnit::Nanos => timestamps.extend_from_slice(batch.timestamps()),
            TimestampUnit::Micros => {
                timestamps.extend(batch.timestamps().iter().map(|&ns| ns.div_euclid(1_000)))
            }
            TimestampUnit::MicrosWithExtraNanos => {
                timestamps.extend(batch.timestamps().iter().map(|&ns| ns.div_euclid(1_000)));
                extra_nanos.extend(
                    batch
                        .timestamps()
                        .iter()
                        .map(|&ns| ns.rem_euclid(1_000) as u16),
                );
            }
        }
        thread_ids.clear();
        thread_ids.extend_from_slice(batch.thread_ids());
        // `Level` is `repr(u8)` with values 0..=5: its discriminant is the dictionary key.
        level_keys.clear();
        level_keys.extend(batch.levels().iter().map(|&level| level as u8 as i8));

        // `message`: the batch already has Arrow's StringArray layout (offsets from 0).
        message_offsets.clear();
        message_offsets.extend_from_slice(batch.message_offsets());
        message_bytes.clear();
        message_bytes.extend_from_slice(batch.message_bytes());

        // `fields_json`: the one column that needs per-record work (JSON serialisation); null when
        // the record has no fields.
        fields_offsets.clear();
        fields_valid.clear();
        fields_valid.resize(n.div_ceil(8), 0);
        fields_offsets.push(0);
        let (field_offsets, field_bytes) = (batch.field_offsets(), batch.field_bytes());
        let callsites = batch.callsite_ids();
        // The objects are written through the file sink's `SliceWriter` into `fields_bytes`,
        // whose length is its usable room (kept between batches, so it is zeroed only when it
        // grows). A record that does not fit grows it and is written again.
        let room = FIELDS_ROOM_PER_RECORD * n
            + FIELDS_ROOM_PER_BYTE * (field_bytes.len() + batch.callsite_key_bytes());
        if fields_bytes.len() < room {
            fields_bytes.resize(room, 0);
        }
        let mut nulls = 0usize;
        let mut end = 0usize;
        for i in 0..n {
            let region = &field_bytes[field_offsets[i] as usize..field_offsets[i + 1] as usize];
            if region.is_empty() {
                nulls += 1;
            } else {
                loop {
                    let mut out = SliceWriter::new(&mut fields_bytes[end..]);
                    let (callsite, fields) = (callsites[i], raw_fields(callsites[i], region));
                    if write_fields_object_to(&mut out, &mut self.callsite_keys, callsite, fields)
                        .is_ok()
                    {
                        end += out.position();
                        break;
                    }
                    let grown = (fields_bytes.len() * 2).max(end + 1024);
                    fields_bytes.resize(grown, 0);
                }
                fields_valid[i / 8] |= 1 << (i % 8);
            }
            let offset = i32::try_from(end).map_err(|_| {
                ArrowError::InvalidArgumentError(
                    "a batch's fields_json column passed 2 GiB; lower max_batch_records".into(),
                )
            })?;
            fields_offsets.push(offset);
        }

        // What the batch adds to the file at most: its Arrow bytes (Parquet's plain encoding of
        // a string is its bytes and a 4-byte length, as Arrow's offset; dictionaries,
        // bit-packing and compression only shrink that).
        let bytes = (n * (8 + 1 + 8 + 4 + 4)
            + 2 * extra_nanos.len()
            + message_bytes.len()
            + end
            + fields_valid.len()) as u64;
        let lent = Lent {
            bytes,
            buffers: [
                Buffer::from_vec(timestamps),
                Buffer::from_vec(extra_nanos),
                Buffer::from_vec(level_keys),
                Buffer::from_vec(thread_ids),
                Buffer::from_vec(message_offsets),
                Buffer::from_vec(message_bytes),
                Buffer::from_vec(fields_offsets),
                Buffer::from_vec(fields_bytes),
                Buffer::from_vec(fields_valid),
            ],
        };
        let [ts, extra, keys, tids, m_off, m_bytes, f_off, f_bytes, f_valid] = lent.buffers.clone();

        let mut columns: Vec<ArrayRef> = Vec::with_capacity(self.schema.fields().len());
        columns.push(match self.unit {
            TimestampUnit::Nanos => Arc::new(
                TimestampNanosecondArray::new(ScalarBuffer::new(ts, 0, n), None)
                    .with_timezone("UTC"),
            ),
            TimestampUnit::Micros | TimestampUnit::MicrosWithExtraNanos => Arc::new(
                TimestampMicrosecondArray::new(ScalarBuffer::new(ts, 0, n), None)
                    .with_timezone("UTC"),
            ),
        });
        if self.unit.extra_nanos() {
            columns.push(Arc::new(PrimitiveArray::<UInt16Type>::new(
                ScalarBuffer::new(extra, 0, n),
                None,
            )));
        }
        let level: ArrayRef = Arc::new(DictionaryArray::<Int8Type>::try_new(
            PrimitiveArray::new(ScalarBuffer::new(keys, 0, n), None),
            self.levels_dict.clone(),
        )?);
        let message: ArrayRef = Arc::new(StringArray::try_new(
            OffsetBuffer::new(ScalarBuffer::new(m_off, 0, n + 1)),
            m_bytes,
            None,
        )?);
        let thread_id: ArrayRef = Arc::new(PrimitiveArray::<UInt64Type>::new(
            ScalarBuffer::new(tids, 0, n),
            None,
        ));
        let validity = (nulls > 0).then(|| NullBuffer::new(BooleanBuffer::new(f_valid, 0, n)));
        let fields_json: ArrayRef = Arc::new(StringArray::try_new(
            OffsetBuffer::new(ScalarBuffer::new(f_off, 0, n + 1)),
            f_bytes.slice_with_length(0, end),
            validity,
        )?);
        columns.extend([level, message, thread_id, fields_json]);
        let record_batch = RecordBatch::try_new(self.schema.clone(), columns)?;
        Ok((record_batch, lent))
    }

    /// Takes the buffers back for the next batch. Call after every clone of the record batch
    /// built with them is dropped; a buffer something still holds is left to Arrow (and counted
    /// in `lost`), and the next batch allocates afresh.
    pub(crate) fn reclaim(&mut self, lent: Lent) {
        let [ts, extra, keys, tids, m_off, m_bytes, f_off, f_bytes, f_valid] = lent.buffers;
        let lost = &mut self.lost;
        fn back<T: arrow_buffer::ArrowNativeType>(buffer: Buffer, lost: &mut u64) -> Vec<T> {
            buffer.into_vec().unwrap_or_else(|_| {
                *lost += 1;
                Vec::new()
            })
        }
        self.spare.push(Vecs {
            timestamps: back(ts, lost),
            extra_nanos: back(extra, lost),
            level_keys: back(keys, lost),
            thread_ids: back(tids, lost),
            message_offsets: back(m_off, lost),
            message_bytes: back(m_bytes, lost),
            fields_offsets: back(f_off, lost),
            fields_bytes: back(f_bytes, lost),
            fields_valid: back(f_valid, lost),
        });
    }
}
