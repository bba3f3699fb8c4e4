//! `tracing` as the front end, asynclog as the back end: a `tracing_subscriber` registry with
//! `AsyncLogLayer`, writing through the global logger to the console. Events keep their level,
//! message, target and location (as fields) and typed fields; `%` and `?` values arrive as text;
//! an event inside spans carries their fields too.
//!
//! Run: `cargo run --release --example with_tracing --features tracing`

use asynclog::tracing::AsyncLogLayer;
use asynclog::{Config, ConsoleSink};
use tracing_subscriber::layer::SubscriberExt;

#[derive(Debug)]
struct Order {
    id: u64,
    qty: u32,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // The guard closes the logger when `main` returns; keep it named.
    let _guard = asynclog::init(Config::default().with_sink(ConsoleSink::stdout()))?;
    // The layer writes to the global logger. A `Logger` of your own works too:
    // `AsyncLogLayer::new(Arc::new(logger))` (close it yourself before exiting).
    let subscriber = tracing_subscriber::registry().with(AsyncLogLayer::global());
    tracing::subscriber::set_global_default(subscriber)?;

    let order = Order { id: 42, qty: 5 };
    tracing::info!(
        order_id = order.id,
        price = 101.25,
        symbol = "AAPL",
        "order filled"
    );
    tracing::warn!(target: "risk", latency_us = 1250u64, order = ?order, "slow fill");
    tracing::debug!(qty = order.qty, "filled {} lots of {}", order.qty, "AAPL");
    tracing::error!(reason = %"price out of band", accepted = false, "order rejected");

    // The event carries `session = "fix-7"` and `attempt = 2` after its own `venue`.
    let session = tracing::info_span!("session", session = "fix-7");
    let _session = session.enter();
    tracing::info_span!("retry", attempt = 2u64).in_scope(|| {
        tracing::info!(venue = "XNAS", "order resent");
    });

    // asynclog's own macros write to the same logger.
    asynclog::info!("done", events = 5u64);
    Ok(())
}
