//! The file lifecycle: opening a file (and its journal), rotating by time and size, finishing
//! it (footer, no-replace rename, retention), and rebuilding it from its journal when its
//! writer fails.

use super::config::ROTATE_SIZE_FLOOR_PERCENT;
use super::files::{self, FileName};
use super::journal::Journal;
use super::recovery::{self, RecoveryOutcome};
use super::sink::{parquet_error, OpenFile, ParquetSink, Unrenamed, Writer};
use crate::error::SinkError;
use crate::sinks::rotation::system_time_to_ns;
use parquet::arrow::ArrowWriter;
use std::fs::{self, OpenOptions};
use std::io;

/// Names tried for a new file before giving up (see `open_new_file`), as for a rename.
const NAME_TRIES: usize = 16;

/// True for the error of a file name another sink took first.
fn is_taken(error: &SinkError) -> bool {
    error.io_kind() == Some(io::ErrorKind::AlreadyExists)
}

/// `cause` with `note` added to its message, keeping its kind: an I/O error stays one, so its
/// `io_kind()` (a full disk, say) still shows.
fn with_note(cause: SinkError, note: String) -> SinkError {
    match cause {
        SinkError::Io { context, source } => SinkError::Io {
            context: format!("{context} ({note})"),
            source,
        },
        SinkError::Encode(message) => SinkError::Encode(format!("{message}; {note}")),
        other => SinkError::Other(format!("{other}; {note}").into()),
    }
}

impl ParquetSink {
    pub(super) fn open_new_file(&mut self) -> Result<(), SinkError> {
        let dir = self.namer.dir().to_path_buf();
        fs::create_dir_all(&dir).map_err(|e| {
            SinkError::io(format!("creating Parquet directory {}", dir.display()), e)
        })?;
        let opened_at = self.clock.now();
        let rotate_at_ns = self.rotation.next_boundary(system_time_to_ns(opened_at));
        // `next` skips names in use, but another sink on this `path` may take the same name
        // at the same moment: whichever creates the journal (or, without one, the `.inprogress`
        // file) first has it, and the other moves on to the next name.
        let mut tries = 0;
        let (name, journal, file, lock) = loop {
            tries += 1;
            let name = self.namer.next(opened_at);
            // The journal first: a crash between the two leaves a journal (recovered as empty),
            // never an `.inprogress` file without one.
            let journal = if self.journal_enabled {
                match self.open_journal(&name) {
                    Ok(journal) => Some(journal),
                    Err(e) if is_taken(&e) && tries < NAME_TRIES => continue,
                    Err(e) => return Err(e),
                }
            } else {
                None
            };
            let temp = name.in_progress();
            // Without a journal the `.inprogress` file itself is locked (see `files`).
            let created = if journal.is_some() {
                OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .open(&temp)
                    .map(|f| (f, None))
            } else {
                files::create_in_progress(&temp).map(|(file, lock)| (file, Some(lock)))
            };
            match created {
                Ok((file, lock)) => break (name, journal, file, lock),
                Err(e) => {
                    if let Some(journal) = journal {
                        let _ = journal.delete();
                    }
                    if e.kind() != io::ErrorKind::AlreadyExists || tries >= NAME_TRIES {
                        return Err(SinkError::io(format!("creating {}", temp.display()), e));
                    }
                }
            }
        };
        let temp = name.in_progress();
        let writer = match ArrowWriter::try_new(
            file,
            self.columns.schema().clone(),
            Some(self.props.clone()),
        ) {
            Ok(writer) => writer,
            Err(e) => {
                let _ = fs::remove_file(&temp);
                drop(lock); // after the removal: no other sink claims it in between
                if let Some(journal) = journal {
                    let _ = journal.delete();
                }
                return Err(parquet_error(format!("creating {}", temp.display()), e));
            }
        };
        self.open = Some(OpenFile {
            name,
            writer: Writer::Home(writer),
            journal,
            lock,
            rotate_at_ns,
        });
        Ok(())
    }

    /// The journal of a new file `name`: the spare one renamed, or a new one. An error of kind
    /// `AlreadyExists` means the name is taken (the spare, if any, is kept).
    pub(super) fn open_journal(&mut self, name: &FileName) -> Result<Journal, SinkError> {
        let Some(mut spare) = self.spare_journal.take() else {
            return Journal::create(name.journal(), self.columns.schema());
        };
        let path = name.journal();
        if let Err(e) = spare.rename(path.clone()) {
            let context = format!("renaming a finished file's journal to {}", path.display());
            if e.kind() == io::ErrorKind::AlreadyExists {
                self.spare_journal = Some(spare);
            } else {
                let _ = spare.delete();
            }
            return Err(SinkError::io(context, e));
        }
        spare.recycle(self.columns.schema())
    }

    /// Reports a deferred error (for `flush` and `close`), then does what a write needs first.
    pub(super) fn settle(&mut self) -> Result<(), SinkError> {
        if let Some(error) = self.deferred.take() {
            return Err(error);
        }
        self.settle_for_write()
    }

    /// Brings back a failed encoder thread's writer (rebuilding its file) and retries a failed
    /// rename. Until they succeed nothing else is written, so a batch that fails here left no
    /// output. A deferred error waits for the next `flush`: it belongs to an earlier batch, which
    /// was written, and failing this one for it would only make the worker retry it (or lose it
    /// under `max_retries = 0`).
    pub(super) fn settle_for_write(&mut self) -> Result<(), SinkError> {
        if self.encoder.as_ref().is_some_and(|e| e.failed()) {
            self.writer_home()?;
        }
        if let Some(pending) = self.unrenamed.take() {
            self.rename_finished(pending)?;
        }
        Ok(())
    }

    pub(super) fn rotation_due_by_time(&self) -> bool {
        let Some(open) = &self.open else { return false };
        open.rotate_at_ns
            .is_some_and(|at| system_time_to_ns(self.clock.now()) >= at)
    }

    /// Deletes the oldest finished files of this path until at most `max_files` remain.
    pub(super) fn enforce_retention(&mut self) -> Result<(), SinkError> {
        let Some(keep) = self.max_files else {
            return Ok(());
        };
        let dir = self.namer.dir().to_path_buf();
        let finished = self.namer.finished_files().map_err(|e| {
            SinkError::io(format!("listing Parquet directory {}", dir.display()), e)
        })?;
        let excess = finished.len().saturating_sub(keep);
        for path in &finished[..excess] {
            match fs::remove_file(path) {
                Err(e) if e.kind() != io::ErrorKind::NotFound => {
                    return Err(SinkError::io(
                        format!("deleting old Parquet file {}", path.display()),
                        e,
                    ))
                }
                _ => {}
            }
        }
        Ok(())
    }

    pub(super) fn delete_spare_journal(&mut self) -> Result<(), SinkError> {
        match self.spare_journal.take() {
            Some(journal) => journal.delete(),
            None => Ok(()),
        }
    }

    /// Writes the footer of the open file, renames it and empties its journal for the next.
    pub(super) fn finish_open(&mut self) -> Result<(), SinkError> {
        self.writer_home()?;
        let Some(open) = self.open.take() else {
            return Ok(());
        };
        let OpenFile {
            name,
            writer,
            journal,
            lock,
            ..
        } = open;
        let Writer::Home(mut writer) = writer else {
            unreachable!("writer_home brought the writer home, or took the file when it failed")
        };
        let temp = name.in_progress();
        if let Err(e) = writer.finish() {
            drop(writer);
            return Err(self.salvage(
                name,
                journal,
                parquet_error(format!("writing the footer of {}", temp.display()), e),
            ));
        }
        drop(writer);
        self.rename_finished(Unrenamed {
            from: temp,
            to: name,
            journal,
            lock,
        })
    }

    pub(super) fn rename_finished(&mut self, pending: Unrenamed) -> Result<(), SinkError> {
        let mut to = pending.to.clone();
        // Someone else took the name meanwhile: never overwrite, take the next one.
        for _ in 0..NAME_TRIES {
            match crate::os::rename_no_replace(&pending.from, &to.finished()) {
                Ok(()) => {
                    self.files_finished += 1;
                    #[cfg(feature = "object-store")]
                    if let Some(upload) = &self.upload {
                        upload.poke();
                    }
                    if let Some(mut journal) = pending.journal {
                        journal.reset();
                        self.spare_journal = Some(journal);
                    }
                    // Only now that the `.inprogress` name is gone: no other sink claims the file
                    // while it is being finished.
                    drop(pending.lock);
                    // The file is finished: a failure to delete old ones is reported by the next
                    // flush or close, not as this call's.
                    if let Err(e) = self.enforce_retention() {
                        self.deferred.get_or_insert(e);
                    }
                    return Ok(());
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                    to = self.namer.next(self.clock.now());
                }
                Err(e) => {
                    let context = format!(
                        "renaming {} to {}",
                        pending.from.display(),
                        to.finished().display()
                    );
                    self.unrenamed = Some(pending);
                    return Err(SinkError::io(context, e));
                }
            }
        }
        let context = format!(
            "renaming {}: every name tried exists",
            pending.from.display()
        );
        self.unrenamed = Some(pending);
        Err(SinkError::io(
            context,
            io::Error::from(io::ErrorKind::AlreadyExists),
        ))
    }

    /// The open file's writer failed, so the file is unusable: rebuild it from the journal, which
    /// holds exactly the batches the file had accepted. Returns the error to report.
    pub(super) fn salvage(
        &mut self,
        name: FileName,
        journal: Option<Journal>,
        cause: SinkError,
    ) -> SinkError {
        let Some(journal) = journal else {
            let note = format!(
                "the journal is off, so {} is left unfinished",
                name.in_progress().display()
            );
            return with_note(cause, note);
        };
        let lock = journal.abandon();
        let path = lock.path().to_path_buf();
        let recovery =
            recovery::recover_journal(&name, lock, &mut self.namer, &self.props, &*self.clock);
        let outcome = recovery.outcome.clone();
        self.report(recovery);
        match outcome {
            RecoveryOutcome::Failed(reason) => with_note(
                cause,
                format!(
                    "rebuilding from journal {} also failed ({reason}): it is left for the next \
                     sink built on this path",
                    path.display()
                ),
            ),
            _ => cause,
        }
    }

    /// Ends the open file's row group.
    pub(super) fn end_row_group(&mut self) -> Result<(), SinkError> {
        self.writer_home()?;
        let Some(open) = self.open.as_mut() else {
            return Ok(());
        };
        let Writer::Home(writer) = &mut open.writer else {
            unreachable!("writer_home brought the writer home, or took the file when it failed")
        };
        if let Err(e) = writer.flush() {
            let open = self.open.take().expect("checked above");
            let context = format!(
                "writing a row group to {}",
                open.name.in_progress().display()
            );
            // Dropped before the rebuild: dropping flushes the writer's buffer into the file,
            // which the rebuild then truncates; after it, into the rebuilt file.
            drop(open.writer);
            return Err(self.salvage(open.name, open.journal, parquet_error(context, e)));
        }
        Ok(())
    }

    /// After a write: finish the file if it reached `max_bytes` (see its docs) or its journal
    /// reached `journal_limit`.
    pub(super) fn maybe_rotate_by_size(&mut self) -> Result<(), SinkError> {
        let Some(open) = self.open.as_mut() else {
            return Ok(());
        };
        let journal_full = open
            .journal
            .as_ref()
            .is_some_and(|j| self.journal_limit > 0 && j.committed_bytes() >= self.journal_limit);
        if journal_full {
            return self.finish_open();
        }
        let Some(max_bytes) = self.max_bytes else {
            return Ok(());
        };
        // The writer's estimate of the open row group counts its open pages uncompressed, so it
        // is an upper bound: a file never passes `max_bytes` by more than one batch. Ending the
        // row group makes the size exact; a file that then turns out smaller stays open, and
        // the next crossing ends another (smaller) row group.
        let estimate = match (&open.writer, self.encoder.as_mut()) {
            (Writer::Home(writer), _) => {
                (writer.bytes_written() + writer.in_progress_size()) as u64
            }
            // Batches still queued count with their Arrow size, more than they will take.
            (Writer::Away, Some(encoder)) => encoder.size_estimate(),
            (Writer::Away, None) => unreachable!("a writer away means an encoder thread"),
        };
        // Look one batch ahead (by the last batch's growth), so a file ends before the batch
        // that would take it past `max_bytes`, not after: with batches an eighth of
        // `max_bytes` the overshoot otherwise reached 10.06%
        // (tests/integration/parquet_size_rotation.rs).
        let growth = estimate.saturating_sub(self.last_size_estimate);
        self.last_size_estimate = estimate;
        if estimate.saturating_add(growth) < max_bytes {
            return Ok(());
        }
        self.end_row_group()?;
        let Some(open) = self.open.as_mut() else {
            return Ok(());
        };
        let Writer::Home(writer) = &open.writer else {
            unreachable!("end_row_group brought the writer home")
        };
        let exact = writer.bytes_written() as u64;
        self.last_size_estimate = exact;
        if exact * 100 >= max_bytes.saturating_mul(ROTATE_SIZE_FLOOR_PERCENT) {
            self.last_size_estimate = 0;
            self.finish_open()?;
        }
        Ok(())
    }
}
