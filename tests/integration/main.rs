//! The integration tests that can share a process, built as one test binary: one link instead
//! of one per file. A test needs a file of its own in `tests/` when it changes or measures
//! something process-wide: a counting global allocator, the global logger, a re-executed child
//! process, signal dispositions or resource limits, the standard output or error streams (the
//! harness prints each finished test there), the call-site table filled to its limit, or the
//! process's CPU time.
//!
//! Run one module with `cargo test --test integration close::`.

// Helpers shared with the tests in files of their own.
#[path = "../common/mod.rs"]
mod common;
#[path = "../file_common/mod.rs"]
mod file_common;
// It and `parquet_common` each load `common/parquet_timestamps.rs` (`fuzz/` compiles it alone).
#[allow(clippy::duplicate_mod)]
#[path = "../common/fuzz_checks.rs"]
mod fuzz_checks;
#[cfg(feature = "parquet")]
#[path = "../parquet_common/mod.rs"]
mod parquet_common;
#[path = "../common/sinks.rs"]
mod sinks;

mod api_traits;
mod block_ordering;
mod callsite_macros;
mod close;
mod close_timeout_unbounded;
mod config_errors;
mod drop_accounting;
mod drop_on_worker_thread_closes;
mod fault_awkward_records;
mod fault_bad_config;
mod fault_close_timeout;
mod fault_dir_removed;
mod fault_lifecycle_misuse;
mod fault_sink_errors_forever;
mod fault_sink_hangs;
mod fault_sink_panics;
mod file_json_validity;
mod file_reopen_append;
mod file_rotation_size;
mod file_rotation_time;
mod file_round_trip;
mod file_sink_config;
mod flush_barrier;
mod flush_reports_lost_batches;
mod flush_timed_out_in_slow_flush_hook;
mod flush_timed_out_puts_back_lost_batch;
mod flush_times_out_on_hung_sink;
mod fuzz_corpus_replay;
mod hooks;
mod large_message;
mod log_backend;
mod macro_logger_evaluated_once;
mod macros_are_statements;
mod message_templates;
mod parquet_encoder_errors;
mod parquet_errors;
mod parquet_inprogress;
mod parquet_million_rotations;
mod parquet_schema;
mod parquet_second_sink_same_path;
mod parquet_sink_config;
mod parquet_size_rotation;
mod parquet_time_rotation;
mod periodic_flush_while_sink_flush_stuck;
mod preallocate_refused;
mod retries;
mod stress_flush_close_race;
mod stress_stalled_sink;
mod stress_thread_local_loggers;
mod thread_exit;
mod thread_pinning;
mod timestamps;
mod too_large_past_u32;
mod tracing_layer;
mod worker_death_names_its_sinks;
