//! The `tracing` layer and the `log` backend in their global form write to the logger of
//! `asynclog::init`, beside the global macros: nothing before `init` (no panic, nothing counted),
//! every event while its guard lives, refused and counted after. One test: the global logger and
//! the `log` facade are per process.

#![cfg(all(feature = "tracing", feature = "log"))]

mod common;

use asynclog::tracing::AsyncLogLayer;
use asynclog::{Level, OwnedValue};
use common::{config_with, Collector};
use tracing_subscriber::layer::SubscriberExt;

#[test]
fn tracing_log_and_the_macros_share_the_global_logger() {
    asynclog::log_compat::init(log::LevelFilter::Trace).unwrap();
    let subscriber = tracing_subscriber::registry().with(AsyncLogLayer::global());
    let _tracing = tracing::subscriber::set_default(subscriber);

    // Before init: ignored.
    tracing::info!("too early");
    log::info!("too early");
    assert!(!log::log_enabled!(log::Level::Error), "no logger: disabled");

    let collector = Collector::default();
    let guard = asynclog::init(config_with(&collector)).unwrap();
    tracing::warn!(n = 1u64, "from tracing");
    log::error!(n = 2u64; "from log");
    asynclog::info!("from the macro", n = 3u64);
    asynclog::flush_global().unwrap();
    let records = collector.records();
    let seen: Vec<(Level, &str, Option<&OwnedValue>)> = records
        .iter()
        .map(|r| (r.level, r.message.as_str(), r.field("n")))
        .collect();
    assert_eq!(
        seen,
        [
            (Level::Warn, "from tracing", Some(&OwnedValue::U64(1))),
            (Level::Error, "from log", Some(&OwnedValue::U64(2))),
            (Level::Info, "from the macro", Some(&OwnedValue::U64(3))),
        ]
    );

    // After the guard: refused and counted.
    let logger = guard.logger();
    drop(guard);
    tracing::info!("too late");
    log::info!("too late");
    assert_eq!(logger.stats().refused, 2);
    assert_eq!(collector.len(), 3);
}
