#![no_main]
//! See `asynclog_fuzz::checks::jsonl_reader` (tests/common/fuzz_checks.rs) for what this target checks.

libfuzzer_sys::fuzz_target!(|data: &[u8]| asynclog_fuzz::checks::jsonl_reader(data));
