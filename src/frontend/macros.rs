//! `log!` and the per-level macros. They build the field array on the stack, so a call allocates
//! nothing, and they skip building it when the level is filtered out.

/// Logs at a given level: `log!(logger, Level::Warn, "msg", key = value, ...)`.
///
/// `logger` may be a [`Logger`](crate::Logger) (or a reference to one) or a mutable
/// [`Producer`](crate::Producer). Keys are identifiers; values are anything that converts into a
/// [`Value`](crate::Value) (integers, floats, bools, `&str`, `&String`, `Option`s of those).
/// Evaluates to the call's `Result<(), LogError>`.
///
/// ```
/// use asynclog::{log, Level};
/// let logger = asynclog::Logger::new(asynclog::Config::default())?;
/// let symbol = String::from("AAPL");
/// log!(logger, Level::Warn, "price moved", symbol = &symbol, delta = -0.5)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[macro_export]
macro_rules! log {
    // A literal message: message and keys go into a static call site, and the record carries
    // only its id and the values (see `asynclog::ring::callsite`).
    ($logger:expr, $level:expr, $message:literal $(, $key:ident = $value:expr)* $(,)?) => {{
        static CALLSITE: $crate::ring::callsite::Callsite =
            $crate::ring::callsite::Callsite::new($message, &[$(::core::stringify!($key)),*]);
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
    ($logger:expr, $level:expr, $message:expr $(, $key:ident = $value:expr)* $(,)?) => {{
        let level: $crate::Level = $level;
        match $logger.if_enabled(level) {
            ::core::option::Option::Some(logger) => {
                logger.log(level, $message, &[$($crate::Field::new(stringify!($key), $value)),*])
            }
            ::core::option::Option::None => ::core::result::Result::<(), $crate::LogError>::Ok(()),
        }
    }};
}

/// Logs at [`Level::Trace`](crate::Level::Trace); see [`log!`](crate::log!).
#[macro_export]
macro_rules! trace {
    ($logger:expr, $($rest:tt)+) => { $crate::log!($logger, $crate::Level::Trace, $($rest)+) };
}

/// Logs at [`Level::Debug`](crate::Level::Debug); see [`log!`](crate::log!).
#[macro_export]
macro_rules! debug {
    ($logger:expr, $($rest:tt)+) => { $crate::log!($logger, $crate::Level::Debug, $($rest)+) };
}

/// Logs at [`Level::Info`](crate::Level::Info); see [`log!`](crate::log!).
///
/// ```
/// let logger = asynclog::Logger::new(asynclog::Config::default())?;
/// asynclog::info!(logger, "order filled", order_id = 42u64, price = 101.25, symbol = "AAPL")?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[macro_export]
macro_rules! info {
    ($logger:expr, $($rest:tt)+) => { $crate::log!($logger, $crate::Level::Info, $($rest)+) };
}

/// Logs at [`Level::Warn`](crate::Level::Warn); see [`log!`](crate::log!).
#[macro_export]
macro_rules! warn {
    ($logger:expr, $($rest:tt)+) => { $crate::log!($logger, $crate::Level::Warn, $($rest)+) };
}

/// Logs at [`Level::Error`](crate::Level::Error); see [`log!`](crate::log!).
#[macro_export]
macro_rules! error {
    ($logger:expr, $($rest:tt)+) => { $crate::log!($logger, $crate::Level::Error, $($rest)+) };
}

/// Logs at [`Level::Fatal`](crate::Level::Fatal) and then flushes every sink before returning,
/// like [`Logger::fatal`](crate::Logger::fatal). Does not exit the process.
#[macro_export]
macro_rules! fatal {
    ($logger:expr, $message:expr $(, $key:ident = $value:expr)* $(,)?) => {
        $logger.fatal($message, &[$($crate::Field::new(stringify!($key), $value)),*])
    };
}
