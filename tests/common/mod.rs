//! Sinks and helpers shared by the integration tests.
#![allow(dead_code)]

use asynclog::{Batch, Level, OwnedValue, Sink, SinkError};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A value with `Display` and `Debug` of its own, for the `%` and `?` field forms of the
/// `log` and `tracing` backends.
#[derive(Debug)]
pub struct Order {
    pub id: u64,
}

impl std::fmt::Display for Order {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "order #{}", self.id)
    }
}

/// A string field value as the readers return it.
pub fn owned_str(s: &str) -> OwnedValue {
    OwnedValue::Str(s.into())
}

/// A record as a sink saw it, owned.
#[derive(Debug, Clone, PartialEq)]
pub struct Seen {
    pub timestamp_ns: i64,
    pub level: Level,
    pub thread_id: u64,
    pub message: String,
    /// `RecordView::message_is_text`: the message is formatted text, not a template.
    pub message_is_text: bool,
    pub fields: Vec<(String, OwnedValue)>,
}

/// Each record's level and message, in order.
pub fn levels_and_messages(records: &[Seen]) -> Vec<(Level, &str)> {
    records
        .iter()
        .map(|r| (r.level, r.message.as_str()))
        .collect()
}

impl Seen {
    pub fn field(&self, key: &str) -> Option<&OwnedValue> {
        self.fields.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    pub fn u64_field(&self, key: &str) -> u64 {
        match self.field(key) {
            Some(OwnedValue::U64(v)) => *v,
            Some(OwnedValue::I64(v)) => *v as u64,
            other => panic!("field {key} is {other:?}"),
        }
    }
}

/// Collects every record it is given; `batches` counts write_batch calls that succeeded.
#[derive(Clone, Default)]
pub struct Collector {
    pub records: Arc<Mutex<Vec<Seen>>>,
    pub batches: Arc<AtomicUsize>,
    pub flushes: Arc<AtomicUsize>,
    pub closes: Arc<AtomicUsize>,
}

impl Collector {
    pub fn sink(&self, name: &str) -> Box<CollectSink> {
        Box::new(CollectSink {
            name: name.to_owned(),
            out: self.clone(),
            delay: Duration::ZERO,
        })
    }

    pub fn slow_sink(&self, name: &str, delay: Duration) -> Box<CollectSink> {
        Box::new(CollectSink {
            name: name.to_owned(),
            out: self.clone(),
            delay,
        })
    }

    pub fn records(&self) -> Vec<Seen> {
        self.records.lock().unwrap().clone()
    }

    pub fn len(&self) -> usize {
        self.records.lock().unwrap().len()
    }
}

pub struct CollectSink {
    name: String,
    out: Collector,
    delay: Duration,
}

pub fn to_seen(batch: &Batch) -> Vec<Seen> {
    batch
        .iter()
        .map(|r| Seen {
            timestamp_ns: r.timestamp_ns,
            level: r.level,
            thread_id: r.thread_id,
            message: r.message.to_owned(),
            message_is_text: r.message_is_text,
            fields: r.fields.map(|(k, v)| (k.to_owned(), v.into())).collect(),
        })
        .collect()
}

impl Sink for CollectSink {
    fn name(&self) -> &str {
        &self.name
    }

    fn write_batch(&mut self, batch: &Batch) -> Result<(), SinkError> {
        if !self.delay.is_zero() {
            std::thread::sleep(self.delay);
        }
        let seen = to_seen(batch);
        self.out.records.lock().unwrap().extend(seen);
        self.out.batches.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }

    fn flush(&mut self) -> Result<(), SinkError> {
        self.out.flushes.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }

    fn close(&mut self) -> Result<(), SinkError> {
        self.out.closes.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
}

/// A config with one collecting sink called "collect".
pub fn config_with(collector: &Collector) -> asynclog::Config {
    let mut config = asynclog::Config::default();
    config.sinks.push(collector.sink("collect"));
    config
}

/// Checks that, per thread, the `seq` field counts 0, 1, 2, ... with no gap or repeat, and returns
/// how many records each thread (keyed by the `producer` field) had.
pub fn assert_per_producer_order(records: &[Seen]) -> std::collections::BTreeMap<u64, u64> {
    let mut next = std::collections::BTreeMap::new();
    for r in records {
        let producer = r.u64_field("producer");
        let seq = r.u64_field("seq");
        let expected = next.entry(producer).or_insert(0u64);
        assert_eq!(
            seq, *expected,
            "producer {producer}: out of order or missing record"
        );
        *expected += 1;
    }
    next
}

/// A sink that owns a `T` (a `Logger`, a `GlobalGuard`) and drops it when it is closed, on its
/// worker thread, as a sink that reports through a second logger would.
pub struct DropsOnClose<T> {
    pub held: Option<T>,
}

impl<T: Send> Sink for DropsOnClose<T> {
    fn name(&self) -> &str {
        "drops-on-close"
    }
    fn write_batch(&mut self, _: &Batch) -> Result<(), SinkError> {
        Ok(())
    }
    fn close(&mut self) -> Result<(), SinkError> {
        drop(self.held.take());
        Ok(())
    }
}
