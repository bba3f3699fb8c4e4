//! `Config::drain_cpu`, `Config::sink_worker_cpus` and `ParquetSinkConfig::encoder_cpu`: each
//! thread runs only on its CPU from its start, every record still arrives, and a CPU the process
//! may not use is a config error naming the option.
#![cfg(all(target_os = "linux", feature = "parquet"))]

use crate::parquet_common;
use asynclog::{
    info, Batch, Config, Error, Logger, ParquetSink, ParquetSinkConfig, Sink, SinkError,
};
use std::fs;
use std::sync::{Arc, Mutex};

/// The `Cpus_allowed_list` line of a `/proc` status file, e.g. `0-1` or `1`.
fn allowed_list(status: &str) -> String {
    fs::read_to_string(status)
        .unwrap()
        .lines()
        .find_map(|line| line.strip_prefix("Cpus_allowed_list:"))
        .expect("a Cpus_allowed_list line")
        .trim()
        .to_owned()
}

/// The CPUs this test process may run on.
fn allowed_cpus() -> Vec<usize> {
    let mut cpus = Vec::new();
    for part in allowed_list("/proc/self/status").split(',') {
        match part.split_once('-') {
            Some((from, to)) => cpus.extend(from.parse::<usize>().unwrap()..=to.parse().unwrap()),
            None => cpus.push(part.parse().unwrap()),
        }
    }
    cpus
}

/// The allowed-CPU lists of this process's threads whose name starts with `prefix` (the kernel
/// keeps 15 bytes of a name). Other tests of this binary run asynclog threads of the same names,
/// unpinned.
fn thread_cpu_lists(prefix: &str) -> Vec<String> {
    let mut lists = Vec::new();
    for task in fs::read_dir("/proc/self/task").unwrap().flatten() {
        let Ok(comm) = fs::read_to_string(task.path().join("comm")) else {
            continue; // the thread ended meanwhile
        };
        if comm.trim_end().starts_with(prefix) {
            if let Ok(status) = fs::read_to_string(task.path().join("status")) {
                let line = status
                    .lines()
                    .find_map(|l| l.strip_prefix("Cpus_allowed_list:"))
                    .unwrap();
                lists.push(line.trim().to_owned());
            }
        }
    }
    lists
}

/// Forwards to a Parquet sink, noting the allowed CPUs of the thread each batch arrives on.
struct Probe {
    inner: ParquetSink,
    seen_on: Arc<Mutex<Vec<String>>>,
}

impl Sink for Probe {
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn write_batch(&mut self, batch: &Batch) -> Result<(), SinkError> {
        self.seen_on
            .lock()
            .unwrap()
            .push(allowed_list("/proc/thread-self/status"));
        self.inner.write_batch(batch)
    }

    fn flush(&mut self) -> Result<(), SinkError> {
        self.inner.flush()
    }

    fn close(&mut self) -> Result<(), SinkError> {
        self.inner.close()
    }
}

/// Pins the calling thread to `cpu`, as an application might pin the thread that creates its
/// logger.
fn pin_this_thread(cpu: usize) {
    // SAFETY: a zeroed `cpu_set_t` is an empty set; `cpu` is one of this process's CPUs.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(cpu, &mut set);
        assert_eq!(
            libc::sched_setaffinity(0, size_of::<libc::cpu_set_t>(), &set),
            0
        );
    }
}

#[test]
fn pinned_threads_run_only_on_their_cpu_and_every_record_arrives() {
    let cpus = allowed_cpus();
    let [a, .., b] = cpus[..] else {
        // A pinned thread's list cannot differ from an inherited one on one CPU.
        eprintln!("skipped: this process may run on one CPU only ({cpus:?})");
        return;
    };
    // The logger is created (and logged to) on a thread pinned to `a`, whose mask new threads
    // inherit; the drain and the worker go to `b`, and the encoder, which the worker starts, back
    // to `a`. So each thread shows a list it can only have from its own pinning.
    std::thread::spawn(move || {
        pin_this_thread(a);
        log_pinned(a, b);
    })
    .join()
    .unwrap();
}

fn log_pinned(a: usize, b: usize) {
    let dir = tempfile::tempdir().unwrap();
    let parquet = ParquetSinkConfig::new(dir.path().join("app"))
        .with_encoder_cpu(a)
        .build()
        .unwrap();
    let seen_on = Arc::new(Mutex::new(Vec::new()));
    let config = Config::default()
        .with_sink(Probe {
            inner: parquet,
            seen_on: seen_on.clone(),
        })
        .with_drain_cpu(b)
        .with_sink_worker_cpus([b]);
    let logger = Logger::new(config).unwrap();
    const RECORDS: u64 = 50_000;
    for order_id in 0..RECORDS {
        info!(logger, "order filled", order_id = order_id);
    }
    logger.flush().unwrap();

    let (a_list, b_list) = (a.to_string(), b.to_string());
    assert!(
        thread_cpu_lists("asynclog-drain").contains(&b_list),
        "a drain thread pinned to CPU {b}: {:?}",
        thread_cpu_lists("asynclog-drain")
    );
    assert!(
        thread_cpu_lists("asynclog-parque").contains(&a_list),
        "an encoder thread pinned to CPU {a}: {:?}",
        thread_cpu_lists("asynclog-parque")
    );
    let seen_on = seen_on.lock().unwrap().clone();
    assert!(!seen_on.is_empty());
    assert!(
        seen_on.iter().all(|list| *list == b_list),
        "every batch written on a worker pinned to CPU {b}: {seen_on:?}"
    );

    logger.close().unwrap();
    let rows = parquet_common::read_all(dir.path());
    assert_eq!(rows.len() as u64, RECORDS);
    let mut order_ids: Vec<u64> = rows.iter().map(|row| order_id(&row.fields_json)).collect();
    order_ids.sort_unstable();
    assert!(order_ids.iter().copied().eq(0..RECORDS));
}

fn order_id(fields_json: &Option<String>) -> u64 {
    let json = parquet_common::parse_json(fields_json.as_deref().expect("fields"));
    simd_json::prelude::ValueAsScalar::as_u64(&json["order_id"]).expect("an order_id")
}

#[test]
fn a_cpu_the_process_may_not_use_is_a_config_error_naming_the_option() {
    // Inside a CPU set (1,024 CPUs) but not a CPU of this machine: the kernel refuses it.
    let unusable = 1000;
    let refused = |config: Config| match Logger::new(config) {
        Err(Error::Config { field, reason }) => {
            assert!(reason.contains("CPU 1000"), "names the CPU: {reason}");
            field
        }
        other => panic!("expected a config error, got {:?}", other.map(|_| ())),
    };
    assert_eq!(
        refused(Config::default().with_drain_cpu(unusable)),
        "drain_cpu"
    );
    assert_eq!(
        refused(Config::default().with_sink_worker_cpus([allowed_cpus()[0], unusable])),
        "sink_worker_cpus"
    );
    let dir = tempfile::tempdir().unwrap();
    match ParquetSinkConfig::new(dir.path().join("app"))
        .with_encoder_cpu(unusable)
        .build()
    {
        Err(Error::Config { field, reason }) => {
            assert_eq!(field, "encoder_cpu");
            assert!(
                reason.contains("CPU 1000") && reason.contains("parquet:"),
                "{reason}"
            );
        }
        other => panic!("expected a config error, got {:?}", other.map(|_| ())),
    }
    // Past what a CPU set holds: refused the same way, not a panic.
    match Logger::new(Config::default().with_drain_cpu(1 << 20)) {
        Err(Error::Config { field, .. }) => assert_eq!(field, "drain_cpu"),
        other => panic!("expected a config error, got {:?}", other.map(|_| ())),
    }
}
