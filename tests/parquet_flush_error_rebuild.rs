//! A `flush` whose write fails (the row group cannot reach the disk): the sink rebuilds the file
//! from its journal, and the rebuilt file must stay a valid Parquet file holding every accepted
//! row, even once the cause of the failure is gone.
//!
//! The failed file's `ArrowWriter` still holds the row group in its `BufWriter`; if that writer
//! outlives the rebuild, dropping it writes those bytes through its old descriptor into the
//! same inode, which by then is the rebuilt, finished file. With a full disk the rebuild's own
//! truncation of the failed file frees the space that makes that late write succeed; here the
//! failure is `RLIMIT_FSIZE` (`EFBIG`, with `SIGXFSZ` ignored), lifted by the `on_recovery`
//! hook, which runs after the rebuild and before the sink returns. The limit is per process,
//! so this file holds this one test.
#![cfg(feature = "parquet")]

#[path = "parquet_common/mod.rs"]
mod common;

use asynclog::sinks::parquet::{ParquetCompression, RecoveryOutcome};
use asynclog::{ParquetSink, ParquetSinkConfig, Sink};

const PER_BATCH: usize = 20;
const FLUSHED_BATCHES: u64 = 40;

#[test]
fn a_failed_flush_leaves_a_valid_rebuilt_file() {
    // SAFETY: ignoring a signal changes no memory; without it, passing the limit kills us.
    unsafe { libc::signal(libc::SIGXFSZ, libc::SIG_IGN) };
    let dir = tempfile::tempdir().unwrap();
    let mut sink = ParquetSink::with_config(
        ParquetSinkConfig::new(dir.path().join("app"))
            .with_compression(ParquetCompression::Uncompressed)
            // The failure has passed once the file is rebuilt.
            .with_on_recovery(|_| common::set_file_size_limit(libc::RLIM_INFINITY)),
    )
    .unwrap();

    // Many small row groups on disk, so the rebuilt file (one row group) is smaller than the
    // failed one and fits under the limit.
    let mut next = 0u64;
    for _ in 0..FLUSHED_BATCHES {
        sink.write_batch(&common::batches::varied_batch(next, PER_BATCH))
            .unwrap();
        next += PER_BATCH as u64;
        sink.flush().unwrap();
    }
    let open = sink.open_file().expect("a file is open");
    let size = std::fs::metadata(&open).unwrap().len();

    // One more batch, accepted; its row group (a few KiB, all in the writer's buffer) cannot be
    // written past the limit.
    sink.write_batch(&common::batches::varied_batch(next, PER_BATCH))
        .unwrap();
    next += PER_BATCH as u64;
    common::set_file_size_limit(size);
    let error = sink.flush().expect_err("the row group cannot be written");
    common::set_file_size_limit(libc::RLIM_INFINITY);
    let text = error.to_string();
    assert!(text.contains(open.to_str().unwrap()), "{text}");
    let recovery = sink.recoveries().last().expect("the file was rebuilt");
    assert_eq!(recovery.outcome, RecoveryOutcome::Rebuilt, "{recovery:?}");
    assert_eq!(recovery.rows, next);
    let rebuilt = recovery.file.clone().unwrap();
    sink.close().unwrap();
    drop(sink);

    let bytes = std::fs::read(&rebuilt).unwrap();
    assert_eq!(
        &bytes[bytes.len() - 4..],
        b"PAR1",
        "{} no longer ends in its footer ({} bytes, the failed file had {size})",
        rebuilt.display(),
        bytes.len()
    );
    assert_eq!(common::parquet_files(dir.path()), vec![rebuilt]);
    let seqs: Vec<Option<u64>> = common::read_all(dir.path())
        .iter()
        .map(common::seq_of)
        .collect();
    let expected: Vec<Option<u64>> = (0..next)
        .map(|s| (!s.is_multiple_of(7)).then_some(s))
        .collect();
    assert_eq!(seqs, expected);
}
