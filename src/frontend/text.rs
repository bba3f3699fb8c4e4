//! Formatting on the calling thread without the heap, for the `tracing` and `log` backends: a
//! message arrives there as `fmt::Arguments`, and `%`/`?` values as `Display`/`Debug` objects,
//! which must become text before they can be copied into the ring.
//!
//! The text goes into this thread's [`TEXT_BYTES`]-byte buffer, carved up front to back: each
//! formatted or copied string takes the next bytes, so every string of one event stays valid
//! until the event is encoded. Text that does not fit is cut at a character boundary (the record
//! keeps what fitted; nothing fails). An event logged while this thread is formatting another
//! (a `Debug` impl that logs) gets a small zeroed buffer on the stack instead.

use crate::ring::copy::copy_small;
use std::cell::RefCell;
use std::fmt::{self, Write};

/// Bytes of text (message, formatted values, copied strings) one event may carry; the rest of a
/// longer text is cut off.
pub const TEXT_BYTES: usize = 4096;

/// The buffer of an event logged while the thread's buffer is in use.
const NESTED_TEXT_BYTES: usize = 256;

thread_local! {
    /// A const-initialised array in a `RefCell` needs no destructor, so it is usable at any
    /// time, thread exit included, and costs nothing until first touched.
    static TEXT: RefCell<[u8; TEXT_BYTES]> = const { RefCell::new([0; TEXT_BYTES]) };
}

/// Runs `f` with this thread's text buffer (or a small stack one when it is taken: see the
/// module docs).
#[inline]
pub(crate) fn with_text<R>(f: impl for<'b> FnOnce(&mut TextArena<'b>) -> R) -> R {
    TEXT.with(|cell| match cell.try_borrow_mut() {
        Ok(mut buffer) => f(&mut TextArena {
            rest: &mut buffer[..],
        }),
        Err(_) => {
            let mut buffer = [0u8; NESTED_TEXT_BYTES];
            f(&mut TextArena { rest: &mut buffer })
        }
    })
}

/// The unused part of a text buffer. Each string it hands out borrows the buffer for `'b`, the
/// whole event.
pub(crate) struct TextArena<'b> {
    rest: &'b mut [u8],
}

impl<'b> TextArena<'b> {
    /// A copy of `s` (cut to what is left of the buffer).
    #[inline]
    pub(crate) fn copy(&mut self, s: &str) -> &'b str {
        let mut writer = Cursor {
            buffer: &mut *self.rest,
            len: 0,
        };
        let _ = writer.write_str(s);
        let len = writer.len;
        // SAFETY: `writer` wrote `len` bytes of UTF-8 at the start of `self.rest`.
        unsafe { self.take(len) }
    }

    /// `value` formatted with `Display`.
    #[cfg_attr(not(feature = "log"), allow(dead_code))]
    #[inline]
    pub(crate) fn display(&mut self, value: &(impl fmt::Display + ?Sized)) -> &'b str {
        self.format(format_args!("{value}"))
    }

    /// `value` formatted with `Debug`.
    #[cfg_attr(not(feature = "tracing"), allow(dead_code))]
    #[inline]
    pub(crate) fn debug(&mut self, value: &(impl fmt::Debug + ?Sized)) -> &'b str {
        self.format(format_args!("{value:?}"))
    }

    /// `args` formatted. A literal without arguments is one copy.
    #[inline]
    pub(crate) fn format(&mut self, args: fmt::Arguments<'_>) -> &'b str {
        let mut writer = Cursor {
            buffer: &mut *self.rest,
            len: 0,
        };
        // An error means the buffer is full: keep what fitted.
        let _ = writer.write_fmt(args);
        let len = writer.len;
        // SAFETY: `writer` wrote `len` bytes of UTF-8 at the start of `self.rest`.
        unsafe { self.take(len) }
    }

    /// Hands out the first `len` bytes, which a `Cursor` has just filled with whole characters.
    ///
    /// # Safety
    /// `self.rest[..len]` is UTF-8: what a `Cursor` over `self.rest` wrote, `len` its `len`.
    unsafe fn take(&mut self, len: usize) -> &'b str {
        let (text, rest) = std::mem::take(&mut self.rest).split_at_mut(len);
        self.rest = rest;
        // SAFETY: the caller's promise. NB: `from_utf8` here was ~85 instructions per string,
        // the largest item of a `tracing` event after the encoder (callgrind, `examples/callcost
        // tracing`).
        unsafe { std::str::from_utf8_unchecked(text) }
    }
}

/// Writes into a byte buffer, cutting at a character boundary when it is full. Invariant:
/// `buffer[..len]` is UTF-8 (whole `&str`s, and prefixes of them that end at a character
/// boundary).
struct Cursor<'a> {
    buffer: &'a mut [u8],
    len: usize,
}

impl Write for Cursor<'_> {
    #[inline]
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let free = self.buffer.len() - self.len;
        let (fits, result) = if s.len() <= free {
            (s.len(), Ok(()))
        } else {
            let mut end = free;
            while !s.is_char_boundary(end) {
                end -= 1;
            }
            (end, Err(fmt::Error))
        };
        // Short texts (most keys and values) without a `memcpy` call.
        copy_small(
            &mut self.buffer[self.len..self.len + fits],
            &s.as_bytes()[..fits],
        );
        self.len += fits;
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_of_one_event_stay_apart_and_long_text_is_cut_at_a_character() {
        with_text(|text| {
            let a = text.copy("abc");
            let b = text.display(&42);
            let c = text.debug(&"q");
            assert_eq!((a, b, c), ("abc", "42", "\"q\""));
            let long = "é".repeat(TEXT_BYTES);
            let cut = text.copy(&long);
            assert!(cut.len() < TEXT_BYTES && cut.chars().all(|ch| ch == 'é'));
            assert_eq!(text.copy("more"), "", "the buffer is used up");
        });
    }

    #[test]
    fn a_nested_event_gets_its_own_buffer() {
        with_text(|outer| {
            let a = outer.copy("outer");
            with_text(|inner| assert_eq!(inner.copy("inner"), "inner"));
            assert_eq!(a, "outer");
        });
    }

    /// Exercises the buffer's unsafe hand-out for Miri: a value whose `Display` formats another
    /// event while the outer one is being written into the thread's buffer (the nested event
    /// takes the stack buffer, and fills it up), then strings of the outer event taken before
    /// and after, and the thread's buffer taken again by the next event.
    #[test]
    fn text_formatted_while_another_event_formats_stays_apart() {
        struct LogsWhileFormatting;
        impl fmt::Display for LogsWhileFormatting {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                let inner = with_text(|inner| {
                    let a = inner.copy("in");
                    let long = inner.copy(&"ü".repeat(NESTED_TEXT_BYTES));
                    assert_eq!(long.len(), NESTED_TEXT_BYTES - 2, "cut at a character");
                    assert_eq!(inner.display(&1), "", "the stack buffer is used up");
                    a.len()
                });
                write!(f, "{inner}é")
            }
        }
        for _ in 0..2 {
            with_text(|outer| {
                let before = outer.copy("before");
                let nested = outer.display(&LogsWhileFormatting);
                let after = outer.debug(&'x');
                assert_eq!((before, nested, after), ("before", "2é", "'x'"));
            });
        }
    }
}
