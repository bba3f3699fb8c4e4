//! Errors name the path and lose nothing that was accepted: an unwritable directory (through a
//! real Logger: retries, `on_batch_failed`, the logger keeps running), and a rename that fails
//! until the directory is repaired (finished files stay intact; the file is renamed later).
#![cfg(feature = "parquet")]

use crate::parquet_common as common;

use asynclog::sinks::Rotation;
use asynclog::{Config, Error, Hooks, Logger, ParquetSink, ParquetSinkConfig, Sink, SinkError};
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[test]
fn a_directory_under_a_regular_file_fails_naming_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let blocker = dir.path().join("not_a_dir");
    std::fs::write(&blocker, b"x").unwrap();
    let err = ParquetSink::with_config(ParquetSinkConfig::new(blocker.join("logs").join("app")))
        .unwrap_err();
    assert!(matches!(err, Error::Io { .. }), "{err:?}");
    assert!(err.to_string().contains("not_a_dir/logs"), "{err}");
}

#[test]
fn an_unwritable_directory_fails_batches_and_the_logger_keeps_running() {
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("logs");
    // Named "parquet" (the default is `parquet:<path>`), so the hook and stats name it briefly.
    let sink = ParquetSinkConfig::new(logs.join("app"))
        .with_name("parquet")
        .build()
        .unwrap();
    // Replace the directory by a file before the first batch: root ignores permission bits,
    // so this is the failure every user can reproduce.
    std::fs::remove_dir(&logs).unwrap();
    std::fs::write(&logs, b"in the way").unwrap();

    let failures: Arc<Mutex<Vec<String>>> = Arc::default();
    let seen = failures.clone();
    let mut config = Config::default();
    config.max_retries = 1;
    config.retry_delay = Duration::from_millis(1);
    config.hooks =
        Hooks::default().on_batch_failed(move |sink, _n, error: &SinkError, attempts| {
            assert!(error.io_kind().is_some(), "{error:?}");
            seen.lock()
                .unwrap()
                .push(format!("{sink} {attempts} {error}"));
        });
    config.sinks.push(Box::new(sink));
    let logger = Logger::new(config).unwrap();
    asynclog::try_info!(logger, "lost", n = 1u64).unwrap();
    // The flush reports the lost batch, naming the sink.
    match logger.flush() {
        Err(asynclog::Error::Sink { sink, source }) => {
            assert!(sink.starts_with("parquet"), "{sink}");
            assert!(source.io_kind().is_some(), "{source:?}");
        }
        other => panic!("expected the parquet sink's lost batch, got {other:?}"),
    }
    {
        let failures = failures.lock().unwrap();
        assert_eq!(failures.len(), 1, "{failures:?}");
        assert!(failures[0].starts_with("parquet 2 "), "{}", failures[0]);
        assert!(
            failures[0].contains(logs.to_str().unwrap()),
            "{}",
            failures[0]
        );
    }
    // Repair the directory: the logger, still running, writes the next records.
    std::fs::remove_file(&logs).unwrap();
    std::fs::create_dir(&logs).unwrap();
    asynclog::try_info!(logger, "kept", n = 2u64).unwrap();
    logger.close().unwrap();
    let stats = logger.stats();
    let sink_stats = stats.sink("parquet").unwrap();
    assert_eq!(
        (sink_stats.failed_batches, sink_stats.written_records),
        (1, 1)
    );
    let rows = common::read_all(&logs);
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].message, "kept");
}

#[test]
fn a_failing_rename_is_reported_retried_and_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("logs");
    let moved = dir.path().join("logs-moved");
    let clock = common::ManualClock::new(1_795_780_800);
    let mut sink = ParquetSink::with_config(
        ParquetSinkConfig::new(logs.join("app"))
            .with_rotation(Rotation::every(Duration::from_secs(60)))
            .with_clock(clock.clock()),
    )
    .unwrap();
    sink.write_batch(&common::batches::varied_batch(0, 100))
        .unwrap();
    clock.advance(61);
    sink.write_batch(&common::batches::varied_batch(100, 100))
        .unwrap(); // file 1 finished
    let first = common::parquet_files(&logs);
    assert_eq!(first.len(), 1);
    let first_bytes = std::fs::read(&first[0]).unwrap();

    // The directory goes away under the open file 2 (open descriptors keep working) and a
    // regular file takes its path, so renaming file 2 fails with ENOTDIR.
    std::fs::rename(&logs, &moved).unwrap();
    std::fs::write(&logs, b"in the way").unwrap();
    clock.advance(61);
    let err = sink.flush().unwrap_err();
    assert_eq!(
        err.io_kind(),
        Some(std::io::ErrorKind::NotADirectory),
        "{err}"
    );
    assert!(err.to_string().contains("renaming"), "{err}");
    assert!(
        err.to_string()
            .contains("app_20261127_120101_000.parquet.inprogress"),
        "{err}"
    );
    // Until the rename succeeds, nothing else is written: the batch fails whole and is retried.
    let batch = common::batches::varied_batch(200, 100);
    assert!(sink.write_batch(&batch).is_err());
    assert!(sink.flush().is_err());

    // Repair: the pending rename goes through, then the retried batch is written.
    std::fs::remove_file(&logs).unwrap();
    std::fs::rename(&moved, &logs).unwrap();
    sink.write_batch(&batch).unwrap();
    sink.close().unwrap();

    let files = common::parquet_files(&logs);
    assert_eq!(files.len(), 3);
    assert_eq!(
        std::fs::read(&files[0]).unwrap(),
        first_bytes,
        "finished file intact"
    );
    assert!(common::files_with_suffix(&logs, ".inprogress").is_empty());
    assert!(common::files_with_suffix(&logs, ".journal").is_empty());
    let seqs: Vec<Option<u64>> = common::read_all(&logs).iter().map(common::seq_of).collect();
    let expected: Vec<Option<u64>> = (0..300u64)
        .map(|s| (!s.is_multiple_of(7)).then_some(s))
        .collect();
    assert_eq!(seqs, expected);
}

/// A rotation that finishes the file after its batch is written (here by `journal_limit`) and
/// then fails to rename it keeps the rename for a retry and the error for the next flush or
/// close. `close` reports that error, and must still retry the rename: the directory is back by
/// then, so nothing may be left as `.inprogress` with its journal.
#[test]
fn close_retries_a_rename_left_over_from_a_rotation_after_a_write() {
    a_rename_left_over_from_a_rotation_is_retried_by(|mut sink| {
        let error = sink.close().expect_err("the failed rename is reported");
        assert!(error.to_string().contains("renaming"), "{error}");
    });
}

/// The same when the sink is dropped without `close`: the drop finishes the open file, and must
/// retry the pending rename as well.
#[test]
fn drop_retries_a_rename_left_over_from_a_rotation_after_a_write() {
    a_rename_left_over_from_a_rotation_is_retried_by(drop);
}

fn a_rename_left_over_from_a_rotation_is_retried_by(end: impl FnOnce(ParquetSink)) {
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("logs");
    let moved = dir.path().join("logs-moved");
    let mut sink = ParquetSink::with_config(
        ParquetSinkConfig::new(logs.join("app"))
            .with_encode_thread(false)
            .with_journal_limit(16 * 1024),
    )
    .unwrap();
    // Opens the file; its journal stays under the limit.
    sink.write_batch(&common::batches::varied_batch(0, 1))
        .unwrap();

    // As in the test above: the directory goes away under the open file, so its rename fails.
    std::fs::rename(&logs, &moved).unwrap();
    std::fs::write(&logs, b"in the way").unwrap();
    // Written and journaled; the journal passes its limit, so the file is finished, and its
    // rename fails: deferred to the next flush or close, the batch itself is accepted.
    sink.write_batch(&common::batches::varied_batch(1, 1000))
        .unwrap();
    std::fs::remove_file(&logs).unwrap();
    std::fs::rename(&moved, &logs).unwrap();

    end(sink);
    assert!(
        common::files_with_suffix(&logs, ".inprogress").is_empty(),
        "the finished file was left unrenamed"
    );
    assert!(common::files_with_suffix(&logs, ".journal").is_empty());
    let seqs: Vec<Option<u64>> = common::read_all(&logs).iter().map(common::seq_of).collect();
    let expected: Vec<Option<u64>> = (0..1001u64)
        .map(|s| (!s.is_multiple_of(7)).then_some(s))
        .collect();
    assert_eq!(seqs, expected);
}
