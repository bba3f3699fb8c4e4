//! The console sink on a stream that takes part of a batch and then fails with an error other
//! than `WouldBlock` (here a file on stderr hitting `RLIMIT_FSIZE`, as a full disk does with
//! `ENOSPC`): the worker retries the same batch once the stream has room again, and each record
//! must still reach the stream once, whole.
//!
//! A file of its own: it swaps stderr for a file and lowers the process's file-size limit.

use asynclog::{Batch, ConsoleSink, Field, Level, Sink};
use std::os::fd::AsRawFd;

const RECORDS: u64 = 200; // about 30 KiB of JSON lines
/// What the stream takes before it fails: a few lines and part of the next.
const ROOM: u64 = 4000;

fn set_file_size_limit(soft: libc::rlim_t) {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit and setrlimit with a valid `rlimit`.
    unsafe {
        assert_eq!(libc::getrlimit(libc::RLIMIT_FSIZE, &mut limit), 0);
        limit.rlim_cur = soft;
        assert_eq!(libc::setrlimit(libc::RLIMIT_FSIZE, &limit), 0);
    }
}

fn batch(first_seq: u64, records: u64) -> Batch {
    let mut batch = Batch::new();
    for seq in first_seq..first_seq + records {
        let ts = 1_795_780_800_000_000_000 + seq as i64;
        let message = "a message long enough to pass the file-size limit in a few records";
        batch
            .push(ts, Level::Info, 1, message, &[Field::new("seq", seq)])
            .unwrap();
    }
    batch
}

/// Writes `first` to stderr, redirected to a file, under a limit it passes part way (which must
/// fail), then lifts the limit and writes `then` (which must succeed); returns the file's text.
fn stderr_after(first: &Batch, then: &Batch) -> String {
    let dir = std::env::temp_dir().join(format!("asynclog-console-efbig-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("stderr.jsonl");
    let file = std::fs::File::create(&path).unwrap();
    // SAFETY: signal, dup and dup2 on this process's own descriptors; stderr is restored below.
    let saved = unsafe {
        libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
        let saved = libc::dup(2);
        assert!(saved >= 0);
        assert!(libc::dup2(file.as_raw_fd(), 2) >= 0);
        saved
    };
    let mut sink = ConsoleSink::json(true);
    set_file_size_limit(ROOM);
    let failed = sink.write_batch(first);
    // The stream has room again before the worker's next call.
    set_file_size_limit(libc::RLIM_INFINITY);
    let written = sink.write_batch(then);
    let flushed = sink.flush();
    // SAFETY: as above.
    unsafe {
        assert!(libc::dup2(saved, 2) >= 0);
        libc::close(saved);
    }
    assert!(failed.is_err(), "the first attempt passes the limit");
    written.unwrap();
    flushed.unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    text
}

/// The `seq` of every line; a line that is not one whole record (a torn one, or two run
/// together) counts as `None`.
fn seqs(text: &str) -> Vec<Option<u64>> {
    text.lines()
        .map(|line| {
            let at = line.rfind(r#""seq":"#)? + 6;
            let seq = line[at..].strip_suffix("}}")?.parse().ok()?;
            (line.starts_with('{') && line.matches("timestamp").count() == 1).then_some(seq)
        })
        .collect()
}

// One test: both cases swap stderr and lower the process's limit, so they must not overlap.
#[test]
fn a_batch_after_a_partial_write_reaches_the_stream_once_and_whole() {
    // The worker's retry of the failed batch goes on where the failed attempt stopped.
    let all = batch(0, RECORDS);
    let text = stderr_after(&all, &all);
    assert_eq!(
        seqs(&text),
        (0..RECORDS).map(Some).collect::<Vec<_>>(),
        "{text}"
    );

    // A worker that gave the failed batch up goes on with the next: the line the failed
    // attempt tore is ended, and the next batch starts on a line of its own.
    let text = stderr_after(&all, &batch(RECORDS, 3));
    let seqs = seqs(&text);
    let torn_at = seqs.len() - 3;
    assert!(torn_at > 0 && torn_at < RECORDS as usize, "{text}");
    let expected: Vec<Option<u64>> = (0..torn_at as u64)
        .chain(RECORDS..RECORDS + 3)
        .map(Some)
        .collect();
    assert_eq!(seqs, expected, "{text}");
}
