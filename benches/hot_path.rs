//! The cost of a log call on the calling thread while the drain runs.
//!
//! Methodology (quill's): calls are timed in bursts of `BURST`, small enough to fit the ring, and
//! between bursts the benchmark waits (untimed) for the drain to empty the rings, so the numbers
//! are the hot path itself and not backpressure. Criterion reports time per call.
//!
//! Run: `cargo bench --bench hot_path`

use asynclog::{info, Logger, NullSink};
use criterion::{criterion_group, criterion_main, Bencher, Criterion, Throughput};
use std::hint::black_box;
use std::time::{Duration, Instant};

/// Calls per timed burst: 1,000 records of ~90 bytes fit the default 128,000-byte ring.
const BURST: u64 = 1_000;
/// For 1 KiB messages: 100 records fit the ring, so the burst never waits for the drain.
const BURST_1K: u64 = 100;

fn logger() -> Logger {
    let mut config = asynclog::Config::default();
    config.sinks.push(Box::new(NullSink));
    Logger::new(config).expect("logger")
}

/// Times `call` in bursts, letting the drain catch up between them.
fn in_bursts(b: &mut Bencher<'_>, logger: &Logger, burst: u64, mut call: impl FnMut(u64)) {
    b.iter_custom(|iters| {
        let mut timed = Duration::ZERO;
        let mut done = 0;
        while done < iters {
            let n = (iters - done).min(burst);
            let start = Instant::now();
            for i in done..done + n {
                call(i);
            }
            timed += start.elapsed();
            done += n;
            logger.flush().expect("flush");
        }
        timed
    });
}

fn hot_path(c: &mut Criterion) {
    let mut group = c.benchmark_group("hot_path");
    group.throughput(Throughput::Elements(1));
    group.measurement_time(Duration::from_secs(3));

    let logger = logger();
    group.bench_function("macro: msg + 3 fields (u64, f64, str)", |b| {
        in_bursts(b, &logger, BURST, |order_id| {
            let r = info!(
                logger,
                "order filled",
                order_id = order_id,
                price = 101.25,
                symbol = "AAPL"
            );
            black_box(r).expect("log");
        })
    });
    group.bench_function("macro: msg only", |b| {
        in_bursts(b, &logger, BURST, |_| {
            black_box(info!(logger, "order filled")).expect("log");
        })
    });
    let mut producer = logger.producer().expect("producer");
    group.bench_function("producer: msg + 3 fields (u64, f64, str)", |b| {
        in_bursts(b, &logger, BURST, |order_id| {
            let r = info!(
                producer,
                "order filled",
                order_id = order_id,
                price = 101.25,
                symbol = "AAPL"
            );
            black_box(r).expect("log");
        })
    });
    let message = "x".repeat(1024);
    group.bench_function("macro: 1 KiB msg + 3 fields", |b| {
        in_bursts(b, &logger, BURST_1K, |order_id| {
            let r = info!(
                logger,
                &message,
                order_id = order_id,
                price = 101.25,
                symbol = "AAPL"
            );
            black_box(r).expect("log");
        })
    });
    group.finish();
}

criterion_group!(benches, hot_path);
criterion_main!(benches);
