//! The console sink: one line per record on stdout or stderr, human-readable or JSON.

use crate::batch::Batch;
use crate::error::SinkError;
use crate::sinks::format::write_human_line;
use crate::sinks::json::write_record_line;
use crate::sinks::Sink;
use std::io::Write;

/// Writes records to stdout or stderr, one human-readable line each
/// (`2026-11-27T12:00:00.123456789Z INFO order filled order_id=42`), or with
/// [`ConsoleSink::json`] one JSON object each, exactly as the file sink writes them. Each batch
/// is formatted into a reused buffer and written with one locked `write_all`, so lines from one
/// batch are never interleaved with other output.
#[derive(Debug)]
pub struct ConsoleSink {
    stderr: bool,
    json: bool,
    name: String,
    line_buf: Vec<u8>,
}

impl ConsoleSink {
    /// `ConsoleSink::new(false)` writes to stdout, `ConsoleSink::new(true)` to stderr (the
    /// reference's `NewConsoleSink(bool)`).
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
        }
    }

    /// A console sink writing JSON lines (the format of [`sinks::json`](crate::sinks::json)):
    /// `ConsoleSink::json(false)` to stdout, `ConsoleSink::json(true)` to stderr. Named
    /// `console-json:stdout` / `console-json:stderr`.
    ///
    /// ```
    /// let mut config = asynclog::Config::default();
    /// config.sinks.push(Box::new(asynclog::ConsoleSink::json(false)));
    /// let logger = asynclog::Logger::new(config)?;
    /// asynclog::info!(logger, "order filled", order_id = 42u64)?;
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

    fn write_buf(&self, buf: &[u8]) -> std::io::Result<()> {
        if self.stderr {
            std::io::stderr().lock().write_all(buf)
        } else {
            std::io::stdout().lock().write_all(buf)
        }
    }
}

impl Sink for ConsoleSink {
    fn name(&self) -> &str {
        &self.name
    }

    fn write_batch(&mut self, batch: &Batch) -> Result<(), SinkError> {
        let mut buf = std::mem::take(&mut self.line_buf);
        buf.clear();
        if self.json {
            for record in batch.iter() {
                write_record_line(&mut buf, &record);
            }
        } else {
            for record in batch.iter() {
                write_human_line(&mut buf, &record);
            }
        }
        let result = self.write_buf(&buf);
        self.line_buf = buf;
        result.map_err(|e| SinkError::io(format!("writing to {}", self.stream_name()), e))
    }

    fn flush(&mut self) -> Result<(), SinkError> {
        let result = if self.stderr {
            std::io::stderr().flush()
        } else {
            std::io::stdout().flush()
        };
        result.map_err(|e| SinkError::io(format!("flushing {}", self.stream_name()), e))
    }

    fn close(&mut self) -> Result<(), SinkError> {
        self.flush()
    }
}
