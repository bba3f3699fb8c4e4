//! The JSON-lines serializer shared by the file sink, the console sink's JSON mode and the
//! Parquet sink's `fields_json` column. Long and escaped strings go through `simd-json`'s
//! generator (SIMD escaping), and floats that are not short decimals through its `ryu`; the
//! common cases are written by hand (see each module's `NB` notes for the measurements).
//!
//! By concern: `string` (escaping), `number` (integers and floats; the digits themselves are
//! [`sinks::format`](crate::sinks::format)'s), `lines` (a record as a line, its fields as an
//! object) and `out` (where the bytes go: a `Vec<u8>` or the file sink's memory map).
//!
//! One record is one line:
//!
//! ```text
//! {"timestamp":"2026-11-27T12:00:00.123456789Z","level":"INFO","message":"order filled","thread_id":7,"fields":{"order_id":42,"price":101.25,"symbol":"AAPL"}}
//! ```
//!
//! Every line is valid RFC 8259 JSON for any input, with unique object keys:
//!
//! - **Top-level names** are fixed (`timestamp`, `level`, `message`, `thread_id`, `fields`);
//!   user fields live inside `"fields"`, so a field called `message` or `fields` collides with
//!   nothing. `"fields"` is left out when a record has none.
//! - **Strings** (messages, keys, values): `"` and `\` are escaped, every control character
//!   U+0000..U+001F is escaped (`\n`, `\t`, … or `\u00XX`), everything else, including non-BMP
//!   characters, is written as UTF-8. A line therefore never contains a raw newline or NUL byte,
//!   which is what lets readers treat NUL as "never written" (see the file sink).
//! - **Integers** (`I64`, `U64`): every digit; a u64 above 2^53 stays exact (JavaScript readers
//!   lose precision there; Python, simd-json and DuckDB do not).
//! - **Finite floats**: the shortest decimal that round-trips, always with a `.` or an exponent
//!   (`3.0`, `1e300`, `-0.0`), so it reads back as a float.
//! - **NaN and ±Infinity**, which JSON cannot express, become the one-key objects
//!   `{"$f64":"NaN"}`, `{"$f64":"Infinity"}`, `{"$f64":"-Infinity"}`. No other field value is an
//!   object, so the mapping is unambiguous; the NaN payload and sign are not kept.
//! - **Duplicate keys** in one record: RFC 8259 says names SHOULD be unique and readers disagree
//!   on duplicates (Python keeps the last, others the first), so a key that occurs more than once
//!   is written once, at its first position, with a JSON array of its values in logged order:
//!   `[a=1, b=2, a=3]` becomes `{"a":[1,3],"b":2}`. No other field value is an array, so this is
//!   unambiguous too; only the interleaving of different keys is lost.
//! - `Bool`, `Null`: `true`/`false`, `null`.
//!
//! [`read_jsonl`](crate::read_jsonl) reverses this mapping.

mod lines;
mod number;
mod out;
mod string;

pub(crate) use lines::write_fields_object_to;
pub use lines::{
    batch_bound, line_bound, write_fields_object, write_record_line, write_value, LineEncoder,
};
pub use number::NON_FINITE_KEY;
pub(crate) use out::{JsonOut, SliceWriter};
pub use string::write_string;
