//! A million hostile records (control characters, quotes, non-BMP text, top-level names as
//! keys, duplicate keys, u64 above 2^53, NaN and infinities, random float bits) go through a
//! real `Logger` into a `FileSink` and come back through the reader equal, in order, with no
//! bad line and no tail.

use crate::file_common;
use asynclog::{Config, FileSink, JsonlReader, Logger};
use file_common::*;
use std::time::{Instant, SystemTime};

const RECORDS: u64 = 1_000_000;
const SEED: u64 = 0x5EED;

#[test]
fn a_million_hostile_records_come_back_equal() {
    let dir = Scratch::new("round-trip");
    let path = dir.join("logs/app.log");
    let mut config = Config::default();
    config.sinks.push(Box::new(FileSink::new(&path).unwrap()));
    let logger = Logger::new(config).unwrap();

    let wall_before = SystemTime::now();
    let started = Instant::now();
    let mut gen = Generator::new(SEED);
    for seq in 0..RECORDS {
        let (level, message, fields) = gen.record(seq);
        logger.log(level, &message, &borrowed(&fields)).unwrap();
    }
    logger.close().unwrap();
    let logged = started.elapsed();
    let wall_after = SystemTime::now();

    let stats = logger.stats();
    let sink = &stats.sinks[0];
    assert_eq!(sink.written_records, RECORDS);
    assert_eq!((sink.failed_batches, sink.retries), (0, 0));

    let started = Instant::now();
    let mut gen = Generator::new(SEED);
    let mut reader = JsonlReader::open(&path).unwrap();
    let mut seq = 0u64;
    let mut thread_id = None;
    for item in reader.by_ref() {
        let record = item.unwrap_or_else(|bad| panic!("{}: {bad}", path.display()));
        let (level, message, fields) = gen.record(seq);
        assert_eq!(seq_of(&record), seq, "records in logged order");
        assert_eq!(record.level, level, "record {seq}");
        assert_eq!(record.message, message, "record {seq}");
        assert_same_fields(seq, &record.fields, &expected_fields(&fields));
        assert_eq!(*thread_id.get_or_insert(record.thread_id), record.thread_id);
        let at = record.timestamp();
        assert!(
            at >= wall_before - std::time::Duration::from_secs(1)
                && at <= wall_after + std::time::Duration::from_secs(1),
            "record {seq} stamped {at:?}, outside the run"
        );
        seq += 1;
    }
    assert_eq!(seq, RECORDS, "every record came back");
    let tail = reader.finish().unwrap();
    assert_eq!(
        tail,
        asynclog::sinks::file::Tail::default(),
        "closed file has no tail"
    );
    eprintln!(
        "logged {RECORDS} records in {logged:?}, read them back in {:?} ({} bytes)",
        started.elapsed(),
        std::fs::metadata(&path).unwrap().len()
    );
}
