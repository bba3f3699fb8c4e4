//! The Parquet sink: columnar log files that DuckDB, pyarrow, polars, DataFusion or Spark query
//! directly.
//!
//! - **Schema**: one, in [`schema`] (timestamp, level, message, thread_id, fields_json).
//! - **From Arrow buffers**: each batch's columns become Arrow arrays in bulk, in buffers the sink
//!   keeps between batches, written with the parquet crate's `ArrowWriter`.
//! - **Encoder thread**: Parquet encoding and compression run on a thread of the sink's own
//!   (see [`ParquetSinkConfig::encode_thread`]), while the calling thread builds and journals
//!   the next batch.
//! - **Row groups** end every [`ParquetSinkConfig::row_group_rows`] rows and on every `flush()`
//!   (so on `Logger::flush` and every `flush_interval`).
//! - **Files**: `{path}_{YYYYMMDD_HHMMSS}_{NNN}.parquet` (UTC), written as
//!   `….parquet.inprogress` and renamed once the footer is on disk, so a reader globbing
//!   `*.parquet` never meets a half-written file. Time rotation ([`ParquetSinkConfig::rotation`]),
//!   size rotation by real size ([`ParquetSinkConfig::max_bytes`]: bytes written plus the
//!   writer's estimate of the open row group) and retention ([`ParquetSinkConfig::max_files`]),
//!   in the same words as the file sink's.
//! - **Crash safety**: every batch also goes to an Arrow IPC stream journal
//!   (`….parquet.journal`) that the next sink on the same `path` turns back into a Parquet
//!   file after a crash; see [`JournalRecovery`].
//! - **Sinks sharing a `path`** (a restarted service overlapping the old instance, two
//!   processes configured alike): each takes file names no other has taken, and a sink holds an
//!   exclusive `flock` on its journal (journal off: on its `.inprogress` file) while it writes,
//!   so a new sink's recovery leaves a live sink's files alone; see [`ParquetSink::with_config`].
//!
//! ```
//! use asynclog::sinks::Rotation;
//! use asynclog::{Config, Logger, ParquetSinkConfig};
//!
//! let dir = tempfile::tempdir()?;
//! let sink = ParquetSinkConfig::new(dir.path().join("app_data"))
//!     .with_rotation(Rotation::HOURLY)
//!     .with_max_bytes(10 << 20) // 10 MiB
//!     .with_max_files(48)
//!     .build()?;
//! let mut config = Config::default();
//! config.sinks.push(Box::new(sink));
//! let logger = Logger::new(config)?;
//! asynclog::info!(logger, "order filled", order_id = 42u64, price = 101.25)?;
//! logger.close()?;
//! let files: Vec<_> = std::fs::read_dir(dir.path())?.collect();
//! assert_eq!(files.len(), 1); // app_data_YYYYMMDD_HHMMSS_000.parquet
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod encoder;
mod files;
mod journal;
pub mod schema;

pub use schema::{arrow_schema, TimestampUnit, META_SCHEMA_VERSION, META_VERSION, SCHEMA_VERSION};

use crate::batch::Batch;
use crate::error::{Error, SinkError};
use crate::sinks::rotation::{self, system_time_to_ns, Clock, Rotation, SystemClock};
use crate::sinks::Sink;
use arrow_array::RecordBatch;
use encoder::EncoderThread;
use files::{FileName, InProgressLock, Namer};
use journal::{Journal, JournalLock};
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, Encoding, ZstdLevel};
use parquet::errors::ParquetError;
use parquet::file::metadata::KeyValue;
use parquet::file::properties::{EnabledStatistics, WriterProperties};
use parquet::schema::types::ColumnPath;
use schema::ColumnBuffers;
use std::collections::BTreeMap;
use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Default [`ParquetSinkConfig::path`] (of [`ParquetSinkConfig::default`]).
pub const DEFAULT_PATH: &str = "logs/asynclog";
/// Default [`ParquetSinkConfig::rotation`]: no time rotation.
pub const DEFAULT_ROTATION: Rotation = Rotation::NEVER;
/// Default [`ParquetSinkConfig::max_bytes`]: no size rotation.
pub const DEFAULT_MAX_BYTES: Option<u64> = None;
/// Default [`ParquetSinkConfig::max_files`]: keep every finished file.
pub const DEFAULT_MAX_FILES: Option<usize> = None;
/// Default [`ParquetSinkConfig::timestamp_unit`]: nanoseconds.
pub const DEFAULT_TIMESTAMP_UNIT: TimestampUnit = TimestampUnit::Nanos;
/// Default [`ParquetSinkConfig::journal`]: on.
pub const DEFAULT_JOURNAL: bool = true;
/// Default [`ParquetSinkConfig::encode_thread`]: on.
pub const DEFAULT_ENCODE_THREAD: bool = true;
/// Default [`ParquetSinkConfig::row_group_rows`].
pub const DEFAULT_ROW_GROUP_ROWS: usize = 64 * 1024;
/// Default [`ParquetSinkConfig::compression`]: snappy, one of the two the issue allowed (zstd or
/// snappy). In `benches/parquet_sink.rs` (8192-record batches, message + 3 fields, journal and
/// encoder thread on) it wrote 15.8 bytes per record, 9% of the JSON-lines file's, at 1.38x,
/// 1.08x and 1.10x the JSON-lines sink's records/s in three runs on a quiet machine, where
/// zstd(1) wrote 10.1 bytes at 0.89x, 0.83x and 0.87x: the encoder thread is the slower half of
/// the sink, and zstd costs it more CPU per record. LZ4 (`LZ4_RAW`) is about as fast and as
/// small. See the README's Sinks section.
pub const DEFAULT_COMPRESSION: ParquetCompression = ParquetCompression::Snappy;
/// Target size of a data page before compression (the parquet crate's default is 1 MiB).
// NB: 128 KiB pages keep the writer's page buffers and compression input in cache and under
// malloc's mmap threshold; the default sink's CPU time per record fell about 10% against 1 MiB
// pages (a throwaway harness around benches/parquet_sink.rs's workload, 3 alternating runs),
// with the same bytes per record.
const DATA_PAGE_BYTES: usize = 128 << 10;
/// Default [`ParquetSinkConfig::journal_limit`]: 256 MiB.
pub const DEFAULT_JOURNAL_LIMIT: u64 = 256 << 20;
/// A size-rotated file is finished once its exact size reaches this share (in percent) of
/// `max_bytes`; see [`ParquetSinkConfig::max_bytes`].
pub const ROTATE_SIZE_FLOOR_PERCENT: u64 = 95;

/// Called once per journal recovered when a sink is built (and per file rebuilt after a write
/// error).
pub type RecoveryHook = Arc<dyn Fn(&JournalRecovery) + Send + Sync>;

/// Page compression.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParquetCompression {
    /// Zstandard at the given level: 1..=22, or negative "fast" levels (down to -131072), which
    /// trade size for speed.
    Zstd(i32),
    /// Snappy.
    Snappy,
    /// LZ4 (the `LZ4_RAW` codec, which every current reader supports).
    Lz4,
    /// None.
    Uncompressed,
}

/// Options of a [`ParquetSink`]: start from [`ParquetSinkConfig::new`], chain `with_*` setters
/// (or assign the public fields), then [`build`](Self::build). Every option applies when the sink
/// is built.
///
/// The Parquet sink and the file sink ([`FileSinkConfig`]) share these words: `path` (where the
/// sink writes), `rotation` (time rotation), `max_bytes` (size rotation), `max_files`
/// (retention: how many finished files stay), `clock` and `name`. The file being written is the
/// *active* file; rotation *finishes* it and starts a new one. This sink's active file is
/// `{path}_{YYYYMMDD_HHMMSS}_{NNN}.parquet.inprogress` (the UTC time it was started, and a
/// counter within the second); finishing it writes the footer and renames it to
/// `{path}_{YYYYMMDD_HHMMSS}_{NNN}.parquet`. The names sort by time.
///
/// [`FileSinkConfig`]: crate::sinks::file::FileSinkConfig
///
/// ```
/// use asynclog::sinks::parquet::{ParquetCompression, ParquetSinkConfig};
/// use asynclog::sinks::Rotation;
///
/// let dir = tempfile::tempdir()?;
/// let sink = ParquetSinkConfig::new(dir.path().join("app"))
///     .with_rotation(Rotation::DAILY)
///     .with_max_bytes(256 << 20)
///     .with_max_files(30)
///     .with_compression(ParquetCompression::Zstd(3))
///     .build()?;
/// assert_eq!(
///     asynclog::Sink::name(&sink),
///     format!("parquet:{}", dir.path().join("app").display())
/// );
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
#[non_exhaustive]
pub struct ParquetSinkConfig {
    /// Directory and name prefix: files are `{path}_{YYYYMMDD_HHMMSS}_{NNN}.parquet`. Missing
    /// directories are created. Default [`DEFAULT_PATH`] (for [`Default`]; [`new`](Self::new)
    /// takes it).
    pub path: PathBuf,
    /// Time rotation: the active file is finished when its period ends (periods are aligned to
    /// the Unix epoch, UTC; see [`Rotation`]), checked when a batch is written and at every
    /// flush. Default [`DEFAULT_ROTATION`] (never).
    pub rotation: Rotation,
    /// Size rotation: the active file is finished once it holds about this many bytes. Measured
    /// on real bytes: what the writer has written plus its estimate of the open row group. When
    /// that passes `max_bytes` the row group is ended (making the size exact), and the file is
    /// finished if it is at least [`ROTATE_SIZE_FLOOR_PERCENT`]% of `max_bytes`. The check looks
    /// one batch ahead, so a file rarely passes `max_bytes`, and then by less than one batch.
    /// At least 1. Default [`DEFAULT_MAX_BYTES`] (`None`: no size rotation).
    pub max_bytes: Option<u64>,
    /// Retention: after each rotation (and when the sink is built) the oldest finished files of
    /// this path are deleted until at most this many remain; the active file does not count.
    /// Every finished `{path}_….parquet` counts, whichever sink wrote it (another sink on the
    /// same path, a recovery). Default [`DEFAULT_MAX_FILES`] (`None`: keep them all).
    pub max_files: Option<usize>,
    /// Where the time for time rotation and for new files' names comes from. Default
    /// [`SystemClock`]; tests inject a [`ManualClock`](crate::sinks::ManualClock).
    pub clock: Arc<dyn Clock>,
    /// The sink's name in hooks, stats and errors. Default (`None`): `parquet:<path>`.
    pub name: Option<String>,
    /// Rows per row group, at most; `flush()` also ends one. Default [`DEFAULT_ROW_GROUP_ROWS`].
    pub row_group_rows: usize,
    /// Page compression. Default [`DEFAULT_COMPRESSION`].
    pub compression: ParquetCompression,
    /// Resolution of the `timestamp` column. Default [`DEFAULT_TIMESTAMP_UNIT`].
    pub timestamp_unit: TimestampUnit,
    /// Keep the crash journal beside the active file. Off, a crash or a failed write loses the
    /// active file. Default [`DEFAULT_JOURNAL`] (on).
    pub journal: bool,
    /// The journal holds the active file's rows as uncompressed Arrow (per record 17 bytes plus
    /// the message and `fields_json` with 4-byte offsets: several times the Parquet bytes), so
    /// the file is finished early when its journal reaches this many bytes, bounding the
    /// journal's disk use and the time a recovery takes. 0 = no limit. Default
    /// [`DEFAULT_JOURNAL_LIMIT`].
    pub journal_limit: u64,
    /// Encode and compress on a thread of the sink's own (`asynclog-parquet-{name}`), while
    /// the calling thread builds and journals the next batch. `write_batch` still journals each
    /// batch before it returns, so a returned `flush` covers it; an error of that thread is
    /// reported by the next `write_batch`, `flush` or `close`, after the file is rebuilt from
    /// the journal (no batch that was accepted is lost). Off, everything runs on the calling
    /// thread. Default [`DEFAULT_ENCODE_THREAD`] (on).
    pub encode_thread: bool,
    /// Told about every recovery; also see [`ParquetSink::recoveries`]. Default none.
    pub on_recovery: Option<RecoveryHook>,
}

impl Default for ParquetSinkConfig {
    /// [`ParquetSinkConfig::new`] of [`DEFAULT_PATH`].
    fn default() -> Self {
        ParquetSinkConfig::new(DEFAULT_PATH)
    }
}

impl fmt::Debug for ParquetSinkConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ParquetSinkConfig")
            .field("path", &self.path)
            .field("rotation", &self.rotation)
            .field("max_bytes", &self.max_bytes)
            .field("max_files", &self.max_files)
            .field("clock", &self.clock)
            .field("name", &self.name)
            .field("row_group_rows", &self.row_group_rows)
            .field("compression", &self.compression)
            .field("timestamp_unit", &self.timestamp_unit)
            .field("journal", &self.journal)
            .field("journal_limit", &self.journal_limit)
            .field("encode_thread", &self.encode_thread)
            .field("on_recovery", &self.on_recovery.is_some())
            .finish()
    }
}

impl ParquetSinkConfig {
    /// The defaults, writing files named after `path`.
    pub fn new(path: impl Into<PathBuf>) -> ParquetSinkConfig {
        ParquetSinkConfig {
            path: path.into(),
            rotation: DEFAULT_ROTATION,
            max_bytes: DEFAULT_MAX_BYTES,
            max_files: DEFAULT_MAX_FILES,
            clock: Arc::new(SystemClock),
            name: None,
            row_group_rows: DEFAULT_ROW_GROUP_ROWS,
            compression: DEFAULT_COMPRESSION,
            timestamp_unit: DEFAULT_TIMESTAMP_UNIT,
            journal: DEFAULT_JOURNAL,
            journal_limit: DEFAULT_JOURNAL_LIMIT,
            encode_thread: DEFAULT_ENCODE_THREAD,
            on_recovery: None,
        }
    }

    /// Sets [`path`](Self::path).
    pub fn with_path(mut self, path: impl Into<PathBuf>) -> Self {
        self.path = path.into();
        self
    }

    /// Sets [`rotation`](Self::rotation).
    pub fn with_rotation(mut self, rotation: Rotation) -> Self {
        self.rotation = rotation;
        self
    }

    /// Sets [`max_bytes`](Self::max_bytes) to `Some(max_bytes)`.
    pub fn with_max_bytes(mut self, max_bytes: u64) -> Self {
        self.max_bytes = Some(max_bytes);
        self
    }

    /// Sets [`max_files`](Self::max_files) to `Some(max_files)`.
    pub fn with_max_files(mut self, max_files: usize) -> Self {
        self.max_files = Some(max_files);
        self
    }

    /// Sets [`clock`](Self::clock).
    pub fn with_clock(mut self, clock: impl Clock + 'static) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// Sets [`name`](Self::name).
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Sets [`row_group_rows`](Self::row_group_rows).
    pub fn with_row_group_rows(mut self, row_group_rows: usize) -> Self {
        self.row_group_rows = row_group_rows;
        self
    }

    /// Sets [`compression`](Self::compression).
    pub fn with_compression(mut self, compression: ParquetCompression) -> Self {
        self.compression = compression;
        self
    }

    /// Sets [`timestamp_unit`](Self::timestamp_unit).
    pub fn with_timestamp_unit(mut self, timestamp_unit: TimestampUnit) -> Self {
        self.timestamp_unit = timestamp_unit;
        self
    }

    /// Sets [`journal`](Self::journal).
    pub fn with_journal(mut self, journal: bool) -> Self {
        self.journal = journal;
        self
    }

    /// Sets [`journal_limit`](Self::journal_limit).
    pub fn with_journal_limit(mut self, journal_limit: u64) -> Self {
        self.journal_limit = journal_limit;
        self
    }

    /// Sets [`encode_thread`](Self::encode_thread).
    pub fn with_encode_thread(mut self, encode_thread: bool) -> Self {
        self.encode_thread = encode_thread;
        self
    }

    /// Sets [`on_recovery`](Self::on_recovery).
    pub fn with_on_recovery(
        mut self,
        on_recovery: impl Fn(&JournalRecovery) + Send + Sync + 'static,
    ) -> Self {
        self.on_recovery = Some(Arc::new(on_recovery));
        self
    }

    /// Builds the sink: [`ParquetSink::with_config`].
    ///
    /// # Errors
    /// As [`ParquetSink::with_config`].
    pub fn build(self) -> Result<ParquetSink, Error> {
        ParquetSink::with_config(self)
    }

    /// The sink's name: [`name`](Self::name), or `parquet:<path>`.
    fn sink_name(&self) -> String {
        self.name
            .clone()
            .unwrap_or_else(|| format!("parquet:{}", self.path.display()))
    }

    /// Checks every option; the namer of a valid `path`.
    fn validate(&self) -> Result<Namer, Error> {
        let sink = self.sink_name();
        let bad = |field, reason: String| Error::Config {
            field,
            reason: format!("{reason} (ParquetSinkConfig of sink `{sink}`)"),
        };
        let namer = Namer::new(&self.path).map_err(|reason| bad("path", reason))?;
        rotation::validate(self.rotation, self.max_bytes)
            .map_err(|(field, reason)| bad(field, reason))?;
        if self.row_group_rows == 0 {
            return Err(bad("row_group_rows", "must be at least 1".into()));
        }
        if let ParquetCompression::Zstd(level) = self.compression {
            ZstdLevel::try_new(level).map_err(|e| bad("compression", e.to_string()))?;
        }
        Ok(namer)
    }
}

/// What recovering one leftover journal (or unfinished file) of a crashed Parquet sink did: the
/// Parquet file rebuilt from its journal, and how. Not to be confused with the file sink's
/// [`TailRecovery`](crate::sinks::file::TailRecovery), which trims a torn tail off a JSON-lines
/// file and keeps the rest in place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JournalRecovery {
    /// The journal found (or, for [`RecoveryOutcome::NoJournal`], the unfinished file).
    pub journal: PathBuf,
    /// The finished Parquet file holding the journal's rows, if there is one.
    pub file: Option<PathBuf>,
    /// Rows written into `file` by the recovery.
    pub rows: u64,
    /// What happened.
    pub outcome: RecoveryOutcome,
    /// Set when the journal's committed part did not read to its end (a damaged file): the rows
    /// before the damage were recovered.
    pub damage: Option<String>,
}

impl JournalRecovery {
    /// A recovery of `journal` (or unfinished file) that failed for `reason`.
    fn failed(journal: PathBuf, reason: String) -> JournalRecovery {
        JournalRecovery {
            journal,
            file: None,
            rows: 0,
            outcome: RecoveryOutcome::Failed(reason),
            damage: None,
        }
    }
}

/// How a recovery ended.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RecoveryOutcome {
    /// The journal's complete batches were written to a new Parquet file; journal and
    /// `.inprogress` file removed.
    Rebuilt,
    /// The Parquet file had been finished before the crash (the journal was not yet deleted);
    /// journal and `.inprogress` file removed.
    AlreadyFinished,
    /// The journal held no complete batch; journal and `.inprogress` file removed.
    Empty,
    /// An `.inprogress` file without a journal (journal off) whose writer is gone (no sink holds
    /// its lock): it cannot be read and is left in place. One that is empty (its writer died
    /// before anything reached the disk) is removed without a report.
    NoJournal,
    /// JournalRecovery failed; the files are left in place. The reason names the path.
    Failed(String),
}

/// A file being written.
struct OpenFile {
    name: FileName,
    /// `None` while the encoder thread has it.
    writer: Option<ArrowWriter<File>>,
    journal: Option<Journal>,
    /// Journal off: the `.inprogress` file's lock, held until the finished file is renamed.
    lock: Option<InProgressLock>,
    /// When time rotation finishes the file (ns since the epoch), if it does.
    rotate_at_ns: Option<i64>,
}

/// A file whose footer is written but whose rename failed; retried before anything else.
struct Unrenamed {
    from: PathBuf,
    to: FileName,
    journal: Option<Journal>,
    /// As [`OpenFile::lock`]: let go once `from` is renamed.
    lock: Option<InProgressLock>,
}

/// Writes batches as Parquet files. See the [module docs](self).
pub struct ParquetSink {
    name: String,
    namer: Namer,
    rotation: Rotation,
    max_bytes: Option<u64>,
    max_files: Option<usize>,
    /// The open file's size estimate after the previous batch (see `maybe_rotate_by_size`).
    last_size_estimate: u64,
    journal_enabled: bool,
    journal_limit: u64,
    clock: Arc<dyn Clock>,
    on_recovery: Option<RecoveryHook>,
    props: WriterProperties,
    columns: ColumnBuffers,
    encode_thread: bool,
    /// Started by the first batch when `encode_thread` is on.
    encoder: Option<EncoderThread>,
    open: Option<OpenFile>,
    unrenamed: Option<Unrenamed>,
    /// The journal of the last finished file, emptied, kept for the next file (see
    /// `Journal::recycle`); deleted by `close`.
    spare_journal: Option<Journal>,
    /// The first error from finishing a file after a batch was already written; reported by the
    /// next `flush` or `close` (a later batch has nothing to do with it, see `settle_for_write`).
    deferred: Option<SinkError>,
    recoveries: Vec<JournalRecovery>,
    files_finished: u64,
}

impl fmt::Debug for ParquetSink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ParquetSink")
            .field("name", &self.name)
            .field("open", &self.open.as_ref().map(|o| o.name.in_progress()))
            .field("files_finished", &self.files_finished)
            .finish_non_exhaustive()
    }
}

impl ParquetSink {
    /// A sink writing files named after `path` with the defaults of [`ParquetSinkConfig::new`]:
    /// no rotation, no retention, journal and encoder thread on.
    ///
    /// # Errors
    /// As [`with_config`](Self::with_config).
    pub fn new(path: impl Into<PathBuf>) -> Result<ParquetSink, Error> {
        ParquetSink::with_config(ParquetSinkConfig::new(path))
    }

    /// A sink with the given options. Creates the directory if needed, recovers any journal a
    /// crashed predecessor left for this `path` (see [`recoveries`](Self::recoveries)) and
    /// applies retention. The first file is opened by the first batch.
    ///
    /// Another sink may still be writing to this `path`, in this process or another (a
    /// restarted service whose old instance has not exited yet). Its journal is locked (`flock`)
    /// for as long as it is open, and is left alone: not recovered, not reported (nothing went
    /// wrong with it), and its `.inprogress` file untouched. With the journal off, its
    /// `.inprogress` file is locked and left alone the same way. The two sinks' files never share
    /// a name; this sink's names sort after the names in the directory when it started.
    ///
    /// # Errors
    /// [`Error::Config`] naming the field and the sink for an option out of range (a `path`
    /// without a file-name prefix, a zero `max_bytes` or `row_group_rows`, a rotation period
    /// under [`MIN_ROTATION_PERIOD`](crate::sinks::MIN_ROTATION_PERIOD), a zstd level out of
    /// range); [`Error::Io`] naming the directory or file if it cannot be created, listed or
    /// (retention) deleted.
    pub fn with_config(config: ParquetSinkConfig) -> Result<ParquetSink, Error> {
        let namer = config.validate()?;
        fs::create_dir_all(namer.dir()).map_err(|e| {
            Error::io(
                format!("creating Parquet directory {}", namer.dir().display()),
                e,
            )
        })?;
        let mut sink = ParquetSink {
            name: config.sink_name(),
            namer,
            rotation: config.rotation,
            max_bytes: config.max_bytes,
            max_files: config.max_files,
            last_size_estimate: 0,
            journal_enabled: config.journal,
            journal_limit: config.journal_limit,
            clock: config.clock,
            on_recovery: config.on_recovery,
            props: writer_properties(config.compression, config.row_group_rows),
            columns: ColumnBuffers::new(config.timestamp_unit),
            encode_thread: config.encode_thread,
            encoder: None,
            open: None,
            unrenamed: None,
            spare_journal: None,
            deferred: None,
            recoveries: Vec::new(),
            files_finished: 0,
        };
        sink.recover_leftovers()?;
        sink.enforce_retention().map_err(|e| match e {
            SinkError::Io { context, source } => Error::Io { context, source },
            other => Error::Sink {
                sink: sink.name.clone(),
                source: other,
            },
        })?;
        Ok(sink)
    }

    /// Every recovery this sink performed: those of [`with_config`](Self::with_config) (leftovers of a crashed
    /// predecessor) and rebuilds after write errors.
    pub fn recoveries(&self) -> &[JournalRecovery] {
        &self.recoveries
    }

    /// Rows written by recoveries, in total.
    pub fn recovered_rows(&self) -> u64 {
        self.recoveries.iter().map(|r| r.rows).sum()
    }

    /// Files finished (footer written and renamed) so far.
    pub fn files_finished(&self) -> u64 {
        self.files_finished
    }

    /// The `.inprogress` path of the file being written, if one is open.
    pub fn open_file(&self) -> Option<PathBuf> {
        self.open.as_ref().map(|o| o.name.in_progress())
    }

    /// Column buffers that could not be reused because Arrow still held them (allocation
    /// accounting; stays 0 in steady state).
    pub fn buffer_reuse_misses(&self) -> u64 {
        self.columns.lost
    }

    fn report(&mut self, recovery: JournalRecovery) {
        if let Some(hook) = &self.on_recovery {
            hook(&recovery);
        }
        self.recoveries.push(recovery);
    }

    // ---- recovery ------------------------------------------------------------------------

    /// Recovers every leftover journal of this prefix, oldest first.
    fn recover_leftovers(&mut self) -> Result<(), Error> {
        let dir = self.namer.dir().to_path_buf();
        let found = self
            .namer
            .scan()
            .map_err(|e| Error::io(format!("listing Parquet directory {}", dir.display()), e))?;
        let mut stems: BTreeMap<String, (FileName, Vec<&'static str>)> = BTreeMap::new();
        for (name, suffix) in found {
            stems
                .entry(name.stem.clone())
                .or_insert_with(|| (name, Vec::new()))
                .1
                .push(suffix);
        }
        for (_, (name, suffixes)) in stems {
            let has = |s: &str| suffixes.contains(&s);
            // A sink creates a file's journal before the file, so an `.inprogress` file listed
            // without one may be a live sink's whose journal was renamed into place while the
            // scan ran: look again.
            let journaled = has(files::JOURNAL)
                || (has(files::IN_PROGRESS) && fs::symlink_metadata(name.journal()).is_ok());
            let recovery = if journaled {
                match journal::claim(&name.journal()) {
                    Ok(Some(lock)) => self.recover_journal(&name, lock),
                    // A live sink's (it holds the lock), or finished by it since the scan.
                    Ok(None) => continue,
                    Err(e) => {
                        let journal = name.journal();
                        let reason = format!("journal {}: {e}", journal.display());
                        JournalRecovery::failed(journal, reason)
                    }
                }
            } else if has(files::IN_PROGRESS) {
                match files::claim_in_progress(&name.in_progress()) {
                    Ok(Some(lock)) => match recover_orphan(&name, lock) {
                        Some(recovery) => recovery,
                        None => continue, // empty, removed
                    },
                    // A live sink's (journal off, it holds the lock), or finished since the scan.
                    Ok(None) => continue,
                    Err(e) => {
                        let file = name.in_progress();
                        let reason = format!("{}: {e}", file.display());
                        JournalRecovery::failed(file, reason)
                    }
                }
            } else {
                continue;
            };
            self.report(recovery);
        }
        Ok(())
    }

    /// Turns the journal of `name`, held under `lock` until done, into a finished file (see
    /// [`RecoveryOutcome`]).
    fn recover_journal(&mut self, name: &FileName, lock: JournalLock) -> JournalRecovery {
        let journal = name.journal();
        debug_assert_eq!(lock.path(), journal);
        let failed = |reason: String| JournalRecovery::failed(journal.clone(), reason);
        let finished = name.finished();
        let remove_leftovers = || -> Result<(), String> {
            remove_if_exists(&name.in_progress())?;
            remove_if_exists(&journal)
        };
        if files::is_complete_parquet(&finished) {
            // Finished and renamed, then killed before the journal was deleted.
            return match remove_leftovers() {
                Ok(()) => JournalRecovery {
                    journal: journal.clone(),
                    file: Some(finished),
                    rows: 0,
                    outcome: RecoveryOutcome::AlreadyFinished,
                    damage: None,
                },
                Err(e) => failed(e),
            };
        }
        let committed = match journal::read_committed(&lock) {
            Ok(committed) => committed,
            Err(e) => return failed(format!("journal {}: {e}", journal.display())),
        };
        let rows: u64 = committed.batches.iter().map(|b| b.num_rows() as u64).sum();
        let schema = match &committed.schema {
            Some(schema) if rows > 0 => schema.clone(),
            _ => {
                return match remove_leftovers() {
                    Ok(()) => JournalRecovery {
                        journal: journal.clone(),
                        file: None,
                        rows: 0,
                        outcome: RecoveryOutcome::Empty,
                        damage: committed.damaged.clone(),
                    },
                    Err(e) => failed(e),
                }
            }
        };
        // A finished name that exists but does not read is not ours to overwrite.
        let target = if fs::symlink_metadata(&finished).is_ok() {
            self.namer.next(self.clock.now())
        } else {
            name.clone()
        };
        let written = (|| -> Result<(), String> {
            let temp = name.in_progress();
            let file =
                File::create(&temp).map_err(|e| format!("creating {}: {e}", temp.display()))?;
            let mut writer = ArrowWriter::try_new(file, schema, Some(self.props.clone()))
                .map_err(|e| format!("writing {}: {e}", temp.display()))?;
            for batch in &committed.batches {
                writer
                    .write(batch)
                    .map_err(|e| format!("writing {}: {e}", temp.display()))?;
            }
            writer
                .close()
                .map_err(|e| format!("writing the footer of {}: {e}", temp.display()))?;
            crate::os::rename_no_replace(&temp, &target.finished()).map_err(|e| {
                format!(
                    "renaming {} to {}: {e}",
                    temp.display(),
                    target.finished().display()
                )
            })?;
            remove_if_exists(&journal)
        })();
        match written {
            Ok(()) => JournalRecovery {
                journal: journal.clone(),
                file: Some(target.finished()),
                rows,
                outcome: RecoveryOutcome::Rebuilt,
                damage: committed.damaged.clone(),
            },
            Err(e) => failed(e),
        }
    }

    // ---- the file lifecycle ---------------------------------------------------------------

    fn open_new_file(&mut self) -> Result<(), SinkError> {
        let dir = self.namer.dir().to_path_buf();
        fs::create_dir_all(&dir).map_err(|e| {
            SinkError::io(format!("creating Parquet directory {}", dir.display()), e)
        })?;
        let opened_at = self.clock.now();
        let rotate_at_ns = self.rotation.next_boundary(system_time_to_ns(opened_at));
        // `next` skips names in use, but another sink on this `path` may take the same name
        // at the same moment: whichever creates the journal (or, without one, the `.inprogress`
        // file) first has it, and the other moves on to the next name.
        let mut tries = 0;
        let (name, journal, file, lock) = loop {
            tries += 1;
            let name = self.namer.next(opened_at);
            // The journal first: a crash between the two leaves a journal (recovered as empty),
            // never an `.inprogress` file without one.
            let journal = if self.journal_enabled {
                match self.open_journal(&name) {
                    Ok(journal) => Some(journal),
                    Err(e) if is_taken(&e) && tries < NAME_TRIES => continue,
                    Err(e) => return Err(e),
                }
            } else {
                None
            };
            let temp = name.in_progress();
            // Without a journal the `.inprogress` file itself is locked (see `files`).
            let created = if journal.is_some() {
                OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .open(&temp)
                    .map(|f| (f, None))
            } else {
                files::create_in_progress(&temp).map(|(file, lock)| (file, Some(lock)))
            };
            match created {
                Ok((file, lock)) => break (name, journal, file, lock),
                Err(e) => {
                    if let Some(journal) = journal {
                        let _ = journal.delete();
                    }
                    if e.kind() != io::ErrorKind::AlreadyExists || tries >= NAME_TRIES {
                        return Err(SinkError::io(format!("creating {}", temp.display()), e));
                    }
                }
            }
        };
        let temp = name.in_progress();
        let writer = match ArrowWriter::try_new(
            file,
            self.columns.schema().clone(),
            Some(self.props.clone()),
        ) {
            Ok(writer) => writer,
            Err(e) => {
                let _ = fs::remove_file(&temp);
                drop(lock); // after the removal: no other sink claims it in between
                if let Some(journal) = journal {
                    let _ = journal.delete();
                }
                return Err(parquet_error(format!("creating {}", temp.display()), e));
            }
        };
        self.open = Some(OpenFile {
            name,
            writer: Some(writer),
            journal,
            lock,
            rotate_at_ns,
        });
        Ok(())
    }

    /// The journal of a new file `name`: the spare one renamed, or a new one. An error of kind
    /// `AlreadyExists` means the name is taken (the spare, if any, is kept).
    fn open_journal(&mut self, name: &FileName) -> Result<Journal, SinkError> {
        let Some(mut spare) = self.spare_journal.take() else {
            return Journal::create(name.journal(), self.columns.schema());
        };
        let path = name.journal();
        if let Err(e) = spare.rename(path.clone()) {
            let context = format!("renaming a finished file's journal to {}", path.display());
            if e.kind() == io::ErrorKind::AlreadyExists {
                self.spare_journal = Some(spare);
            } else {
                let _ = spare.delete();
            }
            return Err(SinkError::io(context, e));
        }
        spare.recycle(self.columns.schema())
    }

    /// Reports a deferred error (for `flush` and `close`), then does what a write needs first.
    fn settle(&mut self) -> Result<(), SinkError> {
        if let Some(error) = self.deferred.take() {
            return Err(error);
        }
        self.settle_for_write()
    }

    /// Brings back a failed encoder thread's writer (rebuilding its file) and retries a failed
    /// rename. Until they succeed nothing else is written, so a batch that fails here left no
    /// output. A deferred error waits for the next `flush`: it belongs to an earlier batch, which
    /// was written, and failing this one for it would only make the worker retry it (or lose it
    /// under `max_retries = 0`).
    fn settle_for_write(&mut self) -> Result<(), SinkError> {
        if self.encoder.as_ref().is_some_and(|e| e.failed()) {
            self.writer_home()?;
        }
        if let Some(pending) = self.unrenamed.take() {
            self.rename_finished(pending)?;
        }
        Ok(())
    }

    fn rotation_due_by_time(&self) -> bool {
        let Some(open) = &self.open else { return false };
        open.rotate_at_ns
            .is_some_and(|at| system_time_to_ns(self.clock.now()) >= at)
    }

    /// Deletes the oldest finished files of this path until at most `max_files` remain.
    fn enforce_retention(&mut self) -> Result<(), SinkError> {
        let Some(keep) = self.max_files else {
            return Ok(());
        };
        let dir = self.namer.dir().to_path_buf();
        let finished = self.namer.finished_files().map_err(|e| {
            SinkError::io(format!("listing Parquet directory {}", dir.display()), e)
        })?;
        let excess = finished.len().saturating_sub(keep);
        for path in &finished[..excess] {
            match fs::remove_file(path) {
                Err(e) if e.kind() != io::ErrorKind::NotFound => {
                    return Err(SinkError::io(
                        format!("deleting old Parquet file {}", path.display()),
                        e,
                    ))
                }
                _ => {}
            }
        }
        Ok(())
    }

    fn delete_spare_journal(&mut self) -> Result<(), SinkError> {
        match self.spare_journal.take() {
            Some(journal) => journal.delete(),
            None => Ok(()),
        }
    }

    /// Writes the footer of the open file, renames it and empties its journal for the next.
    fn finish_open(&mut self) -> Result<(), SinkError> {
        self.writer_home()?;
        let Some(open) = self.open.take() else {
            return Ok(());
        };
        let OpenFile {
            name,
            writer,
            journal,
            lock,
            ..
        } = open;
        let mut writer = writer.expect("the writer is home");
        let temp = name.in_progress();
        if let Err(e) = writer.finish() {
            drop(writer);
            return Err(self.salvage(
                name,
                journal,
                parquet_error(format!("writing the footer of {}", temp.display()), e),
            ));
        }
        drop(writer);
        self.rename_finished(Unrenamed {
            from: temp,
            to: name,
            journal,
            lock,
        })
    }

    fn rename_finished(&mut self, pending: Unrenamed) -> Result<(), SinkError> {
        let mut to = pending.to.clone();
        // Someone else took the name meanwhile: never overwrite, take the next one.
        for _ in 0..NAME_TRIES {
            match crate::os::rename_no_replace(&pending.from, &to.finished()) {
                Ok(()) => {
                    self.files_finished += 1;
                    if let Some(mut journal) = pending.journal {
                        journal.reset();
                        self.spare_journal = Some(journal);
                    }
                    // Only now that the `.inprogress` name is gone: no other sink claims the file
                    // while it is being finished.
                    drop(pending.lock);
                    // The file is finished: a failure to delete old ones is reported by the next
                    // flush or close, not as this call's.
                    if let Err(e) = self.enforce_retention() {
                        self.deferred.get_or_insert(e);
                    }
                    return Ok(());
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                    to = self.namer.next(self.clock.now());
                }
                Err(e) => {
                    let context = format!(
                        "renaming {} to {}",
                        pending.from.display(),
                        to.finished().display()
                    );
                    self.unrenamed = Some(pending);
                    return Err(SinkError::io(context, e));
                }
            }
        }
        let context = format!(
            "renaming {}: every name tried exists",
            pending.from.display()
        );
        self.unrenamed = Some(pending);
        Err(SinkError::io(
            context,
            io::Error::from(io::ErrorKind::AlreadyExists),
        ))
    }

    /// The open file's writer failed, so the file is unusable: rebuild it from the journal, which
    /// holds exactly the batches the file had accepted. Returns the error to report.
    fn salvage(&mut self, name: FileName, journal: Option<Journal>, cause: SinkError) -> SinkError {
        let Some(journal) = journal else {
            return SinkError::Other(
                format!(
                    "{cause}; the journal is off, so {} is left unfinished",
                    name.in_progress().display()
                )
                .into(),
            );
        };
        let lock = journal.abandon();
        let path = lock.path().to_path_buf();
        let recovery = self.recover_journal(&name, lock);
        let outcome = recovery.outcome.clone();
        self.report(recovery);
        match outcome {
            RecoveryOutcome::Failed(reason) => SinkError::Other(
                format!(
                    "{cause}; rebuilding from journal {} also failed ({reason}): it is left for \
                     the next sink built on this path",
                    path.display()
                )
                .into(),
            ),
            _ => cause,
        }
    }

    /// Ends the open file's row group.
    fn end_row_group(&mut self) -> Result<(), SinkError> {
        self.writer_home()?;
        let Some(open) = self.open.as_mut() else {
            return Ok(());
        };
        let writer = open.writer.as_mut().expect("the writer is home");
        if let Err(e) = writer.flush() {
            let open = self.open.take().expect("checked above");
            let context = format!(
                "writing a row group to {}",
                open.name.in_progress().display()
            );
            // Dropped before the rebuild: dropping flushes the writer's buffer into the file,
            // which the rebuild then truncates; after it, into the rebuilt file.
            drop(open.writer);
            return Err(self.salvage(open.name, open.journal, parquet_error(context, e)));
        }
        Ok(())
    }

    /// After a write: finish the file if it reached `max_bytes` (see its docs) or its journal
    /// reached `journal_limit`.
    fn maybe_rotate_by_size(&mut self) -> Result<(), SinkError> {
        let Some(open) = self.open.as_mut() else {
            return Ok(());
        };
        let journal_full = open
            .journal
            .as_ref()
            .is_some_and(|j| self.journal_limit > 0 && j.committed_bytes() >= self.journal_limit);
        if journal_full {
            return self.finish_open();
        }
        let Some(max_bytes) = self.max_bytes else {
            return Ok(());
        };
        // The writer's estimate of the open row group counts its open pages uncompressed, so it
        // is an upper bound: a file never passes `max_bytes` by more than one batch. Ending the
        // row group makes the size exact; a file that then turns out smaller stays open, and
        // the next crossing ends another (smaller) row group.
        let estimate = match (&open.writer, self.encoder.as_mut()) {
            (Some(writer), _) => (writer.bytes_written() + writer.in_progress_size()) as u64,
            // Batches still queued count with their Arrow size, more than they will take.
            (None, Some(encoder)) => encoder.size_estimate(),
            (None, None) => unreachable!("a writer away means an encoder thread"),
        };
        // Look one batch ahead (by the last batch's growth), so a file ends before the batch
        // that would take it past `max_bytes`, not after: with batches an eighth of
        // `max_bytes` the overshoot otherwise reached 10.06% (tests/parquet_size_rotation.rs).
        let growth = estimate.saturating_sub(self.last_size_estimate);
        self.last_size_estimate = estimate;
        if estimate.saturating_add(growth) < max_bytes {
            return Ok(());
        }
        self.end_row_group()?;
        let Some(open) = self.open.as_mut() else {
            return Ok(());
        };
        let exact = open
            .writer
            .as_ref()
            .expect("end_row_group brought the writer home")
            .bytes_written() as u64;
        self.last_size_estimate = exact;
        if exact * 100 >= max_bytes.saturating_mul(ROTATE_SIZE_FLOOR_PERCENT) {
            self.last_size_estimate = 0;
            self.finish_open()?;
        }
        Ok(())
    }

    fn write_open(&mut self, batch: &Batch) -> Result<(), SinkError> {
        self.reclaim_returned();
        let (record_batch, lent) = self.columns.build(batch).map_err(|e| {
            SinkError::Encode(format!("sink `{}`: building Arrow arrays: {e}", self.name))
        })?;
        let open = self.open.as_mut().expect("a file is open");
        if let Some(journal) = open.journal.as_mut() {
            if let Err(error) = journal.append(&record_batch) {
                drop(record_batch);
                self.columns.reclaim(lent);
                // The Parquet file did not get the batch and is fine; the journal may hold a
                // partial message, so end this file here and let the retry start a new one.
                if let Err(finish) = self.finish_open() {
                    self.deferred.get_or_insert(finish);
                }
                return Err(error);
            }
        }
        if self.encode_thread {
            return self.queue(record_batch, lent);
        }
        let writer = open
            .writer
            .as_mut()
            .expect("without an encoder thread the writer is home");
        let result = writer.write(&record_batch).map_err(|e| {
            parquet_error(format!("writing {}", open.name.in_progress().display()), e)
        });
        drop(record_batch);
        self.columns.reclaim(lent);
        let Err(error) = result else { return Ok(()) };
        // The Parquet writer may hold part of the batch: the file is lost. Take the batch out of
        // the journal and rebuild the file from it; the retry writes the batch to a new file.
        let open = self.open.take().expect("a file is open");
        let mut journal = open.journal;
        if let Some(journal) = journal.as_mut() {
            journal.rollback_last();
        }
        drop(open.writer);
        Err(self.salvage(open.name, journal, error))
    }

    /// Hands a built (and journaled) batch to the encoder thread, starting the thread and giving
    /// it the open file's writer if needed.
    fn queue(&mut self, record_batch: RecordBatch, lent: schema::Lent) -> Result<(), SinkError> {
        if self.encoder.is_none() {
            match EncoderThread::spawn(&self.name) {
                Ok(encoder) => self.encoder = Some(encoder),
                Err(e) => {
                    drop(record_batch);
                    self.columns.reclaim(lent);
                    return Err(self.drop_last_batch(SinkError::io(
                        format!("starting the encoder thread of sink `{}`", self.name),
                        e,
                    )));
                }
            }
        }
        let encoder = self.encoder.as_mut().expect("started above");
        let open = self.open.as_mut().expect("a file is open");
        if let Some(writer) = open.writer.take() {
            if let Err(writer) = encoder.start(writer) {
                open.writer = Some(*writer);
                self.encoder = None;
                drop(record_batch);
                self.columns.reclaim(lent);
                return Err(self.drop_last_batch(self.thread_gone()));
            }
        }
        let estimate = lent.bytes;
        if encoder.write(record_batch, lent, estimate).is_err() {
            // The thread is gone and the writer with it: rebuild the file from the journal
            // without this batch, which the retry writes to a new file.
            self.encoder = None;
            let error = self.thread_gone();
            let open = self.open.take().expect("a file is open");
            let mut journal = open.journal;
            if let Some(journal) = journal.as_mut() {
                journal.rollback_last();
            }
            return Err(self.salvage(open.name, journal, error));
        }
        Ok(())
    }

    /// The batch just journaled was not written: take it out of the journal so the file stays
    /// consistent, end the file (the journal's stream still holds the batch past its commit,
    /// and the next append would commit it again), and return `error`; the retry writes the
    /// batch to a new file.
    fn drop_last_batch(&mut self, error: SinkError) -> SinkError {
        if let Some(journal) = self.open.as_mut().and_then(|o| o.journal.as_mut()) {
            journal.rollback_last();
        }
        if let Err(finish) = self.finish_open() {
            self.deferred.get_or_insert(finish);
        }
        error
    }

    fn thread_gone(&self) -> SinkError {
        SinkError::Other(format!("the encoder thread of sink `{}` ended", self.name).into())
    }

    /// Reuses the column buffers the encoder thread is done with.
    fn reclaim_returned(&mut self) {
        if let Some(encoder) = self.encoder.as_mut() {
            for lent in encoder.returned() {
                self.columns.reclaim(lent);
            }
        }
    }

    /// Brings the open file's writer back from the encoder thread, waiting for the batches queued
    /// there. If a write failed there, the file is unusable: it is rebuilt from the journal,
    /// which holds every batch queued (all of them accepted by `write_batch`, so none is
    /// retried), and the error is returned.
    fn writer_home(&mut self) -> Result<(), SinkError> {
        let Some(open) = self.open.as_mut() else {
            return Ok(());
        };
        if open.writer.is_some() {
            return Ok(());
        }
        let encoder = self
            .encoder
            .as_mut()
            .expect("a writer away means an encoder thread");
        let cause = match encoder.take_back() {
            Ok((Some(writer), None)) => {
                open.writer = Some(writer);
                self.reclaim_returned();
                return Ok(());
            }
            Ok((_, Some(e))) => {
                parquet_error(format!("writing {}", open.name.in_progress().display()), e)
            }
            Ok((None, None)) | Err(encoder::ThreadGone) => {
                self.encoder = None;
                self.thread_gone()
            }
        };
        self.reclaim_returned();
        let open = self.open.take().expect("checked above");
        Err(self.salvage(open.name, open.journal, cause))
    }
}

impl Sink for ParquetSink {
    fn name(&self) -> &str {
        &self.name
    }

    fn write_batch(&mut self, batch: &Batch) -> Result<(), SinkError> {
        if batch.is_empty() {
            return Ok(());
        }
        self.settle_for_write()?;
        if self.rotation_due_by_time() {
            self.finish_open()?;
        }
        if self.open.is_none() {
            self.open_new_file()?;
        }
        self.write_open(batch)?;
        // The batch is written (and journaled): a failure to finish the file now must not make
        // the worker retry it, so it is reported by the next flush instead.
        if let Err(error) = self.maybe_rotate_by_size() {
            self.deferred.get_or_insert(error);
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<(), SinkError> {
        self.settle()?;
        if self.rotation_due_by_time() {
            return self.finish_open();
        }
        self.end_row_group()?;
        let Some(open) = self.open.as_mut() else {
            return Ok(());
        };
        let writer = open
            .writer
            .as_mut()
            .expect("end_row_group brought the writer home");
        if let Err(e) = writer.sync() {
            let open = self.open.take().expect("checked above");
            let context = format!("writing {}", open.name.in_progress().display());
            // As in `end_row_group`: the writer's buffer must not land in the rebuilt file.
            drop(open.writer);
            return Err(self.salvage(open.name, open.journal, SinkError::io(context, e)));
        }
        Ok(())
    }

    fn close(&mut self) -> Result<(), SinkError> {
        let settled = self.settle();
        let finished = self.finish_open();
        let spare = self.delete_spare_journal();
        // Finishing the file may have deferred a retention error: nothing flushes after close.
        let deferred = self.deferred.take().map_or(Ok(()), Err);
        settled.and(finished).and(spare).and(deferred)
    }
}

impl Drop for ParquetSink {
    fn drop(&mut self) {
        // `close` normally ran; if the sink is dropped without it, still finish the open file.
        // Errors have nowhere to go here; the journal stays behind if finishing fails.
        let _ = self.finish_open();
        let _ = self.delete_spare_journal();
    }
}

/// Parquet writer settings shared by every file of a sink and by recovery.
fn writer_properties(compression: ParquetCompression, row_group_rows: usize) -> WriterProperties {
    let compression = match compression {
        ParquetCompression::Zstd(level) => {
            Compression::ZSTD(ZstdLevel::try_new(level).unwrap_or_default())
        }
        ParquetCompression::Snappy => Compression::SNAPPY,
        ParquetCompression::Lz4 => Compression::LZ4_RAW,
        ParquetCompression::Uncompressed => Compression::UNCOMPRESSED,
    };
    let col = |name: &str| ColumnPath::from(name);
    WriterProperties::builder()
        .set_compression(compression)
        .set_max_row_group_row_count(Some(row_group_rows))
        .set_data_page_size_limit(DATA_PAGE_BYTES)
        // Timestamps rise by small steps: delta encoding packs them into about 1.4 bytes each
        // (against 2.1 for plain + zstd), and compressing that gains nothing, so it is skipped.
        // NB: throwaway harness on benches/parquet_sink.rs's workload: 10.1 instead of 10.7
        // bytes per record and less CPU per record than plain + zstd(1); DuckDB and pyarrow read
        // it (checked with the CI venv's versions).
        .set_column_encoding(col("timestamp"), Encoding::DELTA_BINARY_PACKED)
        .set_column_compression(col("timestamp"), Compression::UNCOMPRESSED)
        // Dictionaries where values repeat: levels (always), thread ids, and messages (usually
        // a fixed set of templates; the writer falls back to plain pages when they do not).
        // Timestamps and field objects are nearly unique, so a dictionary only costs.
        .set_dictionary_enabled(true)
        .set_column_dictionary_enabled(col("timestamp"), false)
        .set_column_dictionary_enabled(col("fields_json"), false)
        // Page statistics (and so the column index) on timestamp let readers skip row groups
        // and pages by time. No other column keeps min/max: of free text it is of little use,
        // and of `level` and `thread_id` nearly every row group holds the whole range, while the
        // writer pays a comparison per value (a byte-string comparison per row for `level`).
        // NB: throwaway harness on benches/parquet_sink.rs's workload (LZ4, calling thread only,
        // rounds interleaved, two runs at load 3.9-4.2): 5-9% less CPU per record without the
        // `level` and `thread_id` statistics (best round 226.6-232.1 against 238.4-250.1 ns).
        .set_statistics_enabled(EnabledStatistics::None)
        .set_column_statistics_enabled(col("timestamp"), EnabledStatistics::Page)
        .set_key_value_metadata(Some(
            schema::key_value_metadata()
                .into_iter()
                .map(|(k, v)| KeyValue::new(k, v))
                .collect(),
        ))
        .build()
}

/// Names tried for a new file before giving up (see `open_new_file`), as for a rename.
const NAME_TRIES: usize = 16;

/// True for the error of a file name another sink took first.
fn is_taken(error: &SinkError) -> bool {
    error.io_kind() == Some(io::ErrorKind::AlreadyExists)
}

/// An I/O error inside a Parquet error becomes [`SinkError::Io`]; anything else `Encode`.
fn parquet_error(context: String, error: ParquetError) -> SinkError {
    match error {
        ParquetError::External(inner) => match inner.downcast::<io::Error>() {
            Ok(io_error) => SinkError::io(context, *io_error),
            Err(other) => SinkError::Encode(format!("{context}: {other}")),
        },
        other => SinkError::Encode(format!("{context}: {other}")),
    }
}

fn remove_if_exists(path: &Path) -> Result<(), String> {
    match fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(format!("removing {}: {e}", path.display())),
    }
}

/// An `.inprogress` file with no journal beside it, claimed (`lock`): its writer is gone. `None`
/// for an empty one, removed without a report.
fn recover_orphan(name: &FileName, lock: InProgressLock) -> Option<JournalRecovery> {
    let temp = name.in_progress();
    let finished = name.finished();
    // Killed between the two steps of the no-replace rename: both names are the same file.
    if crate::os::same_file(&temp, &finished) {
        let outcome = match fs::remove_file(&temp) {
            Ok(()) => RecoveryOutcome::AlreadyFinished,
            Err(e) => RecoveryOutcome::Failed(format!("removing {}: {e}", temp.display())),
        };
        return Some(JournalRecovery {
            journal: temp,
            file: Some(finished),
            rows: 0,
            outcome,
            damage: None,
        });
    }
    // Nothing ever reached the disk: a writer that died before its first flush, or a live sink
    // that created the file an instant ago and has yet to lock it. The two look the same, so it
    // is removed (under the lock: that sink then finds its file claimed, takes another name and
    // never writes to this one) and not reported, as there is nothing to tell about it.
    let outcome = match lock.len() {
        Ok(0) => match fs::remove_file(&temp) {
            Ok(()) => return None,
            Err(e) => RecoveryOutcome::Failed(format!("removing {}: {e}", temp.display())),
        },
        Ok(_) => RecoveryOutcome::NoJournal,
        Err(e) => RecoveryOutcome::Failed(format!("reading {}: {e}", temp.display())),
    };
    drop(lock);
    Some(JournalRecovery {
        journal: temp,
        file: None,
        rows: 0,
        outcome,
        damage: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::{Field, Level};
    use parquet::file::reader::{FileReader, SerializedFileReader};

    fn batch(first: u64, n: u64) -> Batch {
        let mut batch = Batch::new();
        for seq in first..first + n {
            let ts = 1_795_780_800_000_000_000 + seq as i64;
            batch
                .push(ts, Level::Info, 1, "m", &[Field::new("seq", seq)])
                .unwrap();
        }
        batch
    }

    /// The encoder thread could not be started (`queue`): the batch just journaled is taken
    /// back, and the worker's retry of it must not leave it in the journal twice.
    #[test]
    fn a_batch_taken_back_from_the_journal_is_recovered_once() {
        let dir = tempfile::tempdir().unwrap();
        let config = ParquetSinkConfig::new(dir.path().join("app")).with_encode_thread(false);
        let mut sink = ParquetSink::with_config(config.clone()).unwrap();
        sink.write_batch(&batch(0, 10)).unwrap();
        // What `queue` does when the thread cannot start: journaled, then taken back.
        let second = batch(10, 10);
        let (record_batch, lent) = sink.columns.build(&second).unwrap();
        let journal = sink.open.as_mut().unwrap().journal.as_mut().unwrap();
        journal.append(&record_batch).unwrap();
        drop(record_batch);
        sink.columns.reclaim(lent);
        let _ = sink.drop_last_batch(SinkError::Other("the thread did not start".into()));
        // The worker's retry, then a crash: the journal is all that is left of the open file.
        // As in a crash, the journal's descriptor closes (letting its lock go) and nothing else
        // runs: no footer, no rename.
        sink.write_batch(&second).unwrap();
        let open = sink.open.take().unwrap();
        drop(open.journal.map(Journal::abandon));
        std::mem::forget(open.writer);
        std::mem::forget(sink);
        drop(ParquetSink::with_config(config).unwrap());

        let mut rows = 0;
        for entry in fs::read_dir(dir.path()).unwrap() {
            let path = entry.unwrap().path();
            assert!(path.extension().is_some_and(|e| e == "parquet"), "{path:?}");
            let reader = SerializedFileReader::new(File::open(&path).unwrap()).unwrap();
            rows += reader.metadata().file_metadata().num_rows();
        }
        assert_eq!(rows, 20, "each record once");
    }

    /// An error left over from finishing a file after an earlier batch was written (`deferred`)
    /// is not the next batch's: failing that batch would make the worker retry it for nothing,
    /// and lose it under `max_retries = 0`. The batch is written; the next flush reports it.
    #[test]
    fn a_deferred_error_is_reported_by_flush_not_by_the_next_batch() {
        let dir = tempfile::tempdir().unwrap();
        let mut sink = ParquetSink::new(dir.path().join("app")).unwrap();
        sink.write_batch(&batch(0, 10)).unwrap();
        // What `write_batch` keeps when finishing the file after a batch fails.
        sink.deferred = Some(SinkError::Other("finishing app_1.parquet failed".into()));
        sink.write_batch(&batch(10, 10)).unwrap();
        let error = sink.flush().unwrap_err();
        assert!(error.to_string().contains("app_1.parquet"), "{error}");
        sink.flush().unwrap();
        sink.close().unwrap();

        let mut rows = 0;
        for entry in fs::read_dir(dir.path()).unwrap() {
            let path = entry.unwrap().path();
            let reader = SerializedFileReader::new(File::open(&path).unwrap()).unwrap();
            rows += reader.metadata().file_metadata().num_rows();
        }
        assert_eq!(rows, 20, "both batches written, each once");
    }
}
