//! The complete example: default configuration, console and Parquet sinks used at once, every
//! level from debug to fatal with structured fields, a pre-built message, hooks that print what
//! they see, flush and close. Parquet files land in `logs/`; the example prints a DuckDB query.
//!
//! Run: `cargo run --release --example quickstart`

use asynclog::sinks::Rotation;
use asynclog::{
    debug, error, info, warn, Config, ConsoleSink, Field, Hooks, Level, LogMessage, Logger,
    OwnedValue, ParquetSinkConfig,
};
use std::time::SystemTime;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Default configuration (buffer_size 1000, max_workers 10, Block, 3 retries 100 ms apart,
    // flush every 5 s), a console sink on stdout, a Parquet sink in logs/, and hooks that report
    // to stderr.
    let mut config = Config::default();
    config.sinks.push(Box::new(ConsoleSink::new(false))); // false = stdout, true = stderr
    config.sinks.push(Box::new(
        ParquetSinkConfig::new("logs/app_data")
            .with_max_bytes(10 * 1024 * 1024) // 10 MB rotation
            .with_rotation(Rotation::HOURLY) // 1 hour rotation
            .build()?,
    ));
    config.hooks = Hooks::default()
        .on_message_dropped(|m| eprintln!("[hook] dropped: {} {}", m.level, m.message))
        .on_batch_written(|sink, count, took| {
            eprintln!("[hook] batch written: sink={sink} records={count} took={took:?}")
        })
        .on_batch_failed(|sink, count, err, attempts| {
            eprintln!("[hook] batch failed: sink={sink} records={count} attempts={attempts}: {err}")
        })
        .on_flush_completed(|total, took| {
            eprintln!("[hook] flush completed: records={total} took={took:?}")
        });
    let logger = Logger::new(config)?;

    // Structured logging: the macros are statements and take `key = value` pairs (a record
    // the logger cannot take is counted in the stats and reported to `on_message_dropped`)...
    info!(
        logger,
        "Hello, AsyncLog!",
        version = "1.0.0",
        user_id = 12345
    );
    debug!(logger, "cache lookup", key = "user:12345", hit = true);
    warn!(logger, "slow request", path = "/orders", latency_ms = 812.5);
    error!(
        logger,
        "payment declined",
        order_id = 42u64,
        code = Option::<i64>::None
    );

    // ...the methods take a slice of fields and return the call's outcome...
    logger.log(Level::Info, "Custom message", &[Field::new("key", "value")])?;

    // ...and a pre-built, owned message keeps its own timestamp.
    logger.log_message(&LogMessage {
        timestamp: SystemTime::now(),
        level: Level::Info,
        message: "Pre-built message".into(),
        fields: vec![("key".into(), OwnedValue::from("value"))],
    })?;

    // Many threads may log at once.
    std::thread::scope(|s| {
        for worker in 0..3u64 {
            let logger = &logger;
            s.spawn(move || info!(logger, "worker started", worker = worker));
        }
    });

    // Fatal logs, then flushes before returning (it does not exit).
    logger.fatal("Fatal message", &[Field::new("key", "value")])?;

    logger.flush()?;
    let stats = logger.stats();
    eprintln!(
        "[stats] buffered={} dropped={} delivered={} batches={}",
        stats.buffered, stats.dropped, stats.delivered, stats.batches
    );
    logger.close()?; // flushes what remains and closes every sink
    eprintln!(
        "[parquet] query the logs: duckdb -c \"SELECT level, count(*) FROM 'logs/app_data_*.parquet' GROUP BY level\""
    );
    Ok(())
}
