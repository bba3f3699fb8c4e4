//! `FileSinkConfig`: out-of-range options are refused naming the option, the sink's name
//! defaults to `file:<path>`, and every sync policy writes the same bytes.

use crate::file_common;
use asynclog::sinks::file::{FileSinkConfig, Rotation, SyncPolicy};
use asynclog::{Batch, Error, Field, Level, Sink};
use file_common::*;
use std::time::Duration;

fn refused_field(config: FileSinkConfig) -> &'static str {
    match config.build() {
        Err(Error::Config { field, reason }) => {
            assert!(reason.contains("FileSinkConfig"), "{reason}");
            field
        }
        other => panic!("expected a config error, got {other:?}"),
    }
}

#[test]
fn out_of_range_options_name_the_option() {
    let dir = Scratch::new("config");
    let path = dir.join("app.log");
    let with = |change: fn(&mut FileSinkConfig)| {
        let mut config = FileSinkConfig::new(&path);
        change(&mut config);
        config
    };
    assert_eq!(refused_field(with(|c| c.chunk_size = 4095)), "chunk_size");
    assert_eq!(
        refused_field(with(|c| c.rotation = Rotation::every(Duration::ZERO))),
        "rotation"
    );
    assert_eq!(refused_field(with(|c| c.max_bytes = Some(0))), "max_bytes");
    assert_eq!(
        refused_field(with(|c| c.sync = SyncPolicy::EveryBatches(0))),
        "sync"
    );
    assert_eq!(refused_field(FileSinkConfig::new("/")), "path");
    assert!(!path.exists(), "a refused config creates no file");
}

#[test]
fn names_default_to_the_path() {
    let dir = Scratch::new("names");
    let path = dir.join("app.log");
    let sink = FileSinkConfig::new(&path).build().unwrap();
    assert_eq!(sink.name(), format!("file:{}", path.display()));
    assert_eq!(sink.path(), path);
    drop(sink);
    let mut config = FileSinkConfig::new(&path);
    config.name = Some("audit".into());
    assert_eq!(config.build().unwrap().name(), "audit");
}

#[test]
fn every_sync_policy_writes_the_same_bytes() {
    let dir = Scratch::new("sync");
    let mut batch = Batch::new();
    for seq in 0..1000u64 {
        batch
            .push(
                seq as i64,
                Level::Info,
                1,
                "synced",
                &[Field::new("seq", seq)],
            )
            .unwrap();
    }
    let mut contents = Vec::new();
    for (name, policy) in [
        ("never", SyncPolicy::Never),
        ("flush", SyncPolicy::OnFlush),
        ("every", SyncPolicy::EveryBatches(2)),
    ] {
        let path = dir.join(&format!("{name}.log"));
        let mut config = FileSinkConfig::new(&path);
        config.sync = policy;
        let mut sink = config.build().unwrap();
        for _ in 0..5 {
            sink.write_batch(&batch).unwrap();
            sink.flush().unwrap();
        }
        assert_eq!(sink.bytes_written(), sink.file_len());
        sink.close().unwrap();
        let read = asynclog::read_jsonl(&path).unwrap();
        assert_eq!(read.records.len(), 5000, "{name}");
        assert_eq!(read.tail, Default::default(), "{name}: truncated on close");
        contents.push(std::fs::read(&path).unwrap());
    }
    assert!(contents.windows(2).all(|w| w[0] == w[1]));
}

#[test]
fn a_closed_sink_refuses_writes_by_name() {
    let dir = Scratch::new("closed");
    let path = dir.join("app.log");
    let mut sink = FileSinkConfig::new(&path).build().unwrap();
    sink.close().unwrap();
    sink.close().unwrap(); // idempotent
    let mut batch = Batch::new();
    batch.push(0, Level::Info, 1, "late", &[]).unwrap();
    let err = sink.write_batch(&batch).unwrap_err().to_string();
    assert!(
        err.contains(&path.display().to_string()) && err.contains("closed"),
        "{err}"
    );
    assert_eq!(std::fs::metadata(&path).unwrap().len(), 0);
}

#[test]
fn a_chunk_no_file_could_grow_by_is_refused() {
    // Accepted, such a chunk made every write fail ("extending log file ... File too large"),
    // naming the path but not the option.
    use asynclog::sinks::file::MAX_CHUNK_SIZE;
    let dir = Scratch::new("big-chunk");
    let path = dir.join("app.log");
    for chunk in [MAX_CHUNK_SIZE + 1, 1 << 50, usize::MAX] {
        let mut config = FileSinkConfig::new(&path);
        config.chunk_size = chunk;
        assert_eq!(refused_field(config), "chunk_size", "chunk {chunk}");
    }
    assert!(!path.exists(), "a refused config creates no file");
    // The largest is accepted (nothing is preallocated before the first write).
    let mut sink = FileSinkConfig::new(&path)
        .with_chunk_size(MAX_CHUNK_SIZE)
        .build()
        .unwrap();
    sink.close().unwrap();
}
