//! State shared by the logging threads, the drain thread and the sink workers of one logger.

use crate::config::Backpressure;
use crate::error::{Error, LogError, SinkError};
use crate::ring::callsite::Callsite;
use crate::ring::record::MAX_KEY_LEN;
use crate::ring::Registry;
use crate::telemetry::{call_hook, Hooks, SinkCounters, Stats};
use crate::value::{Field, Level, MessageRef, Value};
use crossbeam_utils::sync::Unparker;
use crossbeam_utils::CachePadded;
use std::cell::Cell;
use std::sync::atomic::{
    AtomicBool, AtomicU64, AtomicU8,
    Ordering::{Acquire, Relaxed},
};
use std::sync::mpsc::{sync_channel, Receiver, RecvTimeoutError, Sender, SyncSender};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What the logging side asks of the drain thread.
pub enum Command {
    /// Deliver everything logged so far to every sink, flush the sinks, then answer.
    Flush(FlushRequest),
    /// Drain every ring, flush and close the sinks, stop the workers, and exit.
    Close,
}

/// A flush a caller waits for, as the drain receives it.
pub struct FlushRequest {
    /// Shared with the caller, who may give up waiting.
    pub call: Arc<FlushCall>,
    /// The answer. Dropped unanswered (the drain exiting), it reads as [`Error::Closed`].
    pub reply: SyncSender<Result<(), Error>>,
}

impl FlushRequest {
    /// A request and the receiver of its answer.
    pub fn new() -> (FlushRequest, Receiver<Result<(), Error>>) {
        let (reply, answer) = sync_channel(1);
        let request = FlushRequest {
            call: Arc::default(),
            reply,
        };
        (request, answer)
    }
}

/// What a flush shares with its caller. The worker that completes the flush answers under this
/// lock and a caller that times out gives up under it, so a lost-batch error the flush took is
/// either answered or put back for the next flush, never dropped.
#[derive(Default)]
pub struct FlushCall {
    pub state: Mutex<CallState>,
}

#[derive(Default)]
pub struct CallState {
    /// Per sink (configuration order), the `jobs_done` count at which it has done this flush;
    /// set once the drain has handed the flush to the workers.
    pub targets: Option<Vec<u64>>,
    /// Lost-batch errors this flush took, by sink index, in the order taken.
    pub lost: Vec<(usize, SinkError)>,
    /// The caller stopped waiting: the flush takes no more lost-batch errors and answers nothing.
    pub gave_up: bool,
    /// The flush's place in the order the drain issued flushes (from 1; 0 until the drain has
    /// made its ticket, before which it has taken nothing).
    pub seq: u64,
}

/// A lost-batch error that a flush took and then gave up on (its caller timed out). Every flush
/// issued after that one covers the batch, so the first of them with a caller to finish reports
/// it, whether or not it has already passed the sink (see `FlushTicket::complete`).
#[derive(Debug)]
pub struct ReturnedLoss {
    /// The `seq` of the flush that gave up.
    pub seq: u64,
    /// The sink's index.
    pub index: usize,
    pub error: SinkError,
}

/// Counters kept by the drain and the workers.
#[derive(Debug, Default)]
pub struct EngineCounters {
    pub delivered: AtomicU64,
    pub batches: AtomicU64,
    pub flushes: AtomicU64,
    pub hook_panics: AtomicU64,
    /// Records refused before reaching a ring (see [`Stats::refused`]).
    pub refused: AtomicU64,
    /// One per sink, in configuration order.
    pub sinks: Vec<SinkCounters>,
    /// The `seq` of the last flush ticket made (only the drain makes them).
    pub flush_seq: AtomicU64,
    /// Lost-batch errors put back by flushes whose callers gave up.
    pub returned: Mutex<Vec<ReturnedLoss>>,
    /// The sink flush error of each flush whose caller gave up, with that flush's `seq`: every
    /// flush issued after it covers what it flushed, so the first of them with a caller to
    /// finish reports it (as for `returned`).
    pub returned_flush: Mutex<Vec<(u64, Error)>>,
}

pub struct Shared {
    /// Distinguishes loggers in each thread's producer list.
    pub id: u64,
    /// Set once by `close`; read by every log call (twice, see `ring::barrier`).
    pub closed: AtomicBool,
    pub min_level: AtomicU8,
    pub ring_bytes: usize,
    pub backpressure: Backpressure,
    /// `Config::close_timeout`: bounds `close` and `flush`.
    pub close_timeout: Duration,
    /// Stamp records with TSC ticks (else wall-clock ns).
    pub use_tsc: bool,
    pub hooks: Hooks,
    /// Written when threads start and stop logging: kept off the cache line of the fields above,
    /// which every log call reads.
    pub registry: CachePadded<Registry>,
    pub commands: Sender<Command>,
    pub drain_waker: Unparker,
    /// Written by the drain at every batch: on a cache line of its own, for the same reason.
    pub counters: CachePadded<EngineCounters>,
}

thread_local! {
    /// On the drain thread and on sink workers, the id of their logger (0 elsewhere): there
    /// `flush` and `close` would deadlock, and so would waiting for room in that logger's rings.
    static INTERNAL_THREAD: Cell<u64> = const { Cell::new(0) };
}

/// Marks the current thread as one of asynclog's own, working for the logger `logger_id`.
pub fn mark_internal_thread(logger_id: u64) {
    INTERNAL_THREAD.with(|c| c.set(logger_id));
}

/// Whether the current thread is one of asynclog's own.
pub fn on_internal_thread() -> bool {
    INTERNAL_THREAD.try_with(Cell::get).unwrap_or(0) != 0
}

/// Whether the current thread is the drain or a sink worker of the logger `logger_id`.
pub fn internal_thread_of(logger_id: u64) -> bool {
    INTERNAL_THREAD.try_with(Cell::get).unwrap_or(0) == logger_id
}

thread_local! {
    /// True while a calling-thread hook (`on_message_buffered`, `on_message_dropped`) runs on
    /// this thread, or the global logger's panic hook logs the panic: the records logged then
    /// call no calling-thread hook. A hook that logs would otherwise call itself again for its
    /// own record, without end; and a panic in a hook inside a panic hook aborts the process.
    static CALLER_HOOKS_OFF: Cell<bool> = const { Cell::new(false) };
}

/// Runs `f` with this thread's calling-thread hooks off (see `CALLER_HOOKS_OFF`).
pub fn without_caller_hooks<R>(f: impl FnOnce() -> R) -> R {
    let was = CALLER_HOOKS_OFF
        .try_with(|c| c.replace(true))
        .unwrap_or(false);
    let result = f();
    let _ = CALLER_HOOKS_OFF.try_with(|c| c.set(was));
    result
}

/// Whether [`without_caller_hooks`] is running on this thread.
fn caller_hooks_off() -> bool {
    CALLER_HOOKS_OFF.try_with(Cell::get).unwrap_or(false)
}

impl Shared {
    #[inline(always)]
    pub fn enabled(&self, level: Level) -> bool {
        level as u8 >= self.min_level.load(Relaxed)
    }

    /// Sends a command and wakes the drain.
    pub fn send(&self, command: Command) -> Result<(), Error> {
        self.commands.send(command).map_err(|_| Error::Closed)?;
        self.drain_waker.unpark();
        Ok(())
    }

    /// Blocks until everything logged before the call is written and flushed in every sink, or
    /// until `close_timeout` has passed.
    pub fn flush(&self) -> Result<(), Error> {
        if on_internal_thread() {
            return Err(Error::CalledFromWorker("flush"));
        }
        if self.closed.load(Relaxed) {
            return Err(Error::Closed);
        }
        let (request, answer) = FlushRequest::new();
        let call = request.call.clone();
        self.send(Command::Flush(request))?;
        // `recv_timeout` waits without limit when the wait is too long for an `Instant`.
        match answer.recv_timeout(self.close_timeout) {
            Ok(result) => result,
            // The drain drops unanswered requests when it exits: that reads as "closed".
            Err(RecvTimeoutError::Disconnected) => Err(Error::Closed),
            Err(RecvTimeoutError::Timeout) => self.give_up_flush(&call, &answer),
        }
    }

    /// Stops waiting for a flush: puts back the lost-batch errors it took, for the first flush
    /// issued after it that has a caller to report, and names the sinks that have not done it.
    #[cold]
    fn give_up_flush(
        &self,
        call: &FlushCall,
        answer: &Receiver<Result<(), Error>>,
    ) -> Result<(), Error> {
        let mut state = call.state.lock().unwrap_or_else(|e| e.into_inner());
        // Answers are sent under this lock: one sent before we took it is in the channel now.
        if let Ok(result) = answer.try_recv() {
            return result;
        }
        state.gave_up = true;
        let sinks = &self.counters.sinks;
        if !state.lost.is_empty() {
            // Not back into the sinks' `lost` slots: a flush issued after this one may already
            // have passed the sink (and would then never see the error), yet it covers the batch.
            let seq = state.seq;
            let mut returned = (self.counters.returned.lock()).unwrap_or_else(|e| e.into_inner());
            returned.extend((state.lost.drain(..)).map(|(index, error)| ReturnedLoss {
                seq,
                index,
                error,
            }));
        }
        let busy = sinks
            .iter()
            .enumerate()
            .filter(|(index, sink)| {
                // `jobs_done` first: see `SinkCounters::jobs_sent`.
                let done = sink.jobs_done.load(Acquire);
                let target = match &state.targets {
                    Some(targets) => targets[*index],
                    // The drain has not handed the flush to the workers yet: it is waiting for
                    // a free batch, and the sinks still writing the others hold them.
                    None => sink.jobs_sent.load(Relaxed),
                };
                done < target
            })
            .map(|(_, sink)| sink.name.clone())
            .collect();
        Err(Error::FlushTimedOut {
            sinks: busy,
            timeout: self.close_timeout,
        })
    }

    /// Fires the calling-thread hooks for the outcome of a log call.
    #[inline]
    pub fn after_log(
        &self,
        result: &Result<(), LogError>,
        level: Level,
        message: &str,
        fields: &[Field<'_>],
    ) {
        let hook = match result {
            Ok(()) => &self.hooks.on_message_buffered,
            // Counted by the ring (`Stats::dropped`).
            Err(
                LogError::Dropped
                | LogError::TooLarge { .. }
                | LogError::KeyTooLong { .. }
                | LogError::TooManyFields { .. },
            ) => &self.hooks.on_message_dropped,
            // Never reached a ring: a log call is a statement, so this counter is how the caller
            // learns of it. No hook: a hook that logs would be refused again, and again.
            Err(LogError::Closed | LogError::ThreadExiting | LogError::Reentrant) => {
                self.counters.refused.fetch_add(1, Relaxed);
                return;
            }
            Err(_) => return,
        };
        if let Some(hook) = hook.as_ref().filter(|_| !caller_hooks_off()) {
            let message = MessageRef {
                level,
                message,
                fields,
            };
            without_caller_hooks(|| call_hook(&self.counters.hook_panics, || hook(&message)));
        }
    }

    /// The end of every log call: `Ok(())` when the record was accepted and no hook wants to
    /// see it (the hot path: one look at the hooks, and a constant result the caller's code
    /// folds), else [`finish_log_slow`](Self::finish_log_slow).
    #[inline(always)]
    pub fn finish_log(
        &self,
        refused: Result<(), Refused>,
        level: Level,
        message: &str,
        fields: &[Field<'_>],
    ) -> Result<(), LogError> {
        if refused.is_ok() && self.hooks.on_message_buffered.is_none() {
            return Ok(());
        }
        self.finish_log_slow(refused, level, message, fields)
    }

    /// [`finish_log`](Self::finish_log) for a call-site record. `values` goes on by value: taking
    /// its address on the hot path would keep the compiler from folding the values' variants
    /// into the encoder (measured: 152 -> 216 instructions per call).
    #[inline(always)]
    pub fn finish_log_callsite<const N: usize>(
        &self,
        refused: Result<(), Refused>,
        level: Level,
        callsite: &'static Callsite,
        values: [Value<'_>; N],
    ) -> Result<(), LogError> {
        if refused.is_ok() && self.hooks.on_message_buffered.is_none() {
            return Ok(());
        }
        self.finish_log_callsite_slow(refused, level, callsite, values)
    }

    /// A refused record or a hook to run: makes the public error and calls the hook. Out of
    /// line, so the 24-byte `Result<(), LogError>` is built only here.
    #[cold]
    #[inline(never)]
    fn finish_log_slow(
        &self,
        refused: Result<(), Refused>,
        level: Level,
        message: &str,
        fields: &[Field<'_>],
    ) -> Result<(), LogError> {
        let result = refused.map_err(|r| r.into_log_error(self.ring_bytes, fields));
        // A record written before the call saw `close` is in `buffered`: not refused as well.
        if refused != Err(Refused::ClosedAfterWrite) {
            self.after_log(&result, level, message, fields);
        }
        result
    }

    #[cold]
    #[inline(never)]
    fn finish_log_callsite_slow<const N: usize>(
        &self,
        refused: Result<(), Refused>,
        level: Level,
        callsite: &'static Callsite,
        values: [Value<'_>; N],
    ) -> Result<(), LogError> {
        self.finish_log_slow(
            refused,
            level,
            callsite.message(),
            &callsite.fields(&values),
        )
    }

    pub fn stats(&self) -> Stats {
        let c = &self.counters;
        // `delivered` first, with Acquire (pairing with the drain's Release): every record it
        // counts was counted in `buffered` before, so the snapshot never has more delivered
        // than buffered.
        let delivered = c.delivered.load(Acquire);
        let (buffered, dropped) = self.registry.totals();
        Stats {
            buffered,
            dropped,
            delivered,
            batches: c.batches.load(Relaxed),
            flushes: c.flushes.load(Relaxed),
            refused: c.refused.load(Relaxed),
            hook_panics: c.hook_panics.load(Relaxed),
            sinks: c.sinks.iter().map(SinkCounters::snapshot).collect(),
        }
    }
}

/// Why the hot path refused a record. At 16 bytes a `Result<(), Refused>` comes back in two
/// registers; a `Result<(), LogError>` is 24 bytes and went through the stack, where copying it
/// cost a failed store forward on every call (`benches/hot_path.rs`).
/// [`Refused::into_log_error`] makes the public error, off the hot path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refused {
    Closed,
    // Written (and counted as buffered), then the call saw `close` begin: the drain's last
    // pass may or may not take it.
    ClosedAfterWrite,
    Dropped,
    TooLarge { size: usize },
    KeyTooLong,
    TooManyFields,
    Reentrant,
    ThreadExiting,
}

impl Refused {
    /// The public error; `fields` are the call's (to name the over-long key).
    #[cold]
    #[inline(never)]
    pub(crate) fn into_log_error(self, ring_bytes: usize, fields: &[Field<'_>]) -> LogError {
        match self {
            Refused::Closed | Refused::ClosedAfterWrite => LogError::Closed,
            Refused::Dropped => LogError::Dropped,
            Refused::TooLarge { size } => LogError::TooLarge {
                size,
                capacity: ring_bytes,
            },
            Refused::KeyTooLong => {
                let key = fields
                    .iter()
                    .map(|f| f.key)
                    .find(|k| k.len() > MAX_KEY_LEN)
                    .unwrap_or_default();
                let mut end = 32.min(key.len());
                while !key.is_char_boundary(end) {
                    end -= 1;
                }
                LogError::KeyTooLong {
                    key_prefix: key[..end].to_owned(),
                }
            }
            Refused::TooManyFields => LogError::TooManyFields {
                count: fields.len(),
            },
            Refused::Reentrant => LogError::Reentrant,
            Refused::ThreadExiting => LogError::ThreadExiting,
        }
    }
}
