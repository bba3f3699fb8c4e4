//! A write that fails on the encoder thread: the next call reports it, naming the file; nothing
//! `write_batch` accepted is lost (the journal holds it); the sink goes on with a new file.
//!
//! The failure is a real one: `RLIMIT_FSIZE` (with `SIGXFSZ` ignored) makes the Parquet file's
//! next `write` fail with `EFBIG` once it passes the limit, while the journal, which writes
//! through its map into space it already allocated, goes on. The limit is per process, so this
//! file holds this one test.
#![cfg(feature = "parquet")]

#[path = "parquet_common/mod.rs"]
mod common;

use asynclog::sinks::parquet::ParquetCompression;
use asynclog::{ParquetSink, ParquetSinkConfig, Sink};

const PER_BATCH: usize = 1024;

#[test]
fn an_encoder_write_error_is_reported_next_and_loses_nothing_accepted() {
    // SAFETY: ignoring a signal changes no memory; without it, passing the limit kills us.
    unsafe { libc::signal(libc::SIGXFSZ, libc::SIG_IGN) };
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
    // Room for about one more row group; the journal (4 MiB allocated, ~1 MiB used) has room
    // for all the batches below without growing.
    common::set_file_size_limit(size + 48 * 1024);

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
    common::set_file_size_limit(libc::RLIM_INFINITY);
    let error = error.expect("a write past the file size limit failed");
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
