//! Deterministic batches of varied records for sink-level tests and benches.
#![allow(dead_code)] // each test or bench uses some of these

use asynclog::{Batch, Field, Level};

const TEMPLATES: [&str; 8] = [
    "order filled",
    "order rejected: insufficient margin",
    "quote received",
    "connection to exchange gateway re-established",
    "position updated",
    "risk check passed",
    "heartbeat",
    "slow consumer detected on market data channel",
];

/// A batch of `n` records numbered from `first`: message from a set of templates, three fields
/// (`seq`, `price`, `symbol`), every seventh record without fields.
pub fn varied_batch(first: u64, n: usize) -> Batch {
    make(first, n, true)
}

/// As [`varied_batch`], but every record has the three fields.
pub fn three_field_batch(first: u64, n: usize) -> Batch {
    make(first, n, false)
}

fn make(first: u64, n: usize, some_without_fields: bool) -> Batch {
    let mut batch = Batch::with_capacity(n, n * 96);
    let mut x = first.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    for i in 0..n as u64 {
        let seq = first + i;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let level = Level::ALL[(x % 4) as usize + 1];
        let message = TEMPLATES[(x >> 8) as usize % TEMPLATES.len()];
        let symbol = ["AAPL", "MSFT", "GOOG", "AMZN", "NVDA"][(x >> 16) as usize % 5];
        let ts = 1_795_780_800_000_000_000 + seq as i64 * 1_000 + (x % 997) as i64;
        let fields = [
            Field::new("seq", seq),
            Field::new("price", (x % 100_000) as f64 / 100.0),
            Field::new("symbol", symbol),
        ];
        let fields: &[Field<'_>] = if some_without_fields && seq.is_multiple_of(7) {
            &[]
        } else {
            &fields
        };
        batch
            .push(ts, level, 1 + (x >> 24) % 8, message, fields)
            .unwrap();
    }
    batch
}
