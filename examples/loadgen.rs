//! Load generator: drives a logger configured from the command line and measures every log call
//! on the calling thread.
//!
//! ```text
//! cargo run --release --example loadgen -- --producers 2 --messages 1000000 --sink null --json
//! cargo run --release --example loadgen -- --burst 100 --pause-us 200 --plot latency.svg
//! ```
//!
//! Each call is timed with two `rdtsc` reads (the pair's own cost, measured at start-up, is
//! subtracted and printed) into an HDR histogram; the first call of every burst also goes into a
//! separate histogram, since that is where loggers that wake a sleeping consumer pay. Ticks are
//! converted to nanoseconds with the run's own wall-clock/tick ratio. Methodology after quill's:
//! with `--burst B --pause-us U` the drain catches up between bursts, so the numbers measure the
//! hot path, not backpressure.
//!
//! `--yardstick` then runs the same pattern (producers, messages, bursts, pauses, rate) once more
//! without the logger: each producer pushes a 64-byte record stamped with `rdtsc` into a bare
//! `rtrb` ring of its own (the logger's default ring size), emptied by a consumer thread that
//! sleeps 50 µs whenever it finds the ring empty. Its percentiles (every push, and the first
//! push of each burst) are printed beside the logger's: the floor this machine gives a ring push
//! at that moment, and its records per second (first push until every consumer has popped its
//! last record) beside the end-to-end rate.

#[path = "../benches/common/yardstick.rs"]
mod yardstick;

use asynclog::__private::read_tsc;
use asynclog::{
    try_info, Backpressure, Config, ConsoleSink, Field, Level, Logger, NullSink, Sink, Value,
};
use clap::{Parser, ValueEnum};
use hdrhistogram::Histogram;
use std::time::{Duration, Instant};

#[derive(Parser, Debug)]
#[command(about = "asynclog load generator: per-call latency and throughput")]
struct Args {
    /// Producer threads.
    #[arg(long, default_value_t = 1)]
    producers: usize,
    /// Messages per producer.
    #[arg(long, default_value_t = 1_000_000)]
    messages: u64,
    /// Calls per second per producer (0 = back to back).
    #[arg(long, default_value_t = 0)]
    rate: u64,
    /// Calls per burst (0 = no bursts).
    #[arg(long, default_value_t = 0)]
    burst: u64,
    /// Pause between bursts, in microseconds.
    #[arg(long, default_value_t = 0)]
    pause_us: u64,
    /// Fields per message (cycling u64, f64, str).
    #[arg(long, default_value_t = 3)]
    fields: usize,
    /// Message length in bytes.
    #[arg(long, default_value_t = 12)]
    message_bytes: usize,
    /// What a full ring does.
    #[arg(long, value_enum, default_value_t = Mode::Block)]
    backpressure: Mode,
    /// Config::buffer_size (ring capacity in typical messages).
    #[arg(long, default_value_t = asynclog::config::DEFAULT_BUFFER_SIZE)]
    buffer_size: usize,
    /// Log through an explicit `Producer` instead of the thread-local path.
    #[arg(long)]
    producer_handle: bool,
    /// Log the benchmark call of the hot-path target through the macro:
    /// `info!(logger, "order filled", order_id, price, symbol)` (a literal message, so the
    /// compact call-site encoding). Ignores --fields and --message-bytes.
    #[arg(long = "macro")]
    use_macro: bool,
    /// Sinks: null, console, file:PATH (JSON lines), parquet:PATH (file prefix); repeatable.
    #[arg(long = "sink", default_values_t = vec!["null".to_string()])]
    sinks: Vec<String>,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
    /// Also time a bare `rtrb` ring push with the same pattern, and print its percentiles.
    #[arg(long)]
    yardstick: bool,
    /// Write an SVG latency-percentile chart here.
    #[arg(long)]
    plot: Option<std::path::PathBuf>,
    /// After the run, read back every file the file and Parquet sinks wrote and check that they
    /// hold every delivered record (their count, and the sum of the `order_id` fields); exits
    /// with an error when they do not.
    #[arg(long)]
    verify: bool,
    /// Pin the drain thread to this CPU (`Config::drain_cpu`).
    #[arg(long)]
    drain_cpu: Option<usize>,
    /// Pin the sink worker threads to this CPU (`Config::sink_worker_cpus`).
    #[arg(long)]
    sink_cpu: Option<usize>,
    /// Pin each Parquet sink's encoder thread to this CPU (`ParquetSinkConfig::encoder_cpu`).
    #[arg(long)]
    encoder_cpu: Option<usize>,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Mode {
    Block,
    Drop,
}

// `encoder_cpu` applies to Parquet sinks only.
#[cfg_attr(not(feature = "parquet"), allow(unused_variables))]
fn make_sink(spec: &str, encoder_cpu: Option<usize>) -> Result<Box<dyn Sink>, String> {
    match spec {
        "null" => Ok(Box::new(NullSink)),
        "console" => Ok(Box::new(ConsoleSink::new(false))),
        _ if spec.starts_with("file:") => asynclog::FileSink::new(&spec["file:".len()..])
            .map(|s| Box::new(s) as Box<dyn Sink>)
            .map_err(|e| e.to_string()),
        #[cfg(feature = "parquet")]
        _ if spec.starts_with("parquet:") => {
            let mut config = asynclog::ParquetSinkConfig::new(&spec["parquet:".len()..]);
            config.encoder_cpu = encoder_cpu;
            asynclog::ParquetSink::with_config(config)
                .map(|s| Box::new(s) as Box<dyn Sink>)
                .map_err(|e| e.to_string())
        }
        other => Err(format!(
            "unknown sink `{other}` (expected null, console, file:PATH or parquet:PATH)"
        )),
    }
}

/// The records a file or Parquet sink wrote, read back: how many, and the sum of their
/// `order_id` fields. `None` for sinks that keep nothing.
fn read_back(spec: &str) -> Result<Option<(u64, u64)>, Box<dyn std::error::Error>> {
    let (mut count, mut sum) = (0u64, 0u64);
    if let Some(path) = spec.strip_prefix("file:") {
        let mut reader = asynclog::JsonlReader::open(path)?;
        for record in reader.by_ref() {
            let record = record.map_err(|bad| format!("{path}: {bad:?}"))?;
            let order_id = match record.field("order_id") {
                Some(asynclog::OwnedValue::I64(v)) => *v as u64,
                Some(asynclog::OwnedValue::U64(v)) => *v,
                other => return Err(format!("{path}: order_id is {other:?}").into()),
            };
            count += 1;
            sum = sum.wrapping_add(order_id);
        }
        if let Some(torn) = reader.finish()?.torn {
            return Err(format!("{path}: torn line at the end: {torn:?}").into());
        }
        return Ok(Some((count, sum)));
    }
    #[cfg(feature = "parquet")]
    if let Some(prefix) = spec.strip_prefix("parquet:") {
        use arrow_array::cast::AsArray;
        use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
        let prefix = std::path::Path::new(prefix);
        let dir = prefix.parent().filter(|d| !d.as_os_str().is_empty());
        let stem = format!(
            "{}_",
            prefix.file_name().unwrap_or_default().to_string_lossy()
        );
        for entry in std::fs::read_dir(dir.unwrap_or(std::path::Path::new(".")))? {
            let path = entry?.path();
            let name = path.file_name().unwrap_or_default().to_string_lossy();
            if !(name.starts_with(&stem) && name.ends_with(".parquet")) {
                continue;
            }
            let file = std::fs::File::open(&path)?;
            for batch in ParquetRecordBatchReaderBuilder::try_new(file)?.build()? {
                let batch = batch?;
                let fields = batch
                    .column_by_name("fields_json")
                    .ok_or("no fields_json column")?
                    .as_string::<i32>();
                for json in fields.iter() {
                    let order_id = json
                        .and_then(|j| j.split("\"order_id\":").nth(1))
                        .map(|rest| rest.split(|c: char| !c.is_ascii_digit()).next())
                        .and_then(|digits| digits?.parse::<u64>().ok())
                        .ok_or_else(|| format!("{}: a record without order_id", path.display()))?;
                    count += 1;
                    sum = sum.wrapping_add(order_id);
                }
            }
        }
        return Ok(Some((count, sum)));
    }
    Ok(None)
}

struct ThreadResult {
    all: Histogram<u64>,
    first_of_burst: Histogram<u64>,
    calls: u64,
    dropped: u64,
    closed: u64,
}

fn new_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 60_000_000_000, 3).expect("histogram bounds")
}

/// Median cost of an empty `rdtsc` pair, in ticks.
fn timer_overhead() -> u64 {
    let mut samples: Vec<u64> = (0..10_001)
        .map(|_| {
            let a = read_tsc();
            let b = read_tsc();
            b.wrapping_sub(a)
        })
        .collect();
    samples.sort_unstable();
    samples[samples.len() / 2]
}

const KEYS: [&str; 8] = [
    "order_id", "price", "symbol", "qty", "venue", "latency", "side", "account",
];

/// The call pattern of `--rate`, `--burst` and `--pause-us`, spinning (not sleeping) so the
/// calling thread stays on its core.
struct Pacer {
    interval: Option<Duration>,
    next_due: Instant,
    burst: u64,
    pause: Duration,
}

impl Pacer {
    fn new(args: &Args) -> Pacer {
        Pacer {
            interval: (args.rate > 0).then(|| Duration::from_nanos(1_000_000_000 / args.rate)),
            next_due: Instant::now(),
            burst: args.burst,
            pause: Duration::from_micros(args.pause_us),
        }
    }

    /// Waits until call `seq` is due; whether it is the first of a burst.
    fn wait(&mut self, seq: u64) -> bool {
        if let Some(interval) = self.interval {
            while Instant::now() < self.next_due {
                std::hint::spin_loop();
            }
            self.next_due += interval;
        }
        let first_of_burst = self.burst > 0 && seq.is_multiple_of(self.burst);
        if first_of_burst && seq > 0 && !self.pause.is_zero() {
            let until = Instant::now() + self.pause;
            while Instant::now() < until {
                std::hint::spin_loop();
            }
        }
        first_of_burst
    }
}

fn produce(logger: &Logger, args: &Args, overhead: u64, producer: usize) -> ThreadResult {
    let message: String = "order filled "
        .chars()
        .cycle()
        .take(args.message_bytes)
        .collect();
    let symbol = "AAPL";
    let mut fields: Vec<Field<'_>> = (0..args.fields)
        .map(|i| {
            let key = KEYS[i % KEYS.len()];
            match i % 3 {
                0 => Field::new(key, 0u64),
                1 => Field::new(key, 101.25),
                _ => Field::new(key, symbol),
            }
        })
        .collect();
    let mut handle = args
        .producer_handle
        .then(|| logger.producer().expect("producer"));
    logger.preallocate().expect("preallocate");
    let mut result = ThreadResult {
        all: new_histogram(),
        first_of_burst: new_histogram(),
        calls: 0,
        dropped: 0,
        closed: 0,
    };
    let mut pacer = Pacer::new(args);
    for seq in 0..args.messages {
        let first_of_burst = pacer.wait(seq);
        if let Some(first) = fields.first_mut() {
            first.value = Value::U64(seq * 1_000 + producer as u64);
        }
        let order_id = seq * 1_000 + producer as u64;
        let start = read_tsc();
        let outcome = match (handle.as_mut(), args.use_macro) {
            (Some(p), true) => {
                try_info!(
                    p,
                    "order filled",
                    order_id = order_id,
                    price = 101.25,
                    symbol = symbol
                )
            }
            (None, true) => try_info!(
                logger,
                "order filled",
                order_id = order_id,
                price = 101.25,
                symbol = symbol
            ),
            (Some(p), false) => p.log(Level::Info, &message, &fields),
            (None, false) => logger.log(Level::Info, &message, &fields),
        };
        let end = read_tsc();
        let ticks = end.wrapping_sub(start).saturating_sub(overhead).max(1);
        result.all.saturating_record(ticks);
        if first_of_burst {
            result.first_of_burst.saturating_record(ticks);
        }
        result.calls += 1;
        match outcome {
            Ok(()) => {}
            Err(asynclog::LogError::Dropped) => result.dropped += 1,
            Err(asynclog::LogError::Closed) => result.closed += 1,
            Err(e) => panic!("log call failed: {e}"),
        }
    }
    result
}

/// The yardstick: `produce`'s pattern with a bare ring push instead of a log call. A full ring
/// is waited out (spinning), as `Backpressure::Block` does. Returns every call's histogram and
/// the first call of each burst's.
fn produce_bare(args: &Args, overhead: u64, producer: usize) -> (Histogram<u64>, Histogram<u64>) {
    use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
    let capacity = Config::default().ring_bytes() / std::mem::size_of::<yardstick::BareRecord>();
    let (mut ring, mut consumer) = rtrb::RingBuffer::<yardstick::BareRecord>::new(capacity);
    let stop = std::sync::Arc::new(AtomicBool::new(false));
    let drain = std::thread::spawn({
        let stop = stop.clone();
        move || {
            let mut sum = 0u64;
            loop {
                let mut took = false;
                while let Ok(record) = consumer.pop() {
                    sum = sum.wrapping_add(record.checksum());
                    took = true;
                }
                if !took {
                    if stop.load(Relaxed) {
                        return sum;
                    }
                    std::thread::sleep(Duration::from_micros(50));
                }
            }
        }
    });
    let mut histogram = new_histogram();
    let mut first_of_burst = new_histogram();
    let mut pacer = Pacer::new(args);
    for seq in 0..args.messages {
        let first = pacer.wait(seq);
        let order_id = seq * 1_000 + producer as u64;
        let start = read_tsc();
        let mut record = yardstick::BareRecord::now(order_id);
        while let Err(rtrb::PushError::Full(back)) = ring.push(record) {
            record = back;
            std::hint::spin_loop();
        }
        let end = read_tsc();
        let ticks = end.wrapping_sub(start).saturating_sub(overhead).max(1);
        histogram.saturating_record(ticks);
        if first {
            first_of_burst.saturating_record(ticks);
        }
    }
    stop.store(true, Relaxed);
    std::hint::black_box(drain.join().expect("yardstick consumer"));
    (histogram, first_of_burst)
}

fn percentiles(h: &Histogram<u64>, ns_per_tick: f64) -> Vec<(String, f64)> {
    let at = |q: f64| h.value_at_quantile(q) as f64 * ns_per_tick;
    vec![
        ("p50".into(), at(0.50)),
        ("p90".into(), at(0.90)),
        ("p99".into(), at(0.99)),
        ("p99.9".into(), at(0.999)),
        ("p99.99".into(), at(0.9999)),
        ("max".into(), h.max() as f64 * ns_per_tick),
    ]
}

fn plot(
    path: &std::path::Path,
    h: &Histogram<u64>,
    ns_per_tick: f64,
    title: &str,
) -> Result<(), Box<dyn std::error::Error>> {
    use plotters::prelude::*;
    // x: "nines" of the percentile (0 = p0, 1 = p90, 2 = p99, ...), y: latency in ns (log).
    let points: Vec<(f64, f64)> = (0..=500)
        .map(|i| {
            let nines = i as f64 / 100.0;
            let q = 1.0 - 10f64.powf(-nines);
            (
                nines,
                (h.value_at_quantile(q) as f64 * ns_per_tick).max(1.0),
            )
        })
        .collect();
    let max_y = points.iter().map(|p| p.1).fold(1.0, f64::max) * 2.0;
    let root = SVGBackend::new(path, (900, 540)).into_drawing_area();
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 20))
        .margin(15)
        .x_label_area_size(45)
        .y_label_area_size(70)
        .build_cartesian_2d(0f64..5f64, (1f64..max_y).log_scale())?;
    chart
        .configure_mesh()
        .x_labels(6)
        .x_desc("percentile")
        .y_desc("latency per call (ns)")
        .y_label_formatter(&|y| format!("{y:.0}"))
        .x_label_formatter(&|x| match x.round() as i64 {
            0 => "p0".into(),
            1 => "p90".into(),
            2 => "p99".into(),
            3 => "p99.9".into(),
            4 => "p99.99".into(),
            _ => "p99.999".into(),
        })
        .draw()?;
    chart.draw_series(LineSeries::new(points, &BLUE))?;
    root.present()?;
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    let mut config = Config::default();
    config.buffer_size = args.buffer_size;
    config.backpressure = match args.backpressure {
        Mode::Block => Backpressure::Block,
        Mode::Drop => Backpressure::Drop,
    };
    config.drain_cpu = args.drain_cpu;
    config.sink_worker_cpus = args.sink_cpu.into_iter().collect();
    for spec in &args.sinks {
        config.sinks.push(make_sink(spec, args.encoder_cpu)?);
    }
    let logger = Logger::new(config)?;
    let overhead = timer_overhead();

    let wall_start = Instant::now();
    let tsc_start = read_tsc();
    let results: Vec<ThreadResult> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..args.producers)
            .map(|p| {
                let (logger, args) = (&logger, &args);
                s.spawn(move || produce(logger, args, overhead, p))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("producer thread"))
            .collect()
    });
    let produce_time = wall_start.elapsed();
    logger.close()?;
    let total_time = wall_start.elapsed();
    let ns_per_tick = total_time.as_nanos() as f64 / read_tsc().wrapping_sub(tsc_start) as f64;

    let mut all = new_histogram();
    let mut first = new_histogram();
    let (mut calls, mut dropped) = (0, 0);
    for r in &results {
        all.add(&r.all)?;
        first.add(&r.first_of_burst)?;
        calls += r.calls;
        dropped += r.dropped;
        assert_eq!(r.closed, 0, "no call should see a closed logger");
    }
    let stats = logger.stats();
    let delivered = stats.delivered;
    let batches = stats.batches;
    let call_rate = calls as f64 / produce_time.as_secs_f64();
    let end_to_end_rate = delivered as f64 / total_time.as_secs_f64();
    let lat = percentiles(&all, ns_per_tick);
    let first_lat = (!first.is_empty()).then(|| percentiles(&first, ns_per_tick));
    let overhead_ns = overhead as f64 * ns_per_tick;
    let yardstick = args.yardstick.then(|| {
        let mut bare = new_histogram();
        let mut bare_first = new_histogram();
        let started = Instant::now();
        std::thread::scope(|s| {
            let handles: Vec<_> = (0..args.producers)
                .map(|p| {
                    let args = &args;
                    s.spawn(move || produce_bare(args, overhead, p))
                })
                .collect();
            for h in handles {
                let (all, first) = h.join().expect("yardstick producer");
                bare.add(all).expect("same histogram bounds");
                bare_first.add(first).expect("same histogram bounds");
            }
        });
        // Every record was popped: each producer's consumer is joined inside `produce_bare`.
        let rate = calls as f64 / started.elapsed().as_secs_f64();
        let first = (!bare_first.is_empty()).then(|| percentiles(&bare_first, ns_per_tick));
        (percentiles(&bare, ns_per_tick), first, rate)
    });

    let verified = if args.verify {
        let expected_sum = (dropped == 0).then(|| {
            let per_seq: u64 = (0..args.messages).map(|seq| seq * 1_000).sum();
            (0..args.producers as u64)
                .map(|p| per_seq + p * args.messages)
                .sum::<u64>()
        });
        let mut checked = Vec::new();
        for spec in &args.sinks {
            let Some((count, sum)) = read_back(spec)? else {
                continue;
            };
            if count != delivered || expected_sum.is_some_and(|want| want != sum) {
                return Err(format!(
                    "{spec}: read back {count} records (order_id sum {sum}), but {delivered} were \
                     delivered (order_id sum {expected_sum:?})"
                )
                .into());
            }
            checked.push(count);
        }
        checked.first().copied()
    } else {
        None
    };

    if args.json {
        let cpu = |cpu: Option<usize>| cpu.map_or("null".to_owned(), |c| c.to_string());
        let fmt = |p: &[(String, f64)]| {
            p.iter()
                .map(|(k, v)| format!("\"{k}\":{v:.1}"))
                .collect::<Vec<_>>()
                .join(",")
        };
        println!(
            "{{\"producers\":{},\"messages_per_producer\":{},\"fields\":{},\"message_bytes\":{},\"macro\":{},\"sinks\":{:?},\"drain_cpu\":{},\"sink_cpu\":{},\"encoder_cpu\":{},\"calls\":{calls},\"dropped\":{dropped},\"delivered\":{delivered},\"batches\":{batches},\"produce_seconds\":{:.6},\"total_seconds\":{:.6},\"calls_per_second\":{call_rate:.0},\"end_to_end_per_second\":{end_to_end_rate:.0},\"timer_overhead_ns\":{overhead_ns:.1},\"latency_ns\":{{{}}}{}{}{}}}",
            args.producers,
            args.messages,
            args.fields,
            args.message_bytes,
            args.use_macro,
            args.sinks,
            cpu(args.drain_cpu),
            cpu(args.sink_cpu),
            cpu(args.encoder_cpu),
            produce_time.as_secs_f64(),
            total_time.as_secs_f64(),
            fmt(&lat),
            first_lat
                .as_ref()
                .map(|f| format!(",\"first_of_burst_ns\":{{{}}}", fmt(f)))
                .unwrap_or_default(),
            yardstick
                .as_ref()
                .map(|(y, first, rate)| format!(
                    ",\"yardstick_per_second\":{rate:.0},\"yardstick_latency_ns\":{{{}}}{}",
                    fmt(y),
                    first
                        .as_ref()
                        .map(|f| format!(",\"yardstick_first_of_burst_ns\":{{{}}}", fmt(f)))
                        .unwrap_or_default()
                ))
                .unwrap_or_default(),
            verified
                .map(|n| format!(",\"verified_records\":{n}"))
                .unwrap_or_default(),
        );
    } else {
        println!(
            "producers {} x {} messages, {} fields, {}-byte message, sinks {:?}",
            args.producers, args.messages, args.fields, args.message_bytes, args.sinks
        );
        println!("calls {calls}  dropped {dropped}  delivered {delivered} in {batches} batches");
        println!("throughput: {call_rate:.0} calls/s on the producers, {end_to_end_rate:.0} records/s end to end (incl. close)");
        println!("timer overhead subtracted: {overhead_ns:.1} ns per call");
        let line = |p: &[(String, f64)]| {
            p.iter()
                .map(|(k, v)| format!("{k} {v:.0}"))
                .collect::<Vec<_>>()
                .join("  ")
        };
        println!("latency ns: {}", line(&lat));
        if let Some(f) = &first_lat {
            println!("first call of burst ns: {}", line(f));
        }
        if let Some(n) = verified {
            println!("read back: {n} records in every file sink, the delivered count, order_id sum matching");
        }
        if let Some((y, first, rate)) = &yardstick {
            println!("yardstick (bare ring push): {rate:.0} records/s end to end");
            println!("yardstick (bare ring push) ns: {}", line(y));
            if let Some(f) = first {
                println!("yardstick first call of burst ns: {}", line(f));
            }
        }
    }
    if let Some(path) = &args.plot {
        let title = format!(
            "asynclog: {} producer(s), {} fields, sinks {:?}",
            args.producers, args.fields, args.sinks
        );
        plot(path, &all, ns_per_tick, &title)?;
        eprintln!("wrote {}", path.display());
    }
    Ok(())
}
