//! The encoder hand-off: each batch is built into Arrow arrays, journaled, then written by the
//! open file's writer, on this thread or on the encoder thread, which holds the writer while it
//! has batches queued; and bringing the writer back when the file must be ended or rebuilt.

use super::encoder::{self, EncoderThread};
use super::schema::Lent;
use super::sink::{parquet_error, ParquetSink, Writer};
use crate::batch::Batch;
use crate::error::SinkError;
use arrow_array::RecordBatch;

impl ParquetSink {
    pub(super) fn write_open(&mut self, batch: &Batch) -> Result<(), SinkError> {
        self.reclaim_returned();
        let (record_batch, lent) = self.columns.build(batch).map_err(|e| {
            SinkError::Encode(format!("sink `{}`: building Arrow arrays: {e}", self.name))
        })?;
        let open = self.open.as_mut().expect("a file is open");
        if let Some(journal) = open.journal.as_mut() {
            if let Err(error) = journal.append(&record_batch) {
                drop(record_batch);
                self.columns.reclaim(lent);
                // The Parquet file did not get the batch and is fine; the journal may hold a
                // partial message, so end this file here and let the retry start a new one.
                if let Err(finish) = self.finish_open() {
                    self.deferred.get_or_insert(finish);
                }
                return Err(error);
            }
        }
        if self.encode_thread {
            return self.queue(record_batch, lent);
        }
        let Writer::Home(writer) = &mut open.writer else {
            unreachable!("without an encoder thread the writer is home")
        };
        let result = writer.write(&record_batch).map_err(|e| {
            parquet_error(format!("writing {}", open.name.in_progress().display()), e)
        });
        drop(record_batch);
        self.columns.reclaim(lent);
        let Err(error) = result else { return Ok(()) };
        // The Parquet writer may hold part of the batch: the file is lost. Take the batch out of
        // the journal and rebuild the file from it; the retry writes the batch to a new file.
        let open = self.open.take().expect("a file is open");
        let mut journal = open.journal;
        if let Some(journal) = journal.as_mut() {
            journal.rollback_last();
        }
        drop(open.writer);
        Err(self.salvage(open.name, journal, error))
    }

    /// Hands a built (and journaled) batch to the encoder thread, starting the thread and giving
    /// it the open file's writer if needed.
    pub(super) fn queue(&mut self, record_batch: RecordBatch, lent: Lent) -> Result<(), SinkError> {
        if self.encoder.is_none() {
            match EncoderThread::spawn(&self.name, self.encoder_cpu) {
                Ok(encoder) => self.encoder = Some(encoder),
                Err(e) => {
                    drop(record_batch);
                    self.columns.reclaim(lent);
                    return Err(self.drop_last_batch(SinkError::io(
                        crate::os::starting(
                            &format!("the encoder thread of sink `{}`", self.name),
                            self.encoder_cpu,
                        ),
                        e,
                    )));
                }
            }
        }
        let encoder = self.encoder.as_mut().expect("started above");
        let open = self.open.as_mut().expect("a file is open");
        if let Writer::Home(writer) = std::mem::replace(&mut open.writer, Writer::Away) {
            if let Err(writer) = encoder.start(writer) {
                open.writer = Writer::Home(*writer);
                self.encoder = None;
                drop(record_batch);
                self.columns.reclaim(lent);
                return Err(self.drop_last_batch(self.thread_gone()));
            }
        }
        let estimate = lent.bytes;
        if encoder.write(record_batch, lent, estimate).is_err() {
            // The thread is gone and the writer with it: rebuild the file from the journal
            // without this batch, which the retry writes to a new file.
            self.encoder = None;
            let error = self.thread_gone();
            let open = self.open.take().expect("a file is open");
            let mut journal = open.journal;
            if let Some(journal) = journal.as_mut() {
                journal.rollback_last();
            }
            return Err(self.salvage(open.name, journal, error));
        }
        Ok(())
    }

    /// The batch just journaled was not written: take it out of the journal so the file stays
    /// consistent, end the file (the journal's stream still holds the batch past its commit,
    /// and the next append would commit it again), and return `error`; the retry writes the
    /// batch to a new file.
    pub(super) fn drop_last_batch(&mut self, error: SinkError) -> SinkError {
        if let Some(journal) = self.open.as_mut().and_then(|o| o.journal.as_mut()) {
            journal.rollback_last();
        }
        if let Err(finish) = self.finish_open() {
            self.deferred.get_or_insert(finish);
        }
        error
    }

    pub(super) fn thread_gone(&self) -> SinkError {
        SinkError::Other(format!("the encoder thread of sink `{}` ended", self.name).into())
    }

    /// Reuses the column buffers the encoder thread is done with.
    pub(super) fn reclaim_returned(&mut self) {
        if let Some(encoder) = self.encoder.as_mut() {
            for lent in encoder.returned() {
                self.columns.reclaim(lent);
            }
        }
    }

    /// Brings the open file's writer back from the encoder thread, waiting for the batches queued
    /// there. If a write failed there, the file is unusable: it is rebuilt from the journal,
    /// which holds every batch queued (all of them accepted by `write_batch`, so none is
    /// retried), and the error is returned.
    pub(super) fn writer_home(&mut self) -> Result<(), SinkError> {
        let Some(open) = self.open.as_mut() else {
            return Ok(());
        };
        if matches!(open.writer, Writer::Home(_)) {
            return Ok(());
        }
        let encoder = self
            .encoder
            .as_mut()
            .expect("a writer away means an encoder thread");
        let cause = match encoder.take_back() {
            Ok((Some(writer), None)) => {
                open.writer = Writer::Home(writer);
                self.reclaim_returned();
                return Ok(());
            }
            Ok((_, Some(e))) => {
                parquet_error(format!("writing {}", open.name.in_progress().display()), e)
            }
            Ok((None, None)) | Err(encoder::ThreadGone) => {
                self.encoder = None;
                self.thread_gone()
            }
        };
        self.reclaim_returned();
        let open = self.open.take().expect("checked above");
        Err(self.salvage(open.name, open.journal, cause))
    }
}
