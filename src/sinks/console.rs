//! The console sink: one line per record on stdout or stderr, human-readable or JSON.

use crate::batch::Batch;
use crate::error::SinkError;
use crate::sinks::format::write_human_line;
use crate::sinks::json::write_record_line;
use crate::sinks::Sink;
use std::io::{ErrorKind, Write};
use std::time::Duration;

/// Writes records to stdout or stderr, one human-readable line each
/// (`2026-11-27T12:00:00.123456789Z INFO order filled order_id=42`, a message template rendered:
/// see below), or with
/// [`ConsoleSink::json`] one JSON object each, exactly as the file sink writes them. Each batch
/// is formatted into a reused buffer and written with one locked `write_all`, so lines from one
/// batch are never interleaved with other output.
///
/// # Message templates
///
/// A human-readable line renders a message that names its record's fields (a macro's literal
/// or a message passed to `Logger::log` alike), as `format!` would:
/// `info!(logger, "filled {qty} lots of {symbol}", qty = 5, symbol = "AAPL")` prints
/// `... INFO filled 5 lots of AAPL qty=5 symbol=AAPL`. The template stays static on the calling
/// thread and the values travel as typed fields; JSON lines (here and in the file sink) and
/// Parquet keep the template in `message`, beside the fields. A placeholder is `{key}`
/// (`Display`: strings as they are) or `{key:?}` (`Debug`: strings quoted) with a key of
/// letters, digits and `_`, and takes the first field of that name; `{}` and `{:?}` take the
/// positional arguments in order (the fields keyed `0`, `1`, ...); `{{` and `}}` are `{` and
/// `}`. Placeholders naming no field, and other format specs (`{price:.2}`), are printed as they
/// are; a message in which no placeholder names a field is printed as it is, braces included.
/// A message from `tracing` or `log` is not a template but text they already formatted
/// ([`RecordView::message_is_text`](crate::RecordView::message_is_text)): it is printed as it
/// is, braces included.
#[derive(Debug)]
pub struct ConsoleSink {
    stderr: bool,
    json: bool,
    name: String,
    /// The lines of the last batch written (or being written).
    line_buf: Vec<u8>,
    /// Where the next batch is formatted, before it replaces `line_buf`.
    next_buf: Vec<u8>,
    /// When the last write failed part way: how many bytes of `line_buf` reached the stream.
    written: Option<usize>,
}

impl ConsoleSink {
    /// `ConsoleSink::new(false)` writes to stdout, `ConsoleSink::new(true)` to stderr.
    pub fn new(stderr: bool) -> ConsoleSink {
        ConsoleSink {
            stderr,
            json: false,
            name: if stderr {
                "console:stderr"
            } else {
                "console:stdout"
            }
            .to_owned(),
            line_buf: Vec::new(),
            next_buf: Vec::new(),
            written: None,
        }
    }

    /// Human-readable lines on stdout, named `console:stdout`.
    ///
    /// ```
    /// let config = asynclog::Config::default().with_sink(asynclog::ConsoleSink::stdout());
    /// let logger = asynclog::Logger::new(config)?;
    /// asynclog::info!(logger, "order filled", order_id = 42u64);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn stdout() -> ConsoleSink {
        ConsoleSink::new(false)
    }

    /// Human-readable lines on stderr, named `console:stderr`.
    pub fn stderr() -> ConsoleSink {
        ConsoleSink::new(true)
    }

    /// A console sink writing JSON lines (the format of [`FileSink`](crate::FileSink)):
    /// `ConsoleSink::json(false)` to stdout, `ConsoleSink::json(true)` to stderr. Named
    /// `console-json:stdout` / `console-json:stderr`.
    ///
    /// ```
    /// let mut config = asynclog::Config::default();
    /// config.sinks.push(Box::new(asynclog::ConsoleSink::json(false)));
    /// let logger = asynclog::Logger::new(config)?;
    /// asynclog::info!(logger, "order filled", order_id = 42u64);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn json(stderr: bool) -> ConsoleSink {
        ConsoleSink {
            json: true,
            name: if stderr {
                "console-json:stderr"
            } else {
                "console-json:stdout"
            }
            .to_owned(),
            ..ConsoleSink::new(stderr)
        }
    }

    /// Renames the sink (names must be unique within a logger).
    #[must_use]
    pub fn with_name(mut self, name: impl Into<String>) -> ConsoleSink {
        self.name = name.into();
        self
    }

    fn stream_name(&self) -> &'static str {
        if self.stderr {
            "stderr"
        } else {
            "stdout"
        }
    }

    /// Writes `buf`; on failure, how many of its bytes reached the stream, and the error.
    fn write_buf(&self, buf: &[u8]) -> Result<(), (usize, std::io::Error)> {
        if self.stderr {
            write_all_waiting(&mut std::io::stderr().lock(), buf)
        } else {
            write_all_waiting(&mut std::io::stdout().lock(), buf)
        }
    }

    /// Records how far a failed write got (see `write_batch`) and names the stream in its error.
    fn finish_write(
        &mut self,
        result: Result<(), (usize, std::io::Error)>,
    ) -> Result<(), SinkError> {
        result.map_err(|(written, e)| {
            self.written = Some(written);
            SinkError::io(format!("writing to {}", self.stream_name()), e)
        })
    }
}

/// How long to wait before writing again to a full non-blocking stream.
const FULL_STREAM_PAUSE: Duration = Duration::from_millis(1);

/// `write_all`, except that a full non-blocking stream (`WouldBlock`) is waited for, as a
/// blocking one would be, instead of failing midway
/// (tests/console_partial_write_retry.rs); any other error comes back with how many
/// bytes were written before it, so that the retry goes on from there (see `write_batch`).
fn write_all_waiting(out: &mut impl Write, buf: &[u8]) -> Result<(), (usize, std::io::Error)> {
    let mut written = 0;
    while written < buf.len() {
        match out.write(&buf[written..]) {
            Ok(0) => return Err((written, ErrorKind::WriteZero.into())),
            Ok(n) => written += n,
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) if e.kind() == ErrorKind::WouldBlock => std::thread::sleep(FULL_STREAM_PAUSE),
            Err(e) => return Err((written, e)),
        }
    }
    Ok(())
}

/// `flush`, waiting out a full non-blocking stream like [`write_all_waiting`].
fn flush_waiting(out: &mut impl Write) -> std::io::Result<()> {
    loop {
        match out.flush() {
            Err(e) if e.kind() == ErrorKind::WouldBlock => std::thread::sleep(FULL_STREAM_PAUSE),
            other => return other,
        }
    }
}

impl Sink for ConsoleSink {
    fn name(&self) -> &str {
        &self.name
    }

    /// A write that fails part way (a full disk under a redirected stdout, say) leaves lines
    /// in the stream that a retry of the whole batch would write again, so the sink remembers
    /// how far it got: the worker's retry (the same batch, so the same lines) goes on from there
    /// (tests/console_partial_write_error.rs). If the next batch is another one (the worker gave
    /// the failed one up), the torn line is ended first, so every line stays one record.
    fn write_batch(&mut self, batch: &Batch) -> Result<(), SinkError> {
        let mut next = std::mem::take(&mut self.next_buf);
        next.clear();
        if self.json {
            for record in batch.iter() {
                write_record_line(&mut next, &record);
            }
        } else {
            for record in batch.iter() {
                write_human_line(&mut next, &record);
            }
        }
        if let Some(written) = self.written.take() {
            let retry = next == self.line_buf;
            let torn = written > 0 && self.line_buf[written - 1] != b'\n';
            let end = if retry {
                self.line_buf.len()
            } else if torn {
                (self.line_buf[written..].iter().position(|&b| b == b'\n'))
                    .map_or(written, |at| written + at + 1)
            } else {
                written
            };
            let result = self
                .write_buf(&self.line_buf[written..end])
                .map_err(|(n, e)| (written + n, e));
            if retry || result.is_err() {
                self.next_buf = next;
                return self.finish_write(result);
            }
        }
        std::mem::swap(&mut self.line_buf, &mut next);
        self.next_buf = next;
        let result = self.write_buf(&self.line_buf);
        self.finish_write(result)
    }

    fn flush(&mut self) -> Result<(), SinkError> {
        let result = if self.stderr {
            flush_waiting(&mut std::io::stderr())
        } else {
            flush_waiting(&mut std::io::stdout())
        };
        result.map_err(|e| SinkError::io(format!("flushing {}", self.stream_name()), e))
    }

    fn close(&mut self) -> Result<(), SinkError> {
        self.flush()
    }
}
