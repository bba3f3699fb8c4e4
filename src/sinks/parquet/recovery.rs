//! Recovery: what a sink built on a `path` does with the journals (and unfinished files) that a
//! crashed predecessor left there, and how a file whose writer failed is rebuilt from its
//! journal. Free functions over the sink's naming, writer settings and clock, so they need
//! nothing else of the sink.

use super::files::{self, FileName, InProgressLock, Namer};
use super::journal::{self, JournalLock};
use crate::error::Error;
use crate::sinks::rotation::Clock;
use parquet::arrow::ArrowWriter;
use parquet::file::properties::WriterProperties;
use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Called once per journal recovered when a sink is built (and per file rebuilt after a write
/// error).
pub type RecoveryHook = Arc<dyn Fn(&JournalRecovery) + Send + Sync>;

/// What recovering one leftover journal (or unfinished file) of a crashed Parquet sink did: the
/// Parquet file rebuilt from its journal, and how. Not to be confused with the file sink's
/// [`TailRecovery`](crate::sinks::file::TailRecovery), which trims a torn tail off a JSON-lines
/// file and keeps the rest in place.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct JournalRecovery {
    /// The journal found (or, for [`RecoveryOutcome::NoJournal`], the unfinished file).
    pub journal: PathBuf,
    /// The finished Parquet file holding the journal's rows, if there is one.
    pub file: Option<PathBuf>,
    /// Rows written into `file` by the recovery.
    pub rows: u64,
    /// What happened.
    pub outcome: RecoveryOutcome,
    /// Set when the journal's committed part did not read to its end (a damaged file): the rows
    /// before the damage were recovered.
    pub damage: Option<String>,
}

impl JournalRecovery {
    /// A recovery of `journal` (or unfinished file) that failed for `reason`.
    pub(super) fn failed(journal: PathBuf, reason: String) -> JournalRecovery {
        JournalRecovery {
            journal,
            file: None,
            rows: 0,
            outcome: RecoveryOutcome::Failed(reason),
            damage: None,
        }
    }
}

/// How a recovery ended.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RecoveryOutcome {
    /// The journal's complete batches were written to a new Parquet file; journal and
    /// `.inprogress` file removed.
    Rebuilt,
    /// The Parquet file had been finished before the crash: the journal, not yet deleted, and
    /// the `.inprogress` file were removed; or, journal off, the `.inprogress` file, complete
    /// but not yet renamed, was renamed to `file`.
    AlreadyFinished,
    /// The journal held no complete batch; journal and `.inprogress` file removed.
    Empty,
    /// An `.inprogress` file without a journal (journal off) whose writer is gone (no sink holds
    /// its lock) and whose footer was never written: it cannot be read and is left in place. One that is empty (its writer died
    /// before anything reached the disk) is removed without a report.
    NoJournal,
    /// JournalRecovery failed; the files are left in place. The reason names the path.
    Failed(String),
}

/// Recovers every leftover journal of `namer`'s prefix, oldest first, handing each result
/// to `report` as it is done.
pub(super) fn recover_leftovers(
    namer: &mut Namer,
    props: &WriterProperties,
    clock: &dyn Clock,
    report: &mut dyn FnMut(JournalRecovery),
) -> Result<(), Error> {
    let dir = namer.dir().to_path_buf();
    let found = namer
        .scan()
        .map_err(|e| Error::io(format!("listing Parquet directory {}", dir.display()), e))?;
    let mut stems: BTreeMap<String, (FileName, Vec<&'static str>)> = BTreeMap::new();
    for (name, suffix) in found {
        stems
            .entry(name.stem.clone())
            .or_insert_with(|| (name, Vec::new()))
            .1
            .push(suffix);
    }
    for (_, (name, suffixes)) in stems {
        let has = |s: &str| suffixes.contains(&s);
        // A sink creates a file's journal before the file, so an `.inprogress` file listed
        // without one may be a live sink's whose journal was renamed into place while the
        // scan ran: look again.
        let journaled = has(files::JOURNAL)
            || (has(files::IN_PROGRESS) && fs::symlink_metadata(name.journal()).is_ok());
        let recovery = if journaled {
            match journal::claim(&name.journal()) {
                Ok(Some(lock)) => recover_journal(&name, lock, namer, props, clock),
                // A live sink's (it holds the lock), or finished by it since the scan.
                Ok(None) => continue,
                Err(e) => {
                    let journal = name.journal();
                    let reason = format!("journal {}: {e}", journal.display());
                    JournalRecovery::failed(journal, reason)
                }
            }
        } else if has(files::IN_PROGRESS) {
            match files::claim_in_progress(&name.in_progress()) {
                Ok(Some(lock)) => match recover_orphan(&name, lock) {
                    Some(recovery) => recovery,
                    None => continue, // empty, removed
                },
                // A live sink's (journal off, it holds the lock), or finished since the scan.
                Ok(None) => continue,
                Err(e) => {
                    let file = name.in_progress();
                    let reason = format!("{}: {e}", file.display());
                    JournalRecovery::failed(file, reason)
                }
            }
        } else {
            continue;
        };
        report(recovery);
    }
    Ok(())
}

/// Turns the journal of `name`, held under `lock` until done, into a finished file (see
/// [`RecoveryOutcome`]).
pub(super) fn recover_journal(
    name: &FileName,
    lock: JournalLock,
    namer: &mut Namer,
    props: &WriterProperties,
    clock: &dyn Clock,
) -> JournalRecovery {
    let journal = name.journal();
    debug_assert_eq!(lock.path(), journal);
    let failed = |reason: String| JournalRecovery::failed(journal.clone(), reason);
    let finished = name.finished();
    let remove_leftovers = || -> Result<(), String> {
        remove_if_exists(&name.in_progress())?;
        remove_if_exists(&journal)
    };
    if files::is_complete_parquet(&finished) {
        // Finished and renamed, then killed before the journal was deleted.
        return match remove_leftovers() {
            Ok(()) => JournalRecovery {
                journal: journal.clone(),
                file: Some(finished),
                rows: 0,
                outcome: RecoveryOutcome::AlreadyFinished,
                damage: None,
            },
            Err(e) => failed(e),
        };
    }
    let committed = match journal::read_committed(&lock) {
        Ok(committed) => committed,
        Err(e) => return failed(format!("journal {}: {e}", journal.display())),
    };
    let rows: u64 = committed.batches.iter().map(|b| b.num_rows() as u64).sum();
    let schema = match &committed.schema {
        Some(schema) if rows > 0 => schema.clone(),
        _ => {
            return match remove_leftovers() {
                Ok(()) => JournalRecovery {
                    journal: journal.clone(),
                    file: None,
                    rows: 0,
                    outcome: RecoveryOutcome::Empty,
                    damage: committed.damaged.clone(),
                },
                Err(e) => failed(e),
            }
        }
    };
    // A finished name that exists but does not read is not ours to overwrite.
    let target = if fs::symlink_metadata(&finished).is_ok() {
        namer.next(clock.now())
    } else {
        name.clone()
    };
    let written = (|| -> Result<(), String> {
        let temp = name.in_progress();
        let file = File::create(&temp).map_err(|e| format!("creating {}: {e}", temp.display()))?;
        let mut writer = ArrowWriter::try_new(file, schema, Some(props.clone()))
            .map_err(|e| format!("writing {}: {e}", temp.display()))?;
        for batch in &committed.batches {
            writer
                .write(batch)
                .map_err(|e| format!("writing {}: {e}", temp.display()))?;
        }
        writer
            .close()
            .map_err(|e| format!("writing the footer of {}: {e}", temp.display()))?;
        crate::os::rename_no_replace(&temp, &target.finished()).map_err(|e| {
            format!(
                "renaming {} to {}: {e}",
                temp.display(),
                target.finished().display()
            )
        })?;
        remove_if_exists(&journal)
    })();
    match written {
        Ok(()) => JournalRecovery {
            journal: journal.clone(),
            file: Some(target.finished()),
            rows,
            outcome: RecoveryOutcome::Rebuilt,
            damage: committed.damaged.clone(),
        },
        Err(e) => failed(e),
    }
}

fn remove_if_exists(path: &Path) -> Result<(), String> {
    match fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(format!("removing {}: {e}", path.display())),
    }
}

/// An `.inprogress` file with no journal beside it, claimed (`lock`): its writer is gone. `None`
/// for an empty one, removed without a report.
pub(super) fn recover_orphan(name: &FileName, lock: InProgressLock) -> Option<JournalRecovery> {
    let temp = name.in_progress();
    let finished = name.finished();
    // Killed between the two steps of the no-replace rename: both names are the same file.
    if crate::os::same_file(&temp, &finished) {
        let outcome = match fs::remove_file(&temp) {
            Ok(()) => RecoveryOutcome::AlreadyFinished,
            Err(e) => RecoveryOutcome::Failed(format!("removing {}: {e}", temp.display())),
        };
        return Some(JournalRecovery {
            journal: temp,
            file: Some(finished),
            rows: 0,
            outcome,
            damage: None,
        });
    }
    // Killed after the footer was written and before the rename: only the name is missing.
    if files::is_complete_parquet(&temp) {
        let (file, outcome) = match crate::os::rename_no_replace(&temp, &finished) {
            Ok(()) => (Some(finished), RecoveryOutcome::AlreadyFinished),
            Err(e) => (
                None,
                RecoveryOutcome::Failed(format!(
                    "renaming {} to {}: {e}",
                    temp.display(),
                    finished.display()
                )),
            ),
        };
        drop(lock);
        return Some(JournalRecovery {
            journal: temp,
            file,
            rows: 0,
            outcome,
            damage: None,
        });
    }
    // Nothing ever reached the disk: a writer that died before its first flush, or a live sink
    // that created the file an instant ago and has yet to lock it. The two look the same, so it
    // is removed (under the lock: that sink then finds its file claimed, takes another name and
    // never writes to this one) and not reported, as there is nothing to tell about it.
    let outcome = match lock.len() {
        Ok(0) => match fs::remove_file(&temp) {
            Ok(()) => return None,
            Err(e) => RecoveryOutcome::Failed(format!("removing {}: {e}", temp.display())),
        },
        Ok(_) => RecoveryOutcome::NoJournal,
        Err(e) => RecoveryOutcome::Failed(format!("reading {}: {e}", temp.display())),
    };
    drop(lock);
    Some(JournalRecovery {
        journal: temp,
        file: None,
        rows: 0,
        outcome,
        damage: None,
    })
}
