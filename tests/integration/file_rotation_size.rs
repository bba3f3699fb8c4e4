//! Size rotation: before a batch, a file holding at least `max_bytes` real bytes is renamed to
//! `app.<start>.log` and a new one begins; exactly one rotation per crossing, rotated sizes are
//! between `max_bytes` and `max_bytes` plus one batch, names sort by time, and `max_files`
//! keeps the newest rotated files. Records are never lost or reordered across files.

use crate::file_common;
use asynclog::sinks::file::{FileSinkConfig, ManualClock};
use asynclog::{Batch, Field, Level, Sink};
use file_common::*;
use std::path::{Path, PathBuf};
use std::time::{Duration, UNIX_EPOCH};

const MAX_BYTES: u64 = 10_000;
const BATCHES: u64 = 40;
const PER_BATCH: u64 = 20;
/// 2026-11-27T12:00:00Z
const T0: u64 = 1_795_780_800;

fn batch(first_seq: u64) -> Batch {
    let mut batch = Batch::new();
    for seq in first_seq..first_seq + PER_BATCH {
        let fields = [
            Field::new("seq", seq),
            Field::new("pad", "size rotation \"test\""),
        ];
        batch
            .push(seq as i64, Level::Info, 1, "sized", &fields)
            .unwrap();
    }
    batch
}

/// Rotated files next to `active`, sorted by name.
fn rotated(active: &Path) -> Vec<PathBuf> {
    let dir = active.parent().unwrap();
    let mut names: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p != active)
        .collect();
    names.sort();
    names
}

fn seqs(path: &Path) -> Vec<u64> {
    let contents = asynclog::read_jsonl(path).unwrap();
    assert!(contents.bad_lines.is_empty() && contents.tail.torn.is_none());
    contents.records.iter().map(seq_of).collect()
}

/// Writes every batch, advancing the clock a second per batch; returns the rotation instants
/// expected from the file lengths seen before each batch, and the largest batch in bytes.
fn run(config: FileSinkConfig, clock: &ManualClock) -> (Vec<u64>, u64) {
    let mut sink = config.build().unwrap();
    let mut expected_rotation_starts = Vec::new();
    let mut file_started = T0;
    let mut largest_batch = 0;
    for n in 0..BATCHES {
        let now = T0 + n;
        clock.set(UNIX_EPOCH + Duration::from_secs(now));
        let rotations = sink.rotations();
        let due = sink.file_len() >= MAX_BYTES;
        let before = sink.bytes_written();
        sink.write_batch(&batch(n * PER_BATCH)).unwrap();
        largest_batch = largest_batch.max(sink.bytes_written() - before);
        assert_eq!(sink.rotations(), rotations + u64::from(due), "batch {n}");
        if due {
            expected_rotation_starts.push(file_started);
            file_started = now;
        }
    }
    sink.close().unwrap();
    (expected_rotation_starts, largest_batch)
}

fn stamp_of(path: &Path) -> String {
    let name = path.file_name().unwrap().to_str().unwrap();
    name.strip_prefix("app.")
        .unwrap()
        .strip_suffix(".log")
        .unwrap()
        .to_owned()
}

fn stamp(secs: u64) -> String {
    let text = asynclog::__private::rfc3339_nanos(secs as i64 * 1_000_000_000);
    String::from_utf8(text[..26].to_vec())
        .unwrap()
        .replace(':', "-")
}

#[test]
fn size_rotation_is_exact_and_loses_nothing() {
    let dir = Scratch::new("size-rotation");
    let path = dir.join("app.log");
    let clock = ManualClock::new(UNIX_EPOCH + Duration::from_secs(T0));
    let mut config = FileSinkConfig::new(&path);
    config.max_bytes = Some(MAX_BYTES);
    config.chunk_size = 4096;
    config.clock = std::sync::Arc::new(clock.clone());
    let (starts, largest_batch) = run(config, &clock);
    assert!(
        starts.len() >= 5,
        "the test crosses the threshold several times"
    );

    let files = rotated(&path);
    assert_eq!(files.len(), starts.len(), "one rotated file per crossing");
    for (file, start) in files.iter().zip(&starts) {
        assert_eq!(stamp_of(file), stamp(*start), "named by the file's start");
        let size = std::fs::metadata(file).unwrap().len();
        assert!(
            (MAX_BYTES..MAX_BYTES + largest_batch).contains(&size),
            "{} holds {size} bytes",
            file.display()
        );
    }
    let mut all: Vec<u64> = files.iter().flat_map(|f| seqs(f)).collect();
    all.extend(seqs(&path));
    assert_eq!(all, (0..BATCHES * PER_BATCH).collect::<Vec<_>>());
}

#[test]
fn retention_keeps_the_newest_rotated_files() {
    let dir = Scratch::new("size-retention");
    let path = dir.join("app.log");
    // A stranger's file with a similar name is not ours to delete.
    std::fs::write(dir.join("app.not-a-stamp.log"), b"keep me").unwrap();
    let clock = ManualClock::new(UNIX_EPOCH + Duration::from_secs(T0));
    let mut config = FileSinkConfig::new(&path);
    config.max_bytes = Some(MAX_BYTES);
    config.max_files = Some(2);
    config.chunk_size = 4096;
    config.clock = std::sync::Arc::new(clock.clone());
    let (starts, _) = run(config, &clock);

    let files = rotated(&path);
    let ours: Vec<&PathBuf> = files
        .iter()
        .filter(|f| !f.ends_with("app.not-a-stamp.log"))
        .collect();
    assert_eq!(
        files.len(),
        3,
        "two rotated files and the stranger: {files:?}"
    );
    let kept: Vec<String> = ours.iter().map(|f| stamp_of(f)).collect();
    let newest: Vec<String> = starts[starts.len() - 2..]
        .iter()
        .map(|s| stamp(*s))
        .collect();
    assert_eq!(kept, newest);
    // What is left is the newest records, contiguous and in order.
    let mut left: Vec<u64> = ours.iter().flat_map(|f| seqs(f)).collect();
    left.extend(seqs(&path));
    let first = left[0];
    assert_eq!(left, (first..BATCHES * PER_BATCH).collect::<Vec<_>>());
}

#[test]
fn a_stopped_clock_still_gives_unique_sorted_names() {
    let dir = Scratch::new("size-same-time");
    let path = dir.join("app.log");
    let clock = ManualClock::new(UNIX_EPOCH + Duration::from_secs(T0));
    let mut config = FileSinkConfig::new(&path);
    config.max_bytes = Some(1);
    config.clock = std::sync::Arc::new(clock);
    let mut sink = config.build().unwrap();
    for n in 0..5 {
        sink.write_batch(&batch(n * PER_BATCH)).unwrap();
    }
    sink.close().unwrap();
    let files = rotated(&path);
    let stamps: Vec<String> = files.iter().map(|f| stamp_of(f)).collect();
    assert_eq!(
        stamps,
        [
            "2026-11-27T12-00-00.000000",
            "2026-11-27T12-00-00.000001",
            "2026-11-27T12-00-00.000002",
            "2026-11-27T12-00-00.000003"
        ]
    );
    let mut all: Vec<u64> = files.iter().flat_map(|f| seqs(f)).collect();
    all.extend(seqs(&path));
    assert_eq!(all, (0..5 * PER_BATCH).collect::<Vec<_>>());
}

#[test]
fn an_active_file_deleted_by_someone_else_is_reported_and_replaced_at_the_next_rotation() {
    let dir = Scratch::new("size-deleted");
    let path = dir.join("app.log");
    let mut config = FileSinkConfig::new(&path);
    config.max_bytes = Some(1);
    let mut sink = config.build().unwrap();
    sink.write_batch(&batch(0)).unwrap();
    std::fs::remove_file(&path).unwrap();
    sink.write_batch(&batch(PER_BATCH)).unwrap();
    // The records of the deleted file are reported lost (by the next flush, or here by close).
    let error = sink.close().unwrap_err().to_string();
    assert!(
        error.contains(&format!("log file {} was removed", path.display()))
            && error.contains(&format!("the {PER_BATCH} records")),
        "{error}"
    );
    assert_eq!(
        rotated(&path),
        Vec::<PathBuf>::new(),
        "nothing was left to rotate"
    );
    assert_eq!(seqs(&path), (PER_BATCH..2 * PER_BATCH).collect::<Vec<_>>());
}
