//! A sink stalls; producers fill the pipeline behind it and, under `Backpressure::Block`, wait in
//! their log calls. Released, every record arrives in order and none is dropped. Under
//! `Backpressure::Drop` the same stall turns into counted, reported drops instead of waiting.

use crate::sinks;

use asynclog::{Backpressure, Batch, LogError, Logger, Sink, SinkError};
use sinks::{thread_and_seq, wait_for_stall, wait_until, Gate};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const PRODUCERS: u64 = 4;
const PER_PRODUCER: u64 = 500;
const TOTAL: u64 = PRODUCERS * PER_PRODUCER;

/// Waits at the gate on every write, then keeps `(t, seq)` of each record.
struct StalledSink {
    gate: Arc<Gate>,
    seen: Arc<Mutex<Vec<(u64, u64)>>>,
}

impl Sink for StalledSink {
    fn name(&self) -> &str {
        "stalled"
    }

    fn write_batch(&mut self, batch: &Batch) -> Result<(), SinkError> {
        self.gate.pass();
        let mut seen = self.seen.lock().unwrap();
        seen.extend(batch.iter().map(|r| thread_and_seq(&r)));
        Ok(())
    }
}

struct Setup {
    logger: Arc<Logger>,
    gate: Arc<Gate>,
    seen: Arc<Mutex<Vec<(u64, u64)>>>,
    dropped_hook: Arc<AtomicU64>,
}

fn setup(backpressure: Backpressure) -> Setup {
    let gate = Gate::new();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let dropped_hook = Arc::new(AtomicU64::new(0));
    let mut config = asynclog::Config::default();
    config.sinks = vec![Box::new(StalledSink {
        gate: gate.clone(),
        seen: seen.clone(),
    })];
    config.backpressure = backpressure;
    // 256-byte rings and 8-record batches: the pipeline holds a few dozen records at most.
    config.buffer_size = 2;
    config.max_batch_records = 8;
    let counter = dropped_hook.clone();
    config.hooks = asynclog::Hooks::default().on_message_dropped(move |_| {
        counter.fetch_add(1, Relaxed);
    });
    Setup {
        logger: Arc::new(Logger::new(config).unwrap()),
        gate,
        seen,
        dropped_hook,
    }
}

/// Starts the producers; each returns the seqs whose calls returned `Ok`.
fn start_producers(
    logger: &Arc<Logger>,
    returned: &Arc<AtomicUsize>,
) -> Vec<std::thread::JoinHandle<Vec<u64>>> {
    (0..PRODUCERS)
        .map(|t| {
            let logger = logger.clone();
            let returned = returned.clone();
            std::thread::spawn(move || {
                let mut ok = Vec::new();
                for seq in 0..PER_PRODUCER {
                    match asynclog::try_info!(logger, "tick", t = t, seq = seq) {
                        Ok(()) => ok.push(seq),
                        Err(LogError::Dropped) => {}
                        Err(other) => panic!("thread {t}, seq {seq}: {other}"),
                    }
                    returned.fetch_add(1, Relaxed);
                }
                ok
            })
        })
        .collect()
}

#[test]
fn blocked_producers_lose_nothing_once_the_sink_is_released() {
    let Setup {
        logger,
        gate,
        seen,
        dropped_hook,
    } = setup(Backpressure::Block);
    let returned = Arc::new(AtomicUsize::new(0));
    let producers = start_producers(&logger, &returned);

    assert!(
        wait_until(Duration::from_secs(5), || gate.waiting() == 1),
        "the sink never received a batch"
    );
    let stalled_at = wait_for_stall(&returned, Duration::from_millis(200));
    assert!(
        stalled_at < TOTAL as usize / 4,
        "{stalled_at} of {TOTAL} calls returned while the sink was stalled: they did not block"
    );
    assert_eq!(logger.stats().dropped, 0);
    assert!(seen.lock().unwrap().is_empty());

    gate.open();
    for (t, producer) in producers.into_iter().enumerate() {
        let ok = producer.join().unwrap();
        assert_eq!(
            ok.len() as u64,
            PER_PRODUCER,
            "thread {t} had calls refused"
        );
    }
    logger.flush().unwrap();

    let seen = seen.lock().unwrap();
    assert_eq!(seen.len() as u64, TOTAL);
    for t in 0..PRODUCERS {
        let seqs: Vec<u64> = seen.iter().filter(|r| r.0 == t).map(|r| r.1).collect();
        assert_eq!(seqs, (0..PER_PRODUCER).collect::<Vec<_>>(), "thread {t}");
    }
    let stats = logger.stats();
    assert_eq!(
        (stats.buffered, stats.dropped, stats.delivered),
        (TOTAL, 0, TOTAL)
    );
    assert_eq!(dropped_hook.load(Relaxed), 0);
    logger.close().unwrap();
}

#[test]
fn under_drop_a_stall_turns_into_counted_drops() {
    let Setup {
        logger,
        gate,
        seen,
        dropped_hook,
    } = setup(Backpressure::Drop);
    let returned = Arc::new(AtomicUsize::new(0));
    let producers = start_producers(&logger, &returned);
    assert!(
        wait_until(Duration::from_secs(5), || gate.waiting() == 1),
        "the sink never received a batch"
    );
    // Nothing waits: every call returns while the sink is still stalled.
    assert!(
        wait_until(Duration::from_secs(10), || returned.load(Relaxed)
            == TOTAL as usize),
        "calls under Backpressure::Drop waited for the stalled sink"
    );
    let accepted: Vec<Vec<u64>> = producers.into_iter().map(|p| p.join().unwrap()).collect();
    gate.open();
    logger.flush().unwrap();

    let accepted_total: u64 = accepted.iter().map(|ok| ok.len() as u64).sum();
    let stats = logger.stats();
    assert!(
        stats.dropped > 0,
        "nothing was dropped behind a stalled sink"
    );
    assert_eq!(stats.dropped + accepted_total, TOTAL);
    assert_eq!(dropped_hook.load(Relaxed), stats.dropped);
    assert_eq!(stats.delivered, accepted_total);
    // Exactly the accepted records arrive, in order.
    let seen = seen.lock().unwrap();
    for (t, ok) in accepted.iter().enumerate() {
        let seqs: Vec<u64> = seen
            .iter()
            .filter(|r| r.0 == t as u64)
            .map(|r| r.1)
            .collect();
        assert_eq!(&seqs, ok, "thread {t}");
    }
    logger.close().unwrap();
}
