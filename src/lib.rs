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
//! # Cargo features
//!
//! - `tracing`: `asynclog::tracing::AsyncLogLayer`, a `tracing-subscriber` layer that
//!   writes `tracing` events into asynclog.
//! - `log`: `asynclog::log_compat`, a `log::Log` implementation that writes `log`
//!   records, with their key-values, into asynclog.
//!
//! The data flows one way, and the modules follow it: [`frontend`] (the calling thread) →
//! `ring` (record encoding, shared) → `drain` (the drain thread and sink workers) → [`batch`]
//! → [`sinks`].

#![deny(unsafe_op_in_unsafe_fn)]
#![warn(missing_docs, clippy::undocumented_unsafe_blocks)]

pub mod batch;
pub mod config;
mod drain;
pub mod error;
pub mod frontend;
pub mod ring;
mod shared;
pub mod sinks;
pub mod telemetry;
pub mod value;

/// What the logging macros expand to. Not part of the API: no item here is covered by semver,
/// and none is meant to be named by users.
#[doc(hidden)]
pub mod __private {
    pub use crate::frontend::{global, global_fatal};
    pub use crate::ring::callsite::Callsite;
}

pub use batch::{Batch, RecordView};
pub use config::{Backpressure, Config};
pub use error::{Error, LogError, SinkError};
#[cfg(feature = "log")]
pub use frontend::log_compat;
#[cfg(feature = "tracing")]
pub use frontend::tracing;
pub use frontend::{flush_global, global, init, GlobalGuard, Logger, Producer};
pub use ring::record::FieldIter;
pub use sinks::file::{
    read_jsonl, FileSink, FileSinkConfig, JsonlContents, JsonlReader, JsonlRecord,
};
pub use sinks::{ConsoleSink, NullSink, Sink};
pub use sinks::{ParquetSink, ParquetSinkConfig};
pub use telemetry::{Hooks, SinkStats, Stats};
pub use value::{Field, Level, LogMessage, MessageRef, OwnedValue, Value};
