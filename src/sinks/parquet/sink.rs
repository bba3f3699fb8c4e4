//! The sink itself: its state, its constructors and getters, and the [`Sink`] calls, each a
//! few named steps of the file lifecycle (`lifecycle.rs`) and the encoder hand-off
//! (`handoff.rs`).

use super::config::{writer_properties, ParquetSinkConfig};
use super::encoder::EncoderThread;
use super::files::{FileName, InProgressLock, Namer};
use super::journal::Journal;
use super::recovery::{self, JournalRecovery, RecoveryHook};
use super::schema::ColumnBuffers;
use crate::batch::Batch;
use crate::error::{Error, SinkError};
use crate::sinks::rotation::{Clock, Rotation};
use crate::sinks::Sink;
use parquet::arrow::ArrowWriter;
use parquet::errors::ParquetError;
use parquet::file::properties::WriterProperties;
use std::fmt;
use std::fs::{self, File};
use std::io;
use std::path::PathBuf;
use std::sync::Arc;

/// Where the open file's Parquet writer is.
// One per sink, held in place as the `Option` it replaces was; boxing it would only add an
// allocation per file.
#[allow(clippy::large_enum_variant)]
pub(super) enum Writer {
    /// On the sink's thread: batches are written and row groups ended through it directly.
    Home(ArrowWriter<File>),
    /// Lent to the encoder thread (`encoder` is then `Some`), which writes the queued batches;
    /// `writer_home` waits for them and brings it back.
    Away,
}

/// A file being written.
pub(super) struct OpenFile {
    pub(super) name: FileName,
    pub(super) writer: Writer,
    pub(super) journal: Option<Journal>,
    /// Journal off: the `.inprogress` file's lock, held until the finished file is renamed.
    pub(super) lock: Option<InProgressLock>,
    /// When time rotation finishes the file (ns since the epoch), if it does.
    pub(super) rotate_at_ns: Option<i64>,
}

/// A file whose footer is written but whose rename failed; retried before anything else.
pub(super) struct Unrenamed {
    pub(super) from: PathBuf,
    pub(super) to: FileName,
    pub(super) journal: Option<Journal>,
    /// As [`OpenFile::lock`]: let go once `from` is renamed.
    pub(super) lock: Option<InProgressLock>,
}

/// Writes batches as Parquet files. See the [module docs](super).
pub struct ParquetSink {
    pub(super) name: String,
    pub(super) namer: Namer,
    pub(super) rotation: Rotation,
    pub(super) max_bytes: Option<u64>,
    pub(super) max_files: Option<usize>,
    /// The open file's size estimate after the previous batch (see `maybe_rotate_by_size`).
    pub(super) last_size_estimate: u64,
    pub(super) journal_enabled: bool,
    pub(super) journal_limit: u64,
    pub(super) clock: Arc<dyn Clock>,
    pub(super) on_recovery: Option<RecoveryHook>,
    pub(super) props: WriterProperties,
    pub(super) columns: ColumnBuffers,
    pub(super) encode_thread: bool,
    /// Where the encoder thread is pinned (`ParquetSinkConfig::encoder_cpu`).
    pub(super) encoder_cpu: Option<usize>,
    /// Started by the first batch when `encode_thread` is on.
    pub(super) encoder: Option<EncoderThread>,
    pub(super) open: Option<OpenFile>,
    pub(super) unrenamed: Option<Unrenamed>,
    /// The journal of the last finished file, emptied, kept for the next file (see
    /// `Journal::recycle`); deleted by `close`.
    pub(super) spare_journal: Option<Journal>,
    /// The first error from finishing a file after a batch was already written; reported by the
    /// next `flush` or `close` (a later batch has nothing to do with it, see `settle_for_write`).
    pub(super) deferred: Option<SinkError>,
    pub(super) recoveries: Vec<JournalRecovery>,
    pub(super) files_finished: u64,
    /// The upload stage's thread, if the sink uploads.
    #[cfg(feature = "object-store")]
    pub(super) upload: Option<super::upload::Uploader>,
}

impl fmt::Debug for ParquetSink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ParquetSink")
            .field("name", &self.name)
            .field("open", &self.open.as_ref().map(|o| o.name.in_progress()))
            .field("files_finished", &self.files_finished)
            .finish_non_exhaustive()
    }
}

impl ParquetSink {
    /// A sink writing files named after `path` with the defaults of [`ParquetSinkConfig::new`]:
    /// no rotation, no retention, journal and encoder thread on.
    ///
    /// # Errors
    /// As [`with_config`](Self::with_config).
    pub fn new(path: impl Into<PathBuf>) -> Result<ParquetSink, Error> {
        ParquetSink::with_config(ParquetSinkConfig::new(path))
    }

    /// A sink with the given options. Creates the directory if needed, recovers any journal a
    /// crashed predecessor left for this `path` (see [`recoveries`](Self::recoveries)) and
    /// applies retention. The first file is opened by the first batch.
    ///
    /// Another sink may still be writing to this `path`, in this process or another (a
    /// restarted service whose old instance has not exited yet). Its journal is locked (`flock`)
    /// for as long as it is open, and is left alone: not recovered, not reported (nothing went
    /// wrong with it), and its `.inprogress` file untouched. With the journal off, its
    /// `.inprogress` file is locked and left alone the same way. The two sinks' files never share
    /// a name; this sink's names sort after the names in the directory when it started.
    ///
    /// # Errors
    /// [`Error::Config`] naming the field and the sink for an option out of range (a `path`
    /// without a file-name prefix, a zero `max_bytes`, `max_files` or `row_group_rows`, a
    /// rotation period under [`MIN_ROTATION_PERIOD`](crate::sinks::MIN_ROTATION_PERIOD), a zstd
    /// level out of range); [`Error::Io`] naming the directory or file if it cannot be created,
    /// listed or (retention) deleted.
    pub fn with_config(config: ParquetSinkConfig) -> Result<ParquetSink, Error> {
        let namer = config.validate()?;
        fs::create_dir_all(namer.dir()).map_err(|e| {
            Error::io(
                format!("creating Parquet directory {}", namer.dir().display()),
                e,
            )
        })?;
        let mut sink = ParquetSink {
            name: config.sink_name(),
            namer,
            rotation: config.rotation,
            max_bytes: config.max_bytes,
            max_files: config.max_files,
            last_size_estimate: 0,
            journal_enabled: config.journal,
            journal_limit: config.journal_limit,
            clock: config.clock,
            on_recovery: config.on_recovery,
            props: writer_properties(config.compression, config.row_group_rows),
            columns: ColumnBuffers::new(config.timestamp_unit),
            encode_thread: config.encode_thread,
            encoder_cpu: config.encoder_cpu,
            encoder: None,
            open: None,
            unrenamed: None,
            spare_journal: None,
            deferred: None,
            recoveries: Vec::new(),
            files_finished: 0,
            #[cfg(feature = "object-store")]
            upload: None,
        };
        let ParquetSink {
            namer,
            props,
            clock,
            on_recovery,
            recoveries,
            ..
        } = &mut sink;
        recovery::recover_leftovers(namer, props, &**clock, &mut |found| {
            report(on_recovery, recoveries, found)
        })?;
        sink.enforce_retention().map_err(|e| match e {
            SinkError::Io { context, source } => Error::Io { context, source },
            other => Error::Sink {
                sink: sink.name.clone(),
                source: other,
            },
        })?;
        // After recovery, so the files it rebuilt are the first to go up.
        #[cfg(feature = "object-store")]
        if let Some(upload) = config.upload {
            sink.upload = Some(super::upload::Uploader::start(
                upload,
                &config.path,
                &sink.name,
            )?);
        }
        Ok(sink)
    }

    /// Every recovery this sink performed: those of [`with_config`](Self::with_config)
    /// (leftovers of a crashed predecessor) and rebuilds after write errors.
    pub fn recoveries(&self) -> &[JournalRecovery] {
        &self.recoveries
    }

    /// Rows written by recoveries, in total.
    pub fn recovered_rows(&self) -> u64 {
        self.recoveries.iter().map(|r| r.rows).sum()
    }

    /// Files finished (footer written and renamed) so far.
    pub fn files_finished(&self) -> u64 {
        self.files_finished
    }

    /// The `.inprogress` path of the file being written, if one is open.
    pub fn open_file(&self) -> Option<PathBuf> {
        self.open.as_ref().map(|o| o.name.in_progress())
    }

    /// The upload stage's counters, if the sink uploads (also in
    /// [`Stats`](crate::Stats)`::sinks[i].upload`).
    #[cfg(feature = "object-store")]
    pub fn upload_stats(&self) -> Option<crate::UploadStats> {
        self.upload.as_ref().map(|u| u.telemetry().snapshot())
    }

    /// Column buffers that could not be reused because Arrow still held them (allocation
    /// accounting; stays 0 in steady state).
    pub fn buffer_reuse_misses(&self) -> u64 {
        self.columns.lost
    }

    /// Tells the hook about `recovery` and keeps it for [`recoveries`](Self::recoveries).
    pub(super) fn report(&mut self, recovery: JournalRecovery) {
        report(&self.on_recovery, &mut self.recoveries, recovery);
    }
}

impl ParquetSinkConfig {
    /// Builds the sink: [`ParquetSink::with_config`].
    ///
    /// # Errors
    /// As [`ParquetSink::with_config`].
    pub fn build(self) -> Result<ParquetSink, Error> {
        ParquetSink::with_config(self)
    }
}

fn report(
    hook: &Option<RecoveryHook>,
    recoveries: &mut Vec<JournalRecovery>,
    recovery: JournalRecovery,
) {
    if let Some(hook) = hook {
        hook(&recovery);
    }
    recoveries.push(recovery);
}

impl Sink for ParquetSink {
    fn name(&self) -> &str {
        &self.name
    }

    fn write_batch(&mut self, batch: &Batch) -> Result<(), SinkError> {
        if batch.is_empty() {
            return Ok(());
        }
        #[cfg(feature = "object-store")]
        if let Some(upload) = &self.upload {
            upload.admit(batch.len())?;
        }
        self.settle_for_write()?;
        if self.rotation_due_by_time() {
            self.finish_open()?;
        }
        if self.open.is_none() {
            self.open_new_file()?;
        }
        self.write_open(batch)?;
        // The batch is written (and journaled): a failure to finish the file now must not make
        // the worker retry it, so it is reported by the next flush instead.
        if let Err(error) = self.maybe_rotate_by_size() {
            self.deferred.get_or_insert(error);
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<(), SinkError> {
        self.settle()?;
        if self.rotation_due_by_time() {
            return self.finish_open();
        }
        self.end_row_group()?;
        let Some(open) = self.open.as_mut() else {
            return Ok(());
        };
        let Writer::Home(writer) = &mut open.writer else {
            unreachable!("end_row_group brought the writer home")
        };
        if let Err(e) = writer.sync() {
            let open = self.open.take().expect("checked above");
            let context = format!("writing {}", open.name.in_progress().display());
            // As in `end_row_group`: the writer's buffer must not land in the rebuilt file.
            drop(open.writer);
            return Err(self.salvage(open.name, open.journal, SinkError::io(context, e)));
        }
        Ok(())
    }

    fn close(&mut self) -> Result<(), SinkError> {
        // A deferred error is reported first, but must not keep close from retrying a pending
        // rename (`settle` would return it before `settle_for_write`): nothing runs after close.
        let earlier = self.deferred.take().map_or(Ok(()), Err);
        let settled = earlier.and(self.settle_for_write());
        let finished = self.finish_open();
        let spare = self.delete_spare_journal();
        // Finishing the file may have deferred a retention error: nothing flushes after close.
        let deferred = self.deferred.take().map_or(Ok(()), Err);
        // Last: the file just finished is the last to go up.
        #[cfg(feature = "object-store")]
        if let Some(upload) = self.upload.as_mut() {
            upload.poke();
            upload.close();
        }
        settled.and(finished).and(spare).and(deferred)
    }

    #[cfg(feature = "object-store")]
    fn upload_telemetry(&self) -> Option<crate::UploadTelemetry> {
        self.upload.as_ref().map(|u| u.telemetry())
    }
}

impl Drop for ParquetSink {
    fn drop(&mut self) {
        // `close` normally ran; if the sink is dropped without it, still finish the open file.
        // Errors have nowhere to go here; the journal stays behind if finishing fails. A rename
        // that failed earlier is retried first, as `close` does.
        let _ = self.settle_for_write();
        let _ = self.finish_open();
        let _ = self.delete_spare_journal();
        // The uploader's own drop then sends what it can within `close_wait`.
        #[cfg(feature = "object-store")]
        if let Some(upload) = &self.upload {
            upload.poke();
        }
    }
}

/// An I/O error inside a Parquet error becomes [`SinkError::Io`]; anything else `Encode`.
pub(super) fn parquet_error(context: String, error: ParquetError) -> SinkError {
    match error {
        ParquetError::External(inner) => match inner.downcast::<io::Error>() {
            Ok(io_error) => SinkError::io(context, *io_error),
            Err(other) => SinkError::Encode(format!("{context}: {other}")),
        },
        other => SinkError::Encode(format!("{context}: {other}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::{Field, Level};
    use parquet::file::reader::{FileReader, SerializedFileReader};

    fn batch(first: u64, n: u64) -> Batch {
        let mut batch = Batch::new();
        for seq in first..first + n {
            let ts = 1_795_780_800_000_000_000 + seq as i64;
            batch
                .push(ts, Level::Info, 1, "m", &[Field::new("seq", seq)])
                .unwrap();
        }
        batch
    }

    /// The encoder thread could not be started (`queue`): the batch just journaled is taken
    /// back, and the worker's retry of it must not leave it in the journal twice.
    #[test]
    fn a_batch_taken_back_from_the_journal_is_recovered_once() {
        let dir = tempfile::tempdir().unwrap();
        let config = ParquetSinkConfig::new(dir.path().join("app")).with_encode_thread(false);
        let mut sink = ParquetSink::with_config(config.clone()).unwrap();
        sink.write_batch(&batch(0, 10)).unwrap();
        // What `queue` does when the thread cannot start: journaled, then taken back.
        let second = batch(10, 10);
        let (record_batch, lent) = sink.columns.build(&second).unwrap();
        let journal = sink.open.as_mut().unwrap().journal.as_mut().unwrap();
        journal.append(&record_batch).unwrap();
        drop(record_batch);
        sink.columns.reclaim(lent);
        let _ = sink.drop_last_batch(SinkError::Other("the thread did not start".into()));
        // The worker's retry, then a crash: the journal is all that is left of the open file.
        // As in a crash, the journal's descriptor closes (letting its lock go) and nothing else
        // runs: no footer, no rename.
        sink.write_batch(&second).unwrap();
        let open = sink.open.take().unwrap();
        drop(open.journal.map(Journal::abandon));
        std::mem::forget(open.writer);
        std::mem::forget(sink);
        drop(ParquetSink::with_config(config).unwrap());

        let mut rows = 0;
        for entry in fs::read_dir(dir.path()).unwrap() {
            let path = entry.unwrap().path();
            assert!(path.extension().is_some_and(|e| e == "parquet"), "{path:?}");
            let reader = SerializedFileReader::new(File::open(&path).unwrap()).unwrap();
            rows += reader.metadata().file_metadata().num_rows();
        }
        assert_eq!(rows, 20, "each record once");
    }

    /// An error left over from finishing a file after an earlier batch was written (`deferred`)
    /// is not the next batch's: failing that batch would make the worker retry it for nothing,
    /// and lose it under `max_retries = 0`. The batch is written; the next flush reports it.
    #[test]
    fn a_deferred_error_is_reported_by_flush_not_by_the_next_batch() {
        let dir = tempfile::tempdir().unwrap();
        let mut sink = ParquetSink::new(dir.path().join("app")).unwrap();
        sink.write_batch(&batch(0, 10)).unwrap();
        // What `write_batch` keeps when finishing the file after a batch fails.
        sink.deferred = Some(SinkError::Other("finishing app_1.parquet failed".into()));
        sink.write_batch(&batch(10, 10)).unwrap();
        let error = sink.flush().unwrap_err();
        assert!(error.to_string().contains("app_1.parquet"), "{error}");
        sink.flush().unwrap();
        sink.close().unwrap();

        let mut rows = 0;
        for entry in fs::read_dir(dir.path()).unwrap() {
            let path = entry.unwrap().path();
            let reader = SerializedFileReader::new(File::open(&path).unwrap()).unwrap();
            rows += reader.metadata().file_metadata().num_rows();
        }
        assert_eq!(rows, 20, "both batches written, each once");
    }
}
