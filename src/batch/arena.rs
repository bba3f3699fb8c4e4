//! The one self-referential type in the crate: columns that live in an arena owned by the same
//! struct. Kept apart so the unsafe reasoning sits in one screenful.

use crate::ring::record;
use crate::value::{Field, Level};
use bumpalo::collections::Vec as BumpVec;
use bumpalo::Bump;
use std::ptr::NonNull;

/// The columns of a batch, allocated in an arena that outlives them. Private to this module, with
/// its fields: outside it they are read through [`ColumnsRef`] and written through
/// [`ColumnsMut`], so every column is one this module made in its own arena.
struct Columns<'a> {
    timestamps: BumpVec<'a, i64>,
    levels: BumpVec<'a, Level>,
    thread_ids: BumpVec<'a, u64>,
    message_offsets: BumpVec<'a, i32>,
    message_bytes: BumpVec<'a, u8>,
    field_offsets: BumpVec<'a, i32>,
    field_bytes: BumpVec<'a, u8>,
    /// The call-site id of each record whose field region holds values only, 0 for a record
    /// whose region holds its keys too.
    callsites: BumpVec<'a, u32>,
    /// In order, the index of each record with call-site id 0 whose message is finished text,
    /// not a template (every record from `log`, and the few from `tracing` that have no call
    /// site; the call site says it for the others). Kept sparse so the asynclog macros' and
    /// `Logger::log`'s records cost nothing here.
    text_messages: BumpVec<'a, u32>,
    /// The bytes the keys of the values-only regions would take in a keyed region (the sum of
    /// their call sites' `keys_len`), for the serializers' size bounds.
    callsite_key_bytes: usize,
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
}

/// The columns seen through `&ArenaColumns`: slices only. A `&BumpVec` would reach the arena
/// (`bump()`, or `clone()`, which allocates through `&self`), and `Bump` is not `Sync`, while a
/// `Batch` is read from several sink threads at once.
pub(crate) struct ColumnsRef<'a> {
    pub timestamps: &'a [i64],
    pub levels: &'a [Level],
    pub thread_ids: &'a [u64],
    pub message_offsets: &'a [i32],
    pub message_bytes: &'a [u8],
    pub field_offsets: &'a [i32],
    pub field_bytes: &'a [u8],
    pub callsites: &'a [u32],
    pub text_messages: &'a [u32],
    pub callsite_key_bytes: usize,
}

/// Appends to the columns. Only appends: a `&mut Columns` would let a caller take a column (and
/// with it a borrow of the arena) out, put one from another arena in, or swap two batches'
/// columns, any of which outlives the arena its vectors point into.
pub(crate) struct ColumnsMut<'a>(&'a mut Columns<'static>);

impl ColumnsMut<'_> {
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
        let c = &mut *self.0;
        c.timestamps.push(timestamp_ns);
        c.callsites.push(callsite);
        c.levels.push(level);
        c.thread_ids.push(thread_id);
        c.message_bytes.extend_from_slice_copy(message);
        c.message_offsets.push(c.message_bytes.len() as i32);
    }

    /// Marks the next record (the one whose header is pushed next) as having a text message.
    #[inline]
    pub fn mark_next_message_text(&mut self) {
        let c = &mut *self.0;
        // Batches hold far fewer than 2^32 records: their byte columns stop at `i32::MAX`.
        c.text_messages.push(c.timestamps.len() as u32);
    }

    /// Encodes `fields` as the field region of the record whose header was pushed last;
    /// returns the region's length.
    #[inline]
    pub fn push_fields(&mut self, fields: &[Field<'_>]) -> usize {
        let c = &mut *self.0;
        let start = c.field_bytes.len();
        for field in fields {
            record::encode_field(field, &mut c.field_bytes);
        }
        c.field_offsets.push(c.field_bytes.len() as i32);
        c.field_bytes.len() - start
    }

    /// Copies `region` as the field region of the record whose header was pushed last.
    #[inline]
    pub fn push_field_region(&mut self, region: &[u8]) {
        let c = &mut *self.0;
        c.field_bytes.extend_from_slice_copy(region);
        c.field_offsets.push(c.field_bytes.len() as i32);
    }

    /// Adds to [`ColumnsRef::callsite_key_bytes`].
    #[inline]
    pub fn add_callsite_key_bytes(&mut self, bytes: usize) {
        self.0.callsite_key_bytes += bytes;
    }
}

/// Columns plus the arena they live in.
pub(crate) struct ArenaColumns {
    /// Borrows `*arena`. The `'static` is a lie told only inside this module: the columns are
    /// never handed out (`get` hands out slices for `&self`, `get_mut` an append-only view),
    /// every vector in them was made here on this arena, and they are dropped before the arena
    /// is reset or freed. `None` only transiently inside `reset`.
    columns: Option<Columns<'static>>,
    /// Owned; from `Box::into_raw`, freed in `Drop`. A raw pointer rather than a `Box` because a
    /// `Box` asserts unique access whenever it moves, while the columns hold shared references.
    arena: NonNull<Bump>,
}

// SAFETY: `Bump` is `Send`, and the columns only point into the arena this struct owns (only this
// module makes or replaces them, always on that arena), so moving the whole struct to another
// thread moves the arena with every reference to it.
unsafe impl Send for ArenaColumns {}
// SAFETY: through `&ArenaColumns` callers only get column slices (`ColumnsRef`, not the `BumpVec`s,
// which could reach the arena), which is plain memory access; the arena itself (the `!Sync` part
// of `Bump`) is touched only through `&mut self`.
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
    pub(crate) fn get(&self) -> ColumnsRef<'_> {
        let c = self.columns.as_ref().expect("columns exist outside reset");
        ColumnsRef {
            timestamps: &c.timestamps,
            levels: &c.levels,
            thread_ids: &c.thread_ids,
            message_offsets: &c.message_offsets,
            message_bytes: &c.message_bytes,
            field_offsets: &c.field_offsets,
            field_bytes: &c.field_bytes,
            callsites: &c.callsites,
            text_messages: &c.text_messages,
            callsite_key_bytes: c.callsite_key_bytes,
        }
    }

    #[inline]
    pub(crate) fn get_mut(&mut self) -> ColumnsMut<'_> {
        ColumnsMut(self.columns.as_mut().expect("columns exist outside reset"))
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
