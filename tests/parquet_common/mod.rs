//! Helpers shared by the Parquet tests: reading every finished file back with the parquet crate's
//! Arrow reader.
#![allow(dead_code)]

#[path = "../common/parquet_timestamps.rs"]
mod parquet_timestamps;
use arrow_array::cast::AsArray;
use arrow_array::types::{Int8Type, UInt64Type};
use arrow_array::Array;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet_timestamps::timestamps_ns;
use std::path::{Path, PathBuf};

/// One row as read back.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub timestamp_ns: i64,
    pub level: String,
    pub message: String,
    pub thread_id: u64,
    pub fields_json: Option<String>,
}

/// Files in `dir` whose names end in `suffix`, sorted by name.
pub fn files_with_suffix(dir: &Path, suffix: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_str().unwrap().ends_with(suffix))
        .collect();
    files.sort();
    files
}

/// Every `*.parquet` file in `dir`, sorted by name (= write order).
pub fn parquet_files(dir: &Path) -> Vec<PathBuf> {
    files_with_suffix(dir, ".parquet")
}

/// Reads one file's rows (nanosecond timestamps).
pub fn read_rows(path: &Path) -> Vec<Row> {
    let file = std::fs::File::open(path).unwrap();
    let reader = ParquetRecordBatchReaderBuilder::try_new(file)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .build()
        .unwrap();
    let mut rows = Vec::new();
    for batch in reader {
        let batch = batch.unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let ts = timestamps_ns(&batch);
        let level = batch
            .column_by_name("level")
            .unwrap()
            .as_dictionary::<Int8Type>();
        let level_values = level.values().as_string::<i32>();
        let message = batch.column_by_name("message").unwrap().as_string::<i32>();
        let thread = batch
            .column_by_name("thread_id")
            .unwrap()
            .as_primitive::<UInt64Type>();
        let fields = batch
            .column_by_name("fields_json")
            .unwrap()
            .as_string::<i32>();
        for (i, &timestamp_ns) in ts.iter().enumerate() {
            rows.push(Row {
                timestamp_ns,
                level: level_values
                    .value(level.keys().value(i) as usize)
                    .to_owned(),
                message: message.value(i).to_owned(),
                thread_id: thread.value(i),
                fields_json: fields.is_valid(i).then(|| fields.value(i).to_owned()),
            });
        }
    }
    rows
}

/// Every row of every `*.parquet` file in `dir`, files in name order.
pub fn read_all(dir: &Path) -> Vec<Row> {
    parquet_files(dir)
        .iter()
        .flat_map(|p| read_rows(p))
        .collect()
}

/// Parses a `fields_json` value.
pub fn parse_json(text: &str) -> simd_json::OwnedValue {
    let mut bytes = text.as_bytes().to_vec();
    simd_json::to_owned_value(&mut bytes).unwrap_or_else(|e| panic!("{text}: {e}"))
}

pub mod batches;

/// Sets this process's `RLIMIT_FSIZE` soft limit (capped at the hard limit): a write past it
/// fails with `EFBIG` once `SIGXFSZ` is ignored. Per process, so a test file using it holds one
/// test.
pub fn set_file_size_limit(bytes: libc::rlim_t) {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `limit` is a valid out-pointer for the call.
    assert_eq!(
        unsafe { libc::getrlimit(libc::RLIMIT_FSIZE, &mut limit) },
        0
    );
    limit.rlim_cur = bytes.min(limit.rlim_max);
    // SAFETY: `limit` is a valid, initialised rlimit.
    assert_eq!(unsafe { libc::setrlimit(libc::RLIMIT_FSIZE, &limit) }, 0);
}

/// A clock tests move by hand: seconds since the epoch.
pub struct ManualClock(pub std::sync::atomic::AtomicU64);

impl ManualClock {
    pub fn new(secs: u64) -> std::sync::Arc<ManualClock> {
        std::sync::Arc::new(ManualClock(std::sync::atomic::AtomicU64::new(secs)))
    }
    pub fn advance(&self, secs: u64) {
        self.0.fetch_add(secs, std::sync::atomic::Ordering::SeqCst);
    }
    pub fn now(&self) -> std::time::SystemTime {
        std::time::UNIX_EPOCH
            + std::time::Duration::from_secs(self.0.load(std::sync::atomic::Ordering::SeqCst))
    }
    /// As a sink's clock.
    pub fn clock(self: &std::sync::Arc<Self>) -> std::sync::Arc<dyn asynclog::sinks::Clock> {
        self.clone()
    }
}

impl std::fmt::Debug for ManualClock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("ManualClock").field(&self.0).finish()
    }
}

impl asynclog::sinks::Clock for ManualClock {
    fn now(&self) -> std::time::SystemTime {
        ManualClock::now(self)
    }
}

/// The `seq` field of a row, if it has fields.
pub fn seq_of(row: &Row) -> Option<u64> {
    use simd_json::prelude::*;
    let fields = parse_json(row.fields_json.as_deref()?);
    fields.get("seq").and_then(|v| v.as_u64())
}
