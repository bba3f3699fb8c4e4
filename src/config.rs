//! [`Config`], its defaults, and [`Backpressure`].

use crate::error::Error;
use crate::os;
use crate::sinks::Sink;
use crate::telemetry::Hooks;
use crate::value::Level;
use std::collections::{BTreeSet, HashSet};
use std::fmt;
use std::time::Duration;

/// Default [`Config::buffer_size`]: 1000 messages of typical size per producer.
pub const DEFAULT_BUFFER_SIZE: usize = 1000;
/// Default [`Config::max_workers`].
pub const DEFAULT_MAX_WORKERS: usize = 10;
/// Default [`Config::backpressure`].
pub const DEFAULT_BACKPRESSURE: Backpressure = Backpressure::Block;
/// Default [`Config::max_retries`].
pub const DEFAULT_MAX_RETRIES: u32 = 3;
/// Default [`Config::retry_delay`].
pub const DEFAULT_RETRY_DELAY: Duration = Duration::from_millis(100);
/// Default [`Config::flush_interval`].
pub const DEFAULT_FLUSH_INTERVAL: Duration = Duration::from_secs(5);
/// Default [`Config::close_timeout`].
pub const DEFAULT_CLOSE_TIMEOUT: Duration = Duration::from_secs(10);
/// Default [`Config::min_level`]: everything is logged.
pub const DEFAULT_MIN_LEVEL: Level = Level::Trace;
/// Default [`Config::max_batch_records`].
pub const DEFAULT_MAX_BATCH_RECORDS: usize = 8192;
/// Ring bytes reserved per unit of [`Config::buffer_size`]. A record of a 20-byte message with
/// three fields encodes to about 90 bytes, so one unit holds such a record with room to spare.
pub const RING_BYTES_PER_MESSAGE: usize = 128;
/// The largest ring a producer may have (2 GiB; record offsets are 32-bit).
pub const MAX_RING_BYTES: usize = 1 << 31;

/// What a log call does when its producer's ring is full.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Backpressure {
    /// Wait until the drain makes room: spin briefly, yield for up to 200 µs, then sleep in
    /// short steps (behind a slow sink). Nothing is ever lost. The default. Except for a hook or
    /// sink logging to its own logger, on that logger's drain or sink worker: the drain may be
    /// waiting for that very thread, so a full ring there drops the record as under `Drop`.
    #[default]
    Block,
    /// Return [`LogError::Dropped`](crate::LogError::Dropped) at once, count the record as dropped
    /// and call `on_message_dropped`.
    Drop,
}

/// Logger configuration. Start from [`Config::default`] (the defaults below) and change what you
/// need, with the `with_*` setters or by assigning fields:
///
/// ```
/// use asynclog::{Backpressure, Config, ConsoleSink, Level};
///
/// let config = Config::default()
///     .with_sink(ConsoleSink::stdout())
///     .with_min_level(Level::Info)
///     .with_backpressure(Backpressure::Drop);
/// let mut same = Config::default();
/// same.sinks.push(Box::new(ConsoleSink::stdout()));
/// same.min_level = Level::Info;
/// same.backpressure = Backpressure::Drop;
/// # assert_eq!(format!("{config:?}"), format!("{same:?}"));
/// ```
///
/// New options may be added in minor releases (the struct is `#[non_exhaustive]`), each with a
/// default, so code written this way keeps compiling. All options apply when the logger is created; only the minimum level can change later
/// ([`Logger::set_min_level`](crate::Logger::set_min_level)).
#[non_exhaustive]
pub struct Config {
    /// Capacity of each producer's ring, in messages of typical size: every thread that logs (and
    /// every [`Producer`](crate::Producer)) gets a ring of `buffer_size *`
    /// [`RING_BYTES_PER_MESSAGE`] bytes. Records are variable-length, so the exact count that
    /// fits depends on message and field sizes; a record larger than the whole ring is refused
    /// with [`LogError::TooLarge`](crate::LogError::TooLarge). The default (1000, 128,000 bytes)
    /// takes records up to about 125 KiB. Default [`DEFAULT_BUFFER_SIZE`].
    pub buffer_size: usize,
    /// Upper bound on sink worker threads; `min(max_workers, sinks.len())` are started and sinks
    /// are spread over them round-robin. Default [`DEFAULT_MAX_WORKERS`].
    pub max_workers: usize,
    /// What a log call does when its ring is full. Default [`DEFAULT_BACKPRESSURE`].
    pub backpressure: Backpressure,
    /// How many times a failed sink write is retried before `on_batch_failed`. Default
    /// [`DEFAULT_MAX_RETRIES`].
    pub max_retries: u32,
    /// Pause between retries, on that sink's worker only. Shorter than
    /// [`close_timeout`](Self::close_timeout) (unless `max_retries` is 0): `flush` and `close`
    /// would otherwise give up on a sink that failed once, with the batch it was to retry.
    /// Default [`DEFAULT_RETRY_DELAY`].
    pub retry_delay: Duration,
    /// How often sinks are asked to flush (make file bytes visible, end a Parquet row group) when
    /// nobody calls `flush()`. Records reach a sink within about 1.5 ms regardless (the drain's
    /// longest idle sleep, 1 ms, plus the longest a batch keeps filling under load, 0.5 ms). A
    /// periodic flush still under way in some sink when the next is due delays the next until it
    /// is done. Default [`DEFAULT_FLUSH_INTERVAL`].
    pub flush_interval: Duration,
    /// The most records in one batch handed to the sinks. Default [`DEFAULT_MAX_BATCH_RECORDS`].
    pub max_batch_records: usize,
    /// How long `close` (and `Drop`) waits for the sinks to write what is left, flush and close.
    /// A sink still busy then (a hung write, a stuck disk) is abandoned: `close` returns
    /// [`Error::CloseTimedOut`] naming it, its worker thread is left
    /// to finish on its own, and every other sink has received every record.
    ///
    /// It bounds [`Logger::flush`](crate::Logger::flush) (and so `fatal`) the same way: a flush
    /// still waiting for a sink then returns [`Error::FlushTimedOut`] naming it. Default
    /// [`DEFAULT_CLOSE_TIMEOUT`].
    pub close_timeout: Duration,
    /// Records below this level are discarded on the calling thread at the cost of one relaxed
    /// load. Default [`DEFAULT_MIN_LEVEL`].
    pub min_level: Level,
    /// Where records go; every sink gets every record. Names must be unique.
    pub sinks: Vec<Box<dyn Sink>>,
    /// Telemetry callbacks.
    pub hooks: Hooks,
    /// The CPU the drain thread is pinned to (`sched_setaffinity`), or `None`: the OS places it
    /// (the default). With `sink_worker_cpus` and a Parquet sink's
    /// `ParquetSinkConfig::encoder_cpu`, it chooses where the logger's own threads run:
    /// BENCHMARKS.md measures placements for throughput and for the per-call tail. A CPU no
    /// thread of this process may use is a config error; so is any CPU on systems other than
    /// Linux.
    pub drain_cpu: Option<usize>,
    /// The CPUs the sink worker threads are pinned to: worker `n` (named `asynclog-sink-n`) to
    /// `sink_worker_cpus[n % len]`. Empty (the default): the OS places them. As for
    /// [`drain_cpu`](Self::drain_cpu).
    pub sink_worker_cpus: Vec<usize>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            buffer_size: DEFAULT_BUFFER_SIZE,
            max_workers: DEFAULT_MAX_WORKERS,
            backpressure: DEFAULT_BACKPRESSURE,
            max_retries: DEFAULT_MAX_RETRIES,
            retry_delay: DEFAULT_RETRY_DELAY,
            flush_interval: DEFAULT_FLUSH_INTERVAL,
            max_batch_records: DEFAULT_MAX_BATCH_RECORDS,
            close_timeout: DEFAULT_CLOSE_TIMEOUT,
            min_level: DEFAULT_MIN_LEVEL,
            sinks: Vec::new(),
            hooks: Hooks::default(),
            drain_cpu: None,
            sink_worker_cpus: Vec::new(),
        }
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sink_names: Vec<&str> = self.sinks.iter().map(|s| s.name()).collect();
        f.debug_struct("Config")
            .field("buffer_size", &self.buffer_size)
            .field("max_workers", &self.max_workers)
            .field("backpressure", &self.backpressure)
            .field("max_retries", &self.max_retries)
            .field("retry_delay", &self.retry_delay)
            .field("flush_interval", &self.flush_interval)
            .field("max_batch_records", &self.max_batch_records)
            .field("close_timeout", &self.close_timeout)
            .field("min_level", &self.min_level)
            .field("sinks", &sink_names)
            .field("hooks", &self.hooks)
            .field("drain_cpu", &self.drain_cpu)
            .field("sink_worker_cpus", &self.sink_worker_cpus)
            .finish()
    }
}

impl Config {
    /// Adds a sink ([`Config::sinks`]): every sink gets every record.
    #[must_use]
    pub fn with_sink(mut self, sink: impl Sink + 'static) -> Config {
        self.sinks.push(Box::new(sink));
        self
    }

    /// Sets [`Config::buffer_size`].
    #[must_use]
    pub fn with_buffer_size(mut self, buffer_size: usize) -> Config {
        self.buffer_size = buffer_size;
        self
    }

    /// Sets [`Config::max_workers`].
    #[must_use]
    pub fn with_max_workers(mut self, max_workers: usize) -> Config {
        self.max_workers = max_workers;
        self
    }

    /// Sets [`Config::backpressure`].
    #[must_use]
    pub fn with_backpressure(mut self, backpressure: Backpressure) -> Config {
        self.backpressure = backpressure;
        self
    }

    /// Sets [`Config::max_retries`].
    #[must_use]
    pub fn with_max_retries(mut self, max_retries: u32) -> Config {
        self.max_retries = max_retries;
        self
    }

    /// Sets [`Config::retry_delay`].
    #[must_use]
    pub fn with_retry_delay(mut self, retry_delay: Duration) -> Config {
        self.retry_delay = retry_delay;
        self
    }

    /// Sets [`Config::flush_interval`].
    #[must_use]
    pub fn with_flush_interval(mut self, flush_interval: Duration) -> Config {
        self.flush_interval = flush_interval;
        self
    }

    /// Sets [`Config::max_batch_records`].
    #[must_use]
    pub fn with_max_batch_records(mut self, max_batch_records: usize) -> Config {
        self.max_batch_records = max_batch_records;
        self
    }

    /// Sets [`Config::close_timeout`].
    #[must_use]
    pub fn with_close_timeout(mut self, close_timeout: Duration) -> Config {
        self.close_timeout = close_timeout;
        self
    }

    /// Sets [`Config::min_level`].
    #[must_use]
    pub fn with_min_level(mut self, min_level: Level) -> Config {
        self.min_level = min_level;
        self
    }

    /// Sets [`Config::hooks`].
    #[must_use]
    pub fn with_hooks(mut self, hooks: Hooks) -> Config {
        self.hooks = hooks;
        self
    }

    /// Sets [`Config::drain_cpu`].
    #[must_use]
    pub fn with_drain_cpu(mut self, cpu: usize) -> Config {
        self.drain_cpu = Some(cpu);
        self
    }

    /// Sets [`Config::sink_worker_cpus`].
    #[must_use]
    pub fn with_sink_worker_cpus(mut self, cpus: impl IntoIterator<Item = usize>) -> Config {
        self.sink_worker_cpus = cpus.into_iter().collect();
        self
    }

    /// Ring capacity in bytes for this configuration.
    pub fn ring_bytes(&self) -> usize {
        self.buffer_size.saturating_mul(RING_BYTES_PER_MESSAGE)
    }

    /// Checks every value; the error names the first field that is out of range.
    /// [`Logger::new`](crate::Logger::new) calls it.
    ///
    /// # Errors
    /// [`Error::Config`] naming the first field out of range, and why.
    pub fn validate(&self) -> Result<(), Error> {
        let bad = |field, reason: &str| {
            Err(Error::Config {
                field,
                reason: reason.to_owned(),
            })
        };
        if self.buffer_size == 0 {
            return bad("buffer_size", "must be at least 1");
        }
        if self.ring_bytes() > MAX_RING_BYTES {
            return Err(Error::Config {
                field: "buffer_size",
                reason: format!(
                    "is {}, more than the {} that fit a 2 GiB ring",
                    self.buffer_size,
                    MAX_RING_BYTES / RING_BYTES_PER_MESSAGE
                ),
            });
        }
        if self.max_workers == 0 {
            return bad("max_workers", "must be at least 1");
        }
        if self.flush_interval.is_zero() {
            return bad("flush_interval", "must be longer than zero");
        }
        if self.close_timeout.is_zero() {
            return bad("close_timeout", "must be longer than zero");
        }
        if self.max_retries > 0 && self.retry_delay >= self.close_timeout {
            return Err(Error::Config {
                field: "retry_delay",
                reason: format!(
                    "is {:?}, not shorter than close_timeout ({:?}): flush and close would give \
                     up on a sink waiting to retry a failed write, and lose its batch; shorten \
                     retry_delay (default {:?}) or set max_retries to 0",
                    self.retry_delay, self.close_timeout, DEFAULT_RETRY_DELAY
                ),
            });
        }
        if self.max_batch_records == 0 {
            return bad("max_batch_records", "must be at least 1");
        }
        if self.max_batch_records > i32::MAX as usize / 64 {
            return bad("max_batch_records", "must be at most 33554431");
        }
        // One probe thread per distinct CPU and option.
        let worker_cpus: BTreeSet<usize> = self.sink_worker_cpus.iter().copied().collect();
        let pins = (self.drain_cpu.iter().map(|&cpu| ("drain_cpu", cpu)))
            .chain(worker_cpus.into_iter().map(|cpu| ("sink_worker_cpus", cpu)));
        for (field, cpu) in pins {
            if let Some(reason) = os::unpinnable_cpu(cpu) {
                return Err(Error::Config { field, reason });
            }
        }
        let mut names = HashSet::new();
        for sink in &self.sinks {
            let name = sink.name();
            if name.is_empty() {
                return bad("sinks", "contains a sink with an empty name");
            }
            if !names.insert(name) {
                return Err(Error::Config {
                    field: "sinks",
                    reason: format!("has two sinks named `{name}`; sink names must be unique"),
                });
            }
        }
        Ok(())
    }
}
