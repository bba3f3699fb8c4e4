//! The one self-referential type in the crate: columns that live in an arena owned by the same
//! struct. Kept apart so the unsafe reasoning sits in one screenful.

use crate::value::Level;
use bumpalo::collections::Vec as BumpVec;
use bumpalo::Bump;
use std::ptr::NonNull;

/// The columns of a batch, allocated in an arena that outlives them.
pub(crate) struct Columns<'a> {
    pub timestamps: BumpVec<'a, i64>,
    pub levels: BumpVec<'a, Level>,
    pub thread_ids: BumpVec<'a, u64>,
    pub message_offsets: BumpVec<'a, i32>,
    pub message_bytes: BumpVec<'a, u8>,
    pub field_offsets: BumpVec<'a, i32>,
    pub field_bytes: BumpVec<'a, u8>,
    /// The call-site id of each record whose field region holds values only, 0 for a record
    /// whose region holds its keys too.
    pub callsites: BumpVec<'a, u32>,
    /// In order, the index of each record with call-site id 0 whose message is finished text,
    /// not a template (the few records from `tracing` and `log` that have no call site; the
    /// call site says it for the others). Kept sparse so the common records cost nothing here.
    pub text_messages: BumpVec<'a, u32>,
    /// The bytes the keys of the values-only regions would take in a keyed region (the sum of
    /// their call sites' `keys_len`), for the serializers' size bounds.
    pub callsite_key_bytes: usize,
}

impl<'a> Columns<'a> {
    fn with_capacity_in(
        records: usize,
        message_bytes: usize,
        field_bytes: usize,
        text_messages: usize,
        arena: &'a Bump,
    ) -> Self {
        let mut message_offsets = BumpVec::with_capacity_in(records + 1, arena);
        message_offsets.push(0);
        let mut field_offsets = BumpVec::with_capacity_in(records + 1, arena);
        field_offsets.push(0);
        Columns {
            timestamps: BumpVec::with_capacity_in(records, arena),
            levels: BumpVec::with_capacity_in(records, arena),
            thread_ids: BumpVec::with_capacity_in(records, arena),
            message_offsets,
            message_bytes: BumpVec::with_capacity_in(message_bytes, arena),
            field_offsets,
            field_bytes: BumpVec::with_capacity_in(field_bytes, arena),
            callsites: BumpVec::with_capacity_in(records, arena),
            text_messages: BumpVec::with_capacity_in(text_messages, arena),
            callsite_key_bytes: 0,
        }
    }

    /// Pushes everything but the field region and its offset.
    #[inline]
    pub fn push_header(
        &mut self,
        timestamp_ns: i64,
        level: Level,
        thread_id: u64,
        message: &[u8],
        callsite: u32,
    ) {
        self.timestamps.push(timestamp_ns);
        self.callsites.push(callsite);
        self.levels.push(level);
        self.thread_ids.push(thread_id);
        self.message_bytes.extend_from_slice_copy(message);
        self.message_offsets.push(self.message_bytes.len() as i32);
    }
}

/// Columns plus the arena they live in.
pub(crate) struct ArenaColumns {
    /// Borrows `*arena`. The `'static` is a lie told only inside this module: the columns are
    /// never handed out with it (accessors reborrow for `&self`), and they are dropped before the
    /// arena is reset or freed. `None` only transiently inside `reset`.
    columns: Option<Columns<'static>>,
    /// Owned; from `Box::into_raw`, freed in `Drop`. A raw pointer rather than a `Box` because a
    /// `Box` asserts unique access whenever it moves, while the columns hold shared references.
    arena: NonNull<Bump>,
}

// SAFETY: `Bump` is `Send`, and the columns only point into the arena this struct owns, so moving
// the whole struct to another thread moves the arena with every reference to it.
unsafe impl Send for ArenaColumns {}
// SAFETY: through `&ArenaColumns` callers only read column slices, which is plain memory access;
// the arena itself (the `!Sync` part of `Bump`) is touched only through `&mut self`.
unsafe impl Sync for ArenaColumns {}

impl ArenaColumns {
    pub fn with_capacity(records: usize, bytes: usize) -> Self {
        let arena = NonNull::from(Box::leak(Box::new(Bump::new())));
        // SAFETY: `arena` was just leaked from a Box, so it is valid until `Drop` frees it, and
        // the columns built on it are dropped before that.
        let bump: &'static Bump = unsafe { arena.as_ref() };
        ArenaColumns {
            columns: Some(Columns::with_capacity_in(
                records,
                bytes / 2,
                bytes / 2,
                0,
                bump,
            )),
            arena,
        }
    }

    #[inline]
    pub(crate) fn get(&self) -> &Columns<'_> {
        self.columns.as_ref().expect("columns exist outside reset")
    }

    #[inline]
    pub(crate) fn get_mut(&mut self) -> &mut Columns<'static> {
        self.columns.as_mut().expect("columns exist outside reset")
    }

    /// Drops the columns, resets the arena (which keeps its largest chunk), and rebuilds the
    /// columns with the capacities they had, so the next fill allocates nothing.
    pub fn reset(&mut self) {
        let old = self.columns.take().expect("columns exist outside reset");
        let records = old.timestamps.capacity();
        let message_bytes = old.message_bytes.capacity();
        let field_bytes = old.field_bytes.capacity();
        let text_messages = old.text_messages.capacity();
        drop(old);
        // SAFETY: the only borrows of the arena were the columns, dropped just above; `&mut self`
        // rules out any other access while we reset.
        let arena = unsafe { self.arena.as_mut() };
        arena.reset();
        // SAFETY: as in `with_capacity`; the arena lives until `Drop`.
        let bump: &'static Bump = unsafe { self.arena.as_ref() };
        self.columns = Some(Columns::with_capacity_in(
            records,
            message_bytes,
            field_bytes,
            text_messages,
            bump,
        ));
    }

    pub fn arena_bytes(&self) -> usize {
        // SAFETY: a shared read of the arena's byte count; `&self` excludes `reset`.
        unsafe { self.arena.as_ref() }.allocated_bytes()
    }
}

impl Drop for ArenaColumns {
    fn drop(&mut self) {
        // The columns borrow the arena: drop them first.
        self.columns = None;
        // SAFETY: `arena` came from `Box::leak` in `with_capacity` and is freed only here.
        drop(unsafe { Box::from_raw(self.arena.as_ptr()) });
    }
}
