//! Drain-to-file throughput and size, Parquet against the JSON-lines `FileSink`, in the same run.
//!
//! Both sinks get the same prebuilt batches, as the sink worker sees them: 8192 records each
//! (`DEFAULT_MAX_BATCH_RECORDS`), a message from a set of templates and three fields (an
//! integer, a float, a short string). One measured iteration writes `BATCHES_PER_FLUSH` batches
//! (65,536 records, one default Parquet row group) with `write_batch` and then calls `flush`, into
//! a temporary directory. Each sink lives for its whole benchmark and rotates as in production:
//! the JSON-lines file at 64 MiB (`max_bytes`), the Parquet file when its crash journal reaches
//! the default `journal_limit`. Every few iterations the finished files are deleted, untimed, so
//! the data stays in the page cache (files growing for gigabytes are throttled to the disk's
//! write-back speed, which is not what this measures).
//!
//! Parquet variants: the default (snappy, journal on, encoder thread on), the same on the calling
//! thread alone (`one_thread`: the encoder thread's gain), journal off (the journal's cost),
//! and the other compressions (the choice of default). Bytes per record are measured first from
//! the files on disk after writing 100 batches (819,200 records) and closing the sink, and printed
//! as `bytes/record` lines.
//!
//! Run: `cargo bench --bench parquet_sink -- --warm-up-time 2 --measurement-time 8`

#[path = "../tests/parquet_common/batches.rs"]
mod batches;

use asynclog::sinks::file::FileSinkConfig;
use asynclog::sinks::parquet::{ParquetCompression, DEFAULT_COMPRESSION};
use asynclog::{Batch, ParquetSink, ParquetSinkConfig, Sink};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::path::Path;
use std::time::{Duration, Instant};

const PER_BATCH: usize = 8192;
const BATCHES_PER_FLUSH: usize = 8;
const ITERATIONS_PER_CLEANUP: u64 = 4;
const JSON_FILE: &str = "bench.jsonl";

/// (name, compression, journal, encoder thread)
fn variants() -> Vec<(&'static str, ParquetCompression, bool, bool)> {
    use ParquetCompression::*;
    vec![
        (
            "parquet_snappy_journal(default)",
            DEFAULT_COMPRESSION,
            true,
            true,
        ),
        ("parquet_snappy_journal_one_thread", Snappy, true, false),
        ("parquet_snappy_no_journal", Snappy, false, true),
        ("parquet_lz4_journal", Lz4, true, true),
        ("parquet_zstd1_journal", Zstd(1), true, true),
        ("parquet_zstd1_journal_one_thread", Zstd(1), true, false),
        ("parquet_zstd3_journal", Zstd(3), true, true),
        ("parquet_zstd-1_journal", Zstd(-1), true, true),
        ("parquet_uncompressed_journal", Uncompressed, true, true),
    ]
}

fn parquet(
    dir: &Path,
    compression: ParquetCompression,
    journal: bool,
    encode_thread: bool,
) -> Box<dyn Sink> {
    Box::new(
        ParquetSink::with_config(
            ParquetSinkConfig::new(dir.join("bench"))
                .with_compression(compression)
                .with_journal(journal)
                .with_encode_thread(encode_thread),
        )
        .expect("creating the Parquet sink"),
    )
}

fn json_lines(dir: &Path) -> Box<dyn Sink> {
    let mut config = FileSinkConfig::new(dir.join(JSON_FILE));
    config.max_bytes = Some(64 << 20);
    Box::new(config.build().expect("creating the file sink"))
}

/// Bytes of every file in `dir`.
fn dir_bytes(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .expect("listing the bench directory")
        .map(|e| e.unwrap().metadata().unwrap().len())
        .sum()
}

/// Deletes the finished files: rotated JSON-lines files and `*.parquet` files (not the open
/// files, nor the journal).
fn delete_finished(dir: &Path) {
    for entry in std::fs::read_dir(dir).expect("listing the bench directory") {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy();
        let finished =
            name.ends_with(".parquet") || (name.starts_with("bench.") && name != JSON_FILE);
        if finished {
            std::fs::remove_file(&path).expect("deleting a bench file");
        }
    }
}

/// Writes every batch, closes the sink, and returns bytes per record on disk.
fn bytes_per_record(batches: &[Batch], make: &dyn Fn(&Path) -> Box<dyn Sink>) -> f64 {
    let dir = tempfile::tempdir().unwrap();
    let mut sink = make(dir.path());
    for batch in batches {
        sink.write_batch(batch).unwrap();
    }
    sink.close().unwrap();
    dir_bytes(dir.path()) as f64 / (batches.len() * PER_BATCH) as f64
}

/// One criterion benchmark: `BATCHES_PER_FLUSH` `write_batch` calls then `flush`, timed.
fn bench_sink(
    group: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    name: &str,
    batches: &[Batch],
    make: &dyn Fn(&Path) -> Box<dyn Sink>,
) {
    let dir = tempfile::tempdir().unwrap();
    let mut sink = make(dir.path());
    let mut next = 0usize;
    let mut iterations = 0u64;
    group.bench_function(name, |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let start = Instant::now();
                for _ in 0..BATCHES_PER_FLUSH {
                    sink.write_batch(&batches[next % batches.len()]).unwrap();
                    next += 1;
                }
                sink.flush().unwrap();
                total += start.elapsed();
                iterations += 1;
                if iterations.is_multiple_of(ITERATIONS_PER_CLEANUP) {
                    delete_finished(dir.path());
                }
            }
            total
        })
    });
    sink.close().unwrap();
}

fn bench(c: &mut Criterion) {
    let batches: Vec<Batch> = (0..100)
        .map(|b| batches::three_field_batch(b * PER_BATCH as u64, PER_BATCH))
        .collect();

    println!(
        "bytes/record json_lines_file_sink: {:.2}",
        bytes_per_record(&batches, &json_lines)
    );
    for (name, compression, journal, thread) in variants() {
        let bytes = bytes_per_record(&batches, &|dir: &Path| {
            parquet(dir, compression, journal, thread)
        });
        println!("bytes/record {name}: {bytes:.2}");
    }

    let mut group = c.benchmark_group("drain_to_file");
    group.throughput(Throughput::Elements((PER_BATCH * BATCHES_PER_FLUSH) as u64));
    group.sample_size(20);
    bench_sink(&mut group, "json_lines_file_sink", &batches, &json_lines);
    for (name, compression, journal, thread) in variants() {
        bench_sink(&mut group, name, &batches, &|dir: &Path| {
            parquet(dir, compression, journal, thread)
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
