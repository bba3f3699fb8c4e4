//! A panic in a thread, with the global logger writing to a file: the panic hook that
//! `asynclog::init` installs flushes, so every record logged before the panic is in the file
//! when the panicking thread has finished, without any flush or close by the program. The hook
//! also logs the panic itself, and chains to the hook installed before it.

use asynclog::{FileSink, Level, OwnedValue};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

const RECORDS: u64 = 10_000;

#[test]
fn a_panicking_thread_leaves_every_earlier_record_in_the_file() {
    let previous_ran = Arc::new(AtomicBool::new(false));
    let flag = previous_ran.clone();
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        flag.store(true, Ordering::SeqCst);
        default(info);
    }));

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.log");
    let mut config = asynclog::Config::default();
    // Long enough that only the hook's flush can have written the records in time.
    config.flush_interval = std::time::Duration::from_secs(3600);
    config.sinks.push(Box::new(FileSink::new(&path).unwrap()));
    let _guard = asynclog::init(config).unwrap();

    let worker = std::thread::spawn(|| {
        for seq in 0..RECORDS {
            asynclog::info!("working", seq = seq);
        }
        panic!("worker gave up");
    });
    assert!(worker.join().is_err());
    assert!(
        previous_ran.load(Ordering::SeqCst),
        "the previous hook is chained"
    );

    let contents = asynclog::read_jsonl(&path).unwrap();
    assert!(contents.bad_lines.is_empty());
    let records = contents.records;
    assert_eq!(
        records.len() as u64,
        RECORDS + 1,
        "every record, then the panic"
    );
    for (seq, record) in records.iter().take(RECORDS as usize).enumerate() {
        assert_eq!(record.message, "working");
        // JSON has one kind of integer: the reader gives back I64 where it fits.
        assert_eq!(record.field("seq"), Some(&OwnedValue::I64(seq as i64)));
    }
    let panic = &records[RECORDS as usize];
    assert_eq!(
        (panic.level, panic.message.as_str()),
        (Level::Error, "panic")
    );
    assert_eq!(
        panic.field("payload"),
        Some(&OwnedValue::Str("worker gave up".into()))
    );
    assert_eq!(panic.field("file"), Some(&OwnedValue::Str(file!().into())));
}
