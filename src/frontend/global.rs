//! The process-wide logger behind the macros that take no logger (`info!("msg", k = v)`).
//!
//! [`init`] starts a [`Logger`] and publishes it in one static; the macros read that static
//! (one load) and then take exactly the path `info!(logger, ...)` takes. The `Logger` is leaked:
//! a thread may still hold a reference from that load when the guard closes the logger, so it is
//! never freed (one small allocation per [`init`] for the life of the process; its threads and
//! rings are gone once it is closed).

use super::Logger;
use crate::config::Config;
use crate::error::{Error, LogError};
use crate::shared::{on_internal_thread, without_caller_hooks};
use crate::value::{Field, Level};
use std::ptr;
use std::sync::atomic::{AtomicPtr, Ordering};
use std::sync::{Mutex, Once};

/// The installed logger, or null before the first [`init`]. Only [`init`] stores, with
/// `Release`, a pointer from `Box::leak` (valid for the rest of the process); readers load it
/// with `Acquire`, so they see the `Logger` fully built. An acquire load is the same single
/// `mov` as a relaxed one on x86-64 (and an `ldar`/`ldapr` on AArch64), so a global macro call
/// costs a load and a null check more than a call through a `&Logger` held in a register. NB:
/// callgrind, `examples/callcost` (100,000 calls, x86-64): `macro` 110.25 and `global` 113.25
/// instructions per call.
static GLOBAL: AtomicPtr<Logger> = AtomicPtr::new(ptr::null_mut());

/// Whether a [`GlobalGuard`] is alive; taken by [`init`] and by the guard's drop, never on a log
/// call.
static GUARD_ALIVE: Mutex<bool> = Mutex::new(false);

static PANIC_HOOK: Once = Once::new();

/// Installs `config`'s logger as the process's global logger, and a panic hook that flushes it
/// (see below). Returns the guard that closes it.
///
/// After this, the macros without a logger argument write to it:
///
/// ```
/// let _guard = asynclog::init(asynclog::Config::default())?;
/// asynclog::info!("order filled", order_id = 42u64, price = 101.25, symbol = "AAPL");
/// asynclog::warn!("slow fill", latency_us = 1250);
/// asynclog::log!(asynclog::Level::Error, "rejected", order_id = 43u64);
/// # Ok::<(), asynclog::Error>(())
/// ```
///
/// **Keep the guard** in a named variable (`_guard`, not `_`) until the program ends: dropping it
/// flushes and closes the logger, and `let _ = asynclog::init(..)` drops it at once, so every
/// record after that line is refused.
///
/// - **Before `init`**, a global macro logs nothing and counts nothing; its `try_` form returns
///   [`LogError::NotInitialized`]. [`global`] returns `None`.
/// - **After the guard dropped**, the logger is closed: a global macro's record is refused and
///   counted in [`Stats::refused`](crate::Stats::refused) (see [`global`]), and its `try_` form
///   returns [`LogError::Closed`]. `init` may then install a new logger.
/// - **On a panic** (in any thread), the hook logs an `ERROR` record `"panic"` with the panic's
///   `payload` (when it is a string), `file` and `line` (without calling the `on_message_buffered`
///   and `on_message_dropped` hooks: a panic in a hook there would abort the process), flushes the
///   global logger (waiting at most [`Config::close_timeout`]), then calls the hook that was
///   installed before (by default, the one that prints the panic). It is installed by the first
///   `init` and stays installed; it does nothing while no logger is installed, nor for a panic on
///   asynclog's own threads (a panicking sink is reported through the logger's hooks and stats).
/// - **On SIGTERM and other signals**: a log call, `flush` and `close` are not
///   async-signal-safe, so do not call them from a signal handler. Let your own signal handling
///   (a handler that only sets a flag or writes to a pipe, or your runtime's signal stream) wake a
///   normal thread, and have that thread call [`flush_global`] or drop the guard (for instance by
///   returning from `main`).
///
/// # Errors
/// [`Error::AlreadyInitialized`] while the guard of an earlier `init` is alive; otherwise as
/// [`Logger::new`].
pub fn init(config: Config) -> Result<GlobalGuard, Error> {
    let mut alive = GUARD_ALIVE.lock().unwrap_or_else(|e| e.into_inner());
    if *alive {
        return Err(Error::AlreadyInitialized);
    }
    let logger: &'static Logger = Box::leak(Box::new(Logger::new(config)?));
    // Release pairs with the Acquire in `global`: a thread that sees the pointer sees the Logger.
    GLOBAL.store(ptr::from_ref(logger).cast_mut(), Ordering::Release);
    *alive = true;
    PANIC_HOOK.call_once(install_panic_hook);
    Ok(GlobalGuard { logger })
}

/// The global logger, once [`init`] has run (closed if its guard has dropped): for
/// [`flush`](Logger::flush), [`stats`](Logger::stats), [`set_min_level`](Logger::set_min_level),
/// [`producer`](Logger::producer) and the other `Logger` methods.
///
/// ```
/// let guard = asynclog::init(asynclog::Config::default())?;
/// asynclog::info!("started");
/// let logger = asynclog::global().expect("installed above");
/// logger.flush()?;
/// assert_eq!(logger.stats().delivered, 1);
/// drop(guard);
/// asynclog::info!("too late"); // refused: the logger is closed
/// assert_eq!(logger.stats().refused, 1);
/// # Ok::<(), asynclog::Error>(())
/// ```
#[inline(always)]
pub fn global() -> Option<&'static Logger> {
    let logger = GLOBAL.load(Ordering::Acquire);
    // SAFETY: `GLOBAL` holds null or a pointer from `Box::leak` in `init`, never freed, and the
    // Acquire load makes the `Logger` it points to visible (see `GLOBAL`).
    unsafe { logger.as_ref() }
}

/// Flushes the global logger: every record logged before the call is written by every sink.
/// Call it from a normal thread, never from a signal handler (see [`init`]).
///
/// # Errors
/// [`Error::NotInitialized`] before [`init`]; otherwise as [`Logger::flush`] ([`Error::Closed`]
/// once the guard has dropped).
pub fn flush_global() -> Result<(), Error> {
    global().ok_or(Error::NotInitialized)?.flush()
}

/// Closes the global logger when dropped: drains every ring, flushes and closes every sink, like
/// dropping a [`Logger`] (and like `tracing-appender`'s `WorkerGuard`). Returned by [`init`];
/// bind it to a named variable that lives until the end of `main`, never to `_`.
///
/// The guard is `#[must_use]`, so calling `init` as a statement, which drops the guard at once,
/// is warned about (here made an error). `let _ = asynclog::init(..)` is not: it silences the
/// warning and drops the guard as well.
///
/// ```compile_fail
/// #![deny(unused_must_use)]
/// fn main() -> Result<(), asynclog::Error> {
///     asynclog::init(asynclog::Config::default())?; // the logger closes on this line
///     Ok(())
/// }
/// ```
#[must_use = "dropping the GlobalGuard closes the global logger at once: bind it to a named variable (`_guard`), not `_`"]
#[derive(Debug)]
pub struct GlobalGuard {
    logger: &'static Logger,
}

impl GlobalGuard {
    /// The global logger.
    pub fn logger(&self) -> &'static Logger {
        self.logger
    }

    /// Closes the global logger now and returns the outcome, which dropping the guard cannot.
    ///
    /// # Errors
    /// As [`Logger::close`].
    pub fn close(self) -> Result<(), Error> {
        // The drop that follows finds it closed and only releases the guard.
        self.logger.close()
    }
}

impl Drop for GlobalGuard {
    fn drop(&mut self) {
        // As dropping a `Logger`: on an asynclog thread (the guard held by a sink or hook of
        // another logger), where `close` may not wait, the close is started without waiting.
        self.logger.close_on_drop();
        *GUARD_ALIVE.lock().unwrap_or_else(|e| e.into_inner()) = false;
    }
}

/// The global `fatal!` / `try_fatal!` without a logger.
#[doc(hidden)]
pub fn fatal(message: &str, fields: &[Field<'_>]) -> Result<(), LogError> {
    global()
        .ok_or(LogError::NotInitialized)?
        .fatal(message, fields)
}

/// Chains a hook that logs the panic and flushes the global logger before the previous hook.
fn install_panic_hook() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        // Not on asynclog's own threads: a panicking sink is reported through the hooks and
        // stats, and a flush there would wait for the thread itself (it fails at once instead).
        if let Some(logger) = global().filter(|_| !on_internal_thread()) {
            let payload = info.payload();
            let text = payload
                .downcast_ref::<&str>()
                .copied()
                .or_else(|| payload.downcast_ref::<String>().map(String::as_str));
            let location = info.location();
            // Refused (and counted) when the logger is closed; nothing to do about it here.
            // Without the calling-thread hooks: a hook that panics here (as it may have just
            // done, making this panic) would abort the process.
            let _ = without_caller_hooks(|| {
                logger.log(
                    Level::Error,
                    "panic",
                    &[
                        Field::new("payload", text),
                        Field::new("file", location.map(|l| l.file())),
                        Field::new("line", location.map(|l| l.line())),
                    ],
                )
            });
            // Fails at once after close; waits at most `close_timeout`.
            let _ = logger.flush();
        }
        previous(info);
    }));
}

/// Where the `tracing` and `log` front ends write: a given logger, which they keep alive, or the
/// global one, whichever is installed when a record arrives.
#[cfg(any(feature = "tracing", feature = "log"))]
#[derive(Debug, Clone)]
pub(crate) enum LoggerTarget {
    Global,
    Logger(std::sync::Arc<Logger>),
}

#[cfg(any(feature = "tracing", feature = "log"))]
impl LoggerTarget {
    /// The logger to write to now, if any.
    #[inline(always)]
    pub(crate) fn logger(&self) -> Option<&Logger> {
        match self {
            LoggerTarget::Global => global(),
            LoggerTarget::Logger(logger) => Some(logger),
        }
    }
}
