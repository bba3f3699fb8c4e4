//! Journal recovery: a sink that dies without closing leaves a journal and an `.inprogress`
//! file; the next sink built on the same path turns the journal into a normal Parquet file,
//! removes both, and reports it through `recoveries()` and the `on_recovery` hook.
//!
//! A sink dies in a child process (this test binary, re-run on one test with
//! `ASYNCLOG_RECOVERY_CHILD_DIR` set; see [`crash_in_child`]) that exits without closing
//! anything: the kernel closes its descriptors and so releases the journal's lock, as in a real
//! crash. A sink leaked in this process (`mem::forget`) would keep the lock, and its journal
//! would rightly count as a live sink's.
#![cfg(feature = "parquet")]

#[path = "parquet_common/mod.rs"]
mod common;

use asynclog::sinks::parquet::{JournalRecovery, RecoveryOutcome};
use asynclog::sinks::Rotation;
use asynclog::{ParquetSink, ParquetSinkConfig, Sink};
use std::io::Write;
use std::path::Path;
use std::process::Command;
use std::sync::{Arc, Mutex};

/// Set in a child process: the directory the child's sink writes to.
const CHILD_DIR: &str = "ASYNCLOG_RECOVERY_CHILD_DIR";
/// Exit status of a child that got to its crash.
const CRASHED: i32 = 86;
/// Prefix of the line that carries the child's result.
const RESULT: &str = "child result: ";

/// Runs `child` in a child process that then exits with the sink `child` returns still open,
/// running no destructor, as a crash would. The child is this test binary re-run on test `test`
/// alone, so the test must call this first: in the child it runs `child` on the directory and
/// exits. In the parent it returns a new directory holding what the child left behind and the
/// string `child` returned with the sink.
fn crash_in_child(
    test: &str,
    child: impl FnOnce(&Path) -> (ParquetSink, String),
) -> (tempfile::TempDir, String) {
    if let Ok(dir) = std::env::var(CHILD_DIR) {
        let (_open_sink, result) = child(Path::new(&dir));
        // On a line of its own: the test harness has printed `test … ` without a newline.
        println!("\n{RESULT}{result}");
        std::io::stdout().flush().unwrap();
        std::process::exit(CRASHED);
    }
    let dir = tempfile::tempdir().unwrap();
    let output = Command::new(std::env::current_exe().unwrap())
        .args([test, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD_DIR, dir.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(
        output.status.code(),
        Some(CRASHED),
        "the child of {test} did not get to its crash:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let result = stdout
        .lines()
        .find_map(|line| line.strip_prefix(RESULT))
        .unwrap_or_else(|| panic!("the child of {test} printed no result:\n{stdout}"))
        .to_owned();
    (dir, result)
}

fn config(dir: &Path, journal: bool) -> ParquetSinkConfig {
    ParquetSinkConfig::new(dir.join("rec")).with_journal(journal)
}

#[test]
fn a_leftover_journal_becomes_a_parquet_file() {
    let (dir, open) = crash_in_child("a_leftover_journal_becomes_a_parquet_file", |dir| {
        let mut sink = ParquetSink::with_config(config(dir, true)).unwrap();
        for b in 0..3 {
            sink.write_batch(&common::batches::varied_batch(b * 500, 500))
                .unwrap();
        }
        let open = sink.open_file().unwrap().to_str().unwrap().to_owned();
        (sink, open)
    }); // dies: no footer, no rename, no journal deletion
    let open = Path::new(&open);
    assert!(open.exists(), "{}", open.display());
    assert!(common::parquet_files(dir.path()).is_empty());
    assert_eq!(common::files_with_suffix(dir.path(), ".journal").len(), 1);

    let seen: Arc<Mutex<Vec<JournalRecovery>>> = Arc::default();
    let hook_seen = seen.clone();
    let sink = ParquetSink::with_config(
        config(dir.path(), true)
            .with_on_recovery(move |r: &JournalRecovery| hook_seen.lock().unwrap().push(r.clone())),
    )
    .unwrap();
    let expected_file = open.with_extension(""); // strip ".inprogress"
    assert_eq!(sink.recovered_rows(), 1500);
    assert_eq!(sink.recoveries().len(), 1);
    let recovery = &sink.recoveries()[0];
    assert_eq!(recovery.outcome, RecoveryOutcome::Rebuilt);
    assert_eq!(recovery.file.as_deref(), Some(expected_file.as_path()));
    assert_eq!(*seen.lock().unwrap(), sink.recoveries());
    assert!(common::files_with_suffix(dir.path(), ".journal").is_empty());
    assert!(common::files_with_suffix(dir.path(), ".inprogress").is_empty());

    let rows = common::read_all(dir.path());
    let expected: Vec<common::Row> = (0..3)
        .flat_map(|b| {
            let batch = common::batches::varied_batch(b * 500, 500);
            let mut out = Vec::new();
            for r in batch.iter() {
                let mut json = Vec::new();
                asynclog::__private::json::write_fields_object(&mut json, r.fields.clone());
                out.push(common::Row {
                    timestamp_ns: r.timestamp_ns,
                    level: r.level.as_str().to_owned(),
                    message: r.message.to_owned(),
                    thread_id: r.thread_id,
                    fields_json: (!r.fields.is_empty()).then(|| String::from_utf8(json).unwrap()),
                });
            }
            out
        })
        .collect();
    assert_eq!(rows, expected);

    // The recovered sink goes on with a new file that sorts after the recovered one.
    let mut sink = sink;
    sink.write_batch(&common::batches::varied_batch(1500, 10))
        .unwrap();
    sink.close().unwrap();
    let files = common::parquet_files(dir.path());
    assert_eq!(files.len(), 2);
    assert_eq!(files[0], expected_file);
    assert_eq!(common::read_rows(&files[1]).len(), 10);
}

#[test]
fn a_journal_whose_file_was_already_finished_is_just_removed() {
    let dir = tempfile::tempdir().unwrap();
    let mut sink = ParquetSink::with_config(config(dir.path(), true)).unwrap();
    sink.write_batch(&common::batches::varied_batch(0, 100))
        .unwrap();
    let journal = common::files_with_suffix(dir.path(), ".journal").remove(0);
    let saved = std::fs::read(&journal).unwrap();
    sink.close().unwrap();
    // As if killed between the rename and the journal's deletion.
    std::fs::write(&journal, saved).unwrap();

    let sink = ParquetSink::with_config(config(dir.path(), true)).unwrap();
    assert_eq!(sink.recoveries().len(), 1);
    assert_eq!(
        sink.recoveries()[0].outcome,
        RecoveryOutcome::AlreadyFinished
    );
    assert_eq!(sink.recovered_rows(), 0);
    assert!(!journal.exists());
    assert_eq!(common::read_all(dir.path()).len(), 100, "no duplicates");
}

/// Journal off, the live sink locks its `.inprogress` file instead; a crash lets the lock go, so
/// the next sink reports the file (and a sink leaked in this process would rightly not).
#[test]
fn without_a_journal_the_unfinished_file_is_reported_and_left_alone() {
    let (dir, open) = crash_in_child(
        "without_a_journal_the_unfinished_file_is_reported_and_left_alone",
        |dir| {
            let mut sink = ParquetSink::with_config(config(dir, false)).unwrap();
            sink.write_batch(&common::batches::varied_batch(0, 100))
                .unwrap();
            sink.flush().unwrap();
            let open = sink.open_file().unwrap().to_str().unwrap().to_owned();
            (sink, open)
        },
    );
    let open = Path::new(&open);
    let size = std::fs::metadata(open).unwrap().len();
    assert!(size > 0, "the flush put a row group on disk");
    assert!(common::files_with_suffix(dir.path(), ".journal").is_empty());

    let seen: Arc<Mutex<Vec<JournalRecovery>>> = Arc::default();
    let hook_seen = seen.clone();
    let sink = ParquetSink::with_config(
        config(dir.path(), false)
            .with_on_recovery(move |r: &JournalRecovery| hook_seen.lock().unwrap().push(r.clone())),
    )
    .unwrap();
    assert_eq!(sink.recoveries().len(), 1);
    assert_eq!(sink.recoveries()[0].outcome, RecoveryOutcome::NoJournal);
    assert_eq!(sink.recoveries()[0].journal, open);
    assert_eq!(*seen.lock().unwrap(), sink.recoveries());
    assert_eq!(
        std::fs::metadata(open).unwrap().len(),
        size,
        "left in place"
    );
    assert!(common::parquet_files(dir.path()).is_empty());
}

/// Journal off, killed after the footer was written and before the rename: the `.inprogress`
/// file is a complete Parquet file, which the next sink renames into the set rather than
/// reporting it unreadable.
#[test]
fn without_a_journal_a_finished_but_unrenamed_file_is_renamed() {
    let dir = tempfile::tempdir().unwrap();
    let mut sink = ParquetSink::with_config(config(dir.path(), false)).unwrap();
    sink.write_batch(&common::batches::varied_batch(0, 100))
        .unwrap();
    sink.close().unwrap();
    let finished = common::parquet_files(dir.path());
    assert_eq!(finished.len(), 1);
    let finished = &finished[0];
    let in_progress = finished.with_extension("parquet.inprogress");
    std::fs::rename(finished, &in_progress).unwrap();

    let sink = ParquetSink::with_config(config(dir.path(), false)).unwrap();
    assert_eq!(sink.recoveries().len(), 1, "{:?}", sink.recoveries());
    let recovery = &sink.recoveries()[0];
    assert_eq!(recovery.outcome, RecoveryOutcome::AlreadyFinished);
    assert_eq!(recovery.journal, in_progress);
    assert_eq!(recovery.file.as_deref(), Some(finished.as_path()));
    assert!(!in_progress.exists());
    let rows = common::read_all(dir.path());
    assert_eq!(rows.len(), 100);
}

/// An unlocked `.inprogress` file without a journal that holds nothing (its writer died before
/// its first flush, or a live sink created it an instant ago and has yet to lock it) is removed
/// without a report: no data goes with it, and such a sink takes another name.
#[test]
fn without_a_journal_an_empty_unfinished_file_is_removed_unreported() {
    let dir = tempfile::tempdir().unwrap();
    let in_progress = dir
        .path()
        .join("rec_20261127_120000_000.parquet.inprogress");
    std::fs::write(&in_progress, b"").unwrap();

    let sink = ParquetSink::with_config(config(dir.path(), false)).unwrap();
    assert!(sink.recoveries().is_empty(), "{:?}", sink.recoveries());
    assert!(!in_progress.exists());
}

#[test]
fn a_journal_cut_mid_batch_recovers_the_complete_batches() {
    let (dir, _) = crash_in_child(
        "a_journal_cut_mid_batch_recovers_the_complete_batches",
        |dir| {
            let mut sink = ParquetSink::with_config(config(dir, true)).unwrap();
            sink.write_batch(&common::batches::varied_batch(0, 200))
                .unwrap();
            sink.write_batch(&common::batches::varied_batch(200, 200))
                .unwrap();
            (sink, String::new())
        },
    );
    let journal = common::files_with_suffix(dir.path(), ".journal").remove(0);
    // Scribble past the committed end, as a half-copied third batch would.
    let mut bytes = std::fs::read(&journal).unwrap();
    let len = bytes.len();
    for b in &mut bytes[len / 2..] {
        *b = 0xAB;
    }
    std::fs::write(&journal, bytes).unwrap();

    let sink = ParquetSink::with_config(config(dir.path(), true)).unwrap();
    assert_eq!(sink.recoveries()[0].outcome, RecoveryOutcome::Rebuilt);
    assert_eq!(sink.recovered_rows(), 400);
    let seqs: Vec<Option<u64>> = common::read_all(dir.path())
        .iter()
        .map(common::seq_of)
        .collect();
    let expected: Vec<Option<u64>> = (0..400u64)
        .map(|s| (!s.is_multiple_of(7)).then_some(s))
        .collect();
    assert_eq!(seqs, expected);
}

#[test]
fn a_journal_killed_before_its_header_was_written_counts_as_empty() {
    let dir = tempfile::tempdir().unwrap();
    let stem = dir.path().join("rec_20261127_120000_000.parquet");
    let journal = stem.with_extension("parquet.journal");
    let in_progress = stem.with_extension("parquet.inprogress");
    // Created and sized, but killed before the magic was written; the .inprogress file is empty.
    std::fs::write(&journal, vec![0u8; 4096]).unwrap();
    std::fs::write(&in_progress, b"").unwrap();

    let sink = ParquetSink::with_config(config(dir.path(), true)).unwrap();
    assert_eq!(sink.recoveries().len(), 1);
    assert_eq!(sink.recoveries()[0].outcome, RecoveryOutcome::Empty);
    assert!(!journal.exists() && !in_progress.exists());
    assert!(common::parquet_files(dir.path()).is_empty());

    // A journal with a foreign header is not ours to delete.
    std::fs::write(
        &journal,
        b"something else entirely, not a journal at all....................",
    )
    .unwrap();
    let sink = ParquetSink::with_config(config(dir.path(), true)).unwrap();
    assert!(matches!(
        sink.recoveries()[0].outcome,
        RecoveryOutcome::Failed(_)
    ));
    assert!(journal.exists());
}

/// A finished file's journal is emptied and reused for the next file; a crash in the next file
/// recovers exactly that file's rows, never the finished file's again.
#[test]
fn a_reused_journal_recovers_only_the_open_files_rows() {
    let clock = common::ManualClock::new(1_795_780_800);
    let make = |dir: &Path| {
        ParquetSink::with_config(
            config(dir, true)
                .with_rotation(Rotation::every(std::time::Duration::from_secs(60)))
                .with_clock(clock.clock()),
        )
        .unwrap()
    };
    let (dir, open) = crash_in_child(
        "a_reused_journal_recovers_only_the_open_files_rows",
        |dir| {
            let mut sink = make(dir);
            sink.write_batch(&common::batches::three_field_batch(0, 700))
                .unwrap();
            clock.advance(61);
            sink.flush().unwrap(); // finishes the first file by time; its journal is kept, emptied
            assert_eq!(sink.files_finished(), 1);
            sink.write_batch(&common::batches::three_field_batch(700, 300))
                .unwrap();
            let open = sink.open_file().unwrap().to_str().unwrap().to_owned();
            (sink, open)
        },
    ); // dies with the second file open
    let open = Path::new(&open);
    assert_eq!(common::parquet_files(dir.path()).len(), 1, "the first file");
    let journals = common::files_with_suffix(dir.path(), ".journal");
    assert_eq!(journals.len(), 1, "one journal: {journals:?}");
    assert_eq!(journals[0], open.with_extension("journal"));

    clock.advance(61); // the time the child's clock had reached
    let sink = make(dir.path());
    assert_eq!(sink.recoveries().len(), 1);
    assert_eq!(sink.recoveries()[0].outcome, RecoveryOutcome::Rebuilt);
    assert_eq!(sink.recovered_rows(), 300);
    assert!(common::files_with_suffix(dir.path(), ".journal").is_empty());
    let seqs: Vec<u64> = common::read_all(dir.path())
        .iter()
        .map(|row| common::seq_of(row).unwrap())
        .collect();
    assert_eq!(seqs, (0..1000).collect::<Vec<u64>>());
}
