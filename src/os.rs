//! The crate's operating-system calls, in one place to audit: the thread id and the process-wide
//! memory barrier the ring side uses, pinning the background threads to CPUs, and the file
//! locks, preallocation, memory maps and no-overwrite rename of the file and Parquet sinks. Every
//! `libc` call of the crate is here, each `unsafe` block with its argument; the rest of the crate
//! calls these safe functions.

use memmap2::{MmapMut, MmapOptions};
use std::fs::File;
use std::io;
#[cfg(feature = "parquet")]
use std::{fs, path::Path};

/// The calling thread's kernel thread id (`gettid`), where there is one.
#[cfg(target_os = "linux")]
pub(crate) fn thread_id() -> Option<u64> {
    // SAFETY: gettid has no arguments and cannot fail.
    Some((unsafe { libc::gettid() }) as u64)
}

/// The calling thread's kernel thread id, where there is one.
#[cfg(not(target_os = "linux"))]
pub(crate) fn thread_id() -> Option<u64> {
    None
}

// From <linux/membarrier.h>; stable kernel ABI.
#[cfg(target_os = "linux")]
const MEMBARRIER_CMD_PRIVATE_EXPEDITED: libc::c_int = 1 << 3;
#[cfg(target_os = "linux")]
const MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED: libc::c_int = 1 << 4;

/// Registers the process for [`membarrier_expedited`]; false where that is unavailable.
#[cfg(target_os = "linux")]
pub(crate) fn register_membarrier_expedited() -> bool {
    // SAFETY: membarrier takes integer arguments only and touches no memory of ours.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_membarrier,
            MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED,
            0,
            0,
        )
    };
    rc == 0
}

/// Registers the process for [`membarrier_expedited`]; false where that is unavailable.
#[cfg(not(target_os = "linux"))]
pub(crate) fn register_membarrier_expedited() -> bool {
    false
}

/// `membarrier(PRIVATE_EXPEDITED)`: a full fence on every CPU running one of this process's
/// threads. False if it failed (then the caller needs a fence of its own). Only after
/// [`register_membarrier_expedited`] returned true.
#[cfg(target_os = "linux")]
pub(crate) fn membarrier_expedited() -> bool {
    // SAFETY: as in `register_membarrier_expedited`; registration succeeded, so the command is
    // valid.
    let rc = unsafe { libc::syscall(libc::SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0) };
    rc == 0
}

/// Never called where registration always fails.
#[cfg(not(target_os = "linux"))]
pub(crate) fn membarrier_expedited() -> bool {
    false
}

/// Why no thread of this process can be pinned to `cpu`, as the end of a config error ("is CPU
/// 7, ..."), or `None` when one can. Asks the kernel with a short-lived thread: which CPUs a
/// thread may use depends on the process's cpuset, not on the calling thread's own affinity
/// (an application may have pinned the thread that creates the logger elsewhere).
pub(crate) fn unpinnable_cpu(cpu: usize) -> Option<String> {
    match spawn_thread("asynclog-cpu-probe".into(), Some(cpu), (), |()| ()) {
        Ok(probe) => {
            let _ = probe.join();
            None
        }
        Err(failed) => Some(format!(
            "is CPU {cpu}, which no thread of this process can be pinned to ({})",
            failed.error
        )),
    }
}

/// Pins the calling thread to `cpu` (`sched_setaffinity`).
#[cfg(target_os = "linux")]
fn pin_current_thread(cpu: usize) -> io::Result<()> {
    if cpu >= libc::CPU_SETSIZE as usize {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "CPU {cpu} is beyond the {} a CPU set holds",
                libc::CPU_SETSIZE
            ),
        ));
    }
    // SAFETY: an all-zero `cpu_set_t` is a valid empty set.
    let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    // SAFETY: writes bit `cpu` of `set`, which is below `CPU_SETSIZE` (checked above).
    unsafe { libc::CPU_SET(cpu, &mut set) };
    // SAFETY: `set` is a `cpu_set_t` of the size passed; pid 0 is the calling thread.
    let rc = unsafe { libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set) };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Pinning threads is only implemented on Linux.
#[cfg(not(target_os = "linux"))]
fn pin_current_thread(_cpu: usize) -> io::Result<()> {
    Err(io::Error::new(
        io::ErrorKind::Unsupported,
        "pinning threads to CPUs is supported on Linux only",
    ))
}

/// A thread started by [`spawn_thread`].
#[derive(Debug)]
pub(crate) struct Thread<T>(std::thread::JoinHandle<Option<T>>);

impl<T> Thread<T> {
    /// Waits for the thread to end; what its body returned, or the payload of its panic.
    pub(crate) fn join(self) -> std::thread::Result<T> {
        // `None` only comes from a thread whose pinning failed, which `spawn_thread` never
        // hands out.
        self.0
            .join()
            .map(|ran| ran.expect("a thread that could not be pinned is never handed out"))
    }
}

/// The context of an error starting a thread, naming the CPU it was to be pinned to.
pub(crate) fn starting(thread: &str, cpu: Option<usize>) -> String {
    match cpu {
        Some(cpu) => format!("starting {thread} pinned to CPU {cpu}"),
        None => format!("starting {thread}"),
    }
}

/// Why [`spawn_thread`] started nothing.
pub(crate) struct SpawnFailed<S> {
    pub(crate) error: io::Error,
    /// The state the thread was to run with, handed back when the thread started but could not
    /// be pinned, so the caller can shut down what it holds; `None` when no thread started.
    pub(crate) state: Option<S>,
}

/// Starts a thread named `name` running `body(state)`, first pinned to `cpu` when one is given.
/// The thread pins itself before `body` runs and reports back; if pinning fails it ends without
/// running `body` and hands `state` back with the error, so no thread a caller asked to pin ever
/// runs unpinned, and nothing `state` owns is left to a thread the caller cannot see.
pub(crate) fn spawn_thread<S: Send + 'static, T: Send + 'static>(
    name: String,
    cpu: Option<usize>,
    state: S,
    body: impl FnOnce(S) -> T + Send + 'static,
) -> Result<Thread<T>, SpawnFailed<S>> {
    let not_started = |error| SpawnFailed { error, state: None };
    let Some(cpu) = cpu else {
        let thread = std::thread::Builder::new()
            .name(name)
            .spawn(move || Some(body(state)))
            .map_err(not_started)?;
        return Ok(Thread(thread));
    };
    let (pinned_tx, pinned) = std::sync::mpsc::sync_channel(1);
    let thread = std::thread::Builder::new()
        .name(name)
        .spawn(move || match pin_current_thread(cpu) {
            Ok(()) => {
                let _ = pinned_tx.send(Ok(()));
                Some(body(state))
            }
            Err(error) => {
                let _ = pinned_tx.send(Err((error, state)));
                None
            }
        })
        .map_err(not_started)?;
    match pinned.recv() {
        Ok(Ok(())) => Ok(Thread(thread)),
        Ok(Err((error, state))) => {
            let _ = thread.join();
            Err(SpawnFailed {
                error,
                state: Some(state),
            })
        }
        Err(_) => Err(not_started(io::Error::other(
            "the new thread ended before pinning itself",
        ))),
    }
}

/// `flock(LOCK_EX | LOCK_NB)`: released when the file is closed, including by a crash. Fails with
/// `WouldBlock` while another open file description holds it (another process, or another open
/// of the file in this one). File sinks lock their file, Parquet sinks their journal (journal
/// off: their `.inprogress` file).
pub(crate) fn lock_exclusive(file: &File) -> io::Result<()> {
    use std::os::unix::io::AsRawFd;
    // SAFETY: flock takes a file descriptor and flags; the descriptor is open for the call's
    // duration because `file` is borrowed.
    let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// True when `path` names the file open as `file` (same device and inode): after taking a lock,
/// this tells whether the name still leads to the locked file (its owner may have renamed or
/// deleted it meanwhile).
#[cfg(feature = "parquet")]
pub(crate) fn is_at(file: &File, path: &Path) -> io::Result<bool> {
    use std::os::unix::fs::MetadataExt;
    let open = file.metadata()?;
    match fs::metadata(path) {
        Ok(named) => Ok(named.dev() == open.dev() && named.ino() == open.ino()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(e),
    }
}

/// True when both paths exist and name the same file (same device and inode).
#[cfg(feature = "parquet")]
pub(crate) fn same_file(a: &Path, b: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (fs::metadata(a), fs::metadata(b)) {
        (Ok(a), Ok(b)) => a.ino() == b.ino() && a.dev() == b.dev(),
        _ => false,
    }
}

/// Makes the file at least `offset + len` bytes long, with real blocks for `[offset, offset +
/// len)` (`posix_fallocate`), so a full disk is an `ENOSPC` error here rather than a SIGBUS when a
/// mapped page is first written. Never shrinks the file.
///
/// Retries `EINTR`. Where blocks cannot be reserved (`EOPNOTSUPP` or `ENOSYS`, which musl
/// reports for filesystems without `fallocate`, or `EINVAL` for valid arguments; and on
/// platforms other than Linux, Android and FreeBSD) it extends the file sparsely
/// (`ftruncate`) instead, so the sink still works there; a full disk may then show as SIGBUS on
/// the first write to a mapped page rather than as an error here. glibc emulates
/// `posix_fallocate` by writing zeros where the filesystem lacks `fallocate`, so on glibc the
/// sparse path is rarely taken.
pub(crate) fn preallocate(file: &File, offset: u64, len: u64) -> io::Result<()> {
    match fallocate(file, offset, len) {
        Err(e) if e.kind() == io::ErrorKind::Unsupported => {
            let end = offset.saturating_add(len);
            if file.metadata()?.len() < end {
                file.set_len(end)?;
            }
            Ok(())
        }
        result => result,
    }
}

/// `posix_fallocate`, retrying `EINTR`; an error of kind `Unsupported` where the filesystem or
/// the C library cannot preallocate.
#[cfg(any(target_os = "linux", target_os = "android", target_os = "freebsd"))]
fn fallocate(file: &File, offset: u64, len: u64) -> io::Result<()> {
    use std::os::unix::io::AsRawFd;
    if len == 0 {
        return Ok(());
    }
    let (Ok(offset), Ok(len)) = (libc::off_t::try_from(offset), libc::off_t::try_from(len)) else {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "file size out of range",
        ));
    };
    loop {
        // SAFETY: posix_fallocate takes a descriptor and two integers; the descriptor is open
        // for the call's duration because `file` is borrowed. It returns the error number
        // instead of setting errno.
        let rc = unsafe { libc::posix_fallocate(file.as_raw_fd(), offset, len) };
        return match rc {
            0 => Ok(()),
            libc::EINTR => continue,
            // The arguments are valid (offset >= 0, len > 0), so EINVAL means the filesystem
            // does not support the operation, as EOPNOTSUPP and ENOSYS do.
            libc::EOPNOTSUPP | libc::ENOSYS | libc::EINVAL => Err(io::Error::new(
                io::ErrorKind::Unsupported,
                io::Error::from_raw_os_error(rc),
            )),
            errno => Err(io::Error::from_raw_os_error(errno)),
        };
    }
}

#[cfg(not(any(target_os = "linux", target_os = "android", target_os = "freebsd")))]
fn fallocate(_file: &File, _offset: u64, _len: u64) -> io::Result<()> {
    Err(io::Error::new(
        io::ErrorKind::Unsupported,
        "posix_fallocate is not used on this platform",
    ))
}

/// Maps `len` bytes of `file` from `offset`, shared and writable.
///
/// The map may reach past the end of the file (the journal reserves address space that way);
/// pages past the end must not be touched until the file has grown over them.
///
/// # Contract (callers in this crate)
/// `file` is a regular file this process holds under [`lock_exclusive`], so no other sink
/// writes or resizes it; the caller never shrinks it while a map of it lives (every `set_len`
/// below a mapped length comes after the map is dropped) and only accesses bytes within the
/// file's length.
pub(crate) fn map_mut(file: &File, offset: u64, len: usize) -> io::Result<MmapMut> {
    // SAFETY: memmap2 marks mapping unsafe because the file's bytes can change, or the file
    // shrink, under the map by means outside the program's control; a shrink turns accesses
    // into SIGBUS. By the contract above the only writer of these files is the sink that maps
    // it (it holds the exclusive flock, which every sink of this crate takes before writing),
    // it keeps the file at least as long as the bytes it touches, and the bytes are plain
    // `u8`, for which any content is valid. Another program truncating the file anyway is the
    // documented limit of memory-mapped writing, which no API can rule out.
    unsafe { MmapOptions::new().offset(offset).len(len).map_mut(file) }
}

/// Renames `from` to `to` unless `to` exists (then `AlreadyExists`): a finished file is never
/// overwritten. Hard-links then unlinks, which is atomic about the check; on filesystems without
/// hard links it falls back to check-then-rename. Killed between the two steps, both names lead
/// to the same file ([`same_file`]); recovery looks for that.
#[cfg(feature = "parquet")]
pub(crate) fn rename_no_replace(from: &Path, to: &Path) -> io::Result<()> {
    match fs::hard_link(from, to) {
        // `from` already gone: another sink's recovery found both names on one file between the
        // two steps and removed it; the file is at `to`.
        Ok(()) => match fs::remove_file(from) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            result => result,
        },
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Err(e),
        Err(_) => {
            if fs::symlink_metadata(to).is_ok() {
                return Err(io::Error::new(
                    io::ErrorKind::AlreadyExists,
                    format!("{} exists", to.display()),
                ));
            }
            fs::rename(from, to)
        }
    }
}

/// This machine's host name (`gethostname`), the default `host=` partition of uploads.
#[cfg(feature = "object-store")]
pub(crate) fn hostname() -> io::Result<String> {
    let mut buf = [0u8; 256];
    // SAFETY: `buf` is valid for writes of `buf.len()` bytes; gethostname writes at most that
    // many and we read only up to the first NUL (or the whole buffer if truncated without one).
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    let len = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    String::from_utf8(buf[..len].to_vec())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "the host name is not UTF-8"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn preallocate_grows_never_shrinks() {
        let dir = tempfile::tempdir().unwrap();
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(dir.path().join("f"))
            .unwrap();
        preallocate(&file, 0, 8192).unwrap();
        assert_eq!(file.metadata().unwrap().len(), 8192);
        preallocate(&file, 0, 4096).unwrap();
        assert_eq!(file.metadata().unwrap().len(), 8192);
        preallocate(&file, 8192, 0).unwrap();
        assert_eq!(file.metadata().unwrap().len(), 8192);
    }

    #[test]
    #[cfg(target_os = "linux")]
    fn a_thread_that_cannot_be_pinned_never_runs_its_body() {
        use std::sync::atomic::{AtomicBool, Ordering};
        use std::sync::Arc;
        let ran = Arc::new(AtomicBool::new(false));
        // Inside a CPU set but not a CPU of this machine, then past what a CPU set holds.
        for cpu in [1000, 1 << 20] {
            let flag = ran.clone();
            let result = spawn_thread("pin-test".into(), Some(cpu), flag, |flag| {
                flag.store(true, Ordering::SeqCst)
            });
            let Err(failed) = result else {
                panic!("CPU {cpu} taken")
            };
            // The state comes back when the thread started but could not be pinned.
            assert!(failed.state.is_some(), "CPU {cpu}");
        }
        assert!(!ran.load(Ordering::SeqCst));
        assert!(unpinnable_cpu(1000).is_some_and(|why| why.starts_with("is CPU 1000, ")));
        let allowed = |status: String| {
            let line = status.lines().find(|l| l.starts_with("Cpus_allowed_list:"));
            line.unwrap().split_whitespace().nth(1).unwrap().to_owned()
        };
        let ours = allowed(std::fs::read_to_string("/proc/thread-self/status").unwrap());
        // The first CPU of this thread's list ("0-1", "0,2", "3"). On a one-CPU machine the
        // pinned list equals the inherited one, and only the failures above are shown.
        let cpu: usize = ours.split([',', '-']).next().unwrap().parse().unwrap();
        assert_eq!(unpinnable_cpu(cpu), None);
        let Ok(thread) = spawn_thread("pin-test".into(), Some(cpu), (), move |()| {
            allowed(std::fs::read_to_string("/proc/thread-self/status").unwrap())
        }) else {
            panic!("CPU {cpu} refused")
        };
        assert_eq!(thread.join().unwrap(), cpu.to_string());
    }

    #[test]
    #[cfg(feature = "parquet")]
    fn rename_no_replace_refuses_an_existing_target() {
        use std::fs;
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a"), dir.path().join("b"));
        fs::write(&a, b"a").unwrap();
        fs::write(&b, b"b").unwrap();
        let err = rename_no_replace(&a, &b).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::AlreadyExists);
        fs::remove_file(&b).unwrap();
        rename_no_replace(&a, &b).unwrap();
        assert!(!a.exists());
        assert_eq!(fs::read(&b).unwrap(), b"a");
    }
}
