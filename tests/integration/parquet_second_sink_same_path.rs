//! A second Parquet sink started on the `path` of one that is still writing (a restarted
//! service whose old instance has not exited yet, two loggers configured alike) must leave the
//! live sink's open file and journal alone: its startup recovery is for crashed writers only.
//! Every record then ends up in exactly one readable file. With the journal off there is only
//! the live sink's `.inprogress` file, which must not be reported as a crashed writer's either.
#![cfg(feature = "parquet")]

use crate::parquet_common as common;

use asynclog::sinks::parquet::JournalRecovery;
use asynclog::{ParquetSink, ParquetSinkConfig, Sink};
use std::sync::{Arc, Mutex};

#[test]
fn a_second_sink_does_not_recover_a_live_sinks_open_file() {
    let dir = tempfile::tempdir().unwrap();
    let config = ParquetSinkConfig::new(dir.path().join("app"));
    let mut live = ParquetSink::with_config(config.clone()).unwrap();
    live.write_batch(&common::batches::varied_batch(0, 100))
        .unwrap();
    live.flush().unwrap();
    let open = live.open_file().expect("a file is open");

    let mut second = ParquetSink::with_config(config).unwrap();
    assert!(
        second.recoveries().is_empty(),
        "recovered a live sink's file: {:?}",
        second.recoveries()
    );
    assert!(open.exists(), "{} was taken away", open.display());

    live.write_batch(&common::batches::varied_batch(100, 100))
        .unwrap();
    live.close().unwrap();
    second
        .write_batch(&common::batches::varied_batch(200, 100))
        .unwrap();
    second.close().unwrap();
    drop((live, second));

    assert!(common::files_with_suffix(dir.path(), ".journal").is_empty());
    assert!(common::files_with_suffix(dir.path(), ".inprogress").is_empty());
    assert_varied_batches_each_once(dir.path(), 300);
}

/// With the journal off, a live sink's open `.inprogress` file is all there is: a second sink
/// must neither report it (in `recoveries()` or to the hook) nor touch it.
#[test]
fn a_second_sink_does_not_report_a_live_sinks_open_file_without_a_journal() {
    let dir = tempfile::tempdir().unwrap();
    let config = ParquetSinkConfig::new(dir.path().join("app")).with_journal(false);
    let mut live = ParquetSink::with_config(config.clone()).unwrap();
    live.write_batch(&common::batches::varied_batch(0, 100))
        .unwrap();
    live.flush().unwrap();
    let open = live.open_file().expect("a file is open");
    let written = std::fs::metadata(&open).unwrap().len();
    assert!(written > 0, "the flush put the row group on disk");
    assert!(common::files_with_suffix(dir.path(), ".journal").is_empty());

    let seen: Arc<Mutex<Vec<JournalRecovery>>> = Arc::default();
    let hook_seen = seen.clone();
    let mut second =
        ParquetSink::with_config(config.with_on_recovery(move |r: &JournalRecovery| {
            hook_seen.lock().unwrap().push(r.clone())
        }))
        .unwrap();
    assert!(
        second.recoveries().is_empty(),
        "reported a live sink's open file: {:?}",
        second.recoveries()
    );
    assert!(seen.lock().unwrap().is_empty(), "the hook was called");
    assert_eq!(std::fs::metadata(&open).unwrap().len(), written, "touched");

    live.write_batch(&common::batches::varied_batch(100, 100))
        .unwrap();
    second
        .write_batch(&common::batches::varied_batch(200, 100))
        .unwrap();
    live.close().unwrap();
    second.close().unwrap();
    drop((live, second));

    assert!(common::files_with_suffix(dir.path(), ".inprogress").is_empty());
    assert_eq!(common::parquet_files(dir.path()).len(), 2);
    assert_varied_batches_each_once(dir.path(), 300);
}

/// Two live sinks on one `path` finishing a file per batch, with the clock standing still:
/// they compete for the same names all the time (each name is free when one sink's namer looks,
/// and the other may take it before the journal is created). Meanwhile more sinks start on the
/// path and must find nothing to recover. No batch fails, and every record is in exactly one
/// file.
#[test]
fn two_live_sinks_rotating_on_one_path_never_share_a_file() {
    two_live_sinks_rotating(true);
}

/// The same without a journal: the `.inprogress` files are created, finished and renamed all
/// the time, and a sink starting meanwhile must report none of them.
#[test]
fn two_live_sinks_rotating_without_a_journal_never_share_a_file() {
    two_live_sinks_rotating(false);
}

fn two_live_sinks_rotating(journal: bool) {
    const BATCHES: u64 = 300;
    const ROWS: u64 = 10;
    let dir = tempfile::tempdir().unwrap();
    let clock = common::ManualClock::new(1_795_780_800);
    let config = ParquetSinkConfig::new(dir.path().join("app"))
        .with_max_bytes(1) // every batch finishes its file
        .with_clock(clock.clock())
        .with_journal(journal);
    let mut sinks = [
        ParquetSink::with_config(config.clone()).unwrap(),
        ParquetSink::with_config(config.clone()).unwrap(),
    ];
    // Each sink's first batch creates its journal (if on), which every later file reuses, so
    // from here on no journal exists unlocked.
    for (s, sink) in sinks.iter_mut().enumerate() {
        let first = s as u64 * BATCHES * ROWS;
        sink.write_batch(&common::batches::three_field_batch(first, ROWS as usize))
            .unwrap();
    }
    let (finished, started_meanwhile) = std::thread::scope(|scope| {
        let writers: Vec<_> = sinks
            .into_iter()
            .enumerate()
            .map(|(s, mut sink)| {
                scope.spawn(move || {
                    let first = s as u64 * BATCHES * ROWS;
                    for b in 1..BATCHES {
                        sink.write_batch(&common::batches::three_field_batch(
                            first + b * ROWS,
                            ROWS as usize,
                        ))
                        .unwrap_or_else(|e| panic!("sink {s}, batch {b}: {e}"));
                    }
                    sink.close().unwrap();
                    sink.files_finished()
                })
            })
            .collect();
        let mut started = 0;
        while writers.iter().any(|w| !w.is_finished()) {
            let mut third = ParquetSink::with_config(config.clone()).unwrap();
            assert!(
                third.recoveries().is_empty(),
                "recovered a live sink's file: {:?}",
                third.recoveries()
            );
            third.close().unwrap();
            started += 1;
        }
        let finished: u64 = writers.into_iter().map(|w| w.join().unwrap()).sum();
        (finished, started)
    });
    assert_eq!(finished, 2 * BATCHES);
    assert!(started_meanwhile > 0);

    assert!(common::files_with_suffix(dir.path(), ".journal").is_empty());
    assert!(common::files_with_suffix(dir.path(), ".inprogress").is_empty());
    let files = common::parquet_files(dir.path());
    assert_eq!(files.len() as u64, 2 * BATCHES, "a file per batch");
    let mut seqs: Vec<u64> = common::read_all(dir.path())
        .iter()
        .map(|row| common::seq_of(row).unwrap())
        .collect();
    seqs.sort_unstable();
    assert_eq!(seqs, (0..2 * BATCHES * ROWS).collect::<Vec<u64>>());
}

/// Every record of `varied_batch`es numbered `0..records` is in exactly one file under `dir`
/// (a varied batch's every seventh record has no fields, so no `seq`).
fn assert_varied_batches_each_once(dir: &std::path::Path, records: u64) {
    let mut seqs: Vec<Option<u64>> = common::read_all(dir).iter().map(common::seq_of).collect();
    seqs.sort();
    let mut expected: Vec<Option<u64>> = (0..records)
        .map(|s| (!s.is_multiple_of(7)).then_some(s))
        .collect();
    expected.sort();
    assert_eq!(seqs, expected);
}
