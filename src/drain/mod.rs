//! The drain thread: gathers records from every producer's ring into columnar batches and hands
//! them to the sink workers.
//!
//! One pass of the loop, like quill's backend worker:
//! 1. adopt rings registered since the last pass;
//! 2. move every record available in the rings into batches, merging producers by timestamp
//!    (each producer's own order is kept); hand a batch to the sinks when it is full, when the
//!    rings have stayed empty through the back-off's spins, or when it has been filling for
//!    [`MAX_BATCH_AGE`];
//! 3. free rings whose producer is gone and which are now empty;
//! 4. answer flush and close requests; flush the sinks every `flush_interval`;
//! 5. when nothing moved, back off: spin, yield, then sleep up to a millisecond. Log calls never
//!    wake this thread; `flush` and `close` do, and so does a `Block` call that finds its ring
//!    full.

mod worker;

use crate::batch::{Batch, PushError};
use crate::error::Error;
use crate::os;
use crate::ring::clock::TickConverter;
use crate::ring::record::{self, RawRecord, RecordHeader, HEADER_LEN};
use crate::ring::{RingCounters, RingHandle};
use crate::shared::{mark_internal_thread, Command, FlushRequest, Shared};
use crate::sinks::Sink;
use crossbeam_utils::sync::Parker;
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::atomic::Ordering::{Relaxed, Release};
use std::sync::mpsc::{self, Receiver, Sender, TryRecvError};
use std::sync::Arc;
use std::time::{Duration, Instant};
use worker::{FlushTicket, Job, OwnedSink, RetryPolicy};

/// The most batches alive at once (one filling, the rest with workers). When all are still with
/// the workers, the drain waits for one, and the rings fill up behind it: backpressure.
const MAX_BATCHES: usize = 8;
/// Longest idle sleep. Bounds how long a record waits in a ring when the logger is quiet.
const IDLE_SLEEP: Duration = Duration::from_millis(1);
/// How long a batch may keep filling while every pass finds more records. Handing over a batch
/// per pass instead woke a sink worker every few hundred records under load, and on two cores
/// each wake-up preempted the drain or a producer: 11,000 worker wake-ups for 4,000,000 records
/// (`perf sched timehist`, `loadgen --macro --sink null`).
const MAX_BATCH_AGE: Duration = Duration::from_micros(500);
/// Message-plus-field bytes a new batch reserves up front.
const INITIAL_BATCH_BYTES: usize = 256 * 1024;
/// The most a ring's converted timestamps are held back to keep them in order. Re-anchoring the
/// tick conversion moves it by the rate's error over the 50 ms between anchors (the clock tests
/// hold conversions within 200 µs of the wall clock); a larger step back is the wall clock being
/// set.
const MAX_REANCHOR_STEP_BACK_NS: i64 = 1_000_000;

/// The drain's share of the configuration.
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    pub max_workers: usize,
    pub max_retries: u32,
    pub retry_delay: Duration,
    pub flush_interval: Duration,
    pub max_batch_records: usize,
    pub close_timeout: Duration,
    /// Set by `close`: batches are then made rather than waited for (see `free_batch`).
    pub closing: bool,
}

/// Starts the sink workers and the drain thread.
pub fn start(
    shared: Arc<Shared>,
    sinks: Vec<Box<dyn Sink>>,
    settings: Settings,
    parker: Parker,
    commands: Receiver<Command>,
    cpus: Cpus,
) -> Result<os::Thread<Result<(), Error>>, Error> {
    let retry = RetryPolicy {
        max_retries: settings.max_retries,
        delay: settings.retry_delay,
    };
    let worker_count = settings.max_workers.min(sinks.len());
    let mut assignments: Vec<Vec<OwnedSink>> = (0..worker_count).map(|_| Vec::new()).collect();
    for (index, sink) in sinks.into_iter().enumerate() {
        assignments[index % worker_count].push(OwnedSink { index, sink });
    }
    let mut workers = Vec::with_capacity(worker_count);
    for (n, sinks) in assignments.into_iter().enumerate() {
        let sink_names = sinks.iter().map(|s| s.sink.name().to_owned()).collect();
        let sink_indices = sinks.iter().map(|s| s.index).collect();
        let (jobs, job_rx) = mpsc::channel();
        let worker_shared = shared.clone();
        let cpu =
            (!cpus.sink_workers.is_empty()).then(|| cpus.sink_workers[n % cpus.sink_workers.len()]);
        let started = os::spawn_thread(
            format!("asynclog-sink-{n}"),
            cpu,
            (worker_shared, sinks, job_rx),
            move |(shared, sinks, job_rx)| worker::run(shared, sinks, job_rx, retry),
        );
        let thread = match started {
            Ok(thread) => thread,
            Err(failed) => {
                // This worker's sinks come back in `failed.state` and are dropped here; the
                // workers already started end once their queues close.
                drop(failed.state);
                stop_workers(workers);
                return Err(Error::io(
                    os::starting(&format!("sink worker {n}"), cpu),
                    failed.error,
                ));
            }
        };
        workers.push(WorkerHandle {
            jobs,
            thread,
            sink_names,
            sink_indices,
        });
    }
    let drain = Drain {
        converter: TickConverter::new(),
        shared,
        settings,
        rings: Vec::new(),
        new_rings: Vec::new(),
        heap: BinaryHeap::new(),
        scratch: Vec::new(),
        batches: Vec::new(),
        filling: None,
        filling_since: None,
        workers,
        commands,
        parker,
        last_flush: Instant::now(),
        delivered_since_flush: 0,
        periodic: None,
    };
    os::spawn_thread("asynclog-drain".into(), cpus.drain, drain, Drain::run).map_err(|failed| {
        if let Some(drain) = failed.state {
            stop_workers(drain.workers);
        }
        Error::io(os::starting("the drain thread", cpus.drain), failed.error)
    })
}

/// Closes the queues of workers that have received no job and waits for them to end, so that
/// their sinks are dropped (files finished, locks released) before `Logger::new` reports an
/// error.
fn stop_workers(workers: Vec<WorkerHandle>) {
    for worker in workers {
        drop(worker.jobs);
        let _ = worker.thread.join();
    }
}

/// Where the drain and the sink workers are pinned (`Config::drain_cpu`,
/// `Config::sink_worker_cpus`).
#[derive(Debug, Clone, Default)]
pub struct Cpus {
    pub drain: Option<usize>,
    pub sink_workers: Vec<usize>,
}

struct WorkerHandle {
    jobs: Sender<Job>,
    thread: os::Thread<()>,
    /// The names of the sinks this worker writes, for errors.
    sink_names: Vec<String>,
    /// Their indices in the configuration (their counters' indices).
    sink_indices: Vec<usize>,
}

impl WorkerHandle {
    /// Sends a batch or flush job, counting it for each of the worker's sinks (see
    /// `SinkCounters::jobs_sent`).
    fn send(&self, shared: &Shared, job: Job) {
        for &index in &self.sink_indices {
            shared.counters.sinks[index].jobs_sent.fetch_add(1, Relaxed);
        }
        // A worker that died (it cannot: sinks run under catch_unwind) would drop its end; its
        // jobs are then simply not done.
        let _ = self.jobs.send(job);
    }
}

/// A ring as the drain sees it.
struct Ring {
    consumer: rtrb::Consumer<u8>,
    counters: Arc<RingCounters>,
    thread_id: u64,
    /// Bytes this pass may still take (what was there when the pass began).
    budget: usize,
    /// The converted time of the last clock-stamped record taken from this ring. Ticks from one
    /// producer only grow, but re-anchoring the conversion to the wall clock (every 50 ms) can
    /// map a later tick a little before an earlier one; clamping to this keeps each producer's
    /// timestamps in order. Only a little: see [`MAX_REANCHOR_STEP_BACK_NS`].
    last_tick_ns: i64,
}

struct Drain {
    shared: Arc<Shared>,
    settings: Settings,
    converter: TickConverter,
    rings: Vec<Ring>,
    new_rings: Vec<RingHandle>,
    /// Min-heap of (next timestamp, ring index) for the merge.
    heap: BinaryHeap<Reverse<(i64, usize)>>,
    /// Holds a record that wraps around the end of its ring, so it can be decoded contiguously.
    scratch: Vec<u8>,
    /// Every batch; one is `filling`, the others are free or still with workers.
    batches: Vec<Arc<Batch>>,
    filling: Option<usize>,
    /// When a pass first left the filling batch holding records (see [`MAX_BATCH_AGE`]).
    filling_since: Option<Instant>,
    workers: Vec<WorkerHandle>,
    commands: Receiver<Command>,
    parker: Parker,
    last_flush: Instant,
    delivered_since_flush: usize,
    /// The last periodic flush. The next waits until every worker has done it, so a sink whose
    /// flush is stuck (or slower than `flush_interval`) does not get one more queued every
    /// interval.
    periodic: Option<Arc<FlushTicket>>,
}

/// The most bytes [`Drain::move_run`] takes from a ring before committing them (unless one
/// record is larger): small enough that a producer waiting on a full ring gets room back soon.
const RUN_CHUNK_BYTES: usize = 16 * 1024;

/// The header of the record at `at` in a chunk's two slices; it may straddle them.
#[inline]
fn header_at((a, b): (&[u8], &[u8]), at: usize) -> [u8; HEADER_LEN] {
    let mut bytes = [0u8; HEADER_LEN];
    if let Some(whole) = a.get(at..at + HEADER_LEN) {
        bytes.copy_from_slice(whole);
    } else {
        let (first, second) = bytes.split_at_mut(a.len().saturating_sub(at));
        first.copy_from_slice(&a[at.min(a.len())..]);
        let from = at.saturating_sub(a.len());
        second.copy_from_slice(&b[from..from + second.len()]);
    }
    bytes
}

/// `len` bytes at `at` in a chunk's two slices, joined in `scratch` when they straddle them
/// (a record that wraps around the end of its ring).
#[inline]
fn contiguous<'a>(
    (a, b): (&'a [u8], &'a [u8]),
    at: usize,
    len: usize,
    scratch: &'a mut Vec<u8>,
) -> &'a [u8] {
    if at + len <= a.len() {
        &a[at..at + len]
    } else if at >= a.len() {
        &b[at - a.len()..at - a.len() + len]
    } else {
        scratch.clear();
        scratch.extend_from_slice(&a[at..]);
        scratch.extend_from_slice(&b[..at + len - a.len()]);
        scratch
    }
}

/// A record's time in ns since the epoch: its wall-clock stamp, or its TSC stamp converted and
/// kept from running backwards within its ring by re-anchoring (see [`Ring::last_tick_ns`]).
#[inline]
fn record_time(
    converter: &TickConverter,
    last_tick_ns: &mut i64,
    header: &RecordHeader<'_>,
) -> i64 {
    let timestamp = header.timestamp();
    if header.is_wall_clock() {
        return timestamp as i64;
    }
    let mut ns = converter.to_wall_ns(timestamp);
    // Hide only what re-anchoring can cause; a larger step back is the wall clock's, and shows,
    // as it does in every other thread's records.
    let held_back_to = last_tick_ns.saturating_sub(MAX_REANCHOR_STEP_BACK_NS);
    if ns < *last_tick_ns && ns >= held_back_to {
        ns = *last_tick_ns;
    }
    *last_tick_ns = ns;
    ns
}

/// Adds a record split from a ring to `batch`.
#[inline]
fn push_record(
    batch: &mut Batch,
    timestamp_ns: i64,
    thread_id: u64,
    rec: &RawRecord<'_>,
) -> Result<(), PushError> {
    match rec.callsite {
        None => batch.push_encoded(
            timestamp_ns,
            rec.header.level,
            thread_id,
            rec.message,
            rec.fields,
            rec.header.flags & record::FLAG_TEXT_MESSAGE != 0,
        ),
        Some(id) => batch.push_callsite(
            timestamp_ns,
            rec.header.level,
            thread_id,
            id,
            rec.field_count,
            rec.fields,
        ),
    }
}

impl Drain {
    fn run(mut self) -> Result<(), Error> {
        mark_internal_thread(self.shared.id);
        let mut idle = IdleBackoff::default();
        loop {
            self.adopt_new_rings();
            let moved = self.drain_pass();
            self.dispatch_when_due(moved == 0 && idle.spins_done());
            self.retire_finished_rings();
            // Answer every request waiting, not one per pass: requests sent together share one
            // wake-up, and the next pass may sleep.
            loop {
                match self.commands.try_recv() {
                    Ok(Command::Flush(request)) => self.flush(Some(request)),
                    Ok(Command::Close) | Err(TryRecvError::Disconnected) => return self.close(),
                    Err(TryRecvError::Empty) => break,
                }
            }
            if self.last_flush.elapsed() >= self.settings.flush_interval
                && self.periodic_flush_done()
            {
                self.flush(None);
            }
            self.converter.maybe_recalibrate();
            if moved > 0 {
                idle.reset();
            } else {
                idle.wait(&self.parker);
            }
        }
    }

    fn adopt_new_rings(&mut self) {
        self.shared.registry.take_pending(&mut self.new_rings);
        for handle in self.new_rings.drain(..) {
            self.rings.push(Ring {
                consumer: handle.consumer,
                counters: handle.counters,
                thread_id: handle.thread_id,
                budget: 0,
                last_tick_ns: i64::MIN,
            });
        }
    }

    /// Hands the filling batch to the sinks if the rings are `quiet` (empty pass after pass: no
    /// reason to wait) or the batch has been filling for [`MAX_BATCH_AGE`]. NB: handing it over
    /// at the first empty pass gave a batch every few hundred records when the producer runs
    /// about as fast as the drain, which catches up with it, then finds records again a
    /// microsecond later.
    fn dispatch_when_due(&mut self, quiet: bool) {
        if self
            .filling
            .is_none_or(|index| self.batches[index].is_empty())
        {
            self.filling_since = None;
            return;
        }
        let since = *self.filling_since.get_or_insert_with(Instant::now);
        if quiet || since.elapsed() >= MAX_BATCH_AGE {
            self.dispatch();
        }
    }

    /// Moves every record that was in the rings when the pass began into batches, in timestamp
    /// order across rings and in ring order within each; a batch that fills up goes to the
    /// sinks, the last one stays (see [`dispatch_when_due`](Self::dispatch_when_due)). Returns
    /// how many records moved.
    fn drain_pass(&mut self) -> usize {
        self.heap.clear();
        for index in 0..self.rings.len() {
            let ring = &mut self.rings[index];
            ring.budget = ring.consumer.slots();
            if let Some(timestamp_ns) = self.peek(index) {
                self.heap.push(Reverse((timestamp_ns, index)));
            }
        }
        let mut moved = 0;
        while let Some(Reverse((_, index))) = self.heap.pop() {
            // Stay on this ring while its next record is still the earliest: with one busy
            // producer (the common case) the heap is then touched once per pass, not per record.
            let until = self.heap.peek().map(|Reverse(earliest)| *earliest);
            let (count, next) = self.move_run(index, until);
            moved += count;
            if let Some(timestamp_ns) = next {
                self.heap.push(Reverse((timestamp_ns, index)));
            }
        }
        moved
    }

    /// The time of ring `index`'s next record, if its budget has one (the record stays).
    fn peek(&mut self, index: usize) -> Option<i64> {
        let ring = &mut self.rings[index];
        if ring.budget < HEADER_LEN {
            return None;
        }
        let chunk = ring.consumer.read_chunk(HEADER_LEN).ok()?;
        let header = header_at(chunk.as_slices(), 0);
        let header = RecordHeader::new(&header);
        Some(record_time(
            &self.converter,
            &mut ring.last_tick_ns,
            &header,
        ))
    }

    /// Moves ring `index`'s records into batches while each is earlier than `until` (the
    /// earliest record of the other rings; the first is moved regardless, it was the earliest).
    /// Returns how many moved, and the time of the record it stopped at, if it stopped before
    /// the ring's budget ran out.
    ///
    /// Records are read from chunks of up to [`RUN_CHUNK_BYTES`] and the ring's read index is
    /// committed once per chunk, not per record: each commit is a store to a cache line the
    /// producer reads when its ring looks full, and reading record by record (two `read_chunk`s
    /// and a commit each) took 629 instructions per record against 495 this way (callgrind,
    /// `examples/callcost macro`, before call-site records stopped copying their keys).
    fn move_run(&mut self, index: usize, until: Option<(i64, usize)>) -> (usize, Option<i64>) {
        let Drain {
            shared,
            settings,
            converter,
            rings,
            scratch,
            batches,
            filling,
            filling_since,
            workers,
            delivered_since_flush,
            ..
        } = self;
        let ring = &mut rings[index];
        let thread_id = ring.thread_id;
        let mut moved = 0;
        let mut chunk_bytes = RUN_CHUNK_BYTES;
        loop {
            let Ok(chunk) = ring.consumer.read_chunk(ring.budget.min(chunk_bytes)) else {
                return (moved, None);
            };
            let slices = chunk.as_slices();
            let available = chunk.len();
            let batch = Self::filling_batch(shared, batches, filling, settings);
            let cut_short = available < ring.budget;
            let mut taken = 0;
            let mut stopped_at = None;
            let mut dispatch = false;
            while available - taken >= HEADER_LEN {
                let header = header_at(slices, taken);
                let header = RecordHeader::new(&header);
                let len = header.total_len();
                if len > available - taken && cut_short {
                    // The chunk ends inside this record: read on from it.
                    chunk_bytes = chunk_bytes.max(len);
                    break;
                }
                let timestamp_ns = record_time(converter, &mut ring.last_tick_ns, &header);
                if moved > 0 && until.is_some_and(|earliest| earliest < (timestamp_ns, index)) {
                    stopped_at = Some(timestamp_ns);
                    break;
                }
                // A length shorter than a header, or past what the producer committed, is a
                // corrupt record: its bytes are skipped (below) rather than stall the ring.
                let len = len.max(HEADER_LEN).min(available - taken);
                let bytes = contiguous(slices, taken, len, scratch);
                match record::split_record(bytes) {
                    Ok(rec) => match push_record(batch, timestamp_ns, thread_id, &rec) {
                        Err(PushError::Full) if !batch.is_empty() => {
                            // Left in the ring, and taken again into a new batch.
                            dispatch = true;
                            break;
                        }
                        // Only our own encoder writes these rings, so a failure is a bug; the
                        // bytes are skipped rather than stall the ring forever.
                        pushed => {
                            debug_assert!(pushed.is_ok(), "record not added to a batch: {pushed:?}")
                        }
                    },
                    Err(error) => debug_assert!(false, "corrupt record in ring: {error:?}"),
                }
                taken += len;
                moved += 1;
                if batch.len() >= settings.max_batch_records {
                    dispatch = true;
                    break;
                }
            }
            chunk.commit(taken);
            ring.budget -= taken;
            if dispatch {
                Self::dispatch_parts(shared, batches, filling, workers, delivered_since_flush);
                *filling_since = None;
            }
            if stopped_at.is_some() {
                return (moved, stopped_at);
            }
            if !dispatch && ring.budget < HEADER_LEN {
                return (moved, None);
            }
        }
    }

    /// The batch being filled, taking a free one (or making one) if none is.
    fn filling_batch<'a>(
        shared: &Shared,
        batches: &'a mut Vec<Arc<Batch>>,
        filling: &mut Option<usize>,
        settings: &Settings,
    ) -> &'a mut Batch {
        let index = match *filling {
            Some(index) => index,
            None => {
                let index = Self::free_batch(shared, batches, settings);
                *filling = Some(index);
                index
            }
        };
        Arc::get_mut(&mut batches[index]).expect("the filling batch is not shared")
    }

    /// Index of a batch no worker holds, cleared; waits for one when all are busy, except once
    /// `close` has begun: then a hung sink must not keep the others from their last records (or
    /// keep the drain from hearing the close), and what is left is bounded by the rings'
    /// capacity, so another batch is made.
    fn free_batch(shared: &Shared, batches: &mut Vec<Arc<Batch>>, settings: &Settings) -> usize {
        let mut idle = IdleBackoff::default();
        loop {
            // `get_mut` succeeds only when every worker has dropped its clone (Acquire on the
            // count pairs with their Release on drop), so their reads are over.
            if let Some(index) = batches.iter_mut().position(|b| Arc::get_mut(b).is_some()) {
                Arc::get_mut(&mut batches[index])
                    .expect("just checked")
                    .clear();
                return index;
            }
            if batches.len() < MAX_BATCHES || settings.closing || shared.closed.load(Relaxed) {
                let records = settings.max_batch_records.min(4096);
                batches.push(Arc::new(Batch::with_capacity(records, INITIAL_BATCH_BYTES)));
                return batches.len() - 1;
            }
            idle.wait_unparked();
        }
    }

    /// Hands the filling batch, if it has records, to every worker.
    fn dispatch(&mut self) {
        self.filling_since = None;
        Self::dispatch_parts(
            &self.shared,
            &mut self.batches,
            &mut self.filling,
            &self.workers,
            &mut self.delivered_since_flush,
        );
    }

    fn dispatch_parts(
        shared: &Shared,
        batches: &mut [Arc<Batch>],
        filling: &mut Option<usize>,
        workers: &[WorkerHandle],
        delivered_since_flush: &mut usize,
    ) {
        let Some(index) = *filling else { return };
        let batch = &batches[index];
        if batch.is_empty() {
            return;
        }
        *filling = None;
        // Release: a `stats()` that sees these records delivered also sees them buffered (the
        // producer counted each before committing it, and the drain acquired the commit).
        shared
            .counters
            .delivered
            .fetch_add(batch.len() as u64, Release);
        shared.counters.batches.fetch_add(1, Relaxed);
        *delivered_since_flush += batch.len();
        for worker in workers {
            worker.send(shared, Job::Batch(batch.clone()));
        }
    }

    /// Frees rings whose producer is gone once they are empty.
    fn retire_finished_rings(&mut self) {
        let registry = &self.shared.registry;
        self.rings.retain(|ring| {
            // Check `is_abandoned` first: once it reads true every record the producer wrote is
            // visible, so an empty ring is empty for good.
            let finished = ring.consumer.is_abandoned() && ring.consumer.is_empty();
            if finished {
                registry.retire(&ring.counters);
            }
            !finished
        });
    }

    /// Asks every worker to flush after the batches already sent to it. With `request`, answers
    /// the caller once all have; without, it is a periodic flush.
    fn flush(&mut self, request: Option<FlushRequest>) {
        if request.is_some() {
            // Everything logged before the request: a pass takes all that the rings held when it
            // began, which includes every record committed before `flush` was called.
            self.adopt_new_rings();
            self.drain_pass();
        }
        // The flush covers the batch still filling.
        self.dispatch();
        let call = request.as_ref().map(|r| r.call.clone());
        let ticket = FlushTicket::new(
            self.shared.clone(),
            self.workers.len(),
            self.delivered_since_flush,
            request,
        );
        self.delivered_since_flush = 0;
        self.last_flush = Instant::now();
        for worker in &self.workers {
            worker.send(&self.shared, Job::Flush(ticket.clone()));
        }
        match call {
            // Only this thread sends jobs, so every sink's count now ends with this flush.
            Some(call) => {
                let targets = (self.shared.counters.sinks.iter())
                    .map(|sink| sink.jobs_sent.load(Relaxed))
                    .collect();
                call.state.lock().unwrap_or_else(|e| e.into_inner()).targets = Some(targets);
            }
            None => self.periodic = Some(ticket),
        }
    }

    /// Whether every worker has done the last periodic flush (or there was none).
    fn periodic_flush_done(&self) -> bool {
        self.periodic.as_ref().is_none_or(|t| t.is_done())
    }

    /// Drains every ring to empty, flushes and closes the sinks, joins the workers.
    fn close(mut self) -> Result<(), Error> {
        // `None`: a timeout too long to be an `Instant` (`Duration::MAX`) means no deadline.
        let deadline = Instant::now().checked_add(self.settings.close_timeout);
        self.settings.closing = true;
        loop {
            self.adopt_new_rings();
            if self.drain_pass() == 0 {
                break;
            }
        }
        self.dispatch();
        // Flush requests that raced with close still deserve an answer.
        while let Ok(command) = self.commands.try_recv() {
            if let Command::Flush(request) = command {
                let _ = request.reply.send(Err(Error::Closed));
            }
        }
        let mut errors = Vec::new();
        // Reports batches lost since the last flush too, like any flush with a caller.
        let (flush_request, flush_answer) = FlushRequest::new();
        let ticket = FlushTicket::new(
            self.shared.clone(),
            self.workers.len(),
            self.delivered_since_flush,
            Some(flush_request),
        );
        let mut answers = Vec::with_capacity(self.workers.len());
        for worker in &self.workers {
            let (reply, answer) = mpsc::sync_channel(1);
            worker.send(&self.shared, Job::Flush(ticket.clone()));
            let _ = worker.jobs.send(Job::Close(reply));
            answers.push(answer);
        }
        drop(ticket);
        // Each worker answers once its sinks have written everything, flushed and closed; a
        // worker that has not by the deadline is left behind (its thread is detached).
        let mut late = Vec::new();
        for (worker, answer) in self.workers.drain(..).zip(answers) {
            // `recv_timeout` waits without limit when the wait is too long for an `Instant`.
            let wait = deadline.map_or(Duration::MAX, |d| {
                d.saturating_duration_since(Instant::now())
            });
            let died = |names: &[String]| {
                Error::ThreadDied(format!(
                    "the asynclog sink worker for sink(s) {names:?} panicked"
                ))
            };
            match answer.recv_timeout(wait) {
                Ok(worker_errors) => {
                    errors.extend(worker_errors);
                    if worker.thread.join().is_err() {
                        errors.push(died(&worker.sink_names));
                    }
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    errors.push(died(&worker.sink_names));
                }
                Err(mpsc::RecvTimeoutError::Timeout) => late.extend(worker.sink_names),
            }
        }
        if late.is_empty() {
            if let Ok(Err(error)) = flush_answer.try_recv() {
                errors.insert(0, error);
            }
        } else {
            errors.insert(
                0,
                Error::CloseTimedOut {
                    sinks: late,
                    timeout: self.settings.close_timeout,
                },
            );
        }
        self.rings.clear();
        errors.into_iter().next().map_or(Ok(()), Err)
    }
}

/// Idle policy: a few spins, a few yields, then sleeps of up to [`IDLE_SLEEP`] that `unpark`
/// cuts short.
#[derive(Default)]
struct IdleBackoff {
    step: u32,
}

impl IdleBackoff {
    const SPINS: u32 = 6;
    const YIELDS: u32 = 10;

    fn reset(&mut self) {
        self.step = 0;
    }

    /// Whether every spin has been waited out since the last reset (the rings stayed empty for
    /// a few microseconds).
    fn spins_done(&self) -> bool {
        self.step >= Self::SPINS
    }

    fn wait(&mut self, parker: &Parker) {
        if self.pause() {
            parker.park_timeout(IDLE_SLEEP);
        }
    }

    fn wait_unparked(&mut self) {
        if self.pause() {
            std::thread::sleep(Duration::from_micros(100));
        }
    }

    /// Spins or yields; returns true when it is time to sleep.
    fn pause(&mut self) -> bool {
        self.step = self.step.saturating_add(1);
        if self.step <= Self::SPINS {
            for _ in 0..(1 << self.step) {
                std::hint::spin_loop();
            }
            false
        } else if self.step <= Self::SPINS + Self::YIELDS {
            std::thread::yield_now();
            false
        } else {
            true
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Backpressure;
    use crate::shared::EngineCounters;
    use crate::value::Field;
    use crossbeam_utils::CachePadded;
    use std::sync::atomic::{AtomicBool, AtomicU8};

    /// A drain with no sinks, and the sender of its command channel.
    fn idle_drain() -> (Arc<Shared>, Sender<Command>, os::Thread<Result<(), Error>>) {
        let (shared, commands, command_rx, parker, settings) = drain_parts();
        let drain = start(
            shared.clone(),
            Vec::new(),
            settings,
            parker,
            command_rx,
            Cpus::default(),
        )
        .unwrap();
        (shared, commands, drain)
    }

    /// What `start` takes besides the sinks, and the sender of the command channel.
    fn drain_parts() -> (
        Arc<Shared>,
        Sender<Command>,
        Receiver<Command>,
        Parker,
        Settings,
    ) {
        let parker = Parker::new();
        let (commands, command_rx) = mpsc::channel();
        let shared = Arc::new(Shared {
            id: u64::MAX,
            closed: AtomicBool::new(false),
            min_level: AtomicU8::new(0),
            ring_bytes: 1024,
            backpressure: Backpressure::Block,
            close_timeout: Duration::from_secs(10),
            use_tsc: false,
            hooks: Default::default(),
            registry: Default::default(),
            commands: commands.clone(),
            drain_waker: parker.unparker().clone(),
            counters: CachePadded::new(EngineCounters::default()),
        });
        let settings = Settings {
            max_workers: 1,
            max_retries: 0,
            retry_delay: Duration::ZERO,
            flush_interval: Duration::from_secs(3600),
            max_batch_records: 16,
            close_timeout: Duration::from_secs(10),
            closing: false,
        };
        (shared, commands, command_rx, parker, settings)
    }

    /// Counts its drops, on whichever thread drops it.
    struct DropCounter(Arc<std::sync::atomic::AtomicUsize>);

    impl Sink for DropCounter {
        fn name(&self) -> &str {
            "counter"
        }

        fn write_batch(&mut self, _batch: &Batch) -> Result<(), crate::error::SinkError> {
            Ok(())
        }
    }

    impl Drop for DropCounter {
        fn drop(&mut self) {
            self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_thread_that_cannot_be_pinned_leaves_no_sink_behind() {
        // A CPU this thread may use, for the worker that is pinned fine.
        let status = std::fs::read_to_string("/proc/thread-self/status").unwrap();
        let list = status
            .lines()
            .find_map(|l| l.strip_prefix("Cpus_allowed_list:"))
            .unwrap();
        let usable: usize = list
            .trim()
            .split([',', '-'])
            .next()
            .unwrap()
            .parse()
            .unwrap();
        // Worker 0 starts pinned, worker 1 cannot be pinned; then both workers start and the
        // drain cannot be pinned.
        let cases = [
            (
                None,
                vec![usable, 1000],
                "starting sink worker 1 pinned to CPU 1000",
            ),
            (
                Some(1000),
                Vec::new(),
                "starting the drain thread pinned to CPU 1000",
            ),
        ];
        for (drain, sink_workers, context) in cases {
            let dropped = Arc::new(std::sync::atomic::AtomicUsize::new(0));
            let sinks: Vec<Box<dyn Sink>> = (0..2)
                .map(|_| Box::new(DropCounter(dropped.clone())) as Box<dyn Sink>)
                .collect();
            let (shared, _commands, command_rx, parker, mut settings) = drain_parts();
            settings.max_workers = 2;
            let cpus = Cpus {
                drain,
                sink_workers,
            };
            match start(shared, sinks, settings, parker, command_rx, cpus) {
                Err(Error::Io { context: got, .. }) => assert_eq!(got, context),
                Err(other) => panic!("expected an I/O error, got {other}"),
                Ok(_) => panic!("started with CPU 1000"),
            }
            // Both sinks were dropped, on the workers that had started and here, before
            // `start` returned.
            assert_eq!(
                dropped.load(std::sync::atomic::Ordering::SeqCst),
                2,
                "{context}"
            );
        }
    }

    /// A drain that is not started (tests call its steps), with one ring, and that ring's
    /// producer end.
    fn drain_with_one_ring() -> (Drain, rtrb::Producer<u8>) {
        let (shared, _commands, drain) = idle_drain();
        shared.send(Command::Close).unwrap();
        drain.join().unwrap().unwrap();
        let (_unused, commands) = mpsc::channel();
        let (producer, consumer) = rtrb::RingBuffer::new(4096);
        let drain = Drain {
            shared,
            settings: Settings {
                max_workers: 1,
                max_retries: 0,
                retry_delay: Duration::ZERO,
                flush_interval: Duration::from_secs(3600),
                max_batch_records: 1024,
                close_timeout: Duration::from_secs(10),
                closing: false,
            },
            converter: TickConverter::new(),
            rings: vec![Ring {
                consumer,
                counters: Default::default(),
                thread_id: 1,
                budget: 0,
                last_tick_ns: i64::MIN,
            }],
            new_rings: Vec::new(),
            heap: BinaryHeap::new(),
            scratch: Vec::new(),
            batches: Vec::new(),
            filling: None,
            filling_since: None,
            workers: Vec::new(),
            commands,
            parker: Parker::new(),
            last_flush: Instant::now(),
            delivered_since_flush: 0,
            periodic: None,
        };
        (drain, producer)
    }

    /// Writes a record stamped with wall-clock time `ns` into `producer`.
    fn push_wall_clock(producer: &mut rtrb::Producer<u8>, ns: u64, message: &str, n: u64) {
        let header = record::Header {
            level: crate::value::Level::Info,
            flags: record::FLAG_WALL_CLOCK,
            timestamp: ns,
        };
        let bytes = record::encode_to_vec(header, message, &[Field::new("n", n)]).unwrap();
        let mut chunk = producer.write_chunk_uninit(bytes.len()).unwrap();
        let (a, b) = chunk.as_mut_slices();
        let (first, second) = bytes.split_at(a.len());
        for (slot, byte) in a.iter_mut().zip(first).chain(b.iter_mut().zip(second)) {
            slot.write(*byte);
        }
        // SAFETY: every slot of the chunk was written just above.
        unsafe { chunk.commit_all() };
    }

    /// Every record of every batch the drain holds, as (timestamp, message, n), batch by batch
    /// in the order they were filled (the tests' drains have no workers, so batches stay).
    fn drained(drain: &mut Drain) -> Vec<(i64, String, u64)> {
        let mut out = Vec::new();
        for batch in &drain.batches {
            for record in batch.iter() {
                let n = match record.fields.clone().next() {
                    Some(("n", crate::value::Value::U64(n))) => n,
                    other => panic!("unexpected fields {other:?}"),
                };
                out.push((record.timestamp_ns, record.message.to_owned(), n));
            }
        }
        for batch in &mut drain.batches {
            Arc::get_mut(batch).unwrap().clear();
        }
        drain.filling = None;
        out
    }

    #[test]
    fn records_that_wrap_around_the_ring_or_pass_a_chunk_come_out_whole_and_in_order() {
        let (mut drain, _) = drain_with_one_ring();
        let (mut producer, consumer) = rtrb::RingBuffer::new(3 * RUN_CHUNK_BYTES);
        drain.rings[0].consumer = consumer;
        drain.settings.max_batch_records = usize::MAX;
        let mut expected = Vec::new();
        let mut n = 0u64;
        // Sizes from a few bytes to more than a run's chunk, so records straddle the ring's end
        // (header and body split anywhere) and chunk boundaries.
        for round in 0..40 {
            let mut used = 0;
            loop {
                let size = [1, 7, 33, 250, 1_000, RUN_CHUNK_BYTES + 5][(n as usize + round) % 6];
                if used + size + 64 > 2 * RUN_CHUNK_BYTES {
                    break;
                }
                used += size + 64;
                let message = "x".repeat(size);
                push_wall_clock(&mut producer, 1_000 + n, &message, n);
                expected.push((1_000 + n as i64, message, n));
                n += 1;
            }
            let moved = drain.drain_pass();
            let got = drained(&mut drain);
            assert_eq!(moved, got.len());
            assert_eq!(got, std::mem::take(&mut expected), "round {round}");
        }
        assert!(n > 200, "only {n} records");
    }

    #[test]
    fn rings_are_merged_by_timestamp_and_each_ring_keeps_its_order() {
        let (mut drain, mut first) = drain_with_one_ring();
        drain.settings.max_batch_records = usize::MAX;
        let (mut second, consumer) = rtrb::RingBuffer::new(4096);
        drain.rings.push(Ring {
            consumer,
            counters: Default::default(),
            thread_id: 2,
            budget: 0,
            last_tick_ns: i64::MIN,
        });
        // Ring 0 holds times 0, 10, 20, ...; ring 1 runs of three between them.
        for n in 0..20u64 {
            push_wall_clock(&mut first, n * 10, "a", n);
            if n % 2 == 0 {
                for k in 0..3 {
                    push_wall_clock(&mut second, n * 10 + 1 + k, "b", 100 + 3 * n + k);
                }
            }
        }
        assert_eq!(drain.drain_pass(), 50);
        let got = drained(&mut drain);
        let times: Vec<i64> = got.iter().map(|r| r.0).collect();
        let mut sorted = times.clone();
        sorted.sort();
        assert_eq!(times, sorted, "not merged by time");
        let ring_order =
            |m: &str| -> Vec<u64> { got.iter().filter(|r| r.1 == m).map(|r| r.2).collect() };
        assert_eq!(ring_order("a"), (0..20).collect::<Vec<_>>());
        assert_eq!(ring_order("b").len(), 30);
        assert!(ring_order("b").windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn a_batch_keeps_filling_while_passes_find_records_and_goes_when_the_rings_are_quiet_or_it_is_old(
    ) {
        let (mut drain, mut producer) = drain_with_one_ring();
        let delivered = |drain: &Drain| drain.shared.counters.delivered.load(Relaxed);
        let before = delivered(&drain);
        let mut pass = |drain: &mut Drain, records: u64| {
            for n in 0..records {
                push_wall_clock(&mut producer, 1_000 + n, "m", n);
            }
            let moved = drain.drain_pass();
            drain.dispatch_when_due(moved == 0);
            moved
        };
        // Two busy passes: one batch, still filling, nothing handed over.
        assert_eq!(pass(&mut drain, 3), 3);
        assert_eq!(pass(&mut drain, 2), 2);
        let filling = drain.filling.expect("a batch is filling");
        assert_eq!(drain.batches[filling].len(), 5);
        assert_eq!(delivered(&drain), before);
        // Quiet rings hand it over.
        assert_eq!(pass(&mut drain, 0), 0);
        assert_eq!(drain.filling, None);
        assert_eq!(delivered(&drain), before + 5);
        // A batch older than MAX_BATCH_AGE goes even though the pass found records.
        pass(&mut drain, 1);
        drain.filling_since = Some(Instant::now() - MAX_BATCH_AGE);
        pass(&mut drain, 1);
        assert_eq!(drain.filling, None);
        assert_eq!(delivered(&drain), before + 7);
    }

    /// Writes a record stamped with the TSC now and returns the time the drain gives it.
    fn log_and_drain(drain: &mut Drain, producer: &mut rtrb::Producer<u8>) -> i64 {
        let header = record::Header {
            level: crate::value::Level::Info,
            flags: 0,
            timestamp: crate::ring::clock::read_tsc(),
        };
        for byte in record::encode_to_vec(header, "m", &[]).unwrap() {
            producer.push(byte).unwrap();
        }
        assert_eq!(drain.drain_pass(), 1);
        let batch = drain
            .batches
            .iter()
            .find(|b| b.len() == 1)
            .expect("a batch");
        let timestamp = batch.timestamps()[0];
        Arc::get_mut(&mut drain.batches[0]).unwrap().clear();
        timestamp
    }

    #[test]
    fn a_wall_clock_stepped_back_is_not_hidden_by_the_per_ring_clamp() {
        if !crate::ring::clock::tsc_usable() {
            return; // Records carry wall-clock ns; nothing is converted or clamped.
        }
        let (mut drain, mut producer) = drain_with_one_ring();
        let first = log_and_drain(&mut drain, &mut producer);
        // An operator or NTP steps the clock back a minute.
        drain.converter.step_wall_clock(-60_000_000_000);
        let second = log_and_drain(&mut drain, &mut producer);
        // The step shows, as in records of threads that start after it and as with the portable
        // clock; clamping to `first` would stamp this thread's records with one frozen time for a
        // minute, and sort every other thread's before them.
        let expected = first - 60_000_000_000;
        assert!(
            (second - expected).abs() < 50_000_000,
            "second record at {second}, expected about {expected} (first at {first})"
        );
    }

    #[test]
    fn flush_requests_queued_together_are_answered_without_idle_sleeps() {
        let (shared, commands, drain) = idle_drain();
        // Let the drain reach its idle sleeps.
        std::thread::sleep(Duration::from_millis(20));
        // Requests from many threads can queue up while the drain is busy, with one wake-up
        // between them (an unpark token does not count).
        let answers: Vec<_> = (0..300)
            .map(|_| {
                let (request, answer) = FlushRequest::new();
                commands.send(Command::Flush(request)).unwrap();
                answer
            })
            .collect();
        let started = Instant::now();
        shared.drain_waker.unpark();
        for answer in answers {
            answer.recv().unwrap().unwrap();
        }
        let took = started.elapsed();
        shared.send(Command::Close).unwrap();
        drain.join().unwrap().unwrap();
        // Each request needs microseconds; one idle sleep per request would take 300 ms.
        assert!(
            took < Duration::from_millis(150),
            "300 queued flush requests took {took:?}"
        );
    }
}
