//! The file sink: one JSON object per line (see "The format" below), serialized by the sink's worker straight into a memory-mapped region of the file,
//! with size and time rotation, retention, and a tail that survives `kill -9`.
//!
//! # The format
//! One record is one line:
//!
//! ```text
//! {"timestamp":"2026-11-27T12:00:00.123456789Z","level":"INFO","message":"order filled","thread_id":7,"fields":{"order_id":42,"price":101.25,"symbol":"AAPL"}}
//! ```
//!
//! Every line is valid RFC 8259 JSON for any input, with unique object keys:
//!
//! - **Top-level names** are fixed (`timestamp`, `level`, `message`, `thread_id`, `fields`);
//!   user fields live inside `"fields"`, so a field called `message` or `fields` collides with
//!   nothing. `"fields"` is left out when a record has none.
//! - **Strings** (messages, keys, values): `"` and `\` are escaped, every control character
//!   U+0000..U+001F is escaped (`\n`, `\t`, … or `\u00XX`), everything else, including non-BMP
//!   characters, is written as UTF-8. A line therefore never contains a raw newline or NUL byte,
//!   which is what lets readers treat NUL as "never written" (see "What readers see").
//! - **Integers** (`I64`, `U64`): every digit; a u64 above 2^53 stays exact (JavaScript readers
//!   lose precision there; Python, simd-json and DuckDB do not).
//! - **Finite floats**: the shortest decimal that round-trips, always with a `.` or an exponent
//!   (`3.0`, `1e300`, `-0.0`), so it reads back as a float. An `F32` value round-trips as an
//!   `f32` (`0.1f32` is written `0.1`); [`read_jsonl`] returns every float as `F64`.
//! - **NaN and ±Infinity**, which JSON cannot express, become the one-key objects
//!   `{"$f64":"NaN"}`, `{"$f64":"Infinity"}`, `{"$f64":"-Infinity"}`. No other field value is an
//!   object, so the mapping is unambiguous; the NaN payload and sign are not kept.
//! - **Duplicate keys** in one record: RFC 8259 says names SHOULD be unique and readers disagree
//!   on duplicates (Python keeps the last, others the first), so a key that occurs more than once
//!   is written once, at its first position, with a JSON array of its values in logged order:
//!   `[a=1, b=2, a=3]` becomes `{"a":[1,3],"b":2}`. No other field value is an array, so this is
//!   unambiguous too; only the interleaving of different keys is lost.
//! - `Bool`, `Null`: `true`/`false`, `null`.
//!
//! [`read_jsonl`] reverses this mapping.
//!
//! # How a batch reaches the file
//! 1. Rotate first if the active file has reached `max_bytes` or its time period is over
//!    (rotation happens between batches, so a file can pass `max_bytes` by at most one batch).
//! 2. Make sure the mapped window has room for the batch's worst case
//!    ([`json::batch_bound`], computed from the batch's column lengths in O(1)): preallocate
//!    another chunk with `posix_fallocate` and remap if not.
//! 3. Serialize every record into the map (no intermediate buffer, no `write` syscall).
//!
//! Everything that can fail (rotating, growing the file on a full disk) happens in steps 1
//! and 2, before a byte of the batch is written, so the retried batch never leaves a partial
//! or duplicated record behind.
//!
//! # What readers see
//! Bytes are in the page cache, and visible to any reader of the file, as soon as they are
//! copied; `flush` adds nothing to visibility (it syncs under [`SyncPolicy::OnFlush`]). While
//! the sink is open the file ends in preallocated zero bytes; on `close` and on rotation it is
//! truncated to the bytes written. A process killed at any moment leaves every record the
//! worker finished, then at most one torn line, then zeros: [`read_jsonl`] returns the
//! records and reports the tail, and reopening the file trims the tail and appends after the
//! last complete line.
//!
//! # When the file or its directory is removed
//! An open file outlives its directory entry (`rm app.log`, `rm -rf logs/`), so writes keep
//! succeeding into an inode nobody can open again. The sink checks for that (one `fstat`) at
//! every `flush` — explicit, periodic (`Config::flush_interval`) and the final one of `close` —
//! and when rotation finds the file gone. Then the flush (or `close`) fails with an
//! [`SinkError::Io`] of kind `NotFound` naming the path and counting the records this sink had
//! written into the removed file, which are gone with it (a periodic flush, which has no caller,
//! leaves the error to the next `flush` or `close`); the sink lets the file go, and its
//! next batch recreates the directory and a new file at the same path (rotation starts the new
//! file at once). If the directory cannot be recreated, batches fail with an error naming it,
//! and are retried and reported to `on_batch_failed` like any failed write. A file moved
//! rather than deleted is not an error: its records are where it was moved to.

mod mapped;
mod naming;
mod reader;

pub use crate::sinks::rotation::{Clock, ManualClock, Rotation, SystemClock, MIN_ROTATION_PERIOD};
pub use mapped::TailRecovery;
pub use reader::{read_jsonl, BadLine, JsonlContents, JsonlReader, JsonlRecord, Tail, TornLine};

use crate::batch::Batch;
use crate::error::{Error, SinkError};
use crate::sinks::json::{self, JsonOut, LineEncoder, SliceWriter};
use crate::sinks::rotation::{self, system_time_to_ns};
use crate::sinks::Sink;
use mapped::MappedFile;
use naming::Naming;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Default [`FileSinkConfig::chunk_size`]: the file grows 16 MiB at a time.
pub const DEFAULT_CHUNK_SIZE: usize = 16 << 20;
/// The smallest [`FileSinkConfig::chunk_size`]: one page.
pub const MIN_CHUNK_SIZE: usize = 4096;
/// The largest [`FileSinkConfig::chunk_size`]: 1 GiB. Every file is preallocated a chunk at a
/// time, so a larger chunk only reserves more disk, and one past what the file system can
/// allocate would fail every write.
pub const MAX_CHUNK_SIZE: usize = 1 << 30;
/// Default [`FileSinkConfig::sync`]: never sync explicitly (a process crash loses nothing;
/// a power loss may lose what the kernel has not written back yet).
pub const DEFAULT_SYNC: SyncPolicy = SyncPolicy::Never;
/// Default [`FileSinkConfig::rotation`]: no time rotation.
pub const DEFAULT_ROTATION: Rotation = Rotation::NEVER;
/// Default [`FileSinkConfig::max_bytes`]: no size rotation.
pub const DEFAULT_MAX_BYTES: Option<u64> = None;
/// Default [`FileSinkConfig::max_files`]: keep every finished file.
pub const DEFAULT_MAX_FILES: Option<usize> = None;

/// When a file sink forces written bytes to the storage device (`fdatasync`, the same as
/// `msync(MS_SYNC)` over the mapping). Syncing costs a device round trip; it only matters for
/// power loss or a kernel crash, since bytes in the page cache survive the process.
/// Whatever the policy, rotation and close sync the finished file unless it is `Never`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum SyncPolicy {
    /// Leave write-back to the kernel (the default).
    #[default]
    Never,
    /// Sync on every `flush()` (explicit, periodic, and before close).
    OnFlush,
    /// Sync after every N written batches (N >= 1).
    EveryBatches(u32),
}

/// Options of a [`FileSink`]: start from [`FileSinkConfig::new`], chain `with_*` setters (or
/// assign the public fields), then [`build`](Self::build). Every option applies when the sink is
/// built.
///
/// The file sink and the Parquet sink ([`ParquetSinkConfig`]) share these words: `path` (where
/// the sink writes), `rotation` (time rotation), `max_bytes` (size rotation), `max_files`
/// (retention: how many finished files stay), `clock` and `name`. The file being written is the
/// *active* file; rotation *finishes* it and starts a new one. A finished file of this sink is the
/// active file renamed to `app.<start>.log`, where `<start>` is the UTC time it was started, to
/// the microsecond (`app.2026-11-27T12-00-00.000000.log`); the names sort by time.
///
/// [`ParquetSinkConfig`]: crate::sinks::parquet::ParquetSinkConfig
///
/// ```
/// use asynclog::sinks::file::{FileSinkConfig, Rotation, SyncPolicy};
/// # let dir = std::env::temp_dir().join(format!("asynclog-doc-config-{}", std::process::id()));
///
/// let sink = FileSinkConfig::new(dir.join("app.log"))
///     .with_rotation(Rotation::HOURLY)
///     .with_max_bytes(256 << 20)
///     .with_max_files(48)
///     .with_sync(SyncPolicy::OnFlush)
///     .build()?;
/// assert_eq!(asynclog::Sink::name(&sink), format!("file:{}", dir.join("app.log").display()));
/// # drop(sink);
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct FileSinkConfig {
    /// The active file. Missing parent directories are created. Finished files go next to it.
    pub path: PathBuf,
    /// Time rotation: the active file is finished when its period ends (periods are aligned to
    /// the Unix epoch, UTC; see [`Rotation`]), checked when a batch is written. A file reopened
    /// at start-up is in the period of its last record. Default [`DEFAULT_ROTATION`] (never).
    pub rotation: Rotation,
    /// Size rotation: the active file is finished, before a batch is written, once it holds at
    /// least this many bytes (real bytes written, not an estimate), so a file passes it by at
    /// most one batch. At least 1. Default [`DEFAULT_MAX_BYTES`] (`None`: no size rotation).
    pub max_bytes: Option<u64>,
    /// Retention: whenever a file is finished (and when the sink is built) the oldest finished
    /// files of this path are deleted until at most this many remain; the active file does not
    /// count.
    /// Default [`DEFAULT_MAX_FILES`] (`None`: keep them all).
    pub max_files: Option<usize>,
    /// Where the sink reads the time, for time rotation and for the time in file names. Default
    /// [`SystemClock`]; tests inject a [`ManualClock`].
    pub clock: Arc<dyn Clock>,
    /// The sink's name in hooks, stats and errors. Default (`None`): `file:<path>`.
    pub name: Option<String>,
    /// How much the file is extended (and preallocated) at a time, in bytes; a batch larger
    /// than this extends it by as many chunks as it needs. At least [`MIN_CHUNK_SIZE`], at most
    /// [`MAX_CHUNK_SIZE`].
    /// Default [`DEFAULT_CHUNK_SIZE`].
    pub chunk_size: usize,
    /// When bytes are synced to the device. Default [`DEFAULT_SYNC`].
    pub sync: SyncPolicy,
}

impl FileSinkConfig {
    /// The defaults, writing to `path`.
    pub fn new(path: impl Into<PathBuf>) -> FileSinkConfig {
        FileSinkConfig {
            path: path.into(),
            rotation: DEFAULT_ROTATION,
            max_bytes: DEFAULT_MAX_BYTES,
            max_files: DEFAULT_MAX_FILES,
            clock: Arc::new(SystemClock),
            name: None,
            chunk_size: DEFAULT_CHUNK_SIZE,
            sync: DEFAULT_SYNC,
        }
    }

    crate::sinks::rotation::file_sink_setters!();

    /// Sets [`chunk_size`](Self::chunk_size).
    #[must_use]
    pub fn with_chunk_size(mut self, chunk_size: usize) -> Self {
        self.chunk_size = chunk_size;
        self
    }

    /// Sets [`sync`](Self::sync).
    #[must_use]
    pub fn with_sync(mut self, sync: SyncPolicy) -> Self {
        self.sync = sync;
        self
    }

    /// Builds the sink: [`FileSink::with_config`].
    ///
    /// # Errors
    /// As [`FileSink::with_config`].
    pub fn build(self) -> Result<FileSink, Error> {
        FileSink::with_config(self)
    }

    /// The sink's name: [`name`](Self::name), or `file:<path>`.
    fn sink_name(&self) -> String {
        self.name
            .clone()
            .unwrap_or_else(|| format!("file:{}", self.path.display()))
    }

    fn validate(&self) -> Result<(), Error> {
        let sink = self.sink_name();
        let bad = |field, reason: String| {
            Err(Error::Config {
                field,
                reason: format!("{reason} (FileSinkConfig of sink `{sink}`)"),
            })
        };
        if self.chunk_size < MIN_CHUNK_SIZE {
            return bad(
                "chunk_size",
                format!("is {}, below the minimum {MIN_CHUNK_SIZE}", self.chunk_size),
            );
        }
        if self.chunk_size > MAX_CHUNK_SIZE {
            return bad(
                "chunk_size",
                format!("is {}, above the maximum {MAX_CHUNK_SIZE}", self.chunk_size),
            );
        }
        if let Err(reason) = rotation::validate(self.rotation, self.max_bytes) {
            return bad(reason.0, reason.1);
        }
        if self.sync == SyncPolicy::EveryBatches(0) {
            return bad(
                "sync",
                "SyncPolicy::EveryBatches needs at least 1".to_owned(),
            );
        }
        if self.path.file_name().is_none() {
            return bad(
                "path",
                format!("{} does not name a file", self.path.display()),
            );
        }
        Ok(())
    }
}

/// The file being written and what rotation needs to know about it.
#[derive(Debug)]
struct Active {
    file: MappedFile,
    /// When the file was started (its rotated name).
    started_ns: i64,
    /// When time rotation next applies.
    next_rotation_ns: Option<i64>,
    /// Records this sink has written into the file (what is lost if it is removed).
    records: u64,
}

/// Writes records as JSON lines into a memory-mapped file.
/// See the [module docs](self) for how, and [`FileSinkConfig`] for rotation, retention and
/// sync options. [`FileSink::new`] takes the defaults; [`FileSinkConfig::build`] (or
/// [`FileSink::with_config`]) the options.
///
/// ```
/// # let dir = std::env::temp_dir().join(format!("asynclog-doc-file-{}", std::process::id()));
/// let mut config = asynclog::Config::default();
/// config.sinks.push(Box::new(asynclog::FileSink::new(dir.join("logs/app.log"))?));
/// let logger = asynclog::Logger::new(config)?;
/// asynclog::info!(logger, "order filled", order_id = 42u64, symbol = "AAPL");
/// logger.close()?;
/// let text = std::fs::read_to_string(dir.join("logs/app.log"))?;
/// assert!(text.ends_with(r#""fields":{"order_id":42,"symbol":"AAPL"}}
/// "#));
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct FileSink {
    name: String,
    path: PathBuf,
    chunk: u64,
    sync: SyncPolicy,
    rotation: Rotation,
    max_bytes: Option<u64>,
    max_files: Option<usize>,
    clock: Arc<dyn Clock>,
    naming: Naming,
    encoder: LineEncoder,
    active: Option<Active>,
    /// The stamp of the last rotated name, so the next one sorts after it.
    last_stamp: Option<i64>,
    batches_since_sync: u32,
    /// A failure that happened after a batch was safely written (deleting an old file,
    /// finishing a rotated one); reported by the next `flush` or `close`.
    deferred: Option<SinkError>,
    recovery: TailRecovery,
    bytes_written: u64,
    rotations: u64,
    closed: bool,
}

impl std::fmt::Debug for FileSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileSink")
            .field("name", &self.name)
            .field("active", &self.active)
            .field("bytes_written", &self.bytes_written)
            .field("rotations", &self.rotations)
            .finish()
    }
}

impl FileSink {
    /// A sink writing to `path` with the defaults of [`FileSinkConfig::new`]: no rotation, no
    /// retention.
    ///
    /// # Errors
    /// [`Error::Io`] naming the path and the OS reason when a directory or the file cannot be
    /// created or opened, the path is not a regular file, or another file sink holds it.
    pub fn new(path: impl Into<PathBuf>) -> Result<FileSink, Error> {
        FileSink::with_config(FileSinkConfig::new(path))
    }

    /// A sink with the given options. Opens (or creates) the file now, trimming a torn or
    /// zero-filled tail left by a crash, and applies retention.
    ///
    /// # Errors
    /// [`Error::Config`] for an option out of range; otherwise as [`FileSink::new`].
    pub fn with_config(config: FileSinkConfig) -> Result<FileSink, Error> {
        config.validate()?;
        let mut sink = FileSink {
            name: config.sink_name(),
            naming: Naming::new(&config.path),
            encoder: LineEncoder::new(),
            path: config.path,
            chunk: config.chunk_size as u64,
            sync: config.sync,
            rotation: config.rotation,
            max_bytes: config.max_bytes,
            max_files: config.max_files,
            clock: config.clock,
            active: None,
            last_stamp: None,
            batches_since_sync: 0,
            deferred: None,
            recovery: TailRecovery::default(),
            bytes_written: 0,
            rotations: 0,
            closed: false,
        };
        let now = sink.now_ns();
        sink.recovery = sink.open_active(now, None).map_err(into_error)?;
        sink.enforce_retention().map_err(into_error)?;
        Ok(sink)
    }

    /// The active file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Bytes of JSON lines this sink has written, over every file (real bytes, not estimates).
    pub fn bytes_written(&self) -> u64 {
        self.bytes_written
    }

    /// Bytes of complete lines in the active file (including what it held when reopened).
    pub fn file_len(&self) -> u64 {
        self.active.as_ref().map_or(0, |a| a.file.len())
    }

    /// How many times the sink has rotated.
    pub fn rotations(&self) -> u64 {
        self.rotations
    }

    /// What opening the file found and trimmed (a crashed writer's tail).
    pub fn recovery(&self) -> TailRecovery {
        self.recovery
    }

    fn now_ns(&self) -> i64 {
        system_time_to_ns(self.clock.now())
    }

    /// Opens the active file. `started_ns` is the new file's start for its rotated name; by
    /// default its first record's timestamp if it has records, else now.
    fn open_active(
        &mut self,
        now_ns: i64,
        started_ns: Option<i64>,
    ) -> Result<TailRecovery, SinkError> {
        let (file, recovery) = MappedFile::open(&self.path, self.chunk)?;
        let reopened = started_ns.is_none() && recovery.kept_bytes > 0;
        let started_ns = started_ns.unwrap_or_else(|| {
            if reopened {
                reader::first_timestamp(&self.path).unwrap_or(now_ns)
            } else {
                now_ns
            }
        });
        // A reopened file belongs to the period it was last written in: its first records may
        // have been logged just before the boundary that started it, and rotating under their
        // period would finish the current period's file at a restart.
        let period_of = if reopened && self.rotation.period().is_some() {
            reader::last_timestamp(&self.path, recovery.kept_bytes)
                .map_or(started_ns, |last| last.max(started_ns))
        } else {
            started_ns
        };
        self.active = Some(Active {
            file,
            started_ns,
            next_rotation_ns: self.rotation.next_boundary(period_of),
            records: 0,
        });
        Ok(recovery)
    }

    /// Rotation due before the next batch: `(by_time, by_size)`.
    fn rotation_due(&self, now_ns: i64) -> (bool, bool) {
        match &self.active {
            Some(active) => (
                active.next_rotation_ns.is_some_and(|t| now_ns >= t),
                self.max_bytes.is_some_and(|max| active.file.len() >= max),
            ),
            None => (false, false),
        }
    }

    /// Renames the active file to its rotated name, finishes it, applies retention and opens a
    /// new active file. Fails without side effects if the rename fails; if opening the new file
    /// fails, the sink has no active file and the next write opens it.
    fn rotate(&mut self, now_ns: i64, by_time: bool) -> Result<(), SinkError> {
        let Some(active) = &self.active else {
            return Ok(());
        };
        let (target, stamp) = self
            .naming
            .unique_rotated_path(active.started_ns, self.last_stamp);
        match std::fs::rename(&self.path, &target) {
            Ok(()) => {
                self.last_stamp = Some(stamp);
                self.rotations += 1;
            }
            // Someone deleted or moved the active file: nothing to rename, start a new one, and
            // report the records that went with a deleted one.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                if active.file.is_removed().unwrap_or(false) {
                    let lost = self.removed_error(active.records);
                    self.defer(lost);
                }
            }
            Err(e) => {
                return Err(SinkError::io(
                    format!(
                        "rotating log file {} to {}",
                        self.path.display(),
                        target.display()
                    ),
                    e,
                ))
            }
        }
        let old = self.active.take().expect("checked above");
        let sync = self.sync != SyncPolicy::Never;
        if let Err(e) = old.file.finish(sync) {
            self.defer(e);
        }
        if sync {
            if let Err(e) = sync_dir(&self.path) {
                self.defer(e);
            }
        }
        if let Err(e) = self.enforce_retention() {
            self.defer(e);
        }
        let started = if by_time {
            self.rotation.period_start(now_ns)
        } else {
            now_ns
        };
        self.open_active(now_ns, Some(started)).map(|_| ())
    }

    fn enforce_retention(&self) -> Result<(), SinkError> {
        let Some(keep) = self.max_files else {
            return Ok(());
        };
        self.naming
            .enforce_retention(keep)
            .map(|_| ())
            .map_err(|(path, e)| {
                SinkError::io(format!("deleting old log file {}", path.display()), e)
            })
    }

    /// If the active file has been removed (it or its directory deleted), lets it go and
    /// returns the error to report; the next write starts a new file at the path.
    fn take_removed(&mut self) -> Option<SinkError> {
        let active = self.active.as_ref()?;
        match active.file.is_removed() {
            Ok(false) => None,
            Ok(true) => {
                let error = self.removed_error(active.records);
                // Dropping it unmaps and closes the file, which frees its blocks.
                self.active = None;
                Some(error)
            }
            Err(e) => Some(e),
        }
    }

    fn removed_error(&self, records: u64) -> SinkError {
        SinkError::io(
            format!(
                "log file {} was removed while open: the {records} records this sink wrote \
                 into it are gone with it; the next batch starts a new file there",
                self.path.display()
            ),
            std::io::Error::new(std::io::ErrorKind::NotFound, "no directory entry left"),
        )
    }

    fn defer(&mut self, error: SinkError) {
        self.deferred.get_or_insert(error);
    }

    fn closed_error(&self) -> SinkError {
        SinkError::io(
            format!("writing to log file {}", self.path.display()),
            std::io::Error::other("the file sink is closed"),
        )
    }
}

impl Sink for FileSink {
    fn name(&self) -> &str {
        &self.name
    }

    fn write_batch(&mut self, batch: &Batch) -> Result<(), SinkError> {
        if self.closed {
            return Err(self.closed_error());
        }
        if batch.is_empty() {
            return Ok(());
        }
        let now = self.now_ns();
        match self.rotation_due(now) {
            (by_time, by_size) if self.file_len() > 0 && (by_time || by_size) => {
                self.rotate(now, by_time)?;
            }
            (true, false) => {
                // The period ended with nothing written: keep the empty file for the next one.
                if let Some(active) = &mut self.active {
                    active.started_ns = self.rotation.period_start(now);
                    active.next_rotation_ns = self.rotation.next_boundary(now);
                }
            }
            _ => {}
        }
        if self.active.is_none() {
            self.open_active(now, None)?;
        }
        let active = self.active.as_mut().expect("opened above");
        // The one fallible step, before anything is written: room for the worst case.
        active.file.reserve(json::batch_bound(batch))?;
        let spare = active.file.spare();
        let mut out = SliceWriter::new(spare);
        let result = self.encoder.write_batch(&mut out, batch);
        let written = out.position();
        if let Err(e) = result {
            // Cannot happen (the bound is proven in `json::line_bound`); if it did, take the
            // partial batch back so a retry does not duplicate records.
            active.file.spare()[..written].fill(0);
            return Err(SinkError::Encode(format!(
                "serializing a batch into {}: {e}",
                self.path.display()
            )));
        }
        active.file.commit(written);
        active.records += batch.len() as u64;
        self.bytes_written += written as u64;
        if let SyncPolicy::EveryBatches(n) = self.sync {
            self.batches_since_sync += 1;
            if self.batches_since_sync >= n {
                self.batches_since_sync = 0;
                // The batch is written; a failed sync is reported by the next flush rather than
                // as a failed write, which would be retried and written twice.
                let synced = active.file.sync();
                if let Err(e) = synced {
                    self.defer(e);
                }
            }
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<(), SinkError> {
        // A removed file first (an earlier deferred error waits for the next flush).
        if let Some(error) = self.take_removed() {
            return Err(error);
        }
        if self.sync == SyncPolicy::OnFlush {
            if let Some(active) = &self.active {
                active.file.sync()?;
            }
        }
        self.deferred.take().map_or(Ok(()), Err)
    }

    fn close(&mut self) -> Result<(), SinkError> {
        if self.closed {
            return Ok(());
        }
        self.closed = true;
        let removed = self.take_removed();
        if let Some(active) = self.active.take() {
            active.file.finish(self.sync != SyncPolicy::Never)?;
        }
        removed.or(self.deferred.take()).map_or(Ok(()), Err)
    }
}

/// Syncs the directory holding `path`, so a rename or a new file survives power loss.
fn sync_dir(path: &Path) -> Result<(), SinkError> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| SinkError::io(format!("syncing directory {}", dir.display()), e))
}

/// A constructor's I/O failure as the crate's `Error`, keeping the context and OS error.
fn into_error(error: SinkError) -> Error {
    match error {
        SinkError::Io { context, source } => Error::Io { context, source },
        other => Error::Sink {
            sink: "file".into(),
            source: other,
        },
    }
}
