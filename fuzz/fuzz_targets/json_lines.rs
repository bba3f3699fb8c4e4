#![no_main]
//! See `asynclog_fuzz::checks::json_lines` (tests/common/fuzz_checks.rs) for what this target checks.

libfuzzer_sys::fuzz_target!(|data: &[u8]| asynclog_fuzz::checks::json_lines(data));
