//! A write that fails on the encoder thread: the next call reports it, naming the file; nothing
//! `write_batch` accepted is lost (the journal holds it); the sink goes on with a new file.
//!
//! The failure is a real one, on the Parquet file alone: the test finds the open file's
//! descriptor in `/proc/self/fd` and puts `/dev/full` in its place (`dup2`), so the encoder's next
//! `write` fails with `ENOSPC` while the journal, another descriptor, goes on. Linux only.
#![cfg(all(feature = "parquet", target_os = "linux"))]

use crate::parquet_common as common;

use asynclog::sinks::parquet::ParquetCompression;
use asynclog::{ParquetSink, ParquetSinkConfig, Sink};

const PER_BATCH: usize = 1024;

#[test]
fn an_encoder_write_error_is_reported_next_and_loses_nothing_accepted() {
    let dir = tempfile::tempdir().unwrap();
    // Uncompressed, small row groups: the file grows steadily with every batch.
    let config = ParquetSinkConfig::new(dir.path().join("app"))
        .with_compression(ParquetCompression::Uncompressed)
        .with_row_group_rows(2048)
        .with_encode_thread(true);
    let mut sink = ParquetSink::with_config(config.clone()).unwrap();
    let mut next = 0u64;
    let mut accepted = Vec::new();
    for _ in 0..8 {
        sink.write_batch(&common::batches::varied_batch(next, PER_BATCH))
            .unwrap();
        accepted.push(next);
        next += PER_BATCH as u64;
    }
    sink.flush().unwrap();
    let open = sink.open_file().expect("a file is open");
    let size = std::fs::metadata(&open).unwrap().len();
    assert!(size > 0, "the first row groups are in the file");
    fail_writes_to(&open);

    let mut error = None;
    for _ in 0..8 {
        match sink.write_batch(&common::batches::varied_batch(next, PER_BATCH)) {
            Ok(()) => accepted.push(next),
            Err(e) => {
                error = Some(e);
                break;
            }
        }
        next += PER_BATCH as u64;
    }
    let error = error.expect("a write to the full device failed");
    let text = error.to_string();
    eprintln!("reported: {text}");
    assert!(text.contains(open.to_str().unwrap()), "{text}");
    // The failing call's batch was not accepted (a drain worker retries it); its successor
    // goes to a new file.
    sink.write_batch(&common::batches::varied_batch(next, PER_BATCH))
        .unwrap();
    accepted.push(next);
    sink.close().unwrap();
    drop(sink);

    // The failed file was rebuilt from its journal by the sink, or (if that also hit the
    // limit) is rebuilt by the next sink on the same path.
    let sink = ParquetSink::with_config(config).unwrap();
    drop(sink);
    assert!(common::files_with_suffix(dir.path(), ".journal").is_empty());
    assert!(common::files_with_suffix(dir.path(), ".inprogress").is_empty());
    let seqs: Vec<Option<u64>> = common::read_all(dir.path())
        .iter()
        .map(common::seq_of)
        .collect();
    let expected: Vec<Option<u64>> = accepted
        .iter()
        .flat_map(|&first| first..first + PER_BATCH as u64)
        .map(|s| (!s.is_multiple_of(7)).then_some(s))
        .collect();
    assert_eq!(seqs.len(), expected.len());
    assert_eq!(seqs, expected);
}

/// With the journal off a failed write loses the open file (as documented), and the error says
/// so; it must still be the I/O error it is, so that `io_kind()` (and so a caller or an
/// `on_batch_failed` hook) sees the full disk. The same note is added when the journal is on
/// but the rebuild fails too, which a full disk makes likely.
#[test]
fn a_write_error_that_loses_the_open_file_keeps_its_io_kind() {
    let dir = tempfile::tempdir().unwrap();
    let mut sink = ParquetSink::with_config(
        ParquetSinkConfig::new(dir.path().join("app"))
            .with_journal(false)
            .with_encode_thread(false),
    )
    .unwrap();
    sink.write_batch(&common::batches::varied_batch(0, PER_BATCH))
        .unwrap();
    let open = sink.open_file().expect("a file is open");
    // Without a journal the `.inprogress` file is open twice: the writer's and the lock's.
    fail_writes_to_descriptors(&open, 2);
    let error = sink.flush().expect_err("the row group cannot be written");
    let text = error.to_string();
    assert!(text.contains(open.to_str().unwrap()), "{text}");
    assert!(text.contains("journal is off"), "{text}");
    assert_eq!(
        error.io_kind(),
        Some(std::io::ErrorKind::StorageFull),
        "{error:?}"
    );
}

/// Makes every later write through this process's descriptor of `path` fail with `ENOSPC`, by
/// putting `/dev/full` in its place.
fn fail_writes_to(path: &std::path::Path) {
    fail_writes_to_descriptors(path, 1);
}

/// As [`fail_writes_to`], for each of the `expected` descriptors of `path`.
fn fail_writes_to_descriptors(path: &std::path::Path, expected: usize) {
    use std::os::fd::AsRawFd;
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap();
    let mut replaced = 0;
    for entry in std::fs::read_dir("/proc/self/fd").unwrap() {
        let entry = entry.unwrap();
        if std::fs::read_link(entry.path()).ok().as_deref() != Some(path) {
            continue;
        }
        let fd: i32 = entry.file_name().to_str().unwrap().parse().unwrap();
        // SAFETY: both are open descriptors of this process; `dup2` closes `fd` and makes it a
        // copy of `full`'s, which changes no memory.
        assert_eq!(unsafe { libc::dup2(full.as_raw_fd(), fd) }, fd);
        replaced += 1;
    }
    assert_eq!(replaced, expected, "descriptors of {} open", path.display());
}
