//! `log` records through `asynclog::log_compat` arrive in a sink with their level, message,
//! target, location and key-values as typed fields: integers, floats, bools and strings typed,
//! `:%` and `:?` values as their `Display` and `Debug` text. One test: the `log` facade takes one
//! logger per process.

#![cfg(feature = "log")]

use crate::common;

use asynclog::{Level, Logger, OwnedValue};
use common::{config_with, levels_and_messages, owned_str, Collector, Order};
use std::sync::Arc;

#[test]
fn log_records_arrive_with_level_message_target_and_typed_fields() {
    let collector = Collector::default();
    let logger = Arc::new(Logger::new(config_with(&collector)).unwrap());
    asynclog::log_compat::init_with(logger.clone(), log::LevelFilter::Trace).unwrap();

    log::trace!("t");
    log::debug!("d");
    log::info!("i");
    log::warn!("w");
    log::error!("e");

    let order = Order { id: 7 };
    let symbol = String::from("AAPL");
    let line = line!() + 1;
    log::warn!(target: "fills", qty = 5u64, delta = -3i64, price = 101.25, ok = true, symbol = symbol.as_str(), shown:% = order, debugged:? = order; "filled {} lots of {}", 5, symbol);

    // The logger's own level applies too.
    logger.set_min_level(Level::Info);
    log::debug!("filtered");
    assert!(!log::log_enabled!(log::Level::Debug));
    log::logger().flush();
    logger.close().unwrap();

    let records = collector.records();
    // `log` formats the message before the logger sees it: the console writes it as it is.
    assert!(records.iter().all(|r| r.message_is_text));
    let seen = levels_and_messages(&records);
    assert_eq!(
        seen,
        [
            (Level::Trace, "t"),
            (Level::Debug, "d"),
            (Level::Info, "i"),
            (Level::Warn, "w"),
            (Level::Error, "e"),
            (Level::Warn, "filled 5 lots of AAPL"),
        ]
    );
    assert_eq!(records[0].field("target"), Some(&owned_str(module_path!())));
    let fields: Vec<(&str, OwnedValue)> = records[5]
        .fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.clone()))
        .collect();
    assert_eq!(
        fields,
        [
            ("target", owned_str("fills")),
            ("module_path", owned_str(module_path!())),
            ("file", owned_str(file!())),
            ("line", OwnedValue::U64(line.into())),
            ("qty", OwnedValue::U64(5)),
            ("delta", OwnedValue::I64(-3)),
            ("price", OwnedValue::F64(101.25)),
            ("ok", OwnedValue::Bool(true)),
            ("symbol", owned_str("AAPL")),
            ("shown", owned_str("order #7")),
            ("debugged", owned_str("Order { id: 7 }")),
        ]
    );
}
