//! Rotation by time with an injected clock: a file is finished once its `rotation` period (one
//! minute, aligned to the epoch) is over, at the next batch or the next flush, and names carry
//! the clock's UTC stamp.
#![cfg(feature = "parquet")]

use crate::parquet_common as common;

use asynclog::sinks::Rotation;
use asynclog::{ParquetSink, ParquetSinkConfig, Sink};
use std::time::Duration;

#[test]
fn files_rotate_when_the_injected_clock_passes_the_rotation_period() {
    let dir = tempfile::tempdir().unwrap();
    let clock = common::ManualClock::new(1_795_780_800); // 2026-11-27 12:00:00 UTC
    let mut sink = ParquetSink::with_config(
        ParquetSinkConfig::new(dir.path().join("timed"))
            .with_rotation(Rotation::every(Duration::from_secs(60)))
            .with_clock(clock.clock()),
    )
    .unwrap();
    let mut next = 0u64;
    let mut write = |sink: &mut ParquetSink, n: usize| {
        sink.write_batch(&common::batches::varied_batch(next, n))
            .unwrap();
        next += n as u64;
    };

    write(&mut sink, 100); // opens file 1 at 12:00:00
    clock.advance(30);
    write(&mut sink, 100); // 30 s old: same file
    sink.flush().unwrap();
    assert!(common::parquet_files(dir.path()).is_empty());
    clock.advance(31);
    write(&mut sink, 100); // 61 s old: file 1 finished, file 2 opened at 12:01:01
    assert_eq!(sink.files_finished(), 1);
    clock.advance(60);
    sink.flush().unwrap(); // file 2 is 60 s old: the flush alone finishes it
    assert_eq!(sink.files_finished(), 2);
    assert_eq!(sink.open_file(), None);
    clock.advance(5);
    write(&mut sink, 50); // file 3 at 12:02:06
    sink.close().unwrap();

    let files = common::parquet_files(dir.path());
    let names: Vec<String> = files
        .iter()
        .map(|p| p.file_name().unwrap().to_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        names,
        [
            "timed_20261127_120000_000.parquet",
            "timed_20261127_120101_000.parquet",
            "timed_20261127_120206_000.parquet",
        ]
    );
    let counts: Vec<usize> = files.iter().map(|p| common::read_rows(p).len()).collect();
    assert_eq!(counts, [200, 100, 50]);
}
