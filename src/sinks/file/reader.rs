//! Reading JSON-lines files back: [`read_jsonl`] and the streaming [`JsonlReader`].
//!
//! Lines are parsed with simd-json and mapped back to typed values, reversing
//! the file sink's mapping ([`sinks::file`](crate::sinks::file), "The format"):
//!
//! | JSON in `"fields"`                       | value                                        |
//! |------------------------------------------|----------------------------------------------|
//! | integer that fits `i64`                  | `OwnedValue::I64` (so a logged `U64(5)` reads back as `I64(5)`) |
//! | integer above `i64::MAX`                 | `OwnedValue::U64`                            |
//! | number with `.` or exponent              | `OwnedValue::F64` (a logged `F32(0.1)` reads back as `F64(0.1)`) |
//! | `{"$f64":"NaN"}` / `"Infinity"` / `"-Infinity"` | `OwnedValue::F64` NaN / ±∞            |
//! | string, `true`/`false`, `null`           | `Str`, `Bool`, `Null`                        |
//! | array `[v1, v2]` under key `k`           | two fields `k = v1`, `k = v2` (a duplicated key) |
//!
//! A file may end in an incomplete line followed by zero bytes, which is what a crash during a
//! write leaves; that is reported in [`Tail`], never as an error. A complete line that is not a
//! record of this format is reported as a [`BadLine`] and reading goes on. A UTF-8 byte order
//! mark at the start of the file is skipped.

use crate::error::Error;
use crate::sinks::format::parse_rfc3339_nanos;
use crate::sinks::json::NON_FINITE_KEY;
use crate::value::{Level, OwnedValue};
use simd_json::prelude::{TypedValue, ValueAsScalar, ValueType};
use simd_json::tape::Value as TapeValue;
use std::fs::File;
use std::io::{self, BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// Read buffer size.
const READ_BUFFER: usize = 1 << 20;
/// U+FEFF in UTF-8, skipped at the start of a file.
const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// One record read back from a JSON-lines file.
#[derive(Debug, Clone, PartialEq)]
pub struct JsonlRecord {
    /// Nanoseconds since the Unix epoch, UTC.
    pub timestamp_ns: i64,
    /// Severity.
    pub level: Level,
    /// The message.
    pub message: String,
    /// The logging thread's id.
    pub thread_id: u64,
    /// The fields, in file order (see the module docs for the value mapping).
    pub fields: Vec<(String, OwnedValue)>,
}

impl JsonlRecord {
    /// The first field called `key`.
    pub fn field(&self, key: &str) -> Option<&OwnedValue> {
        self.fields.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// The timestamp as a `SystemTime`.
    pub fn timestamp(&self) -> SystemTime {
        let magnitude = std::time::Duration::from_nanos(self.timestamp_ns.unsigned_abs());
        if self.timestamp_ns >= 0 {
            SystemTime::UNIX_EPOCH + magnitude
        } else {
            SystemTime::UNIX_EPOCH - magnitude
        }
    }
}

/// A complete line (ending in a newline) that is not a record of this format.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct BadLine {
    /// 1-based line number.
    pub line: u64,
    /// Byte offset of the line's start.
    pub offset: u64,
    /// What is wrong with it.
    pub reason: String,
}

impl std::fmt::Display for BadLine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "line {} (byte {}): {}",
            self.line, self.offset, self.reason
        )
    }
}

/// An incomplete last line: bytes after the last newline that are not all zero.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TornLine {
    /// Byte offset where it starts.
    pub offset: u64,
    /// Its length, up to and including its last non-zero byte.
    pub len: u64,
}

/// What follows the last complete line of a file.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tail {
    /// A record cut short by a crash (or a file still being written), if any.
    pub torn: Option<TornLine>,
    /// Zero bytes at the very end: space a file sink preallocated and had not written yet
    /// (the file is open, or its writer crashed).
    pub zero_bytes: u64,
}

/// Everything [`read_jsonl`] found in a file.
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct JsonlContents {
    /// Every complete, well-formed record, in file order.
    pub records: Vec<JsonlRecord>,
    /// Complete lines that did not parse as records.
    pub bad_lines: Vec<BadLine>,
    /// The incomplete tail, if any.
    pub tail: Tail,
}

/// Reads a JSON-lines file written by a [`FileSink`](crate::FileSink) (or the console sink's
/// JSON mode): every complete record, the lines that are not records, and the torn tail a crash
/// may have left. It holds every record in memory; [`JsonlReader`] streams them.
///
/// # Errors
/// Only when the file cannot be opened or read ([`Error::Io`] naming the path); a torn tail or
/// a bad line never fails the whole file.
///
/// ```
/// # let dir = std::env::temp_dir().join(format!("asynclog-doc-read-{}", std::process::id()));
/// # let path = dir.join("app.log");
/// let mut config = asynclog::Config::default();
/// config.sinks.push(Box::new(asynclog::FileSink::new(&path)?));
/// let logger = asynclog::Logger::new(config)?;
/// asynclog::info!(logger, "order filled", order_id = 42u64, price = 101.25);
/// logger.close()?;
///
/// let contents = asynclog::read_jsonl(&path)?;
/// assert_eq!(contents.records.len(), 1);
/// assert_eq!(contents.records[0].message, "order filled");
/// assert_eq!(contents.records[0].field("price"), Some(&asynclog::OwnedValue::F64(101.25)));
/// assert!(contents.bad_lines.is_empty() && contents.tail.torn.is_none());
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn read_jsonl(path: impl AsRef<Path>) -> Result<JsonlContents, Error> {
    let mut reader = JsonlReader::open(path)?;
    let mut contents = JsonlContents::default();
    for item in reader.by_ref() {
        match item {
            Ok(record) => contents.records.push(record),
            Err(bad) => contents.bad_lines.push(bad),
        }
    }
    contents.tail = reader.finish()?;
    Ok(contents)
}

/// Streams the records of a JSON-lines file: an iterator of `Result<JsonlRecord, BadLine>`,
/// then [`finish`](JsonlReader::finish) for the tail.
pub struct JsonlReader {
    path: PathBuf,
    input: BufReader<File>,
    line: Vec<u8>,
    offset: u64,
    line_no: u64,
    buffers: simd_json::Buffers,
    tail: Tail,
    io_error: Option<io::Error>,
    done: bool,
}

impl std::fmt::Debug for JsonlReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JsonlReader")
            .field("path", &self.path)
            .field("offset", &self.offset)
            .field("line", &self.line_no)
            .finish()
    }
}

impl JsonlReader {
    /// Opens `path`.
    ///
    /// # Errors
    /// [`Error::Io`] naming the path when it cannot be opened.
    pub fn open(path: impl AsRef<Path>) -> Result<JsonlReader, Error> {
        let path = path.as_ref().to_path_buf();
        let file = File::open(&path)
            .map_err(|e| Error::io(format!("opening {} for reading", path.display()), e))?;
        Ok(JsonlReader {
            input: BufReader::with_capacity(READ_BUFFER, file),
            path,
            line: Vec::new(),
            offset: 0,
            line_no: 0,
            buffers: simd_json::Buffers::default(),
            tail: Tail::default(),
            io_error: None,
            done: false,
        })
    }

    /// Reads whatever is left and returns the tail.
    ///
    /// # Errors
    /// [`Error::Io`] naming the path when reading failed part way.
    pub fn finish(mut self) -> Result<Tail, Error> {
        for _ in self.by_ref() {}
        match self.io_error.take() {
            Some(e) => Err(Error::io(
                format!("reading {} at byte {}", self.path.display(), self.offset),
                e,
            )),
            None => Ok(self.tail),
        }
    }

    /// Records the bytes after the last newline.
    fn note_tail(&mut self) {
        let end = self.line.iter().rposition(|&b| b != 0).map_or(0, |i| i + 1);
        self.tail = Tail {
            torn: (end > 0).then_some(TornLine {
                offset: self.offset,
                len: end as u64,
            }),
            zero_bytes: (self.line.len() - end) as u64,
        };
    }
}

impl Iterator for JsonlReader {
    type Item = Result<JsonlRecord, BadLine>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        self.line.clear();
        let read = match self.input.read_until(b'\n', &mut self.line) {
            Ok(n) => n,
            Err(e) => {
                self.io_error = Some(e);
                self.done = true;
                return None;
            }
        };
        if read == 0 || self.line.last() != Some(&b'\n') {
            self.note_tail();
            self.done = true;
            return None;
        }
        self.line_no += 1;
        let offset = self.offset;
        self.offset += read as u64;
        self.line.pop();
        // A UTF-8 byte order mark that some editors and tools put first: RFC 8259 lets a parser
        // ignore it, and the line after it is a record like any other.
        let start = if offset == 0 && self.line.starts_with(UTF8_BOM) {
            UTF8_BOM.len()
        } else {
            0
        };
        Some(
            parse_line(&mut self.line[start..], &mut self.buffers).map_err(|reason| BadLine {
                line: self.line_no,
                offset,
                reason,
            }),
        )
    }
}

/// Parses one line (without its newline) into a record. The line is used as simd-json's
/// scratch space.
pub(crate) fn parse_line(
    line: &mut [u8],
    buffers: &mut simd_json::Buffers,
) -> Result<JsonlRecord, String> {
    if line.is_empty() {
        return Err("empty line".into());
    }
    let tape = simd_json::to_tape_with_buffers(line, buffers).map_err(|e| e.to_string())?;
    let root = tape.as_value();
    let object = root
        .as_object()
        .ok_or_else(|| "not a JSON object".to_owned())?;
    let mut timestamp_ns = None;
    let mut level = None;
    let mut message = None;
    let mut thread_id = None;
    let mut fields = None;
    for (key, value) in object.iter() {
        let slot_taken = match key {
            "timestamp" => timestamp_ns
                .replace(
                    value
                        .as_str()
                        .and_then(|s| parse_rfc3339_nanos(s.as_bytes()))
                        .ok_or("`timestamp` is not an RFC 3339 UTC timestamp")?,
                )
                .is_some(),
            "level" => level
                .replace(
                    value
                        .as_str()
                        .and_then(Level::parse)
                        .ok_or("`level` is not a level name")?,
                )
                .is_some(),
            "message" => message
                .replace(
                    value
                        .as_str()
                        .ok_or("`message` is not a string")?
                        .to_owned(),
                )
                .is_some(),
            "thread_id" => thread_id
                .replace(
                    value
                        .as_u64()
                        .ok_or("`thread_id` is not an unsigned integer")?,
                )
                .is_some(),
            "fields" => fields.replace(read_fields(value)?).is_some(),
            other => return Err(format!("unexpected key `{other}`")),
        };
        if slot_taken {
            return Err(format!("key `{key}` appears twice"));
        }
    }
    Ok(JsonlRecord {
        timestamp_ns: timestamp_ns.ok_or("no `timestamp`")?,
        level: level.ok_or("no `level`")?,
        message: message.ok_or("no `message`")?,
        thread_id: thread_id.ok_or("no `thread_id`")?,
        fields: fields.unwrap_or_default(),
    })
}

fn read_fields(value: TapeValue<'_, '_>) -> Result<Vec<(String, OwnedValue)>, String> {
    let object = value.as_object().ok_or("`fields` is not an object")?;
    let mut fields = Vec::with_capacity(object.len());
    for (key, value) in object.iter() {
        match value.as_array() {
            Some(values) => {
                for value in values.iter() {
                    fields.push((key.to_owned(), read_value(key, value)?));
                }
            }
            None => fields.push((key.to_owned(), read_value(key, value)?)),
        }
    }
    Ok(fields)
}

fn read_value(key: &str, value: TapeValue<'_, '_>) -> Result<OwnedValue, String> {
    let bad = || format!("field `{key}` has a value this format does not write");
    Ok(match value.value_type() {
        ValueType::Null => OwnedValue::Null,
        ValueType::Bool => OwnedValue::Bool(value.as_bool().ok_or_else(bad)?),
        ValueType::I64 => OwnedValue::I64(value.as_i64().ok_or_else(bad)?),
        ValueType::U64 => {
            let v = value.as_u64().ok_or_else(bad)?;
            i64::try_from(v).map_or(OwnedValue::U64(v), OwnedValue::I64)
        }
        ValueType::F64 => OwnedValue::F64(value.as_f64().ok_or_else(bad)?),
        ValueType::String => OwnedValue::Str(value.as_str().ok_or_else(bad)?.to_owned()),
        ValueType::Object => {
            let object = value.as_object().ok_or_else(bad)?;
            if object.len() != 1 {
                return Err(bad());
            }
            let name = object.get(NON_FINITE_KEY);
            let v = match name.as_ref().and_then(|v| v.as_str()) {
                Some("NaN") => f64::NAN,
                Some("Infinity") => f64::INFINITY,
                Some("-Infinity") => f64::NEG_INFINITY,
                _ => return Err(bad()),
            };
            OwnedValue::F64(v)
        }
        _ => return Err(bad()),
    })
}

/// The timestamp of the first record of the file at `path`, if it has one (for naming a
/// reopened file when it is rotated).
pub(crate) fn first_timestamp(path: &Path) -> Option<i64> {
    let mut reader = JsonlReader::open(path).ok()?;
    reader.next()?.ok().map(|r| r.timestamp_ns)
}

/// The timestamp of the last record of the file at `path`, whose complete lines end at byte
/// `end` (for the period a reopened file was last written in). Reads only that line.
pub(crate) fn last_timestamp(path: &Path, end: u64) -> Option<i64> {
    use std::os::unix::fs::FileExt;
    const BLOCK: u64 = 64 * 1024;
    let file = File::open(path).ok()?;
    // The last line without its newline: [start, line_end).
    let line_end = end.checked_sub(1)?;
    let mut start = 0;
    let mut block = vec![0u8; BLOCK as usize];
    let mut block_end = line_end;
    while block_end > 0 {
        let block_start = block_end.saturating_sub(BLOCK);
        let buf = &mut block[..(block_end - block_start) as usize];
        file.read_exact_at(buf, block_start).ok()?;
        if let Some(i) = buf.iter().rposition(|&b| b == b'\n') {
            start = block_start + i as u64 + 1;
            break;
        }
        block_end = block_start;
    }
    let mut line = vec![0u8; usize::try_from(line_end - start).ok()?];
    file.read_exact_at(&mut line, start).ok()?;
    let skip = if start == 0 && line.starts_with(UTF8_BOM) {
        UTF8_BOM.len()
    } else {
        0
    };
    parse_line(&mut line[skip..], &mut simd_json::Buffers::default())
        .ok()
        .map(|r| r.timestamp_ns)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<JsonlRecord, String> {
        let mut bytes = text.as_bytes().to_vec();
        parse_line(&mut bytes, &mut simd_json::Buffers::default())
    }

    #[test]
    fn last_timestamp_reads_only_the_last_line() {
        let dir = std::env::temp_dir().join(format!("asynclog-last-ts-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("a.log");
        let line = |ts: &str, pad: usize| {
            format!(
                r#"{{"timestamp":"{ts}","level":"INFO","message":"{}","thread_id":1}}"#,
                "x".repeat(pad)
            )
        };
        // A last line longer than a scan block, then a BOM before a file's only line.
        let text = format!(
            "{}\n{}\n",
            line("2026-11-27T12:00:00Z", 0),
            line("2026-11-27T13:00:00Z", 100_000)
        );
        std::fs::write(&path, &text).unwrap();
        let end = text.len() as u64;
        assert_eq!(last_timestamp(&path, end), Some(1_795_784_400_000_000_000));
        let text = format!("\u{feff}{}\n", line("2026-11-27T12:00:00Z", 0));
        std::fs::write(&path, &text).unwrap();
        let end = text.len() as u64;
        assert_eq!(last_timestamp(&path, end), Some(1_795_780_800_000_000_000));
        assert_eq!(last_timestamp(&path, 0), None);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn reads_the_documented_mapping() {
        let record = parse(concat!(
            r#"{"timestamp":"2026-11-27T12:00:00.123456789Z","level":"WARN","message":"m","#,
            r#""thread_id":18446744073709551615,"fields":{"i":-5,"u":5,"big":18446744073709551615,"#,
            r#""f":3.0,"nan":{"$f64":"NaN"},"inf":{"$f64":"-Infinity"},"s":"x","b":true,"n":null,"#,
            r#""dup":[1,"two"]}}"#
        ))
        .unwrap();
        assert_eq!(record.timestamp_ns, 1_795_780_800_123_456_789);
        assert_eq!(record.level, Level::Warn);
        assert_eq!(record.thread_id, u64::MAX);
        let get = |k| record.field(k).cloned().unwrap();
        assert_eq!(get("i"), OwnedValue::I64(-5));
        assert_eq!(get("u"), OwnedValue::I64(5));
        assert_eq!(get("big"), OwnedValue::U64(u64::MAX));
        assert_eq!(get("f"), OwnedValue::F64(3.0));
        assert!(matches!(get("nan"), OwnedValue::F64(v) if v.is_nan()));
        assert_eq!(get("inf"), OwnedValue::F64(f64::NEG_INFINITY));
        assert_eq!(get("s"), OwnedValue::Str("x".into()));
        assert_eq!(get("b"), OwnedValue::Bool(true));
        assert_eq!(get("n"), OwnedValue::Null);
        let dups: Vec<_> = record.fields.iter().filter(|(k, _)| k == "dup").collect();
        assert_eq!(
            dups,
            [
                &("dup".to_owned(), OwnedValue::I64(1)),
                &("dup".to_owned(), OwnedValue::Str("two".into()))
            ]
        );
    }

    #[test]
    fn bad_lines_say_why() {
        let head = r#""timestamp":"2026-11-27T12:00:00.000000000Z","level":"INFO","message":"m","thread_id":1"#;
        for (text, why) in [
            ("", "empty line"),
            ("[1]", "not a JSON object"),
            ("{\"timestamp\":", ""),
            (&format!("{{{head},\"extra\":1}}"), "unexpected key `extra`"),
            (
                &format!("{{{head},\"level\":\"INFO\"}}"),
                "key `level` appears twice",
            ),
            (
                &format!("{{{head},\"fields\":{{\"a\":{{\"b\":1}}}}}}"),
                "field `a`",
            ),
            (
                &format!("{{{head},\"fields\":{{\"a\":[[1]]}}}}"),
                "field `a`",
            ),
            (
                &format!("{{{head},\"fields\":[]}}"),
                "`fields` is not an object",
            ),
            (
                r#"{"level":"INFO","message":"m","thread_id":1}"#,
                "no `timestamp`",
            ),
        ] {
            let err = parse(text).unwrap_err();
            assert!(err.contains(why), "{text}: {err}");
        }
    }

    #[test]
    fn a_byte_order_mark_before_the_first_line_is_skipped() {
        // An editor or a tool that saved the file as "UTF-8 with BOM" puts U+FEFF first; RFC
        // 8259 lets parsers ignore it, and the first record is as good as the others.
        let line = r#"{"timestamp":"2026-11-27T12:00:00.000000000Z","level":"INFO","message":"m","thread_id":1}"#;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bom.log");
        std::fs::write(&path, format!("\u{feff}{line}\n{line}\n[1]\n")).unwrap();
        let contents = read_jsonl(&path).unwrap();
        assert_eq!(contents.records.len(), 2, "{:?}", contents.bad_lines);
        assert_eq!(contents.records[0].message, "m");
        // Offsets still count the file's bytes, the mark included.
        assert_eq!(contents.bad_lines.len(), 1);
        assert_eq!(contents.bad_lines[0].line, 3);
        assert_eq!(
            contents.bad_lines[0].offset,
            3 + 2 * (line.len() as u64 + 1)
        );
        assert_eq!(first_timestamp(&path), Some(1_795_780_800_000_000_000));
    }
}
