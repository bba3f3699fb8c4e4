//! A [`tracing_subscriber::Layer`] that writes `tracing` events into asynclog (cargo feature
//! `tracing`).
//!
//! ```
//! use tracing_subscriber::layer::SubscriberExt;
//!
//! let _guard = asynclog::init(asynclog::Config::default())?;
//! let subscriber = tracing_subscriber::registry().with(asynclog::tracing::AsyncLogLayer::global());
//! tracing::subscriber::with_default(subscriber, || {
//!     tracing::info!(order_id = 42u64, price = 101.25, symbol = "AAPL", "order filled");
//! });
//! # Ok::<(), asynclog::Error>(())
//! ```
//!
//! # Which logger
//!
//! [`AsyncLogLayer::global`] writes to the global logger of [`asynclog::init`](crate::init)
//! (events before `init` are ignored; after its guard has dropped, refused and counted like any
//! record logged after `close`). [`AsyncLogLayer::new`] holds a clone of an `Arc<Logger>`: the
//! layer keeps the `Logger` alive, so close it explicitly ([`Logger::close`] works through any
//! clone) before the program ends, since a global `tracing` subscriber is never dropped.
//!
//! # Which events
//!
//! Every event at or above the logger's level ([`Logger::set_min_level`]). To pick events by
//! target or level for this layer alone, wrap it in a per-layer filter, as for any layer:
//! `AsyncLogLayer::global().with_filter(Targets::new().with_target("fills", LevelFilter::DEBUG))`
//! (`tracing_subscriber::filter::Targets`, or `EnvFilter` with its feature). The layer itself
//! turns no event away in `Layer::enabled`: that would hide it from the other layers too.
//!
//! # What a record holds
//!
//! | `tracing` | asynclog |
//! | --- | --- |
//! | level `TRACE`, `DEBUG`, `INFO`, `WARN`, `ERROR` | [`Level::Trace`] ... [`Level::Error`], one to one |
//! | the message (the `message` field: the format string and its arguments) | the record's message (empty if the event has none; a number or bool given as `message = 5` as its text) |
//! | `Metadata::target`, `module_path`, `file`, `line` | fields `target`, `module_path`, `file` (strings) and `line` (u64), first, in that order; `null` when `tracing` does not know them |
//! | `i64`, `u64`, `f64`, `bool` values (and `i128`/`u128` that fit 64 bits) | typed fields `I64`, `U64`, `F64`, `Bool` (an `f32` reaches the layer as an `f64`: `F64`, widened) |
//! | `&str` values | `Str` fields |
//! | `%x` (`Display`), `?x` (`Debug`), errors, byte slices, larger integers | `Str` fields, formatted on the calling thread |
//! | a declared field not recorded (`field::Empty`) | a `Null` field |
//! | a `log` record bridged by `tracing-log` (`LogTracer`, which `tracing_subscriber`'s `init()` installs) | its own target, module path, file and line as the location fields (not `tracing-log`'s target `log`), and no `log.*` fields |
//!
//! A field named like one of the location keys appears twice (the JSON sinks write repeated
//! keys as an array).
//!
//! # Spans
//!
//! An event inside spans carries their fields after its own, innermost span first, with the same
//! types as event fields: `info_span!("request", request_id = 42)` around `info!(qty = 5, "fill")`
//! gives `qty = 5, request_id = 42`. The spans are the event's context, as in `tracing`: its
//! explicit `parent:`, or the span the thread has entered and that span's parents (the spans it
//! was created in, not every span entered since). A field recorded later with `Span::record`
//! counts from then on; a field declared `Empty` and never recorded is left out, as are span
//! names. A key in more than one span, or in the span and the event, appears once per place
//! (grouped into an array by the JSON sinks). At most [`MAX_SPAN_FIELDS`] span fields go into one
//! record, the innermost spans' first. Span strings share the event's per-thread text buffer
//! (see below) after the event's own message and values, so a long span value is what gets cut.
//!
//! A span's fields are stored when it is made or recorded (an allocation then, as for the
//! registry's own span data); an event copies them into its record and allocates nothing. An
//! event in spans with fields writes a general record, with its keys, and costs about 2.4 times
//! an event outside spans (`examples/callcost tracing-span`); while no span with fields is open,
//! events skip the span look-up.
//!
//! # Cost
//!
//! Each `tracing` call site gets an asynclog call site the first time the layer sees it
//! (`register_callsite` or its first event): its keys are stored once, in a `Callsite` and a key
//! list that are leaked (a few small allocations per call site, for the life of the process).
//! An event's record then carries only the level, timestamp, call-site id and values, as the
//! `info!` macros' records do; the message travels as the record's first value. Call sites
//! beyond the layer's table ([`MAX_CALLSITES`]) or with more than [`MAX_COMPACT_FIELDS`] fields
//! write general records, with their keys, and allocate nothing either.
//!
//! Nothing is allocated per event: integers, floats and bools go straight into a fixed array of
//! values on the stack; the message, `%`/`?` values and `&str` values (whose borrow ends with
//! each visitor call) are formatted or copied into a per-thread buffer of
//! [`TEXT_BYTES`] bytes, then copied from there into the ring (text beyond
//! the buffer is cut at a character boundary).
//!
//! NB: callgrind, `examples/callcost tracing` (the `info!` benchmark event with three fields,
//! through `tracing::info!`, a registry and this layer): about 1,200 instructions per event on the
//! calling thread, against 110 for asynclog's `info!`: ~100 in `tracing`'s dispatch, ~200 to
//! format the message through `fmt` (a `tracing` message reaches a layer only as `&dyn Debug`, so
//! even a literal goes through the formatting machinery), ~420 visiting the fields, ~400 encoding
//! the record with its four location values.

use super::global::LoggerTarget;
use super::text::{with_text, TextArena};
use super::Logger;
use crate::ring::callsite::Callsite;
use crate::value::{Field, Level, OwnedValue, Value};
use std::fmt;
use std::ptr;
use std::sync::atomic::{AtomicPtr, AtomicUsize, Ordering};
use std::sync::Arc;
use tracing_core::field::{Field as EventField, Visit};
use tracing_core::span::{Attributes, Id, Record};
use tracing_core::{Event, Interest, Metadata, Subscriber};
use tracing_subscriber::layer::{Context, Layer};
use tracing_subscriber::registry::LookupSpan;

pub use super::text::TEXT_BYTES;

/// The keys of the fields every record from this layer starts with.
pub const LOCATION_KEYS: [&str; LOCATION_FIELDS] = ["target", "module_path", "file", "line"];
const LOCATION_FIELDS: usize = 4;

/// The most fields (not counting the message) an event may have and still use the compact
/// call-site record; events with more write general records.
pub const MAX_COMPACT_FIELDS: usize = 16;

/// How many `tracing` call sites get a compact asynclog call site.
pub const MAX_CALLSITES: usize = 4096;

/// The most fields a `tracing` event can have (`tracing` limits a call site to 32).
const MAX_EVENT_FIELDS: usize = 32;

/// Values of one record: the message, the location, then the event's fields.
const MAX_VALUES: usize = 1 + LOCATION_FIELDS + MAX_EVENT_FIELDS;

/// The most span fields one record carries (the innermost spans' first); more are left out.
pub const MAX_SPAN_FIELDS: usize = 64;

/// Open spans with recorded fields, in every subscriber with this layer. While there are none,
/// an event skips looking up its span context (about 75 instructions per event, callcost).
static SPANS_WITH_FIELDS: AtomicUsize = AtomicUsize::new(0);

/// A `tracing_subscriber` [`Layer`] that logs every `tracing` event to an asynclog logger. See
/// the [module docs](self) for the record layout and the cost.
///
/// ```
/// use std::sync::Arc;
/// use tracing_subscriber::layer::SubscriberExt;
///
/// let logger = Arc::new(asynclog::Logger::new(asynclog::Config::default())?);
/// let layer = asynclog::tracing::AsyncLogLayer::new(logger.clone());
/// tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
///     tracing::warn!(latency_us = 1250u64, "slow fill");
/// });
/// logger.flush()?;
/// assert_eq!(logger.stats().delivered, 1);
/// logger.close()?;
/// # Ok::<(), asynclog::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct AsyncLogLayer {
    target: LoggerTarget,
}

impl AsyncLogLayer {
    /// A layer writing to `logger`, which it keeps alive (see the [module docs](self)).
    pub fn new(logger: Arc<Logger>) -> AsyncLogLayer {
        AsyncLogLayer {
            target: LoggerTarget::Logger(logger),
        }
    }

    /// A layer writing to the global logger of [`asynclog::init`](crate::init), whichever is
    /// installed when an event arrives.
    pub fn global() -> AsyncLogLayer {
        AsyncLogLayer {
            target: LoggerTarget::Global,
        }
    }

    #[inline(always)]
    fn logger(&self) -> Option<&Logger> {
        self.target.logger()
    }
}

impl<S> Layer<S> for AsyncLogLayer
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn register_callsite(&self, metadata: &'static Metadata<'static>) -> Interest {
        if metadata.is_event() {
            EventSite::find_or_register(metadata);
        }
        // Levels are checked at each event against the logger's minimum, which may change.
        Interest::always()
    }

    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let mut fields = SpanFields::default();
        attrs.record(&mut fields);
        if let (false, Some(span)) = (fields.0.is_empty(), ctx.span(id)) {
            // Another `AsyncLogLayer` in the same subscriber may have stored the same fields.
            let mut extensions = span.extensions_mut();
            if extensions.get_mut::<StoredSpanFields>().is_none() {
                extensions.insert(StoredSpanFields::new(fields));
            }
        }
    }

    fn on_close(&self, id: Id, ctx: Context<'_, S>) {
        // Removed (and uncounted) by the first `AsyncLogLayer` of the subscriber to see the span
        // close.
        if let Some(span) = ctx.span(&id) {
            drop(span.extensions_mut().remove::<StoredSpanFields>());
        }
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else {
            return;
        };
        // The values are formatted before the span's extensions are locked: a `Debug` or
        // `Display` impl may log an event in this span, whose look-up reads them (a lock held
        // here was a deadlock), or record on the span again.
        let mut recorded = SpanFields::default();
        values.record(&mut recorded);
        if recorded.0.is_empty() {
            return;
        }
        let mut extensions = span.extensions_mut();
        match extensions.get_mut::<StoredSpanFields>() {
            Some(StoredSpanFields(fields)) => {
                for (key, value) in recorded.0 {
                    fields.set(key, value);
                }
            }
            None => extensions.insert(StoredSpanFields::new(recorded)),
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let Some(logger) = self.logger() else {
            return;
        };
        // A span made on another thread reaches this one through a synchronising hand-over,
        // after which its count is seen, so `Relaxed` suffices.
        if SPANS_WITH_FIELDS.load(Ordering::Relaxed) == 0 {
            log_event(logger, event);
        } else {
            log_in_context(logger, event, &ctx);
        }
    }
}

/// The fields recorded on a span (at creation and by `Span::record`), in recorded order; a
/// field recorded again keeps its place and takes the new value. Spans without fields have none.
#[derive(Debug, Default)]
struct SpanFields(Vec<(&'static str, OwnedValue)>);

impl SpanFields {
    fn set(&mut self, key: &'static str, value: OwnedValue) {
        match self.0.iter_mut().find(|(k, _)| *k == key) {
            Some((_, slot)) => *slot = value,
            None => self.0.push((key, value)),
        }
    }
}

/// A span's [`SpanFields`] in its extensions, counted in [`SPANS_WITH_FIELDS`] until dropped: by
/// `on_close`, or by the registry when it frees a span that no `AsyncLogLayer` saw close (the
/// layer was taken out of a `reload` layer meanwhile).
#[derive(Debug)]
struct StoredSpanFields(SpanFields);

impl StoredSpanFields {
    fn new(fields: SpanFields) -> StoredSpanFields {
        SPANS_WITH_FIELDS.fetch_add(1, Ordering::Relaxed);
        StoredSpanFields(fields)
    }
}

impl Drop for StoredSpanFields {
    fn drop(&mut self) {
        SPANS_WITH_FIELDS.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Span fields take the same types as event fields (see the module docs); a span is made far
/// less often than an event, so its text values are `String`s.
impl Visit for SpanFields {
    fn record_f64(&mut self, field: &EventField, value: f64) {
        self.set(field.name(), OwnedValue::F64(value));
    }

    fn record_i64(&mut self, field: &EventField, value: i64) {
        self.set(field.name(), OwnedValue::I64(value));
    }

    fn record_u64(&mut self, field: &EventField, value: u64) {
        self.set(field.name(), OwnedValue::U64(value));
    }

    fn record_i128(&mut self, field: &EventField, value: i128) {
        record_i128_as_i64(self, field, value);
    }

    fn record_u128(&mut self, field: &EventField, value: u128) {
        record_u128_as_u64(self, field, value);
    }

    fn record_bool(&mut self, field: &EventField, value: bool) {
        self.set(field.name(), OwnedValue::Bool(value));
    }

    fn record_str(&mut self, field: &EventField, value: &str) {
        self.set(field.name(), OwnedValue::Str(value.to_owned()));
    }

    fn record_debug(&mut self, field: &EventField, value: &dyn fmt::Debug) {
        self.set(field.name(), OwnedValue::Str(format!("{value:?}")));
    }
}

/// Logs `event` with its spans' fields, if it has spans with fields; out of line, so that the
/// span look-up does not weigh on events while no span has fields. The record is a general one
/// (keys in the record): the event's fields, then the spans' fields, innermost span first (at
/// most [`MAX_SPAN_FIELDS`]).
///
/// The event is visited first, so its message and text values take the per-thread text buffer
/// before the spans' strings do: a long span value is cut, never the event's own text.
#[inline(never)]
fn log_in_context<S>(logger: &Logger, event: &Event<'_>, ctx: &Context<'_, S>)
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    let metadata = event.metadata();
    let level = level_of(metadata);
    if !logger.enabled(level) {
        return;
    }
    let Some(scope) = ctx.event_scope(event) else {
        return log_event(logger, event);
    };
    let layout = EventSite::find_or_register(metadata)
        .map_or_else(|| Layout::of(metadata), |site| site.layout);
    with_text(|text| {
        let mut values = [Value::Null; MAX_VALUES];
        fill_location(&mut values, metadata);
        event.record(&mut Visitor {
            values: &mut values,
            text,
            layout,
        });
        message_as_text(&mut values, text);
        let mut fields = [Field::new("", Value::Null); MAX_VALUES + MAX_SPAN_FIELDS];
        let own = event_fields(&mut fields, metadata, &values[..layout.values_len], layout);
        // The span fields go after the event's. With none (spans without fields), the record
        // is the event's alone, written from the values already visited: visiting the event
        // again for a compact record would run its `Debug` and `Display` impls twice.
        let mut len = own;
        'spans: for span in scope {
            if let Some(StoredSpanFields(span_fields)) = span.extensions().get() {
                for (key, value) in &span_fields.0 {
                    if len == own + MAX_SPAN_FIELDS {
                        break 'spans;
                    }
                    fields[len] = Field::new(key, span_value(value, text));
                    len += 1;
                }
            }
        }
        // A statement: a refused record is counted by the logger.
        let _ = logger.log_text(level, message_of(&values), &fields[..len]);
    });
}

/// A span field's value for a record; its text is copied into the event's text buffer, so the
/// span's lock is not held while the record is encoded.
fn span_value<'b>(value: &OwnedValue, text: &mut TextArena<'b>) -> Value<'b> {
    match value {
        OwnedValue::I64(v) => Value::I64(*v),
        OwnedValue::U64(v) => Value::U64(*v),
        OwnedValue::F64(v) => Value::F64(*v),
        OwnedValue::F32(v) => Value::F32(*v),
        OwnedValue::Bool(v) => Value::Bool(*v),
        OwnedValue::Str(v) => Value::Str(text.copy(v)),
        OwnedValue::Null => Value::Null,
    }
}

/// `tracing`'s level as asynclog's.
#[inline]
fn level_of(metadata: &Metadata<'_>) -> Level {
    Level::from(*metadata.level())
}

/// Encodes `event`, which is in no span with fields, into `logger`. A refused record is counted by the logger (a log call is a statement).
#[inline]
fn log_event(logger: &Logger, event: &Event<'_>) {
    let metadata = event.metadata();
    let level = level_of(metadata);
    if !logger.enabled(level) {
        return;
    }
    let Some(site) = EventSite::find_or_register(metadata) else {
        return log_general(logger, level, event);
    };
    // A value array of exactly the record's length, made, filled and encoded in place: a larger
    // array sliced and copied into a `[Value; N]` cost an initialisation of every slot and a
    // `memcpy` per event.
    macro_rules! by_len {
        ($($n:literal)*) => {
            match site.layout.values_len {
                $($n => log_compact::<$n>(logger, level, site, event),)*
                _ => unreachable!("EventSite::find_or_register caps the fields at MAX_COMPACT_FIELDS"),
            }
        };
    }
    // 1 message + 4 location + 0..=MAX_COMPACT_FIELDS fields.
    by_len!(5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21)
}

/// The values of an event without its fields: an empty message and the location.
#[inline(always)]
fn fill_location<'b>(values: &mut [Value<'b>], metadata: &'static Metadata<'static>) {
    values[0] = Value::Str("");
    values[1] = Value::Str(metadata.target());
    values[2] = metadata.module_path().into();
    values[3] = metadata.file().into();
    values[4] = metadata.line().into();
}

/// One call-site record of `N` values (a const generic, so the encoder knows the count).
#[inline(always)]
fn log_compact<const N: usize>(
    logger: &Logger,
    level: Level,
    site: &'static EventSite,
    event: &Event<'_>,
) {
    with_text(|text| {
        let mut values = [Value::Null; N];
        fill_location(&mut values, site.metadata);
        event.record(&mut Visitor {
            values: &mut values,
            text,
            layout: site.layout,
        });
        message_as_text(&mut values, text);
        // A statement: a refused record is counted by the logger.
        let _ = logger.log_callsite_with_message(level, &site.callsite, values);
    });
}

/// One general record (message and keys in the record), for call sites without a compact one.
#[cold]
#[inline(never)]
fn log_general(logger: &Logger, level: Level, event: &Event<'_>) {
    let metadata = event.metadata();
    let layout = Layout::of(metadata);
    with_text(|text| {
        let mut values = [Value::Null; MAX_VALUES];
        fill_location(&mut values, metadata);
        event.record(&mut Visitor {
            values: &mut values,
            text,
            layout,
        });
        message_as_text(&mut values, text);
        let mut fields = [Field::new("", Value::Null); MAX_VALUES];
        let len = event_fields(&mut fields, metadata, &values[..layout.values_len], layout);
        // A statement: a refused record is counted by the logger.
        let _ = logger.log_text(level, message_of(&values), &fields[..len]);
    });
}

/// The record's message: the text in value slot 0.
fn message_of<'b>(values: &[Value<'b>]) -> &'b str {
    match values[0] {
        Value::Str(message) => message,
        _ => "",
    }
}

/// Puts the location and the event's own fields, whose values are `values`, at the start of
/// `fields`; returns how many.
fn event_fields<'b>(
    fields: &mut [Field<'b>],
    metadata: &'static Metadata<'static>,
    values: &[Value<'b>],
    layout: Layout,
) -> usize {
    for (i, key) in LOCATION_KEYS.iter().enumerate() {
        fields[i] = Field::new(key, values[1 + i]);
    }
    for field in metadata.fields().iter() {
        // The event's own fields: after the message (slot 0) and the location.
        match layout.slot(field.index()) {
            Some(slot) if slot > LOCATION_FIELDS => {
                fields[slot - 1] = Field::new(field.name(), values[slot]);
            }
            _ => {}
        }
    }
    values.len() - 1
}

/// The fields of every event that `tracing-log` makes from a `log` record (its `LogTracer`,
/// which `tracing_subscriber`'s `init()` installs), in this order. The record's location is in
/// the four `log.*` fields; the event's metadata is `tracing-log`'s own (target `log`, no
/// module, file or line).
const BRIDGED_LOG_FIELDS: [&str; 1 + LOCATION_FIELDS] = [
    "message",
    "log.target",
    "log.module_path",
    "log.file",
    "log.line",
];

/// An `i128` that fits 64 bits as an `i64` field, a larger one as its text (both visitors).
fn record_i128_as_i64(visitor: &mut impl Visit, field: &EventField, value: i128) {
    match i64::try_from(value) {
        Ok(value) => visitor.record_i64(field, value),
        Err(_) => visitor.record_debug(field, &value),
    }
}

/// A `u128` that fits 64 bits as a `u64` field, a larger one as its text (both visitors).
fn record_u128_as_u64(visitor: &mut impl Visit, field: &EventField, value: u128) {
    match u64::try_from(value) {
        Ok(value) => visitor.record_u64(field, value),
        Err(_) => visitor.record_debug(field, &value),
    }
}

/// Whether `metadata` is that of an event `tracing-log` made from a `log` record: its fields, and
/// its own metadata without a location. A `tracing` event with fields of those names has its own
/// location (the macros always give one), and keeps it.
fn is_bridged_log(metadata: &Metadata<'_>) -> bool {
    metadata.target() == "log"
        && metadata.file().is_none()
        && metadata.line().is_none()
        && (metadata.fields().iter().map(|f| f.name())).eq(BRIDGED_LOG_FIELDS)
}

/// Where an event's values go in the record's value array.
#[derive(Debug, Clone, Copy)]
struct Layout {
    /// The index of the `message` field in the call site's field set, if it has one.
    message_index: Option<usize>,
    /// Where the fields other than `message` start: after the location values, or, for an event
    /// bridged from `log` ([`BRIDGED_LOG_FIELDS`]), on them (its `log.*` fields are its
    /// location).
    fields_from: usize,
    /// Values in a record: message, location, and the fields other than `message`.
    values_len: usize,
}

impl Layout {
    fn of(metadata: &Metadata<'_>) -> Layout {
        let fields = metadata.fields();
        if is_bridged_log(metadata) {
            return Layout {
                message_index: Some(0),
                fields_from: 0,
                values_len: 1 + LOCATION_FIELDS,
            };
        }
        let message_index = fields.field("message").map(|f| f.index());
        let own = fields.len().min(MAX_EVENT_FIELDS) - usize::from(message_index.is_some());
        Layout {
            message_index,
            fields_from: LOCATION_FIELDS,
            values_len: 1 + LOCATION_FIELDS + own,
        }
    }

    /// The value slot of the field at `index` in the field set: 0 for the message, the others
    /// after the location values (see `fields_from`) in field-set order.
    #[inline]
    fn slot(&self, index: usize) -> Option<usize> {
        let slot = match self.message_index {
            Some(message) if index == message => return Some(0),
            Some(message) if index > message => index,
            _ => index + 1,
        } + self.fields_from;
        (slot < self.values_len).then_some(slot)
    }

    /// Whether the field at `index` is one of the event's own fields (not the message, not a
    /// location value).
    fn is_own_field(&self, index: usize) -> bool {
        self.slot(index).is_some_and(|slot| slot > LOCATION_FIELDS)
    }
}

/// A number or bool given as the message (`message = 5`, which the visitor stores in the
/// message's slot, 0, as it is) becomes its text, as `tracing-subscriber` prints it: the
/// record's message is a string. One look per event; the conversion is out of line.
#[inline]
fn message_as_text<'b>(values: &mut [Value<'b>], text: &mut TextArena<'b>) {
    #[cold]
    #[inline(never)]
    fn convert<'b>(message: &mut Value<'b>, text: &mut TextArena<'b>) {
        let converted = match *message {
            Value::I64(v) => text.debug(&v),
            Value::U64(v) => text.debug(&v),
            Value::F64(v) => text.debug(&v),
            Value::F32(v) => text.debug(&v),
            Value::Bool(v) => text.debug(&v),
            Value::Str(_) | Value::Null => return,
        };
        *message = Value::Str(converted);
    }
    if let Some(message) = values.first_mut() {
        if !matches!(message, Value::Str(_) | Value::Null) {
            convert(message, text);
        }
    }
}

/// Fills the value array from an event's fields.
struct Visitor<'a, 'b> {
    values: &'a mut [Value<'b>],
    text: &'a mut TextArena<'b>,
    layout: Layout,
}

impl<'b> Visitor<'_, 'b> {
    #[inline]
    fn set(&mut self, field: &EventField, value: Value<'b>) {
        if let Some(slot) = self
            .layout
            .slot(field.index())
            .and_then(|s| self.values.get_mut(s))
        {
            *slot = value;
        }
    }
}

impl Visit for Visitor<'_, '_> {
    fn record_f64(&mut self, field: &EventField, value: f64) {
        self.set(field, Value::F64(value));
    }

    fn record_i64(&mut self, field: &EventField, value: i64) {
        self.set(field, Value::I64(value));
    }

    fn record_u64(&mut self, field: &EventField, value: u64) {
        self.set(field, Value::U64(value));
    }

    fn record_i128(&mut self, field: &EventField, value: i128) {
        record_i128_as_i64(self, field, value);
    }

    fn record_u128(&mut self, field: &EventField, value: u128) {
        record_u128_as_u64(self, field, value);
    }

    fn record_bool(&mut self, field: &EventField, value: bool) {
        self.set(field, Value::Bool(value));
    }

    fn record_str(&mut self, field: &EventField, value: &str) {
        let value = self.text.copy(value);
        self.set(field, Value::Str(value));
    }

    fn record_debug(&mut self, field: &EventField, value: &dyn fmt::Debug) {
        // The message is `format_args!(..)`, whose `Debug` is its `Display`; a `%x` value comes
        // wrapped so that its `Debug` is its `Display`.
        let value = self.text.debug(value);
        self.set(field, Value::Str(value));
    }
}

/// The asynclog side of one `tracing` call site.
struct EventSite {
    metadata: &'static Metadata<'static>,
    /// Keys: [`LOCATION_KEYS`], then the call site's fields other than `message`.
    callsite: Callsite,
    layout: Layout,
}

/// `tracing` call sites by the address of their `Metadata` (unique and stable per call site):
/// an open-addressing table probed over [`PROBES`] slots from the address's hash. Slots go from
/// null to a leaked `EventSite` once and never change again, so a lookup is a few loads and no
/// lock.
static SITES: [AtomicPtr<EventSite>; MAX_CALLSITES] =
    [const { AtomicPtr::new(ptr::null_mut()) }; MAX_CALLSITES];

/// Slots looked at per lookup before a call site is declared not in the table.
const PROBES: usize = 8;

impl EventSite {
    /// The compact call site of `metadata`, registering it on first use; `None` when it has too
    /// many fields or the table has no room near its hash.
    #[inline]
    fn find_or_register(metadata: &'static Metadata<'static>) -> Option<&'static EventSite> {
        let start = Self::hash(metadata);
        let mut free = false;
        for probe in 0..PROBES {
            let slot = &SITES[(start + probe) % MAX_CALLSITES];
            // Acquire pairs with the Release of the compare-exchange in `register`: whoever
            // sees the pointer sees the `EventSite` it was made from.
            let site = slot.load(Ordering::Acquire);
            // SAFETY: a slot holds null or a pointer from `Box::leak` in `register`, never
            // freed, made visible by the Acquire load above.
            match unsafe { site.as_ref() } {
                Some(site) if ptr::eq(site.metadata, metadata) => return Some(site),
                Some(_) => {}
                None => {
                    free = true;
                    break;
                }
            }
        }
        if !free || Layout::of(metadata).values_len > 1 + LOCATION_FIELDS + MAX_COMPACT_FIELDS {
            // Nothing allocated, so an event of such a call site allocates nothing either.
            return None;
        }
        Self::register(metadata, start)
    }

    /// Makes and publishes the `EventSite` of `metadata` (a few allocations, once per call site).
    #[cold]
    #[inline(never)]
    fn register(metadata: &'static Metadata<'static>, start: usize) -> Option<&'static EventSite> {
        let layout = Layout::of(metadata);
        let keys: Vec<&'static str> = LOCATION_KEYS
            .into_iter()
            .chain(
                metadata
                    .fields()
                    .iter()
                    .filter(|f| layout.is_own_field(f.index()))
                    .map(|f| f.name()),
            )
            .collect();
        let keys: &'static [&'static str] = Box::leak(keys.into_boxed_slice());
        let site = Box::into_raw(Box::new(EventSite {
            metadata,
            callsite: Callsite::with_message_in_record(keys),
            layout,
        }));
        for probe in 0..PROBES {
            let slot = &SITES[(start + probe) % MAX_CALLSITES];
            match slot.compare_exchange(ptr::null_mut(), site, Ordering::AcqRel, Ordering::Acquire)
            {
                // SAFETY: `site` is from `Box::into_raw` just above, now published and never
                // freed.
                Ok(_) => return Some(unsafe { &*site }),
                Err(other) => {
                    // SAFETY: as in `find_or_register`.
                    let other = unsafe { &*other };
                    if ptr::eq(other.metadata, metadata) {
                        // Another thread registered it first.
                        // SAFETY: `site` was never published, so this is its only owner.
                        drop(unsafe { Box::from_raw(site) });
                        return Some(other);
                    }
                }
            }
        }
        // SAFETY: as above: never published.
        drop(unsafe { Box::from_raw(site) });
        None
    }

    #[inline]
    fn hash(metadata: &'static Metadata<'static>) -> usize {
        // Fibonacci hashing of the address; the low bits are alignment.
        let address = ptr::from_ref(metadata) as usize as u64;
        (address.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 40) as usize % MAX_CALLSITES
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tracing_subscriber::layer::SubscriberExt;

    /// The tests that compare `SPANS_WITH_FIELDS` before and after, one at a time.
    static COUNTING: std::sync::Mutex<()> = std::sync::Mutex::new(());

    #[test]
    fn spans_with_fields_are_counted_while_open_once_per_subscriber() {
        let _counting = COUNTING.lock().unwrap_or_else(|e| e.into_inner());
        let logger = Arc::new(Logger::new(crate::Config::default()).unwrap());
        let subscriber = tracing_subscriber::registry()
            .with(AsyncLogLayer::new(logger.clone()))
            .with(AsyncLogLayer::new(logger.clone()));
        let before = SPANS_WITH_FIELDS.load(Ordering::Relaxed);
        tracing::subscriber::with_default(subscriber, || {
            let span = tracing::info_span!("counted", id = 1u64, late = tracing::field::Empty);
            let copy = span.clone();
            assert_eq!(SPANS_WITH_FIELDS.load(Ordering::Relaxed), before + 1);
            let quiet = tracing::info_span!("quiet", late = tracing::field::Empty);
            quiet.record("late", 2u64);
            assert_eq!(SPANS_WITH_FIELDS.load(Ordering::Relaxed), before + 2);
            drop(span);
            drop(quiet);
            assert_eq!(SPANS_WITH_FIELDS.load(Ordering::Relaxed), before + 1);
            drop(copy);
        });
        assert_eq!(SPANS_WITH_FIELDS.load(Ordering::Relaxed), before);
        logger.close().unwrap();
    }

    #[test]
    fn a_span_closed_after_its_layer_was_reloaded_away_is_no_longer_counted() {
        use tracing_subscriber::reload;
        let _counting = COUNTING.lock().unwrap_or_else(|e| e.into_inner());
        let logger = Arc::new(Logger::new(crate::Config::default()).unwrap());
        let (layer, handle) = reload::Layer::new(Some(AsyncLogLayer::new(logger.clone())));
        let subscriber = tracing_subscriber::registry().with(layer);
        let before = SPANS_WITH_FIELDS.load(Ordering::Relaxed);
        tracing::subscriber::with_default(subscriber, || {
            let span = tracing::info_span!("reloaded", id = 1u64);
            assert_eq!(SPANS_WITH_FIELDS.load(Ordering::Relaxed), before + 1);
            // The layer leaves the subscriber while the span is open: it never sees it close.
            handle.modify(|layer| *layer = None).unwrap();
            drop(span);
        });
        assert_eq!(SPANS_WITH_FIELDS.load(Ordering::Relaxed), before);
        logger.close().unwrap();
    }

    #[test]
    fn an_ordinary_event_gets_a_compact_call_site() {
        let logger = Arc::new(Logger::new(crate::Config::default()).unwrap());
        let subscriber = tracing_subscriber::registry().with(AsyncLogLayer::new(logger.clone()));
        tracing::subscriber::with_default(subscriber, || {
            tracing::info!(compact_probe = 1u64, "probe");
        });
        logger.flush().unwrap();
        assert_eq!(logger.stats().delivered, 1);
        let registered = SITES.iter().any(|slot| {
            // SAFETY: as in `EventSite::find_or_register`.
            let site = unsafe { slot.load(Ordering::Acquire).as_ref() };
            site.is_some_and(|site| {
                site.callsite.message_in_record()
                    && site.callsite.keys()
                        == ["target", "module_path", "file", "line", "compact_probe"]
                    && site.callsite.id().is_some()
            })
        });
        assert!(registered);
    }
}
