//! Rotation by real size: every finished file is within 10% of `max_bytes` (or holds a single
//! row group), and the files together hold every row in order.
#![cfg(feature = "parquet")]

use crate::parquet_common as common;

use asynclog::{ParquetSink, ParquetSinkConfig, Sink};
use parquet::file::reader::{FileReader, SerializedFileReader};

#[test]
fn finished_files_are_within_ten_percent_of_max_bytes() {
    const ROTATE: u64 = 512 * 1024;
    const BATCHES: u64 = 60;
    const PER_BATCH: usize = 4096;
    let dir = tempfile::tempdir().unwrap();
    let mut sink = ParquetSink::with_config(
        ParquetSinkConfig::new(dir.path().join("sized")).with_max_bytes(ROTATE),
    )
    .unwrap();
    for b in 0..BATCHES {
        sink.write_batch(&common::batches::varied_batch(
            b * PER_BATCH as u64,
            PER_BATCH,
        ))
        .unwrap();
    }
    sink.close().unwrap();

    let files = common::parquet_files(dir.path());
    assert!(files.len() >= 4, "only {} files", files.len());
    assert_eq!(sink.files_finished(), files.len() as u64);
    for (i, path) in files.iter().enumerate() {
        let size = std::fs::metadata(path).unwrap().len();
        let row_groups = SerializedFileReader::new(std::fs::File::open(path).unwrap())
            .unwrap()
            .metadata()
            .num_row_groups();
        eprintln!("{}: {size} bytes, {row_groups} row groups", path.display());
        let last = i == files.len() - 1;
        let within = size <= ROTATE + ROTATE / 10 && (last || size >= ROTATE - ROTATE / 10);
        assert!(
            within || row_groups == 1,
            "{}: {size} bytes in {row_groups} row groups, max_bytes {ROTATE}",
            path.display()
        );
    }
    let seqs: Vec<u64> = common::read_all(dir.path())
        .iter()
        .enumerate()
        .map(|(i, row)| common::seq_of(row).unwrap_or(i as u64))
        .collect();
    assert_eq!(seqs, (0..BATCHES * PER_BATCH as u64).collect::<Vec<_>>());
}

#[test]
fn a_full_journal_finishes_the_file() {
    const LIMIT: u64 = 1 << 20;
    let dir = tempfile::tempdir().unwrap();
    let mut sink = ParquetSink::with_config(
        ParquetSinkConfig::new(dir.path().join("journaled")).with_journal_limit(LIMIT),
    )
    .unwrap();
    // About 100 bytes of Arrow per record: 1 MiB of journal every ~10k records.
    for b in 0..12u64 {
        sink.write_batch(&common::batches::varied_batch(b * 4096, 4096))
            .unwrap();
    }
    assert!(
        sink.files_finished() >= 3,
        "{} files",
        sink.files_finished()
    );
    sink.close().unwrap();
    let files = common::parquet_files(dir.path());
    assert_eq!(files.len() as u64, sink.files_finished());
    let rows: usize = files.iter().map(|p| common::read_rows(p).len()).sum();
    assert_eq!(rows, 12 * 4096);
}
