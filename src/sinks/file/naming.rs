//! What a file sink calls the files it rotates, and how many old ones stay. When it rotates is
//! [`Rotation`](crate::sinks::Rotation)'s business.
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
use std::io;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};

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
}
