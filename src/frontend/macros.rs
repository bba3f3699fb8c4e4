//! The logging macros. They build the field array on the stack, so a call allocates nothing, and
//! they skip building it when the level is filtered out.
//!
//! `log!` and the per-level macros are statements, like `tracing`'s and `log`'s: a record that is
//! not accepted (dropped under [`Backpressure::Drop`](crate::Backpressure::Drop), larger than the
//! ring) is counted in [`Stats::dropped`](crate::Stats::dropped) and passed to the
//! `on_message_dropped` hook; one logged after `close` began is counted in
//! [`Stats::refused`](crate::Stats::refused). Neither is returned.
//! The `try_` forms (`try_log!`, `try_info!`, ...) take the same arguments and return the call's
//! `Result<(), LogError>` for the callers that want the outcome of one call; so do the methods
//! ([`Logger::log`](crate::Logger::log), [`Logger::info`](crate::Logger::info), ...).
//!
//! A literal message may be a template naming the call's fields,
//! `info!(logger, "filled {qty} lots of {symbol}", qty = 5, symbol = "AAPL")`: nothing is
//! formatted on the calling thread (the template stays in the static call site, the values
//! travel as typed fields); the console sink renders it as `format!` would, and JSON lines and
//! Parquet keep the template in `message` beside the fields (see
//! [`ConsoleSink`](crate::ConsoleSink) for the placeholders it takes).
//!
//! Every macro also has a form without a logger, for the global logger that
//! [`asynclog::init`](crate::init) installs: `info!("msg", k = v)`,
//! `log!(Level::Warn, "msg", k = v)`, `fatal!("msg")`. Its message must be a string literal (the
//! first token is how the macro tells the forms apart). It costs what the same call through a
//! `Logger` costs, plus one load of the global pointer. Before `init` it logs and counts nothing
//! (the `try_` form returns [`LogError::NotInitialized`](crate::LogError::NotInitialized)); after
//! the guard has dropped, its record is refused like any record logged after `close`.

/// Logs at a given level and returns the call's `Result<(), LogError>`:
/// `try_log!(logger, Level::Warn, "msg", key = value, ...)?`, or
/// `try_log!(Level::Warn, "msg", key = value, ...)?` for the global logger (see
/// [`init`](crate::init); the message must then be a literal).
///
/// The statement form is [`log!`](crate::log!), which takes the same arguments. `logger` may be a
/// [`Logger`](crate::Logger) (or a reference to one) or a mutable
/// [`Producer`](crate::Producer). Keys are identifiers; values are anything that converts into a
/// [`Value`](crate::Value) (integers, floats, bools, `&str`, `&String`, `Option`s of those).
///
/// A literal message may name its fields, or take positional arguments, as `format!` does:
/// `"filled {qty} lots", qty = 5` or `"filled {} lots of {}", 5, "AAPL"` (positional arguments
/// become fields keyed `"0"`, `"1"`, ...; at most 16). Nothing is formatted on the calling
/// thread: the console renders the message, JSON lines and Parquet keep the template and the
/// typed fields.
///
/// # Errors
/// As [`Logger::log`](crate::Logger::log): [`LogError::Dropped`](crate::LogError::Dropped) when the
/// ring is full under `Backpressure::Drop`, [`LogError::TooLarge`](crate::LogError::TooLarge),
/// [`LogError::Closed`](crate::LogError::Closed), and the key and field-count limits.
///
/// ```
/// use asynclog::{try_debug, try_error, try_fatal, try_info, try_log, try_trace, try_warn, Level};
/// let logger = asynclog::Logger::new(asynclog::Config::default())?;
/// let symbol = String::from("AAPL");
/// try_log!(logger, Level::Warn, "price moved", symbol = &symbol, delta = -0.5)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[macro_export]
macro_rules! try_log {
    // The global logger (`asynclog::init`): a level, then a literal message. First, so that
    // `try_log!(level, "msg", k = v)` is not read as a logger, a level and a message `k = v`.
    ($level:expr, $message:literal $(, $key:ident = $value:expr)* $(,)?) => {{
        static CALLSITE: $crate::__private::Callsite =
            $crate::__private::Callsite::new($message, &[$(::core::stringify!($key)),*]);
        let level: $crate::Level = $level;
        match $crate::__private::global() {
            ::core::option::Option::Some(logger) => match logger.if_enabled(level) {
                ::core::option::Option::Some(logger) => logger.log_callsite(
                    level,
                    &CALLSITE,
                    [$(::core::convert::Into::<$crate::Value<'_>>::into($value)),*],
                ),
                ::core::option::Option::None => {
                    ::core::result::Result::<(), $crate::LogError>::Ok(())
                }
            },
            ::core::option::Option::None => {
                ::core::result::Result::<(), $crate::LogError>::Err($crate::LogError::NotInitialized)
            }
        }
    }};
    // The global logger with positional arguments (`"filled {} lots", qty`): their keys are
    // their indexes, "0", "1", ...
    ($level:expr, $message:literal, $($arg:expr),+ $(,)?) => {{
        static CALLSITE: $crate::__private::Callsite =
            $crate::__private::Callsite::new(
                $message,
                $crate::__private::positional_keys([$(::core::stringify!($arg)),+].len()),
            );
        let level: $crate::Level = $level;
        match $crate::__private::global() {
            ::core::option::Option::Some(logger) => match logger.if_enabled(level) {
                ::core::option::Option::Some(logger) => logger.log_callsite(
                    level,
                    &CALLSITE,
                    [$(::core::convert::Into::<$crate::Value<'_>>::into($arg)),+],
                ),
                ::core::option::Option::None => {
                    ::core::result::Result::<(), $crate::LogError>::Ok(())
                }
            },
            ::core::option::Option::None => {
                ::core::result::Result::<(), $crate::LogError>::Err($crate::LogError::NotInitialized)
            }
        }
    }};
    // A literal message: message and keys go into a static call site, and the record carries
    // only its id and the values.
    ($logger:expr, $level:expr, $message:literal $(, $key:ident = $value:expr)* $(,)?) => {{
        static CALLSITE: $crate::__private::Callsite =
            $crate::__private::Callsite::new($message, &[$(::core::stringify!($key)),*]);
        let level: $crate::Level = $level;
        // One evaluation of `$logger`; the values are evaluated in the caller's body (so `?`
        // in them works) and only when the level is enabled.
        match $logger.if_enabled(level) {
            ::core::option::Option::Some(logger) => logger.log_callsite(
                level,
                &CALLSITE,
                [$(::core::convert::Into::<$crate::Value<'_>>::into($value)),*],
            ),
            ::core::option::Option::None => ::core::result::Result::<(), $crate::LogError>::Ok(()),
        }
    }};
    // Positional arguments, as for the global logger above.
    ($logger:expr, $level:expr, $message:literal, $($arg:expr),+ $(,)?) => {{
        static CALLSITE: $crate::__private::Callsite =
            $crate::__private::Callsite::new(
                $message,
                $crate::__private::positional_keys([$(::core::stringify!($arg)),+].len()),
            );
        let level: $crate::Level = $level;
        // One evaluation of `$logger`; the values are evaluated in the caller's body (so `?`
        // in them works) and only when the level is enabled.
        match $logger.if_enabled(level) {
            ::core::option::Option::Some(logger) => logger.log_callsite(
                level,
                &CALLSITE,
                [$(::core::convert::Into::<$crate::Value<'_>>::into($arg)),+],
            ),
            ::core::option::Option::None => ::core::result::Result::<(), $crate::LogError>::Ok(()),
        }
    }};
    ($logger:expr, $level:expr, $message:expr $(, $key:ident = $value:expr)* $(,)?) => {{
        let level: $crate::Level = $level;
        match $logger.if_enabled(level) {
            ::core::option::Option::Some(logger) => {
                logger.log(level, $message, &[$($crate::Field::new(::core::stringify!($key), $value)),*])
            }
            ::core::option::Option::None => ::core::result::Result::<(), $crate::LogError>::Ok(()),
        }
    }};
}

/// Logs at a given level: `log!(logger, Level::Warn, "msg", key = value, ...);`.
///
/// A statement: a record that is not accepted is counted and reported to the hooks (see the
/// [`try_log!`](crate::try_log!) form for the outcome of one call). Arguments as `try_log!`.
///
/// ```
/// use asynclog::{log, Level};
/// let logger = asynclog::Logger::new(asynclog::Config::default())?;
/// let symbol = String::from("AAPL");
/// log!(logger, Level::Warn, "price moved", symbol = &symbol, delta = -0.5);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[macro_export]
macro_rules! log {
    ($($args:tt)+) => {{
        // Already counted and reported to `on_message_dropped` by the logger.
        let _ = $crate::try_log!($($args)+);
    }};
}

/// Logs at [`Level::Trace`](crate::Level::Trace): a statement, see [`log!`](crate::log!);
/// [`try_trace!`](crate::try_trace!) returns the call's `Result`.
#[macro_export]
macro_rules! trace {
    ($message:literal $($rest:tt)*) => { $crate::log!($crate::Level::Trace, $message $($rest)*) };
    ($logger:expr, $($rest:tt)+) => { $crate::log!($logger, $crate::Level::Trace, $($rest)+) };
}

/// Logs at [`Level::Trace`](crate::Level::Trace) and returns the call's `Result<(), LogError>`; see
/// [`try_log!`](crate::try_log!).
#[macro_export]
macro_rules! try_trace {
    ($message:literal $($rest:tt)*) => { $crate::try_log!($crate::Level::Trace, $message $($rest)*) };
    ($logger:expr, $($rest:tt)+) => { $crate::try_log!($logger, $crate::Level::Trace, $($rest)+) };
}

/// Logs at [`Level::Debug`](crate::Level::Debug): a statement, see [`log!`](crate::log!);
/// [`try_debug!`](crate::try_debug!) returns the call's `Result`.
#[macro_export]
macro_rules! debug {
    ($message:literal $($rest:tt)*) => { $crate::log!($crate::Level::Debug, $message $($rest)*) };
    ($logger:expr, $($rest:tt)+) => { $crate::log!($logger, $crate::Level::Debug, $($rest)+) };
}

/// Logs at [`Level::Debug`](crate::Level::Debug) and returns the call's `Result<(), LogError>`; see
/// [`try_log!`](crate::try_log!).
#[macro_export]
macro_rules! try_debug {
    ($message:literal $($rest:tt)*) => { $crate::try_log!($crate::Level::Debug, $message $($rest)*) };
    ($logger:expr, $($rest:tt)+) => { $crate::try_log!($logger, $crate::Level::Debug, $($rest)+) };
}

/// Logs at [`Level::Info`](crate::Level::Info): a statement, see [`log!`](crate::log!);
/// [`try_info!`](crate::try_info!) returns the call's `Result`.
///
/// ```
/// let logger = asynclog::Logger::new(asynclog::Config::default())?;
/// asynclog::info!(logger, "order filled", order_id = 42u64, price = 101.25, symbol = "AAPL");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[macro_export]
macro_rules! info {
    ($message:literal $($rest:tt)*) => { $crate::log!($crate::Level::Info, $message $($rest)*) };
    ($logger:expr, $($rest:tt)+) => { $crate::log!($logger, $crate::Level::Info, $($rest)+) };
}

/// Logs at [`Level::Info`](crate::Level::Info) and returns the call's `Result<(), LogError>`; see
/// [`try_log!`](crate::try_log!).
#[macro_export]
macro_rules! try_info {
    ($message:literal $($rest:tt)*) => { $crate::try_log!($crate::Level::Info, $message $($rest)*) };
    ($logger:expr, $($rest:tt)+) => { $crate::try_log!($logger, $crate::Level::Info, $($rest)+) };
}

/// Logs at [`Level::Warn`](crate::Level::Warn): a statement, see [`log!`](crate::log!);
/// [`try_warn!`](crate::try_warn!) returns the call's `Result`.
#[macro_export]
macro_rules! warn {
    ($message:literal $($rest:tt)*) => { $crate::log!($crate::Level::Warn, $message $($rest)*) };
    ($logger:expr, $($rest:tt)+) => { $crate::log!($logger, $crate::Level::Warn, $($rest)+) };
}

/// Logs at [`Level::Warn`](crate::Level::Warn) and returns the call's `Result<(), LogError>`; see
/// [`try_log!`](crate::try_log!).
#[macro_export]
macro_rules! try_warn {
    ($message:literal $($rest:tt)*) => { $crate::try_log!($crate::Level::Warn, $message $($rest)*) };
    ($logger:expr, $($rest:tt)+) => { $crate::try_log!($logger, $crate::Level::Warn, $($rest)+) };
}

/// Logs at [`Level::Error`](crate::Level::Error): a statement, see [`log!`](crate::log!);
/// [`try_error!`](crate::try_error!) returns the call's `Result`.
#[macro_export]
macro_rules! error {
    ($message:literal $($rest:tt)*) => { $crate::log!($crate::Level::Error, $message $($rest)*) };
    ($logger:expr, $($rest:tt)+) => { $crate::log!($logger, $crate::Level::Error, $($rest)+) };
}

/// Logs at [`Level::Error`](crate::Level::Error) and returns the call's `Result<(), LogError>`; see
/// [`try_log!`](crate::try_log!).
#[macro_export]
macro_rules! try_error {
    ($message:literal $($rest:tt)*) => { $crate::try_log!($crate::Level::Error, $message $($rest)*) };
    ($logger:expr, $($rest:tt)+) => { $crate::try_log!($logger, $crate::Level::Error, $($rest)+) };
}

/// Logs at [`Level::Fatal`](crate::Level::Fatal) and returns the call's `Result`, like
/// [`Logger::fatal`](crate::Logger::fatal): the record, then a flush of every sink. Does not exit
/// the process.
///
/// # Errors
/// As [`Logger::fatal`](crate::Logger::fatal).
#[macro_export]
macro_rules! try_fatal {
    ($message:literal $(, $key:ident = $value:expr)* $(,)?) => {
        $crate::__private::global_fatal($message, &[$($crate::Field::new(::core::stringify!($key), $value)),*])
    };
    // Positional arguments, keyed "0", "1", ... as for the other macros.
    ($message:literal, $($arg:expr),+ $(,)?) => {
        $crate::__private::global_fatal(
            $message,
            &$crate::__private::positional_fields([$(::core::convert::Into::<$crate::Value<'_>>::into($arg)),+]),
        )
    };
    ($logger:expr, $message:expr $(, $key:ident = $value:expr)* $(,)?) => {
        $logger.fatal($message, &[$($crate::Field::new(::core::stringify!($key), $value)),*])
    };
    ($logger:expr, $message:literal, $($arg:expr),+ $(,)?) => {
        $logger.fatal(
            $message,
            &$crate::__private::positional_fields([$(::core::convert::Into::<$crate::Value<'_>>::into($arg)),+]),
        )
    };
}

/// Logs at [`Level::Fatal`](crate::Level::Fatal) and then flushes every sink before returning,
/// like [`Logger::fatal`](crate::Logger::fatal). Does not exit the process.
///
/// A statement; [`try_fatal!`](crate::try_fatal!) returns the `Result` (a refused record, or a
/// flush that failed or timed out).
#[macro_export]
macro_rules! fatal {
    ($($args:tt)+) => {{
        let _ = $crate::try_fatal!($($args)+);
    }};
}
