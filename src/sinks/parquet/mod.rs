//! The Parquet sink: columnar log files that DuckDB, pyarrow, polars, DataFusion or Spark query
//! directly.
//!
//! - **Schema**: one, in [`schema`] (timestamp, timestamp_extra_ns with the default
//!   [`TimestampUnit`], level, message, thread_id, fields_json).
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
//! asynclog::info!(logger, "order filled", order_id = 42u64, price = 101.25);
//! logger.close()?;
//! let files: Vec<_> = std::fs::read_dir(dir.path())?.collect();
//! assert_eq!(files.len(), 1); // app_data_YYYYMMDD_HHMMSS_000.parquet
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

//!
//! The code follows the same split: [`ParquetSinkConfig`] and its defaults (`config.rs`), the
//! sink's state and its `Sink` calls (`sink.rs`), the file lifecycle (`lifecycle.rs`: open,
//! rotate, finish, retention, rebuild), the encoder hand-off (`handoff.rs`), recovery of a
//! crashed predecessor's files (`recovery.rs`), names and locks (`files.rs`), the journal
//! (`journal.rs`), the encoder thread (`encoder.rs`) and the schema ([`schema`]).

mod config;
mod encoder;
mod files;
mod handoff;
mod journal;
mod lifecycle;
mod recovery;
pub mod schema;
mod sink;
#[cfg(feature = "object-store")]
pub mod upload;

pub use config::{
    ParquetCompression, ParquetSinkConfig, DEFAULT_COMPRESSION, DEFAULT_ENCODE_THREAD,
    DEFAULT_JOURNAL, DEFAULT_JOURNAL_LIMIT, DEFAULT_MAX_BYTES, DEFAULT_MAX_FILES, DEFAULT_PATH,
    DEFAULT_ROTATION, DEFAULT_ROW_GROUP_ROWS, DEFAULT_TIMESTAMP_UNIT, ROTATE_SIZE_FLOOR_PERCENT,
};
pub use recovery::{JournalRecovery, RecoveryHook, RecoveryOutcome};
pub use schema::{
    arrow_schema, TimestampUnit, EXTRA_NANOS_COLUMN, META_SCHEMA_VERSION, META_VERSION,
    SCHEMA_VERSION,
};
pub use sink::ParquetSink;
