#![no_main]
//! See `asynclog_fuzz::checks::decode_garbage` (tests/common/fuzz_checks.rs) for what this target checks.

libfuzzer_sys::fuzz_target!(|data: &[u8]| asynclog_fuzz::checks::decode_garbage(data));
