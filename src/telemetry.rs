//! Telemetry: the five hooks and a snapshot of counters.

use crate::error::{Error, SinkError};
use crate::value::MessageRef;
use std::fmt;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Called on the logging thread with the record a log call accepted or dropped.
pub type MessageHook = Box<dyn Fn(&MessageRef<'_>) + Send + Sync>;
/// `(sink name, records, time the write took)`, on the sink's worker.
pub type BatchWrittenHook = Box<dyn Fn(&str, usize, Duration) + Send + Sync>;
/// `(sink name, records, last error, attempts)`, on the sink's worker, after the last retry.
pub type BatchFailedHook = Box<dyn Fn(&str, usize, &SinkError, u32) + Send + Sync>;
/// `(records delivered since the previous flush, time the flush took)`.
pub type FlushCompletedHook = Box<dyn Fn(usize, Duration) + Send + Sync>;

/// Optional callbacks for monitoring. An unset hook costs one predictable branch.
///
/// A hook that panics is caught and counted in [`Stats::hook_panics`]; it never takes a logging
/// thread, the drain or a worker down with it.
///
/// A record logged from inside an `on_message_buffered` or `on_message_dropped` hook (on that
/// thread, to any logger) calls no `on_message_*` hook: a hook that logs does not see its own
/// records, and so does not call itself without end. A record that `on_batch_written`,
/// `on_batch_failed` or `on_flush_completed` logs to its own logger, on that logger's sink
/// worker, is dropped rather than waited for when the worker's ring is full, even under
/// `Backpressure::Block`: the drain may be waiting for that worker.
///
/// ```
/// use std::sync::atomic::{AtomicUsize, Ordering};
/// use std::sync::Arc;
///
/// let written = Arc::new(AtomicUsize::new(0));
/// let seen = written.clone();
/// let hooks = asynclog::Hooks::default()
///     .on_batch_written(move |_sink, count, _took| {
///         seen.fetch_add(count, Ordering::Relaxed);
///     });
/// let mut config = asynclog::Config::default();
/// config.hooks = hooks;
/// ```
#[derive(Default)]
#[non_exhaustive]
pub struct Hooks {
    /// A log call accepted a record (calling thread).
    pub on_message_buffered: Option<MessageHook>,
    /// A log call dropped a record: ring full under `Backpressure::Drop` (or on the logger's own
    /// sink worker, see above), too large, or over the key-length or field-count limit (calling
    /// thread).
    pub on_message_dropped: Option<MessageHook>,
    /// A sink wrote a batch (its worker thread).
    pub on_batch_written: Option<BatchWrittenHook>,
    /// A sink failed a batch after `max_retries` retries (its worker thread).
    pub on_batch_failed: Option<BatchFailedHook>,
    /// A flush finished in every sink (the worker that finished last; with no sinks, the drain
    /// thread).
    pub on_flush_completed: Option<FlushCompletedHook>,
}

impl Hooks {
    /// Sets `on_message_buffered`.
    #[must_use]
    pub fn on_message_buffered(
        mut self,
        f: impl Fn(&MessageRef<'_>) + Send + Sync + 'static,
    ) -> Self {
        self.on_message_buffered = Some(Box::new(f));
        self
    }

    /// Sets `on_message_dropped`.
    #[must_use]
    pub fn on_message_dropped(
        mut self,
        f: impl Fn(&MessageRef<'_>) + Send + Sync + 'static,
    ) -> Self {
        self.on_message_dropped = Some(Box::new(f));
        self
    }

    /// Sets `on_batch_written`.
    #[must_use]
    pub fn on_batch_written(
        mut self,
        f: impl Fn(&str, usize, Duration) + Send + Sync + 'static,
    ) -> Self {
        self.on_batch_written = Some(Box::new(f));
        self
    }

    /// Sets `on_batch_failed`.
    #[must_use]
    pub fn on_batch_failed(
        mut self,
        f: impl Fn(&str, usize, &SinkError, u32) + Send + Sync + 'static,
    ) -> Self {
        self.on_batch_failed = Some(Box::new(f));
        self
    }

    /// Sets `on_flush_completed`.
    #[must_use]
    pub fn on_flush_completed(
        mut self,
        f: impl Fn(usize, Duration) + Send + Sync + 'static,
    ) -> Self {
        self.on_flush_completed = Some(Box::new(f));
        self
    }
}

impl fmt::Debug for Hooks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Hooks")
            .field("on_message_buffered", &self.on_message_buffered.is_some())
            .field("on_message_dropped", &self.on_message_dropped.is_some())
            .field("on_batch_written", &self.on_batch_written.is_some())
            .field("on_batch_failed", &self.on_batch_failed.is_some())
            .field("on_flush_completed", &self.on_flush_completed.is_some())
            .finish()
    }
}

/// Runs a hook, turning a panic into a count.
pub(crate) fn call_hook(panics: &AtomicU64, f: impl FnOnce()) {
    if catch_unwind(AssertUnwindSafe(f)).is_err() {
        panics.fetch_add(1, Relaxed);
    }
}

/// A snapshot of the logger's counters ([`Logger::stats`](crate::Logger::stats)).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Stats {
    /// Records log calls wrote into a ring. This includes a call that raced with `close` and
    /// returned [`LogError::Closed`](crate::LogError::Closed) after writing its record, which
    /// the drain's last pass may or may not have taken: after `close`, `buffered - delivered`
    /// such records were lost.
    pub buffered: u64,
    /// Records refused by log calls (ring full under `Drop`, or on the logger's own drain or
    /// sink worker; too large; over the key-length or field-count limit).
    pub dropped: u64,
    /// Records refused before reaching a ring: logged after `close` began
    /// ([`LogError::Closed`](crate::LogError::Closed)), from a thread-local destructor after the
    /// thread's asynclog state was gone, or re-entrantly. Unlike `dropped`, these do not call
    /// `on_message_dropped` (a hook that logged would be refused again).
    pub refused: u64,
    /// Records the drain took out of the rings and handed to the sinks. Never more than
    /// `buffered` in the same snapshot, so `buffered - delivered` (the records not yet handed
    /// to the sinks) cannot underflow.
    pub delivered: u64,
    /// Batches the drain handed to the sinks.
    pub batches: u64,
    /// Completed flushes (explicit and periodic).
    pub flushes: u64,
    /// Hooks that panicked (and were caught).
    pub hook_panics: u64,
    /// Per sink, in configuration order.
    pub sinks: Vec<SinkStats>,
}

impl Stats {
    /// The entry for the sink called `name`.
    pub fn sink(&self, name: &str) -> Option<&SinkStats> {
        self.sinks.iter().find(|s| s.name == name)
    }
}

/// Counters for one sink.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct SinkStats {
    /// The sink's name.
    pub name: String,
    /// Records in batches it wrote.
    pub written_records: u64,
    /// Batches it wrote.
    pub written_batches: u64,
    /// Batches that failed after every retry.
    pub failed_batches: u64,
    /// Records in those batches.
    pub failed_records: u64,
    /// Retries (a batch that failed twice then succeeded counts 2).
    pub retries: u64,
    /// Failed flushes and closes.
    pub failed_flushes: u64,
    /// The sink's upload stage, if it has one (a Parquet sink with
    /// [`ParquetSinkConfig::upload`](crate::ParquetSinkConfig), feature `object-store`).
    pub upload: Option<UploadStats>,
}

/// Counters of an upload stage: what reached the object store, and what waits in the spool.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct UploadStats {
    /// Files the store confirmed (and that were then deleted from the spool).
    pub uploaded_files: u64,
    /// Bytes of those files.
    pub uploaded_bytes: u64,
    /// Upload attempts that failed (each is retried after a back-off).
    pub failed_attempts: u64,
    /// Finished files waiting in the spool, as of the upload thread's last look.
    pub spool_files: u64,
    /// Bytes of those files.
    pub spool_bytes: u64,
    /// How long the oldest waiting file has waited since it was finished.
    pub oldest_waiting: Option<Duration>,
    /// Batches refused because the spool was full (policy `RefuseNew`), and their records.
    pub refused_batches: u64,
    /// Records in those batches.
    pub refused_records: u64,
    /// Files deleted unsent to make room in a full spool (policy `DeleteOldest`), and bytes.
    pub evicted_files: u64,
    /// Bytes of those files.
    pub evicted_bytes: u64,
    /// The last failed attempt's error, until an upload succeeds.
    pub last_error: Option<String>,
}

/// Live upload counters, shared by an upload stage with the logger's [`Stats`].
#[doc(hidden)]
#[derive(Debug, Clone, Default)]
pub struct UploadTelemetry(pub(crate) Arc<UploadGauges>);

#[derive(Debug, Default)]
pub(crate) struct UploadGauges {
    pub uploaded_files: AtomicU64,
    pub uploaded_bytes: AtomicU64,
    pub failed_attempts: AtomicU64,
    pub spool_files: AtomicU64,
    pub spool_bytes: AtomicU64,
    /// When the oldest waiting file was finished, in ns since the epoch; 0: none waits.
    pub oldest_waiting_since_ns: AtomicU64,
    pub refused_batches: AtomicU64,
    pub refused_records: AtomicU64,
    pub evicted_files: AtomicU64,
    pub evicted_bytes: AtomicU64,
    pub last_error: Mutex<Option<String>>,
}

impl UploadTelemetry {
    /// The counters as they are now.
    pub fn snapshot(&self) -> UploadStats {
        let g = &self.0;
        let since = g.oldest_waiting_since_ns.load(Relaxed);
        let oldest_waiting = (since != 0).then(|| {
            let now = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap_or_default();
            now.saturating_sub(Duration::from_nanos(since))
        });
        UploadStats {
            uploaded_files: g.uploaded_files.load(Relaxed),
            uploaded_bytes: g.uploaded_bytes.load(Relaxed),
            failed_attempts: g.failed_attempts.load(Relaxed),
            spool_files: g.spool_files.load(Relaxed),
            spool_bytes: g.spool_bytes.load(Relaxed),
            oldest_waiting,
            refused_batches: g.refused_batches.load(Relaxed),
            refused_records: g.refused_records.load(Relaxed),
            evicted_files: g.evicted_files.load(Relaxed),
            evicted_bytes: g.evicted_bytes.load(Relaxed),
            last_error: g
                .last_error
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clone(),
        }
    }
}

/// The live counters of one sink, updated by its worker.
#[derive(Debug, Default)]
pub(crate) struct SinkCounters {
    pub name: String,
    pub upload: Option<UploadTelemetry>,
    pub written_records: AtomicU64,
    pub written_batches: AtomicU64,
    pub failed_batches: AtomicU64,
    pub failed_records: AtomicU64,
    pub retries: AtomicU64,
    pub failed_flushes: AtomicU64,
    /// Jobs (batches and flushes) the drain has sent the sink's worker for it, and jobs the
    /// worker has finished for it: a sink with `jobs_done < jobs_sent` is busy. `jobs_done` is
    /// raised with `Release` after the job and read with `Acquire`, so a reader that loads it
    /// first and `jobs_sent` second never sees more done than sent (the drain raises
    /// `jobs_sent` before it sends the job). Only for naming the sinks a flush timed out on.
    pub jobs_sent: AtomicU64,
    pub jobs_done: AtomicU64,
    /// The last write error of batches lost (failed after every retry) since a flush last
    /// reported them; taken by the next flush that has a caller (see `FlushTicket`).
    pub lost: Mutex<Option<SinkError>>,
    /// The first error of this sink's flush in a periodic flush (which has no caller) since a
    /// flush with a caller last looked; taken by the next one, like `lost`.
    pub unreported_flush: Mutex<Option<Error>>,
}

impl SinkCounters {
    pub fn new(name: &str, upload: Option<UploadTelemetry>) -> Self {
        SinkCounters {
            name: name.to_owned(),
            upload,
            ..Default::default()
        }
    }

    pub fn snapshot(&self) -> SinkStats {
        SinkStats {
            name: self.name.clone(),
            written_records: self.written_records.load(Relaxed),
            written_batches: self.written_batches.load(Relaxed),
            failed_batches: self.failed_batches.load(Relaxed),
            failed_records: self.failed_records.load(Relaxed),
            retries: self.retries.load(Relaxed),
            failed_flushes: self.failed_flushes.load(Relaxed),
            upload: self.upload.as_ref().map(UploadTelemetry::snapshot),
        }
    }
}
