//! An asymmetric fence for the close protocol.
//!
//! A log call commits its record and then re-reads the logger's `closed` flag; `close` sets the
//! flag and then drains the rings one last time. For the drain to be sure it sees every record
//! whose call saw `closed == false`, both sides need a full fence between their store and their
//! load (store→load ordering, Dekker style). A full fence costs more than the rest of a log call,
//! so the calling thread issues only a compiler fence ([`light`]) and `close`, which runs once,
//! pays for a process-wide barrier with Linux's `membarrier(PRIVATE_EXPEDITED)` ([`heavy`]): it
//! runs a full fence on every CPU currently running one of our threads, and a thread that is not
//! running has passed through a context switch, which is one. Where `membarrier` is not
//! available both sides fall back to `fence(SeqCst)`.

use crate::os;
use std::sync::atomic::{compiler_fence, fence, AtomicBool, Ordering};
use std::sync::OnceLock;

/// Set once, before any producer exists, when the expedited barrier is registered.
static EXPEDITED: AtomicBool = AtomicBool::new(false);

/// Registers this process for expedited barriers. Called by `Logger::new` before it hands out
/// any producer, so every producer sees the final value of `EXPEDITED`.
pub fn register() {
    static DONE: OnceLock<()> = OnceLock::new();
    DONE.get_or_init(|| EXPEDITED.store(register_membarrier(), Ordering::SeqCst));
}

fn register_membarrier() -> bool {
    if std::env::var("ASYNCLOG_MEMBARRIER").is_ok_and(|v| v == "off") {
        return false;
    }
    os::register_membarrier_expedited()
}

/// The calling thread's side: between committing a record and re-reading `closed`.
#[inline(always)]
pub fn light() {
    if EXPEDITED.load(Ordering::Relaxed) {
        compiler_fence(Ordering::SeqCst);
    } else {
        fence(Ordering::SeqCst);
    }
}

/// The closer's side: between setting `closed` and the final drain.
pub fn heavy() {
    if EXPEDITED.load(Ordering::Relaxed) && os::membarrier_expedited() {
        return;
    }
    fence(Ordering::SeqCst);
}
