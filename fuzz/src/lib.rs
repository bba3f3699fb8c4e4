//! The fuzz targets' checks. They live in the main crate's `tests/common/fuzz_checks.rs`, which
//! the corpus replay test (`tests/integration/fuzz_corpus_replay.rs`, run by `cargo test`) compiles
//! too, so the fuzzer and CI run the same code on the same corpus files.

#[path = "../../tests/common/fuzz_checks.rs"]
pub mod checks;
