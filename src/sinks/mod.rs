//! Where batches go. A [`Sink`] is written by one sink-worker thread; every sink gets every batch.

mod console;
pub mod file;
pub(crate) mod format;
pub(crate) mod json;
mod null;
#[cfg(feature = "parquet")]
pub mod parquet;
mod rotation;

pub use console::ConsoleSink;
pub use null::NullSink;
#[cfg(feature = "parquet")]
pub use parquet::{ParquetSink, ParquetSinkConfig};
pub use rotation::{Clock, ManualClock, Rotation, SystemClock, MIN_ROTATION_PERIOD};

use crate::batch::Batch;
use crate::error::SinkError;

/// A destination for records: write a batch, flush, close, name.
///
/// Each sink is owned by one worker thread, so methods take `&mut self` and need no locking.
///
/// # Contract
/// - `write_batch` is called with every batch in order. If it returns an error, the worker calls
///   it again with the same batch (up to `Config::max_retries` times, `retry_delay` apart), so a
///   sink should leave no partial output behind when it fails, or remember how far it got.
/// - `flush` makes what was written visible to readers (and ends a Parquet row group); it is
///   called on `Logger::flush`, every `flush_interval`, and before `close`.
/// - `close` is called once, last. A panic in any method is caught and counted as a failure.
/// - `flush` and `close` default to doing nothing, for sinks that write straight through.
///
/// ```
/// use asynclog::{Batch, Sink, SinkError};
///
/// struct CountingSink(usize);
///
/// impl Sink for CountingSink {
///     fn name(&self) -> &str { "counter" }
///     fn write_batch(&mut self, batch: &Batch) -> Result<(), SinkError> {
///         self.0 += batch.len();
///         Ok(())
///     }
/// }
/// ```
pub trait Sink: Send {
    /// A name unique within one logger, used in hooks, stats and errors.
    fn name(&self) -> &str;
    /// Writes every record of `batch`.
    ///
    /// # Errors
    /// Any [`SinkError`]: the worker retries the same batch (see the contract above) unless
    /// [`SinkError::is_retryable`] says no, then counts it as lost and reports it through
    /// `on_batch_failed` and the next `flush`.
    fn write_batch(&mut self, batch: &Batch) -> Result<(), SinkError>;
    /// Makes everything written so far visible to readers. The default does nothing.
    ///
    /// # Errors
    /// Any [`SinkError`]: returned (naming the sink) by the `flush` or `close` that asked for it,
    /// or by the next one after a periodic flush; counted in `SinkStats::failed_flushes`.
    fn flush(&mut self) -> Result<(), SinkError> {
        Ok(())
    }
    /// Flushes and releases resources; called once. The default does nothing.
    ///
    /// # Errors
    /// Any [`SinkError`]: returned (naming the sink) by `Logger::close`.
    fn close(&mut self) -> Result<(), SinkError> {
        Ok(())
    }
    /// The live counters of the sink's upload stage, read into [`Stats`](crate::Stats) (once,
    /// when the logger is built). The default: none.
    #[doc(hidden)]
    fn upload_telemetry(&self) -> Option<crate::telemetry::UploadTelemetry> {
        None
    }
}
