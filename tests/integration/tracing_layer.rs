//! `tracing` events through `AsyncLogLayer` arrive in a sink with their level, message, target,
//! location and typed fields: integers, floats, bools and strings typed, `%` and `?` values as
//! their `Display` and `Debug` text. Call sites with more fields than the compact record takes
//! write general records with the same content.

#![cfg(feature = "tracing")]

use crate::common;

use asynclog::tracing::AsyncLogLayer;
use asynclog::{Level, Logger, OwnedValue};
use common::{config_with, levels_and_messages, owned_str, Collector, Order, Seen};
use std::sync::Arc;
use tracing_subscriber::layer::SubscriberExt;

fn logged(body: impl FnOnce()) -> Vec<Seen> {
    let collector = Collector::default();
    let logger = Arc::new(Logger::new(config_with(&collector)).unwrap());
    let subscriber = tracing_subscriber::registry().with(AsyncLogLayer::new(logger.clone()));
    tracing::subscriber::with_default(subscriber, body);
    logger.close().unwrap();
    collector.records()
}

#[test]
fn every_level_maps_one_to_one() {
    let records = logged(|| {
        tracing::trace!("t");
        tracing::debug!("d");
        tracing::info!("i");
        tracing::warn!("w");
        tracing::error!("e");
    });
    let seen = levels_and_messages(&records);
    assert_eq!(
        seen,
        [
            (Level::Trace, "t"),
            (Level::Debug, "d"),
            (Level::Info, "i"),
            (Level::Warn, "w"),
            (Level::Error, "e"),
        ]
    );
}

#[test]
fn typed_values_message_target_and_location_arrive() {
    let order = Order { id: 7 };
    let symbol = String::from("AAPL");
    let line = line!() + 2;
    let records = logged(|| {
        tracing::warn!(
            target: "fills",
            qty = 5u64,
            delta = -3i64,
            price = 101.25,
            ok = true,
            symbol = symbol.as_str(),
            shown = %order,
            debugged = ?order,
            "filled {} lots of {}",
            5,
            symbol
        );
    });
    assert_eq!(records.len(), 1);
    let r = &records[0];
    assert_eq!(r.level, Level::Warn);
    assert_eq!(r.message, "filled 5 lots of AAPL");
    let expected = [
        ("target", owned_str("fills")),
        ("module_path", owned_str(module_path!())),
        ("file", owned_str(file!())),
        ("line", OwnedValue::U64(line.into())),
        ("qty", OwnedValue::U64(5)),
        ("delta", OwnedValue::I64(-3)),
        ("price", OwnedValue::F64(101.25)),
        ("ok", OwnedValue::Bool(true)),
        ("symbol", owned_str("AAPL")),
        ("shown", owned_str("order #7")),
        ("debugged", owned_str("Order { id: 7 }")),
    ];
    let fields: Vec<(&str, OwnedValue)> = r
        .fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.clone()))
        .collect();
    assert_eq!(fields, expected);
}

#[test]
fn the_default_target_is_the_module_path_and_an_event_without_message_has_an_empty_one() {
    let records = logged(|| {
        tracing::info!(n = 1u64);
        let empty: Option<u64> = None;
        tracing::info!(n = empty, "absent value");
    });
    assert_eq!(records[0].message, "");
    assert_eq!(records[0].field("target"), Some(&owned_str(module_path!())));
    assert_eq!(records[0].field("n"), Some(&OwnedValue::U64(1)));
    // `tracing` does not record a `None`: the field is there, `null`.
    assert_eq!(records[1].field("n"), Some(&OwnedValue::Null));
}

/// An event with more fields than a compact record takes (`MAX_COMPACT_FIELDS`): `f0` to `f16`
/// (u64 0 to 16), `f17 = "seventeen"`, message "wide event".
fn wide_event() {
    tracing::info!(
        f0 = 0u64,
        f1 = 1u64,
        f2 = 2u64,
        f3 = 3u64,
        f4 = 4u64,
        f5 = 5u64,
        f6 = 6u64,
        f7 = 7u64,
        f8 = 8u64,
        f9 = 9u64,
        f10 = 10u64,
        f11 = 11u64,
        f12 = 12u64,
        f13 = 13u64,
        f14 = 14u64,
        f15 = 15u64,
        f16 = 16u64,
        f17 = "seventeen",
        "wide event"
    );
}

#[test]
fn many_fields_take_the_general_record_with_the_same_content() {
    let records = logged(wide_event);
    let r = &records[0];
    assert_eq!(r.message, "wide event");
    assert!(r.message_is_text, "a general record's message is text");
    assert_eq!(r.fields.len(), 4 + 18);
    for i in 0..17u64 {
        assert_eq!(r.field(&format!("f{i}")), Some(&OwnedValue::U64(i)));
    }
    assert_eq!(r.field("f17"), Some(&owned_str("seventeen")));
}

#[test]
fn the_logger_level_filters_events() {
    let collector = Collector::default();
    let logger =
        Arc::new(Logger::new(config_with(&collector).with_min_level(Level::Warn)).unwrap());
    let subscriber = tracing_subscriber::registry().with(AsyncLogLayer::new(logger.clone()));
    tracing::subscriber::with_default(subscriber, || {
        tracing::info!("below");
        tracing::error!("above");
    });
    logger.close().unwrap();
    let records = collector.records();
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].message, "above");
}

#[test]
fn hooks_see_the_message_and_the_fields_of_a_compact_record() {
    use std::sync::Mutex;
    /// A hook's view of a record: its message and field keys.
    type HookView = (String, Vec<String>);
    let seen: Arc<Mutex<Vec<HookView>>> = Arc::default();
    let hook_seen = seen.clone();
    let mut config = asynclog::Config::default();
    config.hooks = asynclog::Hooks::default().on_message_buffered(move |m| {
        let keys = m.fields.iter().map(|f| f.key.to_owned()).collect();
        hook_seen.lock().unwrap().push((m.message.to_owned(), keys));
    });
    let logger = Arc::new(Logger::new(config).unwrap());
    let subscriber = tracing_subscriber::registry().with(AsyncLogLayer::new(logger.clone()));
    tracing::subscriber::with_default(subscriber, || tracing::info!(qty = 5u64, "filled {}", 5));
    logger.close().unwrap();
    let seen = seen.lock().unwrap();
    assert_eq!(
        *seen,
        [(
            "filled 5".to_owned(),
            ["target", "module_path", "file", "line", "qty"]
                .map(String::from)
                .to_vec()
        )]
    );
}

#[test]
fn a_message_field_that_is_not_a_string_arrives_as_its_text() {
    // `tracing` lets `message` be any value; the record keeps it as its message text, as
    // `tracing-subscriber`'s formatters show it (its `Debug`), in compact and general records.
    let records = logged(|| {
        tracing::info!(message = 5u64);
        tracing::warn!(message = true, n = 1u64);
        tracing::error!(message = -2.5);
        tracing::info!(message = -7i64);
        tracing::info!(
            message = 9u64,
            f0 = 0u64,
            f1 = 1u64,
            f2 = 2u64,
            f3 = 3u64,
            f4 = 4u64,
            f5 = 5u64,
            f6 = 6u64,
            f7 = 7u64,
            f8 = 8u64,
            f9 = 9u64,
            f10 = 10u64,
            f11 = 11u64,
            f12 = 12u64,
            f13 = 13u64,
            f14 = 14u64,
            f15 = 15u64,
            f16 = 16u64
        );
    });
    let seen = levels_and_messages(&records);
    assert_eq!(
        seen,
        [
            (Level::Info, "5"),
            (Level::Warn, "true"),
            (Level::Error, "-2.5"),
            (Level::Info, "-7"),
            (Level::Info, "9"),
        ]
    );
    assert_eq!(records[1].field("n"), Some(&OwnedValue::U64(1)));
    assert_eq!(records[4].field("f16"), Some(&OwnedValue::U64(16)));
}

#[test]
fn event_messages_are_text_not_templates() {
    // `tracing` formats the message before the layer sees it: braces in it are text. (General
    // records: `many_fields_take_the_general_record_with_the_same_content`.)
    let records = logged(|| {
        tracing::info!(id = 7u64, "writing to {}", "logs/{id}.log");
    });
    assert_eq!(records[0].message, "writing to logs/{id}.log");
    assert!(records[0].message_is_text);
}

#[test]
fn a_per_layer_filter_picks_the_events_by_target_and_level() {
    use tracing_subscriber::filter::{LevelFilter, Targets};
    use tracing_subscriber::Layer;

    let collector = Collector::default();
    let logger = Arc::new(Logger::new(config_with(&collector)).unwrap());
    let layer = AsyncLogLayer::new(logger.clone()).with_filter(
        Targets::new()
            .with_target("fills", LevelFilter::DEBUG)
            .with_default(LevelFilter::WARN),
    );
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
        tracing::debug!(target: "fills", "kept: fills at debug");
        tracing::trace!(target: "fills", "dropped: fills at trace");
        tracing::info!(target: "other", "dropped: other at info");
        tracing::warn!(target: "other", "kept: other at warn");
    });
    logger.close().unwrap();
    assert_eq!(
        levels_and_messages(&collector.records()),
        [
            (Level::Debug, "kept: fills at debug"),
            (Level::Warn, "kept: other at warn"),
        ]
    );
}

#[test]
fn an_event_with_fields_named_like_tracing_logs_keeps_its_own_location() {
    // Only `tracing-log`'s events (target `log`, no location of their own) take their location
    // from `log.*` fields; any other event keeps its own, and those are ordinary fields.
    let line = line!() + 2;
    let records = logged(|| {
        tracing::info!(
            log.target = "t",
            log.module_path = "m",
            log.file = "f",
            log.line = 1u64,
            "hi"
        );
    });
    let r = &records[0];
    let fields: Vec<(&str, OwnedValue)> = (r.fields.iter())
        .map(|(k, v)| (k.as_str(), v.clone()))
        .collect();
    assert_eq!(
        fields,
        [
            ("target", owned_str(module_path!())),
            ("module_path", owned_str(module_path!())),
            ("file", owned_str(file!())),
            ("line", OwnedValue::U64(line.into())),
            ("log.target", owned_str("t")),
            ("log.module_path", owned_str("m")),
            ("log.file", owned_str("f")),
            ("log.line", OwnedValue::U64(1)),
        ]
    );
}

/// An event's fields without the four location fields.
fn own_fields(record: &Seen) -> Vec<(&str, OwnedValue)> {
    record.fields[4..]
        .iter()
        .map(|(k, v)| (k.as_str(), v.clone()))
        .collect()
}

#[test]
fn an_event_carries_the_fields_of_its_spans_innermost_first() {
    let order = Order { id: 9 };
    let records = logged(|| {
        let request = tracing::info_span!("request", request_id = 42u64, path = "/fill");
        let _request = request.enter();
        let fill = tracing::info_span!("fill", order = %order, price = 101.25, ok = true);
        let _fill = fill.enter();
        tracing::info!(qty = 5u64, "filled");
    });
    assert_eq!(levels_and_messages(&records), [(Level::Info, "filled")]);
    assert_eq!(records[0].field("target"), Some(&owned_str(module_path!())));
    assert_eq!(
        own_fields(&records[0]),
        [
            ("qty", OwnedValue::U64(5)),
            ("order", owned_str("order #9")),
            ("price", OwnedValue::F64(101.25)),
            ("ok", OwnedValue::Bool(true)),
            ("request_id", OwnedValue::U64(42)),
            ("path", owned_str("/fill")),
        ]
    );
}

#[test]
fn fields_recorded_later_count_and_empty_ones_are_left_out() {
    let records = logged(|| {
        let span = tracing::info_span!(
            "job",
            job = 1u64,
            outcome = tracing::field::Empty,
            rows = tracing::field::Empty
        );
        let _entered = span.enter();
        tracing::info!("started");
        span.record("outcome", "ok");
        span.record("job", 2u64);
        tracing::info!("done");
    });
    assert_eq!(own_fields(&records[0]), [("job", OwnedValue::U64(1))]);
    // A field recorded again keeps its place; one recorded late comes after the others.
    assert_eq!(
        own_fields(&records[1]),
        [("job", OwnedValue::U64(2)), ("outcome", owned_str("ok"))]
    );
}

#[test]
fn spans_follow_the_event_parent_and_leave_events_outside_them_alone() {
    let records = logged(|| {
        let outer = tracing::info_span!("outer", tenant = "acme");
        let inner = tracing::info_span!(parent: &outer, "inner", step = 3i64);
        let quiet = tracing::info_span!("quiet");
        tracing::info!(parent: &inner, "explicit parent");
        tracing::info!("no span");
        quiet.in_scope(|| tracing::info!("span without fields"));
        // A compact call site and a general one (more than MAX_COMPACT_FIELDS fields): the
        // span fields follow each.
        let _entered = outer.enter();
        tracing::info!(a = 1u64, "in outer");
        wide_event();
    });
    assert_eq!(
        own_fields(&records[0]),
        [("step", OwnedValue::I64(3)), ("tenant", owned_str("acme"))]
    );
    assert!(own_fields(&records[1]).is_empty());
    assert!(own_fields(&records[2]).is_empty());
    assert_eq!(
        own_fields(&records[3]),
        [("a", OwnedValue::U64(1)), ("tenant", owned_str("acme"))]
    );
    let general = own_fields(&records[4]);
    assert_eq!(records[4].message, "wide event");
    assert_eq!(general.len(), 18 + 1);
    assert_eq!(general[17], ("f17", owned_str("seventeen")));
    assert_eq!(general[18], ("tenant", owned_str("acme")));
    assert!(records.iter().all(|r| r.message_is_text));
}

#[test]
fn span_fields_past_the_limit_are_left_out_innermost_kept() {
    use asynclog::tracing::MAX_SPAN_FIELDS;
    let records = logged(|| {
        // 40 nested spans (each the parent of the next) of two fields each: 80 span fields,
        // more than the record takes.
        let mut entered = Vec::new();
        for depth in 0..40u64 {
            entered.push(tracing::info_span!("level", depth, twice = depth * 2).entered());
        }
        tracing::info!(own = true, "deep");
        drop(entered);
    });
    let fields = own_fields(&records[0]);
    assert_eq!(fields.len(), 1 + MAX_SPAN_FIELDS);
    assert_eq!(fields[0], ("own", OwnedValue::Bool(true)));
    // The innermost span (depth 39) first, the outermost ones cut.
    assert_eq!(fields[1], ("depth", OwnedValue::U64(39)));
    assert_eq!(fields[2], ("twice", OwnedValue::U64(78)));
    assert_eq!(fields[MAX_SPAN_FIELDS], ("twice", OwnedValue::U64(2 * 8)));
}

#[test]
fn long_span_text_does_not_crowd_out_the_event_message_and_fields() {
    use asynclog::tracing::TEXT_BYTES;
    // A span field longer than the per-thread text buffer: the event's own message and
    // strings must keep their room; the span's text takes what is left.
    let body = "b".repeat(TEXT_BYTES + 100);
    let records = logged(|| {
        let upload = tracing::info_span!("upload", body = body.as_str());
        let _upload = upload.enter();
        tracing::info!(symbol = "AAPL", "filled {} lots", 5);
    });
    assert_eq!(
        levels_and_messages(&records),
        [(Level::Info, "filled 5 lots")]
    );
    assert_eq!(records[0].field("symbol"), Some(&owned_str("AAPL")));
    match records[0].field("body") {
        Some(OwnedValue::Str(cut)) => {
            assert!(!cut.is_empty() && cut.len() < TEXT_BYTES && body.starts_with(cut.as_str()))
        }
        other => panic!("body: {other:?}"),
    }
}

/// A value whose `Debug` logs a `tracing` event, as a `Debug` impl that warns would.
struct LogsWhenFormatted;

impl std::fmt::Debug for LogsWhenFormatted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        tracing::warn!("formatting");
        f.write_str("formatted")
    }
}

#[test]
fn a_value_recorded_on_a_span_may_log_while_it_is_formatted() {
    use std::sync::mpsc;
    use std::time::Duration;
    // On its own thread: before the fix, the layer formatted the value while holding the span's
    // extensions lock, and the event logged by `Debug` waited for that lock forever.
    let (done, finished) = mpsc::channel();
    std::thread::spawn(move || {
        let records = logged(|| {
            let span = tracing::info_span!("job", id = 1u64, state = tracing::field::Empty);
            let _entered = span.enter();
            span.record("state", tracing::field::debug(LogsWhenFormatted));
            tracing::info!("after");
        });
        let _ = done.send(records);
    });
    let records = finished
        .recv_timeout(Duration::from_secs(30))
        .expect("Span::record with a value that logs while formatted deadlocked or panicked");
    assert_eq!(
        levels_and_messages(&records),
        [(Level::Warn, "formatting"), (Level::Info, "after")]
    );
    assert_eq!(own_fields(&records[0]), [("id", OwnedValue::U64(1))]);
    assert_eq!(
        own_fields(&records[1]),
        [
            ("id", OwnedValue::U64(1)),
            ("state", owned_str("formatted"))
        ]
    );
}
