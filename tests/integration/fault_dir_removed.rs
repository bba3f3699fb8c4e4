//! The log directory removed (`rm -rf`) under a running file sink, next to a second sink.
//!
//! What happens (documented on `FileSink`): on Linux the open, memory-mapped file outlives its
//! directory entry, so writes keep succeeding into an inode nobody can open again. The sink
//! notices at its next `flush` (explicit, periodic or the final one in `close`) or rotation
//! (its last link is gone): that flush fails with an I/O error of kind `NotFound` naming the
//! path and how many records this sink had written into the removed file (they are gone with
//! it), the sink lets the removed file go, and its next batch recreates the directory and a new
//! file at the same path. If the directory cannot be recreated, batches fail with an error
//! naming it, are retried and reported to `on_batch_failed` and by the next `flush`, until it
//! can. Throughout, the other
//! sink receives every record, log calls never fail, nothing panics or hangs, and `close`
//! returns `Ok`.

use crate::file_common;
use crate::sinks;

use asynclog::sinks::file::FileSinkConfig;
use asynclog::{Error, Hooks, Logger, OwnedValue, RecordView, SinkError, Value};
use file_common::Scratch;
use sinks::CollectSink;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const MAX_RETRIES: u32 = 2;
/// Makes each record about 200 bytes.
const PAD: &str = "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx";

/// One `on_batch_failed` call.
#[derive(Debug, Clone)]
struct Failure {
    sink: String,
    records: usize,
    attempts: u32,
    message: String,
}

/// A logger with a file sink at `<scratch>/logs/app.log` and a collecting sink.
struct Setup {
    _scratch: Scratch,
    dir: PathBuf,
    path: PathBuf,
    logger: Logger,
    collected: Arc<Mutex<Vec<u64>>>,
    failures: Arc<Mutex<Vec<Failure>>>,
    next_seq: u64,
}

fn seq_of(record: &RecordView<'_>) -> u64 {
    match record.fields.clone().next() {
        Some(("seq", Value::U64(seq))) => seq,
        other => panic!("record without a seq field: {other:?}"),
    }
}

impl Setup {
    fn new(name: &str, max_bytes: Option<u64>) -> Setup {
        let scratch = Scratch::new(name);
        let dir = scratch.join("logs");
        let path = dir.join("app.log");
        let failures: Arc<Mutex<Vec<Failure>>> = Arc::default();
        let seen = failures.clone();
        let hooks = Hooks::default().on_batch_failed(move |sink, records, error, attempts| {
            seen.lock().unwrap().push(Failure {
                sink: sink.to_owned(),
                records,
                attempts,
                message: error.to_string(),
            });
        });
        let mut file = FileSinkConfig::new(&path);
        file.chunk_size = 64 * 1024;
        file.max_bytes = max_bytes;
        let (collect, collected) = CollectSink::new("collect", seq_of);
        let mut config =
            sinks::config_with(vec![Box::new(file.build().unwrap()), Box::new(collect)]);
        config.hooks = hooks;
        config.max_retries = MAX_RETRIES;
        config.retry_delay = Duration::from_millis(1);
        // Only the explicit flushes below: the test decides when the sink looks.
        config.flush_interval = Duration::from_secs(3600);
        Setup {
            _scratch: scratch,
            dir,
            path,
            logger: Logger::new(config).unwrap(),
            collected,
            failures,
            next_seq: 0,
        }
    }

    /// Logs `count` records in groups of 10 (a flush after each group, so batches are small),
    /// and returns the result of the last flush.
    fn log(&mut self, count: u64) -> Result<(), Error> {
        let mut result = Ok(());
        for _ in 0..count.div_ceil(10) {
            for _ in 0..10.min(count) {
                asynclog::try_info!(self.logger, "record", seq = self.next_seq, pad = PAD)
                    .expect("a log call never sees a sink's trouble");
                self.next_seq += 1;
            }
            if let Err(e) = self.logger.flush() {
                result = Err(e);
            }
        }
        result
    }

    /// Every seq logged so far, in order.
    fn all(&self) -> Vec<u64> {
        (0..self.next_seq).collect()
    }

    fn file_stats(&self) -> asynclog::SinkStats {
        self.logger.stats().sinks[0].clone()
    }
}

/// The `seq` of every record in the file at `path`, which must be clean.
fn seqs_in(path: &Path) -> Vec<u64> {
    let contents = asynclog::read_jsonl(path).unwrap();
    assert!(contents.bad_lines.is_empty(), "{:?}", contents.bad_lines);
    assert_eq!(contents.tail.torn, None, "no partial record");
    contents
        .records
        .iter()
        .map(|r| match r.field("seq") {
            Some(OwnedValue::I64(s)) => *s as u64,
            other => panic!("seq is {other:?}"),
        })
        .collect()
}

/// The flush error a removed file gives: `Error::Sink` naming the file sink, an I/O error of
/// kind `NotFound` naming the path and counting the records that went with the file.
fn assert_removed_error(error: &Error, path: &Path, records: u64) {
    let Error::Sink { sink, source } = error else {
        panic!("not a sink error: {error:?}");
    };
    assert_eq!(sink, &format!("file:{}", path.display()));
    let SinkError::Io { context, source } = source else {
        panic!("not an I/O error: {source:?}");
    };
    assert_eq!(source.kind(), ErrorKind::NotFound, "{error}");
    assert!(context.contains(&path.display().to_string()), "{context}");
    assert!(context.contains("removed"), "{context}");
    assert!(context.contains(&format!("{records} records")), "{context}");
}

/// No rotation: the sink writes into the removed file until the next flush notices, then starts
/// a new file at the same path.
#[test]
fn removal_is_reported_by_the_next_flush_and_logging_goes_on_in_a_new_file() {
    let mut s = Setup::new("dir-removed-flush", None);
    s.log(100).unwrap();
    assert_eq!(seqs_in(&s.path), s.all());

    std::fs::remove_dir_all(&s.dir).unwrap();
    // Records 100..110 go into the removed file; the flush after them reports it, counting the
    // 110 records the file held.
    let error = s.log(10).unwrap_err();
    assert_removed_error(&error, &s.path, 110);
    // Reported once: the next flushes succeed, the directory and the file are back.
    s.log(90).unwrap();
    assert!(s.dir.is_dir(), "the directory is recreated");
    assert_eq!(seqs_in(&s.path), (110..200).collect::<Vec<_>>());

    s.logger.close().expect("close returns Ok");
    assert_eq!(
        *s.collected.lock().unwrap(),
        s.all(),
        "the other sink got every record"
    );
    assert!(s.failures.lock().unwrap().is_empty(), "no batch failed");
    let stats = s.file_stats();
    assert_eq!(stats.written_records, 200);
    assert_eq!(stats.failed_batches, 0);
    assert_eq!(stats.failed_flushes, 1);
    assert_eq!(s.logger.stats().sinks[1].written_records, 200);
    assert_eq!(seqs_in(&s.path), (110..200).collect::<Vec<_>>());
}

/// Size rotation after every batch: the rotation finds the file gone, starts the new file at
/// once (so records logged after the removal are kept) and the next flush reports the loss.
#[test]
fn removal_found_by_rotation_is_reported_and_later_records_are_kept() {
    let mut s = Setup::new("dir-removed-rotation", Some(1));
    s.log(30).unwrap();
    let before = std::fs::read_dir(&s.dir).unwrap().count();
    assert!(before >= 2, "rotated at least once ({before} files)");

    std::fs::remove_dir_all(&s.dir).unwrap();
    let error = s.log(10).unwrap_err();
    // The removed active file held the last batch before the removal.
    let Error::Sink { source, .. } = &error else {
        panic!("{error:?}");
    };
    let message = source.to_string();
    assert!(message.contains(&s.path.display().to_string()) && message.contains("removed"));
    s.log(20).unwrap();

    s.logger.close().expect("close returns Ok");
    assert_eq!(
        *s.collected.lock().unwrap(),
        s.all(),
        "the other sink got every record"
    );
    assert!(s.failures.lock().unwrap().is_empty(), "no batch failed");
    assert_eq!(s.file_stats().failed_flushes, 1);
    // Everything logged after the removal is in the recreated directory, in order.
    let mut kept: Vec<u64> = std::fs::read_dir(&s.dir)
        .unwrap()
        .flat_map(|entry| seqs_in(&entry.unwrap().path()))
        .collect();
    kept.sort_unstable();
    assert_eq!(kept, (30..60).collect::<Vec<_>>());
}

/// The directory replaced by a regular file: the sink cannot recreate it, so every batch fails
/// with an error naming the directory, is retried and reported, until the file is gone.
#[test]
fn a_directory_that_cannot_be_recreated_fails_batches_by_name_until_it_can() {
    let mut s = Setup::new("dir-removed-blocked", None);
    s.log(20).unwrap();
    std::fs::remove_dir_all(&s.dir).unwrap();
    std::fs::write(&s.dir, b"not a directory").unwrap();
    let error = s.log(10).unwrap_err();
    assert_removed_error(&error, &s.path, 30);

    // Reopening fails now: batches fail after their retries, naming the directory, and the
    // flushes after them report the loss.
    let error = s.log(30).unwrap_err();
    match &error {
        Error::Sink { sink, .. } => assert_eq!(sink, &format!("file:{}", s.path.display())),
        other => panic!("expected the file sink's lost batches, got {other:?}"),
    }
    assert!(
        error.to_string().contains(&s.dir.display().to_string()),
        "the error names the directory: {error}"
    );
    let failed: Vec<Failure> = s.failures.lock().unwrap().clone();
    assert!(!failed.is_empty());
    for failure in &failed {
        assert_eq!(failure.sink, format!("file:{}", s.path.display()));
        assert_eq!(failure.attempts, MAX_RETRIES + 1, "{failure:?}");
        assert!(
            failure.message.contains(&s.dir.display().to_string()),
            "the error names the directory: {}",
            failure.message
        );
    }
    let failed_records: usize = failed.iter().map(|f| f.records).sum();
    assert_eq!(failed_records, 30, "every batch after the removal failed");

    // Room again: the next batch recreates the directory and the file.
    std::fs::remove_file(&s.dir).unwrap();
    s.log(20).unwrap();
    s.logger.close().expect("close returns Ok");

    assert_eq!(
        *s.collected.lock().unwrap(),
        s.all(),
        "the other sink got every record"
    );
    let stats = s.file_stats();
    assert_eq!(stats.failed_records, 30);
    assert_eq!(stats.failed_batches as usize, failed.len());
    assert_eq!(stats.retries, u64::from(MAX_RETRIES) * failed.len() as u64);
    assert_eq!(stats.written_records, 30 + 20);
    assert_eq!(seqs_in(&s.path), (60..80).collect::<Vec<_>>());
}

/// Removed just before `close`: the final flush finds it, and `close` returns the error (after
/// closing everything).
#[test]
fn removal_just_before_close_is_reported_by_close() {
    let mut s = Setup::new("dir-removed-close", None);
    s.log(20).unwrap();
    std::fs::remove_dir_all(&s.dir).unwrap();
    for seq in 20..25u64 {
        asynclog::try_info!(s.logger, "record", seq = seq, pad = PAD).unwrap();
    }
    s.next_seq = 25;
    let error = s.logger.close().unwrap_err();
    assert_removed_error(&error, &s.path, 25);
    assert_eq!(
        *s.collected.lock().unwrap(),
        s.all(),
        "the other sink got every record"
    );
    assert!(
        !s.dir.exists(),
        "nothing was written after the removal was noticed"
    );
    assert_eq!(s.file_stats().failed_flushes, 1);
}

/// With periodic flushes on (the default is every 5 s), the sink usually finds the removal at a
/// periodic flush, which has no caller: the report (which records went with the file) is kept
/// for the next flush that has one, as a lost batch is, instead of reaching only the stats.
#[test]
fn removal_found_by_a_periodic_flush_is_reported_by_the_next_flush() {
    let scratch = Scratch::new("dir-removed-periodic");
    let dir = scratch.join("logs");
    let path = dir.join("app.log");
    let mut config = asynclog::Config::default().with_flush_interval(Duration::from_millis(5));
    config
        .sinks
        .push(Box::new(FileSinkConfig::new(&path).build().unwrap()));
    let logger = Logger::new(config).unwrap();
    for seq in 0..10u64 {
        asynclog::try_info!(logger, "record", seq = seq).unwrap();
    }
    logger.flush().unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    // A periodic flush finds the file gone.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while logger.stats().sinks[0].failed_flushes == 0 {
        assert!(std::time::Instant::now() < deadline, "no periodic flush");
        std::thread::sleep(Duration::from_millis(1));
    }
    let error = logger
        .flush()
        .expect_err("the next flush reports the removal");
    assert_removed_error(&error, &path, 10);
    // Once.
    logger.flush().unwrap();
    logger.close().unwrap();
}
