//! `ParquetSinkConfig` in the file sink's words: default names follow the path, out-of-range
//! options are refused naming the option and the sink, and `max_files` keeps exactly the newest
//! finished files.
#![cfg(feature = "parquet")]

use crate::parquet_common as common;

use asynclog::sinks::parquet::ParquetCompression;
use asynclog::sinks::{ManualClock, Rotation};
use asynclog::{Error, ParquetSink, ParquetSinkConfig, Sink};
use std::time::{Duration, UNIX_EPOCH};

#[test]
fn default_names_follow_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    let first = ParquetSink::new(&a).unwrap();
    let second = ParquetSinkConfig::new(&b).build().unwrap();
    assert_eq!(first.name(), format!("parquet:{}", a.display()));
    assert_eq!(second.name(), format!("parquet:{}", b.display()));
    assert_ne!(first.name(), second.name());
    let named = ParquetSinkConfig::new(dir.path().join("c"))
        .with_name("audit")
        .build()
        .unwrap();
    assert_eq!(named.name(), "audit");
}

#[test]
fn out_of_range_options_name_the_option_and_the_sink() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sub").join("app");
    let refused = |config: ParquetSinkConfig| match config.build() {
        Err(Error::Config { field, reason }) => {
            assert!(reason.contains("ParquetSinkConfig"), "{reason}");
            assert!(reason.contains("parquet:"), "names the sink: {reason}");
            field
        }
        other => panic!("expected a config error, got {other:?}"),
    };
    let config = || ParquetSinkConfig::new(&path);
    assert_eq!(refused(config().with_max_bytes(0)), "max_bytes");
    assert_eq!(
        refused(config().with_rotation(Rotation::every(Duration::ZERO))),
        "rotation"
    );
    assert_eq!(refused(config().with_row_group_rows(0)), "row_group_rows");
    assert_eq!(
        refused(config().with_compression(ParquetCompression::Zstd(1000))),
        "compression"
    );
    assert_eq!(refused(ParquetSinkConfig::new("/")), "path");
    // A directory, existing or written as one, is not a file-name prefix: the files would go
    // beside it.
    assert_eq!(refused(ParquetSinkConfig::new(dir.path())), "path");
    let slash = format!("{}/", path.display());
    assert_eq!(refused(ParquetSinkConfig::new(&slash)), "path");
    let mut named = config().with_max_bytes(0);
    named.name = Some("audit".into());
    match named.build() {
        Err(Error::Config { reason, .. }) => assert!(reason.contains("`audit`"), "{reason}"),
        other => panic!("expected a config error, got {other:?}"),
    }
    assert!(
        !path.parent().unwrap().exists(),
        "a refused config creates nothing"
    );
}

#[test]
fn max_files_keeps_exactly_the_newest_finished_files() {
    let dir = tempfile::tempdir().unwrap();
    // 2026-11-27 12:00:00 UTC, standing still: names differ by their counter only.
    let clock = ManualClock::new(UNIX_EPOCH + Duration::from_secs(1_795_780_800));
    let config = ParquetSinkConfig::new(dir.path().join("kept"))
        .with_max_bytes(1) // every batch finishes its file
        .with_max_files(2)
        .with_clock(clock.clone());
    let mut sink = config.clone().build().unwrap();
    for n in 0..5u64 {
        sink.write_batch(&common::batches::three_field_batch(n * 10, 10))
            .unwrap();
    }
    sink.close().unwrap();
    assert_eq!(sink.files_finished(), 5);
    let names = |dir: &std::path::Path| -> Vec<String> {
        common::files_with_suffix(dir, "")
            .iter()
            .map(|p| p.file_name().unwrap().to_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(
        names(dir.path()),
        [
            "kept_20261127_120000_003.parquet",
            "kept_20261127_120000_004.parquet",
        ]
    );
    let seqs: Vec<u64> = common::read_all(dir.path())
        .iter()
        .filter_map(common::seq_of)
        .collect();
    assert_eq!(
        seqs,
        (30..50).collect::<Vec<u64>>(),
        "the newest two batches"
    );
    drop(sink);

    // A new sink applies retention when it is built: with `max_files = 1` the older file goes.
    let sink = config.with_max_files(1).build().unwrap();
    assert_eq!(names(dir.path()), ["kept_20261127_120000_004.parquet"]);
    drop(sink);
}

#[test]
fn max_files_zero_is_refused_as_it_would_delete_every_file() {
    // Every file of a Parquet sink is finished, the last one by `close`, and retention then
    // deleted it: accepted, `max_files = 0` left nothing of what was logged.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app");
    match ParquetSinkConfig::new(&path).with_max_files(0).build() {
        Err(Error::Config { field, reason }) => {
            assert_eq!(field, "max_files");
            assert!(reason.contains("parquet:"), "names the sink: {reason}");
        }
        other => panic!("expected a config error, got {other:?}"),
    }
    let mut sink = ParquetSinkConfig::new(&path)
        .with_max_files(1)
        .build()
        .unwrap();
    sink.write_batch(&common::batches::three_field_batch(0, 10))
        .unwrap();
    sink.close().unwrap();
    assert_eq!(common::read_all(dir.path()).len(), 10);
}

/// The sink's name also names its encoder thread, where a NUL byte is not allowed: a name
/// holding one made the first batch panic while starting that thread.
#[test]
fn a_name_with_a_nul_byte_still_writes() {
    let dir = tempfile::tempdir().unwrap();
    let mut sink = ParquetSinkConfig::new(dir.path().join("app"))
        .with_name("audit\0eu")
        .build()
        .unwrap();
    assert_eq!(sink.name(), "audit\0eu");
    sink.write_batch(&common::batches::three_field_batch(0, 10))
        .unwrap();
    sink.close().unwrap();
    assert_eq!(common::read_all(dir.path()).len(), 10);
}

/// Upload waits longer than an `Instant` can hold (`Duration::MAX`: "no limit") are taken as
/// waits without end; they used to panic with "overflow when adding duration to instant".
#[cfg(feature = "object-store")]
mod upload_waits {
    use super::common;
    use asynclog::sinks::parquet::upload::object_store::local::LocalFileSystem;
    use asynclog::sinks::parquet::upload::object_store::memory::InMemory;
    use asynclog::sinks::parquet::upload::{UploadConfig, UploadEvent};
    use asynclog::{ParquetSinkConfig, Sink};
    use std::sync::{Arc, Mutex};
    use std::time::{Duration, Instant};

    /// `upload` telling the returned list of every event's kind.
    fn with_events(upload: UploadConfig) -> (UploadConfig, Arc<Mutex<Vec<&'static str>>>) {
        let seen: Arc<Mutex<Vec<&'static str>>> = Arc::default();
        let hook_seen = seen.clone();
        let upload = upload.with_on_event(move |_, event| {
            let kind = match event {
                UploadEvent::Uploaded { .. } => "uploaded",
                UploadEvent::Failed { .. } => "failed",
                UploadEvent::LeftInSpool { .. } => "left",
                _ => "other",
            };
            hook_seen.lock().unwrap().push(kind);
        });
        (upload, seen)
    }

    #[test]
    fn an_unbounded_close_wait_waits_for_the_upload() {
        let dir = tempfile::tempdir().unwrap();
        let spool = dir.path().join("spool");
        let (upload, seen) = with_events(
            UploadConfig::new(Arc::new(InMemory::new()), "memory")
                .with_host("h1")
                .with_close_wait(Duration::MAX),
        );
        let mut sink = ParquetSinkConfig::new(spool.join("app"))
            .with_upload(upload)
            .build()
            .unwrap();
        sink.write_batch(&common::batches::three_field_batch(0, 10))
            .unwrap();
        sink.close().unwrap(); // finishes the file, then waits for its upload
        assert_eq!(*seen.lock().unwrap(), ["uploaded"]);
        assert_eq!(sink.upload_stats().unwrap().uploaded_files, 1);
        assert!(common::parquet_files(&spool).is_empty());
    }

    #[test]
    fn an_unbounded_back_off_keeps_the_file_for_the_next_sink() {
        let dir = tempfile::tempdir().unwrap();
        let spool = dir.path().join("spool");
        // A bucket directory replaced by a plain file: every `PUT` fails.
        let bucket = dir.path().join("bucket");
        std::fs::create_dir(&bucket).unwrap();
        let store = LocalFileSystem::new_with_prefix(&bucket).unwrap();
        std::fs::remove_dir(&bucket).unwrap();
        std::fs::write(&bucket, b"not a directory").unwrap();
        let (upload, seen) = with_events(
            UploadConfig::new(Arc::new(store), "file-bucket")
                .with_host("h1")
                .with_retry(Duration::MAX, Duration::MAX)
                .with_close_wait(Duration::from_millis(100)),
        );
        let mut sink = ParquetSinkConfig::new(spool.join("app"))
            .with_max_bytes(1) // every batch finishes its file
            .with_upload(upload)
            .build()
            .unwrap();
        sink.write_batch(&common::batches::three_field_batch(0, 10))
            .unwrap();
        let started = Instant::now();
        while sink.upload_stats().unwrap().failed_attempts == 0 {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "no failed attempt reported: {:?}",
                sink.upload_stats()
            );
            std::thread::sleep(Duration::from_millis(10));
        }
        sink.close().unwrap();
        assert_eq!(*seen.lock().unwrap(), ["failed", "left"]);
        assert_eq!(common::read_all(&spool).len(), 10, "kept in the spool");
    }
}
