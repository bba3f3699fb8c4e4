//! End-to-end throughput to a JSON-lines file: asynclog's `FileSink` against `tracing-appender`'s
//! `non_blocking` writer with `tracing-subscriber`'s JSON formatter, in the same run.
//!
//! Each measured iteration logs `RECORDS` records ("order filled" with three fields: a u64, an
//! f64 and a string) back to back from one thread, and stops the clock when the data is in the
//! file: after `Logger::flush` for asynclog (the bytes are in the page cache), after dropping
//! the `WorkerGuard` for tracing-appender (its worker has written every line). Creating the
//! logger and the file is not timed. Bytes per record are printed once per contender.
//!
//! Also measured, to show where the end-to-end time goes: the engine alone (the same records into
//! a sink that only counts them), and the sink alone (`FileSink::write_batch` on prebuilt
//! 8192-record batches, and the same serialization into a `Vec`).
//!
//! Run: `cargo bench --bench file_sink` (add `-- --measurement-time 5` for a shorter run).

use asynclog::{Batch, Config, Field, FileSink, Level, Logger, Sink};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::sync::Once;
use std::time::{Duration, Instant};

const RECORDS: u64 = 1_000_000;
const BATCH_RECORDS: usize = 8192;

fn scratch_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("asynclog-bench-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("creating the bench directory");
    dir
}

fn count_lines(path: &Path) -> (u64, u64) {
    let bytes = std::fs::read(path).expect("reading the log file back");
    let lines = bytes.iter().filter(|&&b| b == b'\n').count() as u64;
    (lines, bytes.len() as u64)
}

fn report_size(once: &Once, who: &str, path: &Path) {
    once.call_once(|| {
        let (lines, bytes) = count_lines(path);
        assert_eq!(lines, RECORDS, "{who}: every record reached the file");
        eprintln!(
            "{who}: {bytes} bytes for {lines} records = {:.1} bytes/record",
            bytes as f64 / lines as f64
        );
    });
}

/// Logs `RECORDS` benchmark calls through one producer of `logger` and returns the time from
/// the first call to `flush` returning.
fn log_and_flush(logger: &Logger) -> Duration {
    let mut producer = logger.producer().expect("a producer");
    let start = Instant::now();
    for i in 0..RECORDS {
        asynclog::try_info!(
            producer,
            "order filled",
            order_id = i,
            price = 101.25,
            symbol = "AAPL"
        )
        .expect("logging");
    }
    logger.flush().expect("flushing");
    start.elapsed()
}

/// One iteration of asynclog: returns the time from the first log call to `flush` returning.
fn asynclog_once(dir: &Path, config: impl Fn() -> Config) -> (Duration, PathBuf) {
    let path = dir.join("asynclog.log");
    let _ = std::fs::remove_file(&path);
    let mut config = config();
    config.sinks.push(Box::new(
        FileSink::new(&path).expect("creating the file sink"),
    ));
    let logger = Logger::new(config).expect("starting the logger");
    let took = log_and_flush(&logger);
    logger.close().expect("closing");
    (took, path)
}

/// One iteration through the engine into a sink that writes nothing: the engine's own ceiling
/// (log calls, rings, drain, batches).
fn null_once() -> Duration {
    let mut config = Config::default();
    config.sinks.push(Box::new(asynclog::NullSink));
    let logger = Logger::new(config).expect("starting the logger");
    let took = log_and_flush(&logger);
    assert_eq!(logger.stats().sinks[0].written_records, RECORDS);
    logger.close().expect("closing");
    took
}

/// One iteration of tracing-appender: the time from the first event to the worker having
/// written the last line.
fn tracing_once(dir: &Path) -> (Duration, PathBuf) {
    let path = dir.join("tracing.log");
    let _ = std::fs::remove_file(&path);
    let appender = tracing_appender::rolling::never(dir, "tracing.log");
    // Not lossy: the default drops lines when its channel is full, which would flatter it.
    let (writer, guard) = tracing_appender::non_blocking::NonBlockingBuilder::default()
        .lossy(false)
        .finish(appender);
    let subscriber = tracing_subscriber::fmt()
        .json()
        .with_writer(writer)
        .with_thread_ids(true)
        .finish();
    let took = tracing::subscriber::with_default(subscriber, || {
        let start = Instant::now();
        for i in 0..RECORDS {
            tracing::info!(
                order_id = i,
                price = 101.25,
                symbol = "AAPL",
                "order filled"
            );
        }
        drop(guard); // waits for the worker to write everything queued
        start.elapsed()
    });
    (took, path)
}

fn end_to_end(c: &mut Criterion) {
    let mut group = c.benchmark_group("file_end_to_end");
    group.throughput(Throughput::Elements(RECORDS));
    group.sample_size(10);

    let dir = scratch_dir("e2e");
    let sizes = [Once::new(), Once::new(), Once::new()];
    group.bench_function("asynclog_file_sink", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let (took, path) = asynclog_once(&dir, Config::default);
                report_size(&sizes[0], "asynclog", &path);
                total += took;
            }
            total
        })
    });
    group.bench_function("asynclog_file_sink_buffer_16k", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let (took, path) =
                    asynclog_once(&dir, || Config::default().with_buffer_size(16_000));
                report_size(&sizes[1], "asynclog (buffer_size 16000)", &path);
                total += took;
            }
            total
        })
    });
    group.bench_function("asynclog_null_sink_reference", |b| {
        b.iter_custom(|iters| (0..iters).map(|_| null_once()).sum())
    });
    group.bench_function("tracing_appender_json", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let (took, path) = tracing_once(&dir);
                report_size(&sizes[2], "tracing-appender", &path);
                total += took;
            }
            total
        })
    });
    group.finish();
    let _ = std::fs::remove_dir_all(&dir);
}

fn sink_only(c: &mut Criterion) {
    let mut group = c.benchmark_group("file_sink_only");
    group.throughput(Throughput::Elements(BATCH_RECORDS as u64));
    let mut batch = Batch::new();
    for i in 0..BATCH_RECORDS as u64 {
        let fields = [
            Field::new("order_id", i),
            Field::new("price", 101.25),
            Field::new("symbol", "AAPL"),
        ];
        batch
            .push(
                1_795_780_800_000_000_000 + i as i64,
                Level::Info,
                7,
                "order filled",
                &fields,
            )
            .expect("building the batch");
    }
    let dir = scratch_dir("sink");
    let path = dir.join("sink.log");
    let mut sink = FileSink::new(&path).expect("creating the file sink");
    let mut batches = 0u64;
    group.bench_function("write_batch_8192", |b| {
        b.iter(|| {
            sink.write_batch(black_box(&batch)).expect("writing");
            batches += 1;
            // Start a new file every ~90 MB and delete the old one, so the data stays in the
            // page cache: a file that grows for gigabytes is throttled to the disk's write-back
            // speed, which is not what this measures.
            if batches.is_multiple_of(64) {
                sink.close().expect("closing");
                std::fs::remove_file(&path).expect("deleting");
                sink = FileSink::new(&path).expect("reopening");
            }
        })
    });
    // The same, through a reused Vec (for comparison with writing into the map).
    let mut out = Vec::with_capacity(4 << 20);
    let mut encoder = asynclog::__private::json::LineEncoder::new();
    group.bench_function("serialize_to_vec_8192", |b| {
        b.iter(|| {
            out.clear();
            for record in batch.iter() {
                encoder.encode(&mut out, &record);
            }
            black_box(out.len());
        })
    });
    // Only decoding the fields from the batch (what every serialized record starts with):
    // `FieldIter` (validates UTF-8, `&str` items) against `RawFields` (byte items, what the
    // JSON serializer reads).
    group.bench_function("field_iteration_8192", |b| {
        b.iter(|| {
            for i in 0..batch.len() {
                for field in batch.fields(i) {
                    black_box(field);
                }
            }
        })
    });
    group.bench_function("field_iteration_raw_8192", |b| {
        b.iter(|| {
            for i in 0..batch.len() {
                for field in batch.raw_fields(i) {
                    black_box(field);
                }
            }
        })
    });
    sink.close().expect("closing");
    group.finish();
    let _ = std::fs::remove_dir_all(&dir);
}

criterion_group!(benches, end_to_end, sink_only);
criterion_main!(benches);
