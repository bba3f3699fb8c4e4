//! A file being written is only visible as `.parquet.inprogress` (with its journal beside it) and
//! gets its `.parquet` name once the footer is written; existing files are never overwritten.
#![cfg(feature = "parquet")]

use crate::parquet_common as common;

use asynclog::{ParquetSink, ParquetSinkConfig, Sink};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

#[test]
fn open_file_is_inprogress_until_its_footer_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let clock = common::ManualClock::new(1_795_780_800);
    let mut sink = ParquetSink::with_config(
        ParquetSinkConfig::new(dir.path().join("app")).with_clock(clock.clock()),
    )
    .unwrap();
    sink.write_batch(&common::batches::varied_batch(0, 1000))
        .unwrap();
    sink.flush().unwrap();

    let open = dir
        .path()
        .join("app_20261127_120000_000.parquet.inprogress");
    assert_eq!(sink.open_file().as_deref(), Some(open.as_path()));
    assert!(
        common::parquet_files(dir.path()).is_empty(),
        "no *.parquet while open"
    );
    assert_eq!(
        common::files_with_suffix(dir.path(), ".inprogress"),
        std::slice::from_ref(&open)
    );
    assert_eq!(common::files_with_suffix(dir.path(), ".journal").len(), 1);
    // Row groups are on disk after the flush, but without a footer no reader can open the file:
    // this is why it must not carry the `.parquet` name yet.
    let Err(err) = ParquetRecordBatchReaderBuilder::try_new(std::fs::File::open(&open).unwrap())
    else {
        panic!("a footer-less file opened");
    };
    assert!(err.to_string().contains("footer"), "{err}");

    sink.close().unwrap();
    let finished = dir.path().join("app_20261127_120000_000.parquet");
    assert_eq!(
        common::parquet_files(dir.path()),
        std::slice::from_ref(&finished)
    );
    assert!(common::files_with_suffix(dir.path(), ".inprogress").is_empty());
    assert!(common::files_with_suffix(dir.path(), ".journal").is_empty());
    assert_eq!(common::read_rows(&finished).len(), 1000);
}

#[test]
fn existing_names_are_never_overwritten() {
    let dir = tempfile::tempdir().unwrap();
    let clock = common::ManualClock::new(1_795_780_800);
    // A file from an earlier run in the same second.
    let earlier = dir.path().join("app_20261127_120000_000.parquet");
    std::fs::write(&earlier, b"earlier run").unwrap();
    let mut sink = ParquetSink::with_config(
        ParquetSinkConfig::new(dir.path().join("app")).with_clock(clock.clock()),
    )
    .unwrap();
    sink.write_batch(&common::batches::varied_batch(0, 10))
        .unwrap();
    let open = sink.open_file().unwrap();
    assert!(
        open.ends_with("app_20261127_120000_001.parquet.inprogress"),
        "{open:?}"
    );
    // Someone takes the open file's final name before it is finished.
    let squatter = dir.path().join("app_20261127_120000_001.parquet");
    std::fs::write(&squatter, b"squatter").unwrap();
    sink.close().unwrap();

    assert_eq!(std::fs::read(&earlier).unwrap(), b"earlier run");
    assert_eq!(std::fs::read(&squatter).unwrap(), b"squatter");
    let ours = dir.path().join("app_20261127_120000_002.parquet");
    assert_eq!(common::read_rows(&ours).len(), 10);
    assert_eq!(common::parquet_files(dir.path()).len(), 3);
}
