//! The schema, exactly: Arrow types as read back, Parquet physical and logical types, the level
//! dictionary, timestamp statistics, key-value metadata, null `fields_json`, the default
//! microseconds-plus-extra-nanoseconds layout, and the MICROS option.
#![cfg(feature = "parquet")]

use crate::parquet_common as common;

use arrow_array::cast::AsArray;
use arrow_array::types::{TimestampMicrosecondType, UInt16Type};
use asynclog::sinks::parquet::{
    arrow_schema, TimestampUnit, EXTRA_NANOS_COLUMN, META_SCHEMA_VERSION, META_VERSION,
    SCHEMA_VERSION,
};
use asynclog::{Batch, Field, Level, ParquetSink, ParquetSinkConfig, Sink};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::basic::{Encoding, LogicalType, Repetition, TimeUnit, Type as PhysicalType};
use parquet::file::reader::{FileReader, SerializedFileReader};
use parquet::file::statistics::Statistics;
use std::path::{Path, PathBuf};

const T0: i64 = 1_795_780_800_123_456_789;

fn write_sample(dir: &Path, unit: TimestampUnit) -> PathBuf {
    let mut sink = ParquetSink::with_config(
        ParquetSinkConfig::new(dir.join("schema")).with_timestamp_unit(unit),
    )
    .unwrap();
    let mut batch = Batch::new();
    batch
        .push(
            T0,
            Level::Info,
            7,
            "with fields",
            &[
                Field::new("order_id", 42u64),
                Field::new("px", 1.5),
                Field::new("ratio", 0.1f32),
            ],
        )
        .unwrap();
    batch
        .push(T0 + 1_500, Level::Error, 8, "no fields", &[])
        .unwrap();
    batch
        .push(
            T0 + 2_000,
            Level::Trace,
            u64::MAX,
            "quote \" and ünïcode",
            &[Field::new("s", "a\nb")],
        )
        .unwrap();
    sink.write_batch(&batch).unwrap();
    sink.close().unwrap();
    let files = common::parquet_files(dir);
    assert_eq!(files.len(), 1);
    files[0].clone()
}

#[test]
fn arrow_types_and_values_read_back_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_sample(dir.path(), TimestampUnit::Nanos);
    let builder =
        ParquetRecordBatchReaderBuilder::try_new(std::fs::File::open(&path).unwrap()).unwrap();
    let expected = arrow_schema(TimestampUnit::Nanos);
    let schema = builder.schema();
    assert_eq!(schema.fields(), expected.fields());
    assert_eq!(
        schema.metadata().get(META_VERSION).map(String::as_str),
        Some(env!("CARGO_PKG_VERSION"))
    );
    assert_eq!(
        schema
            .metadata()
            .get(META_SCHEMA_VERSION)
            .map(String::as_str),
        Some(SCHEMA_VERSION)
    );

    let rows = common::read_rows(&path);
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[0].timestamp_ns, T0);
    assert_eq!(rows[0].level, "INFO");
    assert_eq!(rows[0].thread_id, 7);
    assert_eq!(
        rows[0].fields_json.as_deref(),
        Some(r#"{"order_id":42,"px":1.5,"ratio":0.1}"#)
    );
    assert_eq!(
        (rows[1].level.as_str(), rows[1].fields_json.as_deref()),
        ("ERROR", None)
    );
    assert_eq!(rows[1].timestamp_ns, T0 + 1_500);
    assert_eq!(rows[2].thread_id, u64::MAX);
    assert_eq!(rows[2].message, "quote \" and ünïcode");
    assert_eq!(rows[2].fields_json.as_deref(), Some(r#"{"s":"a\nb"}"#));
}

#[test]
fn parquet_types_dictionary_statistics_and_metadata() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_sample(dir.path(), TimestampUnit::Nanos);
    let reader = SerializedFileReader::new(std::fs::File::open(&path).unwrap()).unwrap();
    let meta = reader.metadata();
    let kv = meta.file_metadata().key_value_metadata().unwrap();
    let get = |key: &str| {
        kv.iter()
            .find(|k| k.key == key)
            .and_then(|k| k.value.clone())
    };
    assert_eq!(
        get(META_VERSION).as_deref(),
        Some(env!("CARGO_PKG_VERSION"))
    );
    assert_eq!(get(META_SCHEMA_VERSION).as_deref(), Some(SCHEMA_VERSION));

    let schema = meta.file_metadata().schema_descr();
    let column = |name: &str| {
        schema
            .columns()
            .iter()
            .find(|c| c.name() == name)
            .unwrap_or_else(|| panic!("no column {name}"))
            .clone()
    };
    let ts = column("timestamp");
    assert_eq!(ts.physical_type(), PhysicalType::INT64);
    assert_eq!(
        ts.logical_type_ref(),
        Some(&LogicalType::timestamp(true, TimeUnit::NANOS))
    );
    assert_eq!(
        ts.self_type().get_basic_info().repetition(),
        Repetition::REQUIRED
    );
    for name in ["level", "message"] {
        let c = column(name);
        assert_eq!(c.physical_type(), PhysicalType::BYTE_ARRAY, "{name}");
        assert_eq!(c.logical_type_ref(), Some(&LogicalType::String), "{name}");
        assert_eq!(
            c.self_type().get_basic_info().repetition(),
            Repetition::REQUIRED,
            "{name}"
        );
    }
    let tid = column("thread_id");
    assert_eq!(tid.physical_type(), PhysicalType::INT64);
    assert_eq!(
        tid.logical_type_ref(),
        Some(&LogicalType::integer(64, false))
    );
    assert_eq!(
        tid.self_type().get_basic_info().repetition(),
        Repetition::REQUIRED
    );
    let fj = column("fields_json");
    assert_eq!(fj.physical_type(), PhysicalType::BYTE_ARRAY);
    assert_eq!(fj.logical_type_ref(), Some(&LogicalType::String));
    assert_eq!(
        fj.self_type().get_basic_info().repetition(),
        Repetition::OPTIONAL
    );

    let rg = meta.row_group(0);
    let index = |name: &str| {
        schema
            .columns()
            .iter()
            .position(|c| c.name() == name)
            .unwrap()
    };
    let level = rg.column(index("level"));
    assert!(
        level.dictionary_page_offset().is_some(),
        "level has a dictionary page"
    );
    assert!(
        level
            .encodings()
            .any(|e| matches!(e, Encoding::RLE_DICTIONARY | Encoding::PLAIN_DICTIONARY)),
        "level is dictionary-encoded"
    );
    match rg.column(index("timestamp")).statistics() {
        Some(Statistics::Int64(s)) => {
            assert_eq!(s.min_opt(), Some(&T0));
            assert_eq!(s.max_opt(), Some(&(T0 + 2_000)));
        }
        other => panic!("timestamp statistics missing: {other:?}"),
    }
}

#[test]
fn micros_option_floors_timestamps() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_sample(dir.path(), TimestampUnit::Micros);
    let reader = SerializedFileReader::new(std::fs::File::open(&path).unwrap()).unwrap();
    let ts = reader.metadata().file_metadata().schema_descr().column(0);
    assert_eq!(
        ts.logical_type_ref(),
        Some(&LogicalType::timestamp(true, TimeUnit::MICROS))
    );
    let builder =
        ParquetRecordBatchReaderBuilder::try_new(std::fs::File::open(&path).unwrap()).unwrap();
    assert_eq!(
        builder.schema().fields(),
        arrow_schema(TimestampUnit::Micros).fields()
    );
    let batch = builder.build().unwrap().next().unwrap().unwrap();
    let ts = batch.column(0).as_primitive::<TimestampMicrosecondType>();
    assert_eq!(
        ts.values().to_vec(),
        vec![T0 / 1_000, (T0 + 1_500) / 1_000, (T0 + 2_000) / 1_000]
    );
}

#[test]
fn default_layout_is_micros_plus_extra_nanos_and_loses_nothing() {
    assert_eq!(SCHEMA_VERSION, "2");
    let dir = tempfile::tempdir().unwrap();
    let path = write_sample(dir.path(), TimestampUnit::default());
    assert_eq!(
        ParquetSinkConfig::new("x").timestamp_unit,
        TimestampUnit::MicrosWithExtraNanos
    );

    // Parquet types: a MICROS timestamp (what every engine reads) and an unsigned 16-bit
    // remainder, both required.
    let reader = SerializedFileReader::new(std::fs::File::open(&path).unwrap()).unwrap();
    let schema = reader.metadata().file_metadata().schema_descr();
    let names: Vec<&str> = schema.columns().iter().map(|c| c.name()).collect();
    assert_eq!(
        names,
        [
            "timestamp",
            EXTRA_NANOS_COLUMN,
            "level",
            "message",
            "thread_id",
            "fields_json"
        ]
    );
    assert_eq!(
        schema.column(0).logical_type_ref(),
        Some(&LogicalType::timestamp(true, TimeUnit::MICROS))
    );
    let extra = schema.column(1);
    assert_eq!(extra.physical_type(), PhysicalType::INT32);
    assert_eq!(
        extra.logical_type_ref(),
        Some(&LogicalType::integer(16, false))
    );
    assert_eq!(
        extra.self_type().get_basic_info().repetition(),
        Repetition::REQUIRED
    );

    // Values: floored microseconds, the remainder beside them, and the nanoseconds back exactly.
    let builder =
        ParquetRecordBatchReaderBuilder::try_new(std::fs::File::open(&path).unwrap()).unwrap();
    assert_eq!(
        builder.schema().fields(),
        arrow_schema(TimestampUnit::default()).fields()
    );
    let batch = builder.build().unwrap().next().unwrap().unwrap();
    let micros = batch.column(0).as_primitive::<TimestampMicrosecondType>();
    let extra = batch.column(1).as_primitive::<UInt16Type>();
    assert_eq!(
        micros.values().to_vec(),
        vec![T0 / 1_000, (T0 + 1_500) / 1_000, (T0 + 2_000) / 1_000]
    );
    assert_eq!(
        extra.values().to_vec(),
        vec![
            (T0 % 1_000) as u16,
            ((T0 + 1_500) % 1_000) as u16,
            ((T0 + 2_000) % 1_000) as u16
        ]
    );
    let rows = common::read_rows(&path);
    let got: Vec<i64> = rows.iter().map(|r| r.timestamp_ns).collect();
    assert_eq!(got, vec![T0, T0 + 1_500, T0 + 2_000]);
}
