//! The `log` facade as the front end, asynclog as the back end: `log_compat::init` installs a
//! `log::Log` writing to the global logger, here to the console. Records keep their level,
//! message, target and location (as fields), and their key-values as typed fields.
//!
//! Run: `cargo run --release --example with_log --features log`

use asynclog::{Config, ConsoleSink};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // The guard closes the logger when `main` returns; keep it named.
    let _guard = asynclog::init(Config::default().with_sink(ConsoleSink::stdout()))?;
    // One call: `log` records (up to Debug) go to the global logger. To write to a `Logger` of
    // your own, `log_compat::init_with(Arc::new(logger), level)`.
    asynclog::log_compat::init(log::LevelFilter::Debug)?;

    let symbol = String::from("AAPL");
    log::info!(order_id = 42u64, price = 101.25, symbol = symbol.as_str(); "order filled");
    log::warn!(target: "risk", latency_us = 1250u64; "slow fill");
    log::debug!(qty = 5u32; "filled {} lots of {}", 5, symbol);
    log::error!(reason:% = "price out of band", accepted = false; "order rejected");
    log::trace!("below the level set above: not logged");
    Ok(())
}
