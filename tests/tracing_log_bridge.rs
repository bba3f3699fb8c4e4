//! `log` records bridged into `tracing` by `tracing-log` (what `tracing_subscriber`'s `init()`
//! installs) arrive through `AsyncLogLayer` with the `log` record's target and location, not
//! `tracing-log`'s, and its `log.*` fields are not repeated as fields. One test: the `log`
//! facade takes one logger per process.

#![cfg(feature = "tracing")]

mod common;

use asynclog::tracing::AsyncLogLayer;
use asynclog::{Level, Logger, OwnedValue};
use common::{config_with, levels_and_messages, owned_str, Collector};
use std::sync::Arc;
use tracing_subscriber::layer::SubscriberExt;

#[test]
fn bridged_log_records_keep_their_target_and_location() {
    tracing_log::LogTracer::init().unwrap();
    let collector = Collector::default();
    let logger = Arc::new(Logger::new(config_with(&collector)).unwrap());
    let subscriber = tracing_subscriber::registry().with(AsyncLogLayer::new(logger.clone()));
    let line = line!() + 2;
    tracing::subscriber::with_default(subscriber, || {
        log::info!("plain");
        log::warn!(target: "db", "slow query on {}", "{table}");
        tracing::info!(target: "native", n = 1u64, "from tracing");
        // Inside a span with fields: the bridged record takes the span's fields after its
        // location (the span path writes a general record).
        tracing::info_span!("request", request_id = 7u64).in_scope(|| log::info!("in span"));
    });
    logger.close().unwrap();

    let records = collector.records();
    let seen = levels_and_messages(&records);
    assert_eq!(
        seen,
        [
            (Level::Info, "plain"),
            (Level::Warn, "slow query on {table}"),
            (Level::Info, "from tracing"),
            (Level::Info, "in span"),
        ]
    );
    let fields = |i: usize| -> Vec<(&str, OwnedValue)> {
        (records[i].fields.iter())
            .map(|(k, v)| (k.as_str(), v.clone()))
            .collect()
    };
    let location = |target: &str, line: u32| {
        [
            ("target", owned_str(target)),
            ("module_path", owned_str(module_path!())),
            ("file", owned_str(file!())),
            ("line", OwnedValue::U64(line.into())),
        ]
    };
    assert_eq!(fields(0), location(module_path!(), line));
    assert_eq!(fields(1), location("db", line + 1));
    assert!(records[1].message_is_text);
    let mut native = location("native", line + 2).to_vec();
    native.push(("n", OwnedValue::U64(1)));
    assert_eq!(fields(2), native);
    let mut in_span = location(module_path!(), line + 5).to_vec();
    in_span.push(("request_id", OwnedValue::U64(7)));
    assert_eq!(fields(3), in_span);
    assert!(records[3].message_is_text);
}
