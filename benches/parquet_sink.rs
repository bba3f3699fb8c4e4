//! Drain-to-Parquet throughput and size: `ParquetSink::write_batch` on batches of 8192 records
//! (a message from a set of templates and three fields: an integer, a float, a short string),
//! as the sink worker sees them, with files rotating at 64 MiB.
//!
//! Variants: the default (zstd level 1, journal on), journal off (the journal's cost), zstd 3 and
//! snappy (the compression choice). Beside them, a stand-in for the JSON-lines file sink: the
//! same batches serialized with `sinks::json::write_record_line` and written to a file (the real
//! `FileSink` is not on this branch's main yet).
//!
//! Besides criterion's timings, bytes per record for each variant are printed first
//! (`bytes/record` lines), measured over 100 batches written and closed.
//!
//! Run: `cargo bench --bench parquet_sink`

#[path = "../tests/parquet_common/batches.rs"]
mod batches;

use asynclog::sinks::json::write_record_line;
use asynclog::sinks::parquet::ParquetCompression;
use asynclog::{Batch, ParquetSink, ParquetSinkConfig, Sink};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::io::Write;
use std::path::Path;
use std::time::Duration;

const PER_BATCH: usize = 8192;

fn variants() -> Vec<(&'static str, ParquetCompression, bool)> {
    vec![
        (
            "parquet_zstd1_journal(default)",
            ParquetCompression::Zstd(1),
            true,
        ),
        (
            "parquet_zstd1_no_journal",
            ParquetCompression::Zstd(1),
            false,
        ),
        ("parquet_zstd3_journal", ParquetCompression::Zstd(3), true),
        ("parquet_snappy_journal", ParquetCompression::Snappy, true),
    ]
}

fn sink(dir: &Path, compression: ParquetCompression, journal: bool) -> ParquetSink {
    ParquetSink::new(ParquetSinkConfig {
        file_path: dir.join("bench"),
        rotate_size: 64 << 20,
        compression,
        journal,
        ..Default::default()
    })
    .unwrap()
}

/// A stand-in for the JSON-lines file sink: serialize each record, write the batch's lines.
struct JsonLines {
    file: std::io::BufWriter<std::fs::File>,
    line: Vec<u8>,
}

impl JsonLines {
    fn write_batch(&mut self, batch: &Batch) {
        self.line.clear();
        for record in batch.iter() {
            write_record_line(&mut self.line, &record);
        }
        self.file.write_all(&self.line).unwrap();
    }
}

fn dir_bytes(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().metadata().unwrap().len())
        .sum()
}

fn bytes_per_record(batches: &[Batch]) {
    let records = (batches.len() * PER_BATCH) as f64;
    for (name, compression, journal) in variants() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = sink(dir.path(), compression, journal);
        for batch in batches {
            s.write_batch(batch).unwrap();
        }
        s.close().unwrap();
        println!(
            "bytes/record {name}: {:.2}",
            dir_bytes(dir.path()) as f64 / records
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let mut json = JsonLines {
        file: std::io::BufWriter::new(std::fs::File::create(dir.path().join("x.jsonl")).unwrap()),
        line: Vec::new(),
    };
    for batch in batches {
        json.write_batch(batch);
    }
    json.file.flush().unwrap();
    println!(
        "bytes/record json_lines_stand_in: {:.2}",
        dir_bytes(dir.path()) as f64 / records
    );
}

fn bench(c: &mut Criterion) {
    let batches: Vec<Batch> = (0..100)
        .map(|b| batches::three_field_batch(b * PER_BATCH as u64, PER_BATCH))
        .collect();
    bytes_per_record(&batches);

    let mut group = c.benchmark_group("drain_to_file");
    group.throughput(Throughput::Elements(PER_BATCH as u64));
    group.sample_size(20);
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(4));
    for (name, compression, journal) in variants() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = sink(dir.path(), compression, journal);
        let mut i = 0;
        group.bench_function(name, |b| {
            b.iter(|| {
                s.write_batch(&batches[i % batches.len()]).unwrap();
                i += 1;
            })
        });
        s.close().unwrap();
    }
    let dir = tempfile::tempdir().unwrap();
    let mut json = JsonLines {
        file: std::io::BufWriter::new(std::fs::File::create(dir.path().join("x.jsonl")).unwrap()),
        line: Vec::new(),
    };
    let mut i = 0;
    group.bench_function("json_lines_stand_in", |b| {
        b.iter(|| {
            json.write_batch(&batches[i % batches.len()]);
            i += 1;
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
