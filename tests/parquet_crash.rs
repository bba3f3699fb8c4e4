//! SIGKILL at random moments: a child process logs continuously to a Parquet sink (two producer
//! threads, small size rotation, a flush every few milliseconds) and is killed. A new
//! `ParquetSink` on the same path must recover the journal; then every `*.parquet` file reads,
//! and each producer's rows are exactly its records `0..n` in order, with `n` at least what the
//! last returned flush covered.
//!
//! The child is this test binary itself, re-run with `ASYNCLOG_CRASH_DIR` set on the ignored
//! `crash_child` entry point.
#![cfg(feature = "parquet")]

#[path = "parquet_common/mod.rs"]
mod common;

use asynclog::sinks::parquet::RecoveryOutcome;
use asynclog::{Config, Logger, ParquetSink, ParquetSinkConfig};
use simd_json::prelude::*;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime};

const RUNS: usize = 24;
const PRODUCERS: usize = 2;

fn sink_config(dir: &Path) -> ParquetSinkConfig {
    ParquetSinkConfig::new(dir.join("crash"))
        .with_max_bytes(256 * 1024)
        .with_row_group_rows(4096)
}

/// The child: logs until killed, printing `F n0 n1` after every flush that returned `Ok`, where
/// `np` records of producer `p` were logged before that flush was called.
#[test]
#[ignore = "entry point of the child process of `sigkill_at_random_moments_loses_nothing_flushed`"]
fn crash_child() {
    let dir = std::env::var("ASYNCLOG_CRASH_DIR").expect("run by the crash test");
    let mut config = Config::default();
    config.sinks.push(Box::new(
        ParquetSink::with_config(sink_config(Path::new(&dir))).unwrap(),
    ));
    let logger = Logger::new(config).unwrap();
    let logged: Vec<AtomicU64> = (0..PRODUCERS).map(|_| AtomicU64::new(0)).collect();
    std::thread::scope(|s| {
        for (p, count) in logged.iter().enumerate() {
            let logger = &logger;
            s.spawn(move || {
                for seq in 0u64.. {
                    asynclog::try_info!(
                        logger,
                        "tick",
                        p = p as u64,
                        seq = seq,
                        pad = "some text to make rows wider"
                    )
                    .unwrap();
                    // Release: a reader that sees `seq + 1` sees the log call as returned.
                    count.store(seq + 1, Ordering::Release);
                }
            });
        }
        loop {
            std::thread::sleep(Duration::from_millis(3));
            let covered: Vec<u64> = logged.iter().map(|c| c.load(Ordering::Acquire)).collect();
            logger.flush().unwrap();
            println!("F {} {}", covered[0], covered[1]);
        }
    });
}

/// A small xorshift generator; the seed is printed so a failing run can be repeated.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

#[test]
fn sigkill_at_random_moments_loses_nothing_flushed() {
    let seed = std::env::var("ASYNCLOG_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            SystemTime::now()
                .duration_since(SystemTime::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
                | 1
        });
    eprintln!("crash test seed {seed} (set ASYNCLOG_CRASH_SEED to repeat)");
    let mut rng = Rng(seed);
    let exe = std::env::current_exe().unwrap();
    let (mut rebuilt, mut files_total, mut flushed_runs) = (0, 0, 0);
    for run in 0..RUNS {
        let dir = tempfile::tempdir().unwrap();
        let mut child = Command::new(&exe)
            .args([
                "crash_child",
                "--exact",
                "--ignored",
                "--nocapture",
                "--test-threads=1",
            ])
            .env("ASYNCLOG_CRASH_DIR", dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let reader = std::thread::spawn(move || {
            BufReader::new(stdout)
                .lines()
                .map_while(Result::ok)
                .filter(|l| l.starts_with("F "))
                .collect::<Vec<String>>()
        });
        // Kill somewhere between start-up and a few rotations in.
        let delay = Duration::from_millis(40 + rng.next() % 460);
        let started = Instant::now();
        std::thread::sleep(delay);
        assert!(
            child.try_wait().unwrap().is_none(),
            "run {run}: the child exited by itself"
        );
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        let lines = reader.join().unwrap();
        let covered: Vec<u64> = match lines.last() {
            Some(line) => line[2..].split(' ').map(|n| n.parse().unwrap()).collect(),
            None => vec![0; PRODUCERS],
        };
        if !lines.is_empty() {
            flushed_runs += 1;
        }

        let sink = ParquetSink::with_config(sink_config(dir.path())).unwrap();
        for recovery in sink.recoveries() {
            assert!(
                matches!(
                    recovery.outcome,
                    RecoveryOutcome::Rebuilt
                        | RecoveryOutcome::AlreadyFinished
                        | RecoveryOutcome::Empty
                ),
                "run {run}: {recovery:?}"
            );
            assert_eq!(recovery.damage, None, "run {run}");
            if recovery.outcome == RecoveryOutcome::Rebuilt {
                rebuilt += 1;
            }
        }
        drop(sink);
        assert!(
            common::files_with_suffix(dir.path(), ".journal").is_empty(),
            "run {run}"
        );
        assert!(
            common::files_with_suffix(dir.path(), ".inprogress").is_empty(),
            "run {run}"
        );

        let files = common::parquet_files(dir.path());
        files_total += files.len();
        let mut next = vec![0u64; PRODUCERS];
        for row in common::read_all(dir.path()) {
            let fields = common::parse_json(row.fields_json.as_deref().unwrap());
            let p = fields.get("p").unwrap().as_u64().unwrap() as usize;
            let seq = fields.get("seq").unwrap().as_u64().unwrap();
            assert_eq!(
                seq, next[p],
                "run {run}: producer {p} has a gap, a duplicate or disorder"
            );
            next[p] += 1;
        }
        for p in 0..PRODUCERS {
            assert!(
                next[p] >= covered[p],
                "run {run}: producer {p} has {} rows but a returned flush covered {}",
                next[p],
                covered[p]
            );
        }
        eprintln!(
            "run {run}: killed after {:?}, {} files, rows {next:?}, flush covered {covered:?}",
            started.elapsed(),
            files.len()
        );
    }
    // The runs must have exercised what they claim to: flushes before the kill, rebuilt
    // journals, and rotations.
    assert!(
        flushed_runs >= RUNS / 2,
        "only {flushed_runs} runs flushed before the kill"
    );
    assert!(rebuilt >= RUNS / 2, "only {rebuilt} journals rebuilt");
    assert!(
        files_total > RUNS + RUNS / 2,
        "only {files_total} files in {RUNS} runs"
    );
}
