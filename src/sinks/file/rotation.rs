//! When a file sink starts a new file, what the old one is called, and how many old ones stay.
//!
//! The active file keeps its configured name (`app.log`). Rotating renames it to
//! `app.<start>.log`, where `<start>` is the UTC time the file was started, to the microsecond:
//! `app.2026-11-27T12-00-00.000000.log`. The stamp has a fixed width, so names sort by time.
//! "Started" means: when the sink created it; for a file the sink reopened, the timestamp of its
//! first record; for a file started by a time rotation, the start of its period. If that name is
//! taken (two rotations within a microsecond, or a clock that stands still), the stamp is moved
//! forward a microsecond at a time, so names stay unique and in order.

use crate::sinks::format::{parse_rfc3339_nanos, rfc3339_nanos};
use std::ffi::{OsStr, OsString};
use std::fmt;
use std::io;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

/// Where a file sink reads the time for time-based rotation and for rotated names. Tests inject
/// a [`ManualClock`]; the default is [`SystemClock`].
pub trait Clock: Send + Sync + fmt::Debug {
    /// The current wall-clock time.
    fn now(&self) -> SystemTime;
}

/// The system's wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }
}

/// A clock that moves only when told to; clones share the same time.
///
/// ```
/// use asynclog::sinks::file::{Clock, ManualClock};
/// use std::time::{Duration, UNIX_EPOCH};
///
/// let clock = ManualClock::new(UNIX_EPOCH + Duration::from_secs(3600));
/// let handle = clock.clone(); // give `clock` to the sink, keep `handle`
/// handle.advance(Duration::from_secs(60));
/// assert_eq!(clock.now(), UNIX_EPOCH + Duration::from_secs(3660));
/// ```
#[derive(Debug, Clone)]
pub struct ManualClock {
    ns: Arc<AtomicI64>,
}

impl ManualClock {
    /// A clock showing `start`.
    pub fn new(start: SystemTime) -> ManualClock {
        ManualClock {
            ns: Arc::new(AtomicI64::new(system_time_to_ns(start))),
        }
    }

    /// Sets the time.
    pub fn set(&self, now: SystemTime) {
        // Relaxed: the time is a single value with no other data published alongside it.
        self.ns.store(system_time_to_ns(now), Ordering::Relaxed);
    }

    /// Moves the time forward by `by`.
    pub fn advance(&self, by: Duration) {
        let by = i64::try_from(by.as_nanos()).unwrap_or(i64::MAX);
        self.ns.fetch_add(by, Ordering::Relaxed);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> SystemTime {
        ns_to_system_time(self.ns.load(Ordering::Relaxed))
    }
}

pub(crate) fn system_time_to_ns(t: SystemTime) -> i64 {
    crate::ring::clock::system_time_to_ns(t)
}

fn ns_to_system_time(ns: i64) -> SystemTime {
    let magnitude = Duration::from_nanos(ns.unsigned_abs());
    if ns >= 0 {
        SystemTime::UNIX_EPOCH + magnitude
    } else {
        SystemTime::UNIX_EPOCH - magnitude
    }
}

/// How often a file sink starts a new file by time, in the style of `tracing-appender`'s
/// `Rotation`. Periods are aligned to the Unix epoch in UTC: `HOURLY` rotates at the top of
/// every hour, `DAILY` at midnight UTC, `Rotation::every(Duration::from_secs(300))` at :00,
/// :05, :10 and so on. The check happens when a batch is written, so a quiet logger does not
/// create empty files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rotation(Option<Duration>);

impl Rotation {
    /// No time-based rotation (the default).
    pub const NEVER: Rotation = Rotation(None);
    /// A new file every minute.
    pub const MINUTELY: Rotation = Rotation(Some(Duration::from_secs(60)));
    /// A new file every hour.
    pub const HOURLY: Rotation = Rotation(Some(Duration::from_secs(3600)));
    /// A new file every day (UTC).
    pub const DAILY: Rotation = Rotation(Some(Duration::from_secs(86_400)));

    /// A new file every `period` (at least a millisecond; checked when the sink is built).
    pub const fn every(period: Duration) -> Rotation {
        Rotation(Some(period))
    }

    /// The period, if any.
    pub fn period(&self) -> Option<Duration> {
        self.0
    }

    fn period_ns(&self) -> Option<i64> {
        self.0
            .map(|p| i64::try_from(p.as_nanos()).unwrap_or(i64::MAX).max(1))
    }

    /// The start of the period holding `ns` (or `ns` itself without a period).
    pub(crate) fn period_start(&self, ns: i64) -> i64 {
        match self.period_ns() {
            Some(p) => ns - ns.rem_euclid(p),
            None => ns,
        }
    }

    /// The first period boundary after `ns`.
    pub(crate) fn next_boundary(&self, ns: i64) -> Option<i64> {
        self.period_ns()
            .map(|p| self.period_start(ns).saturating_add(p))
    }
}

impl Default for Rotation {
    fn default() -> Self {
        Rotation::NEVER
    }
}

/// Length of the stamp in a rotated name: `2026-11-27T12-00-00.123456`.
const STAMP_LEN: usize = 26;
const NS_PER_US: i64 = 1_000;

/// Derives rotated names from the active path and finds the rotated files on disk.
#[derive(Debug, Clone)]
pub(crate) struct Naming {
    dir: PathBuf,
    /// `app.` for `app.log`.
    prefix: Vec<u8>,
    /// `.log` for `app.log`, empty for `app`.
    suffix: Vec<u8>,
}

impl Naming {
    pub(crate) fn new(active: &Path) -> Naming {
        let dir = match active.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let stem = active.file_stem().unwrap_or(OsStr::new("log"));
        let mut prefix = stem.as_bytes().to_vec();
        prefix.push(b'.');
        let suffix = match active.extension() {
            Some(ext) => [b".", ext.as_bytes()].concat(),
            None => Vec::new(),
        };
        Naming {
            dir,
            prefix,
            suffix,
        }
    }

    /// `dir/app.2026-11-27T12-00-00.123456.log` for a file started at `ns` (microseconds kept).
    pub(crate) fn rotated_path(&self, ns: i64) -> PathBuf {
        let stamp = rfc3339_nanos(ns);
        let mut name = self.prefix.clone();
        name.extend(
            stamp[..STAMP_LEN]
                .iter()
                .map(|&b| if b == b':' { b'-' } else { b }),
        );
        name.extend_from_slice(&self.suffix);
        self.dir.join(OsString::from_vec(name))
    }

    /// The start time a rotated file name encodes, or `None` if the name is not one of ours.
    pub(crate) fn parse_rotated(&self, file_name: &OsStr) -> Option<i64> {
        let stamp = file_name
            .as_bytes()
            .strip_prefix(self.prefix.as_slice())?
            .strip_suffix(self.suffix.as_slice())?;
        if stamp.len() != STAMP_LEN {
            return None;
        }
        let mut text = stamp.to_vec();
        text[13] = b':';
        text[16] = b':';
        if stamp[13] != b'-' || stamp[16] != b'-' {
            return None;
        }
        text.push(b'Z');
        parse_rfc3339_nanos(&text)
    }

    /// A rotated name for a file started at `start_ns` that no file has yet and that sorts after
    /// `after_ns` (the previous rotation's stamp); returns the path and the stamp used.
    pub(crate) fn unique_rotated_path(
        &self,
        start_ns: i64,
        after_ns: Option<i64>,
    ) -> (PathBuf, i64) {
        let mut stamp = start_ns - start_ns.rem_euclid(NS_PER_US);
        if let Some(after) = after_ns {
            if stamp <= after {
                stamp = after + NS_PER_US;
            }
        }
        loop {
            let path = self.rotated_path(stamp);
            // symlink_metadata: a dangling symlink with that name also counts as taken.
            if std::fs::symlink_metadata(&path).is_err() {
                return (path, stamp);
            }
            stamp += NS_PER_US;
        }
    }

    /// Every rotated file of this sink in the directory, oldest first.
    pub(crate) fn list_rotated(&self) -> io::Result<Vec<(i64, PathBuf)>> {
        let mut found = Vec::new();
        for entry in std::fs::read_dir(&self.dir)? {
            let entry = entry?;
            if let Some(ns) = self.parse_rotated(&entry.file_name()) {
                if entry.file_type()?.is_file() {
                    found.push((ns, entry.path()));
                }
            }
        }
        found.sort();
        Ok(found)
    }

    /// Deletes the oldest rotated files until at most `keep` remain; returns how many it
    /// deleted. The error names the file it could not delete.
    pub(crate) fn enforce_retention(&self, keep: usize) -> Result<usize, (PathBuf, io::Error)> {
        let rotated = self.list_rotated().map_err(|e| (self.dir.clone(), e))?;
        let excess = rotated.len().saturating_sub(keep);
        for (_, path) in &rotated[..excess] {
            std::fs::remove_file(path).map_err(|e| (path.clone(), e))?;
        }
        Ok(excess)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: i64 = 1_795_780_800_123_456_789; // 2026-11-27T12:00:00.123456789Z

    #[test]
    fn rotated_names_round_trip_and_sort() {
        let naming = Naming::new(Path::new("/var/log/app.log"));
        let path = naming.rotated_path(T);
        assert_eq!(
            path,
            Path::new("/var/log/app.2026-11-27T12-00-00.123456.log")
        );
        assert_eq!(
            naming.parse_rotated(path.file_name().unwrap()),
            Some(T - 789)
        );
        assert_eq!(naming.parse_rotated(OsStr::new("app.log")), None);
        assert_eq!(
            naming.parse_rotated(OsStr::new("app.2026-11-27T12:00:00.123456.log")),
            None
        );
        assert_eq!(
            naming.parse_rotated(OsStr::new("other.2026-11-27T12-00-00.123456.log")),
            None
        );
        let later = naming.rotated_path(T + 1_000_000_000 * 3600 * 24 * 400);
        assert!(later > path);

        let bare = Naming::new(Path::new("app"));
        assert_eq!(
            bare.rotated_path(T),
            Path::new("./app.2026-11-27T12-00-00.123456")
        );
    }

    #[test]
    fn periods_align_to_the_epoch() {
        let hourly = Rotation::HOURLY;
        let hour = 3_600_000_000_000;
        assert_eq!(hourly.period_start(T), T - T % hour);
        assert_eq!(hourly.next_boundary(T), Some(T - T % hour + hour));
        assert_eq!(Rotation::NEVER.next_boundary(T), None);
        assert_eq!(hourly.period_start(-1), -hour);
    }

    #[test]
    fn manual_clock_moves_only_when_told() {
        let clock = ManualClock::new(SystemTime::UNIX_EPOCH);
        let other = clock.clone();
        other.advance(Duration::from_secs(5));
        assert_eq!(clock.now(), SystemTime::UNIX_EPOCH + Duration::from_secs(5));
        clock.set(SystemTime::UNIX_EPOCH - Duration::from_secs(1));
        assert_eq!(system_time_to_ns(other.now()), -1_000_000_000);
    }
}
