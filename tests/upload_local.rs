//! The upload stage against a real `ObjectStore` (object_store's local-filesystem store) and
//! real faults: the store's directory replaced by a plain file (every `PUT` fails), a child
//! process SIGKILLed with files in the spool, a full spool under each policy. Every test counts
//! the records in the bucket: each exactly once, none missing unless the policy says so.
//!
//! (`.ci/checks/fleet.sh` runs the same stage against an S3 server.)
#![cfg(feature = "object-store")]

#[path = "parquet_common/mod.rs"]
mod common;

use asynclog::sinks::parquet::upload::object_store::local::LocalFileSystem;
use asynclog::sinks::parquet::upload::{SpoolFull, UploadConfig, UploadEvent};
use asynclog::{Config, Logger, ParquetSinkConfig, UploadStats};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const SINK: &str = "fleet";

/// A bucket in a directory; `down()` replaces the directory by a plain file, so every `PUT`
/// fails until `up()`.
struct Bucket {
    root: PathBuf,
}

impl Bucket {
    fn new(dir: &Path) -> Bucket {
        let root = dir.join("bucket");
        std::fs::create_dir_all(&root).unwrap();
        Bucket { root }
    }
    fn upload(&self) -> UploadConfig {
        let store = LocalFileSystem::new_with_prefix(&self.root).unwrap();
        UploadConfig::new(Arc::new(store), "file-bucket")
            .with_prefix("logs")
            .with_partition("service", "svc")
            .with_host("h1")
            .with_retry(Duration::from_millis(20), Duration::from_millis(200))
            .with_close_wait(Duration::from_secs(5))
    }
    fn down(&self) {
        std::fs::rename(&self.root, self.root.with_extension("away")).unwrap();
        std::fs::write(&self.root, b"not a directory").unwrap();
    }
    fn up(&self) {
        std::fs::remove_file(&self.root).unwrap();
        std::fs::rename(self.root.with_extension("away"), &self.root).unwrap();
    }
    /// Every object: key (relative to the bucket) and its `seq` values.
    fn objects(&self) -> BTreeMap<String, Vec<u64>> {
        let mut found = BTreeMap::new();
        let mut dirs = vec![self.root.clone()];
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    dirs.push(path);
                } else if path.extension().is_some_and(|e| e == "parquet") {
                    let key = path.strip_prefix(&self.root).unwrap();
                    let seqs = common::read_rows(&path)
                        .iter()
                        .map(|r| common::seq_of(r).unwrap())
                        .collect();
                    found.insert(key.to_str().unwrap().to_owned(), seqs);
                }
            }
        }
        found
    }
    /// Every `seq` in the bucket, sorted.
    fn seqs(&self) -> Vec<u64> {
        let mut all: Vec<u64> = self.objects().into_values().flatten().collect();
        all.sort_unstable();
        all
    }
}

fn sink(spool: &Path, upload: UploadConfig) -> ParquetSinkConfig {
    ParquetSinkConfig::new(spool.join("app"))
        .with_name(SINK)
        .with_max_bytes(24 * 1024)
        .with_upload(upload)
}

fn logger(sink: ParquetSinkConfig) -> Logger {
    let config = Config::default()
        .with_max_retries(3)
        .with_retry_delay(Duration::from_millis(1))
        .with_sink(sink.build().unwrap());
    Logger::new(config).unwrap()
}

fn log_range(logger: &Logger, seqs: std::ops::Range<u64>) {
    for seq in seqs {
        asynclog::info!(logger, "order filled", seq = seq, venue = "XLON");
    }
}

fn upload_stats(logger: &Logger) -> UploadStats {
    logger.stats().sink(SINK).unwrap().upload.clone().unwrap()
}

fn wait_for(what: &str, logger: &Logger, done: impl Fn(&UploadStats) -> bool) -> UploadStats {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let stats = upload_stats(logger);
        if done(&stats) {
            return stats;
        }
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {what}: {stats:?}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn spool_files(spool: &Path, suffix: &str) -> Vec<PathBuf> {
    common::files_with_suffix(spool, suffix)
}

#[test]
fn every_file_reaches_the_store_once_under_its_hive_key() {
    let dir = tempfile::tempdir().unwrap();
    let bucket = Bucket::new(dir.path());
    let spool = dir.path().join("spool");
    let logger = logger(sink(&spool, bucket.upload()));
    log_range(&logger, 0..30_000);
    logger.close().unwrap();

    let objects = bucket.objects();
    assert!(
        objects.len() >= 3,
        "size rotation made several files: {objects:?}"
    );
    assert_eq!(bucket.seqs(), (0..30_000).collect::<Vec<_>>());
    for key in objects.keys() {
        // logs/service=svc/dt=YYYY-MM-DD/hour=HH/host=h1/app_YYYYMMDD_HHMMSS_NNN.parquet
        let parts: Vec<&str> = key.split('/').collect();
        assert_eq!(parts.len(), 6, "{key}");
        assert_eq!(&parts[..2], ["logs", "service=svc"], "{key}");
        assert_eq!(parts[4], "host=h1", "{key}");
        let name = parts[5];
        let stamp = &name["app_".len().."app_YYYYMMDD_HH".len()];
        let expected = format!(
            "dt={}-{}-{}/hour={}",
            &stamp[0..4],
            &stamp[4..6],
            &stamp[6..8],
            &stamp[9..11]
        );
        assert_eq!(format!("{}/{}", parts[2], parts[3]), expected, "{key}");
    }
    // The spool is empty but for the marker of the last file sent.
    assert_eq!(spool_files(&spool, ".parquet"), Vec::<PathBuf>::new());
    let markers = spool_files(&spool, ".parquet.uploaded");
    assert_eq!(markers.len(), 1, "{markers:?}");
    let last_key = objects.keys().max().unwrap();
    assert!(last_key.ends_with(
        markers[0]
            .file_name()
            .unwrap()
            .to_str()
            .unwrap()
            .strip_suffix(".uploaded")
            .unwrap()
    ));
}

#[test]
fn multipart_uploads_arrive_whole() {
    let dir = tempfile::tempdir().unwrap();
    let bucket = Bucket::new(dir.path());
    let spool = dir.path().join("spool");
    let logger = logger(sink(&spool, bucket.upload().with_multipart_threshold(1024)));
    log_range(&logger, 0..20_000);
    logger.close().unwrap();
    let objects = bucket.objects();
    assert!(objects.len() >= 2, "{objects:?}");
    assert_eq!(bucket.seqs(), (0..20_000).collect::<Vec<_>>());
    assert_eq!(spool_files(&spool, ".parquet"), Vec::<PathBuf>::new());
}

#[test]
fn stats_count_uploads_and_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let bucket = Bucket::new(dir.path());
    let spool = dir.path().join("spool");
    let logger = logger(sink(&spool, bucket.upload()));
    log_range(&logger, 0..10_000);
    // Close waits for the uploads; the counters stay readable after it.
    logger.close().unwrap();
    let stats = upload_stats(&logger);
    let objects = bucket.objects();
    assert!(objects.len() >= 2, "{objects:?}");
    assert_eq!(stats.uploaded_files, objects.len() as u64);
    let bytes: u64 = walk_sizes(&bucket.root);
    assert_eq!(stats.uploaded_bytes, bytes);
    assert_eq!(stats.failed_attempts, 0);
    assert_eq!(stats.spool_bytes, 0);
    assert_eq!(stats.oldest_waiting, None);
}

fn walk_sizes(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let path = e.unwrap().path();
            if path.is_dir() {
                walk_sizes(&path)
            } else {
                path.metadata().unwrap().len()
            }
        })
        .sum()
}

#[test]
fn an_outage_of_the_store_loses_nothing_and_sends_nothing_twice() {
    let dir = tempfile::tempdir().unwrap();
    let bucket = Bucket::new(dir.path());
    let spool = dir.path().join("spool");
    let failures = Arc::new(Mutex::new(Vec::new()));
    let seen = failures.clone();
    let upload = bucket.upload().with_on_event(move |sink, event| {
        if let UploadEvent::Failed { error, attempt, .. } = event {
            seen.lock()
                .unwrap()
                .push((sink.to_owned(), error.to_string(), *attempt));
        }
    });
    let logger = logger(sink(&spool, upload));
    log_range(&logger, 0..5_000);
    logger.flush().unwrap();
    wait_for("the first uploads", &logger, |s| s.uploaded_files >= 1);

    bucket.down();
    log_range(&logger, 5_000..20_000);
    logger.flush().unwrap();
    let during = wait_for("failed attempts with files waiting", &logger, |s| {
        s.failed_attempts >= 3 && s.spool_files >= 2
    });
    let error = during.last_error.clone().unwrap();
    assert!(error.contains("file-bucket"), "names the store: {error}");
    assert!(error.contains("spool/app_"), "names the file: {error}");
    assert!(during.oldest_waiting.is_some());
    {
        let failures = failures.lock().unwrap();
        assert!(failures.len() >= 3);
        assert!(failures.iter().all(|(sink, _, _)| sink == SINK));
        // Attempts count up while the outage lasts.
        assert!(
            failures.windows(2).all(|w| w[1].2 == w[0].2 + 1),
            "{failures:?}"
        );
    }
    // Logging goes on during the outage.
    log_range(&logger, 20_000..25_000);
    bucket.up();
    logger.flush().unwrap();
    wait_for("the spool to empty", &logger, |s| s.spool_files == 0);
    let after = upload_stats(&logger);
    assert_eq!(after.last_error, None);
    logger.close().unwrap();
    assert_eq!(bucket.seqs(), (0..25_000).collect::<Vec<_>>());
}

#[test]
fn a_full_spool_refuses_new_batches_and_keeps_what_waits() {
    let dir = tempfile::tempdir().unwrap();
    let bucket = Bucket::new(dir.path());
    let spool = dir.path().join("spool");
    let full_events = Arc::new(Mutex::new(0u32));
    let seen = full_events.clone();
    let upload = bucket
        .upload()
        .with_spool_limit(100 * 1024)
        .with_on_event(move |_, event| {
            if let UploadEvent::SpoolFull { policy, limit, .. } = event {
                assert_eq!((*policy, *limit), (SpoolFull::RefuseNew, 100 * 1024));
                *seen.lock().unwrap() += 1;
            }
        });
    bucket.down();
    let logger = logger(sink(&spool, upload));
    let mut next = 0;
    let mut refused_error = None;
    while upload_stats(&logger).refused_records == 0 {
        assert!(next < 2_000_000, "the spool never filled");
        log_range(&logger, next..next + 2_000);
        next += 2_000;
        if let Err(e) = logger.flush() {
            refused_error = Some(e.to_string());
        }
        std::thread::sleep(Duration::from_millis(30)); // let the upload thread look
    }
    let stats = upload_stats(&logger);
    assert!(stats.spool_bytes >= 100 * 1024, "{stats:?}");
    assert!(*full_events.lock().unwrap() >= 1);
    let flush = logger.flush();
    let message = refused_error
        .or_else(|| flush.err().map(|e| e.to_string()))
        .expect("a flush reports the refused batches");
    assert!(
        message.contains("spool") && message.contains("limit"),
        "{message}"
    );

    bucket.up();
    wait_for("room in the spool", &logger, |s| s.spool_files == 0);
    log_range(&logger, next..next + 1_000);
    next += 1_000;
    logger.close().unwrap();
    let sink_stats = logger.stats().sink(SINK).unwrap().clone();
    let refused = sink_stats.upload.as_ref().unwrap().refused_records;
    assert_eq!(sink_stats.failed_records, refused);
    // A refused batch is final: retrying cannot make room and would hold the drain up.
    assert_eq!(sink_stats.retries, 0);
    let in_bucket = bucket.seqs();
    assert_eq!(
        in_bucket.len() as u64,
        next - refused,
        "all but the refused"
    );
    assert!(in_bucket.windows(2).all(|w| w[0] < w[1]), "none twice");
    // What was spooled before the spool filled is all there, and so is what came after.
    assert_eq!(in_bucket[0], 0);
    assert_eq!(*in_bucket.last().unwrap(), next - 1);
}

#[test]
fn delete_oldest_keeps_the_newest_files() {
    let dir = tempfile::tempdir().unwrap();
    let bucket = Bucket::new(dir.path());
    let spool = dir.path().join("spool");
    let upload = bucket
        .upload()
        .with_spool_limit(100 * 1024)
        .with_when_spool_full(SpoolFull::DeleteOldest);
    bucket.down();
    let logger = logger(sink(&spool, upload));
    let mut next = 0;
    while upload_stats(&logger).evicted_files == 0 {
        assert!(next < 2_000_000, "the spool never filled");
        log_range(&logger, next..next + 2_000);
        next += 2_000;
        logger.flush().unwrap();
        std::thread::sleep(Duration::from_millis(30));
    }
    let stats = wait_for("the spool under its limit", &logger, |s| {
        s.spool_bytes < 100 * 1024
    });
    assert!(
        stats.evicted_bytes > 0 && stats.refused_records == 0,
        "{stats:?}"
    );
    bucket.up();
    logger.close().unwrap();
    let in_bucket = bucket.seqs();
    assert!(!in_bucket.is_empty() && in_bucket[0] > 0, "the oldest went");
    // The rest is one unbroken run up to the last record: the newest files were kept.
    let first = in_bucket[0];
    assert_eq!(in_bucket, (first..next).collect::<Vec<_>>());
}

#[test]
fn max_files_with_upload_is_refused_naming_the_field() {
    let dir = tempfile::tempdir().unwrap();
    let bucket = Bucket::new(dir.path());
    let err = ParquetSinkConfig::new(dir.path().join("spool/app"))
        .with_max_files(3)
        .with_upload(bucket.upload())
        .build()
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("max_files") && err.contains("spool_limit"),
        "{err}"
    );
    let err = ParquetSinkConfig::new(dir.path().join("spool/app"))
        .with_upload(bucket.upload().with_partition("venue", "a/b"))
        .build()
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("upload.partitions") && err.contains("a/b"),
        "{err}"
    );
}

/// The child of the SIGKILL test: logs `ASYNCLOG_UPLOAD_RECORDS` records with the store down,
/// flushes, prints `READY`, and waits to be killed.
#[test]
#[ignore = "entry point of the child process of `files_in_the_spool_of_a_killed_process_go_up_once`"]
fn upload_kill_child() {
    let dir = PathBuf::from(std::env::var("ASYNCLOG_UPLOAD_DIR").expect("run by the kill test"));
    let records: u64 = std::env::var("ASYNCLOG_UPLOAD_RECORDS")
        .unwrap()
        .parse()
        .unwrap();
    let bucket = Bucket {
        root: dir.join("bucket"),
    };
    let logger = logger(sink(&dir.join("spool"), bucket.upload()));
    log_range(&logger, 0..records);
    logger.flush().unwrap();
    wait_for("failed attempts", &logger, |s| s.failed_attempts >= 1);
    println!("READY");
    std::thread::sleep(Duration::from_secs(600));
}

#[test]
fn files_in_the_spool_of_a_killed_process_go_up_once() {
    let dir = tempfile::tempdir().unwrap();
    let bucket = Bucket::new(dir.path());
    bucket.down();
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--ignored", "--exact", "upload_kill_child", "--nocapture"])
        .env("ASYNCLOG_UPLOAD_DIR", dir.path())
        .env("ASYNCLOG_UPLOAD_RECORDS", "20000")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    loop {
        line.clear();
        let n = std::io::BufRead::read_line(&mut out, &mut line).unwrap();
        assert!(n > 0, "the child ended before it was ready");
        if line.trim() == "READY" {
            break;
        }
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let spool = dir.path().join("spool");
    let waiting = spool_files(&spool, ".parquet");
    assert!(waiting.len() >= 2, "finished files wait: {waiting:?}");
    assert_eq!(
        spool_files(&spool, ".parquet.journal").len(),
        1,
        "and the open file's journal"
    );

    bucket.up();
    let logger = logger(sink(&spool, bucket.upload()));
    wait_for("the spool to empty", &logger, |s| s.spool_files == 0);
    logger.close().unwrap();
    assert_eq!(bucket.seqs(), (0..20_000).collect::<Vec<_>>());
    // A second start finds nothing more to send.
    let logger = self::logger(sink(&spool, bucket.upload()));
    logger.close().unwrap();
    assert_eq!(bucket.seqs().len(), 20_000);
}

/// `close_wait` bounds how long `close` waits for the store, an upload already in flight when
/// `close` begins included: a `PUT` the store has not answered must not hold `close` (and so
/// the logger's `close_timeout`) until the store's own timeout. The file stays in the spool for
/// the next sink.
#[test]
fn close_waits_no_longer_than_close_wait_for_an_upload_in_flight() {
    use asynclog::sinks::parquet::upload::object_store::memory::InMemory;
    use asynclog::sinks::parquet::upload::object_store::throttle::{
        ThrottleConfig, ThrottledStore,
    };
    use asynclog::sinks::Rotation;
    use asynclog::Sink;

    let dir = tempfile::tempdir().unwrap();
    let spool = dir.path().join("spool");
    let store = ThrottledStore::new(
        InMemory::new(),
        ThrottleConfig {
            wait_put_per_call: Duration::from_secs(20),
            ..ThrottleConfig::default()
        },
    );
    let left: Arc<Mutex<Vec<u64>>> = Arc::default();
    let seen = left.clone();
    let upload = UploadConfig::new(Arc::new(store), "slow-memory")
        .with_host("h1")
        .with_close_wait(Duration::from_millis(200))
        .with_on_event(move |_, event| {
            if let UploadEvent::LeftInSpool { files, .. } = event {
                seen.lock().unwrap().push(*files);
            }
        });
    let clock = common::ManualClock::new(1_795_780_800);
    let mut sink = ParquetSinkConfig::new(spool.join("app"))
        .with_rotation(Rotation::every(Duration::from_secs(60)))
        .with_clock(clock.clock())
        .with_upload(upload)
        .build()
        .unwrap();
    sink.write_batch(&common::batches::varied_batch(0, 100))
        .unwrap();
    clock.advance(61);
    sink.flush().unwrap(); // finishes the file; the upload thread starts its PUT
    std::thread::sleep(Duration::from_millis(500));

    let started = Instant::now();
    sink.close().unwrap();
    let took = started.elapsed();
    assert!(
        took < Duration::from_secs(5),
        "close took {took:?} with close_wait 200 ms"
    );
    assert_eq!(*left.lock().unwrap(), vec![1]);
    assert_eq!(spool_files(&spool, ".parquet").len(), 1);
}

/// A spool limit below the size of one file, under `DeleteOldest`: only older files make room.
/// The file just finished is the newest log and must go up, not be deleted unsent while the
/// store is up.
#[test]
fn delete_oldest_never_deletes_the_newest_file() {
    let dir = tempfile::tempdir().unwrap();
    let bucket = Bucket::new(dir.path());
    let spool = dir.path().join("spool");
    let upload = bucket
        .upload()
        .with_spool_limit(1)
        .with_when_spool_full(SpoolFull::DeleteOldest);
    let logger = logger(sink(&spool, upload));
    log_range(&logger, 0..300); // one file, finished by close
    logger.close().unwrap();
    let stats = upload_stats(&logger);
    assert_eq!(bucket.seqs(), (0..300).collect::<Vec<_>>(), "{stats:?}");
    assert_eq!(stats.evicted_files, 0, "{stats:?}");
}

/// Two sinks on one spool (a restarted service overlapping its old instance): the old one
/// finishes a file whose name sorts before one already uploaded. Uploading it must not move
/// the upload marker back, or a later sink hands out the uploaded name (and key) again and
/// overwrites that object in the store.
#[test]
fn a_late_file_with_an_older_name_does_not_let_an_uploaded_key_be_reused() {
    use asynclog::{ParquetSink, Sink};

    let dir = tempfile::tempdir().unwrap();
    let bucket = Bucket::new(dir.path());
    let spool = dir.path().join("spool");
    // Standing still: names differ by their counter only.
    let clock = common::ManualClock::new(1_795_780_800);
    let config = |upload: bool| {
        let config = ParquetSinkConfig::new(spool.join("app")).with_clock(clock.clock());
        if upload {
            config.with_upload(bucket.upload())
        } else {
            config
        }
    };
    let write = |sink: &mut ParquetSink, first: u64| {
        sink.write_batch(&common::batches::three_field_batch(first, 10))
            .unwrap();
    };
    let mut old = config(false).build().unwrap();
    write(&mut old, 0); // app_…_000, open
    let mut new = config(true).build().unwrap();
    write(&mut new, 10); // app_…_001
    new.close().unwrap(); // uploaded: the marker is app_…_001's
    old.close().unwrap(); // app_…_000 finished late
    let mut sender = config(true).build().unwrap();
    sender.close().unwrap(); // sends app_…_000
    let mut next = config(true).build().unwrap();
    write(&mut next, 20);
    next.close().unwrap();

    assert_eq!(spool_files(&spool, ".parquet"), Vec::<PathBuf>::new());
    let objects = bucket.objects();
    assert_eq!(objects.len(), 3, "{objects:?}");
    assert_eq!(bucket.seqs(), (0..30).collect::<Vec<_>>(), "{objects:?}");
}
