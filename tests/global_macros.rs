//! The global logger: the macros without a logger argument log nothing before `asynclog::init`,
//! write to the installed logger after it (every form, at every level, with typed fields), are
//! refused and counted once its guard has dropped; `init` refuses a second logger while a guard
//! is alive and installs a new one after. One test: the global logger is per process.

#![deny(warnings)]

mod common;

use asynclog::{
    debug, error, fatal, info, log, trace, try_fatal, try_info, try_log, warn, Error, Level,
    LogError, OwnedValue,
};
use common::{config_with, levels_and_messages, Collector};

#[test]
fn global_macros_before_during_and_after_the_guard() {
    // Before init: nothing is logged, counted or panicked; the try_ forms say why.
    info!("before init", n = 1u64);
    assert!(matches!(
        try_info!("before init", n = 1u64),
        Err(LogError::NotInitialized)
    ));
    assert!(matches!(
        try_fatal!("before init"),
        Err(LogError::NotInitialized)
    ));
    assert!(asynclog::global().is_none());
    assert!(matches!(
        asynclog::flush_global(),
        Err(Error::NotInitialized)
    ));

    let collector = Collector::default();
    let guard = asynclog::init(config_with(&collector)).unwrap();
    assert!(matches!(
        asynclog::init(asynclog::Config::default()),
        Err(Error::AlreadyInitialized)
    ));

    let symbol = String::from("AAPL");
    trace!("t", n = 1u64);
    debug!("d", n = 2i64);
    info!("i", price = 101.25, symbol = &symbol);
    warn!("w", ok = true);
    error!("e");
    log!(Level::Warn, "l", n = 6u64,);
    try_log!(Level::Info, "tl", n = 7u64).unwrap();
    fatal!("f", n = 8u64); // logs, then flushes: everything above has arrived
    let records = collector.records();
    let seen = levels_and_messages(&records);
    assert_eq!(
        seen,
        [
            (Level::Trace, "t"),
            (Level::Debug, "d"),
            (Level::Info, "i"),
            (Level::Warn, "w"),
            (Level::Error, "e"),
            (Level::Warn, "l"),
            (Level::Info, "tl"),
            (Level::Fatal, "f"),
        ]
    );
    assert_eq!(records[1].field("n"), Some(&OwnedValue::I64(2)));
    assert_eq!(records[2].field("price"), Some(&OwnedValue::F64(101.25)));
    assert_eq!(
        records[2].field("symbol"),
        Some(&OwnedValue::Str("AAPL".into()))
    );
    assert_eq!(records[3].field("ok"), Some(&OwnedValue::Bool(true)));

    // The level filter applies as with a Logger.
    guard.logger().set_min_level(Level::Info);
    debug!("filtered");
    try_log!(Level::Debug, "filtered").unwrap();
    asynclog::flush_global().unwrap();
    assert_eq!(collector.len(), 8);

    // After the guard: refused, counted, and a new logger may be installed.
    let logger = guard.logger();
    drop(guard);
    info!("after close");
    assert!(matches!(try_info!("after close"), Err(LogError::Closed)));
    assert_eq!(logger.stats().refused, 2);
    assert_eq!(logger.stats().delivered, 8);
    assert_eq!(collector.len(), 8);

    let second = Collector::default();
    let guard = asynclog::init(config_with(&second)).unwrap();
    info!("second logger");
    // Positional arguments, keyed by index, with the global logger too.
    info!("filled {} lots of {}", 5u64, &symbol);
    // `fatal!` takes them too.
    fatal!("gave up after {} tries", 3u64);
    guard.close().unwrap();
    let records = second.records();
    assert_eq!(records[0].message, "second logger");
    assert_eq!(records[1].message, "filled {} lots of {}");
    assert_eq!(records[1].field("0"), Some(&OwnedValue::U64(5)));
    assert_eq!(records[1].field("1"), Some(&OwnedValue::Str("AAPL".into())));
    assert_eq!(records[2].level, Level::Fatal);
    assert_eq!(records[2].message, "gave up after {} tries");
    assert_eq!(records[2].field("0"), Some(&OwnedValue::U64(3)));
}
