//! Sink workers: each owns some sinks and writes every batch to them, with retries, so a slow or
//! failing sink holds up only its own worker. Only for a while, though: the drain keeps at most
//! `MAX_BATCHES` batches in flight, and a batch is free again only once every worker has
//! written it, so a sink stuck for longer than the others take to fill them stalls the drain,
//! and then the log calls (backpressure), until it returns (tests/integration/fault_sink_hangs.rs).

use crate::batch::Batch;
use crate::error::{Error, SinkError};
use crate::shared::{mark_internal_thread, FlushRequest, ReturnedLoss, Shared};
use crate::sinks::Sink;
use crate::telemetry::call_hook;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{
    AtomicUsize,
    Ordering::{AcqRel, Acquire, Relaxed, Release},
};
use std::sync::mpsc::{Receiver, SyncSender};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Work for a sink worker, in the order the drain produced it.
pub enum Job {
    /// Write this batch to every sink of the worker.
    Batch(Arc<Batch>),
    /// Flush every sink, then report to the ticket.
    Flush(Arc<FlushTicket>),
    /// Flush and close every sink, report failures, and exit.
    Close(SyncSender<Vec<Error>>),
}

/// One flush across every worker. The worker that finishes last completes it.
///
/// A flush with a caller (`flush`, `fatal`, `close`) also reports the batches each sink lost
/// since a flush last reported them: each worker takes its sinks' lost-batch errors when it
/// comes to the flush, which it does after every batch sent before it, and the answer names the
/// first such sink, with its last write error. A periodic flush (no caller) leaves them for the
/// next flush with a caller, so each lost batch is reported by exactly one flush that returns to
/// its caller (one that gives up waiting puts back what it took, for the first flush issued
/// after it to report when it completes: see `Shared::give_up_flush`; its flush error too, see
/// `complete`). A sink's flush that fails in a periodic flush is kept for the next flush with a
/// caller the same way (see `fail`).
pub struct FlushTicket {
    remaining: AtomicUsize,
    first_error: Mutex<Option<Error>>,
    request: Option<FlushRequest>,
    started: Instant,
    records: usize,
    /// This flush's place in the order the drain issued flushes (see `CallState::seq`).
    seq: u64,
    shared: Arc<Shared>,
}

impl FlushTicket {
    /// A flush that `workers` workers must acknowledge; `records` were delivered since the last.
    pub fn new(
        shared: Arc<Shared>,
        workers: usize,
        records: usize,
        request: Option<FlushRequest>,
    ) -> Arc<FlushTicket> {
        // Only the drain makes tickets, in the order it sends their jobs.
        let seq = shared.counters.flush_seq.fetch_add(1, Relaxed) + 1;
        if let Some(request) = &request {
            // Before any worker has the flush, so before it takes anything.
            (request.call.state.lock().unwrap_or_else(|e| e.into_inner())).seq = seq;
        }
        let ticket = Arc::new(FlushTicket {
            remaining: AtomicUsize::new(workers),
            first_error: Mutex::new(None),
            request,
            started: Instant::now(),
            records,
            seq,
            shared,
        });
        if workers == 0 {
            ticket.complete();
        }
        ticket
    }

    /// Whether every worker has done this flush.
    pub fn is_done(&self) -> bool {
        self.remaining.load(Acquire) == 0
    }

    /// Hands sink `index`'s lost-batch error, and the error of its flush in a periodic flush
    /// since, if it has them, to this flush's caller, if there is one still waiting.
    fn take_lost(&self, index: usize) {
        let Some(request) = &self.request else { return };
        let mut state = request.call.state.lock().unwrap_or_else(|e| e.into_inner());
        if state.gave_up {
            return;
        }
        let counters = &self.shared.counters.sinks[index];
        if let Some(error) = counters
            .lost
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
        {
            state.lost.push((index, error));
        }
        let unreported = &counters.unreported_flush;
        if let Some(error) = unreported.lock().unwrap_or_else(|e| e.into_inner()).take() {
            self.fail(index, error);
        }
    }

    /// Sink `index`'s flush failed: the first such error is this flush's answer (after lost
    /// batches). A periodic flush has nobody to answer, so it keeps the error for the next flush
    /// that has a caller (see `take_lost`): a `FileSink` reports there, for instance, the records
    /// that went with a removed file.
    fn fail(&self, index: usize, error: Error) {
        if self.request.is_none() {
            self.keep_for_next_caller(index, error);
            return;
        }
        let mut first = self.first_error.lock().unwrap_or_else(|e| e.into_inner());
        first.get_or_insert(error);
    }

    /// Keeps sink `index`'s flush error for the next flush with a caller (the first one kept
    /// wins).
    fn keep_for_next_caller(&self, index: usize, error: Error) {
        let unreported = &self.shared.counters.sinks[index].unreported_flush;
        unreported
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get_or_insert(error);
    }

    fn done_one(&self) {
        // AcqRel: the last worker must see every other worker's `fail` before completing.
        if self.remaining.fetch_sub(1, AcqRel) == 1 {
            self.complete();
        }
    }

    fn complete(&self) {
        let shared = &self.shared;
        shared.counters.flushes.fetch_add(1, Relaxed);
        if let Some(hook) = &shared.hooks.on_flush_completed {
            call_hook(&shared.counters.hook_panics, || {
                hook(self.records, self.started.elapsed())
            });
        }
        if let Some(request) = &self.request {
            let mut state = request.call.state.lock().unwrap_or_else(|e| e.into_inner());
            if state.gave_up {
                // Nobody reads this flush's answer: its flush error waits for the next caller
                // (its lost batches were put back on giving up). Not in the sink's
                // `unreported_flush`: a flush issued after this one may already have passed the
                // sink, yet it covers what this one flushed.
                let first = self
                    .first_error
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .take();
                if let Some(error) = first {
                    (shared.counters.returned_flush.lock())
                        .unwrap_or_else(|e| e.into_inner())
                        .push((self.seq, error));
                }
                return;
            }
            // Errors put back by earlier flushes that gave up cover batches this flush covers
            // too, even if it passed their sinks before they were put back. Any of them was put
            // back before this completes: the earlier flush completed (or gave up) first, as
            // every worker does its flushes in order.
            let mut lost: Vec<(usize, SinkError)> = {
                let mut returned =
                    (shared.counters.returned.lock()).unwrap_or_else(|e| e.into_inner());
                let (covered, later): (Vec<ReturnedLoss>, Vec<ReturnedLoss>) =
                    returned.drain(..).partition(|r| r.seq < self.seq);
                *returned = later;
                covered.into_iter().map(|r| (r.index, r.error)).collect()
            };
            lost.append(&mut state.lost);
            // Likewise the flush errors of earlier flushes that gave up, before this one's own.
            let put_back_flush = {
                let mut returned =
                    (shared.counters.returned_flush.lock()).unwrap_or_else(|e| e.into_inner());
                let (covered, later): (Vec<_>, Vec<_>) =
                    returned.drain(..).partition(|(seq, _)| *seq < self.seq);
                *returned = later;
                covered.into_iter().map(|(_, error)| error).next()
            };
            // A lost batch first: it is the worse news. Other sinks' losses stay in the stats.
            let result = match lost.into_iter().next() {
                Some((index, source)) => Err(Error::Sink {
                    sink: shared.counters.sinks[index].name.clone(),
                    source,
                }),
                None => put_back_flush
                    .or_else(|| {
                        (self.first_error.lock())
                            .unwrap_or_else(|e| e.into_inner())
                            .take()
                    })
                    .map_or(Ok(()), Err),
            };
            // Sent under the lock: see `FlushCall`.
            let _ = request.reply.send(result);
        }
    }
}

/// Retry policy for sink writes.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    pub max_retries: u32,
    pub delay: Duration,
}

/// A sink with its index in the logger's configuration (its counters' index).
pub struct OwnedSink {
    pub index: usize,
    pub sink: Box<dyn Sink>,
}

/// The body of one worker thread.
pub fn run(
    shared: Arc<Shared>,
    mut sinks: Vec<OwnedSink>,
    jobs: Receiver<Job>,
    retry: RetryPolicy,
) {
    mark_internal_thread(shared.id);
    for job in jobs {
        match job {
            Job::Batch(batch) => {
                for sink in &mut sinks {
                    write_with_retries(&shared, sink, &batch, retry);
                    job_done(&shared, sink);
                }
            }
            Job::Flush(ticket) => {
                for sink in &mut sinks {
                    ticket.take_lost(sink.index);
                    if let Err(error) = flush_sink(&shared, sink) {
                        ticket.fail(sink.index, error);
                    }
                    job_done(&shared, sink);
                }
                ticket.done_one();
            }
            Job::Close(reply) => {
                let mut errors = Vec::new();
                for sink in &mut sinks {
                    let name = sink.sink.name().to_owned();
                    if let Err(source) = guarded(|| sink.sink.close()) {
                        shared.counters.sinks[sink.index]
                            .failed_flushes
                            .fetch_add(1, Relaxed);
                        errors.push(Error::Sink { sink: name, source });
                    }
                }
                let _ = reply.send(errors);
                return;
            }
        }
    }
}

/// Counts a job done for one sink (see `SinkCounters::jobs_sent`).
fn job_done(shared: &Shared, sink: &OwnedSink) {
    shared.counters.sinks[sink.index]
        .jobs_done
        .fetch_add(1, Release);
}

fn flush_sink(shared: &Shared, sink: &mut OwnedSink) -> Result<(), Error> {
    guarded(|| sink.sink.flush()).map_err(|source| {
        shared.counters.sinks[sink.index]
            .failed_flushes
            .fetch_add(1, Relaxed);
        Error::Sink {
            sink: sink.sink.name().to_owned(),
            source,
        }
    })
}

/// Writes `batch` to one sink, retrying up to `max_retries` times, and reports the outcome.
fn write_with_retries(shared: &Shared, sink: &mut OwnedSink, batch: &Batch, retry: RetryPolicy) {
    let counters = &shared.counters.sinks[sink.index];
    let records = batch.len();
    let mut attempts = 0u32;
    loop {
        attempts += 1;
        let started = Instant::now();
        match guarded(|| sink.sink.write_batch(batch)) {
            Ok(()) => {
                counters.written_records.fetch_add(records as u64, Relaxed);
                counters.written_batches.fetch_add(1, Relaxed);
                if let Some(hook) = &shared.hooks.on_batch_written {
                    let took = started.elapsed();
                    call_hook(&shared.counters.hook_panics, || {
                        hook(sink.sink.name(), records, took)
                    });
                }
                return;
            }
            Err(error) if error.is_retryable() && attempts <= retry.max_retries => {
                counters.retries.fetch_add(1, Relaxed);
                std::thread::sleep(retry.delay);
            }
            Err(error) => {
                counters.failed_batches.fetch_add(1, Relaxed);
                counters.failed_records.fetch_add(records as u64, Relaxed);
                if let Some(hook) = &shared.hooks.on_batch_failed {
                    call_hook(&shared.counters.hook_panics, || {
                        hook(sink.sink.name(), records, &error, attempts)
                    });
                }
                // For the next flush with a caller to report (see `FlushTicket`).
                *counters.lost.lock().unwrap_or_else(|e| e.into_inner()) = Some(error);
                return;
            }
        }
    }
}

/// Runs a sink method, turning a panic into [`SinkError::Panicked`].
fn guarded(f: impl FnOnce() -> Result<(), SinkError>) -> Result<(), SinkError> {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|payload| {
        let message = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "non-string panic payload".to_owned());
        Err(SinkError::Panicked(message))
    })
}
