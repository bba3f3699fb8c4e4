//! A full disk: the file sink's write fails (the chunk it needs cannot be allocated), the worker
//! retries and then reports `on_batch_failed`, the logger keeps running, no record already in
//! the file is damaged, no partial record appears, and writing resumes once there is room.
//! Each `flush` fails, naming the sink, exactly when a batch was lost since the previous one.
//!
//! Two ways to fill the disk, each in a child process (this binary again):
//! - a 1 MiB tmpfs mounted in a private mount namespace: real `ENOSPC` (needs CAP_SYS_ADMIN;
//!   skipped with a note where it cannot be mounted);
//! - `RLIMIT_FSIZE`, which makes the same allocation fail with `EFBIG` anywhere.

mod file_common;
use asynclog::sinks::file::FileSinkConfig;
use asynclog::{Config, Error, Hooks, Logger, OwnedValue, SinkError};
use file_common::*;
use std::ffi::CString;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::Duration;

const MODE: &str = "ASYNCLOG_DISK_FULL_MODE";
const DIR: &str = "ASYNCLOG_DISK_FULL_DIR";
/// Exit code of a child that could not set up its full disk.
const CANNOT_SET_UP: i32 = 77;
const MAX_RETRIES: u32 = 2;
const PER_FLUSH: u64 = 50;

#[derive(Debug, Clone)]
struct Failure {
    records: usize,
    attempts: u32,
    errno: Option<i32>,
    message: String,
}

/// Logs until writes fail, keeps logging, makes room, logs more; checks everything.
fn scenario(dir: &Path, expected_errno: i32, make_room: impl FnOnce()) {
    let path = dir.join("logs/app.log");
    let failures: Arc<Mutex<Vec<Failure>>> = Arc::default();
    let seen = failures.clone();
    let hooks = Hooks::default().on_batch_failed(move |_sink, records, error, attempts| {
        let errno = match error {
            SinkError::Io { source, .. } => source.raw_os_error(),
            _ => None,
        };
        seen.lock().unwrap().push(Failure {
            records,
            attempts,
            errno,
            message: error.to_string(),
        });
    });
    let mut config = Config::default()
        .with_max_retries(MAX_RETRIES)
        .with_retry_delay(Duration::from_millis(1))
        .with_hooks(hooks);
    let mut sink = FileSinkConfig::new(&path);
    sink.chunk_size = 64 * 1024;
    config.sinks.push(Box::new(sink.build().unwrap()));
    let logger = Logger::new(config).unwrap();
    let payload = "x".repeat(300);

    let mut seq = 0u64;
    let sink_name = format!("file:{}", path.display());
    let mut log_and_flush = |count: u64| {
        let failed_before = failures.lock().unwrap().len();
        for _ in 0..count {
            // A log call never sees the sink's trouble: it only queues the record.
            asynclog::try_info!(logger, "filling", seq = seq, payload = payload.as_str()).unwrap();
            seq += 1;
        }
        let flushed = logger.flush();
        // `on_batch_failed` fires before the flush that reports the batch returns.
        let lost = failures.lock().unwrap().len() > failed_before;
        match flushed {
            Ok(()) => assert!(!lost, "flush returned Ok after a batch was lost"),
            Err(Error::Sink { sink, .. }) if lost => assert_eq!(sink, sink_name),
            Err(other) => panic!("flush: {other:?} (a batch lost: {lost})"),
        }
        seq
    };
    // Phase 1: until the disk is full. Everything flushed before the first failure is safe.
    let mut safe_upto = 0;
    while failures.lock().unwrap().is_empty() {
        let logged = log_and_flush(PER_FLUSH);
        assert!(logged < 100_000, "the disk never filled up");
        if failures.lock().unwrap().is_empty() {
            safe_upto = logged;
        }
    }
    // Phase 2: the logger keeps running while the disk stays full.
    log_and_flush(PER_FLUSH);
    let failed_while_full = failures.lock().unwrap().len();
    // Phase 3: room again; these records must all arrive.
    make_room();
    let resumed_from = log_and_flush(0);
    let total = log_and_flush(PER_FLUSH);
    logger.close().unwrap();

    let failures = failures.lock().unwrap().clone();
    assert_eq!(
        failures.len(),
        failed_while_full,
        "no failure after room was made"
    );
    let stats = logger.stats();
    let sink_stats = &stats.sinks[0];
    let failed_records: usize = failures.iter().map(|f| f.records).sum();
    assert_eq!(sink_stats.failed_batches as usize, failures.len());
    assert_eq!(sink_stats.failed_records as usize, failed_records);
    assert!(sink_stats.retries >= u64::from(MAX_RETRIES) * failures.len() as u64);
    for failure in &failures {
        assert_eq!(failure.attempts, MAX_RETRIES + 1, "{failure:?}");
        assert_eq!(failure.errno, Some(expected_errno), "{failure:?}");
        assert!(
            failure.message.contains(&path.display().to_string()),
            "the error names the file: {}",
            failure.message
        );
    }

    let contents = asynclog::read_jsonl(&path).unwrap();
    assert!(contents.bad_lines.is_empty(), "{:?}", contents.bad_lines);
    assert_eq!(contents.tail.torn, None, "no partial record");
    let seqs: Vec<u64> = contents
        .records
        .iter()
        .map(|r| match r.field("seq") {
            Some(OwnedValue::I64(s)) => *s as u64,
            other => panic!("{other:?}"),
        })
        .collect();
    assert!(
        seqs.windows(2).all(|w| w[0] < w[1]),
        "in order, no duplicates"
    );
    assert_eq!(
        &seqs[..safe_upto as usize],
        (0..safe_upto).collect::<Vec<_>>(),
        "every record written before the disk filled is intact"
    );
    assert_eq!(
        seqs.len() + failed_records,
        total as usize,
        "each record is either in the file or in a failed batch"
    );
    assert!(
        (resumed_from..total).all(|s| seqs.binary_search(&s).is_ok()),
        "records logged after room was made are all written"
    );
    println!(
        "disk full: {} failed batches ({failed_records} records), {} records kept, first failure: {}",
        failures.len(),
        seqs.len(),
        failures[0].message
    );
}

fn cstr(s: &str) -> CString {
    CString::new(s).unwrap()
}

/// The child: sets up its full disk, runs the scenario.
#[test]
#[ignore = "helper process for the disk-full tests; returns at once when run directly"]
fn disk_full_child() {
    let (Ok(mode), Ok(dir)) = (std::env::var(MODE), std::env::var(DIR)) else {
        return;
    };
    let dir = PathBuf::from(dir);
    match mode.as_str() {
        "tmpfs" => {
            // SAFETY (test code): unshare and mount take flags and NUL-terminated strings that
            // outlive the calls. The new mount namespace is this thread's (and the threads it
            // starts: the logger's), so the tmpfs is invisible to everyone else and disappears
            // with the process.
            let target = cstr(dir.to_str().unwrap());
            let ok = unsafe {
                libc::unshare(libc::CLONE_NEWNS) == 0
                    && libc::mount(
                        std::ptr::null(),
                        cstr("/").as_ptr(),
                        std::ptr::null(),
                        libc::MS_REC | libc::MS_PRIVATE,
                        std::ptr::null(),
                    ) == 0
                    && libc::mount(
                        cstr("tmpfs").as_ptr(),
                        target.as_ptr(),
                        cstr("tmpfs").as_ptr(),
                        0,
                        cstr("size=1m").as_ptr().cast(),
                    ) == 0
            };
            if !ok {
                eprintln!("cannot mount a tmpfs: {}", std::io::Error::last_os_error());
                std::process::exit(CANNOT_SET_UP);
            }
            let filler = dir.join("filler");
            std::fs::write(&filler, vec![1u8; 512 * 1024]).unwrap();
            scenario(&dir, libc::ENOSPC, || {
                std::fs::remove_file(&filler).unwrap()
            });
        }
        "rlimit" => {
            let limit = |bytes| libc::rlimit {
                rlim_cur: bytes,
                rlim_max: libc::RLIM_INFINITY,
            };
            // SAFETY (test code): signal and setrlimit take plain values / a pointer to a local.
            unsafe {
                libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
                assert_eq!(libc::setrlimit(libc::RLIMIT_FSIZE, &limit(512 * 1024)), 0);
            }
            scenario(&dir, libc::EFBIG, || {
                // SAFETY (test code): as above.
                let rc =
                    unsafe { libc::setrlimit(libc::RLIMIT_FSIZE, &limit(libc::RLIM_INFINITY)) };
                assert_eq!(rc, 0);
            });
        }
        other => panic!("unknown mode {other}"),
    }
}

/// Runs the child in `mode`; `None` if it could not set up its full disk.
fn run_child(mode: &str) -> Option<String> {
    let dir = Scratch::new(&format!("disk-full-{mode}"));
    let output = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "disk_full_child",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(MODE, mode)
        .env(DIR, dir.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr);
    if output.status.code() == Some(CANNOT_SET_UP) {
        eprintln!("{mode}: skipped: {stderr}");
        return None;
    }
    assert!(
        output.status.success(),
        "{mode} child failed ({}):\n{stdout}\n{stderr}",
        output.status
    );
    // libtest prints `test disk_full_child ... ` on the same line first.
    let report = stdout
        .lines()
        .find_map(|l| l.find("disk full:").map(|at| l[at..].to_owned()))
        .unwrap_or_else(|| panic!("{mode} child ran no scenario:\n{stdout}\n{stderr}"));
    eprintln!("{mode}: {report}");
    Some(report)
}

#[test]
fn full_tmpfs_fails_batches_cleanly_and_recovers() {
    if let Some(report) = run_child("tmpfs") {
        assert!(report.contains("No space left on device"), "{report}");
    }
}

#[test]
fn file_size_limit_fails_batches_cleanly_and_recovers() {
    let report = run_child("rlimit").expect("RLIMIT_FSIZE can always be lowered");
    assert!(report.contains("File too large"), "{report}");
}
