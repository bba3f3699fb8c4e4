//! Writes a JSON-lines file full of hostile content through a real `Logger` and `FileSink`,
//! for readers we did not write to validate (`.ci/checks/jsonl_python.sh` uses Python's `json`).
//!
//! `cargo run --example write_nasty_jsonl -- <path> [records]`: first one sentinel record whose
//! exact content the checker knows, then `records` (default 100000) generated ones.

#[path = "../tests/file_common/mod.rs"]
mod file_common;

use asynclog::{Config, Field, FileSink, Level, Logger, Value};
use file_common::{borrowed, Generator};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let path = args
        .next()
        .ok_or("usage: write_nasty_jsonl <path> [records]")?;
    let records: u64 = args.next().map_or(Ok(100_000), |n| n.parse())?;
    let _ = std::fs::remove_file(&path);

    let mut config = Config::default();
    config.sinks.push(Box::new(FileSink::new(&path)?));
    let logger = Logger::new(config)?;

    let controls: String = (0u8..0x20).map(char::from).collect();
    logger.log(
        Level::Error,
        &controls,
        &[
            Field::new("seq", 0u64),
            Field::new("u64_max", u64::MAX),
            Field::new("above_2_53", (1u64 << 53) + 1),
            Field::new("i64_min", i64::MIN),
            Field::new("nan", f64::NAN),
            Field::new("inf", f64::INFINITY),
            Field::new("ninf", f64::NEG_INFINITY),
            Field::new("neg_zero", -0.0),
            Field::new("tenth", 0.1),
            Field::new("big", 1e21),
            Field::new("tiny", 5e-324),
            Field::new("dup", 1u64),
            Field::new("message", "nested, not the message"),
            Field::new("dup", 2u64),
            Field::new("emoji", "😀\u{10FFFF}"),
            Field::new("quote", "\"\\/"),
            Field::new("empty", ""),
            Field::new("none", Value::Null),
        ],
    )?;
    let mut gen = Generator::new(2026);
    for seq in 1..=records {
        let (level, message, fields) = gen.record(seq);
        logger.log(level, &message, &borrowed(&fields))?;
    }
    logger.close()?;
    println!("{path}: {} records", records + 1);
    Ok(())
}
