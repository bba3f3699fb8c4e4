//! A sink that discards everything: for measuring the logger itself, without I/O.

use crate::batch::Batch;
use crate::error::SinkError;
use crate::sinks::Sink;

/// Accepts every batch and writes nothing (named `"null"`). The drain and a worker still run, so
/// benchmarks and allocation tests measure the whole engine minus I/O.
#[derive(Debug, Default, Clone, Copy)]
pub struct NullSink;

impl Sink for NullSink {
    fn name(&self) -> &str {
        "null"
    }

    fn write_batch(&mut self, batch: &Batch) -> Result<(), SinkError> {
        std::hint::black_box(batch.len());
        Ok(())
    }

    fn flush(&mut self) -> Result<(), SinkError> {
        Ok(())
    }

    fn close(&mut self) -> Result<(), SinkError> {
        Ok(())
    }
}
