//! Time rotation through a real `Logger`, with an injected clock: one rotation per period
//! boundary crossed (however many periods passed), rotated files named by their start and
//! holding exactly their period's records, retention by `max_files`, a reopened file from an
//! earlier period rotated on its first batch under its first record's time, and a file
//! reopened within the period it was written in kept going.

use crate::file_common;
use asynclog::sinks::file::{FileSinkConfig, ManualClock, Rotation};
use asynclog::{Batch, Config, Field, Level, Logger, Sink};
use file_common::*;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// 2026-11-27T12:30:00Z
const T0: u64 = 1_795_782_600;
const HOUR: u64 = 3600;

fn at(secs: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(secs)
}

fn file_for(dir: &Path, stamp: &str) -> PathBuf {
    dir.join(format!("app.{stamp}.log"))
}

fn seqs(path: &Path) -> Vec<u64> {
    let contents = asynclog::read_jsonl(path).unwrap_or_else(|e| panic!("{e}"));
    assert!(contents.bad_lines.is_empty() && contents.tail.torn.is_none());
    contents.records.iter().map(seq_of).collect()
}

fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    names
}

#[test]
fn hourly_rotation_follows_the_injected_clock() {
    let dir = Scratch::new("time-rotation");
    let path = dir.join("app.log");
    let clock = ManualClock::new(at(T0));
    let mut sink_config = FileSinkConfig::new(&path);
    sink_config.rotation = Rotation::HOURLY;
    sink_config.max_files = Some(2);
    sink_config.clock = Arc::new(clock.clone());
    let mut config = Config::default();
    config.sinks.push(Box::new(sink_config.build().unwrap()));
    let logger = Logger::new(config).unwrap();
    let mut seq = 0u64;
    let mut log = |count: u64| {
        for _ in 0..count {
            asynclog::try_info!(logger, "tick", seq = seq).unwrap();
            seq += 1;
        }
        // The worker writes (and reads the clock) before flush returns.
        logger.flush().unwrap();
    };

    log(10); // 12:30, seqs 0..10
    clock.set(at(T0 + HOUR / 2)); // 13:00:00 exactly: a new period
    log(5); // seqs 10..15
    clock.set(at(T0 + HOUR / 2 + HOUR - 1)); // 13:59:59: same period
    log(5); // seqs 15..20
    assert_eq!(
        listing(dir.path()),
        ["app.2026-11-27T12-30-00.000000.log", "app.log"]
    );
    assert_eq!(
        seqs(&file_for(dir.path(), "2026-11-27T12-30-00.000000")),
        (0..10).collect::<Vec<_>>()
    );

    clock.set(at(T0 + 3 * HOUR + 1200)); // 15:50: two boundaries passed, one rotation
    log(5); // seqs 20..25
    assert_eq!(
        seqs(&file_for(dir.path(), "2026-11-27T13-00-00.000000")),
        (10..20).collect::<Vec<_>>()
    );
    clock.set(at(T0 + 4 * HOUR)); // 16:30
    log(1); // seq 25
            // Retention (max_files = 2) removed the 12:30 file.
    assert_eq!(
        listing(dir.path()),
        [
            "app.2026-11-27T13-00-00.000000.log",
            "app.2026-11-27T15-00-00.000000.log",
            "app.log"
        ]
    );
    assert_eq!(
        seqs(&file_for(dir.path(), "2026-11-27T15-00-00.000000")),
        (20..25).collect::<Vec<_>>()
    );
    logger.close().unwrap();
    assert_eq!(seqs(&path), [25]);
}

#[test]
fn a_period_without_records_makes_no_empty_file() {
    let dir = Scratch::new("time-quiet");
    let path = dir.join("app.log");
    let clock = ManualClock::new(at(T0));
    let mut sink_config = FileSinkConfig::new(&path);
    sink_config.rotation = Rotation::every(Duration::from_secs(60));
    sink_config.clock = Arc::new(clock.clone());
    let mut config = Config::default();
    config.sinks.push(Box::new(sink_config.build().unwrap()));
    let logger = Logger::new(config).unwrap();
    clock.set(at(T0 + 600)); // ten minutes of silence
    asynclog::try_info!(logger, "late", seq = 0u64).unwrap();
    logger.flush().unwrap();
    clock.set(at(T0 + 630)); // same minute
    asynclog::try_info!(logger, "later", seq = 1u64).unwrap();
    logger.close().unwrap();
    assert_eq!(listing(dir.path()), ["app.log"]);
    assert_eq!(seqs(&path), [0, 1]);
}

#[test]
fn a_reopened_file_from_an_earlier_period_rotates_under_its_first_record_time() {
    let dir = Scratch::new("time-reopen");
    let path = dir.join("app.log");
    // First run: records stamped now (the logger's own clock), no rotation.
    let mut config = Config::default();
    config
        .sinks
        .push(Box::new(asynclog::FileSink::new(&path).unwrap()));
    let logger = Logger::new(config).unwrap();
    for seq in 0..3u64 {
        asynclog::try_info!(logger, "yesterday", seq = seq).unwrap();
    }
    logger.close().unwrap();
    let first_ts = asynclog::read_jsonl(&path).unwrap().records[0].timestamp_ns;

    // Second run, a day later by the injected clock, rotating daily.
    let clock = ManualClock::new(SystemTime::now() + Duration::from_secs(86_400));
    let mut sink_config = FileSinkConfig::new(&path);
    sink_config.rotation = Rotation::DAILY;
    sink_config.clock = Arc::new(clock);
    let mut config = Config::default();
    config.sinks.push(Box::new(sink_config.build().unwrap()));
    let logger = Logger::new(config).unwrap();
    asynclog::try_info!(logger, "today", seq = 3u64).unwrap();
    logger.close().unwrap();

    let text = asynclog::__private::rfc3339_nanos(first_ts);
    let stamp = String::from_utf8(text[..26].to_vec())
        .unwrap()
        .replace(':', "-");
    assert_eq!(seqs(&file_for(dir.path(), &stamp)), [0, 1, 2]);
    assert_eq!(seqs(&path), [3]);
}

#[test]
fn a_restart_within_the_period_keeps_appending_to_its_file() {
    let dir = Scratch::new("time-restart");
    let path = dir.join("app.log");
    let clock = ManualClock::new(at(T0));
    let sink = || {
        let mut config = FileSinkConfig::new(&path);
        config.rotation = Rotation::HOURLY;
        config.clock = Arc::new(clock.clone());
        config.build().unwrap()
    };
    let batch = |seqs: std::ops::Range<u64>, ts_secs: u64, ts_ms_before: i64| {
        let mut batch = Batch::new();
        let ns = (ts_secs * 1_000_000_000) as i64 - ts_ms_before * 1_000_000;
        for seq in seqs {
            batch
                .push(ns, Level::Info, 1, "tick", &[Field::new("seq", seq)])
                .unwrap();
        }
        batch
    };
    let top_of_hour = T0 + HOUR / 2; // 13:00:00
    let mut first = sink();
    first.write_batch(&batch(0..2, T0, 0)).unwrap(); // 12:30
    clock.set(at(top_of_hour) + Duration::from_millis(1));
    // Logged a millisecond before the boundary, written just after it: the first records of
    // the 13:00 file, as under any steady load.
    first.write_batch(&batch(2..4, top_of_hour, 1)).unwrap();
    first.write_batch(&batch(4..6, top_of_hour, 0)).unwrap();
    first.close().unwrap();
    assert_eq!(
        listing(dir.path()),
        ["app.2026-11-27T12-30-00.000000.log", "app.log"]
    );

    // A restart at 13:20, still in the period the active file was written in.
    clock.set(at(top_of_hour + 1200));
    let mut second = sink();
    second
        .write_batch(&batch(6..8, top_of_hour + 1200, 0))
        .unwrap();
    assert_eq!(
        second.rotations(),
        0,
        "no period ended since the file was written"
    );
    second.close().unwrap();
    assert_eq!(
        listing(dir.path()),
        ["app.2026-11-27T12-30-00.000000.log", "app.log"]
    );
    assert_eq!(seqs(&path), (2..8).collect::<Vec<_>>());
}
