//! The short copy that both ends of the hot path are made of: the encoder copying keys, strings
//! and messages into a ring (into `MaybeUninit` bytes), and the JSON line writer copying pieces
//! of a line into the file sink's map.

use std::mem::MaybeUninit;

/// A byte that can be the destination of a copy: `u8`, or a ring's not-yet-written
/// `MaybeUninit<u8>`.
pub(crate) trait ByteSlot: Sized {
    /// `dst.copy_from_slice(src)` for this kind of byte; `dst` and `src` have the same length.
    fn copy_from(dst: &mut [Self], src: &[u8]);
}

impl ByteSlot for u8 {
    #[inline(always)]
    fn copy_from(dst: &mut [u8], src: &[u8]) {
        dst.copy_from_slice(src);
    }
}

impl ByteSlot for MaybeUninit<u8> {
    #[inline(always)]
    fn copy_from(dst: &mut [MaybeUninit<u8>], src: &[u8]) {
        dst.write_copy_of_slice(src);
    }
}

/// Copies `src` into `dst` (same length). Keys, short strings, messages and the pieces of a
/// JSON line are usually at most 32 bytes, where a `memcpy` call costs more than the copy: those
/// are done inline with two overlapping fixed-size moves (each of which the compiler turns into
/// one load and one store).
// NB: callgrind counted ~17 instructions per `memcpy` call and 5 calls per typical record in the
// encoder before this (`examples/loadgen` documents the hot-path numbers); a JSON line is written
// in about 20 pieces of 1 to 60 bytes, and library memcpy calls for them were 6-8% of the file
// sink's profile (perf on benches/file_sink.rs, `write_batch_8192`).
#[inline(always)]
pub(crate) fn copy_small<T: ByteSlot>(dst: &mut [T], src: &[u8]) {
    let n = src.len();
    debug_assert_eq!(dst.len(), n);
    // The most common lengths (8 to 16: keys, short messages) are decided by the fewest
    // comparisons.
    if n >= 8 {
        if n <= 16 {
            T::copy_from(&mut dst[..8], &src[..8]);
            T::copy_from(&mut dst[n - 8..], &src[n - 8..]);
        } else if n <= 32 {
            T::copy_from(&mut dst[..16], &src[..16]);
            T::copy_from(&mut dst[n - 16..], &src[n - 16..]);
        } else {
            T::copy_from(dst, src);
        }
    } else if n >= 4 {
        T::copy_from(&mut dst[..4], &src[..4]);
        T::copy_from(&mut dst[n - 4..], &src[n - 4..]);
    } else if n > 0 {
        // 1 to 3 bytes: first, middle and last (some of them the same byte).
        T::copy_from(&mut dst[..1], &src[..1]);
        T::copy_from(&mut dst[n / 2..n / 2 + 1], &src[n / 2..n / 2 + 1]);
        T::copy_from(&mut dst[n - 1..], &src[n - 1..]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_copies_copy_every_length() {
        let src: Vec<u8> = (0..100).collect();
        for n in 0..100 {
            let mut dst = vec![0xAAu8; n];
            copy_small(&mut dst, &src[..n]);
            assert_eq!(dst, &src[..n]);
            let mut slots = vec![MaybeUninit::new(0xAAu8); n];
            copy_small(&mut slots, &src[..n]);
            // SAFETY: every slot was initialised when the vector was made.
            let got: Vec<u8> = slots.iter().map(|b| unsafe { b.assume_init() }).collect();
            assert_eq!(got, &src[..n]);
        }
    }
}
