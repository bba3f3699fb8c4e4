//! Test sinks shared by the stress and fault tests (each test file includes this with
//! `#[path = "common/sinks.rs"] mod sinks;` and uses what it needs).

#![allow(dead_code)]

use asynclog::{Batch, Config, OwnedValue, RecordView, Sink, SinkError, Value};
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

/// Keeps what `map` extracts from every record it is given, in arrival order.
pub struct CollectSink<T> {
    name: String,
    map: fn(&RecordView<'_>) -> T,
    seen: Arc<Mutex<Vec<T>>>,
}

impl<T: Send + 'static> CollectSink<T> {
    /// The sink and a handle to what it collects.
    pub fn new(name: &str, map: fn(&RecordView<'_>) -> T) -> (CollectSink<T>, Arc<Mutex<Vec<T>>>) {
        let seen = Arc::new(Mutex::new(Vec::new()));
        (
            CollectSink {
                name: name.to_owned(),
                map,
                seen: seen.clone(),
            },
            seen,
        )
    }
}

impl<T: Send + 'static> Sink for CollectSink<T> {
    fn name(&self) -> &str {
        &self.name
    }

    fn write_batch(&mut self, batch: &Batch) -> Result<(), SinkError> {
        let mut seen = self.seen.lock().unwrap();
        seen.extend(batch.iter().map(|r| (self.map)(&r)));
        Ok(())
    }
}

/// A record as plain owned data.
#[derive(Debug, Clone, PartialEq)]
pub struct Owned {
    pub level: asynclog::Level,
    pub message: String,
    pub fields: Vec<(String, OwnedValue)>,
}

/// A `CollectSink` map keeping everything but the timestamp and thread id.
pub fn owned(record: &RecordView<'_>) -> Owned {
    Owned {
        level: record.level,
        message: record.message.to_owned(),
        fields: record
            .fields
            .clone()
            .map(|(k, v)| (k.to_owned(), OwnedValue::from(v)))
            .collect(),
    }
}

/// A `CollectSink` map for records logged with `i = <index>` as their first field.
pub fn index(record: &RecordView<'_>) -> u64 {
    match record.fields.clone().next() {
        Some(("i", Value::U64(i))) => i,
        other => panic!("record without an i field: {other:?}"),
    }
}

/// A `CollectSink` map for records logged with `t = <thread index>, seq = <sequence>` as their
/// first two fields.
pub fn thread_and_seq(record: &RecordView<'_>) -> (u64, u64) {
    let mut fields = record.fields.clone();
    match (fields.next(), fields.next()) {
        (Some(("t", Value::U64(t))), Some(("seq", Value::U64(seq)))) => (t, seq),
        other => panic!("record without t/seq fields: {other:?}"),
    }
}

/// A gate sinks can wait on: closed until `open` is called.
#[derive(Default)]
pub struct Gate {
    open: Mutex<bool>,
    changed: Condvar,
    /// How many callers are waiting at the gate right now.
    waiting: Mutex<usize>,
}

impl Gate {
    pub fn new() -> Arc<Gate> {
        Arc::default()
    }

    pub fn open(&self) {
        *self.open.lock().unwrap() = true;
        self.changed.notify_all();
    }

    /// Blocks while the gate is closed.
    pub fn pass(&self) {
        *self.waiting.lock().unwrap() += 1;
        let mut open = self.open.lock().unwrap();
        while !*open {
            open = self.changed.wait(open).unwrap();
        }
        *self.waiting.lock().unwrap() -= 1;
    }

    pub fn waiting(&self) -> usize {
        *self.waiting.lock().unwrap()
    }
}

/// Polls `done` every millisecond until it holds or `timeout` passes; returns whether it held.
pub fn wait_until(timeout: Duration, mut done: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if done() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// Waits until `returned` (a count of log calls that returned) has not moved for `quiet`, and
/// returns its value then.
pub fn wait_for_stall(returned: &AtomicUsize, quiet: Duration) -> usize {
    let mut last = returned.load(Relaxed);
    loop {
        std::thread::sleep(quiet);
        let now = returned.load(Relaxed);
        if now == last {
            return now;
        }
        last = now;
    }
}

/// A config with the given sinks, fast retries and otherwise the defaults.
pub fn config_with(sinks: Vec<Box<dyn Sink>>) -> Config {
    let mut config = Config::default();
    config.sinks = sinks;
    config.retry_delay = Duration::from_millis(1);
    config
}
