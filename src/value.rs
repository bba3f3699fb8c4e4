//! What a caller hands to a log call: the level, typed field values and owned messages.

use std::fmt;
use std::time::SystemTime;

/// Severity of a record. Ordered: `Trace < Debug < Info < Warn < Error < Fatal`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u8)]
pub enum Level {
    /// Finest detail, usually off in production.
    Trace = 0,
    /// Diagnostic detail.
    Debug = 1,
    /// Normal operation.
    Info = 2,
    /// Something unexpected that the program recovered from.
    Warn = 3,
    /// A failed operation.
    Error = 4,
    /// The program is about to stop; `fatal` also flushes before returning.
    Fatal = 5,
}

impl Level {
    /// Every level, lowest first.
    pub const ALL: [Level; 6] = [
        Level::Trace,
        Level::Debug,
        Level::Info,
        Level::Warn,
        Level::Error,
        Level::Fatal,
    ];

    /// The upper-case name used in every output format (`"INFO"`).
    pub const fn as_str(self) -> &'static str {
        match self {
            Level::Trace => "TRACE",
            Level::Debug => "DEBUG",
            Level::Info => "INFO",
            Level::Warn => "WARN",
            Level::Error => "ERROR",
            Level::Fatal => "FATAL",
        }
    }

    /// The level whose `as u8` is `raw`, if any.
    pub const fn from_u8(raw: u8) -> Option<Level> {
        match raw {
            0 => Some(Level::Trace),
            1 => Some(Level::Debug),
            2 => Some(Level::Info),
            3 => Some(Level::Warn),
            4 => Some(Level::Error),
            5 => Some(Level::Fatal),
            _ => None,
        }
    }

    /// Parses `"info"`, `"INFO"`, `"Warn"` and so on. [`str::parse`] does the same and says
    /// which name it refused ([`ParseLevelError`]).
    pub fn parse(name: &str) -> Option<Level> {
        Level::ALL
            .into_iter()
            .find(|level| level.as_str().eq_ignore_ascii_case(name))
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

/// Any level name, in any case (`"info"`, `"WARN"`, `"fatal"`), without surrounding whitespace
/// (trim it first), as `log::Level` parses its names: for a level read from a config file or an
/// environment variable.
///
/// ```
/// use asynclog::Level;
///
/// let level: Level = "warn".parse()?;
/// assert_eq!(level, Level::Warn);
/// assert_eq!("FATAL".parse::<Level>()?, Level::Fatal);
/// assert!("verbose".parse::<Level>().is_err());
/// # Ok::<(), asynclog::ParseLevelError>(())
/// ```
impl std::str::FromStr for Level {
    type Err = ParseLevelError;

    fn from_str(name: &str) -> Result<Level, ParseLevelError> {
        Level::parse(name).ok_or_else(|| ParseLevelError {
            name: name.to_owned(),
        })
    }
}

/// A string that names no [`Level`], from [`Level`]'s `FromStr`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseLevelError {
    name: String,
}

impl ParseLevelError {
    /// The string that was refused.
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl fmt::Display for ParseLevelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown level `{}` (expected trace, debug, info, warn, error or fatal)",
            self.name
        )
    }
}

impl std::error::Error for ParseLevelError {}

/// `log`'s five levels map one to one; asynclog's `Fatal` has no `log` counterpart, so there is
/// no conversion back.
#[cfg(feature = "log")]
impl From<log::Level> for Level {
    #[inline]
    fn from(level: log::Level) -> Level {
        match level {
            log::Level::Error => Level::Error,
            log::Level::Warn => Level::Warn,
            log::Level::Info => Level::Info,
            log::Level::Debug => Level::Debug,
            log::Level::Trace => Level::Trace,
        }
    }
}

/// `tracing`'s five levels (`tracing::Level` is this type) map one to one; asynclog's `Fatal`
/// has no `tracing` counterpart, so there is no conversion back.
#[cfg(feature = "tracing")]
impl From<tracing_core::Level> for Level {
    #[inline]
    fn from(level: tracing_core::Level) -> Level {
        match level {
            tracing_core::Level::TRACE => Level::Trace,
            tracing_core::Level::DEBUG => Level::Debug,
            tracing_core::Level::INFO => Level::Info,
            tracing_core::Level::WARN => Level::Warn,
            _ => Level::Error,
        }
    }
}

/// A typed field value borrowed from the caller. Strings are copied into the ring by the log call,
/// so the borrow ends when the call returns.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub enum Value<'a> {
    /// A signed integer (every signed Rust integer up to 64 bits).
    I64(i64),
    /// An unsigned integer (every unsigned Rust integer up to 64 bits).
    U64(u64),
    /// A 64-bit float; NaN and the infinities are kept as they are.
    F64(f64),
    /// A 32-bit float, kept as one so that sinks write the shortest decimal that reads back as
    /// this `f32` (`0.1f32` as `0.1`, where widened to `f64` it would be `0.10000000149011612`).
    F32(f32),
    /// A boolean.
    Bool(bool),
    /// A string.
    Str(&'a str),
    /// No value (`None`).
    Null,
}

macro_rules! value_from {
    ($variant:ident as $target:ty: $($source:ty),*) => {
        $(impl From<$source> for Value<'_> {
            fn from(v: $source) -> Self {
                Value::$variant(v as $target)
            }
        })*
    };
}
value_from!(I64 as i64: i8, i16, i32, i64, isize);
value_from!(U64 as u64: u8, u16, u32, u64, usize);
value_from!(F64 as f64: f64);
value_from!(F32 as f32: f32);

impl From<bool> for Value<'_> {
    fn from(v: bool) -> Self {
        Value::Bool(v)
    }
}

impl<'a> From<&'a str> for Value<'a> {
    fn from(v: &'a str) -> Self {
        Value::Str(v)
    }
}

impl<'a> From<&'a String> for Value<'a> {
    fn from(v: &'a String) -> Self {
        Value::Str(v.as_str())
    }
}

impl<'a, T: Into<Value<'a>>> From<Option<T>> for Value<'a> {
    fn from(v: Option<T>) -> Self {
        v.map_or(Value::Null, Into::into)
    }
}

impl<'a> From<&'a OwnedValue> for Value<'a> {
    fn from(v: &'a OwnedValue) -> Self {
        match v {
            OwnedValue::I64(v) => Value::I64(*v),
            OwnedValue::U64(v) => Value::U64(*v),
            OwnedValue::F64(v) => Value::F64(*v),
            OwnedValue::F32(v) => Value::F32(*v),
            OwnedValue::Bool(v) => Value::Bool(*v),
            OwnedValue::Str(v) => Value::Str(v),
            OwnedValue::Null => Value::Null,
        }
    }
}

impl fmt::Display for Value<'_> {
    /// Plain text: numbers as Rust prints them, strings unquoted, `null` for [`Value::Null`].
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::I64(v) => write!(f, "{v}"),
            Value::U64(v) => write!(f, "{v}"),
            Value::F64(v) => write!(f, "{v}"),
            Value::F32(v) => write!(f, "{v}"),
            Value::Bool(v) => write!(f, "{v}"),
            Value::Str(v) => f.write_str(v),
            Value::Null => f.write_str("null"),
        }
    }
}

/// A key and a typed value: one structured field of a record.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Field<'a> {
    /// The field name.
    pub key: &'a str,
    /// The field value.
    pub value: Value<'a>,
}

impl<'a> Field<'a> {
    /// `Field::new("user_id", 12345)`.
    #[inline]
    pub fn new(key: &'a str, value: impl Into<Value<'a>>) -> Self {
        Field {
            key,
            value: value.into(),
        }
    }
}

/// An owned field value, for [`LogMessage`].
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum OwnedValue {
    /// A signed integer.
    I64(i64),
    /// An unsigned integer.
    U64(u64),
    /// A 64-bit float.
    F64(f64),
    /// A 32-bit float.
    F32(f32),
    /// A boolean.
    Bool(bool),
    /// A string.
    Str(String),
    /// No value.
    Null,
}

impl From<Value<'_>> for OwnedValue {
    fn from(v: Value<'_>) -> Self {
        match v {
            Value::I64(v) => OwnedValue::I64(v),
            Value::U64(v) => OwnedValue::U64(v),
            Value::F64(v) => OwnedValue::F64(v),
            Value::F32(v) => OwnedValue::F32(v),
            Value::Bool(v) => OwnedValue::Bool(v),
            Value::Str(v) => OwnedValue::Str(v.to_owned()),
            Value::Null => OwnedValue::Null,
        }
    }
}

impl From<String> for OwnedValue {
    fn from(v: String) -> Self {
        OwnedValue::Str(v)
    }
}

macro_rules! owned_from {
    ($($source:ty),*) => {
        $(impl From<$source> for OwnedValue {
            fn from(v: $source) -> Self {
                Value::from(v).into()
            }
        })*
    };
}
owned_from!(i8, i16, i32, i64, isize, u8, u16, u32, u64, usize, f32, f64, bool, &str);

/// A pre-built, owned record, logged with
/// [`Logger::log_message`](crate::Logger::log_message). Its timestamp is used as given, as
/// nanoseconds since the Unix epoch in an `i64`: a time outside the years 1677 to 2262 is
/// written as the nearest one inside (`1677-09-21T00:12:43.145224192Z` or
/// `2262-04-11T23:47:16.854775807Z`).
#[derive(Debug, Clone, PartialEq)]
pub struct LogMessage {
    /// When the event happened (wall clock).
    pub timestamp: SystemTime,
    /// Severity.
    pub level: Level,
    /// The message text.
    pub message: String,
    /// Structured fields, in order.
    pub fields: Vec<(String, OwnedValue)>,
}

impl LogMessage {
    /// A message stamped now, without fields.
    pub fn new(level: Level, message: impl Into<String>) -> Self {
        LogMessage {
            timestamp: SystemTime::now(),
            level,
            message: message.into(),
            fields: Vec::new(),
        }
    }

    /// The fields as borrowed [`Field`]s, for encoding.
    pub fn borrowed_fields(&self) -> Vec<Field<'_>> {
        self.fields.iter().map(|(k, v)| Field::new(k, v)).collect()
    }

    /// Adds a field and returns the message.
    #[must_use]
    pub fn with_field(mut self, key: impl Into<String>, value: impl Into<OwnedValue>) -> Self {
        self.fields.push((key.into(), value.into()));
        self
    }
}

/// What the calling-thread hooks (`on_message_buffered`, `on_message_dropped`) see of a record.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct MessageRef<'a> {
    /// Severity.
    pub level: Level,
    /// The message text.
    pub message: &'a str,
    /// The fields as the caller passed them.
    pub fields: &'a [Field<'a>],
}
