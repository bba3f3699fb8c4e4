//! A second Parquet sink started on the `file_path` of one that is still writing (a restarted
//! service whose old instance has not exited yet, two loggers configured alike) must leave the
//! live sink's open file and journal alone: its startup recovery is for crashed writers only.
//! Every record then ends up in exactly one readable file.

#[path = "parquet_common/mod.rs"]
mod common;

use asynclog::{ParquetSink, ParquetSinkConfig, Sink};

#[test]
fn a_second_sink_does_not_recover_a_live_sinks_open_file() {
    let dir = tempfile::tempdir().unwrap();
    let config = ParquetSinkConfig {
        file_path: dir.path().join("app"),
        ..Default::default()
    };
    let mut live = ParquetSink::new(config.clone()).unwrap();
    live.write_batch(&common::batches::varied_batch(0, 100))
        .unwrap();
    live.flush().unwrap();
    let open = live.open_file().expect("a file is open");

    let mut second = ParquetSink::new(config).unwrap();
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
    let mut seqs: Vec<Option<u64>> = common::read_all(dir.path())
        .iter()
        .map(common::seq_of)
        .collect();
    seqs.sort();
    let mut expected: Vec<Option<u64>> = (0..300u64)
        .map(|s| (!s.is_multiple_of(7)).then_some(s))
        .collect();
    expected.sort();
    assert_eq!(seqs, expected);
}
