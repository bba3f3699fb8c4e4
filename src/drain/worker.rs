//! Sink workers: each owns some sinks and writes every batch to them, with retries, so a slow or
//! failing sink holds up only its own worker. Only for a while, though: the drain keeps at most
//! `MAX_BATCHES` batches in flight, and a batch is free again only once every worker has
//! written it, so a sink stuck for longer than the others take to fill them stalls the drain,
//! and then the log calls (backpressure), until it returns (tests/fault_sink_hangs.rs).

use crate::batch::Batch;
use crate::error::{Error, SinkError};
use crate::shared::{mark_internal_thread, Shared};
use crate::sinks::Sink;
use crate::telemetry::call_hook;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{
    AtomicUsize,
    Ordering::{AcqRel, Acquire, Relaxed},
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
pub struct FlushTicket {
    remaining: AtomicUsize,
    first_error: Mutex<Option<Error>>,
    reply: Option<SyncSender<Result<(), Error>>>,
    started: Instant,
    records: usize,
    shared: Arc<Shared>,
}

impl FlushTicket {
    /// A flush that `workers` workers must acknowledge; `records` were delivered since the last.
    pub fn new(
        shared: Arc<Shared>,
        workers: usize,
        records: usize,
        reply: Option<SyncSender<Result<(), Error>>>,
    ) -> Arc<FlushTicket> {
        let ticket = Arc::new(FlushTicket {
            remaining: AtomicUsize::new(workers),
            first_error: Mutex::new(None),
            reply,
            started: Instant::now(),
            records,
            shared,
        });
        if workers == 0 {
            ticket.complete();
        }
        ticket
    }

    /// Whether a caller waits for this flush (else it is a periodic one).
    pub fn has_reply(&self) -> bool {
        self.reply.is_some()
    }

    /// Whether every worker has done this flush.
    pub fn is_done(&self) -> bool {
        self.remaining.load(Acquire) == 0
    }

    fn fail(&self, error: Error) {
        let mut first = self.first_error.lock().unwrap_or_else(|e| e.into_inner());
        first.get_or_insert(error);
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
        if let Some(reply) = &self.reply {
            let error = self
                .first_error
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .take();
            let _ = reply.send(error.map_or(Ok(()), Err));
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
    mark_internal_thread();
    for job in jobs {
        match job {
            Job::Batch(batch) => {
                for sink in &mut sinks {
                    write_with_retries(&shared, sink, &batch, retry);
                }
            }
            Job::Flush(ticket) => {
                for sink in &mut sinks {
                    if let Err(error) = flush_sink(&shared, sink) {
                        ticket.fail(error);
                    }
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
            Err(_) if attempts <= retry.max_retries => {
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
