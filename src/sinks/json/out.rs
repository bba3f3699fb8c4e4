//! Where the serializer writes: a `Vec<u8>`, or a window of the file sink's memory map.

use crate::ring::copy::copy_small;
use simd_json::prelude::BaseGenerator;
use std::io::{self, Write};

/// Adapts any `io::Write` (a `Vec<u8>`, a slice of a memory map) to simd-json's generator.
pub(super) struct Gen<'a, W: Write> {
    pub(super) out: &'a mut W,
}

impl<W: Write> BaseGenerator for Gen<'_, W> {
    type T = W;

    #[inline(always)]
    fn get_writer(&mut self) -> &mut W {
        self.out
    }

    #[inline(always)]
    fn write_min(&mut self, slice: &[u8], _min: u8) -> io::Result<()> {
        self.out.write_all(slice)
    }
}

/// Where the serializer writes: a `Vec<u8>`, or a window of the file sink's memory map. Both can
/// take back what they were given since a position, which is how a record with duplicate keys
/// is rewritten in the grouped form without a second pass over the fields in the common case.
pub(crate) trait JsonOut: Write {
    /// Bytes written so far.
    fn position(&self) -> usize;
    /// Forgets everything written after `position`.
    fn rewind(&mut self, position: usize);

    /// Lets `fill` write up to `N` bytes in place and keeps the first `n` it reports. The
    /// default fills a stack buffer and copies it.
    #[inline(always)]
    fn write_fixed<const N: usize>(
        &mut self,
        fill: impl FnOnce(&mut [u8; N]) -> usize,
    ) -> io::Result<()> {
        let mut buf = [0u8; N];
        let n = fill(&mut buf);
        self.write_all(&buf[..n])
    }
}

impl JsonOut for Vec<u8> {
    #[inline(always)]
    fn position(&self) -> usize {
        self.len()
    }

    #[inline(always)]
    fn rewind(&mut self, position: usize) {
        self.truncate(position);
    }
}

/// A writer over a fixed slice (a window of the file sink's memory map). Running out of room
/// is an error (`WriteZero`), never a panic; callers size the slice with [`line_bound`].
#[derive(Debug)]
pub(crate) struct SliceWriter<'a> {
    buf: &'a mut [u8],
    pos: usize,
}

impl<'a> SliceWriter<'a> {
    pub(crate) fn new(buf: &'a mut [u8]) -> Self {
        SliceWriter { buf, pos: 0 }
    }
}

impl JsonOut for SliceWriter<'_> {
    #[inline(always)]
    fn position(&self) -> usize {
        self.pos
    }

    /// Also zeroes what it forgets: the file sink relies on everything past the last line
    /// being zero (that is how readers and reopening find the end).
    #[inline]
    fn rewind(&mut self, position: usize) {
        debug_assert!(position <= self.pos);
        self.buf[position..self.pos].fill(0);
        self.pos = position;
    }

    /// Fills the map directly when `N` bytes are left (always, within a reserved bound).
    #[inline(always)]
    fn write_fixed<const N: usize>(
        &mut self,
        fill: impl FnOnce(&mut [u8; N]) -> usize,
    ) -> io::Result<()> {
        let Some(dst) = self
            .buf
            .get_mut(self.pos..self.pos + N)
            .and_then(|s| <&mut [u8; N]>::try_from(s).ok())
        else {
            let mut buf = [0u8; N];
            let n = fill(&mut buf);
            return self.write_all(&buf[..n]);
        };
        let n = fill(dst);
        self.pos += n;
        Ok(())
    }
}

impl Write for SliceWriter<'_> {
    #[inline]
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.write_all(data).map(|()| data.len())
    }

    #[inline(always)]
    fn write_all(&mut self, data: &[u8]) -> io::Result<()> {
        let end = self.pos + data.len();
        match self.buf.get_mut(self.pos..end) {
            Some(dst) => {
                copy_small(dst, data);
                self.pos = end;
                Ok(())
            }
            None => Err(io::Error::new(
                io::ErrorKind::WriteZero,
                "JSON line longer than its computed bound",
            )),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rewinding_a_slice_leaves_zeros() {
        let mut buf = [0u8; 16];
        let mut w = SliceWriter::new(&mut buf);
        w.write_all(b"abcdef").unwrap();
        w.rewind(2);
        w.write_all(b"X").unwrap();
        assert_eq!(w.position(), 3);
        assert_eq!(&buf[..8], b"abX\0\0\0\0\0");
    }

    #[test]
    fn slice_writer_refuses_to_overflow() {
        let mut buf = [0u8; 4];
        let mut w = SliceWriter::new(&mut buf);
        w.write_all(b"abc").unwrap();
        assert_eq!(
            w.write_all(b"de").unwrap_err().kind(),
            io::ErrorKind::WriteZero
        );
        assert_eq!(w.position(), 3);
    }
}
