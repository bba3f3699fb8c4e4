//! The encoder thread: Parquet encoding and compression of the open file, off the calling thread.
//!
//! `write_batch` builds a batch's Arrow arrays and appends them to the crash journal on the
//! calling thread, then queues them here; this thread runs `ArrowWriter::write` (dictionary and
//! byte-array encoding, compression, page writes) while the caller builds the next batch. The
//! queue is bounded ([`QUEUE_BATCHES`]), so a caller faster than the encoder waits for it.
//!
//! The open file's `ArrowWriter` moves here with [`EncoderThread::start`] and goes back to the
//! sink with [`EncoderThread::take_back`], which waits until every queued batch is written. The
//! sink takes it back for anything that needs the writer itself: ending a row group (`flush`),
//! the footer, exact sizes. A failed write leaves the writer unusable; the thread then skips the
//! batches after it, raises [`EncoderThread::failed`], and `take_back` returns the error, so
//! the sink reports it on its next call and rebuilds the file from the journal, which holds
//! every batch queued here.
//!
//! Each batch's column buffers come back through [`EncoderThread::returned`] once the writer has
//! dropped the arrays, to be reused.

use super::schema::Lent;
use crate::os;
use arrow_array::RecordBatch;
use parquet::arrow::ArrowWriter;
use parquet::errors::ParquetError;
use std::any::Any;
use std::collections::VecDeque;
use std::fs::File;
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, SyncSender, TryRecvError};
use std::sync::{Arc, Mutex};

/// Batches queued for the encoder beyond the one it is writing.
// NB: one batch in flight is enough to overlap building with encoding; more only holds more
// column buffers (about 1 MiB per 8192-record batch).
pub(crate) const QUEUE_BATCHES: usize = 1;

type Writer = ArrowWriter<File>;

// `Write` is the job sent per batch; boxing it to shrink the rare ones would allocate per batch.
#[allow(clippy::large_enum_variant)]
enum Job {
    /// The open file's writer, to write the following batches with.
    Start(Box<Writer>),
    /// A batch to write, its buffers to return, its sequence number.
    Write(RecordBatch, Lent, u64),
    /// Send the writer (and any write error) back.
    Return,
}

enum Back {
    Buffers(Lent),
    Writer(Option<Box<Writer>>, Option<ParquetError>),
}

/// What the thread has written of the current file, for size-based rotation without waiting.
#[derive(Default)]
struct Progress {
    /// `bytes_written() + in_progress_size()` after the last batch written.
    size: u64,
    /// Sequence number of the last batch written (or skipped).
    done: u64,
}

/// The thread and its queues. Dropping it stops the thread (after the queued batches).
pub(crate) struct EncoderThread {
    /// `Option` only so `drop` can close the queue before joining.
    jobs: Option<SyncSender<Job>>,
    back: Receiver<Back>,
    progress: Arc<Mutex<Progress>>,
    failed: Arc<AtomicBool>,
    thread: Option<os::Thread<()>>,
    /// Batches queued and not yet known to be written: (sequence, estimated bytes).
    pending: VecDeque<(u64, u64)>,
    next_seq: u64,
    /// Buffers returned while waiting for the writer, handed out by [`returned`](Self::returned).
    buffers: Vec<Lent>,
}

impl EncoderThread {
    pub(crate) fn spawn(sink_name: &str, cpu: Option<usize>) -> std::io::Result<EncoderThread> {
        let (jobs, job_rx) = mpsc::sync_channel::<Job>(QUEUE_BATCHES);
        let (back_tx, back) = mpsc::channel::<Back>();
        let progress = Arc::new(Mutex::new(Progress::default()));
        let failed = Arc::new(AtomicBool::new(false));
        let thread = {
            let progress = progress.clone();
            let failed = failed.clone();
            os::spawn_thread(
                // A thread name may not hold a NUL byte (std panics); a sink name may.
                format!("asynclog-parquet-{sink_name}").replace('\0', "?"),
                cpu,
                (job_rx, back_tx),
                move |(job_rx, back_tx)| run(job_rx, back_tx, &progress, &failed),
            )
            .map_err(|failed| failed.error)?
        };
        Ok(EncoderThread {
            jobs: Some(jobs),
            back,
            progress,
            failed,
            thread: Some(thread),
            pending: VecDeque::new(),
            next_seq: 0,
            buffers: Vec::new(),
        })
    }

    /// Hands the open file's writer to the thread; gives it back if the thread is gone.
    pub(crate) fn start(&mut self, writer: Writer) -> Result<(), Box<Writer>> {
        {
            let mut progress = lock(&self.progress);
            progress.size = (writer.bytes_written() + writer.in_progress_size()) as u64;
        }
        self.pending.clear();
        let jobs = self.jobs.as_ref().expect("the queue closes only on drop");
        match jobs.send(Job::Start(Box::new(writer))) {
            Ok(()) => Ok(()),
            Err(mpsc::SendError(Job::Start(writer))) => Err(writer),
            Err(_) => unreachable!("the job sent was a Start"),
        }
    }

    /// Queues a batch (waiting while the queue is full). `estimate` is an upper bound of the
    /// bytes it adds to the file, counted by [`size_estimate`](Self::size_estimate) until the
    /// thread has written it.
    pub(crate) fn write(
        &mut self,
        batch: RecordBatch,
        lent: Lent,
        estimate: u64,
    ) -> Result<(), ThreadGone> {
        self.next_seq += 1;
        self.pending.push_back((self.next_seq, estimate));
        self.send(Job::Write(batch, lent, self.next_seq))
    }

    /// Whether a write failed since the writer was started (the sink must take it back).
    pub(crate) fn failed(&self) -> bool {
        self.failed.load(Ordering::Acquire)
    }

    /// The file's size so far, counting queued batches by their estimates: an upper bound.
    pub(crate) fn size_estimate(&mut self) -> u64 {
        let (size, done) = {
            let progress = lock(&self.progress);
            (progress.size, progress.done)
        };
        while self.pending.front().is_some_and(|&(seq, _)| seq <= done) {
            self.pending.pop_front();
        }
        size + self.pending.iter().map(|&(_, bytes)| bytes).sum::<u64>()
    }

    /// Column buffers the thread is done with.
    pub(crate) fn returned(&mut self) -> impl Iterator<Item = Lent> + '_ {
        let mut waiting = std::mem::take(&mut self.buffers).into_iter();
        std::iter::from_fn(move || {
            waiting.next().or_else(|| match self.back.try_recv() {
                Ok(Back::Buffers(lent)) => Some(lent),
                // Only `take_back` asks for the writer, and it reads the answer itself.
                Ok(Back::Writer(..)) => unreachable!("a writer returned unasked"),
                Err(TryRecvError::Empty | TryRecvError::Disconnected) => None,
            })
        })
    }

    /// Waits until every queued batch is written and takes the writer back, with the error of
    /// the first write that failed. `Err` if the thread is gone (it panicked): its writer is lost.
    pub(crate) fn take_back(
        &mut self,
    ) -> Result<(Option<Writer>, Option<ParquetError>), ThreadGone> {
        self.send(Job::Return)?;
        loop {
            match self.back.recv() {
                Ok(Back::Buffers(lent)) => self.buffers.push(lent),
                Ok(Back::Writer(writer, error)) => {
                    self.pending.clear();
                    self.failed.store(false, Ordering::Release);
                    return Ok((writer.map(|w| *w), error));
                }
                Err(_) => return Err(ThreadGone),
            }
        }
    }

    fn send(&mut self, job: Job) -> Result<(), ThreadGone> {
        let jobs = self.jobs.as_ref().ok_or(ThreadGone)?;
        jobs.send(job).map_err(|_| ThreadGone)
    }
}

impl Drop for EncoderThread {
    fn drop(&mut self) {
        self.jobs = None;
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The encoder thread ended (a panic in the parquet writer); the writer it held is lost.
#[derive(Debug)]
pub(crate) struct ThreadGone;

fn lock(progress: &Mutex<Progress>) -> std::sync::MutexGuard<'_, Progress> {
    // A panic while holding the lock leaves two integers behind: still usable.
    progress
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The thread's loop: write each batch with the writer it holds, return the buffers.
fn run(
    jobs: Receiver<Job>,
    back: mpsc::Sender<Back>,
    progress: &Mutex<Progress>,
    failed: &AtomicBool,
) {
    let mut writer: Option<Box<Writer>> = None;
    let mut error: Option<ParquetError> = None;
    for job in jobs {
        match job {
            Job::Start(w) => {
                writer = Some(w);
                error = None;
            }
            Job::Write(batch, lent, seq) => {
                // After a failure the writer may hold part of a batch: write nothing more (the
                // sink rebuilds the file from the journal).
                let mut size = None;
                if let (Some(w), None) = (writer.as_mut(), &error) {
                    // A panic in the writer is an error like any other: the thread stays up.
                    let written = panic::catch_unwind(AssertUnwindSafe(|| w.write(&batch)))
                        .unwrap_or_else(|payload| {
                            Err(ParquetError::General(format!(
                                "the Parquet writer panicked: {}",
                                panic_message(payload.as_ref())
                            )))
                        });
                    match written {
                        Ok(()) => size = Some((w.bytes_written() + w.in_progress_size()) as u64),
                        Err(e) => {
                            error = Some(e);
                            failed.store(true, Ordering::Release);
                        }
                    }
                }
                drop(batch);
                {
                    let mut progress = lock(progress);
                    if let Some(size) = size {
                        progress.size = size;
                    }
                    progress.done = seq;
                }
                // The sink may be gone (dropped mid-queue); the buffers are then just freed.
                let _ = back.send(Back::Buffers(lent));
            }
            Job::Return => {
                let _ = back.send(Back::Writer(writer.take(), error.take()));
            }
        }
    }
}

fn panic_message(payload: &(dyn Any + Send)) -> &str {
    if let Some(s) = payload.downcast_ref::<&str>() {
        s
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s
    } else {
        "(no message)"
    }
}
