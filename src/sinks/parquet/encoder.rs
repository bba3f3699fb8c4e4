//! The Parquet side of an open file: `ArrowWriter`'s lower-level parts (a `SerializedFileWriter`
//! and one `ArrowColumnWriter` per column), so that the `fields_json` column, the bulk of the
//! encoding and compression work, is encoded on a second thread while the calling thread
//! journals the batch and encodes the other columns.
//!
//! The file is the one `ArrowWriter` writes (it is made by `ArrowWriter::try_new` and taken
//! apart with `into_serialized_writer`, so the embedded Arrow schema and the properties are the
//! same); rows are split into row groups of at most `max_row_group_row_count` rows as
//! `ArrowWriter` splits them.

use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;
use parquet::arrow::arrow_writer::{compute_leaves, ArrowColumnWriter, ArrowRowGroupWriterFactory};
use parquet::arrow::ArrowWriter;
use parquet::errors::Result;
use parquet::file::metadata::ParquetMetaData;
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;
use std::fs::File;

pub(crate) struct Encoder {
    file: SerializedFileWriter<File>,
    factory: ArrowRowGroupWriterFactory,
    schema: SchemaRef,
    /// The open row group's column writers.
    columns: Option<Vec<ArrowColumnWriter>>,
    /// Rows in the open row group.
    rows: usize,
    max_rows: usize,
}

impl Encoder {
    pub(crate) fn try_new(file: File, schema: SchemaRef, props: WriterProperties) -> Result<Self> {
        let max_rows = props.max_row_group_row_count().unwrap_or(usize::MAX).max(1);
        let (file, factory) =
            ArrowWriter::try_new(file, schema.clone(), Some(props))?.into_serialized_writer()?;
        Ok(Encoder {
            file,
            factory,
            schema,
            columns: None,
            rows: 0,
            max_rows,
        })
    }

    /// Bytes written to the file so far (finished row groups).
    pub(crate) fn bytes_written(&self) -> usize {
        self.file.bytes_written()
    }

    /// The writers' estimate of the open row group's encoded size.
    pub(crate) fn in_progress_size(&self) -> usize {
        self.columns.as_ref().map_or(0, |columns| {
            columns.iter().map(|c| c.get_estimated_total_bytes()).sum()
        })
    }

    /// Encodes `batch`, ending row groups at `max_row_group_row_count` rows. `alongside` runs on
    /// this thread while another thread encodes the last column (`fields_json`) of the batch's
    /// first row group chunk; its result is returned with the write's.
    pub(crate) fn write<T>(
        &mut self,
        batch: &RecordBatch,
        alongside: impl FnOnce() -> T,
    ) -> (T, Result<()>) {
        let mut alongside = Some(alongside);
        let mut out = None;
        let mut remaining = batch.clone();
        let mut result = Ok(());
        while remaining.num_rows() > 0 {
            let take = remaining.num_rows().min(self.max_rows - self.rows);
            let chunk = remaining.slice(0, take);
            remaining = remaining.slice(take, remaining.num_rows() - take);
            result = self.write_chunk(&chunk, &mut alongside, &mut out);
            if result.is_ok() && self.rows >= self.max_rows {
                result = self.flush();
            }
            if result.is_err() {
                break;
            }
        }
        let out = match out {
            Some(out) => out,
            None => (alongside.take().expect("alongside runs once"))(),
        };
        (out, result)
    }

    fn write_chunk<T>(
        &mut self,
        chunk: &RecordBatch,
        alongside: &mut Option<impl FnOnce() -> T>,
        out: &mut Option<T>,
    ) -> Result<()> {
        if self.columns.is_none() {
            let index = self.file.flushed_row_groups().len();
            self.columns = Some(self.factory.create_column_writers(index)?);
        }
        let mut leaves = Vec::with_capacity(chunk.num_columns());
        for (field, column) in self.schema.fields().iter().zip(chunk.columns()) {
            leaves.extend(compute_leaves(field, column)?);
        }
        let columns = self.columns.as_mut().expect("created above");
        let (Some((last_writer, writers)), Some((last_leaf, leaves))) =
            (columns.split_last_mut(), leaves.split_last())
        else {
            return Ok(());
        };
        let (first, last) = std::thread::scope(|scope| {
            let helper = scope.spawn(|| last_writer.write(last_leaf));
            if let Some(alongside) = alongside.take() {
                *out = Some(alongside());
            }
            let first = writers
                .iter_mut()
                .zip(leaves)
                .try_for_each(|(writer, leaf)| writer.write(leaf));
            (first, helper.join())
        });
        self.rows += chunk.num_rows();
        let last = last.unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        first.and(last)
    }

    /// Ends the open row group (writes its column chunks to the file).
    pub(crate) fn flush(&mut self) -> Result<()> {
        let Some(columns) = self.columns.take() else {
            return Ok(());
        };
        self.rows = 0;
        let mut row_group = self.file.next_row_group()?;
        for column in columns {
            column.close()?.append_to_row_group(&mut row_group)?;
        }
        row_group.close()?;
        Ok(())
    }

    /// Hands the written bytes to the OS.
    pub(crate) fn sync(&mut self) -> std::io::Result<()> {
        self.file.flush()
    }

    /// Ends the open row group and writes the footer.
    pub(crate) fn finish(&mut self) -> Result<ParquetMetaData> {
        self.flush()?;
        self.file.finish()
    }
}
