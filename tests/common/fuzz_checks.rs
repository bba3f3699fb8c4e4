//! The checks behind the fuzz targets, one public function per target, each taking the raw fuzz
//! input. Two crates compile this one file:
//!
//! - `fuzz/` (nightly, `cargo fuzz`): `fuzz/src/lib.rs` includes it with `#[path]`, and each
//!   `fuzz/fuzz_targets/<target>.rs` is one line calling `checks::<target>(data)`;
//! - the main crate's `tests/integration/fuzz_corpus_replay.rs` (stable, `cargo test`, so CI): it
//!   replays every file under `fuzz/corpus/<target>/` through the same function.
//!
//! The checks use only the public API, so they live with the tests rather than in `src/` (no
//! hidden module and no `arbitrary` dependency for the library's users). A check panics when an
//! invariant breaks, which libFuzzer reports as a crash and the replay test as a failure.
//!
//! Inputs are decoded with `arbitrary`, so a corpus file means the same thing to both crates.
//!
//! To add a target: add a function here, a `fuzz_targets/<name>.rs` and `[[bin]]` in `fuzz/Cargo.toml`,
//! seeds under `fuzz/corpus/<name>/`, and a line in the replay test's `TARGETS` (that test fails
//! while they disagree).

#[cfg(feature = "parquet")]
#[path = "parquet_timestamps.rs"]
mod parquet_timestamps;
use arbitrary::{Arbitrary, Unstructured};
#[cfg(feature = "parquet")]
use arrow_array::cast::AsArray;
#[cfg(feature = "parquet")]
use arrow_array::types::{Int8Type, UInt64Type};
#[cfg(feature = "parquet")]
use arrow_array::Array;
use asynclog::__private::json::{write_record_line, LineEncoder};
use asynclog::__private::record::{
    self, decode, encode_into, encode_to_vec, validate_fields, FieldIter, Header,
    FLAG_TEXT_MESSAGE, FLAG_WALL_CLOCK, HEADER_LEN,
};
use asynclog::sinks::file::{JsonlContents, JsonlReader, JsonlRecord, Tail, TornLine};
use asynclog::{read_jsonl, Batch, Field, Level, OwnedValue, Value};
#[cfg(feature = "parquet")]
use asynclog::{ParquetSink, ParquetSinkConfig, Sink};
#[cfg(feature = "parquet")]
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
#[cfg(feature = "parquet")]
use parquet_timestamps::timestamps_ns;
use simd_json::prelude::*;
use simd_json::ValueType;
use std::mem::MaybeUninit;
#[cfg(feature = "parquet")]
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

/// A field value as `arbitrary` generates it (every float bit pattern, any UTF-8 string).
#[derive(Debug, Clone, Arbitrary)]
pub enum ArbValue {
    I64(i64),
    U64(u64),
    F64(f64),
    F32(f32),
    Bool(bool),
    Str(String),
    Null,
}

impl ArbValue {
    fn as_value(&self) -> Value<'_> {
        match self {
            ArbValue::I64(v) => Value::I64(*v),
            ArbValue::U64(v) => Value::U64(*v),
            ArbValue::F64(v) => Value::F64(*v),
            ArbValue::F32(v) => Value::F32(*v),
            ArbValue::Bool(v) => Value::Bool(*v),
            ArbValue::Str(v) => Value::Str(v),
            ArbValue::Null => Value::Null,
        }
    }
}

/// One record: everything a log call or `Batch::push` takes.
#[derive(Debug, Clone, Arbitrary)]
pub struct ArbRecord {
    level: u8,
    wall_clock: bool,
    text_message: bool,
    timestamp: u64,
    thread_id: u64,
    message: String,
    fields: Vec<(String, ArbValue)>,
}

impl ArbRecord {
    fn level(&self) -> Level {
        Level::ALL[usize::from(self.level) % Level::ALL.len()]
    }

    fn header(&self) -> Header {
        Header {
            level: self.level(),
            flags: if self.wall_clock { FLAG_WALL_CLOCK } else { 0 }
                | if self.text_message {
                    FLAG_TEXT_MESSAGE
                } else {
                    0
                },
            timestamp: self.timestamp,
        }
    }

    fn fields(&self) -> Vec<Field<'_>> {
        self.fields
            .iter()
            .map(|(key, value)| Field {
                key,
                value: value.as_value(),
            })
            .collect()
    }
}

/// Field values are equal, floats compared by bit pattern (so NaN payloads and -0.0 count).
fn same_value(a: &Value<'_>, b: &Value<'_>) -> bool {
    match (a, b) {
        (Value::F64(x), Value::F64(y)) => x.to_bits() == y.to_bits(),
        (Value::F32(x), Value::F32(y)) => x.to_bits() == y.to_bits(),
        _ => a == b,
    }
}

fn assert_fields_eq(got: FieldIter<'_>, want: &[Field<'_>]) {
    let got: Vec<(&str, Value<'_>)> = got.collect();
    assert_eq!(
        got.len(),
        want.len(),
        "field count: got {got:?}, want {want:?}"
    );
    for (n, ((key, value), field)) in got.iter().zip(want).enumerate() {
        assert_eq!(*key, field.key, "key of field {n}");
        assert!(
            same_value(value, &field.value),
            "value of field {n} ({key:?}): got {value:?}, want {:?}",
            field.value
        );
    }
}

/// Target `ring_round_trip`: a record encodes to `record_len` bytes, decodes to itself, encodes
/// identically when the ring splits it at any point, and lands in a batch unchanged.
pub fn ring_round_trip(data: &[u8]) {
    #[derive(Debug, Arbitrary)]
    struct Input {
        record: ArbRecord,
        /// Where the ring's free space wraps, modulo the record length + 1.
        split: u32,
    }
    let Ok(input) = Input::arbitrary_take_rest(Unstructured::new(data)) else {
        return;
    };
    let rec = &input.record;
    let fields = rec.fields();
    let header = rec.header();

    let len = match record::record_len(&rec.message, &fields) {
        Ok(len) => len,
        Err(error) => {
            // Only reachable with a key over 64 KiB or 65,536 fields: both paths must refuse.
            assert_eq!(
                encode_to_vec(header, &rec.message, &fields).unwrap_err(),
                error
            );
            let pushed = Batch::new().push(0, rec.level(), 0, &rec.message, &fields);
            assert!(pushed.is_err(), "Batch::push took what the ring refuses");
            return;
        }
    };
    let bytes = encode_to_vec(header, &rec.message, &fields).expect("record_len said it fits");
    assert_eq!(bytes.len(), len, "record_len disagrees with the encoding");
    assert_eq!(record::peek_len(&bytes), Some(len));

    let decoded = decode(&bytes).expect("an encoded record decodes");
    assert_eq!(decoded.header, header);
    assert_eq!(decoded.message, rec.message);
    assert_eq!(usize::from(decoded.field_count), fields.len());
    assert_eq!(validate_fields(decoded.fields, decoded.field_count), Ok(()));
    assert_fields_eq(FieldIter::new(decoded.fields), &fields);

    // The ring hands out its free space as two slices when it wraps.
    let split = input.split as usize % (len + 1);
    let mut first = vec![MaybeUninit::new(0xA5u8); split];
    let mut second = vec![MaybeUninit::new(0x5Au8); len - split];
    encode_into(&mut first, &mut second, &header, &rec.message, &fields);
    let wrapped: Vec<u8> = first
        .iter()
        .chain(&second)
        // SAFETY: every element was initialised by `MaybeUninit::new` above (and again by
        // `encode_into`).
        .map(|b| unsafe { b.assume_init() })
        .collect();
    assert_eq!(wrapped, bytes, "split at {split} encodes differently");

    // A batch stores the field region verbatim.
    let mut batch = Batch::new();
    batch
        .push(
            rec.timestamp as i64,
            rec.level(),
            rec.thread_id,
            &rec.message,
            &fields,
        )
        .expect("a record the ring takes fits an empty batch");
    assert_eq!(batch.len(), 1);
    assert_eq!(batch.field_region(0), decoded.fields);
    let view = batch.record(0);
    assert_eq!(
        (view.timestamp_ns, view.level, view.thread_id, view.message),
        (
            rec.timestamp as i64,
            rec.level(),
            rec.thread_id,
            rec.message.as_str()
        )
    );
    assert_fields_eq(view.fields, &fields);
}

/// Target `decode_garbage`: the decoders (`decode`, and `split_record` which the drain uses
/// without UTF-8 checks) and `FieldIter` on arbitrary bytes never panic, and
/// whatever `decode` accepts is exactly the encoding of what it returned (so garbage is rejected,
/// not misread).
pub fn decode_garbage(data: &[u8]) {
    check_decode_is_canonical(data);

    // Random bytes almost never carry the right length word; patch it in so the fuzzer reaches
    // the level, flag, message and field checks.
    if data.len() >= HEADER_LEN {
        let mut patched = data.to_vec();
        patched[..4].copy_from_slice(&(data.len() as u32).to_le_bytes());
        check_decode_is_canonical(&patched);
    }

    // The bytes as a bare field region: iteration ends, each field takes at least 3 bytes (key
    // length, tag), and a region that validates for `n` fields iterates as exactly those.
    let count = FieldIter::new(data).count();
    assert!(
        count <= data.len() / 3,
        "{count} fields from {} bytes",
        data.len()
    );
    let claimed = data.first().map_or(0, |&b| u16::from(b));
    if validate_fields(data, claimed).is_ok() {
        let fields: Vec<Field<'_>> = FieldIter::new(data)
            .map(|(key, value)| Field { key, value })
            .collect();
        assert_eq!(fields.len(), usize::from(claimed));
        let mut again = Vec::new();
        record::encode_fields(&fields, &mut again).expect("decoded fields re-encode");
        assert_eq!(again, data, "a valid field region re-encodes differently");
    }
}

fn check_decode_is_canonical(bytes: &[u8]) {
    // `split_record` (the drain's unvalidated split) partitions whatever it accepts exactly, and
    // accepts everything `decode` does, with the same parts.
    let raw = record::split_record(bytes);
    if let Ok(raw) = &raw {
        assert_eq!(
            HEADER_LEN + raw.message.len() + raw.fields.len(),
            bytes.len()
        );
    }
    let Ok(rec) = decode(bytes) else { return };
    let raw = raw.expect("split_record refused what decode accepts");
    assert_eq!(raw.header, rec.header);
    assert_eq!(raw.message, rec.message.as_bytes());
    assert_eq!(raw.fields, rec.fields);
    let fields: Vec<Field<'_>> = FieldIter::new(rec.fields)
        .map(|(key, value)| Field { key, value })
        .collect();
    assert_eq!(fields.len(), usize::from(rec.field_count));
    let again = encode_to_vec(rec.header, rec.message, &fields).expect("decoded record re-encodes");
    assert_eq!(
        again, bytes,
        "decode accepted bytes that are not a canonical record"
    );
}

/// A batch of the records `data` describes (those `Batch::push` accepts), with each accepted
/// record and its timestamp in batch order; `None` when `data` describes no input.
fn batch_of_arbitrary_records(data: &[u8]) -> Option<(Batch, Vec<(i64, ArbRecord)>)> {
    #[derive(Debug, Arbitrary)]
    struct Input {
        records: Vec<(i64, ArbRecord)>,
    }
    let input = Input::arbitrary_take_rest(Unstructured::new(data)).ok()?;
    let mut batch = Batch::new();
    let mut pushed = Vec::new();
    for (timestamp_ns, rec) in input.records {
        let fields = rec.fields();
        let accepted = batch
            .push(
                timestamp_ns,
                rec.level(),
                rec.thread_id,
                &rec.message,
                &fields,
            )
            .is_ok();
        drop(fields);
        if accepted {
            pushed.push((timestamp_ns, rec));
        }
    }
    assert_eq!(batch.len(), pushed.len());
    Some((batch, pushed))
}

/// Target `json_lines`: every record of a batch serializes to one line that simd-json parses,
/// and the parsed object equals the record under the mapping documented in `sinks::json`.
pub fn json_lines(data: &[u8]) {
    let Some((batch, pushed)) = batch_of_arbitrary_records(data) else {
        return;
    };

    let mut all = Vec::new();
    for (view, (timestamp_ns, rec)) in batch.iter().zip(&pushed) {
        let mut line = Vec::new();
        write_record_line(&mut line, &view);
        assert_eq!(
            line.last(),
            Some(&b'\n'),
            "a record line ends with a newline"
        );
        let body = &line[..line.len() - 1];
        assert!(
            !body.contains(&b'\n'),
            "a record line contains a raw newline: {:?}",
            String::from_utf8_lossy(&line)
        );
        check_json_record(body, *timestamp_ns, rec);
        all.extend_from_slice(&line);
    }
    // JSON-lines: one line per record, however the records look.
    assert_eq!(all.iter().filter(|&&b| b == b'\n').count(), batch.len());
}

/// Target `jsonl_reader`: [`read_jsonl`] on arbitrary file contents (torn lines, zero tails,
/// garbage, invalid UTF-8, CRLF, huge numbers, deep nesting). Two files per input:
///
/// 1. The input bytes as they are: no panic, and exact accounting against an independent split
///    of the bytes: every complete line (ending in `\n`) is either a record or a [`BadLine`]
///    (its 1-based number and byte offset right, in file order), every line taken as a record is
///    UTF-8, and the bytes after the last newline are the [`Tail`] (`torn` up to the last
///    non-zero byte, then `zero_bytes`). A `JsonlReader` stopped after one line finishes with
///    the same tail.
/// 2. Lines written by our serializer (`LineEncoder`): first every record step 1 accepted, then
///    records decoded from the same input with `arbitrary`, optionally with CRLF line ends, then
///    an arbitrary tail and up to 4 KiB of zeros. Every line we wrote reads back as a record
///    equal to what was written under the documented mapping (a `U64` that fits `i64` reads as
///    `I64`, NaN as NaN, repeated keys grouped in order of first appearance), and the tail is
///    accounted as in 1. So whatever the reader accepts, the writer can say again, and whatever
///    the writer says, the reader takes back unchanged.
///
/// [`BadLine`]: asynclog::sinks::file::BadLine
pub fn jsonl_reader(data: &[u8]) {
    let file = ScratchFile::new("jsonl-reader");
    let raw = file.read(data);
    check_jsonl_accounting(data, &raw);
    let mut reader = JsonlReader::open(&file.0).expect("opening the scratch file");
    let _ = reader.next();
    assert_eq!(
        reader.finish().expect("reading the scratch file"),
        raw.tail,
        "a reader stopped early finishes with the same tail"
    );
    for record in &raw.records {
        let _ = record.timestamp();
    }

    #[derive(Debug, Arbitrary)]
    struct Input {
        records: Vec<(i64, ArbRecord)>,
        crlf: bool,
        zeros: u16,
        tail: Vec<u8>,
    }
    let Ok(input) = Input::arbitrary_take_rest(Unstructured::new(data)) else {
        return;
    };
    let mut batch = Batch::new();
    let mut expected = Vec::new();
    for record in &raw.records {
        let fields: Vec<Field<'_>> = record
            .fields
            .iter()
            .map(|(key, value)| Field {
                key,
                value: value.into(),
            })
            .collect();
        let pushed = batch.push(
            record.timestamp_ns,
            record.level,
            record.thread_id,
            &record.message,
            &fields,
        );
        if pushed.is_ok() {
            expected.push(JsonlRecord {
                fields: grouped(&record.fields),
                ..record.clone()
            });
        }
    }
    for (timestamp_ns, rec) in &input.records {
        let fields = rec.fields();
        let pushed = batch.push(
            *timestamp_ns,
            rec.level(),
            rec.thread_id,
            &rec.message,
            &fields,
        );
        if pushed.is_ok() {
            let read_back: Vec<(String, OwnedValue)> = rec
                .fields
                .iter()
                .map(|(key, value)| (key.clone(), read_back_value(value)))
                .collect();
            expected.push(JsonlRecord {
                timestamp_ns: *timestamp_ns,
                level: rec.level(),
                message: rec.message.clone(),
                thread_id: rec.thread_id,
                fields: grouped(&read_back),
            });
        }
    }
    assert_eq!(batch.len(), expected.len());

    let mut content = Vec::new();
    let mut encoder = LineEncoder::new();
    for view in batch.iter() {
        encoder.encode(&mut content, &view);
        if input.crlf {
            content.pop();
            content.extend_from_slice(b"\r\n");
        }
    }
    content.extend_from_slice(&input.tail);
    content.resize(content.len() + usize::from(input.zeros % 4096), 0);
    let read = file.read(&content);
    check_jsonl_accounting(&content, &read);
    // The tail's complete lines come after ours, as records or bad lines.
    if let Some(bad) = read.bad_lines.first() {
        assert!(
            bad.line > expected.len() as u64,
            "a line our serializer wrote is a bad line: {bad}: {:?}",
            String::from_utf8_lossy(&content[bad.offset as usize..])
        );
    }
    assert!(read.records.len() >= expected.len());
    for (n, (got, want)) in read.records.iter().zip(&expected).enumerate() {
        assert!(
            same_record(got, want),
            "record {n} read back as {got:?}, written as {want:?}"
        );
    }
}

/// A scratch file for one check, removed when dropped.
struct ScratchFile(std::path::PathBuf);

impl ScratchFile {
    fn new(what: &str) -> ScratchFile {
        static RUN: AtomicU64 = AtomicU64::new(0);
        ScratchFile(std::env::temp_dir().join(format!(
            "asynclog-fuzz-{what}-{}-{}",
            std::process::id(),
            RUN.fetch_add(1, Ordering::Relaxed)
        )))
    }

    /// Writes `content` to the file and reads it back with `read_jsonl`.
    fn read(&self, content: &[u8]) -> JsonlContents {
        std::fs::write(&self.0, content).expect("writing the scratch file");
        read_jsonl(&self.0).expect("read_jsonl fails only on I/O errors")
    }
}

impl Drop for ScratchFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Checks what `read_jsonl` made of `data` against an independent split of the bytes into
/// complete lines and a tail.
fn check_jsonl_accounting(data: &[u8], contents: &JsonlContents) {
    let mut starts = Vec::new();
    let mut start = 0;
    for (i, &b) in data.iter().enumerate() {
        if b == b'\n' {
            starts.push(start);
            start = i + 1;
        }
    }
    assert_eq!(
        contents.records.len() + contents.bad_lines.len(),
        starts.len(),
        "every complete line is a record or a bad line"
    );
    let mut previous = 0;
    for bad in &contents.bad_lines {
        assert!(bad.line > previous, "bad lines out of order: {bad}");
        previous = bad.line;
        assert_eq!(
            starts.get(bad.line as usize - 1).map(|&s| s as u64),
            Some(bad.offset),
            "offset of {bad}"
        );
        assert!(!bad.reason.is_empty(), "{bad} gives no reason");
    }
    let mut bad = contents.bad_lines.iter().map(|b| b.line).peekable();
    for (n, &line_start) in starts.iter().enumerate() {
        if bad.next_if_eq(&(n as u64 + 1)).is_some() {
            continue;
        }
        let line_end = starts.get(n + 1).map_or(start, |&s| s) - 1;
        assert!(
            std::str::from_utf8(&data[line_start..line_end]).is_ok(),
            "line {} taken as a record is not UTF-8",
            n + 1
        );
    }
    let rest = &data[start..];
    let end = rest.iter().rposition(|&b| b != 0).map_or(0, |i| i + 1);
    let tail = Tail {
        torn: (end > 0).then_some(TornLine {
            offset: start as u64,
            len: end as u64,
        }),
        zero_bytes: (rest.len() - end) as u64,
    };
    assert_eq!(contents.tail, tail, "the tail after byte {start}");
}

/// What the reader makes of a logged value: integers that fit `i64` as `I64`.
fn read_back_value(value: &ArbValue) -> OwnedValue {
    match value {
        ArbValue::I64(v) => OwnedValue::I64(*v),
        ArbValue::U64(v) => i64::try_from(*v).map_or(OwnedValue::U64(*v), OwnedValue::I64),
        ArbValue::F64(v) => OwnedValue::F64(*v),
        // Compared with what is read back (an `F64`) by narrowing it: see `same_record`.
        ArbValue::F32(v) => OwnedValue::F32(*v),
        ArbValue::Bool(v) => OwnedValue::Bool(*v),
        ArbValue::Str(v) => OwnedValue::Str(v.clone()),
        ArbValue::Null => OwnedValue::Null,
    }
}

/// Fields as the serializer groups them: each key once, in order of first appearance, with
/// all its values in order (the reader expands the group back in place).
fn grouped(fields: &[(String, OwnedValue)]) -> Vec<(String, OwnedValue)> {
    let mut keys: Vec<&str> = Vec::new();
    for (key, _) in fields {
        if !keys.contains(&key.as_str()) {
            keys.push(key);
        }
    }
    keys.iter()
        .flat_map(|key| fields.iter().filter(move |(k, _)| k == key).cloned())
        .collect()
}

/// Records are equal, floats by bit pattern except that any NaN equals any NaN (the format
/// has one NaN).
fn same_record(a: &JsonlRecord, b: &JsonlRecord) -> bool {
    let same_value = |x: &OwnedValue, y: &OwnedValue| match (x, y) {
        (OwnedValue::F64(x), OwnedValue::F64(y)) => {
            x.to_bits() == y.to_bits() || (x.is_nan() && y.is_nan())
        }
        // JSON has one kind of number: a logged `f32` reads back as an `f64` that narrows to it.
        (OwnedValue::F64(x), OwnedValue::F32(y)) | (OwnedValue::F32(y), OwnedValue::F64(x)) => {
            (*x as f32).to_bits() == y.to_bits() || (x.is_nan() && y.is_nan())
        }
        _ => x == y,
    };
    (a.timestamp_ns, a.level, &a.message, a.thread_id)
        == (b.timestamp_ns, b.level, &b.message, b.thread_id)
        && a.fields.len() == b.fields.len()
        && a.fields
            .iter()
            .zip(&b.fields)
            .all(|((ka, va), (kb, vb))| ka == kb && same_value(va, vb))
}

/// Target `parquet_round_trip`: a batch written through the Parquet sink (journal on, default
/// options) and read back with the parquet crate's Arrow reader gives the same rows: timestamps
/// to the nanosecond, level, message, thread id, and `fields_json` equal to the fields under the
/// JSON mapping (null when a record has none).
#[cfg(feature = "parquet")]
pub fn parquet_round_trip(data: &[u8]) {
    let Some((batch, pushed)) = batch_of_arbitrary_records(data) else {
        return;
    };
    if batch.is_empty() {
        return; // the drain never hands a sink an empty batch
    }

    static RUN: AtomicU64 = AtomicU64::new(0);
    let dir = std::env::temp_dir().join(format!(
        "asynclog-fuzz-parquet-{}-{}",
        std::process::id(),
        RUN.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    let mut sink = ParquetSink::with_config(ParquetSinkConfig::new(dir.join("log")))
        .expect("a Parquet sink in a fresh directory");
    sink.write_batch(&batch).expect("write_batch");
    sink.close().expect("close");
    let rows = read_parquet_dir(&dir);
    std::fs::remove_dir_all(&dir).expect("removing the scratch directory");

    assert_eq!(rows.len(), pushed.len(), "rows read back");
    for (n, (row, (timestamp_ns, rec))) in rows.iter().zip(&pushed).enumerate() {
        assert_eq!(row.0, *timestamp_ns, "timestamp of row {n}");
        assert_eq!(row.1, rec.level().as_str(), "level of row {n}");
        assert_eq!(row.2, rec.message, "message of row {n}");
        assert_eq!(row.3, rec.thread_id, "thread_id of row {n}");
        match &row.4 {
            None => assert!(rec.fields.is_empty(), "row {n}: fields_json is null"),
            Some(json) => {
                assert!(!rec.fields.is_empty(), "row {n}: fields_json for no fields");
                let mut buf = json.as_bytes().to_vec();
                let tape = simd_json::to_tape(&mut buf)
                    .unwrap_or_else(|e| panic!("fields_json {json:?} of row {n}: {e}"));
                let root = tape.as_value();
                let object = root.as_object().expect("fields_json is an object");
                check_json_fields(&object, rec, json);
            }
        }
    }
}

/// `(timestamp ns, level, message, thread id, fields_json)` of every row of every `.parquet`
/// file in `dir`, files in name order.
#[cfg(feature = "parquet")]
fn read_parquet_dir(dir: &Path) -> Vec<(i64, String, String, u64, Option<String>)> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .expect("the sink's directory")
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "parquet"))
        .collect();
    files.sort();
    let mut rows = Vec::new();
    for path in files {
        let file = std::fs::File::open(&path).expect("a finished file opens");
        let reader = ParquetRecordBatchReaderBuilder::try_new(file)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
            .build()
            .expect("a reader");
        for batch in reader {
            let batch = batch.unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            let ts = timestamps_ns(&batch);
            let level = batch
                .column_by_name("level")
                .unwrap()
                .as_dictionary::<Int8Type>();
            let level_names = level.values().as_string::<i32>();
            let message = batch.column_by_name("message").unwrap().as_string::<i32>();
            let thread = batch
                .column_by_name("thread_id")
                .unwrap()
                .as_primitive::<UInt64Type>();
            let fields = batch
                .column_by_name("fields_json")
                .unwrap()
                .as_string::<i32>();
            for (i, &timestamp_ns) in ts.iter().enumerate() {
                rows.push((
                    timestamp_ns,
                    level_names.value(level.keys().value(i) as usize).to_owned(),
                    message.value(i).to_owned(),
                    thread.value(i),
                    fields.is_valid(i).then(|| fields.value(i).to_owned()),
                ));
            }
        }
    }
    rows
}

fn check_json_record(body: &[u8], timestamp_ns: i64, rec: &ArbRecord) {
    let text = String::from_utf8(body.to_vec()).expect("a record line is UTF-8");
    let mut buf = body.to_vec();
    let tape = simd_json::to_tape(&mut buf)
        .unwrap_or_else(|e| panic!("simd-json rejects the line {text:?}: {e}"));
    let root = tape.as_value();
    let object = root.as_object().expect("a record line is an object");
    let keys: Vec<&str> = object.keys().collect();
    let mut want_keys = vec!["timestamp", "level", "message", "thread_id"];
    if !rec.fields.is_empty() {
        want_keys.push("fields");
    }
    assert_eq!(keys, want_keys, "top-level keys of {text:?}");

    let timestamp = object.get("timestamp").and_then(|v| v.into_string());
    assert_eq!(
        timestamp.map(parse_rfc3339_nanos),
        Some(Some(timestamp_ns)),
        "timestamp {timestamp:?} of {text:?}"
    );
    assert_eq!(
        object.get("level").and_then(|v| v.into_string()),
        Some(rec.level().as_str())
    );
    assert_eq!(
        object.get("message").and_then(|v| v.into_string()),
        Some(rec.message.as_str())
    );
    assert_eq!(
        object.get("thread_id").and_then(|v| v.as_u64()),
        Some(rec.thread_id)
    );
    if rec.fields.is_empty() {
        return;
    }
    let fields = object
        .get("fields")
        .and_then(|v| v.as_object())
        .expect("`fields` is an object");
    check_json_fields(&fields, rec, &text);
}

/// The fields object against the record's fields under the serializer's mapping: keys in order of
/// first appearance; a key logged once holds its value, a key logged more than once holds an
/// array of its values in logged order (see `src/sinks/json.rs`). Compared entry by entry.
fn check_json_fields(fields: &simd_json::tape::Object<'_, '_>, rec: &ArbRecord, text: &str) {
    let mut grouped: Vec<(&str, Vec<&ArbValue>)> = Vec::new();
    for (key, value) in &rec.fields {
        match grouped.iter_mut().find(|(k, _)| *k == key.as_str()) {
            Some((_, values)) => values.push(value),
            None => grouped.push((key.as_str(), vec![value])),
        }
    }
    let got: Vec<_> = fields.iter().collect();
    assert_eq!(got.len(), grouped.len(), "distinct field count in {text:?}");
    for ((key, json), (want_key, want)) in got.iter().zip(&grouped) {
        assert_eq!(key, want_key, "field key in {text:?}");
        if let [single] = want.as_slice() {
            check_json_value(json, single, text);
        } else {
            let array = json.as_array().expect("a repeated key holds an array");
            let items: Vec<_> = array.iter().collect();
            assert_eq!(
                items.len(),
                want.len(),
                "values of repeated key {key:?} in {text:?}"
            );
            for (item, value) in items.iter().zip(want) {
                check_json_value(item, value, text);
            }
        }
    }
}

fn check_json_value(json: &simd_json::tape::Value<'_, '_>, want: &ArbValue, text: &str) {
    let kind = json.value_type();
    match want {
        ArbValue::I64(v) => {
            assert!(
                matches!(kind, ValueType::I64 | ValueType::U64),
                "{v} became {kind:?} in {text:?}"
            );
            assert_eq!(json.as_i64(), Some(*v), "in {text:?}");
        }
        ArbValue::U64(v) => {
            assert!(
                matches!(kind, ValueType::I64 | ValueType::U64),
                "{v} became {kind:?} in {text:?}"
            );
            assert_eq!(json.as_u64(), Some(*v), "in {text:?}");
        }
        ArbValue::F64(v) if v.is_finite() => {
            // A float always reads back as a float (never as an integer), bit for bit.
            assert_eq!(kind, ValueType::F64, "{v:?} became {kind:?} in {text:?}");
            let got = json.as_f64().expect("a float");
            assert_eq!(
                got.to_bits(),
                v.to_bits(),
                "{v:?} read back as {got:?} in {text:?}"
            );
        }
        ArbValue::F64(v) => {
            let want = if v.is_nan() {
                "NaN"
            } else if *v > 0.0 {
                "Infinity"
            } else {
                "-Infinity"
            };
            let object = json.as_object().expect("a non-finite float is an object");
            let entries: Vec<_> = object.iter().collect();
            assert_eq!(entries.len(), 1, "{v:?} in {text:?}");
            assert_eq!(entries[0].0, "$f64");
            assert_eq!(entries[0].1.as_str(), Some(want), "{v:?} in {text:?}");
        }
        ArbValue::F32(v) if v.is_finite() => {
            assert_eq!(kind, ValueType::F64, "{v:?} became {kind:?} in {text:?}");
            let got = json.as_f64().expect("a float");
            assert_eq!(
                (got as f32).to_bits(),
                v.to_bits(),
                "{v:?} read back as {got:?} in {text:?}"
            );
        }
        ArbValue::F32(v) => check_json_value(json, &ArbValue::F64(f64::from(*v)), text),
        ArbValue::Bool(v) => assert_eq!(json.as_bool(), Some(*v), "in {text:?}"),
        ArbValue::Str(v) => assert_eq!(json.as_str(), Some(v.as_str()), "in {text:?}"),
        ArbValue::Null => assert_eq!(kind, ValueType::Null, "in {text:?}"),
    }
}

/// Parses `YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ` back to ns since the epoch, independently of the
/// writer (days from civil date, Howard Hinnant's algorithm).
fn parse_rfc3339_nanos(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() != 30 || &b[4..5] != b"-" || &b[7..8] != b"-" || &b[10..11] != b"T" {
        return None;
    }
    if &b[13..14] != b":" || &b[16..17] != b":" || &b[19..20] != b"." || &b[29..30] != b"Z" {
        return None;
    }
    let num = |range: std::ops::Range<usize>| -> Option<i64> {
        let digits = s.get(range)?;
        digits
            .bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| digits.parse().ok())?
    };
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hour, minute, second, nanos) = (num(11..13)?, num(14..16)?, num(17..19)?, num(20..29)?);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || minute > 59 {
        return None;
    }
    if second > 59 {
        return None;
    }
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let secs = days * 86_400 + hour * 3600 + minute * 60 + second;
    // i128: the instant can sit at the edge of the i64 range.
    i64::try_from(i128::from(secs) * 1_000_000_000 + i128::from(nanos)).ok()
}
