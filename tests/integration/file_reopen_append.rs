//! Reopening a log file appends after its last complete line: nothing earlier is overwritten, a
//! torn line and a zero-filled tail left by a crash are trimmed, and while a sink is open the
//! file is readable up to its preallocated zeros.

use crate::file_common;
use asynclog::sinks::file::{Tail, TailRecovery};
use asynclog::{Config, FileSink, Logger};
use file_common::*;
use std::io::Write;
use std::path::Path;

fn log_run(path: &Path, from: u64, count: u64) -> TailRecovery {
    let sink = FileSink::new(path).unwrap();
    let recovery = sink.recovery();
    let mut config = Config::default();
    config.sinks.push(Box::new(sink));
    let logger = Logger::new(config).unwrap();
    for seq in from..from + count {
        asynclog::try_info!(logger, "run record", seq = seq, text = "x\"y\n").unwrap();
    }
    logger.close().unwrap();
    recovery
}

fn seqs(path: &Path) -> Vec<u64> {
    let contents = asynclog::read_jsonl(path).unwrap();
    assert!(contents.bad_lines.is_empty(), "{:?}", contents.bad_lines);
    assert_eq!(contents.tail, Tail::default(), "a closed file has no tail");
    contents.records.iter().map(seq_of).collect()
}

#[test]
fn reopening_appends_and_trims_what_a_crash_left() {
    let dir = Scratch::new("reopen");
    let path = dir.join("app.log");

    assert_eq!(log_run(&path, 0, 100), TailRecovery::default());
    let first = std::fs::read(&path).unwrap();
    assert_eq!(seqs(&path), (0..100).collect::<Vec<_>>());

    // A clean reopen keeps every byte and appends.
    let recovery = log_run(&path, 100, 50);
    assert_eq!(
        recovery,
        TailRecovery {
            kept_bytes: first.len() as u64,
            torn_bytes: 0,
            zero_bytes: 0
        }
    );
    let second = std::fs::read(&path).unwrap();
    assert_eq!(
        &second[..first.len()],
        &first[..],
        "earlier bytes untouched"
    );
    assert_eq!(seqs(&path), (0..150).collect::<Vec<_>>());

    // What a crash mid-write leaves: a torn line, then preallocated zeros.
    let torn = br#"{"timestamp":"2026-11-27T12:00:00.000000000Z","level":"INFO","mess"#;
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .unwrap();
    file.write_all(torn).unwrap();
    file.write_all(&[0u8; 5000]).unwrap();
    drop(file);
    let before = asynclog::read_jsonl(&path).unwrap();
    assert_eq!(
        before.records.len(),
        150,
        "the reader keeps every complete record"
    );
    assert_eq!(
        before.tail.torn.map(|t| (t.offset, t.len)),
        Some((second.len() as u64, torn.len() as u64))
    );
    assert_eq!(before.tail.zero_bytes, 5000);

    let recovery = log_run(&path, 150, 10);
    assert_eq!(
        recovery,
        TailRecovery {
            kept_bytes: second.len() as u64,
            torn_bytes: torn.len() as u64,
            zero_bytes: 5000
        }
    );
    let third = std::fs::read(&path).unwrap();
    assert_eq!(&third[..second.len()], &second[..]);
    assert_eq!(seqs(&path), (0..160).collect::<Vec<_>>());
}

#[test]
fn an_open_file_reads_up_to_its_preallocated_zeros() {
    let dir = Scratch::new("open-read");
    let path = dir.join("app.log");
    let mut config = Config::default();
    config.sinks.push(Box::new(FileSink::new(&path).unwrap()));
    let logger = Logger::new(config).unwrap();
    for seq in 0..1000u64 {
        asynclog::try_info!(logger, "open", seq = seq).unwrap();
    }
    logger.flush().unwrap();

    let contents = asynclog::read_jsonl(&path).unwrap();
    assert!(contents.bad_lines.is_empty());
    assert_eq!(
        contents.records.iter().map(seq_of).collect::<Vec<_>>(),
        (0..1000).collect::<Vec<_>>()
    );
    assert_eq!(contents.tail.torn, None);
    let size = std::fs::metadata(&path).unwrap().len();
    assert_eq!(
        size,
        asynclog::sinks::file::DEFAULT_CHUNK_SIZE as u64,
        "one chunk preallocated"
    );
    assert!(contents.tail.zero_bytes > 0);

    logger.close().unwrap();
    let size_after = std::fs::metadata(&path).unwrap().len();
    assert_eq!(
        size_after,
        size - contents.tail.zero_bytes,
        "close truncates to the lines"
    );
}

#[test]
fn a_second_sink_on_the_same_file_is_refused() {
    let dir = Scratch::new("locked");
    let path = dir.join("app.log");
    let first = FileSink::new(&path).unwrap();
    let err = FileSink::new(&path).unwrap_err().to_string();
    assert!(err.contains(&path.display().to_string()), "{err}");
    assert!(err.contains("another file sink"), "{err}");
    drop(first);
    FileSink::new(&path).expect("free again once the first is dropped");
}

#[test]
fn unusable_paths_are_named_with_the_os_reason() {
    let err = FileSink::new("/dev/full").unwrap_err().to_string();
    assert!(
        err.contains("/dev/full") && err.contains("not a regular file"),
        "{err}"
    );

    let dir = Scratch::new("unusable");
    std::fs::write(dir.join("plain"), b"").unwrap();
    let below_a_file = dir.join("plain/app.log");
    let err = FileSink::new(&below_a_file).unwrap_err().to_string();
    assert!(
        err.contains(&dir.join("plain").display().to_string()),
        "{err}"
    );
    assert!(err.contains("os error"), "{err}");

    let err = FileSink::new(dir.path()).unwrap_err().to_string();
    assert!(err.contains(&dir.path().display().to_string()), "{err}");
    assert!(
        err.contains("os error 21") || err.contains("Is a directory"),
        "{err}"
    );
}
