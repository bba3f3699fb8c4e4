//! The per-producer write path: one ring, owned by one thread (or one `Producer` handle).

use crate::config::Backpressure;
use crate::error::{Error, LogError};
use crate::ring::callsite::Callsite;
use crate::ring::clock::{read_tsc, system_time_to_ns, wall_now_ns};
use crate::ring::record::{
    CallsiteRecord, EncodeError, EncodeRecord, GeneralRecord, Header, FLAG_TEXT_MESSAGE,
    FLAG_WALL_CLOCK,
};
use crate::ring::{barrier, current_thread_id, RingCounters, RingHandle};
use crate::shared::{internal_thread_of, Refused, Shared};
use crate::value::{Field, Level, LogMessage, Value};
use crossbeam_utils::Backoff;
use std::mem::MaybeUninit;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

/// How long a blocked log call sleeps between looks at its ring, once spinning and yielding
/// have not helped.
const BLOCKED_SLEEP: Duration = Duration::from_micros(50);
/// How long a blocked log call yields before it sleeps: long enough for the drain it has just
/// woken to be scheduled and free a quarter of the ring when the drain keeps up, short enough
/// that behind a slow sink the call soon sleeps and leaves the cores to the drain and the sink.
/// NB: with only the spins of `Backoff` before sleeping, the producer slept (50 µs asked, about
/// 150 µs taken) while the drain emptied the ring, and the drain then went to sleep while the
/// producer filled it: the two took turns, about 140 µs each (`perf sched timehist`, `loadgen
/// --macro --sink null`), each core idle a quarter of the time.
const BLOCKED_YIELD_FOR: Duration = Duration::from_micros(200);

/// An explicit producer: its own ring, no thread-local lookup on each call. Get one with
/// [`Logger::producer`](crate::Logger::producer) for the hottest loops. It is `Send`, so it can
/// be moved to another thread, but not shared; records it logs keep their order. Its records
/// carry the id of the thread that created it (one id per ring), wherever it is moved.
///
/// ```
/// let logger = asynclog::Logger::new(asynclog::Config::default())?;
/// let mut producer = logger.producer()?;
/// for i in 0..3u64 {
///     asynclog::info!(producer, "tick", i = i);
/// }
/// logger.flush()?;
/// assert_eq!(logger.stats().delivered, 3);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Producer {
    ring: rtrb::Producer<u8>,
    /// `shared.id`, kept here so the thread-local lookup reads no other cache line.
    logger_id: u64,
    shared: Arc<Shared>,
    counters: Arc<RingCounters>,
    /// Ring capacity in bytes (a record larger than this can never fit).
    capacity: usize,
}

impl std::fmt::Debug for Producer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Producer")
            .field("logger", &self.shared.id)
            .field("capacity", &self.capacity)
            .finish()
    }
}

impl Producer {
    /// Creates a ring and registers it with the drain (allocates the ring; nothing after this
    /// does).
    pub(crate) fn register(shared: &Arc<Shared>) -> Producer {
        let (ring, consumer) = rtrb::RingBuffer::new(shared.ring_bytes);
        let counters = Arc::new(RingCounters::default());
        shared.registry.register(RingHandle {
            consumer,
            counters: counters.clone(),
            thread_id: current_thread_id(),
        });
        Producer {
            ring,
            logger_id: shared.id,
            shared: shared.clone(),
            counters,
            capacity: shared.ring_bytes,
        }
    }

    #[inline(always)]
    pub(crate) fn logger_id(&self) -> u64 {
        self.logger_id
    }

    pub(crate) fn logger_closed(&self) -> bool {
        self.shared.closed.load(Relaxed)
    }

    /// Whether records at `level` pass the logger's minimum level.
    #[inline(always)]
    pub fn enabled(&self, level: Level) -> bool {
        self.shared.enabled(level)
    }

    /// The macros' level check: `Some(self)` when `level` is enabled, so that a macro evaluates
    /// its logger expression once and writes to the producer it checked.
    #[doc(hidden)]
    #[inline(always)]
    pub fn if_enabled(&mut self, level: Level) -> Option<&mut Self> {
        if self.enabled(level) {
            Some(self)
        } else {
            None
        }
    }

    /// Logs a record with fields. See [`Logger::log`](crate::Logger::log).
    ///
    /// # Errors
    /// As [`Logger::log`](crate::Logger::log).
    #[inline]
    pub fn log(
        &mut self,
        level: Level,
        message: &str,
        fields: &[Field<'_>],
    ) -> Result<(), LogError> {
        if !self.enabled(level) {
            return Ok(());
        }
        let refused = self.write_now(level, message, fields, false);
        self.shared.finish_log(refused, level, message, fields)
    }

    /// The macros' path for a literal message: see [`Callsite`]. The macro has already checked
    /// that `level` is enabled; `values` are in the order of the call site's keys.
    #[doc(hidden)]
    #[inline(always)]
    pub fn log_callsite<const N: usize>(
        &mut self,
        level: Level,
        callsite: &'static Callsite,
        values: [Value<'_>; N],
    ) -> Result<(), LogError> {
        let Some(id) = callsite.id_for(N) else {
            return self.log(level, callsite.message(), &callsite.fields(&values));
        };
        let refused = self.write_callsite_now(level, id, values);
        self.shared
            .finish_log_callsite(refused, level, callsite, values)
    }

    super::level_methods!(mut);

    /// Logs a pre-built record with its own timestamp.
    ///
    /// # Errors
    /// As [`Logger::log`](crate::Logger::log).
    pub fn log_message(&mut self, message: &LogMessage) -> Result<(), LogError> {
        if !self.enabled(message.level) {
            return Ok(());
        }
        let fields = message.borrowed_fields();
        let refused = self.write_at(message.level, message.timestamp, &message.message, &fields);
        self.shared
            .finish_log(refused, message.level, &message.message, &fields)
    }

    /// Writes a record stamped with a caller-supplied wall-clock time.
    pub(crate) fn write_at(
        &mut self,
        level: Level,
        timestamp: SystemTime,
        message: &str,
        fields: &[Field<'_>],
    ) -> Result<(), Refused> {
        let header = Header {
            level,
            flags: FLAG_WALL_CLOCK,
            timestamp: system_time_to_ns(timestamp) as u64,
        };
        self.write(header, message, fields)
    }

    /// Flushes the whole logger. See [`Logger::flush`](crate::Logger::flush).
    ///
    /// # Errors
    /// As [`Logger::flush`](crate::Logger::flush).
    pub fn flush(&self) -> Result<(), Error> {
        self.shared.flush()
    }

    /// A header stamped now.
    #[inline(always)]
    fn header_now(&self, level: Level) -> Header {
        if self.shared.use_tsc {
            Header {
                level,
                flags: 0,
                timestamp: read_tsc(),
            }
        } else {
            Header {
                level,
                flags: FLAG_WALL_CLOCK,
                timestamp: wall_now_ns() as u64,
            }
        }
    }

    /// Stamps the record now and writes it; `message_is_text` marks a message that is finished
    /// text, not a template ([`FLAG_TEXT_MESSAGE`]).
    #[inline(always)]
    pub(crate) fn write_now(
        &mut self,
        level: Level,
        message: &str,
        fields: &[Field<'_>],
        message_is_text: bool,
    ) -> Result<(), Refused> {
        let mut header = self.header_now(level);
        if message_is_text {
            header.flags |= FLAG_TEXT_MESSAGE;
        }
        self.write(header, message, fields)
    }

    /// Stamps a call-site record now and writes it.
    #[inline(always)]
    pub(crate) fn write_callsite_now<const N: usize>(
        &mut self,
        level: Level,
        callsite_id: u32,
        values: [Value<'_>; N],
    ) -> Result<(), Refused> {
        // `values` is taken by value: a private copy whose address never escapes, so the
        // compiler can keep the (constant) variants in registers across the stores into the
        // ring instead of reloading them after each one.
        let record = CallsiteRecord {
            header: self.header_now(level),
            callsite_id,
            values,
        };
        match record.encoded_len() {
            Ok(len) => self.commit_record(len, &record),
            Err(e) => Err(self.refuse(e)),
        }
    }

    /// Writes a general record (message and keys in the record).
    #[inline(always)]
    fn write(
        &mut self,
        header: Header,
        message: &str,
        fields: &[Field<'_>],
    ) -> Result<(), Refused> {
        let record = GeneralRecord {
            header,
            message,
            fields,
        };
        match record.encoded_len() {
            Ok(len) => self.commit_record(len, &record),
            Err(e) => Err(self.refuse(e)),
        }
    }

    /// The hot path: reserve `len` bytes, encode, commit. No allocation, no lock, no syscall
    /// unless the ring is full under `Block`.
    #[inline(always)]
    fn commit_record(&mut self, len: usize, record: &impl EncodeRecord) -> Result<(), Refused> {
        // 1. A closed logger's drain is gone: refuse before touching the ring.
        if self.shared.closed.load(Relaxed) {
            return Err(Refused::Closed);
        }
        // 2. Reserve, usually against the cached head index (no shared cache line); `make_room`
        //    refreshes it, and blocks or drops when the ring really is full.
        let mut chunk = match self.ring.write_chunk_uninit(len) {
            Ok(chunk) => chunk,
            Err(_) => {
                self.make_room(len)?;
                self.ring
                    .write_chunk_uninit(len)
                    .expect("room for the record was just made, and only this producer takes it")
            }
        };
        // 3. Encode straight into the ring (two slices when the record wraps).
        let (first, second) = chunk.as_mut_slices();
        let next_calls = first.as_ptr().wrapping_add(PREFETCH_AHEAD);
        if second.is_empty() {
            // Re-sliced to `len`, which is a constant for most call sites, so the compiler can
            // drop the encoder's bounds check at every field.
            record.encode_into(&mut first[..len], second);
        } else {
            record.encode_into(first, second);
        }
        // Counted before the drain can see it, so no `Stats` snapshot has the drain delivering
        // a record that `buffered` does not count yet (`delivered <= buffered`, always).
        self.counters.add_buffered();
        // SAFETY: `record` is a `GeneralRecord` or a `CallsiteRecord` (this private function's
        // only callers), whose `encode_into` writes every byte of both slices, which together are
        // the `len` bytes of the chunk; `len` is that record's `encoded_len`.
        unsafe { chunk.commit_all() };
        prefetch_for_write(next_calls);
        self.after_commit()
    }

    /// Re-checks `closed` after a commit (the close protocol in `ring::barrier`): if close
    /// began, the drain may already have made its last pass and this record may be lost.
    #[inline(always)]
    fn after_commit(&self) -> Result<(), Refused> {
        barrier::light();
        if self.shared.closed.load(Relaxed) {
            return Err(Refused::ClosedAfterWrite);
        }
        Ok(())
    }

    #[cold]
    fn refuse(&self, error: EncodeError) -> Refused {
        self.counters.add_dropped();
        match error {
            EncodeError::KeyTooLong => Refused::KeyTooLong,
            EncodeError::TooManyFields => Refused::TooManyFields,
            EncodeError::TooLong { size } => Refused::TooLarge { size },
        }
    }

    /// The ring lacks `len` free bytes: apply the backpressure strategy.
    #[cold]
    #[inline(never)]
    fn make_room(&mut self, len: usize) -> Result<(), Refused> {
        if len > self.capacity {
            self.counters.add_dropped();
            return Err(Refused::TooLarge { size: len });
        }
        match self.shared.backpressure {
            Backpressure::Drop => {
                self.counters.add_dropped();
                Err(Refused::Dropped)
            }
            // A hook or sink of this logger logging on its drain or sink worker: only the drain
            // makes room, and it may be waiting for a batch this very thread holds.
            Backpressure::Block if internal_thread_of(self.logger_id) => {
                self.counters.add_dropped();
                Err(Refused::Dropped)
            }
            Backpressure::Block => {
                // Wait for a quarter of the ring, not just this record: resuming as soon as one
                // record fits keeps this thread writing the lines the drain has just read, one
                // record behind it, which slowed the drain (and so every blocked caller).
                let wanted = len.max(self.capacity / 4);
                // A full ring with an idle drain (asleep in its back-off, up to a millisecond)
                // would keep this call waiting for nothing: wake it. Log calls that find room
                // never do this. NB: without it, a producer faster than the drain alternated
                // with it, each asleep while the other worked: 3.5-4 M records/s into a null
                // sink instead of 20 M (1,000,000 `info!` calls back to back, then `flush`).
                self.shared.drain_waker.unpark();
                let backoff = Backoff::new();
                // When the back-off's own spins and yields were over.
                let mut yielding_since: Option<Instant> = None;
                loop {
                    if self.ring.slots() >= wanted {
                        return Ok(());
                    }
                    if self.shared.closed.load(Relaxed) {
                        return Err(Refused::Closed);
                    }
                    if !backoff.is_completed() {
                        backoff.snooze();
                    } else if yielding_since.get_or_insert_with(Instant::now).elapsed()
                        < BLOCKED_YIELD_FOR
                    {
                        std::thread::yield_now();
                    } else {
                        // A plain sleep, not `park_timeout`: nothing unparks a blocked producer,
                        // and `park` looks up `thread::current()`, which allocates on a thread std
                        // did not start; an allocator that logs would then re-enter this call.
                        std::thread::sleep(BLOCKED_SLEEP);
                    }
                }
            }
        }
    }
}

/// How far past a record's start the hot path prefetches the ring, in bytes (four cache lines:
/// the next few records).
const PREFETCH_AHEAD: usize = 256;

/// Asks for the cache line at `at` in exclusive state, so the stores of the next calls find it
/// ready rather than waiting for the drain's core to give it up. NB: in A/B runs of
/// `cargo bench --bench hot_path` it halved the thread-local path's per-call p99 and p99.9 and
/// left p50 and the criterion means unchanged within noise.
#[inline(always)]
fn prefetch_for_write(at: *const MaybeUninit<u8>) {
    // Miri cannot run inline assembly; a hint has no effect it could check anyway.
    #[cfg(all(target_arch = "x86_64", not(miri)))]
    // SAFETY: a prefetch is only a hint: it never faults and is not a memory access in Rust's
    // abstract machine. `at` may lie past the ring's end, which only makes the hint useless.
    unsafe {
        // `_mm_prefetch::<_MM_HINT_ET0>` compiles to a plain read prefetch (`prefetcht0`) unless
        // the build enables the `prfchw` target feature, and a line fetched for reading still
        // needs an ownership round trip at the first store. `prefetchw` itself decodes on every
        // x86-64 (a no-op where unsupported).
        std::arch::asm!("prefetchw [{at}]", at = in(reg) at, options(nostack, preserves_flags, readonly));
    }
    #[cfg(any(not(target_arch = "x86_64"), miri))]
    let _ = at;
}
