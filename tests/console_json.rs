//! `ConsoleSink::json` writes the file sink's JSON lines to stdout (or stderr): one valid object
//! per record, the same bytes the file sink writes for the same batch.
//! The console's output is captured from a child process (this binary again).

mod file_common;
use asynclog::{Batch, Config, ConsoleSink, Field, FileSink, Level, Logger, Sink};
use file_common::*;
use std::process::Command;

const CHILD: &str = "ASYNCLOG_CONSOLE_JSON_CHILD";
const RECORDS: u64 = 500;
const SEED: u64 = 77;

#[test]
#[ignore = "helper process for console_json_lines_are_the_file_format; returns at once when run directly"]
fn console_json_child() {
    let Ok(stream) = std::env::var(CHILD) else {
        return;
    };
    let mut config = Config::default();
    config
        .sinks
        .push(Box::new(ConsoleSink::json(stream == "stderr")));
    let logger = Logger::new(config).unwrap();
    let mut gen = Generator::new(SEED);
    for seq in 0..RECORDS {
        let (level, message, fields) = gen.record(seq);
        logger.log(level, &message, &borrowed(&fields)).unwrap();
    }
    logger.close().unwrap();
}

fn child_output(stream: &str) -> Vec<u8> {
    let output = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "console_json_child",
            "--ignored",
            "--test-threads=1",
            "-q",
        ])
        .env(CHILD, stream)
        .output()
        .unwrap();
    assert!(output.status.success(), "{:?}", output);
    if stream == "stderr" {
        output.stderr
    } else {
        output.stdout
    }
}

#[test]
fn console_json_lines_are_the_file_format() {
    let dir = Scratch::new("console-json");
    for stream in ["stdout", "stderr"] {
        let out = child_output(stream);
        // Keep only the JSON lines (libtest writes its own lines to stdout).
        let json: Vec<u8> = out
            .split_inclusive(|&b| b == b'\n')
            .filter(|l| l.starts_with(b"{\"timestamp\":"))
            .flatten()
            .copied()
            .collect();
        let path = dir.join(&format!("{stream}.jsonl"));
        std::fs::write(&path, &json).unwrap();
        let contents = asynclog::read_jsonl(&path).unwrap();
        assert!(contents.bad_lines.is_empty(), "{:?}", contents.bad_lines);
        assert_eq!(contents.records.len() as u64, RECORDS, "{stream}");
        let mut gen = Generator::new(SEED);
        for (seq, record) in contents.records.iter().enumerate() {
            let (level, message, fields) = gen.record(seq as u64);
            assert_eq!((record.level, &record.message), (level, &message));
            assert_same_fields(seq as u64, &record.fields, &expected_fields(&fields));
        }
    }
}

#[test]
fn console_json_names_its_stream() {
    assert_eq!(ConsoleSink::json(false).name(), "console-json:stdout");
    assert_eq!(ConsoleSink::json(true).name(), "console-json:stderr");
    assert_eq!(ConsoleSink::new(false).name(), "console:stdout");
}

#[test]
fn file_and_console_serialize_a_batch_identically() {
    // Same batch through the file sink and through the shared serializer the console uses.
    let dir = Scratch::new("console-same");
    let path = dir.join("app.log");
    let mut batch = Batch::new();
    let mut gen = Generator::new(SEED);
    for seq in 0..200 {
        let (level, message, fields) = gen.record(seq);
        batch
            .push(
                seq as i64 * 1_000_003,
                level,
                3,
                &message,
                &borrowed(&fields),
            )
            .unwrap();
    }
    batch
        .push(-1, Level::Fatal, u64::MAX, "", &[Field::new("", "")])
        .unwrap();
    let mut sink = FileSink::new(&path).unwrap();
    sink.write_batch(&batch).unwrap();
    sink.close().unwrap();
    let mut expected = Vec::new();
    for record in batch.iter() {
        asynclog::__private::json::write_record_line(&mut expected, &record);
    }
    assert_eq!(std::fs::read(&path).unwrap(), expected);
}
