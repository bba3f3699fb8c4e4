//! Instruction count of one log call on the calling thread, for `valgrind --tool=callgrind`.
//!
//! Wall-clock timings on a shared 2-core machine are noisy; instruction counts are not. This runs
//! the benchmark call (`info!` with a message and three fields) N times through the path named on
//! the command line (`macro`: the thread-local producer; `producer`: an explicit one; `log`:
//! `Logger::log` with a `Field` slice, the general encoding; `global`: `info!` without a logger,
//! through the global logger of `asynclog::init`; `tracing` (feature `tracing`): the same event
//! as `tracing::info!` through a registry and `AsyncLogLayer`; `tracing-span`: that event inside
//! a span with two fields, which the record carries too; `log-facade` (feature `log`):
//! `log::info!` with the fields as key-values, through `log_compat`; `bare`: the hot-path bench's
//! yardstick, an `rdtsc` and a 64-byte struct pushed into a bare `rtrb` ring, no logger), in
//! bursts that fit the ring, emptied between bursts (not counted), so the calls never wait
//! (the `tracing` and `log-facade` records carry four location fields, so their ring is 4 times
//! the default):
//!
//! ```text
//! cargo build --release --example callcost   # --features tracing,log for those two paths
//! valgrind --tool=callgrind --callgrind-out-file=/tmp/cg.out \
//!   --toggle-collect='callcost::burst*' target/release/examples/callcost macro 100000
//! callgrind_annotate /tmp/cg.out | head   # total Ir / 100000 = instructions per call
//! ```

use asynclog::{info, try_info, Field, Level, Logger, NullSink};
use std::hint::black_box;

const BURST: u64 = 1_000;

fn main() {
    let mut args = std::env::args().skip(1);
    let path = args.next().unwrap_or_else(|| "macro".into());
    let calls: u64 = args
        .next()
        .map(|n| n.parse().expect("N must be a number"))
        .unwrap_or(100_000);
    let mut config = asynclog::Config::default();
    config.sinks.push(Box::new(NullSink));
    #[cfg(feature = "tracing")]
    if path == "tracing" || path == "tracing-span" {
        run_tracing(calls, path == "tracing-span");
        return;
    }
    #[cfg(feature = "log")]
    if path == "log-facade" {
        run_log_facade(calls);
        return;
    }
    if path == "global" {
        let guard = asynclog::init(config).expect("global logger");
        guard.logger().preallocate().expect("preallocate");
        run_global(guard.logger(), calls);
        guard.close().expect("close");
        return;
    }
    let logger = Logger::new(config).expect("logger");
    logger.preallocate().expect("preallocate");
    match path.as_str() {
        "macro" => run_macro(&logger, calls),
        "log" => run_log(&logger, calls),
        "producer" => {
            let mut producer = logger.producer().expect("producer");
            run_producer(&logger, &mut producer, calls)
        }
        "bare" => run_bare(calls),
        other => panic!(
            "unknown path {other:?}: use macro, global, log, producer, bare, tracing, tracing-span \
             or log-facade"
        ),
    }
    logger.close().expect("close");
}

fn run_macro(logger: &Logger, calls: u64) {
    for start in (0..calls).step_by(BURST as usize) {
        burst_macro(logger, start, (start + BURST).min(calls));
        logger.flush().expect("flush");
    }
}

fn run_global(logger: &Logger, calls: u64) {
    for start in (0..calls).step_by(BURST as usize) {
        burst_global(start, (start + BURST).min(calls));
        logger.flush().expect("flush");
    }
}

/// A logger with a ring large enough for a burst of records with location fields.
#[cfg(any(feature = "tracing", feature = "log"))]
fn location_logger() -> std::sync::Arc<Logger> {
    let mut config = asynclog::Config::default();
    config.sinks.push(Box::new(NullSink));
    config.buffer_size *= 4;
    let logger = Logger::new(config).expect("logger");
    logger.preallocate().expect("preallocate");
    std::sync::Arc::new(logger)
}

#[cfg(feature = "tracing")]
fn run_tracing(calls: u64, in_span: bool) {
    use tracing_subscriber::layer::SubscriberExt;
    let logger = location_logger();
    let layer = asynclog::tracing::AsyncLogLayer::new(logger.clone());
    let subscriber = tracing_subscriber::registry().with(layer);
    tracing::subscriber::set_global_default(subscriber).expect("subscriber");
    let span = in_span.then(|| tracing::info_span!("request", request_id = 42u64, path = "/fill"));
    let _entered = span.as_ref().map(tracing::Span::enter);
    for start in (0..calls).step_by(BURST as usize) {
        burst_tracing(start, (start + BURST).min(calls));
        logger.flush().expect("flush");
    }
    logger.close().expect("close");
}

#[cfg(feature = "tracing")]
#[inline(never)]
fn burst_tracing(start: u64, end: u64) {
    for order_id in start..end {
        tracing::info!(order_id, price = 101.25, symbol = "AAPL", "order filled");
    }
}

#[cfg(feature = "log")]
fn run_log_facade(calls: u64) {
    let logger = location_logger();
    asynclog::log_compat::init_with(logger.clone(), ::log::LevelFilter::Info).expect("log");
    for start in (0..calls).step_by(BURST as usize) {
        burst_log_facade(start, (start + BURST).min(calls));
        logger.flush().expect("flush");
    }
    logger.close().expect("close");
}

#[cfg(feature = "log")]
#[inline(never)]
fn burst_log_facade(start: u64, end: u64) {
    for order_id in start..end {
        ::log::info!(order_id, price = 101.25, symbol = "AAPL"; "order filled");
    }
}

fn run_log(logger: &Logger, calls: u64) {
    for start in (0..calls).step_by(BURST as usize) {
        burst_log(logger, start, (start + BURST).min(calls));
        logger.flush().expect("flush");
    }
}

#[path = "../benches/common/yardstick.rs"]
mod yardstick;
use yardstick::BareRecord;

fn run_bare(calls: u64) {
    let (mut producer, mut consumer) = rtrb::RingBuffer::<BareRecord>::new(2_000);
    for start in (0..calls).step_by(BURST as usize) {
        burst_bare(&mut producer, start, (start + BURST).min(calls));
        while let Ok(record) = consumer.pop() {
            black_box(record.checksum());
        }
    }
}

fn run_producer(logger: &Logger, producer: &mut asynclog::Producer, calls: u64) {
    for start in (0..calls).step_by(BURST as usize) {
        burst_producer(producer, start, (start + BURST).min(calls));
        logger.flush().expect("flush");
    }
}

#[inline(never)]
fn burst_macro(logger: &Logger, start: u64, end: u64) {
    for order_id in start..end {
        info!(
            logger,
            "order filled",
            order_id = order_id,
            price = 101.25,
            symbol = "AAPL"
        );
    }
}

/// `burst_macro` through the global logger: the same call without a logger argument.
#[inline(never)]
fn burst_global(start: u64, end: u64) {
    for order_id in start..end {
        info!(
            "order filled",
            order_id = order_id,
            price = 101.25,
            symbol = "AAPL"
        );
    }
}

/// The general path: a `Field` slice, message and keys copied into the ring.
#[inline(never)]
fn burst_log(logger: &Logger, start: u64, end: u64) {
    for order_id in start..end {
        let fields = [
            Field::new("order_id", order_id),
            Field::new("price", 101.25),
            Field::new("symbol", "AAPL"),
        ];
        black_box(logger.log(Level::Info, "order filled", &fields)).expect("log");
    }
}

#[inline(never)]
fn burst_producer(producer: &mut asynclog::Producer, start: u64, end: u64) {
    for order_id in start..end {
        let r = try_info!(
            producer,
            "order filled",
            order_id = order_id,
            price = 101.25,
            symbol = "AAPL"
        );
        black_box(r).expect("log");
    }
}

#[inline(never)]
fn burst_bare(producer: &mut rtrb::Producer<BareRecord>, start: u64, end: u64) {
    for order_id in start..end {
        let r = producer.push(BareRecord::now(order_id));
        black_box(r).expect("room");
    }
}
