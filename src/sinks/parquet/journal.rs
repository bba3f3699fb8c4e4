//! The crash journal: an Arrow IPC stream in a memory-mapped file beside the open Parquet file.
//!
//! A Parquet file is unreadable until its footer is written, so a process killed mid-file would
//! lose the whole file. An Arrow IPC *stream* has no footer: every complete message stands on its
//! own. While a Parquet file is open, every record batch written to it is first appended here,
//! from the same Arrow buffers; when the Parquet footer is on disk and the file renamed, the
//! journal is emptied (a commit of zero bytes) and reused, renamed, for the sink's next file
//! ([`Journal::recycle`]: its pages are already allocated, so the next file's journal writes take
//! no allocating page faults); `close` deletes it. A later sink built on the same path turns a
//! leftover journal back into a Parquet file ([`read_committed`]); an emptied one is just
//! removed.
//!
//! File layout:
//!
//! ```text
//! 0..8     magic "ALGJRNL1"
//! 8..32    commit slot 0: seq u64, committed u64, check u64 (= seq ^ committed ^ CHECK_SALT)
//! 32..56   commit slot 1: same
//! 56..64   zero
//! 64..     Arrow IPC stream: the schema message, then per batch its dictionary and record batch
//! ```
//!
//! Each append copies the batch's messages into the map, then writes a commit record (`seq + 1`,
//! new length) into slot `seq % 2`. A reader takes the valid slot with the higher `seq` and reads
//! only that many stream bytes, so a batch cut short by a kill — bytes half copied, or a commit
//! record half written — is never read: the other slot still holds the previous commit. This
//! protects against the process dying (SIGKILL, panic, abort), whose stores are all in the page
//! cache; it does not order writes for power loss (no `msync`).
//!
//! The file grows with `posix_fallocate` (`crate::os::preallocate`), so a full disk fails the
//! append with `ENOSPC` instead of raising SIGBUS when a page of a sparse file is first touched.
//!
//! A journal is held under an exclusive `flock` for as long as its sink has it open, renamed for
//! the next file included; the kernel releases the lock when the process dies, however it dies.
//! Recovery first [`claim`]s a journal, taking the same lock without waiting: a journal whose
//! lock is held belongs to a live sink (another `ParquetSink` on the same `path`, in this
//! process or another) and is left alone. A sink deletes its journal before it lets the lock go,
//! and a claim checks that the path still names the file it locked, so a journal renamed or
//! deleted by its live owner meanwhile is not mistaken for a leftover either.

use super::files::claimed;
use crate::error::SinkError;
use crate::os::{self, is_at, lock_exclusive};
use arrow_array::RecordBatch;
use arrow_ipc::reader::StreamReader;
use arrow_ipc::writer::StreamWriter;
use arrow_schema::{ArrowError, SchemaRef};
use memmap2::MmapMut;
use std::fs::{File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

const MAGIC: &[u8; 8] = b"ALGJRNL1";
const CHECK_SALT: u64 = 0x6a6f_7572_6e61_6c21;
const SLOT_OFFSETS: [usize; 2] = [8, 32];
/// Where the IPC stream starts.
pub(crate) const HEADER_LEN: usize = 64;
/// Size of a new journal file.
const INITIAL_LEN: usize = 4 << 20;
/// Largest single growth step.
const MAX_GROWTH: usize = 256 << 20;
/// Address space mapped for a new journal (not memory: only pages written are backed). A journal
/// that grows past it is remapped.
const RESERVE: usize = 1 << 30;

/// Writes the IPC stream into the map, growing the file as needed.
///
/// The map covers [`RESERVE`] bytes of address space from the start, more than the file holds:
/// growing the file then needs no new map (remapping faulted every page in again), and only
/// bytes below `file_len` are ever touched.
struct MapWriter {
    /// Shared with the [`JournalLock`] that [`Journal::abandon`] hands back, so the lock outlives
    /// the map.
    file: Arc<File>,
    map: MmapMut,
    /// The file's length (allocated on disk); at most `map.len()`.
    file_len: usize,
    /// Next write offset (absolute, so `>= HEADER_LEN`).
    pos: usize,
}

impl MapWriter {
    #[inline]
    fn ensure(&mut self, needed: usize) -> io::Result<()> {
        if needed <= self.file_len {
            return Ok(());
        }
        self.grow(needed)
    }

    #[cold]
    fn grow(&mut self, needed: usize) -> io::Result<()> {
        let grow = self.file_len.clamp(INITIAL_LEN, MAX_GROWTH);
        let new_len = needed.max(self.file_len + grow);
        os::preallocate(&self.file, 0, new_len as u64)?;
        self.file_len = new_len;
        if new_len > self.map.len() {
            // As in `Journal::create`; the file now holds `new_len` bytes, and only the first
            // `file_len` bytes of the map are accessed.
            self.map = map(&self.file, new_len.max(2 * self.map.len()))?;
        }
        Ok(())
    }
}

impl Write for MapWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let end = self.pos + buf.len();
        self.ensure(end)?;
        debug_assert!(end <= self.file_len && self.file_len <= self.map.len());
        self.map[self.pos..end].copy_from_slice(buf);
        self.pos = end;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Maps `len` bytes of the file, which may be longer than the file: pages past its end must not
/// be touched until the file has grown over them (see `os::map_mut`: the journal is locked, only
/// this journal resizes it, and it never shrinks while mapped).
// NB: an earlier version mapped exactly the file with `MAP_POPULATE` and remapped on every
// growth; remapping and populating were 8% of `perf` samples of the default sink in
// benches/parquet_sink.rs, on top of the write faults populating does not save on a shared map.
fn map(file: &File, len: usize) -> io::Result<MmapMut> {
    os::map_mut(file, 0, len)
}

/// An open journal. See the [module docs](self).
pub(crate) struct Journal {
    path: PathBuf,
    stream: StreamWriter<MapWriter>,
    seq: u64,
    committed: usize,
    previous: usize,
}

fn io_error(path: &Path, what: &str, error: ArrowError) -> SinkError {
    match error {
        ArrowError::IoError(_, source) => {
            SinkError::io(format!("{what} journal {}", path.display()), source)
        }
        other => SinkError::Encode(format!("{what} journal {}: {other}", path.display())),
    }
}

impl Journal {
    /// Creates the journal at `path` (which must not exist) and writes the schema message.
    ///
    /// # Errors
    /// An [`SinkError::Io`] of kind `AlreadyExists` when the name is taken (another sink on the
    /// same `path` made the file first, or claimed it for recovery in the moment between its
    /// creation and its lock, and then removes it as empty): the caller tries another name.
    pub(crate) fn create(path: PathBuf, schema: &SchemaRef) -> Result<Journal, SinkError> {
        let context = || format!("creating journal {}", path.display());
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&path)
            .map_err(|e| SinkError::io(context(), e))?;
        match lock_exclusive(&file).and_then(|()| is_at(&file, &path)) {
            Ok(true) => {}
            // Claimed by a recovering sink, which removes it: not ours to remove.
            Ok(false) => return Err(SinkError::io(context(), claimed())),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                return Err(SinkError::io(context(), claimed()))
            }
            Err(e) => {
                let _ = std::fs::remove_file(&path);
                return Err(SinkError::io(
                    format!("locking journal {}", path.display()),
                    e,
                ));
            }
        }
        let file = Arc::new(file);
        let result = (|| {
            os::preallocate(&file, 0, INITIAL_LEN as u64)?;
            // The file was just created by us (`create_new`), is locked, and is only resized by
            // this journal; another process truncating it would be a misuse we cannot guard
            // against (it would turn accesses past the new end into SIGBUS).
            let mut map = map(&file, RESERVE)?;
            map[..8].copy_from_slice(MAGIC);
            Ok(MapWriter {
                file,
                map,
                file_len: INITIAL_LEN,
                pos: HEADER_LEN,
            })
        })();
        let writer = match result {
            Ok(writer) => writer,
            Err(e) => {
                let _ = std::fs::remove_file(&path);
                return Err(SinkError::io(context(), e));
            }
        };
        let stream = match StreamWriter::try_new(writer, schema) {
            Ok(stream) => stream,
            Err(e) => {
                let _ = std::fs::remove_file(&path);
                return Err(io_error(&path, "creating", e));
            }
        };
        let mut journal = Journal {
            path,
            stream,
            seq: 0,
            committed: 0,
            previous: 0,
        };
        journal.commit();
        Ok(journal)
    }

    /// Stream bytes committed so far.
    pub(crate) fn committed_bytes(&self) -> u64 {
        self.committed as u64
    }

    /// Appends `batch` and commits it. On error nothing new is committed, but the stream may hold
    /// a partial message past the commit, so the journal must not be appended to again.
    pub(crate) fn append(&mut self, batch: &RecordBatch) -> Result<(), SinkError> {
        self.stream
            .write(batch)
            .map_err(|e| io_error(&self.path, "appending to", e))?;
        self.commit();
        Ok(())
    }

    /// Takes back the last append's commit (its Parquet write failed); the journal then holds
    /// exactly what the Parquet file held before that batch.
    pub(crate) fn rollback_last(&mut self) {
        let previous = self.previous;
        self.write_commit(previous);
    }

    fn commit(&mut self) {
        let end = self.stream.get_ref().pos - HEADER_LEN;
        self.previous = self.committed;
        self.write_commit(end);
    }

    fn write_commit(&mut self, committed: usize) {
        self.seq += 1;
        self.committed = committed;
        let slot = SLOT_OFFSETS[(self.seq % 2) as usize];
        let mut record = [0u8; 24];
        record[..8].copy_from_slice(&self.seq.to_le_bytes());
        record[8..16].copy_from_slice(&(committed as u64).to_le_bytes());
        record[16..].copy_from_slice(&(self.seq ^ committed as u64 ^ CHECK_SALT).to_le_bytes());
        let map = &mut self.stream.get_mut().map;
        map[slot..slot + 24].copy_from_slice(&record);
    }

    /// Empties the journal (its file was finished): commits zero bytes, so a recovery finds
    /// nothing in it, and keeps file and map for [`recycle`](Self::recycle).
    pub(crate) fn reset(&mut self) {
        self.write_commit(0);
        self.previous = 0;
    }

    /// Renames an emptied ([`reset`](Self::reset)) journal to `path`, the name of the next file's
    /// journal, keeping its lock. Fails with `AlreadyExists` if `path` exists (another sink on
    /// the same `path` took the name); on any error the journal is as it was.
    pub(crate) fn rename(&mut self, path: PathBuf) -> io::Result<()> {
        debug_assert_eq!(self.committed, 0, "renaming a journal that was not reset");
        os::rename_no_replace(&self.path, &path)?;
        self.path = path;
        Ok(())
    }

    /// Reuses an emptied ([`reset`](Self::reset)) and [renamed](Self::rename) journal for the
    /// next file: writes the schema over the old stream. The file's pages are already allocated
    /// and mapped, so the next file's journal writes take no page faults that allocate (the
    /// first file's journal takes one per 4 KiB page).
    pub(crate) fn recycle(self, schema: &SchemaRef) -> Result<Journal, SinkError> {
        debug_assert_eq!(self.committed, 0, "recycling a journal that was not reset");
        let Journal {
            path, stream, seq, ..
        } = self;
        // Ends the old stream (an end-of-stream marker past the commit, never read).
        let mut writer = match stream.into_inner() {
            Ok(writer) => writer,
            Err(e) => {
                let _ = std::fs::remove_file(&path);
                return Err(io_error(&path, "recycling", e));
            }
        };
        writer.pos = HEADER_LEN;
        let stream = match StreamWriter::try_new(writer, schema) {
            Ok(stream) => stream,
            Err(e) => {
                let _ = std::fs::remove_file(&path);
                return Err(io_error(&path, "recycling", e));
            }
        };
        let mut journal = Journal {
            path,
            stream,
            seq,
            committed: 0,
            previous: 0,
        };
        journal.commit();
        Ok(journal)
    }

    /// Deletes the journal file, then unmaps it and lets its lock go (in that order, so no other
    /// sink can claim it in between and find it emptied).
    pub(crate) fn delete(self) -> Result<(), SinkError> {
        let removed = std::fs::remove_file(&self.path)
            .map_err(|e| SinkError::io(format!("removing journal {}", self.path.display()), e));
        drop(self.stream);
        removed
    }

    /// Unmaps the journal, leaving the file for recovery, still locked.
    pub(crate) fn abandon(self) -> JournalLock {
        let file = self.stream.get_ref().file.clone();
        drop(self.stream);
        JournalLock {
            path: self.path,
            file,
        }
    }
}

/// A journal file under its lock: no other sink recovers it while this lives.
pub(crate) struct JournalLock {
    path: PathBuf,
    file: Arc<File>,
}

impl JournalLock {
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }
}

/// Takes the journal at `path` for recovery: opens it and takes its lock without waiting.
/// `Ok(None)` when it is not a leftover: its sink is alive (holds the lock), or renamed or
/// deleted it since `path` was listed.
pub(crate) fn claim(path: &Path) -> Result<Option<JournalLock>, String> {
    // Opened for writing too: where `flock` is emulated with POSIX locks (NFS), an exclusive lock
    // needs a descriptor open for writing.
    let file = match OpenOptions::new().read(true).write(true).open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("opening journal: {e}")),
    };
    match lock_exclusive(&file).and_then(|()| is_at(&file, path)) {
        Ok(true) => Ok(Some(JournalLock {
            path: path.to_path_buf(),
            file: Arc::new(file),
        })),
        Ok(false) => Ok(None),
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(None),
        Err(e) => Err(format!("locking journal: {e}")),
    }
}

/// What [`read_committed`] found.
pub(crate) struct Committed {
    /// `None` for a journal killed before its header was written (nothing was committed).
    pub schema: Option<SchemaRef>,
    pub batches: Vec<RecordBatch>,
    /// Why reading stopped before the committed end, if it did (only a damaged file does that:
    /// commits cover complete messages).
    pub damaged: Option<String>,
}

/// Reads every committed batch of a journal claimed for recovery.
pub(crate) fn read_committed(journal: &JournalLock) -> Result<Committed, String> {
    let mut file: &File = &journal.file;
    let mut header = [0u8; HEADER_LEN];
    let mut read = 0;
    while read < HEADER_LEN {
        match file.read(&mut header[read..]) {
            Ok(0) => break,
            Ok(n) => read += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(format!("reading journal header: {e}")),
        }
    }
    // Killed between creating the file and writing its magic: nothing was committed.
    if header[..8].iter().all(|&b| b == 0) {
        return Ok(Committed {
            schema: None,
            batches: Vec::new(),
            damaged: None,
        });
    }
    if &header[..8] != MAGIC {
        return Err("not an asynclog journal (bad magic)".into());
    }
    let committed = SLOT_OFFSETS
        .iter()
        .filter_map(|&offset| {
            let word = |i: usize| {
                u64::from_le_bytes(
                    header[offset + 8 * i..offset + 8 * i + 8]
                        .try_into()
                        .unwrap(),
                )
            };
            let (seq, len, check) = (word(0), word(1), word(2));
            (seq != 0 && seq ^ len ^ CHECK_SALT == check).then_some((seq, len))
        })
        .max()
        .map(|(_, len)| len as usize);
    // Killed after the magic, before the first commit (the schema's): nothing was committed.
    // A reset journal (its file was finished) commits nothing.
    let Some(committed) = committed.filter(|&len| len > 0) else {
        return Ok(Committed {
            schema: None,
            batches: Vec::new(),
            damaged: None,
        });
    };
    let mut stream = Vec::with_capacity(committed);
    file.take(committed as u64)
        .read_to_end(&mut stream)
        .map_err(|e| format!("reading journal: {e}"))?;
    if stream.len() < committed {
        return Err(format!(
            "journal is shorter ({} bytes) than its commit record says ({committed})",
            stream.len()
        ));
    }
    let reader = StreamReader::try_new(io::Cursor::new(&stream[..]), None)
        .map_err(|e| format!("reading journal schema: {e}"))?;
    let schema = reader.schema();
    let mut batches = Vec::new();
    let mut damaged = None;
    for batch in reader {
        match batch {
            Ok(batch) => batches.push(batch),
            Err(e) => {
                damaged = Some(e.to_string());
                break;
            }
        }
    }
    Ok(Committed {
        schema: Some(schema),
        batches,
        damaged,
    })
}
