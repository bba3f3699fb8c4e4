//! The console sink on a full, non-blocking stdout (a pipe whose reader is slow, as under some
//! process supervisors): `write_all` fails with `WouldBlock` after writing part of the batch,
//! and the worker retries the same batch. Each record must still reach the stream once.
//!
//! Stdout is swapped for a pipe for the duration of the test (this file holds this one test, so
//! nothing else writes to it meanwhile) and restored before the checks.

use asynclog::{Batch, ConsoleSink, Field, Level, Sink};
use std::os::fd::RawFd;
use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
use std::sync::Arc;
use std::time::{Duration, Instant};

const RECORDS: u64 = 200; // about 30 KiB of JSON lines
/// Room left in the pipe when the batch is first written.
const ROOM: usize = 8 << 10;

fn set_nonblocking(fd: RawFd) {
    // SAFETY: fcntl on a descriptor this test owns, with integer arguments.
    unsafe {
        let flags = libc::fcntl(fd, libc::F_GETFL);
        assert!(flags >= 0);
        assert_eq!(libc::fcntl(fd, libc::F_SETFL, flags | libc::O_NONBLOCK), 0);
    }
}

/// Reads whatever the pipe holds now.
fn drain(fd: RawFd, out: &mut Vec<u8>) {
    let mut buf = [0u8; 1 << 16];
    loop {
        // SAFETY: `buf` is valid for writes of its length.
        let n = unsafe { libc::read(fd, buf.as_mut_ptr().cast(), buf.len()) };
        if n <= 0 {
            return;
        }
        out.extend_from_slice(&buf[..n as usize]);
    }
}

#[test]
fn a_retried_batch_reaches_a_full_nonblocking_stdout_once() {
    let mut batch = Batch::new();
    for seq in 0..RECORDS {
        let ts = 1_795_780_800_000_000_000 + seq as i64;
        let message = "a message long enough to fill the pipe in a few thousand records";
        batch
            .push(ts, Level::Info, 1, message, &[Field::new("seq", seq)])
            .unwrap();
    }
    let mut fds = [0 as RawFd; 2];
    // SAFETY: `fds` has room for the two descriptors.
    assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
    let [read_end, write_end] = fds;
    set_nonblocking(read_end);
    set_nonblocking(write_end);
    // SAFETY: dup on a descriptor of this process.
    let saved = unsafe { libc::dup(1) };
    assert!(saved >= 0);
    // SAFETY: dup2 between descriptors of this process; stdout is restored below.
    assert!(unsafe { libc::dup2(write_end, 1) } >= 0);

    // Someone else's output fills the pipe, and the reader has taken only `ROOM` bytes of it.
    let filler = [b'.'; 63].iter().chain(b"\n").copied().collect::<Vec<u8>>();
    // SAFETY: `filler` is valid for reads of its length.
    while unsafe { libc::write(write_end, filler.as_ptr().cast(), filler.len()) } > 0 {}
    let mut room = vec![0u8; ROOM];
    // SAFETY: `room` is valid for writes of its length.
    assert_eq!(
        unsafe { libc::read(read_end, room.as_mut_ptr().cast(), ROOM) },
        ROOM as isize
    );

    // The reader catches up once the first attempt has returned, or after a while if it has
    // not (a sink that waits for room).
    let returned = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicBool::new(false));
    let reader = {
        let (returned, done) = (returned.clone(), done.clone());
        std::thread::spawn(move || {
            let start = Instant::now();
            while !returned.load(SeqCst) && start.elapsed() < Duration::from_millis(300) {
                std::thread::sleep(Duration::from_millis(1));
            }
            let mut out = Vec::new();
            while !done.load(SeqCst) {
                drain(read_end, &mut out);
                std::thread::sleep(Duration::from_millis(1));
            }
            drain(read_end, &mut out);
            out
        })
    };

    let mut sink = ConsoleSink::json(false);
    let mut attempts = 0;
    let written = loop {
        attempts += 1;
        // What the worker does: the same batch again after a failure.
        let result = sink.write_batch(&batch);
        returned.store(true, SeqCst);
        match result {
            Ok(()) => break Ok(()),
            Err(_) if attempts < 1000 => std::thread::sleep(Duration::from_millis(1)),
            Err(e) => break Err(e),
        }
    };
    let flushed = sink.flush();
    done.store(true, SeqCst);
    let out = reader.join().unwrap();

    // SAFETY: dup2 and close on descriptors this test opened; stdout gets its own back.
    unsafe {
        assert!(libc::dup2(saved, 1) >= 0);
        libc::close(saved);
        libc::close(write_end);
        libc::close(read_end);
    }
    written.unwrap();
    flushed.unwrap();
    let text = String::from_utf8(out).unwrap();
    // A line that is not one whole record (two run together) counts as `None`.
    let seqs: Vec<Option<u64>> = text
        .lines()
        .filter(|line| !line.bytes().all(|b| b == b'.'))
        .map(|line| {
            let at = line.rfind(r#""seq":"#)? + 6;
            let seq = line[at..].strip_suffix("}}")?.parse().ok()?;
            (line.matches("timestamp").count() == 1).then_some(seq)
        })
        .collect();
    assert_eq!(
        seqs,
        (0..RECORDS).map(Some).collect::<Vec<_>>(),
        "{attempts} attempts, {} lines",
        seqs.len()
    );
}
