//! A million records with fields, from several producer threads through a real Logger, into a
//! size-rotated Parquet sink: every record comes back exactly once, with equal content, each
//! producer's records in order, spread over at least four files.
#![cfg(feature = "parquet")]

use crate::parquet_common as common;

use asynclog::{Config, Logger, ParquetSinkConfig};
use simd_json::prelude::*;

const PRODUCERS: u64 = 4;
const PER_PRODUCER: u64 = 250_000;

#[test]
fn a_million_records_survive_rotation_in_order_without_loss_or_duplicates() {
    let dir = tempfile::tempdir().unwrap();
    let sink = ParquetSinkConfig::new(dir.path().join("million"))
        .with_max_bytes(1 << 20)
        .with_name("parquet") // as the stats below look it up
        .build()
        .unwrap();
    let mut config = Config::default();
    config.sinks.push(Box::new(sink));
    let logger = Logger::new(config).unwrap();
    std::thread::scope(|s| {
        for p in 0..PRODUCERS {
            let logger = &logger;
            s.spawn(move || {
                let symbol = format!("SYM{p}");
                for seq in 0..PER_PRODUCER {
                    asynclog::try_info!(
                        logger,
                        "order filled",
                        producer = p,
                        seq = seq,
                        price = seq as f64 * 0.25,
                        symbol = symbol.as_str()
                    )
                    .unwrap();
                    if seq.is_multiple_of(50_000) {
                        asynclog::try_warn!(logger, "checkpoint", producer = p, seq = seq).unwrap();
                    }
                }
            });
        }
    });
    logger.close().unwrap();
    let stats = logger.stats();
    assert_eq!(stats.sink("parquet").unwrap().failed_batches, 0);

    let files = common::parquet_files(dir.path());
    for f in &files {
        eprintln!(
            "{} {} bytes",
            f.display(),
            std::fs::metadata(f).unwrap().len()
        );
    }
    assert!(
        files.len() >= 4,
        "expected 3+ rotations, got {} files",
        files.len()
    );
    assert!(common::files_with_suffix(dir.path(), ".inprogress").is_empty());
    assert!(common::files_with_suffix(dir.path(), ".journal").is_empty());

    let rows = common::read_all(dir.path());
    let checkpoints = PER_PRODUCER.div_ceil(50_000);
    assert_eq!(rows.len() as u64, PRODUCERS * (PER_PRODUCER + checkpoints));

    let mut next_seq = vec![0u64; PRODUCERS as usize];
    let mut next_checkpoint = vec![0u64; PRODUCERS as usize];
    let mut thread_of = vec![None; PRODUCERS as usize];
    let mut last_ts = vec![i64::MIN; PRODUCERS as usize];
    for row in &rows {
        let fields =
            common::parse_json(row.fields_json.as_deref().expect("every record has fields"));
        let p = fields.get("producer").unwrap().as_u64().unwrap() as usize;
        let seq = fields.get("seq").unwrap().as_u64().unwrap();
        // One producer thread has one thread id; its timestamps never go back.
        assert_eq!(*thread_of[p].get_or_insert(row.thread_id), row.thread_id);
        assert!(row.timestamp_ns >= last_ts[p]);
        last_ts[p] = row.timestamp_ns;
        match row.message.as_str() {
            "order filled" => {
                assert_eq!(row.level, "INFO");
                assert_eq!(
                    seq, next_seq[p],
                    "producer {p} out of order, lost or duplicated"
                );
                next_seq[p] += 1;
                assert_eq!(
                    fields.get("price").unwrap().as_f64(),
                    Some(seq as f64 * 0.25)
                );
                assert_eq!(
                    fields.get("symbol").unwrap().as_str(),
                    Some(format!("SYM{p}").as_str())
                );
                assert_eq!(fields.as_object().unwrap().len(), 4);
            }
            "checkpoint" => {
                assert_eq!(row.level, "WARN");
                assert_eq!(seq, next_checkpoint[p] * 50_000);
                next_checkpoint[p] += 1;
            }
            other => panic!("unexpected message {other:?}"),
        }
    }
    assert_eq!(next_seq, vec![PER_PRODUCER; PRODUCERS as usize]);
    assert_eq!(next_checkpoint, vec![checkpoints; PRODUCERS as usize]);
}
