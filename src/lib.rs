//! # asynclog
//!
//! A low-latency asynchronous logger. A log call encodes its record (timestamp, level, message,
//! typed fields) into the calling thread's own ring buffer: no heap allocation, no lock, no
//! syscall, no formatting. One drain thread gathers the rings into arena-backed columnar
//! [`Batch`]es, and sink workers write them: console, JSON-lines files, Parquet, or your own
//! [`Sink`].
//!
//! ```
//! use asynclog::{Config, ConsoleSink, Field, Level, Logger};
//!
//! let logger = Logger::new(Config::default().with_sink(ConsoleSink::stdout()))?;
//!
//! asynclog::info!(logger, "order filled", order_id = 42u64, price = 101.25, symbol = "AAPL");
//! logger.log(Level::Warn, "slow fill", &[Field::new("latency_us", 1250)])?;
//! logger.flush()?; // every record logged before this line is written
//! logger.close()?; // drains, closes the sinks, joins the threads (Drop does the same)
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Logging calls, and their outcome
//!
//! | call | returns | when a record is not taken |
//! | --- | --- | --- |
//! | [`trace!`] [`debug!`] [`info!`] [`warn!`] [`error!`] [`fatal!`] [`log!`] | `()` | counted in [`Stats`] (`dropped`, or `refused` after `close`); a drop is also passed to [`Hooks::on_message_dropped`] |
//! | [`try_trace!`] … [`try_fatal!`], [`try_log!`] | `Result<(), LogError>` | the same, and the [`LogError`] |
//! | [`Logger::log`], [`Logger::info`] (every level), [`Logger::log_message`], and the same on [`Producer`] | `Result<(), LogError>` | the same, and the [`LogError`] |
//!
//! A literal message (`info!(logger, "order filled", ..)`) is the fastest form: the message and
//! the keys stay in a static and only the values are copied. [`fatal!`] logs, then flushes every
//! sink before it returns; it never exits the process.
//!
//! Or one logger for the whole process, and macros without a logger argument:
//!
//! ```
//! let _guard = asynclog::init(asynclog::Config::default())?; // closes the logger on drop
//! asynclog::info!("order filled", order_id = 42u64, price = 101.25, symbol = "AAPL");
//! # Ok::<(), asynclog::Error>(())
//! ```
//!
//! See [`init`] for its guard, the panic hook it installs and what to do on SIGTERM.
//!
//! # How a record travels
//!
//! ```text
//!  calling thread            drain thread                    sink workers
//!  ──────────────            ────────────                    ────────────
//!  info!(..) ─► its own ring ─► gather every ring, merge ──► Batch ─► ConsoleSink
//!  (no alloc,   (rtrb, one      by timestamp, decode into    (Arc,     FileSink (JSON lines,
//!   no lock,     per thread      arena-backed columns         shared)            memory-mapped)
//!   no syscall)  or Producer)    (one Batch, reused)                   ParquetSink (+ journal)
//!                                flush / close barriers                your own Sink
//! ```
//!
//! A log call never waits for I/O: it waits only when its ring is full under
//! [`Backpressure::Block`]. The drain thread never waits for a sink: each sink has a worker that
//! retries a failed batch ([`Config::max_retries`]) and reports through [`Hooks`] and [`Stats`].
//!
//! # Cargo features
//!
//! - `parquet` (default): [`ParquetSink`]. Without it the crate does not depend on arrow or
//!   parquet.
//! - `tracing`: `asynclog::tracing::AsyncLogLayer`, a `tracing-subscriber` layer that writes
//!   `tracing` events into asynclog.
//! - `log`: `asynclog::log_compat`, a `log::Log` implementation that writes `log` records, with
//!   their key-values, into asynclog.
//! - `object-store` (implies `parquet`): `sinks::parquet::upload`, which uploads every finished
//!   Parquet file to an object store (S3 built in; any `object_store` store) under Hive
//!   partitions `dt=/hour=/host=`.

#![deny(unsafe_op_in_unsafe_fn)]
#![warn(
    missing_docs,
    missing_debug_implementations,
    clippy::undocumented_unsafe_blocks
)]

mod batch;
pub mod config;
mod drain;
mod error;
mod frontend;
mod os;
mod ring;
mod shared;
pub mod sinks;
mod telemetry;
mod value;

/// What the logging macros expand to, and the internals the crate's own tests, benchmarks and
/// fuzz targets reach. Not part of the API: nothing here is covered by semver, and nothing is
/// meant to be named by users.
#[doc(hidden)]
pub mod __private {
    pub use crate::batch::RawFields;
    pub use crate::frontend::{global, global_fatal};
    pub use crate::ring::callsite::{positional_fields, positional_keys, Callsite};
    pub use crate::ring::clock::read_tsc;
    pub use crate::sinks::format::{rfc3339_nanos, write_human_line};

    /// Call-site registration.
    pub mod callsite {
        pub use crate::ring::callsite::*;
    }
    /// The record encoding in a producer's ring.
    pub mod record {
        pub use crate::ring::record::*;
    }
    /// The JSON-lines serializer.
    pub mod json {
        pub use crate::sinks::json::*;
    }
}

pub use batch::{Batch, PushError, RecordView};
pub use config::{Backpressure, Config};
pub use error::{Error, LogError, SinkError};
#[cfg(feature = "log")]
pub use frontend::log_compat;
#[cfg(feature = "tracing")]
pub use frontend::tracing;
pub use frontend::{flush_global, global, init, GlobalGuard, Logger, Producer};
pub use ring::record::EncodeError;
pub use ring::record::FieldIter;
pub use sinks::file::{
    read_jsonl, FileSink, FileSinkConfig, JsonlContents, JsonlReader, JsonlRecord,
};
pub use sinks::{ConsoleSink, NullSink, Sink};
#[cfg(feature = "parquet")]
pub use sinks::{ParquetSink, ParquetSinkConfig};
pub use telemetry::{
    BatchFailedHook, BatchWrittenHook, FlushCompletedHook, Hooks, MessageHook, SinkStats, Stats,
    UploadStats, UploadTelemetry,
};
pub use value::{Field, Level, LogMessage, MessageRef, OwnedValue, ParseLevelError, Value};
