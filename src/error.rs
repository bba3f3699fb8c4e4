//! Error types. Every error a user sees names what caused it: the config field, the sink, the path.

use crate::ring::record::{EncodeError, MAX_FIELDS, MAX_KEY_LEN};
use std::fmt;
use std::io;

/// Errors from creating, flushing or closing a [`Logger`](crate::Logger), and from sink
/// constructors.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A [`Config`](crate::Config) value is out of range.
    #[error("invalid config: `{field}` {reason}")]
    Config {
        /// The offending field, e.g. `"buffer_size"`.
        field: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// A sink failed to flush or close, or lost a batch (its write failed after every retry;
    /// `source` is the last attempt's error), as reported by
    /// [`Logger::flush`](crate::Logger::flush).
    #[error("sink `{sink}`: {source}")]
    Sink {
        /// The sink's name.
        sink: String,
        /// What went wrong.
        #[source]
        source: SinkError,
    },
    /// A file or directory could not be created, opened or written.
    #[error("{context}: {source}")]
    Io {
        /// What was being done, naming the path.
        context: String,
        /// The OS error.
        #[source]
        source: io::Error,
    },
    /// The logger is closed.
    #[error("the logger is closed")]
    Closed,
    /// [`asynclog::init`](crate::init) was called while the global logger it installed before
    /// is still in use (its [`GlobalGuard`](crate::GlobalGuard) is alive).
    #[error("the global asynclog logger is already installed (asynclog::init called while its GlobalGuard is alive)")]
    AlreadyInitialized,
    /// A global-logger function was called before [`asynclog::init`](crate::init).
    #[error("no global asynclog logger is installed (call asynclog::init first)")]
    NotInitialized,
    /// Refused for the reason a log call on this thread would be refused:
    /// [`LogError::ThreadExiting`] or [`LogError::Reentrant`] (from [`Logger::preallocate`]).
    ///
    /// [`Logger::preallocate`]: crate::Logger::preallocate
    #[error("{0}")]
    Refused(LogError),
    /// `close` or `flush` was called on an asynclog drain or sink-worker thread (from a hook or a
    /// sink), where waiting would wait for the calling thread itself.
    #[error("`{0}` called from an asynclog worker thread (inside a hook or sink), where it would wait for itself")]
    CalledFromWorker(&'static str),
    /// A sink worker or the drain thread died; the message says which.
    #[error("{0}")]
    ThreadDied(String),
    /// `close` gave up waiting for these sinks after `Config::close_timeout`; every other sink
    /// received every record and was closed.
    #[error("close timed out after {timeout:?} waiting for sink(s) {sinks:?}")]
    CloseTimedOut {
        /// The sinks still busy, by name.
        sinks: Vec<String>,
        /// The configured `close_timeout`.
        timeout: std::time::Duration,
    },
    /// `flush` gave up waiting for these sinks after `Config::close_timeout`; every other sink
    /// has been flushed (unless a sink hung long enough to stall the drain: see
    /// [`Logger::flush`](crate::Logger::flush)). The busy sinks' workers carry on with the flush
    /// on their own.
    /// An empty `sinks` means every sink had done the flush and it was still not complete: an
    /// `on_flush_completed` hook slower than the timeout, or the drain thread held up.
    #[error("{}", flush_timed_out(sinks, timeout))]
    FlushTimedOut {
        /// The sinks still busy, by name.
        sinks: Vec<String>,
        /// The configured `close_timeout`.
        timeout: std::time::Duration,
    },
}

fn flush_timed_out(sinks: &[String], timeout: &std::time::Duration) -> String {
    if sinks.is_empty() {
        format!(
            "flush timed out after {timeout:?}: every sink had flushed, but the flush had not \
             completed (an on_flush_completed hook still running, or the drain thread held up)"
        )
    } else {
        format!("flush timed out after {timeout:?} waiting for sink(s) {sinks:?}")
    }
}

impl Error {
    /// An I/O error with a context naming the path.
    pub fn io(context: impl Into<String>, source: io::Error) -> Error {
        Error::Io {
            context: context.into(),
            source,
        }
    }
}

/// Why a sink could not write, flush or close.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SinkError {
    /// An I/O error, with what was being done and to which path.
    #[error("{context}: {source}")]
    Io {
        /// What was being done, naming the path.
        context: String,
        /// The OS error.
        #[source]
        source: io::Error,
    },
    /// Encoding the batch failed (Parquet, Arrow, JSON).
    #[error("{0}")]
    Encode(String),
    /// The sink panicked; the payload's message if it had one.
    #[error("sink panicked: {0}")]
    Panicked(String),
    /// The sink's upload spool is full and its policy refuses new batches (see
    /// `sinks::parquet::upload::SpoolFull::RefuseNew`). Not retried: the batch is counted as
    /// failed at once, and the records already in the spool are kept.
    #[error(
        "sink `{sink}`: the upload spool {} holds {spool_bytes} bytes waiting, at its limit of \
         {limit} bytes: batch refused (the store has not taken the files; see the upload \
         errors)",
        spool.display()
    )]
    SpoolFull {
        /// The sink's name.
        sink: String,
        /// The spool directory.
        spool: std::path::PathBuf,
        /// Bytes waiting in it.
        spool_bytes: u64,
        /// Its limit.
        limit: u64,
    },
    /// Anything else a user-written sink reports.
    #[error(transparent)]
    Other(Box<dyn std::error::Error + Send + Sync>),
}

impl SinkError {
    /// An I/O error with a context naming the path.
    pub fn io(context: impl Into<String>, source: io::Error) -> SinkError {
        SinkError::Io {
            context: context.into(),
            source,
        }
    }

    /// False for an error that a retry cannot cure ([`SinkError::SpoolFull`]): the worker
    /// counts the batch as failed at once instead of holding the drain up with retries.
    pub fn is_retryable(&self) -> bool {
        !matches!(self, SinkError::SpoolFull { .. })
    }

    /// The OS error kind, when this is an I/O error.
    pub fn io_kind(&self) -> Option<io::ErrorKind> {
        match self {
            SinkError::Io { source, .. } => Some(source.kind()),
            _ => None,
        }
    }
}

impl From<io::Error> for SinkError {
    fn from(source: io::Error) -> Self {
        SinkError::Io {
            context: "I/O error".into(),
            source,
        }
    }
}

/// Why a log call did not accept its record.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LogError {
    /// The logger is closed (or closing). A call that raced with `close` and got this error may
    /// still have had its record written; a call that returned `Ok` always has.
    #[error("the logger is closed")]
    Closed,
    /// The ring was full and the backpressure strategy is `Drop`; the record was counted as
    /// dropped and `on_message_dropped` fired.
    #[error("ring full: record dropped (backpressure = Drop)")]
    Dropped,
    /// The encoded record is larger than the whole ring; it was counted as dropped.
    #[error(
        "record of {size} bytes does not fit a {capacity}-byte ring (raise Config::buffer_size)"
    )]
    TooLarge {
        /// Encoded record size in bytes.
        size: usize,
        /// Ring capacity in bytes.
        capacity: usize,
    },
    /// A field key is longer than 65,535 bytes; it was counted as dropped.
    #[error("field key `{key_prefix}…` is longer than 65535 bytes")]
    KeyTooLong {
        /// The first 32 bytes of the key (at a character boundary).
        key_prefix: String,
    },
    /// More than 65,535 fields; counted as dropped.
    #[error("{count} fields is more than the 65535 a record can carry")]
    TooManyFields {
        /// How many fields were passed.
        count: usize,
    },
    /// Called from a thread-local destructor after this thread's asynclog state was destroyed.
    /// Use an explicit [`Producer`](crate::Producer) there.
    #[error("this thread's asynclog producer is already destroyed (thread exiting); use Logger::producer()")]
    ThreadExiting,
    /// A log call was made while this thread was inside the logger's own bookkeeping (its first
    /// call to a logger, or a switch between loggers: an allocator that logs, for instance); the
    /// record was not written. Signal handlers must not log at all (see [`Logger`](crate::Logger)).
    #[error("log call re-entered on the same thread; the record was not written")]
    Reentrant,
    /// A global macro (`info!("msg", ...)` without a logger) was called before
    /// [`asynclog::init`](crate::init); nothing was logged or counted.
    #[error("no global asynclog logger is installed (call asynclog::init first)")]
    NotInitialized,
    /// `fatal` logged its record, but the flush after it failed.
    #[error("fatal record logged, but the flush after it failed: {0}")]
    FlushFailed(#[source] Box<Error>),
}

// Here rather than beside the type: the record encoding is kept free of formatting code.
impl fmt::Display for EncodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EncodeError::TooLong { size } => write!(
                f,
                "record of {size} bytes is longer than the {} bytes a record can take",
                u32::MAX
            ),
            EncodeError::KeyTooLong => {
                write!(f, "a field key is longer than {MAX_KEY_LEN} bytes")
            }
            EncodeError::TooManyFields => {
                write!(f, "more than the {MAX_FIELDS} fields a record can carry")
            }
        }
    }
}

impl std::error::Error for EncodeError {}
