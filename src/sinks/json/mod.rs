//! The JSON-lines serializer shared by the file sink, the console sink's JSON mode and the
//! Parquet sink's `fields_json` column. Long and escaped strings go through `simd-json`'s
//! generator (SIMD escaping), and floats that are not short decimals through its `ryu`; the
//! common cases are written by hand (see each module's `NB` notes for the measurements).
//!
//! By concern: `string` (escaping), `number` (integers and floats; the digits themselves are
//! [`sinks::format`](crate::sinks::format)'s), `lines` (a record as a line, its fields as an
//! object) and `out` (where the bytes go: a `Vec<u8>` or the file sink's memory map).
//!
//! The mapping from records to lines is documented for users on [`sinks::file`](crate::sinks::file)
//! ("The format").

mod lines;
mod number;
mod out;
mod string;

pub use lines::{
    batch_bound, line_bound, write_fields_object, write_record_line, write_value, LineEncoder,
};
#[cfg(feature = "parquet")]
pub(crate) use lines::{write_fields_object_to, CallsiteKeys};
pub use number::NON_FINITE_KEY;
pub(crate) use out::{JsonOut, SliceWriter};
pub use string::write_string;
