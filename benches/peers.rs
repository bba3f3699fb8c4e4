//! asynclog against its Rust peers, in one run: the cost of one log call on the calling thread,
//! message `"order filled"` + 3 fields (`order_id` u64, `price` f64, `symbol` str), every logger
//! in its non-blocking mode, with structured fields where it has them, writing to a file in a
//! temporary directory under the target directory (`CARGO_TARGET_TMPDIR/peers`).
//!
//! | contender | set-up | fields |
//! | --- | --- | --- |
//! | asynclog | `info!(logger, ..)`, a bench-local JSON-lines file sink (below) | structured |
//! | tracing | `tracing-appender::non_blocking` (default: lossy, 128,000 lines), `tracing-subscriber` `fmt().json()`, global subscriber | structured |
//! | slog | `slog-async` (channel 4,096, `OverflowStrategy::Block`), `slog-json` | structured |
//! | fast_log | `log::info!` into `fast_log` (unbounded channel, file appender, its text format) | in the message: no key-values in its records |
//! | spdlog-rs | `AsyncPoolSink` (own pool, capacity 8,192, `OverflowPolicy::Block`) over a `FileSink` with `JsonFormatter` | structured (`kv:`) |
//! | tracing + asynclog layer | `tracing::info!` into a `tracing_subscriber::registry()` with `asynclog::tracing::AsyncLogLayer`, the asynclog sink below, a ring 4 times the default (see [`LOCATION_BUFFER_SIZE`]); that subscriber is the thread's default only around this contender's calls (untimed `enter`/`exit`), so the global subscriber stays tracing-appender's | structured |
//! | log + asynclog | `asynclog::log_compat::AsyncLogLogger`, the asynclog sink below, a ring 4 times the default, handed the `log::Record` that `log::info!(k = v; "msg")` builds, with the same level check; fast_log owns the process's `log` facade, so the call skips the facade's one load of its logger pointer | structured (key-values) |
//! | asynclog global macro | `asynclog::info!("order filled", ..)` after `asynclog::init`, the asynclog sink below | structured |
//!
//! The asynclog sink writes each batch with [`asynclog::__private::json::write_record_line`] into a
//! `BufWriter<File>`. It stands in for `asynclog::FileSink` (branch `file-work`); switch to
//! `FileSink` once that is merged.
//!
//! Methodology (quill's, as in `benches/hot_path.rs`): calls are timed in bursts of [`BURST`],
//! few enough that no channel or ring fills, and between bursts the bench waits, untimed, until
//! the contender's backend has written everything logged so far: `Logger::flush` for asynclog,
//! `log::logger().flush()` (which waits) for fast_log, and for the others (whose flush does not
//! wait, or which have none) a count of the lines or records that reached the file writer. So
//! the numbers are the hot path, not backpressure, and a lossy contender that dropped a record
//! stops the bench with a message instead of reporting a flattering number. The bounded
//! channels are far larger than a burst, so neither `Block` setting ever blocks here.
//!
//! Groups:
//! - `peers/burst`: time per call, criterion's estimate over bursts of [`BURST`].
//! - `peers/first_call_after_pause`: each iteration waits for the backend, sleeps [`PAUSE`]
//!   (untimed) so its thread parks, then times ONE call with `Instant`. Criterion runs
//!   [`PAUSE_SAMPLES`] samples of one iteration each (flat sampling; it warns that it cannot
//!   meet the 1 ns target time, which is intended). The `Instant pair (no call)` row is the
//!   timer's own cost, included in every row of this group.
//! - Then a table on stdout: heap allocations per call made by the calling thread (a counting
//!   global allocator with a thread-local counter, `tests/common/counting_alloc.rs`, shared with
//!   `tests/zero_alloc.rs`), over [`ALLOC_CALLS`] calls after [`BURST`] warm-up calls, counted
//!   inside the bursts only. The counting costs every allocation one thread-local add, in every
//!   group and for every contender.
//!
//! Files are truncated (untimed, between bursts) every [`TRUNCATE_EVERY`] calls so a run does
//! not fill the disk; every writer has its file open in append mode, so it carries on at the
//! new end.
//!
//! Run: `cargo bench --bench peers --features tracing,log`

use asynclog::{Batch, Logger, Sink, SinkError};
use criterion::{BenchmarkGroup, Criterion, SamplingMode, Throughput};
use std::fs::{File, OpenOptions};
use std::hint::black_box;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Calls per timed burst.
const BURST: u64 = 1_000;
/// Untimed sleep before each "first call" sample.
const PAUSE: Duration = Duration::from_millis(1);
/// Samples (one call each) in the first-call group.
const PAUSE_SAMPLES: usize = 300;
/// Calls counted for the allocation table.
const ALLOC_CALLS: u64 = 10_000;
/// Calls between truncations of a contender's file.
const TRUNCATE_EVERY: u64 = 100_000;
/// How long a backend may take to catch up before the bench calls it lost records.
const CATCH_UP_LIMIT: Duration = Duration::from_secs(30);

const PRICE: f64 = 101.25;
const SYMBOL: &str = "AAPL";

// ---------------------------------------------------------------------------------------------
// Counting allocator (shared with tests/zero_alloc.rs).

#[path = "../tests/common/counting_alloc.rs"]
mod counting_alloc;

use counting_alloc::{allocations, CountingAllocator};

#[global_allocator]
static GLOBAL: CountingAllocator = CountingAllocator;

// ---------------------------------------------------------------------------------------------
// The contenders.

/// One logger under test.
trait Contender {
    /// Logs `"order filled"` with the three fields. This is the timed call.
    fn log(&mut self, order_id: u64, price: f64, symbol: &str);
    /// Returns once the backend has written every record logged so far (untimed).
    fn catch_up(&mut self);
    /// Before a run of timed calls (untimed): for a contender that needs thread state set up.
    fn enter(&mut self) {}
    /// After a run of timed calls (untimed).
    fn exit(&mut self) {}
}

/// A contender with its output file: counts calls and truncates the file now and then.
struct Peer<C> {
    name: &'static str,
    path: Option<PathBuf>,
    contender: C,
    since_truncate: u64,
}

impl<C: Contender> Peer<C> {
    fn new(name: &'static str, path: Option<PathBuf>, contender: C) -> Peer<C> {
        Peer {
            name,
            path,
            contender,
            since_truncate: 0,
        }
    }

    #[inline(always)]
    fn log(&mut self, order_id: u64) {
        self.contender
            .log(order_id, black_box(PRICE), black_box(SYMBOL));
    }

    /// Waits for the backend, then truncates the file if enough has been written since last time.
    fn settle(&mut self, calls: u64) {
        self.contender.catch_up();
        self.since_truncate += calls;
        if self.since_truncate < TRUNCATE_EVERY {
            return;
        }
        if let Some(path) = &self.path {
            OpenOptions::new()
                .write(true)
                .open(path)
                .and_then(|f| f.set_len(0))
                .unwrap_or_else(|e| panic!("{}: truncating {}: {e}", self.name, path.display()));
        }
        self.since_truncate = 0;
    }
}

/// Opens `path` for appending, creating it.
fn append(path: &Path) -> File {
    OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .unwrap_or_else(|e| panic!("opening {}: {e}", path.display()))
}

/// Waits until `written` reaches `sent`, or panics naming the contender after [`CATCH_UP_LIMIT`].
fn wait_for(name: &str, written: &AtomicU64, sent: u64) {
    let start = Instant::now();
    loop {
        let done = written.load(Ordering::Acquire);
        if done >= sent {
            return;
        }
        if start.elapsed() > CATCH_UP_LIMIT {
            panic!("{name}: the backend wrote {done} of {sent} records in {CATCH_UP_LIMIT:?}: records were lost or the backend stalled");
        }
        std::thread::sleep(Duration::from_micros(50));
    }
}

/// Counts the newlines that pass through to `inner`: for JSON-lines writers, one per record.
struct LineCounter<W> {
    inner: W,
    lines: Arc<AtomicU64>,
}

impl<W: Write> Write for LineCounter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        let lines = buf[..n].iter().filter(|&&b| b == b'\n').count() as u64;
        // Release pairs with the Acquire in `wait_for`; the count is all that is shared.
        self.lines.fetch_add(lines, Ordering::Release);
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

// --- asynclog ---------------------------------------------------------------------------------

/// JSON lines into a `BufWriter<File>`, one `write_all` per batch. A stand-in for
/// `asynclog::FileSink` (branch `file-work`) until it is merged.
struct JsonLinesFile {
    path: PathBuf,
    out: BufWriter<File>,
    buf: Vec<u8>,
}

impl Sink for JsonLinesFile {
    fn name(&self) -> &str {
        "bench json-lines file"
    }

    fn write_batch(&mut self, batch: &Batch) -> Result<(), SinkError> {
        self.buf.clear();
        for record in batch.iter() {
            asynclog::__private::json::write_record_line(&mut self.buf, &record);
        }
        self.out
            .write_all(&self.buf)
            .map_err(|e| SinkError::io(format!("writing {}", self.path.display()), e))
    }

    fn flush(&mut self) -> Result<(), SinkError> {
        self.out
            .flush()
            .map_err(|e| SinkError::io(format!("flushing {}", self.path.display()), e))
    }

    fn close(&mut self) -> Result<(), SinkError> {
        self.flush()
    }
}

struct Asynclog {
    logger: Logger,
}

/// `Config::buffer_size` for the `tracing` and `log` rows: their records carry four location
/// fields (`target`, `module_path`, `file`, `line`: about 60-110 bytes more), so a burst of
/// [`BURST`] of them overflows the default ring (1,000 x 128 bytes) and the row would time the
/// drain, not the call.
const LOCATION_BUFFER_SIZE: usize = 4 * asynclog::config::DEFAULT_BUFFER_SIZE;

/// The default config with the bench's JSON-lines file sink writing to `path`.
fn asynclog_config(path: &Path) -> asynclog::Config {
    let mut config = asynclog::Config::default();
    config.sinks.push(Box::new(JsonLinesFile {
        path: path.to_owned(),
        out: BufWriter::new(append(path)),
        buf: Vec::new(),
    }));
    config
}

impl Asynclog {
    fn new(path: &Path) -> Asynclog {
        Asynclog {
            logger: Logger::new(asynclog_config(path)).expect("asynclog logger"),
        }
    }
}

impl Contender for Asynclog {
    #[inline(always)]
    fn log(&mut self, order_id: u64, price: f64, symbol: &str) {
        let r = asynclog::try_info!(
            self.logger,
            "order filled",
            order_id = order_id,
            price = price,
            symbol = symbol
        );
        black_box(r).expect("asynclog: log");
    }

    fn catch_up(&mut self) {
        self.logger.flush().expect("asynclog: flush");
    }
}

// --- asynclog global macro ---------------------------------------------------------------------

struct AsynclogGlobal {
    _guard: asynclog::GlobalGuard,
}

impl AsynclogGlobal {
    /// Installs the global asynclog logger: call once per process.
    fn new(path: &Path) -> AsynclogGlobal {
        AsynclogGlobal {
            _guard: asynclog::init(asynclog_config(path)).expect("asynclog: init"),
        }
    }
}

impl Contender for AsynclogGlobal {
    #[inline(always)]
    fn log(&mut self, order_id: u64, price: f64, symbol: &str) {
        let r = asynclog::try_info!(
            "order filled",
            order_id = order_id,
            price = price,
            symbol = symbol
        );
        black_box(r).expect("asynclog global: log");
    }

    fn catch_up(&mut self) {
        asynclog::flush_global().expect("asynclog global: flush");
    }
}

// --- tracing + asynclog layer -----------------------------------------------------------------

struct TracingAsynclog {
    logger: Arc<Logger>,
    dispatch: tracing::Dispatch,
    /// Makes `dispatch` this thread's default between `enter` and `exit`.
    scope: Option<tracing::dispatcher::DefaultGuard>,
}

impl TracingAsynclog {
    fn new(path: &Path) -> TracingAsynclog {
        use tracing_subscriber::layer::SubscriberExt;
        let config = asynclog_config(path).with_buffer_size(LOCATION_BUFFER_SIZE);
        let logger = Arc::new(Logger::new(config).expect("asynclog logger"));
        let layer = asynclog::tracing::AsyncLogLayer::new(logger.clone());
        TracingAsynclog {
            logger,
            dispatch: tracing::Dispatch::new(tracing_subscriber::registry().with(layer)),
            scope: None,
        }
    }
}

impl Contender for TracingAsynclog {
    #[inline(always)]
    fn log(&mut self, order_id: u64, price: f64, symbol: &str) {
        tracing::info!(order_id, price, symbol, "order filled");
    }

    fn catch_up(&mut self) {
        self.logger.flush().expect("tracing + asynclog: flush");
    }

    fn enter(&mut self) {
        self.scope = Some(tracing::dispatcher::set_default(&self.dispatch));
    }

    fn exit(&mut self) {
        self.scope = None;
    }
}

// --- log + asynclog ---------------------------------------------------------------------------

struct LogAsynclog {
    logger: Arc<Logger>,
    log: asynclog::log_compat::AsyncLogLogger,
}

impl LogAsynclog {
    fn new(path: &Path) -> LogAsynclog {
        let config = asynclog_config(path).with_buffer_size(LOCATION_BUFFER_SIZE);
        let logger = Arc::new(Logger::new(config).expect("asynclog logger"));
        LogAsynclog {
            log: asynclog::log_compat::AsyncLogLogger::new(logger.clone()),
            logger,
        }
    }
}

impl Contender for LogAsynclog {
    #[inline(always)]
    fn log(&mut self, order_id: u64, price: f64, symbol: &str) {
        use log::kv::ToValue;
        use log::Log;
        // What `log::info!(order_id, price, symbol; "order filled")` does after its level check,
        // minus the facade's `log::logger()` (fast_log's here).
        if log::Level::Info <= log::STATIC_MAX_LEVEL && log::Level::Info <= log::max_level() {
            let kvs = [
                ("order_id", order_id.to_value()),
                ("price", price.to_value()),
                ("symbol", symbol.to_value()),
            ];
            self.log.log(
                &log::Record::builder()
                    .level(log::Level::Info)
                    .target(module_path!())
                    .module_path_static(Some(module_path!()))
                    .file_static(Some(file!()))
                    .line(Some(line!()))
                    .args(format_args!("order filled"))
                    .key_values(&kvs)
                    .build(),
            );
        }
    }

    fn catch_up(&mut self) {
        self.logger.flush().expect("log + asynclog: flush");
    }
}

// --- tracing + tracing-appender ---------------------------------------------------------------

struct Tracing {
    _guard: tracing_appender::non_blocking::WorkerGuard,
    written: Arc<AtomicU64>,
    sent: u64,
}

impl Tracing {
    /// Installs the global subscriber: call once per process.
    fn new(path: &Path) -> Tracing {
        let written = Arc::new(AtomicU64::new(0));
        let writer = LineCounter {
            inner: BufWriter::new(append(path)),
            lines: written.clone(),
        };
        let (non_blocking, guard) = tracing_appender::non_blocking(writer);
        let subscriber = tracing_subscriber::fmt()
            .json()
            .with_writer(non_blocking)
            .finish();
        tracing::subscriber::set_global_default(subscriber).expect("tracing: global subscriber");
        Tracing {
            _guard: guard,
            written,
            sent: 0,
        }
    }
}

impl Contender for Tracing {
    #[inline(always)]
    fn log(&mut self, order_id: u64, price: f64, symbol: &str) {
        tracing::info!(order_id, price, symbol, "order filled");
        self.sent += 1;
    }

    fn catch_up(&mut self) {
        wait_for("tracing-appender", &self.written, self.sent);
    }
}

// --- slog + slog-async + slog-json ------------------------------------------------------------

struct Slog {
    logger: slog::Logger,
    written: Arc<AtomicU64>,
    sent: u64,
}

impl Slog {
    fn new(path: &Path) -> Slog {
        use slog::Drain;
        let written = Arc::new(AtomicU64::new(0));
        let writer = LineCounter {
            inner: BufWriter::new(append(path)),
            lines: written.clone(),
        };
        let json = slog_json::Json::new(writer)
            .add_default_keys()
            .build()
            .fuse();
        let drain = slog_async::Async::new(json)
            .chan_size(4_096)
            .overflow_strategy(slog_async::OverflowStrategy::Block)
            .build()
            .fuse();
        Slog {
            logger: slog::Logger::root(drain, slog::o!()),
            written,
            sent: 0,
        }
    }
}

impl Contender for Slog {
    #[inline(always)]
    fn log(&mut self, order_id: u64, price: f64, symbol: &str) {
        slog::info!(self.logger, "order filled"; "order_id" => order_id, "price" => price, "symbol" => symbol);
        self.sent += 1;
    }

    fn catch_up(&mut self) {
        wait_for("slog-async", &self.written, self.sent);
    }
}

// --- fast_log (through the `log` facade) ------------------------------------------------------

struct FastLog;

impl FastLog {
    /// Installs fast_log as the global `log` logger: call once per process.
    fn new(path: &Path) -> FastLog {
        let path = path.to_str().expect("fast_log: UTF-8 path");
        fast_log::init(
            fast_log::Config::new()
                .file(path)
                .level(log::LevelFilter::Info),
        )
        .expect("fast_log: init");
        FastLog
    }
}

impl Contender for FastLog {
    #[inline(always)]
    fn log(&mut self, order_id: u64, price: f64, symbol: &str) {
        log::info!("order filled order_id={order_id} price={price} symbol={symbol}");
    }

    fn catch_up(&mut self) {
        // fast_log's flush sends a flush command with a wait group and waits for it.
        log::logger().flush();
    }
}

// --- spdlog-rs --------------------------------------------------------------------------------

/// Delegates to a `FileSink` and counts the records it was handed.
struct CountedSink {
    inner: Arc<spdlog::sink::FileSink>,
    written: Arc<AtomicU64>,
}

impl spdlog::sink::SinkPropAccess for CountedSink {
    fn level_filter(&self) -> spdlog::LevelFilter {
        self.inner.level_filter()
    }
    fn set_level_filter(&self, level_filter: spdlog::LevelFilter) {
        self.inner.set_level_filter(level_filter)
    }
    fn set_formatter(&self, formatter: Box<dyn spdlog::formatter::Formatter>) {
        self.inner.set_formatter(formatter)
    }
    fn set_error_handler(&self, handler: spdlog::ErrorHandler) {
        self.inner.set_error_handler(handler)
    }
}

impl spdlog::sink::Sink for CountedSink {
    fn log(&self, record: &spdlog::Record) -> spdlog::Result<()> {
        let result = self.inner.log(record);
        self.written.fetch_add(1, Ordering::Release);
        result
    }
    fn flush(&self) -> spdlog::Result<()> {
        self.inner.flush()
    }
}

struct Spdlog {
    logger: spdlog::Logger,
    written: Arc<AtomicU64>,
    sent: u64,
}

impl Spdlog {
    fn new(path: &Path) -> Spdlog {
        let written = Arc::new(AtomicU64::new(0));
        let file = spdlog::sink::FileSink::builder()
            .path(path)
            .truncate(false) // append mode
            .formatter(spdlog::formatter::JsonFormatter::new())
            .build_arc()
            .expect("spdlog: file sink");
        let counted = Arc::new(CountedSink {
            inner: file,
            written: written.clone(),
        });
        let pool = spdlog::ThreadPool::builder()
            .build_arc()
            .expect("spdlog: thread pool");
        let sink = spdlog::sink::AsyncPoolSink::builder()
            .sink(counted)
            .thread_pool(pool)
            .build_arc()
            .expect("spdlog: async pool sink");
        let logger = spdlog::Logger::builder()
            .sink(sink)
            .level_filter(spdlog::LevelFilter::All)
            .build()
            .expect("spdlog: logger");
        Spdlog {
            logger,
            written,
            sent: 0,
        }
    }
}

impl Contender for Spdlog {
    #[inline(always)]
    fn log(&mut self, order_id: u64, price: f64, symbol: &str) {
        spdlog::info!(logger: self.logger, "order filled", kv: { order_id = order_id, price = price, symbol = symbol });
        self.sent += 1;
    }

    fn catch_up(&mut self) {
        wait_for("spdlog-rs", &self.written, self.sent);
    }
}

/// The timer's own cost in the first-call group: times nothing.
struct NoCall;

impl Contender for NoCall {
    #[inline(always)]
    fn log(&mut self, order_id: u64, price: f64, symbol: &str) {
        black_box((order_id, price, symbol));
    }
    fn catch_up(&mut self) {}
}

struct Peers {
    asynclog: Peer<Asynclog>,
    asynclog_global: Peer<AsynclogGlobal>,
    tracing_asynclog: Peer<TracingAsynclog>,
    log_asynclog: Peer<LogAsynclog>,
    tracing: Peer<Tracing>,
    slog: Peer<Slog>,
    fast_log: Peer<FastLog>,
    spdlog: Peer<Spdlog>,
}

impl Peers {
    fn new(dir: &Path) -> Peers {
        let file = |name: &str| dir.join(format!("{name}.log"));
        let (a, t, s, f, p) = (
            file("asynclog"),
            file("tracing"),
            file("slog"),
            file("fast_log"),
            file("spdlog"),
        );
        let (ag, ta, la) = (
            file("asynclog-global"),
            file("tracing-asynclog"),
            file("log-asynclog"),
        );
        Peers {
            asynclog: Peer::new("asynclog", Some(a.clone()), Asynclog::new(&a)),
            asynclog_global: Peer::new(
                "asynclog global macro",
                Some(ag.clone()),
                AsynclogGlobal::new(&ag),
            ),
            tracing_asynclog: Peer::new(
                "tracing + asynclog layer",
                Some(ta.clone()),
                TracingAsynclog::new(&ta),
            ),
            log_asynclog: Peer::new("log + asynclog", Some(la.clone()), LogAsynclog::new(&la)),
            tracing: Peer::new(
                "tracing-appender non_blocking",
                Some(t.clone()),
                Tracing::new(&t),
            ),
            slog: Peer::new("slog-async", Some(s.clone()), Slog::new(&s)),
            fast_log: Peer::new("fast_log", Some(f.clone()), FastLog::new(&f)),
            spdlog: Peer::new("spdlog-rs AsyncPoolSink", Some(p.clone()), Spdlog::new(&p)),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Measurements.

/// Time per call over bursts of [`BURST`], the backend catching up between bursts.
fn burst<C: Contender>(
    group: &mut BenchmarkGroup<'_, criterion::measurement::WallTime>,
    peer: &mut Peer<C>,
) {
    let name = peer.name;
    group.bench_function(name, |b| {
        b.iter_custom(|iters| {
            let mut timed = Duration::ZERO;
            let mut done = 0;
            peer.contender.enter();
            while done < iters {
                let n = (iters - done).min(BURST);
                let start = Instant::now();
                for order_id in done..done + n {
                    peer.log(order_id);
                }
                timed += start.elapsed();
                done += n;
                peer.settle(n);
            }
            peer.contender.exit();
            timed
        })
    });
}

/// One call after the backend has caught up and idled for [`PAUSE`].
fn first_call<C: Contender>(
    group: &mut BenchmarkGroup<'_, criterion::measurement::WallTime>,
    peer: &mut Peer<C>,
) {
    let name = peer.name;
    group.bench_function(name, |b| {
        b.iter_custom(|iters| {
            let mut timed = Duration::ZERO;
            peer.contender.enter();
            for order_id in 0..iters {
                peer.settle(1);
                std::thread::sleep(PAUSE);
                let start = Instant::now();
                peer.log(order_id);
                timed += start.elapsed();
            }
            peer.contender.exit();
            timed
        })
    });
}

/// Heap allocations per call made by the calling thread, over [`ALLOC_CALLS`] calls in bursts.
fn allocations_per_call<C: Contender>(peer: &mut Peer<C>) -> f64 {
    peer.contender.enter();
    for order_id in 0..BURST {
        peer.log(order_id);
    }
    peer.settle(BURST);
    let mut made = 0;
    let mut done = 0;
    while done < ALLOC_CALLS {
        let before = allocations();
        for order_id in done..done + BURST {
            peer.log(order_id);
        }
        made += allocations() - before;
        done += BURST;
        peer.settle(BURST);
    }
    peer.contender.exit();
    made as f64 / ALLOC_CALLS as f64
}

fn main() {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("peers");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("creating {}: {e}", dir.display()));
    let mut peers = Peers::new(&dir);
    let mut criterion = Criterion::default().configure_from_args();

    {
        let mut group = criterion.benchmark_group("peers/burst");
        group.throughput(Throughput::Elements(1));
        group.warm_up_time(Duration::from_millis(300));
        group.measurement_time(Duration::from_millis(700));
        group.sample_size(30);
        burst(&mut group, &mut peers.asynclog);
        burst(&mut group, &mut peers.asynclog_global);
        burst(&mut group, &mut peers.tracing_asynclog);
        burst(&mut group, &mut peers.log_asynclog);
        burst(&mut group, &mut peers.tracing);
        burst(&mut group, &mut peers.slog);
        burst(&mut group, &mut peers.fast_log);
        burst(&mut group, &mut peers.spdlog);
        group.finish();
    }
    {
        let mut group = criterion.benchmark_group("peers/first_call_after_pause");
        group.sampling_mode(SamplingMode::Flat);
        group.sample_size(PAUSE_SAMPLES);
        group.warm_up_time(Duration::from_nanos(1));
        group.measurement_time(Duration::from_nanos(1));
        let mut no_call = Peer::new("Instant pair (no call)", None, NoCall);
        first_call(&mut group, &mut no_call);
        first_call(&mut group, &mut peers.asynclog);
        first_call(&mut group, &mut peers.asynclog_global);
        first_call(&mut group, &mut peers.tracing_asynclog);
        first_call(&mut group, &mut peers.log_asynclog);
        first_call(&mut group, &mut peers.tracing);
        first_call(&mut group, &mut peers.slog);
        first_call(&mut group, &mut peers.fast_log);
        first_call(&mut group, &mut peers.spdlog);
        group.finish();
    }

    let rows = [
        (
            peers.asynclog.name,
            allocations_per_call(&mut peers.asynclog),
        ),
        (
            peers.asynclog_global.name,
            allocations_per_call(&mut peers.asynclog_global),
        ),
        (
            peers.tracing_asynclog.name,
            allocations_per_call(&mut peers.tracing_asynclog),
        ),
        (
            peers.log_asynclog.name,
            allocations_per_call(&mut peers.log_asynclog),
        ),
        (peers.tracing.name, allocations_per_call(&mut peers.tracing)),
        (peers.slog.name, allocations_per_call(&mut peers.slog)),
        (
            peers.fast_log.name,
            allocations_per_call(&mut peers.fast_log),
        ),
        (peers.spdlog.name, allocations_per_call(&mut peers.spdlog)),
    ];
    println!("\nheap allocations per call on the calling thread ({ALLOC_CALLS} calls after {BURST} warm-up, in bursts of {BURST}):");
    println!("{:<32} {:>12}", "contender", "allocs/call");
    for (name, per_call) in rows {
        println!("{name:<32} {per_call:>12.2}");
    }

    criterion.final_summary();
}
