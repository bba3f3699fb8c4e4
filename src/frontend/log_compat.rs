//! A [`log::Log`] implementation that writes `log` records into asynclog (cargo feature `log`).
//!
//! ```
//! let _guard = asynclog::init(asynclog::Config::default())?;
//! asynclog::log_compat::init(log::LevelFilter::Info).expect("no other `log` logger");
//! log::info!(order_id = 42u64, price = 101.25, symbol = "AAPL"; "order filled");
//! # Ok::<(), asynclog::Error>(())
//! ```
//!
//! # Which logger
//!
//! [`init`] installs a `log` logger that writes to the global asynclog logger of
//! [`asynclog::init`](crate::init) (records before `init` are ignored; after its guard has
//! dropped, refused and counted like any record logged after `close`). [`init_with`] writes to a
//! given `Arc<Logger>`, which it keeps alive for the rest of the process (the `log` facade never
//! drops its logger): close that `Logger` explicitly before the program ends. [`AsyncLogLogger`]
//! is the `log::Log` value itself, for composing with other `log` loggers.
//!
//! # What a record holds
//!
//! | `log` | asynclog |
//! | --- | --- |
//! | level `Trace` ... `Error` | [`Level::Trace`] ... [`Level::Error`], one to one |
//! | `args()` | the record's message |
//! | `target`, `module_path`, `file`, `line` | fields `target`, `module_path`, `file` (strings) and `line` (u64), first, in that order; `null` when unknown |
//! | key-values: integers, floats, bools, strings | typed fields `I64`/`U64` (`i128`/`u128` that fit 64 bits), `F64`, `Bool`, `Str` |
//! | key-values captured with `:%` (`Display`), `:?` (`Debug`), or of other types | `Str` fields, formatted on the calling thread |
//!
//! At most [`MAX_KEY_VALUES`] key-values are kept; the rest are left out.
//!
//! # Cost
//!
//! A `log` record has no static call site, so each record carries its message and keys (the
//! general record). Nothing is allocated per record: a message without arguments
//! (`Arguments::as_str`) and borrowed keys and strings are copied straight into the ring; a
//! formatted message, formatted values and keys or strings that `log` lends only for a moment are
//! written into a per-thread buffer of [`TEXT_BYTES`] bytes first (text beyond it
//! is cut at a character boundary).
//!
//! NB: callgrind, `examples/callcost log-facade` (`log::info!` with the benchmark's three
//! key-values): about 1,130 instructions per record on the calling thread, against 110 for
//! asynclog's `info!`: ~320 in `log`'s key-value visiting, ~500 encoding the general record
//! (message, seven keys and values).

use super::global::LoggerTarget;
use super::text::{with_text, TextArena};
use super::Logger;
use crate::value::{Field, Level, Value};
use log::kv::{self, Key, VisitSource, VisitValue};
use std::sync::Arc;

pub use super::text::TEXT_BYTES;

/// The most key-values of one record that are kept.
pub const MAX_KEY_VALUES: usize = 32;

/// The keys of the fields every record from this logger starts with.
pub const LOCATION_KEYS: [&str; LOCATION_FIELDS] = ["target", "module_path", "file", "line"];
const LOCATION_FIELDS: usize = 4;

/// A [`log::Log`] that logs every `log` record to an asynclog logger. See the
/// [module docs](self).
///
/// ```
/// use log::Log;
/// use std::sync::Arc;
///
/// let logger = Arc::new(asynclog::Logger::new(asynclog::Config::default())?);
/// let log_logger = asynclog::log_compat::AsyncLogLogger::new(logger.clone());
/// log_logger.log(
///     &log::Record::builder()
///         .level(log::Level::Warn)
///         .target("fills")
///         .args(format_args!("slow fill"))
///         .build(),
/// );
/// logger.flush()?;
/// assert_eq!(logger.stats().delivered, 1);
/// # Ok::<(), asynclog::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct AsyncLogLogger {
    target: LoggerTarget,
}

impl AsyncLogLogger {
    /// A `log` logger writing to `logger`, which it keeps alive.
    pub fn new(logger: Arc<Logger>) -> AsyncLogLogger {
        AsyncLogLogger {
            target: LoggerTarget::Logger(logger),
        }
    }

    /// A `log` logger writing to the global logger of [`asynclog::init`](crate::init),
    /// whichever is installed when a record arrives.
    pub const fn global() -> AsyncLogLogger {
        AsyncLogLogger {
            target: LoggerTarget::Global,
        }
    }

    #[inline(always)]
    fn logger(&self) -> Option<&Logger> {
        self.target.logger()
    }
}

/// Installs [`AsyncLogLogger::global`] as the `log` facade's logger and sets `log`'s maximum
/// level to `max_level`. Allocates nothing.
///
/// # Errors
/// `log`'s [`SetLoggerError`](log::SetLoggerError) when a `log` logger is already installed.
pub fn init(max_level: log::LevelFilter) -> Result<(), log::SetLoggerError> {
    static GLOBAL: AsyncLogLogger = AsyncLogLogger::global();
    log::set_logger(&GLOBAL)?;
    log::set_max_level(max_level);
    Ok(())
}

/// Installs an [`AsyncLogLogger`] writing to `logger` as the `log` facade's logger and sets
/// `log`'s maximum level to `max_level`. The `log` facade keeps it (and so `logger`) for the rest
/// of the process: close `logger` yourself when done.
///
/// # Errors
/// `log`'s [`SetLoggerError`](log::SetLoggerError) when a `log` logger is already installed.
pub fn init_with(
    logger: Arc<Logger>,
    max_level: log::LevelFilter,
) -> Result<(), log::SetLoggerError> {
    // One allocation, once; leaked because `log` wants a `&'static dyn Log`.
    log::set_logger(Box::leak(Box::new(AsyncLogLogger::new(logger))))?;
    log::set_max_level(max_level);
    Ok(())
}

/// `log`'s level as asynclog's.
#[inline]
fn level_of(level: log::Level) -> Level {
    Level::from(level)
}

impl log::Log for AsyncLogLogger {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        self.logger()
            .is_some_and(|logger| logger.enabled(level_of(metadata.level())))
    }

    fn log(&self, record: &log::Record<'_>) {
        let Some(logger) = self.logger() else {
            return;
        };
        let level = level_of(record.level());
        if !logger.enabled(level) {
            return;
        }
        with_text(|text| {
            let message = match record.args().as_str() {
                Some(message) => message,
                None => text.format(*record.args()),
            };
            let mut fields = [Field {
                key: "",
                value: Value::Null,
            }; LOCATION_FIELDS + MAX_KEY_VALUES];
            let location = [
                Value::Str(record.target()),
                record.module_path().into(),
                record.file().into(),
                record.line().into(),
            ];
            for (i, (key, value)) in LOCATION_KEYS.into_iter().zip(location).enumerate() {
                fields[i] = Field { key, value };
            }
            let mut visitor = KeyValues {
                fields: &mut fields[LOCATION_FIELDS..],
                len: 0,
                text,
            };
            // The visitor never fails; a failing `Source` keeps what it visited.
            let _ = record.key_values().visit(&mut visitor);
            let len = LOCATION_FIELDS + visitor.len;
            // A statement: a refused record is counted by the logger.
            let _ = logger.log_text(level, message, &fields[..len]);
        });
    }

    fn flush(&self) {
        if let Some(logger) = self.logger() {
            // `log::Log::flush` cannot report; the logger's hooks and stats have the details.
            let _ = logger.flush();
        }
    }
}

/// Turns a record's key-values into fields. `'f`, the fields' lifetime, is both the record's
/// and the text buffer's.
struct KeyValues<'a, 'b: 'f, 'f> {
    fields: &'a mut [Field<'f>],
    len: usize,
    text: &'a mut TextArena<'b>,
}

impl<'kvs: 'f, 'b: 'f, 'f> VisitSource<'kvs> for KeyValues<'_, 'b, 'f> {
    fn visit_pair(&mut self, key: Key<'kvs>, value: kv::Value<'kvs>) -> Result<(), kv::Error> {
        if self.len == self.fields.len() {
            return Ok(());
        }
        let key = match key.to_borrowed_str() {
            Some(key) => key,
            None => self.text.copy(key.as_str()),
        };
        let mut typed = TypedValue {
            value: Value::Null,
            text: self.text,
        };
        if value.visit(&mut typed).is_err() {
            typed.value = Value::Str(typed.text.display(&value));
        }
        self.fields[self.len] = Field {
            key,
            value: typed.value,
        };
        self.len += 1;
        Ok(())
    }
}

/// One `log` value as an asynclog [`Value`].
struct TypedValue<'a, 'b: 'f, 'f> {
    value: Value<'f>,
    text: &'a mut TextArena<'b>,
}

impl<'v: 'f, 'b: 'f, 'f> VisitValue<'v> for TypedValue<'_, 'b, 'f> {
    fn visit_any(&mut self, value: kv::Value<'_>) -> Result<(), kv::Error> {
        // `Display`, `Debug` and anything else without a typed method: its text.
        self.value = Value::Str(self.text.display(&value));
        Ok(())
    }

    fn visit_null(&mut self) -> Result<(), kv::Error> {
        self.value = Value::Null;
        Ok(())
    }

    fn visit_u64(&mut self, value: u64) -> Result<(), kv::Error> {
        self.value = Value::U64(value);
        Ok(())
    }

    fn visit_i64(&mut self, value: i64) -> Result<(), kv::Error> {
        self.value = Value::I64(value);
        Ok(())
    }

    fn visit_u128(&mut self, value: u128) -> Result<(), kv::Error> {
        self.value = match u64::try_from(value) {
            Ok(value) => Value::U64(value),
            Err(_) => Value::Str(self.text.display(&value)),
        };
        Ok(())
    }

    fn visit_i128(&mut self, value: i128) -> Result<(), kv::Error> {
        self.value = match i64::try_from(value) {
            Ok(value) => Value::I64(value),
            Err(_) => Value::Str(self.text.display(&value)),
        };
        Ok(())
    }

    fn visit_f64(&mut self, value: f64) -> Result<(), kv::Error> {
        self.value = Value::F64(value);
        Ok(())
    }

    fn visit_bool(&mut self, value: bool) -> Result<(), kv::Error> {
        self.value = Value::Bool(value);
        Ok(())
    }

    fn visit_str(&mut self, value: &str) -> Result<(), kv::Error> {
        self.value = Value::Str(self.text.copy(value));
        Ok(())
    }

    fn visit_borrowed_str(&mut self, value: &'v str) -> Result<(), kv::Error> {
        self.value = Value::Str(value);
        Ok(())
    }
}
