//! Writes logs as Parquet and prints how to query them.
//!
//! `cargo run --example parquet_demo -- [DIR] [RECORDS]` logs RECORDS records (default 100000)
//! from four threads into `DIR/demo_*.parquet` (default `logs/`), rotating every 256 KiB, then
//! prints the level counts it logged as one `EXPECT {...}` JSON line (the CI reader check
//! compares DuckDB's and pyarrow's counts with it) and a DuckDB one-liner.

use asynclog::{Config, Level, Logger, ParquetSink, ParquetSinkConfig};
use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let dir = PathBuf::from(args.next().unwrap_or_else(|| "logs".into()));
    let records: u64 = args.next().map_or(Ok(100_000), |n| n.parse())?;

    let sink = ParquetSink::with_config(
        ParquetSinkConfig::new(dir.join("demo")).with_max_bytes(256 << 10),
    )?;
    for recovery in sink.recoveries() {
        eprintln!("recovered a crashed run: {recovery:?}");
    }
    let mut config = Config::default();
    config.sinks.push(Box::new(sink));
    let logger = Logger::new(config)?;

    const THREADS: u64 = 4;
    std::thread::scope(|s| {
        for t in 0..THREADS {
            let logger = &logger;
            s.spawn(move || {
                for i in (t..records).step_by(THREADS as usize) {
                    let level = level_of(i);
                    match i % 5 {
                        // Some records carry no fields: their fields_json is null.
                        0 => logger.log(level, "heartbeat", &[]),
                        1 => asynclog::try_log!(
                            logger,
                            level,
                            "order filled",
                            order_id = i,
                            price = 100.0 + (i % 1000) as f64 / 8.0,
                            symbol = "AAPL"
                        ),
                        2 => asynclog::try_log!(
                            logger,
                            level,
                            "quote",
                            bid = 99.5,
                            ask = f64::NAN,
                            venue = "X\"Y\nZ"
                        ),
                        3 => asynclog::try_log!(
                            logger,
                            level,
                            "user login",
                            user = "ünïcode ✓",
                            admin = i.is_multiple_of(2),
                            big = u64::MAX
                        ),
                        _ => asynclog::try_log!(
                            logger,
                            level,
                            "slow request",
                            latency_us = -(i as i64),
                            path = "/api/v1/orders"
                        ),
                    }
                    .expect("logged");
                }
            });
        }
    });
    logger.close()?;

    let mut counts = [0u64; 6];
    for i in 0..records {
        counts[level_of(i) as usize] += 1;
    }
    let expect: Vec<String> = Level::ALL
        .iter()
        .map(|l| format!("\"{}\":{}", l.as_str(), counts[*l as usize]))
        .collect();
    println!(
        "EXPECT {{\"rows\":{records},\"levels\":{{{}}}}}",
        expect.join(",")
    );
    println!(
        "query it: duckdb -c \"SELECT level, count(*) FROM '{}/*.parquet' GROUP BY level ORDER BY level\"",
        dir.display()
    );
    Ok(())
}

/// A fixed, uneven mix of levels.
fn level_of(i: u64) -> Level {
    match i % 20 {
        0 => Level::Error,
        1 | 2 => Level::Warn,
        3..=5 => Level::Debug,
        6 => Level::Trace,
        _ if i % 1000 == 999 => Level::Fatal,
        _ => Level::Info,
    }
}
