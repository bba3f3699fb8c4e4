//! [`ParquetSinkConfig`]: the options of a Parquet sink, their defaults, and the Parquet writer
//! settings they turn into.

use super::files::Namer;
use super::recovery::{JournalRecovery, RecoveryHook};
use super::schema::{self, TimestampUnit};
use crate::error::Error;
use crate::sinks::rotation::{self, Clock, Rotation, SystemClock};
use parquet::basic::{Compression, Encoding, ZstdLevel};
use parquet::file::metadata::KeyValue;
use parquet::file::properties::{EnabledStatistics, WriterProperties};
use parquet::schema::types::ColumnPath;
use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

/// Default [`ParquetSinkConfig::path`] (of [`ParquetSinkConfig::default`]).
pub const DEFAULT_PATH: &str = "logs/asynclog";
/// Default [`ParquetSinkConfig::rotation`]: no time rotation.
pub const DEFAULT_ROTATION: Rotation = Rotation::NEVER;
/// Default [`ParquetSinkConfig::max_bytes`]: no size rotation.
pub const DEFAULT_MAX_BYTES: Option<u64> = None;
/// Default [`ParquetSinkConfig::max_files`]: keep every finished file.
pub const DEFAULT_MAX_FILES: Option<usize> = None;
/// Default [`ParquetSinkConfig::timestamp_unit`]: microseconds plus the extra nanoseconds.
pub const DEFAULT_TIMESTAMP_UNIT: TimestampUnit = TimestampUnit::MicrosWithExtraNanos;
/// Default [`ParquetSinkConfig::journal`]: on.
pub const DEFAULT_JOURNAL: bool = true;
/// Default [`ParquetSinkConfig::encode_thread`]: on.
pub const DEFAULT_ENCODE_THREAD: bool = true;
/// Default [`ParquetSinkConfig::row_group_rows`].
pub const DEFAULT_ROW_GROUP_ROWS: usize = 64 * 1024;
/// Default [`ParquetSinkConfig::compression`]: snappy. In `benches/parquet_sink.rs` (8192-record
/// batches, message + 3 fields, journal and encoder thread on) it wrote 15.8 bytes per record,
/// 9% of the JSON-lines file's, at 1.38x,
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

/// Page compression. The default is [`DEFAULT_COMPRESSION`] (Snappy).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum ParquetCompression {
    /// Zstandard at the given level: 1..=22, or negative "fast" levels (down to -131072), which
    /// trade size for speed.
    Zstd(i32),
    /// Snappy.
    #[default]
    Snappy,
    /// LZ4 (the `LZ4_RAW` codec, which every current reader supports).
    Lz4,
    /// None.
    Uncompressed,
}

/// Options of a [`ParquetSink`](super::ParquetSink): start from [`ParquetSinkConfig::new`],
/// chain `with_*` setters (or assign the public fields), then [`build`](Self::build). Every option
/// applies when the sink is built.
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
    /// directories are created; a path that is a directory (`logs/`) is refused, as the files
    /// would go beside it. Default [`DEFAULT_PATH`] (for [`Default`]; [`new`](Self::new)
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
    /// Retention: whenever a file is finished (and when the sink is built) the oldest finished
    /// files of this path are deleted until at most this many remain; the active file does not
    /// count.
    /// Every finished `{path}_….parquet` counts, whichever sink wrote it (another sink on the
    /// same path, a recovery). At least 1: every file of this sink is finished (the last one by
    /// `close`), so 0 would delete all of them. Default [`DEFAULT_MAX_FILES`] (`None`: keep
    /// them all).
    pub max_files: Option<usize>,
    /// Where the sink reads the time, for time rotation and for the time in file names. Default
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
    /// The CPU the encoder thread is pinned to, or `None`: the OS places it (the default). With
    /// [`Config::drain_cpu`](crate::Config::drain_cpu) and
    /// [`Config::sink_worker_cpus`](crate::Config::sink_worker_cpus) it can keep the encoder off
    /// the core of the sink worker that feeds it, which the OS otherwise tends to share between
    /// the two. A CPU no thread of this process may use is a config error; so is any CPU on
    /// systems other than Linux.
    pub encoder_cpu: Option<usize>,
    /// Told about every recovery; also see
    /// [`ParquetSink::recoveries`](super::ParquetSink::recoveries). Default none.
    pub on_recovery: Option<RecoveryHook>,
    /// Upload every finished file to an object store, keeping the sink's directory as the
    /// spool (see [`upload`](super::upload)). Not with `max_files`: the spool's own limit
    /// ([`UploadConfig::spool_limit`](super::upload::UploadConfig::spool_limit)) bounds the
    /// directory, and retention would delete files the store has not taken. Default none.
    #[cfg(feature = "object-store")]
    pub upload: Option<super::upload::UploadConfig>,
}

impl Default for ParquetSinkConfig {
    /// [`ParquetSinkConfig::new`] of [`DEFAULT_PATH`].
    fn default() -> Self {
        ParquetSinkConfig::new(DEFAULT_PATH)
    }
}

impl fmt::Debug for ParquetSinkConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut f = f.debug_struct("ParquetSinkConfig");
        f.field("path", &self.path)
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
            .field("encoder_cpu", &self.encoder_cpu)
            .field("on_recovery", &self.on_recovery.is_some());
        #[cfg(feature = "object-store")]
        f.field("upload", &self.upload);
        f.finish()
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
            encoder_cpu: None,
            on_recovery: None,
            #[cfg(feature = "object-store")]
            upload: None,
        }
    }

    crate::sinks::rotation::file_sink_setters!();

    /// Sets [`row_group_rows`](Self::row_group_rows).
    #[must_use]
    pub fn with_row_group_rows(mut self, row_group_rows: usize) -> Self {
        self.row_group_rows = row_group_rows;
        self
    }

    /// Sets [`compression`](Self::compression).
    #[must_use]
    pub fn with_compression(mut self, compression: ParquetCompression) -> Self {
        self.compression = compression;
        self
    }

    /// Sets [`timestamp_unit`](Self::timestamp_unit).
    #[must_use]
    pub fn with_timestamp_unit(mut self, timestamp_unit: TimestampUnit) -> Self {
        self.timestamp_unit = timestamp_unit;
        self
    }

    /// Sets [`journal`](Self::journal).
    #[must_use]
    pub fn with_journal(mut self, journal: bool) -> Self {
        self.journal = journal;
        self
    }

    /// Sets [`journal_limit`](Self::journal_limit).
    #[must_use]
    pub fn with_journal_limit(mut self, journal_limit: u64) -> Self {
        self.journal_limit = journal_limit;
        self
    }

    /// Sets [`encode_thread`](Self::encode_thread).
    #[must_use]
    pub fn with_encode_thread(mut self, encode_thread: bool) -> Self {
        self.encode_thread = encode_thread;
        self
    }

    /// Sets [`encoder_cpu`](Self::encoder_cpu).
    #[must_use]
    pub fn with_encoder_cpu(mut self, cpu: usize) -> Self {
        self.encoder_cpu = Some(cpu);
        self
    }

    /// Sets [`on_recovery`](Self::on_recovery).
    #[must_use]
    pub fn with_on_recovery(
        mut self,
        on_recovery: impl Fn(&JournalRecovery) + Send + Sync + 'static,
    ) -> Self {
        self.on_recovery = Some(Arc::new(on_recovery));
        self
    }

    /// Sets [`upload`](Self::upload).
    #[cfg(feature = "object-store")]
    #[must_use]
    pub fn with_upload(mut self, upload: super::upload::UploadConfig) -> Self {
        self.upload = Some(upload);
        self
    }

    /// The sink's name: [`name`](Self::name), or `parquet:<path>`.
    pub(super) fn sink_name(&self) -> String {
        self.name
            .clone()
            .unwrap_or_else(|| format!("parquet:{}", self.path.display()))
    }

    /// Checks every option; the namer of a valid `path`.
    pub(super) fn validate(&self) -> Result<Namer, Error> {
        let sink = self.sink_name();
        let bad = |field, reason: String| Error::Config {
            field,
            reason: format!("{reason} (ParquetSinkConfig of sink `{sink}`)"),
        };
        let namer = Namer::new(&self.path).map_err(|reason| bad("path", reason))?;
        rotation::validate(self.rotation, self.max_bytes)
            .map_err(|(field, reason)| bad(field, reason))?;
        if self.max_files == Some(0) {
            return Err(bad(
                "max_files",
                "must be at least 1: every file is finished, the last one by close, and 0 \
                 would delete them all (`None` keeps every file)"
                    .into(),
            ));
        }
        if self.row_group_rows == 0 {
            return Err(bad("row_group_rows", "must be at least 1".into()));
        }
        if let ParquetCompression::Zstd(level) = self.compression {
            ZstdLevel::try_new(level).map_err(|e| bad("compression", e.to_string()))?;
        }
        if let Some(reason) = self.encoder_cpu.and_then(crate::os::unpinnable_cpu) {
            return Err(bad("encoder_cpu", reason));
        }
        #[cfg(feature = "object-store")]
        if let Some(upload) = &self.upload {
            upload.validate(bad)?;
            if self.max_files.is_some() {
                return Err(bad(
                    "max_files",
                    "retention would delete files waiting for upload: bound the spool with \
                     upload.spool_limit instead"
                        .into(),
                ));
            }
        }
        Ok(namer)
    }
}

/// Parquet writer settings shared by every file of a sink and by recovery.
pub(super) fn writer_properties(
    compression: ParquetCompression,
    row_group_rows: usize,
) -> WriterProperties {
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
