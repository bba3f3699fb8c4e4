//! A message template (`info!(logger, "filled {qty} lots of {symbol}", qty = 5, symbol = "AAPL")`)
//! stays static and its values travel as typed fields: the human-readable console line renders it
//! as `format!` would, and JSON lines keep the template in `message` with the typed fields.

use asynclog::__private::write_human_line;
use asynclog::{Batch, FileSink, Logger, OwnedValue, Sink, SinkError};
use std::sync::{Arc, Mutex};

/// Formats every record as the console sink does (its line formatter, reached through the
/// crate's internals for tests), into a shared buffer.
struct HumanLines(Arc<Mutex<Vec<u8>>>);

impl Sink for HumanLines {
    fn name(&self) -> &str {
        "human lines"
    }

    fn write_batch(&mut self, batch: &Batch) -> Result<(), SinkError> {
        let mut out = self.0.lock().unwrap();
        for record in batch.iter() {
            write_human_line(&mut out, &record);
        }
        Ok(())
    }
}

/// A logger writing human-readable lines into the returned buffer and JSON lines to `path`.
fn logger_with_lines_and_file(path: &std::path::Path) -> (Logger, Arc<Mutex<Vec<u8>>>) {
    let lines = Arc::new(Mutex::new(Vec::new()));
    let config = asynclog::Config::default()
        .with_sink(HumanLines(lines.clone()))
        .with_sink(FileSink::new(path).unwrap());
    (Logger::new(config).unwrap(), lines)
}

/// The human lines written so far, each without its leading timestamp.
fn without_timestamps(lines: &Mutex<Vec<u8>>) -> Vec<String> {
    let text = String::from_utf8(lines.lock().unwrap().clone()).unwrap();
    (text.lines())
        .map(|line| line.split_once(' ').unwrap().1.to_owned())
        .collect()
}

#[test]
fn the_console_renders_templates_and_json_keeps_them() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.log");
    let (logger, lines) = logger_with_lines_and_file(&path);

    let symbol = String::from("AAPL");
    asynclog::info!(
        logger,
        "filled {qty} lots of {symbol} at {price:?}",
        qty = 5u64,
        symbol = &symbol,
        price = 101.0
    );
    asynclog::warn!(logger, "no template {here}", qty = 1u64);
    logger.close().unwrap();

    let text = without_timestamps(&lines);
    assert_eq!(
        text,
        [
            "INFO filled 5 lots of AAPL at 101.0 qty=5 symbol=AAPL price=101",
            "WARN no template {here} qty=1",
        ]
    );

    let records = asynclog::read_jsonl(&path).unwrap().records;
    assert_eq!(
        records[0].message,
        "filled {qty} lots of {symbol} at {price:?}"
    );
    assert_eq!(records[0].field("qty"), Some(&OwnedValue::I64(5)));
    assert_eq!(
        records[0].field("symbol"),
        Some(&OwnedValue::Str("AAPL".into()))
    );
    assert_eq!(records[0].field("price"), Some(&OwnedValue::F64(101.0)));
    assert_eq!(records[1].message, "no template {here}");
}

#[test]
fn positional_arguments_render_exactly_as_format_does() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.log");
    let (logger, lines) = logger_with_lines_and_file(&path);

    let (qty, symbol, price, ok) = (5u64, "AAPL", 101.0, true);
    asynclog::info!(logger, "filled {} lots of {} at {:?}", qty, symbol, price);
    asynclog::warn!(logger, "{1} before {0}, {{literal}}, {}", "a", -2i64);
    let outcome = asynclog::try_error!(logger, "accepted: {}", ok);
    assert!(outcome.is_ok());
    logger.close().unwrap();

    let text = String::from_utf8(lines.lock().unwrap().clone()).unwrap();
    let messages: Vec<&str> = text
        .lines()
        .map(|l| {
            // "TIMESTAMP LEVEL message k=v ...": the message ends where the first field begins.
            let rest = l.splitn(3, ' ').nth(2).unwrap();
            rest.split(" 0=").next().unwrap()
        })
        .collect();
    assert_eq!(
        messages,
        [
            format!("filled {} lots of {} at {:?}", qty, symbol, price),
            format!("{1} before {0}, {{literal}}, {}", "a", -2i64),
            format!("accepted: {}", ok),
        ]
    );

    // JSON lines keep the template, and the arguments as typed fields keyed by position.
    let records = asynclog::read_jsonl(&path).unwrap().records;
    assert_eq!(records[0].message, "filled {} lots of {} at {:?}");
    assert_eq!(records[0].field("0"), Some(&OwnedValue::I64(5)));
    assert_eq!(records[0].field("1"), Some(&OwnedValue::Str("AAPL".into())));
    assert_eq!(records[0].field("2"), Some(&OwnedValue::F64(101.0)));
    assert_eq!(records[2].field("0"), Some(&OwnedValue::Bool(true)));
}

#[test]
fn fatal_takes_positional_arguments_like_the_other_macros() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.log");
    let (logger, lines) = logger_with_lines_and_file(&path);

    asynclog::fatal!(logger, "gave up after {} tries on {}", 3u64, "AAPL");
    asynclog::try_fatal!(logger, "still {}", "down",).unwrap();
    logger.close().unwrap();

    let text = without_timestamps(&lines);
    assert_eq!(
        text,
        [
            "FATAL gave up after 3 tries on AAPL 0=3 1=AAPL",
            "FATAL still down 0=down",
        ]
    );
    let records = asynclog::read_jsonl(&path).unwrap().records;
    assert_eq!(records[0].message, "gave up after {} tries on {}");
    assert_eq!(records[0].field("0"), Some(&OwnedValue::I64(3)));
    assert_eq!(records[0].field("1"), Some(&OwnedValue::Str("AAPL".into())));
}

#[cfg(feature = "tracing")]
#[test]
fn the_console_writes_a_tracing_message_as_it_is() {
    use tracing_subscriber::layer::SubscriberExt;

    let dir = tempfile::tempdir().unwrap();
    let (logger, lines) = logger_with_lines_and_file(&dir.path().join("app.log"));
    let logger = std::sync::Arc::new(logger);
    let subscriber =
        tracing_subscriber::registry().with(asynclog::tracing::AsyncLogLayer::new(logger.clone()));
    tracing::subscriber::with_default(subscriber, || {
        tracing::info!(id = 7u64, "writing to {}", "logs/{id}.log");
    });
    // The same text through the logger's own API is a template.
    logger
        .log(
            asynclog::Level::Info,
            "writing to logs/{id}.log",
            &[asynclog::Field::new("id", 7u64)],
        )
        .unwrap();
    logger.close().unwrap();

    let text = without_timestamps(&lines);
    assert_eq!(text.len(), 2);
    assert!(
        text[0].starts_with("INFO writing to logs/{id}.log target="),
        "{}",
        text[0]
    );
    assert!(text[0].ends_with(" id=7"), "{}", text[0]);
    assert_eq!(text[1], "INFO writing to logs/7.log id=7");
}
