//! The active file of a file sink: opened (recovering a crashed tail), grown in preallocated
//! chunks, written through a memory-mapped window, truncated to its real length when finished.
//! Its system calls (lock, preallocation, map) are in `crate::os`.
//!
//! File layout while the sink writes:
//!
//! ```text
//! 0                        len                       allocated (= file size)
//! | complete JSON lines ... | zero bytes, preallocated |
//!                          ^ window: mapped [len, allocated) when the window was made
//! ```
//!
//! Bytes are in the page cache, visible to every reader of the file, as soon as they are copied
//! into the map; a SIGKILL cannot lose them (only a power loss can, see `SyncPolicy`). The zero
//! tail is what a crash leaves behind; readers stop at it, and [`MappedFile::open`] trims it.

use crate::error::SinkError;
use crate::os;
use memmap2::MmapMut;
use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

/// Block size for scanning a file backwards for its last complete line.
const SCAN_BLOCK: usize = 64 * 1024;

/// What a file sink found at the end of an existing file when it opened it, and trimmed: the
/// tail a crashed writer left (see [`FileSink::recovery`](super::FileSink::recovery)). Not to be
/// confused with the Parquet sink's `JournalRecovery`, which rebuilds a whole file from its
/// journal.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TailRecovery {
    /// Bytes of complete lines kept (new records are appended after them).
    pub kept_bytes: u64,
    /// Bytes of an incomplete last line (a record torn by a crash) that were removed.
    pub torn_bytes: u64,
    /// Zero bytes after the last line (preallocated, never written) that were removed.
    pub zero_bytes: u64,
}

/// The mapped part of the file: `[start, start + map.len())`.
struct Window {
    map: MmapMut,
    start: u64,
}

/// One open, locked, memory-mapped log file.
pub(crate) struct MappedFile {
    file: File,
    path: PathBuf,
    /// Bytes of complete lines; everything after is zero.
    len: u64,
    /// The file's size on disk, all of it allocated (no holes to fault on).
    allocated: u64,
    window: Option<Window>,
    chunk: u64,
    finished: bool,
}

impl std::fmt::Debug for MappedFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MappedFile")
            .field("path", &self.path)
            .field("len", &self.len)
            .field("allocated", &self.allocated)
            .field(
                "mapped",
                &self.window.as_ref().map(|w| (w.start, w.map.len())),
            )
            .finish()
    }
}

fn io_error(context: impl Into<String>, source: io::Error) -> SinkError {
    SinkError::io(context, source)
}

impl MappedFile {
    /// Opens (or creates) `path` for appending, creating missing parent directories, and trims
    /// whatever a crash left after the last complete line. Takes an exclusive `flock`, so a
    /// second sink (in this process or another) on the same file fails here instead of
    /// interleaving bytes.
    pub(crate) fn open(path: &Path, chunk: u64) -> Result<(MappedFile, TailRecovery), SinkError> {
        let shown = path.display();
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent)
                .map_err(|e| io_error(format!("creating log directory {}", parent.display()), e))?;
        }
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
            .map_err(|e| io_error(format!("opening log file {shown}"), e))?;
        let meta = file
            .metadata()
            .map_err(|e| io_error(format!("reading metadata of {shown}"), e))?;
        if !meta.is_file() {
            return Err(io_error(
                format!("opening log file {shown}"),
                io::Error::new(
                    io::ErrorKind::InvalidInput,
                    "not a regular file (a memory-mapped sink needs one)",
                ),
            ));
        }
        os::lock_exclusive(&file).map_err(|e| {
            let reason = if e.kind() == io::ErrorKind::WouldBlock {
                io::Error::new(
                    io::ErrorKind::WouldBlock,
                    "another file sink is writing to it (flock held)",
                )
            } else {
                e
            };
            io_error(format!("locking log file {shown}"), reason)
        })?;
        let size = meta.len();
        let recovery = find_end(&file, size)
            .map_err(|e| io_error(format!("reading the end of {shown}"), e))?;
        if recovery.kept_bytes != size {
            file.set_len(recovery.kept_bytes)
                .map_err(|e| io_error(format!("trimming the crashed tail of {shown}"), e))?;
        }
        let mapped = MappedFile {
            file,
            path: path.to_path_buf(),
            len: recovery.kept_bytes,
            allocated: recovery.kept_bytes,
            window: None,
            chunk: chunk.max(1),
            finished: false,
        };
        Ok((mapped, recovery))
    }

    /// Bytes of complete lines.
    pub(crate) fn len(&self) -> u64 {
        self.len
    }

    /// Makes sure the window has at least `bytes` free bytes after `len`, preallocating more
    /// of the file (whole chunks) and remapping when it has not. On error nothing was written
    /// and `len` is unchanged.
    pub(crate) fn reserve(&mut self, bytes: usize) -> Result<(), SinkError> {
        let want = self.len.saturating_add(bytes as u64);
        let window_end = self.window.as_ref().map(|w| w.start + w.map.len() as u64);
        if window_end.is_none_or(|end| end < want) {
            if want > self.allocated {
                self.grow(want.div_ceil(self.chunk).saturating_mul(self.chunk))?;
            }
            self.remap()?;
        }
        Ok(())
    }

    /// Extends the file to `new_size` with real blocks (`os::preallocate`), so a full disk is
    /// an error here rather than a SIGBUS when a page of the map is first written.
    fn grow(&mut self, new_size: u64) -> Result<(), SinkError> {
        let result = os::preallocate(&self.file, self.allocated, new_size - self.allocated);
        if let Err(e) = result {
            // A partial allocation may have moved the size; the extra bytes are zeros and are
            // truncated away when the file is finished.
            if let Ok(meta) = self.file.metadata() {
                self.allocated = self.allocated.max(meta.len());
            }
            return Err(io_error(
                format!(
                    "extending log file {} from {} to {} bytes",
                    self.path.display(),
                    self.allocated,
                    new_size
                ),
                e,
            ));
        }
        self.allocated = new_size;
        Ok(())
    }

    /// Maps `[len, allocated)`, dropping the previous window.
    fn remap(&mut self) -> Result<(), SinkError> {
        self.window = None;
        let map_len = usize::try_from(self.allocated - self.len).map_err(|_| {
            io_error(
                format!("mapping log file {}", self.path.display()),
                io::Error::new(io::ErrorKind::InvalidInput, "window larger than memory"),
            )
        })?;
        if map_len == 0 {
            return Ok(());
        }
        // The mapping covers [len, allocated), which lies inside the file (`allocated` is its
        // size, reached by preallocation or read from the file at open). This sink is the
        // file's only writer (it holds the exclusive flock), and it never shrinks the file
        // while a window is mapped (`finish` drops the window before `set_len`): the contract
        // of `os::map_mut`.
        let map = os::map_mut(&self.file, self.len, map_len)
            .map_err(|e| io_error(format!("mapping log file {}", self.path.display()), e))?;
        self.window = Some(Window {
            map,
            start: self.len,
        });
        Ok(())
    }

    /// The free part of the window, where the next lines go; at least as long as the last
    /// successful [`reserve`](Self::reserve) asked for, minus what was committed since.
    pub(crate) fn spare(&mut self) -> &mut [u8] {
        match &mut self.window {
            Some(w) => {
                let used = (self.len - w.start) as usize;
                &mut w.map[used..]
            }
            None => &mut [],
        }
    }

    /// Counts `n` more bytes of [`spare`](Self::spare) as written lines.
    pub(crate) fn commit(&mut self, n: usize) {
        self.len += n as u64;
        debug_assert!(self.len <= self.allocated);
    }

    /// Whether the file's last directory entry is gone (`rm`, or its directory removed) while
    /// it is open: writes still succeed, into an inode nobody can open again.
    pub(crate) fn is_removed(&self) -> Result<bool, SinkError> {
        use std::os::unix::fs::MetadataExt;
        let meta = self
            .file
            .metadata()
            .map_err(|e| io_error(format!("reading metadata of {}", self.path.display()), e))?;
        Ok(meta.nlink() == 0)
    }

    /// Writes dirty pages and the size to the device (`fdatasync`, which is what `msync`
    /// does for a shared file mapping on Linux, but covers pages of earlier windows too).
    pub(crate) fn sync(&self) -> Result<(), SinkError> {
        self.file
            .sync_data()
            .map_err(|e| io_error(format!("syncing log file {}", self.path.display()), e))
    }

    /// Unmaps, truncates the file to the bytes written and, with `sync`, syncs it. The file
    /// stays readable as it is if this fails: its tail is zeros, which readers skip.
    pub(crate) fn finish(mut self, sync: bool) -> Result<(), SinkError> {
        self.finished = true;
        self.window = None;
        let shown = self.path.display();
        if self.allocated != self.len {
            self.file
                .set_len(self.len)
                .map_err(|e| io_error(format!("truncating log file {shown}"), e))?;
            self.allocated = self.len;
        }
        if sync {
            self.file
                .sync_all()
                .map_err(|e| io_error(format!("syncing log file {shown}"), e))?;
        }
        Ok(())
    }
}

impl Drop for MappedFile {
    fn drop(&mut self) {
        if !self.finished {
            // Best effort (a panic unwound past the sink): leave no zero tail behind.
            self.window = None;
            let _ = self.file.set_len(self.len);
        }
    }
}

/// Finds the end of the last complete line of `file` (`size` bytes): skips trailing zero bytes,
/// then, if the last non-zero byte is not a newline, the torn line before them.
fn find_end(file: &File, size: u64) -> io::Result<TailRecovery> {
    let mut block = vec![0u8; SCAN_BLOCK];
    let mut end = size;
    let mut last_non_zero: Option<u64> = None;
    // Walk backwards block by block: first past the zeros, then to the newline before them.
    while end > 0 {
        let start = end.saturating_sub(SCAN_BLOCK as u64);
        let buf = &mut block[..(end - start) as usize];
        file.read_exact_at(buf, start)?;
        match last_non_zero {
            None => {
                if let Some(i) = buf.iter().rposition(|&b| b != 0) {
                    let at = start + i as u64;
                    last_non_zero = Some(at);
                    if buf[i] == b'\n' {
                        return Ok(TailRecovery {
                            kept_bytes: at + 1,
                            torn_bytes: 0,
                            zero_bytes: size - at - 1,
                        });
                    }
                    // Look for the newline before the torn line, in this block first.
                    if let Some(j) = buf[..i].iter().rposition(|&b| b == b'\n') {
                        return Ok(torn(size, at, start + j as u64 + 1));
                    }
                }
            }
            Some(at) => {
                if let Some(j) = buf.iter().rposition(|&b| b == b'\n') {
                    return Ok(torn(size, at, start + j as u64 + 1));
                }
            }
        }
        end = start;
    }
    Ok(match last_non_zero {
        Some(at) => torn(size, at, 0),
        None => TailRecovery {
            kept_bytes: 0,
            torn_bytes: 0,
            zero_bytes: size,
        },
    })
}

fn torn(size: u64, last_non_zero: u64, kept: u64) -> TailRecovery {
    TailRecovery {
        kept_bytes: kept,
        torn_bytes: last_non_zero + 1 - kept,
        zero_bytes: size - last_non_zero - 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn file_with(content: &[u8]) -> (tempdir::Dir, File) {
        let dir = tempdir::Dir::new();
        let path = dir.path().join("f");
        std::fs::write(&path, content).unwrap();
        let file = File::open(&path).unwrap();
        (dir, file)
    }

    /// A throwaway directory, removed on drop (no tempfile dependency in the library).
    mod tempdir {
        pub struct Dir(std::path::PathBuf);
        impl Dir {
            pub fn new() -> Dir {
                static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
                let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let path = std::env::temp_dir()
                    .join(format!("asynclog-mapped-{}-{n}", std::process::id()));
                std::fs::create_dir_all(&path).unwrap();
                Dir(path)
            }
            pub fn path(&self) -> &std::path::Path {
                &self.0
            }
        }
        impl Drop for Dir {
            fn drop(&mut self) {
                let _ = std::fs::remove_dir_all(&self.0);
            }
        }
    }

    #[test]
    fn find_end_handles_every_tail() {
        let cases: &[(&[u8], TailRecovery)] = &[
            (b"", TailRecovery::default()),
            (
                b"a\nb\n",
                TailRecovery {
                    kept_bytes: 4,
                    torn_bytes: 0,
                    zero_bytes: 0,
                },
            ),
            (
                b"a\nb\n\0\0\0",
                TailRecovery {
                    kept_bytes: 4,
                    torn_bytes: 0,
                    zero_bytes: 3,
                },
            ),
            (
                b"a\nbc\0\0",
                TailRecovery {
                    kept_bytes: 2,
                    torn_bytes: 2,
                    zero_bytes: 2,
                },
            ),
            (
                b"abc",
                TailRecovery {
                    kept_bytes: 0,
                    torn_bytes: 3,
                    zero_bytes: 0,
                },
            ),
            (
                b"\0\0\0\0",
                TailRecovery {
                    kept_bytes: 0,
                    torn_bytes: 0,
                    zero_bytes: 4,
                },
            ),
        ];
        for (content, expected) in cases {
            let (_dir, file) = file_with(content);
            assert_eq!(
                find_end(&file, content.len() as u64).unwrap(),
                *expected,
                "{content:?}"
            );
        }
        // Tails that span scan blocks.
        let mut long = b"x\n".to_vec();
        long.extend(std::iter::repeat_n(b'y', SCAN_BLOCK * 2 + 5));
        long.extend(std::iter::repeat_n(0, SCAN_BLOCK + 7));
        let (_dir, file) = file_with(&long);
        assert_eq!(
            find_end(&file, long.len() as u64).unwrap(),
            TailRecovery {
                kept_bytes: 2,
                torn_bytes: SCAN_BLOCK as u64 * 2 + 5,
                zero_bytes: SCAN_BLOCK as u64 + 7
            }
        );
    }

    #[test]
    fn writes_grow_in_chunks_and_finish_truncates() {
        let dir = tempdir::Dir::new();
        let path = dir.path().join("sub/dir/log.jsonl");
        let (mut file, recovery) = MappedFile::open(&path, 4096).unwrap();
        assert_eq!(recovery, TailRecovery::default());
        let line = b"{\"n\":1}\n";
        for round in 0..1000u64 {
            file.reserve(line.len()).unwrap();
            file.spare()[..line.len()].copy_from_slice(line);
            file.commit(line.len());
            assert_eq!(file.len(), (round + 1) * line.len() as u64);
            let on_disk = std::fs::metadata(&path).unwrap().len();
            assert_eq!(on_disk % 4096, 0, "grows in whole chunks");
        }
        file.finish(true).unwrap();
        let content = std::fs::read(&path).unwrap();
        assert_eq!(content, line.repeat(1000));

        // Reopen appends after the last line and trims a torn, zero-padded tail.
        let mut raw = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap();
        raw.write_all(b"{\"torn\"\0\0\0\0").unwrap();
        drop(raw);
        let (mut file, recovery) = MappedFile::open(&path, 4096).unwrap();
        assert_eq!(
            recovery,
            TailRecovery {
                kept_bytes: 8000,
                torn_bytes: 7,
                zero_bytes: 4
            }
        );
        // A second writer on the same file is refused while the first holds it.
        let err = MappedFile::open(&path, 4096).unwrap_err().to_string();
        assert!(
            err.contains("locking log file") && err.contains("log.jsonl"),
            "{err}"
        );
        file.reserve(line.len()).unwrap();
        file.spare()[..line.len()].copy_from_slice(line);
        file.commit(line.len());
        drop(file); // Drop also truncates.
        assert_eq!(std::fs::read(&path).unwrap(), line.repeat(1001));
    }

    #[test]
    fn non_regular_files_are_refused_by_name() {
        let err = MappedFile::open(Path::new("/dev/null"), 4096)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("/dev/null") && err.contains("not a regular file"),
            "{err}"
        );
    }
}
