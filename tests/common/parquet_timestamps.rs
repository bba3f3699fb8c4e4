//! The rows' nanosecond timestamps from a Parquet file's record batch, in either layout the sink
//! writes: a nanosecond `timestamp`, or the default microsecond `timestamp` plus
//! `timestamp_extra_ns`. Shared by the Parquet tests' readers and the fuzz checks.

use arrow_array::cast::AsArray;
use arrow_array::types::{TimestampMicrosecondType, TimestampNanosecondType, UInt16Type};
use arrow_array::RecordBatch;

/// Each row's timestamp in nanoseconds since the Unix epoch.
pub fn timestamps_ns(batch: &RecordBatch) -> Vec<i64> {
    let ts = batch
        .column_by_name("timestamp")
        .expect("a timestamp column");
    match batch.column_by_name("timestamp_extra_ns") {
        Some(extra) => {
            let micros = ts.as_primitive::<TimestampMicrosecondType>();
            let extra = extra.as_primitive::<UInt16Type>();
            (0..batch.num_rows())
                .map(|i| micros.value(i) * 1_000 + i64::from(extra.value(i)))
                .collect()
        }
        None => ts
            .as_primitive::<TimestampNanosecondType>()
            .values()
            .to_vec(),
    }
}
