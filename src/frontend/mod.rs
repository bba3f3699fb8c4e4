//! The calling side: [`Logger`], [`Producer`], the per-thread producer lookup and the macros.

mod global;
#[cfg(feature = "log")]
pub mod log_compat;
mod macros;
mod producer;
#[cfg(any(feature = "tracing", feature = "log"))]
mod text;
#[cfg(feature = "tracing")]
pub mod tracing;

#[doc(hidden)]
pub use global::fatal as global_fatal;
pub use global::{flush_global, global, init, GlobalGuard};
pub use producer::Producer;

use crate::config::Config;
use crate::error::{Error, LogError};
use crate::os;
use crate::ring::callsite::Callsite;
use crate::ring::{barrier, clock};
use crate::shared::{on_internal_thread, Command, EngineCounters, Refused, Shared};
use crate::telemetry::{SinkCounters, Stats};
use crate::value::{Field, Level, LogMessage, Value};
use crossbeam_utils::CachePadded;
use std::cell::{Cell, RefCell};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, Ordering};
use std::sync::{mpsc, Arc, Mutex};

thread_local! {
    /// This thread's producers, one per logger it has logged to. Dropped when the thread exits,
    /// which abandons each ring; the drain then drains it completely and frees it.
    static LOCAL_PRODUCERS: RefCell<LocalProducers> = const {
        RefCell::new(LocalProducers { first: None, others: Vec::new() })
    };

    /// The log call's shortcut to `LOCAL_PRODUCERS.first`. Without a destructor, reading it is a
    /// plain thread-local load, with none of the checks `LOCAL_PRODUCERS` needs on every access
    /// (destructor state, `RefCell` borrow flag, `Option`). See [`FirstProducer`] for when it is
    /// set.
    static FIRST: Cell<FirstProducer> = const { Cell::new(FirstProducer::NONE) };
}

/// The logger id of the producer in `LOCAL_PRODUCERS.first` and the address of that field, or
/// [`FirstProducer::NONE`]. Invariant: when `logger_id` is not 0, `slot` is
/// `addr_of_mut!((*cell.as_ptr()).first)` for this thread's `LOCAL_PRODUCERS` cell (derived
/// from `RefCell::as_ptr`, the raw pointer to the cell's contents, never from a reference to
/// the contents), `first` holds that logger's producer, and no reference into
/// `LOCAL_PRODUCERS` is live outside a log call. It is cleared while the slow path borrows
/// `LOCAL_PRODUCERS` (which may replace `first`) and when `LOCAL_PRODUCERS` is destroyed at
/// thread exit.
#[derive(Clone, Copy)]
struct FirstProducer {
    logger_id: u64,
    slot: *mut Option<Producer>,
}

impl FirstProducer {
    /// Logger ids start at 1, so this matches no logger.
    const NONE: FirstProducer = FirstProducer {
        logger_id: 0,
        slot: std::ptr::null_mut(),
    };
}

/// A thread's producers. Most programs have one logger, whose producer sits in `first`, so the
/// lookup on every log call is one comparison rather than a search.
struct LocalProducers {
    first: Option<Producer>,
    others: Vec<Producer>,
}

impl Drop for LocalProducers {
    fn drop(&mut self) {
        // `first` is about to go: the shortcut must not outlive it (a destructor of another
        // thread-local may still log on this thread).
        FIRST.set(FirstProducer::NONE);
    }
}

/// The per-level shorthands of `log`, and `fatal`, written once for [`Logger`] (`&self`) and
/// [`Producer`] (`&mut self`): `level_methods!()` or `level_methods!(mut)` inside the `impl`.
macro_rules! level_methods {
    ($($mut_:tt)?) => {
        /// Logs at [`Level::Trace`]; as [`log`](Self::log).
        ///
        /// # Errors
        /// As [`log`](Self::log).
        pub fn trace(&$($mut_)? self, message: &str, fields: &[Field<'_>]) -> Result<(), LogError> {
            self.log(Level::Trace, message, fields)
        }

        /// Logs at [`Level::Debug`]; as [`log`](Self::log).
        ///
        /// # Errors
        /// As [`log`](Self::log).
        pub fn debug(&$($mut_)? self, message: &str, fields: &[Field<'_>]) -> Result<(), LogError> {
            self.log(Level::Debug, message, fields)
        }

        /// Logs at [`Level::Info`]; as [`log`](Self::log).
        ///
        /// # Errors
        /// As [`log`](Self::log).
        pub fn info(&$($mut_)? self, message: &str, fields: &[Field<'_>]) -> Result<(), LogError> {
            self.log(Level::Info, message, fields)
        }

        /// Logs at [`Level::Warn`]; as [`log`](Self::log).
        ///
        /// # Errors
        /// As [`log`](Self::log).
        pub fn warn(&$($mut_)? self, message: &str, fields: &[Field<'_>]) -> Result<(), LogError> {
            self.log(Level::Warn, message, fields)
        }

        /// Logs at [`Level::Error`]; as [`log`](Self::log).
        ///
        /// # Errors
        /// As [`log`](Self::log).
        pub fn error(&$($mut_)? self, message: &str, fields: &[Field<'_>]) -> Result<(), LogError> {
            self.log(Level::Error, message, fields)
        }

        /// Logs at [`Level::Fatal`], then flushes every sink before returning (the process may be
        /// about to die), waiting at most [`Config::close_timeout`](crate::Config::close_timeout) as `flush`
        /// does. The flush happens even when this record is refused, so the records logged
        /// before it are out. It does not exit the process.
        ///
        /// # Errors
        /// As [`log`](Self::log) when the record is refused, else [`LogError::FlushFailed`] with
        /// the flush's error when the flush fails, times out, or reports a lost batch (see
        /// [`Logger::flush`](crate::Logger::flush)).
        pub fn fatal(&$($mut_)? self, message: &str, fields: &[Field<'_>]) -> Result<(), LogError> {
            // Flushed whatever became of the record: a full ring under `Drop` is when the
            // records before it most need to be written before the process dies.
            let logged = self.log(Level::Fatal, message, fields);
            let flushed = self.flush();
            logged?;
            flushed.map_err(|e| LogError::FlushFailed(Box::new(e)))
        }
    };
}
pub(crate) use level_methods;

static NEXT_LOGGER_ID: AtomicU64 = AtomicU64::new(1);

/// The asynchronous logger. Cheap log calls from any thread; formatting and I/O on a drain thread
/// and sink workers.
///
/// `Logger` is `Send + Sync`: share it by reference or in an `Arc`. Dropping it closes it
/// (drains every ring, flushes and closes every sink), so bind it to a named variable, not `_`.
/// Dropped inside a sink or hook (of another logger), it starts that close without waiting for
/// it.
///
/// A log call is not async-signal-safe: do not log from a signal handler (one that interrupts a
/// log call on the same thread would write into the ring that call is writing).
///
/// ```
/// let mut config = asynclog::Config::default();
/// config.sinks.push(Box::new(asynclog::ConsoleSink::new(false)));
/// let logger = asynclog::Logger::new(config)?;
/// asynclog::info!(logger, "order filled", order_id = 42u64, price = 101.25, symbol = "AAPL");
/// logger.close()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[must_use = "dropping the Logger closes it at once"]
pub struct Logger {
    shared: Arc<Shared>,
    drain: Mutex<Option<os::Thread<Result<(), Error>>>>,
}

impl std::fmt::Debug for Logger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Logger")
            .field("id", &self.shared.id)
            .field("closed", &self.is_closed())
            .finish()
    }
}

impl Logger {
    /// Validates `config`, starts the drain thread and the sink workers.
    ///
    /// # Errors
    /// [`Error::Config`] naming the first invalid field; [`Error::Io`] if a thread cannot start.
    pub fn new(config: Config) -> Result<Logger, Error> {
        config.validate()?;
        barrier::register();
        let (commands, command_rx) = mpsc::channel();
        let parker = crossbeam_utils::sync::Parker::new();
        let counters = EngineCounters {
            sinks: config
                .sinks
                .iter()
                .map(|s| SinkCounters::new(s.name(), s.upload_telemetry()))
                .collect(),
            ..Default::default()
        };
        let shared = Arc::new(Shared {
            id: NEXT_LOGGER_ID.fetch_add(1, Ordering::Relaxed),
            closed: AtomicBool::new(false),
            min_level: AtomicU8::new(config.min_level as u8),
            ring_bytes: config.ring_bytes(),
            backpressure: config.backpressure,
            close_timeout: config.close_timeout,
            use_tsc: clock::tsc_usable(),
            hooks: config.hooks,
            registry: Default::default(),
            commands,
            drain_waker: parker.unparker().clone(),
            counters: CachePadded::new(counters),
        });
        let settings = crate::drain::Settings {
            max_workers: config.max_workers,
            max_retries: config.max_retries,
            retry_delay: config.retry_delay,
            flush_interval: config.flush_interval,
            max_batch_records: config.max_batch_records,
            close_timeout: config.close_timeout,
            closing: false,
        };
        let cpus = crate::drain::Cpus {
            drain: config.drain_cpu,
            sink_workers: config.sink_worker_cpus,
        };
        let drain = crate::drain::start(
            shared.clone(),
            config.sinks,
            settings,
            parker,
            command_rx,
            cpus,
        )?;
        Ok(Logger {
            shared,
            drain: Mutex::new(Some(drain)),
        })
    }

    /// Whether records at `level` pass the minimum level (one relaxed load).
    #[inline(always)]
    pub fn enabled(&self, level: Level) -> bool {
        self.shared.enabled(level)
    }

    /// The macros' level check: `Some(self)` when `level` is enabled, so that a macro evaluates
    /// its logger expression once and writes to the logger it checked.
    #[doc(hidden)]
    #[inline(always)]
    pub fn if_enabled(&self, level: Level) -> Option<&Self> {
        self.enabled(level).then_some(self)
    }

    /// Changes the minimum level at run time.
    pub fn set_min_level(&self, level: Level) {
        self.shared.min_level.store(level as u8, Ordering::Relaxed);
    }

    /// The current minimum level.
    pub fn min_level(&self) -> Level {
        Level::from_u8(self.shared.min_level.load(Ordering::Relaxed)).unwrap_or(Level::Trace)
    }

    /// True once `close` has begun.
    pub fn is_closed(&self) -> bool {
        self.shared.closed.load(Ordering::Relaxed)
    }

    /// Logs `message` with `fields` at `level` through this thread's producer (created on the
    /// thread's first call: that one allocation is the only one; see [`preallocate`]).
    /// A record below the minimum level is discarded and the call returns `Ok`.
    ///
    /// # Errors
    /// [`LogError::Closed`] after `close`; [`LogError::Dropped`] when the ring is full under
    /// `Backpressure::Drop`; [`LogError::TooLarge`] for a record bigger than the ring; key-length
    /// and field-count limits.
    ///
    /// [`preallocate`]: Logger::preallocate
    #[inline]
    pub fn log(&self, level: Level, message: &str, fields: &[Field<'_>]) -> Result<(), LogError> {
        if !self.enabled(level) {
            return Ok(());
        }
        let refused = self.with_local_producer(|p| p.write_now(level, message, fields, false));
        self.shared.finish_log(refused, level, message, fields)
    }

    /// [`log`](Self::log) for a message that is already formatted text (the `tracing` and `log`
    /// front ends'): the console writes it as it is, `{braces}` included, rather than as a
    /// template.
    #[cfg(any(feature = "tracing", feature = "log"))]
    #[inline(always)]
    pub(crate) fn log_text(
        &self,
        level: Level,
        message: &str,
        fields: &[Field<'_>],
    ) -> Result<(), LogError> {
        if !self.enabled(level) {
            return Ok(());
        }
        let refused = self.with_local_producer(
            #[inline(always)]
            |p| p.write_now(level, message, fields, true),
        );
        self.shared.finish_log(refused, level, message, fields)
    }

    /// The macros' path for a literal message: see [`Callsite`]. The macro has already checked
    /// that `level` is enabled; `values` are in the order of the call site's keys.
    #[doc(hidden)]
    #[inline(always)]
    pub fn log_callsite<const N: usize>(
        &self,
        level: Level,
        callsite: &'static Callsite,
        values: [Value<'_>; N],
    ) -> Result<(), LogError> {
        let Some(id) = callsite.id_for(N) else {
            return self.log(level, callsite.message(), &callsite.fields(&values));
        };
        let refused = self.with_local_producer(
            #[inline(always)]
            move |p| p.write_callsite_now(level, id, values),
        );
        self.shared
            .finish_log_callsite(refused, level, callsite, values)
    }

    /// [`log_callsite`](Self::log_callsite) for a call site made with
    /// [`Callsite::with_message_in_record`]: `values[0]` is the message (a [`Value::Str`]), the
    /// rest are in the order of the call site's keys. The caller has checked that `level` is
    /// enabled.
    #[cfg(feature = "tracing")]
    #[inline(always)]
    pub(crate) fn log_callsite_with_message<const N: usize>(
        &self,
        level: Level,
        callsite: &'static Callsite,
        values: [Value<'_>; N],
    ) -> Result<(), LogError> {
        let Some(id) = callsite.id_for(N) else {
            return self.log_message_first(Ok(()), level, callsite, &values, true);
        };
        let refused = self.with_local_producer(
            #[inline(always)]
            move |p| p.write_callsite_now(level, id, values),
        );
        if refused.is_ok() && self.shared.hooks.on_message_buffered.is_none() {
            return Ok(());
        }
        self.log_message_first(refused, level, callsite, &values, false)
    }

    /// The general record of a `log_callsite_with_message` call (`write` is true: its call site
    /// has no id), or the outcome of its call-site record, with the hooks it needs.
    #[cfg(feature = "tracing")]
    #[cold]
    #[inline(never)]
    fn log_message_first<const N: usize>(
        &self,
        refused: Result<(), Refused>,
        level: Level,
        callsite: &'static Callsite,
        values: &[Value<'_>; N],
        write: bool,
    ) -> Result<(), LogError> {
        let message = match values.first() {
            Some(Value::Str(message)) => message,
            _ => "",
        };
        let keys = callsite.keys();
        let fields: [Field<'_>; N] = std::array::from_fn(|i| Field {
            key: i
                .checked_sub(1)
                .and_then(|k| keys.get(k))
                .copied()
                .unwrap_or_default(),
            value: values[i],
        });
        let fields = fields.get(1..).unwrap_or_default();
        if write {
            return self.log_text(level, message, fields);
        }
        self.shared.finish_log(refused, level, message, fields)
    }

    level_methods!();

    /// Logs a pre-built record, keeping its timestamp. Converts its owned fields to borrowed ones
    /// (one small allocation), so prefer [`log`](Logger::log) on hot paths.
    ///
    /// # Errors
    /// As [`log`](Logger::log).
    pub fn log_message(&self, message: &LogMessage) -> Result<(), LogError> {
        if !self.enabled(message.level) {
            return Ok(());
        }
        let fields = message.borrowed_fields();
        let refused = self.with_local_producer(|p| {
            p.write_at(message.level, message.timestamp, &message.message, &fields)
        });
        self.shared
            .finish_log(refused, message.level, &message.message, &fields)
    }

    /// A new explicit producer with its own ring, for hot loops (no thread-local lookup).
    ///
    /// # Errors
    /// [`Error::Closed`] after `close`.
    pub fn producer(&self) -> Result<Producer, Error> {
        if self.is_closed() {
            return Err(Error::Closed);
        }
        Ok(Producer::register(&self.shared))
    }

    /// Registers the calling thread now, so its first log call allocates nothing.
    ///
    /// # Errors
    /// [`Error::Closed`] after `close`; [`Error::Refused`] with [`LogError::ThreadExiting`] from
    /// a thread-local destructor after this thread's asynclog state is gone, or with
    /// [`LogError::Reentrant`] from inside the logger's own bookkeeping (an allocator that logs).
    pub fn preallocate(&self) -> Result<(), Error> {
        if self.is_closed() {
            return Err(Error::Closed);
        }
        self.with_local_producer(|_| Ok(()))
            .map_err(|refused| match refused {
                Refused::Closed | Refused::ClosedAfterWrite => Error::Closed,
                other => Error::Refused(other.into_log_error(self.shared.ring_bytes, &[])),
            })
    }

    /// Returns when every record logged before the call, by any thread, has been written to
    /// every sink and every sink has flushed, or after [`Config::close_timeout`] (the bound
    /// `close` has too), whichever comes first.
    ///
    /// A sink still busy at the timeout (a write or flush that hangs) is named by
    /// [`Error::FlushTimedOut`]; every other sink has then been written and flushed, unless the
    /// busy sink has held up the drain itself: it keeps a fixed number of batches in flight, and
    /// a sink that hangs long enough to hold them all stalls the other sinks too, until it
    /// returns or `close` begins. The busy sink's worker keeps its work: once the sink returns
    /// it writes every batch and does the flush (a later `flush` is `Ok` again), and a `close`
    /// while it still hangs reports it with [`Error::CloseTimedOut`].
    ///
    /// A sink *loses* a batch when every attempt to write it fails (`1 +`
    /// [`Config::max_retries`]; `on_batch_failed` fires and [`SinkStats::failed_batches`]
    /// counts it). Each lost batch is reported by exactly one flush: the first `flush` (or
    /// `fatal`, or `close`) that reaches the sink's worker after the batch failed there, which
    /// is the first that covers the batch. Periodic flushes (`Config::flush_interval`) have no
    /// caller and leave it to the next one; a flush that times out puts back what it took, and
    /// the first of the flushes issued after it (they all cover the batch) to finish reports
    /// it. So a sink that loses batches and then writes again fails one flush, not every later
    /// one.
    ///
    /// # Errors
    /// [`Error::Closed`] after close; [`Error::FlushTimedOut`] naming the sinks still busy at
    /// the timeout; [`Error::Sink`] naming the first sink that lost a batch since the last flush
    /// that reported one, with that sink's last write error (other sinks' losses show only in
    /// the stats and hooks), else naming the first sink whose flush failed (the others still
    /// flushed), in this flush or in a periodic one since the last flush with a caller (which
    /// has nobody else to tell); [`Error::CalledFromWorker`] from a hook or sink.
    ///
    /// [`SinkStats::failed_batches`]: crate::SinkStats::failed_batches
    pub fn flush(&self) -> Result<(), Error> {
        self.shared.flush()
    }

    /// Drains every ring, writes and flushes everything, closes the sinks and joins the threads.
    /// Idempotent: later calls, and concurrent ones once the first finishes, return `Ok(())`.
    /// Log calls made after `close` began return [`LogError::Closed`].
    ///
    /// `close` returns once every sink has taken every record and its final flush and close
    /// have returned, or once [`Config::close_timeout`] has passed: a sink that hangs holds
    /// `close` (and `Drop`) that long and is then abandoned; the other sinks are flushed and
    /// closed without waiting for it. A sink that fails or panics does not hold it: its error
    /// is returned.
    ///
    /// # Errors
    /// [`Error::CloseTimedOut`] naming the sinks still busy at the timeout; [`Error::Sink`]
    /// naming the first sink that lost a batch not yet reported by a flush (see
    /// [`flush`](Logger::flush)), else whose final flush (or a periodic one not yet reported)
    /// or close failed; [`Error::CalledFromWorker`] from a hook or sink; [`Error::ThreadDied`]
    /// if the drain thread panicked.
    pub fn close(&self) -> Result<(), Error> {
        if on_internal_thread() {
            return Err(Error::CalledFromWorker("close"));
        }
        let mut drain = self.drain.lock().unwrap_or_else(|e| e.into_inner());
        let Some(handle) = drain.take() else {
            return Ok(());
        };
        self.start_close();
        handle.join().unwrap_or_else(|_| {
            Err(Error::ThreadDied(
                "the asynclog drain thread panicked".into(),
            ))
        })
    }

    /// Tells the drain to close, without waiting for it.
    fn start_close(&self) {
        // The close protocol (see `ring::barrier`): publish `closed`, then make sure every log
        // call that read `closed == false` after committing has its commit visible before the
        // drain's last pass.
        self.shared.closed.store(true, Ordering::SeqCst);
        barrier::heavy();
        // A drain that has died (it cannot, short of a bug) has dropped its end of the channel;
        // `close` then reports its panic from the join rather than a misleading `Closed`.
        let _ = self.shared.send(Command::Close);
    }

    /// A snapshot of the counters.
    pub fn stats(&self) -> Stats {
        self.shared.stats()
    }

    /// Producer rings not yet freed: one per live thread or [`Producer`] that has logged, plus
    /// rings of exited threads that the drain has not yet emptied. For leak tests.
    #[doc(hidden)]
    pub fn live_rings(&self) -> usize {
        self.shared.registry.live_rings()
    }

    /// Runs `f` on this thread's producer for this logger, creating it on first use. `f` must
    /// not log (ours only encode a record).
    #[inline(always)]
    fn with_local_producer(
        &self,
        f: impl FnOnce(&mut Producer) -> Result<(), Refused>,
    ) -> Result<(), Refused> {
        let mut first = FIRST.get();
        if first.logger_id != self.shared.id {
            // Out of line and without `f`: handing `f` (which holds the record's values) to a
            // function that is not inlined would put the values in memory on the hot path too.
            first = self.make_local_producer_first()?;
        }
        // SAFETY: `first.logger_id` is this logger's (not 0), so by `FirstProducer`'s invariant
        // `slot` points to `LOCAL_PRODUCERS.first`, which is alive (this thread is not past its
        // destructor, which clears `FIRST`), and no reference into `LOCAL_PRODUCERS` exists:
        // only `make_local_producer_first` makes one, it has returned, and nothing can make
        // another while `f` runs, since `f` does not log (our callers' `f` only encode a record:
        // no hook, no allocation, no user code; a full ring under `Block` spins, yields and
        // sleeps, none of which allocates). A signal handler could interrupt `f` and log: a log
        // call is not async-signal-safe (see `Logger`), and a handler's own safety contract
        // allows only async-signal-safe calls. `FIRST` is deliberately not cleared meanwhile:
        // a store to it on every call put a store-to-load forward on the chain from one call to
        // the next (~3 ns per call, examples/callcost and the hot_path bench).
        match unsafe { (*first.slot).as_mut() } {
            Some(producer) => f(producer),
            None => Err(Refused::ThreadExiting), // unreachable by the invariant
        }
    }

    /// Finds or creates this thread's producer for this logger, moves it into
    /// `LOCAL_PRODUCERS.first` (one logger per thread is the common case; a thread alternating
    /// between loggers comes here on each switch), and returns the matching `FIRST`.
    #[cold]
    #[inline(never)]
    fn make_local_producer_first(&self) -> Result<FirstProducer, Refused> {
        let Ok(cell) = LOCAL_PRODUCERS.try_with(|cell| cell as *const RefCell<LocalProducers>)
        else {
            return Err(Refused::ThreadExiting);
        };
        // SAFETY: a thread-local lives until this thread runs its destructors at exit, and this
        // call returns before then (`try_with` succeeding means they have not started), so the
        // pointer is valid for the whole call.
        let cell = unsafe { &*cell };
        let Ok(mut local) = cell.try_borrow_mut() else {
            return Err(Refused::Reentrant);
        };
        // `first` may be replaced below.
        FIRST.set(FirstProducer::NONE);
        self.move_into_first(&mut local)?;
        drop(local);
        let first = FirstProducer {
            logger_id: self.shared.id,
            // SAFETY: only the address of a field is computed (no reference is made), through
            // the cell's pointer, which is valid (see above).
            slot: unsafe { std::ptr::addr_of_mut!((*cell.as_ptr()).first) },
        };
        FIRST.set(first);
        Ok(first)
    }

    /// Puts this logger's producer in `local.first`, taking it from `others` or creating it.
    fn move_into_first(&self, local: &mut LocalProducers) -> Result<(), Refused> {
        let id = self.shared.id;
        if local.first.as_ref().is_some_and(|p| p.logger_id() == id) {
            return Ok(());
        }
        let producer = match local.others.iter().position(|p| p.logger_id() == id) {
            Some(index) => local.others.swap_remove(index),
            None => {
                if self.is_closed() {
                    return Err(Refused::Closed);
                }
                // Producers of closed loggers are dead weight; dropping them frees their rings.
                local.others.retain(|p| !p.logger_closed());
                Producer::register(&self.shared)
            }
        };
        if let Some(previous) = local.first.replace(producer) {
            if !previous.logger_closed() {
                // After a `swap_remove`, this reuses the freed place: switching between loggers
                // does not allocate.
                local.others.push(previous);
            }
        }
        Ok(())
    }
}

impl Logger {
    /// What dropping the last handle does: `close`, except on an asynclog thread (a sink or
    /// hook, typically of another logger, let go of this one), where `close` may not wait, since
    /// this thread may be one the close waits for. There the drain closes on its own, delivering
    /// every record, and its thread is detached.
    fn close_on_drop(&self) {
        if on_internal_thread() {
            let mut drain = self.drain.lock().unwrap_or_else(|e| e.into_inner());
            if drain.take().is_some() {
                self.start_close();
            }
            return;
        }
        // Errors were already reported through hooks and stats; a destructor cannot return them.
        let _ = self.close();
    }
}

impl Drop for Logger {
    fn drop(&mut self) {
        self.close_on_drop();
    }
}
