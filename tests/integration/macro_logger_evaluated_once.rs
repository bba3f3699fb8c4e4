//! The logging macros evaluate their `logger` argument once, like a function call would: an
//! expression with side effects (picking a logger from a pool, counting) runs once per call, and
//! the level check and the write go to the same logger.

use crate::common;
use asynclog::{try_info, Level, Logger};
use common::*;
use std::cell::Cell;

#[test]
fn the_logger_expression_is_evaluated_once() {
    let collector = Collector::default();
    let logger = Logger::new(config_with(&collector)).unwrap();
    let picks = Cell::new(0u32);
    let pick = || {
        picks.set(picks.get() + 1);
        &logger
    };
    try_info!(pick(), "literal", seq = 0u64).unwrap();
    assert_eq!(picks.get(), 1, "literal-message arm");
    let message = String::from("computed");
    asynclog::try_log!(pick(), Level::Info, message.as_str(), seq = 1u64).unwrap();
    assert_eq!(picks.get(), 2, "expression-message arm");
    logger.flush().unwrap();
    assert_eq!(collector.len(), 2);
}
