//! Static call sites: what the logging macros know at compile time stays out of the ring.
//!
//! A macro call with a literal message (`info!(logger, "order filled", order_id = id, ...)`)
//! declares a `static` [`Callsite`] holding the message and the field keys. Its records carry the
//! call site's small integer id instead of those strings, so the calling thread copies only the
//! timestamp, the level and the typed values (quill and `tracing` keep static metadata the same
//! way). The drain copies the values into a batch with the id beside them, and the batch's field readers pair them with the call site's keys, so sinks
//! never see the difference.
//!
//! Ids index one process-wide table of fixed size, [`MAX_CALLSITES`] pointer slots in
//! zero-initialised static memory (`.bss`: pages cost nothing until touched). A call site takes the next id the first time any thread logs
//! through it: an atomic increment and a store, no lock and no allocation, so the calling thread
//! keeps its promise even then. Ids are never reused, so an id stays valid for the life of the
//! process; past the table's size, call sites fall back to the general encoding.

use super::record::{key_len, MAX_FIELDS, MAX_KEY_LEN};
use crate::value::{Field, Value};
use std::ptr;
use std::sync::atomic::{AtomicPtr, AtomicU32, Ordering};

/// How many call sites get an id; the rest use the general encoding.
pub const MAX_CALLSITES: usize = 1 << 16;

/// `id` before registration.
const UNREGISTERED: u32 = 0;
/// `id` of a call site that cannot use the compact encoding (too many fields, too long a key,
/// or the table is full); its calls take the general path, which reports any error.
const UNUSABLE: u32 = u32::MAX;

/// The compile-time part of a macro call: message and field keys. Made by the logging macros;
/// not meant to be built by hand.
///
/// A call site made with [`Callsite::with_message_in_record`] (the `tracing` layer's, whose
/// messages are formatted at each event) has keys but no message: each of its records carries
/// the message as its first value, a string, followed by one value per key.
#[derive(Debug)]
pub struct Callsite {
    message: &'static str,
    keys: &'static [&'static str],
    /// Records carry their message as their first value (see above).
    message_in_record: bool,
    /// Values per record: one per key, plus the message when `message_in_record`. A field of
    /// its own so that the hot path's check (`id_for`) is one load, as `keys.len()` was.
    values_len: usize,
    /// Bytes the keys take in a batch field region (the sum of their `record::key_len`).
    keys_len: usize,
    id: AtomicU32,
}

/// The keys of positional arguments (`info!(logger, "filled {} lots of {}", qty, symbol)`): the
/// argument's index. At most [`MAX_POSITIONAL`] per call.
const POSITIONAL_KEYS: &[&str] = &[
    "0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12", "13", "14", "15",
];
/// The most positional arguments one call may pass.
pub const MAX_POSITIONAL: usize = 16;

/// The keys of a call with `n` positional arguments: `"0"`, `"1"`, ... (a compile-time error
/// past [`MAX_POSITIONAL`]).
pub const fn positional_keys(n: usize) -> &'static [&'static str] {
    assert!(
        n <= MAX_POSITIONAL,
        "at most 16 positional arguments per log call"
    );
    POSITIONAL_KEYS.split_at(n).0
}

/// The fields of a call passing `values` as positional arguments, keyed `"0"`, `"1"`, ... (a
/// compile-time error past [`MAX_POSITIONAL`]): `fatal!`'s, which has no call site.
pub fn positional_fields<'a, const N: usize>(values: [Value<'a>; N]) -> [Field<'a>; N] {
    let keys: &'static [&'static str] = const { positional_keys(N) };
    std::array::from_fn(|i| Field {
        key: keys[i],
        value: values[i],
    })
}

/// The key of positional argument `index`, if it can have one.
pub(crate) fn positional_key(index: usize) -> Option<&'static str> {
    POSITIONAL_KEYS.get(index).copied()
}

/// `TABLE[id]` is call site `id` (null until registered); slot 0 is never used, so that 0 can
/// mean "unregistered". Raw pointers rather than `OnceLock<&Callsite>`s: a `OnceLock` is not
/// all-zero when empty, so that table landed in `.data` and added 1 MiB to every binary
/// (measured with `size -A` on `examples/callcost`); null pointers go to `.bss`.
static TABLE: [AtomicPtr<Callsite>; MAX_CALLSITES] =
    [const { AtomicPtr::new(ptr::null_mut()) }; MAX_CALLSITES];
/// The next id to hand out.
static NEXT_ID: AtomicU32 = AtomicU32::new(1);

impl Callsite {
    /// A call site for `message` with fields named `keys`, in call order.
    pub const fn new(message: &'static str, keys: &'static [&'static str]) -> Callsite {
        let mut keys_len = 0;
        let mut i = 0;
        while i < keys.len() {
            keys_len += key_len(keys[i]);
            i += 1;
        }
        Callsite {
            message,
            keys,
            keys_len,
            message_in_record: false,
            values_len: keys.len(),
            id: AtomicU32::new(UNREGISTERED),
        }
    }

    /// A call site with fields named `keys` whose records carry their own message, as a string
    /// value before the values of the keys (see [`Callsite`]).
    pub const fn with_message_in_record(keys: &'static [&'static str]) -> Callsite {
        let mut callsite = Callsite::new("", keys);
        callsite.message_in_record = true;
        callsite.values_len = keys.len() + 1;
        callsite
    }

    /// Whether records carry their message as their first value.
    #[inline]
    pub fn message_in_record(&self) -> bool {
        self.message_in_record
    }

    /// How many values a record of this call site carries: one per key, plus the message when
    /// [`message_in_record`](Self::message_in_record).
    #[inline(always)]
    pub fn values_len(&self) -> usize {
        self.values_len
    }

    /// The message.
    pub fn message(&self) -> &'static str {
        self.message
    }

    /// The field keys, in call order.
    pub fn keys(&self) -> &'static [&'static str] {
        self.keys
    }

    /// The fields of a call at this site with `values`, for hooks and for call sites the
    /// compact encoding cannot take.
    #[inline]
    pub(crate) fn fields<'a, const N: usize>(&self, values: &[Value<'a>; N]) -> [Field<'a>; N] {
        std::array::from_fn(|i| Field {
            key: self.keys.get(i).copied().unwrap_or_default(),
            value: values[i],
        })
    }

    /// This call site's id, registering it on first use; `None` when its records must take the
    /// general encoding.
    #[inline(always)]
    pub fn id(&'static self) -> Option<u32> {
        // Acquire pairs with the AcqRel in `register`: whoever sees the id also sees the table
        // entry, and passes that on to the drain through the ring's own Release/Acquire.
        match self.id.load(Ordering::Acquire) {
            UNREGISTERED => self.register(),
            UNUSABLE => None,
            id => Some(id),
        }
    }

    /// [`id`](Self::id) for a call passing `values` values: `None` as well when that is not
    /// one per key (only a hand-made call can do that), so such a call takes the general record,
    /// which carries its own keys, rather than making one the drain rejects.
    #[inline(always)]
    pub fn id_for(&'static self, values: usize) -> Option<u32> {
        // The count first, then the id: as `id().filter(..)` the compiler kept the `Option`'s
        // tag in a register and tested it again (3 more instructions per call, examples/callcost).
        if self.values_len != values {
            return None;
        }
        self.id()
    }

    #[cold]
    #[inline(never)]
    fn register(&'static self) -> Option<u32> {
        let id = if self.usable() {
            let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
            match TABLE.get(id as usize) {
                Some(slot) => {
                    // The slot is ours alone: ids are handed out once. Only `&'static Callsite`s
                    // are ever stored (see `lookup`).
                    slot.store(ptr::from_ref(self).cast_mut(), Ordering::Release);
                    id
                }
                None => UNUSABLE,
            }
        } else {
            UNUSABLE
        };
        // Two threads may register the same call site at once; the first id stored wins, and
        // the loser's slot stays unused (it points at this same call site, so it is harmless).
        let id =
            match self
                .id
                .compare_exchange(UNREGISTERED, id, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => id,
                Err(winner) => winner,
            };
        (id != UNUSABLE).then_some(id)
    }

    fn usable(&self) -> bool {
        self.values_len() <= MAX_FIELDS && self.keys.iter().all(|k| k.len() <= MAX_KEY_LEN)
    }

    /// Bytes the keys take in a batch field region (the sum of their `record::key_len`).
    #[inline]
    pub fn keys_len(&self) -> usize {
        self.keys_len
    }
}

/// The registered call site with `id`, if any.
#[inline]
pub fn lookup(id: u32) -> Option<&'static Callsite> {
    let callsite = TABLE.get(id as usize)?.load(Ordering::Acquire);
    // SAFETY: a slot holds null or a pointer made from a `&'static Callsite` in `register`,
    // which is valid, immutable through this reference (its one mutable part is atomic), and
    // lives for the rest of the process.
    unsafe { callsite.as_ref() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_stable_distinct_and_found_in_the_table() {
        static A: Callsite = Callsite::new("a", &["x"]);
        static B: Callsite = Callsite::new("b", &[]);
        let a = A.id().expect("usable");
        let b = B.id().expect("usable");
        assert_ne!(a, b);
        assert_eq!(A.id(), Some(a), "the id does not change");
        assert_eq!(lookup(a).map(|c| c.message()), Some("a"));
        assert_eq!(lookup(a).map(|c| c.keys()), Some(&["x"][..]));
        assert_eq!(lookup(b).map(|c| c.keys().len()), Some(0));
        assert!(lookup(0).is_none(), "0 means unregistered");
        assert!(lookup(UNUSABLE).is_none());
    }

    #[test]
    fn a_key_too_long_for_the_encoding_makes_the_call_site_unusable() {
        static LONG: std::sync::OnceLock<String> = std::sync::OnceLock::new();
        let key: &'static str = LONG.get_or_init(|| "k".repeat(MAX_KEY_LEN + 1));
        let keys: &'static [&'static str] = Box::leak(Box::new([key]));
        let site: &'static Callsite = Box::leak(Box::new(Callsite::new("m", keys)));
        assert_eq!(site.id(), None);
        assert_eq!(site.id(), None, "stays unusable");
    }
}
