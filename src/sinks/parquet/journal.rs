//! The crash journal: an Arrow IPC stream in a file beside the open Parquet file.
//!
//! A Parquet file is unreadable until its footer is written, so a process killed mid-file would
//! lose the whole file. An Arrow IPC *stream* has no footer: every complete message stands on its
//! own. While a Parquet file is open, every record batch written to it is first appended here,
//! from the same Arrow buffers; when the Parquet footer is on disk and the file renamed, the
//! journal is emptied (a commit of zero bytes) and reused, renamed, for the sink's next file
//! ([`Journal::recycle`]: its blocks are already allocated); `close` deletes it. A later sink built on the same path turns a
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
//! Each append writes the batch's messages into the file (one positioned write), then stores a
//! commit record (`seq + 1`, new length) into slot `seq % 2` through a map of the first page. A reader takes the valid slot with the higher `seq` and reads
//! only that many stream bytes, so a batch cut short by a kill — bytes half copied, or a commit
//! record half written — is never read: the other slot still holds the previous commit. This
//! protects against the process dying (SIGKILL, panic, abort), whose stores are all in the page
//! cache; it does not order writes for power loss (no `msync`).
//!
//! The file grows with `posix_fallocate` (`crate::os::preallocate`), so a full disk fails the
//! append with `ENOSPC`.
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
use std::os::unix::fs::FileExt;
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
/// The mapped start of the file, which holds the commit slots.
const HEADER_MAP_LEN: usize = 4096;

/// Appends the IPC stream to the file, growing it as needed.
///
/// The stream writer's many small writes (a message header, then each buffer and its padding)
/// gather in `pending`, kept between appends so a steady state allocates nothing, and go to the
/// file in one positioned write when the journal commits ([`write_out`](Self::write_out)). The
/// commit records, 24 bytes each, are stores into `header`, the file's first page, mapped.
// NB: the stream used to be copied into a map of the whole file. Every fresh page of that map
// took a read fault in which ext4 zero-filled the preallocated extent (readahead into new
// folios) before the copy overwrote it: `perf record` of `loadgen --macro --messages 4000000
// --sink parquet:...` put 22% of all samples in that kernel memset, 45% of the sink thread's.
// A write of whole pages needs no zeroing.
struct StreamFile {
    /// Shared with the [`JournalLock`] that [`Journal::abandon`] hands back, so the lock outlives
    /// the journal.
    file: Arc<File>,
    /// The file's first [`HEADER_MAP_LEN`] bytes: magic and commit slots.
    header: MmapMut,
    /// The file's length (allocated on disk).
    file_len: usize,
    /// Where the next stream byte goes (absolute, so `>= HEADER_LEN`), `pending` included.
    pos: usize,
    /// Stream bytes not yet in the file; they end at `pos`.
    pending: Vec<u8>,
}

impl StreamFile {
    /// Writes the pending stream bytes into the file.
    fn write_out(&mut self) -> io::Result<()> {
        if self.pending.is_empty() {
            return Ok(());
        }
        if self.pos > self.file_len {
            self.grow(self.pos)?;
        }
        let start = self.pos - self.pending.len();
        self.file.write_all_at(&self.pending, start as u64)?;
        self.pending.clear();
        Ok(())
    }

    /// Preallocates the file to at least `needed` bytes, so a full disk fails here with
    /// `ENOSPC`, in steps that grow with the file.
    #[cold]
    fn grow(&mut self, needed: usize) -> io::Result<()> {
        let grow = self.file_len.clamp(INITIAL_LEN, MAX_GROWTH);
        let new_len = needed.max(self.file_len + grow);
        os::preallocate(&self.file, 0, new_len as u64)?;
        self.file_len = new_len;
        Ok(())
    }
}

impl Write for StreamFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.pending.extend_from_slice(buf);
        self.pos += buf.len();
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// An open journal. See the [module docs](self).
pub(crate) struct Journal {
    path: PathBuf,
    stream: StreamWriter<StreamFile>,
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
            // this journal, which never shrinks it; another process truncating it would be a
            // misuse we cannot guard against (it would turn accesses to the header into SIGBUS).
            let mut header = os::map_mut(&file, 0, HEADER_MAP_LEN)?;
            header[..8].copy_from_slice(MAGIC);
            Ok(StreamFile {
                file,
                header,
                file_len: INITIAL_LEN,
                pos: HEADER_LEN,
                pending: Vec::new(),
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
        if let Err(e) = journal.commit() {
            let _ = std::fs::remove_file(&journal.path);
            return Err(e);
        }
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
        self.commit()
    }

    /// Takes back the last append's commit (its Parquet write failed); the journal then holds
    /// exactly what the Parquet file held before that batch.
    pub(crate) fn rollback_last(&mut self) {
        let previous = self.previous;
        self.write_commit(previous);
    }

    /// Writes the stream bytes out, then commits them.
    fn commit(&mut self) -> Result<(), SinkError> {
        let writer = self.stream.get_mut();
        if let Err(e) = writer.write_out() {
            // Bytes not in the file must not be counted as stream bytes again.
            writer.pos -= writer.pending.len();
            writer.pending.clear();
            return Err(SinkError::io(
                format!("appending to journal {}", self.path.display()),
                e,
            ));
        }
        let end = writer.pos - HEADER_LEN;
        self.previous = self.committed;
        self.write_commit(end);
        Ok(())
    }

    fn write_commit(&mut self, committed: usize) {
        self.seq += 1;
        self.committed = committed;
        let slot = SLOT_OFFSETS[(self.seq % 2) as usize];
        let mut record = [0u8; 24];
        record[..8].copy_from_slice(&self.seq.to_le_bytes());
        record[8..16].copy_from_slice(&(committed as u64).to_le_bytes());
        record[16..].copy_from_slice(&(self.seq ^ committed as u64 ^ CHECK_SALT).to_le_bytes());
        let header = &mut self.stream.get_mut().header;
        header[slot..slot + 24].copy_from_slice(&record);
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
    /// next file: writes the schema over the old stream. The file's blocks are already
    /// allocated, so the next file's journal writes allocate no disk space.
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
        writer.pending.clear();
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
        if let Err(e) = journal.commit() {
            let _ = std::fs::remove_file(&journal.path);
            return Err(e);
        }
        Ok(journal)
    }

    /// Deletes the journal file, then unmaps its header and lets its lock go (in that order, so no other
    /// sink can claim it in between and find it emptied).
    pub(crate) fn delete(self) -> Result<(), SinkError> {
        let removed = std::fs::remove_file(&self.path)
            .map_err(|e| SinkError::io(format!("removing journal {}", self.path.display()), e));
        drop(self.stream);
        removed
    }

    /// Closes the journal, leaving the file for recovery, still locked.
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::batch::Batch;
    use crate::sinks::parquet::schema::{ColumnBuffers, TimestampUnit};
    use crate::value::{Field, Level};
    use arrow_array::cast::AsArray;

    /// A record batch of `n` records whose `seq` fields start at `first`.
    fn arrow_batch(columns: &mut ColumnBuffers, first: u64, n: u64) -> RecordBatch {
        let mut batch = Batch::new();
        for seq in first..first + n {
            let fields = [
                Field::new("seq", seq),
                Field::new("pad", "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"),
            ];
            batch
                .push(seq as i64, Level::Info, 1, "journal test", &fields)
                .unwrap();
        }
        columns.build(&batch).unwrap().0
    }

    fn rows(committed: &Committed) -> usize {
        committed.batches.iter().map(|b| b.num_rows()).sum()
    }

    fn read(path: &Path) -> Committed {
        let lock = claim(path).unwrap().expect("a leftover journal");
        read_committed(&lock).unwrap()
    }

    #[test]
    fn appends_commit_roll_back_reset_and_recycle_through_growth() {
        let dir = std::env::temp_dir().join(format!("asynclog-journal-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut columns = ColumnBuffers::new(TimestampUnit::MicrosWithExtraNanos);
        let schema = columns.schema().clone();
        let path = dir.join("a.journal");
        let mut journal = Journal::create(path.clone(), &schema).unwrap();
        // About 8 MiB of batches: past INITIAL_LEN, so the file grows while appending.
        let mut appended = 0;
        while (journal.committed_bytes() as usize) < 2 * INITIAL_LEN {
            journal
                .append(&arrow_batch(&mut columns, appended, 10_000))
                .unwrap();
            appended += 10_000;
        }
        journal
            .append(&arrow_batch(&mut columns, appended, 7))
            .unwrap();
        journal.rollback_last();
        // What a recovery reads: every committed batch, in order, not the rolled-back one.
        let abandoned = journal.abandon();
        let committed = read_committed(&abandoned).unwrap();
        assert!(committed.damaged.is_none());
        assert_eq!(rows(&committed), appended as usize);
        let last = committed.batches.last().unwrap();
        let fields = last
            .column_by_name("fields_json")
            .unwrap()
            .as_string::<i32>();
        let seq = fields.value(last.num_rows() - 1);
        assert!(seq.contains(&format!("\"seq\":{}", appended - 1)), "{seq}");
        drop(abandoned);

        // A journal emptied, renamed and recycled starts a new stream in the same file.
        let mut journal = Journal::create(dir.join("b.journal"), &schema).unwrap();
        journal
            .append(&arrow_batch(&mut columns, 0, 5_000))
            .unwrap();
        journal.reset();
        journal.rename(dir.join("c.journal")).unwrap();
        let mut journal = journal.recycle(&schema).unwrap();
        journal.append(&arrow_batch(&mut columns, 100, 3)).unwrap();
        let recycled = journal.abandon();
        let committed = read_committed(&recycled).unwrap();
        assert_eq!(rows(&committed), 3);
        drop(recycled);
        assert_eq!(rows(&read(&path)), appended as usize);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
