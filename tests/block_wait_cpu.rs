//! Producers blocked under `Backpressure::Block` behind a stalled sink sleep in their log calls
//! rather than spin. A test binary of its own: the CPU time it measures is the whole process's.

#[path = "common/sinks.rs"]
mod sinks;

use asynclog::{Backpressure, Batch, Logger, Sink, SinkError};
use sinks::{wait_for_stall, wait_until, Gate};
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::sync::Arc;
use std::time::Duration;

const PRODUCERS: usize = 4;
const PER_PRODUCER: usize = 500;

/// Waits at the gate on every write.
struct StalledSink(Arc<Gate>);

impl Sink for StalledSink {
    fn name(&self) -> &str {
        "stalled"
    }

    fn write_batch(&mut self, _batch: &Batch) -> Result<(), SinkError> {
        self.0.pass();
        Ok(())
    }
}

/// CPU time this process has used so far (user plus system).
fn process_cpu_time() -> Duration {
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: `getrusage` fills the `rusage` it is given; RUSAGE_SELF is always valid.
    let rc = unsafe { libc::getrusage(libc::RUSAGE_SELF, usage.as_mut_ptr()) };
    assert_eq!(rc, 0, "getrusage failed");
    // SAFETY: `getrusage` succeeded, so it initialised the struct.
    let usage = unsafe { usage.assume_init() };
    let time = |t: libc::timeval| {
        Duration::from_secs(t.tv_sec as u64) + Duration::from_micros(t.tv_usec as u64)
    };
    time(usage.ru_utime) + time(usage.ru_stime)
}

#[test]
fn producers_blocked_behind_a_stalled_sink_sleep_rather_than_spin() {
    let gate = Gate::new();
    let mut config = asynclog::Config::default()
        .with_sink(StalledSink(gate.clone()))
        .with_backpressure(Backpressure::Block)
        .with_max_batch_records(8);
    // 256-byte rings: a few records fill them.
    config.buffer_size = 2;
    let logger = Arc::new(Logger::new(config).unwrap());
    let returned = Arc::new(AtomicUsize::new(0));
    let producers: Vec<_> = (0..PRODUCERS)
        .map(|t| {
            let (logger, returned) = (logger.clone(), returned.clone());
            std::thread::spawn(move || {
                for seq in 0..PER_PRODUCER {
                    asynclog::try_info!(logger, "tick", t = t, seq = seq).unwrap();
                    returned.fetch_add(1, Relaxed);
                }
            })
        })
        .collect();
    assert!(
        wait_until(Duration::from_secs(5), || gate.waiting() == 1),
        "the sink never received a batch"
    );
    // Every producer waits in a log call once no call has returned for 200 ms.
    let returned_then = wait_for_stall(&returned, Duration::from_millis(200));
    assert!(
        returned_then < PRODUCERS * PER_PRODUCER / 4,
        "{returned_then} calls returned"
    );

    // A wait yields for at most 200 µs, then sleeps 50 µs at a time: the four producers, the
    // drain and the worker took about 45% of one core here. Spinning or yielding without end,
    // the producers take both cores (about 200% measured with the yield limit raised).
    let wall = Duration::from_millis(500);
    let before = process_cpu_time();
    std::thread::sleep(wall);
    let used = process_cpu_time() - before;
    assert!(
        used < wall,
        "{used:?} of CPU in {wall:?} while every producer waited"
    );

    gate.open();
    for producer in producers {
        producer.join().unwrap();
    }
    logger.flush().unwrap();
    assert_eq!(logger.stats().delivered, (PRODUCERS * PER_PRODUCER) as u64);
    logger.close().unwrap();
}
