//! The global logger: `asynclog::init` once in `main`, then the macros without a logger argument
//! from anywhere, other threads included. The guard flushes and closes on drop; a panic flushes
//! first (the hook `init` installs), and a shutdown request is handled on a normal thread, not
//! in a signal handler.
//!
//! Run: `cargo run --release --example global`

use asynclog::{error, fatal, info, warn, Config, ConsoleSink, Level};
use std::sync::mpsc;
use std::time::Duration;

fn main() -> Result<(), asynclog::Error> {
    // Keep the guard until the end of `main` (named `_guard`, never `_`): dropping it flushes and
    // closes the logger.
    let _guard = asynclog::init(Config::default().with_sink(ConsoleSink::stdout()))?;

    info!(
        "service started",
        workers = 2u64,
        version = env!("CARGO_PKG_VERSION")
    );

    // A stand-in for the program's own shutdown signal: a signal handler must not log or flush
    // (neither is async-signal-safe), so it only wakes this thread (here, a channel; in a real
    // program, a self-pipe, `signalfd`, or the runtime's signal stream), which flushes.
    let (shutdown, requested) = mpsc::channel::<()>();

    let workers: Vec<_> = (0..2u64)
        .map(|worker| {
            std::thread::spawn(move || {
                for order_id in 0..3u64 {
                    info!(
                        "order filled",
                        worker = worker,
                        order_id = order_id,
                        price = 101.25
                    );
                }
                warn!("worker done", worker = worker);
            })
        })
        .collect();
    for worker in workers {
        worker.join().expect("worker");
    }
    asynclog::log!(Level::Debug, "all workers joined");

    shutdown.send(()).expect("shutdown");
    if requested.recv_timeout(Duration::from_secs(1)).is_ok() {
        error!("shutdown requested", reason = "example");
        asynclog::flush_global()?; // everything above is written now
    }
    fatal!("exiting"); // logs, then flushes
    Ok(())
    // `_guard` drops here: the logger drains and closes its sinks.
}
