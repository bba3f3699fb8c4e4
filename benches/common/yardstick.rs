//! The yardstick for the hot path: a 64-byte struct stamped with an `rdtsc`, pushed into
//! a bare `rtrb` ring, no logger. Shared by `benches/hot_path.rs` (timed beside the log call)
//! and `examples/callcost.rs` (instructions counted beside it), so both measure the same thing.

use asynclog::__private::read_tsc;

/// One yardstick record: 64 bytes.
#[derive(Clone, Copy)]
pub struct BareRecord {
    tsc: u64,
    order_id: u64,
    payload: [u64; 6],
}

impl BareRecord {
    /// A record stamped now.
    #[inline(always)]
    pub fn now(order_id: u64) -> BareRecord {
        BareRecord {
            tsc: read_tsc(),
            order_id,
            payload: [order_id, 101, 25, 4, 0x4c50_4141, 1],
        }
    }

    /// Reads every field, as the drain reads every byte of a record.
    pub fn checksum(&self) -> u64 {
        (self.payload.iter()).fold(self.tsc ^ self.order_id, |a, &b| a.wrapping_add(b))
    }
}
