//! File names, the no-overwrite rename, and the directory scan behind both.
//!
//! Finished files are named `{prefix}_{YYYYMMDD_HHMMSS}_{NNN}.parquet` (UTC, when the file was
//! opened); while open, the same name ends in `.parquet.inprogress`, and its journal in
//! `.parquet.journal`. Names sort in write order: a stamp never goes below the last one used in
//! the directory (a clock stepping back reuses the last second), `NNN` counts files within one
//! second, and past `999` the stamp moves on a second.
//!
//! With the journal off, a sink holds an exclusive `flock` on its `.inprogress` file from its
//! creation until it is renamed into place ([`create_in_progress`]), as it does on a journal
//! otherwise, and recovery [`claim_in_progress`]es such a file before reporting it: a locked one
//! is a live sink's.

use crate::os::{is_at, lock_exclusive};
use crate::sinks::format::civil_from_days;
use std::fs::{self, File, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

/// Suffix of a finished file.
pub(crate) const FINISHED: &str = ".parquet";
/// Suffix of a file being written.
pub(crate) const IN_PROGRESS: &str = ".parquet.inprogress";
/// Suffix of the journal of a file being written.
pub(crate) const JOURNAL: &str = ".parquet.journal";
/// Suffix of the empty marker the upload stage leaves for the newest file it uploaded (and
/// deleted), so that names handed out later still sort after it and never reuse its object key.
pub(crate) const UPLOADED: &str = ".parquet.uploaded";

/// Where a file goes: its name stem `{prefix}_{stamp}_{NNN}` in `dir`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FileName {
    pub dir: PathBuf,
    pub stem: String,
}

impl FileName {
    pub fn finished(&self) -> PathBuf {
        self.dir.join(format!("{}{FINISHED}", self.stem))
    }
    pub fn in_progress(&self) -> PathBuf {
        self.dir.join(format!("{}{IN_PROGRESS}", self.stem))
    }
    pub fn journal(&self) -> PathBuf {
        self.dir.join(format!("{}{JOURNAL}", self.stem))
    }
    pub fn uploaded(&self) -> PathBuf {
        self.dir.join(format!("{}{UPLOADED}", self.stem))
    }
    /// When the file was opened (seconds since the epoch, UTC), read back from its stamp.
    #[cfg(feature = "object-store")]
    pub fn opened_secs(&self) -> Option<i64> {
        let tail = self
            .stem
            .len()
            .checked_sub(19)
            .and_then(|at| self.stem.get(at..))?;
        parse_stamp(tail).map(|(secs, _)| secs)
    }
}

/// Hands out file names for one `path`.
#[derive(Debug)]
pub(crate) struct Namer {
    dir: PathBuf,
    prefix: String,
    /// The last (seconds since epoch, NNN) used or seen in the directory.
    last: Option<(i64, u32)>,
}

impl Namer {
    /// A namer for `path` (`dir/prefix`). Touches the disk only to see whether `path` is a
    /// directory.
    pub fn new(file_path: &Path) -> Result<Namer, String> {
        // `Path::file_name` reads `logs/` as the name `logs`, which would put the files beside
        // the directory the user meant (`./logs_….parquet`).
        let ends_in_separator = file_path
            .as_os_str()
            .as_encoded_bytes()
            .last()
            .is_some_and(|&b| std::path::is_separator(char::from(b)));
        if ends_in_separator || file_path.is_dir() {
            return Err(format!(
                "`{}` is a directory; the path is a file-name prefix inside one, such as `{}` \
                 (files `{}_<time>.parquet`)",
                file_path.display(),
                file_path.join("app").display(),
                file_path.join("app").display()
            ));
        }
        let prefix = file_path
            .file_name()
            .and_then(|n| n.to_str())
            .filter(|n| !n.is_empty())
            .ok_or_else(|| {
                format!(
                    "`{}` does not end in a UTF-8 file name prefix",
                    file_path.display()
                )
            })?
            .to_owned();
        let dir = match file_path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        Ok(Namer {
            dir,
            prefix,
            last: None,
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// This prefix's finished files in the directory, oldest first (names sort by time).
    pub fn finished_files(&mut self) -> io::Result<Vec<PathBuf>> {
        Ok(self
            .scan()?
            .into_iter()
            .filter(|(_, suffix)| *suffix == FINISHED)
            .map(|(name, _)| name.finished())
            .collect())
    }

    /// Names of this prefix's files in the directory, with their parsed stamp and suffix.
    pub fn scan(&mut self) -> io::Result<Vec<(FileName, &'static str)>> {
        let mut found = Vec::new();
        for entry in fs::read_dir(&self.dir)? {
            let entry = entry?;
            let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
                continue;
            };
            let Some((stem, suffix, stamp)) = self.parse(&name) else {
                continue;
            };
            self.last = self.last.max(Some(stamp));
            found.push((
                FileName {
                    dir: self.dir.clone(),
                    stem,
                },
                suffix,
            ));
        }
        found.sort_by(|a, b| a.0.stem.cmp(&b.0.stem));
        Ok(found)
    }

    /// Splits `{prefix}_{YYYYMMDD}_{HHMMSS}_{NNN}{suffix}` into stem, suffix and (secs, NNN).
    fn parse(&self, name: &str) -> Option<(String, &'static str, (i64, u32))> {
        let rest = name.strip_prefix(&self.prefix)?.strip_prefix('_')?;
        let (body, suffix) = [JOURNAL, IN_PROGRESS, UPLOADED, FINISHED]
            .into_iter()
            .find_map(|suffix| rest.strip_suffix(suffix).map(|body| (body, suffix)))?;
        let stamp = parse_stamp(body)?;
        let stem = name[..name.len() - suffix.len()].to_owned();
        Some((stem, suffix, stamp))
    }

    /// The next free name for a file opened at `now`: never an existing finished, in-progress or
    /// journal file, and sorting after every name handed out or seen before.
    pub fn next(&mut self, now: SystemTime) -> FileName {
        let now_secs = match now.duration_since(UNIX_EPOCH) {
            Ok(d) => d.as_secs() as i64,
            Err(_) => 0,
        };
        let mut candidate = match self.last {
            Some((secs, nnn)) if secs >= now_secs => {
                if nnn >= 999 {
                    (secs + 1, 0)
                } else {
                    (secs, nnn + 1)
                }
            }
            _ => (now_secs, 0),
        };
        loop {
            let name = FileName {
                dir: self.dir.clone(),
                stem: format!("{}_{}_{:03}", self.prefix, stamp(candidate.0), candidate.1),
            };
            self.last = Some(candidate);
            let taken = [
                name.finished(),
                name.in_progress(),
                name.journal(),
                name.uploaded(),
            ]
            .iter()
            .any(|p| fs::symlink_metadata(p).is_ok());
            if !taken {
                return name;
            }
            candidate = if candidate.1 >= 999 {
                (candidate.0 + 1, 0)
            } else {
                (candidate.0, candidate.1 + 1)
            };
        }
    }
}

/// `YYYYMMDD_HHMMSS_NNN` into (seconds since the epoch, NNN).
fn parse_stamp(body: &str) -> Option<(i64, u32)> {
    let bytes = body.as_bytes();
    if bytes.len() < 19 || bytes[8] != b'_' || bytes[15] != b'_' {
        return None;
    }
    let digits = |range: std::ops::Range<usize>| -> Option<i64> {
        let s = body.get(range)?;
        s.bytes()
            .all(|b| b.is_ascii_digit())
            .then(|| s.parse().ok())?
    };
    let (y, mo, d) = (digits(0..4)?, digits(4..6)?, digits(6..8)?);
    let (h, mi, s) = (digits(9..11)?, digits(11..13)?, digits(13..15)?);
    let nnn = digits(16..body.len())?;
    let secs = days_from_civil(y, mo as u32, d as u32) * 86_400 + h * 3600 + mi * 60 + s;
    Some((secs, u32::try_from(nnn).ok()?))
}

/// `YYYYMMDD_HHMMSS` for `secs` since the epoch, UTC.
fn stamp(secs: i64) -> String {
    let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
    let s = secs.rem_euclid(86_400);
    format!(
        "{y:04}{m:02}{d:02}_{:02}{:02}{:02}",
        s / 3600,
        s / 60 % 60,
        s % 60
    )
}

/// Days since 1970-01-01 of a Gregorian date (Howard Hinnant's `days_from_civil`).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = (i64::from(month) + 9) % 12;
    let doy = (153 * mp + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The error of a name taken by a recovering sink.
pub(crate) fn claimed() -> io::Error {
    io::Error::new(
        io::ErrorKind::AlreadyExists,
        "claimed by another sink's recovery before it was locked",
    )
}

/// An `.inprogress` file under its exclusive lock: while this handle is open no other sink
/// reports the file as a crashed writer's. Never written through: a live sink's Parquet writer
/// writes through a duplicate of it (same open file description, so the same lock), which may
/// be closed first.
#[derive(Debug)]
pub(crate) struct InProgressLock(File);

impl InProgressLock {
    /// The locked file's length.
    pub(crate) fn len(&self) -> io::Result<u64> {
        Ok(self.0.metadata()?.len())
    }
}

/// Creates the `.inprogress` file `path` (which must not exist) and locks it; returns the file
/// for the writer and the lock, which the sink keeps until the finished file is renamed.
///
/// # Errors
/// Kind `AlreadyExists` when the name is taken: another sink created the file first, or claimed
/// it for recovery in the moment between its creation and its lock (that sink removes it, as
/// empty). The caller tries another name, leaving the file alone.
pub(crate) fn create_in_progress(path: &Path) -> io::Result<(File, InProgressLock)> {
    let file = OpenOptions::new().write(true).create_new(true).open(path)?;
    match lock_exclusive(&file).and_then(|()| is_at(&file, path)) {
        Ok(true) => {}
        Ok(false) => return Err(claimed()),
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Err(claimed()),
        Err(e) => {
            let _ = fs::remove_file(path);
            return Err(io::Error::new(e.kind(), format!("locking: {e}")));
        }
    }
    match file.try_clone() {
        Ok(writer) => Ok((writer, InProgressLock(file))),
        Err(e) => {
            let _ = fs::remove_file(path);
            Err(e)
        }
    }
}

/// Takes the `.inprogress` file at `path`, listed without a journal, for recovery: opens it and
/// takes its lock without waiting. `Ok(None)` when it is not a leftover: its sink is alive
/// (holds the lock), or finished or removed it since `path` was listed.
pub(crate) fn claim_in_progress(path: &Path) -> io::Result<Option<InProgressLock>> {
    // Opened for writing, as a journal is claimed: where `flock` is emulated with POSIX locks
    // (NFS), an exclusive lock needs a descriptor open for writing.
    let file = match OpenOptions::new().read(true).write(true).open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    match lock_exclusive(&file).and_then(|()| is_at(&file, path)) {
        Ok(true) => Ok(Some(InProgressLock(file))),
        Ok(false) => Ok(None),
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(None),
        Err(e) => Err(e),
    }
}

/// True when `path` is a Parquet file whose footer reads.
pub(crate) fn is_complete_parquet(path: &Path) -> bool {
    let Ok(file) = fs::File::open(path) else {
        return false;
    };
    parquet::file::reader::SerializedFileReader::new(file).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn stamps_round_trip_through_parse() {
        let namer = Namer::new(Path::new("/tmp/x/app")).unwrap();
        for secs in [0i64, 951_782_400, 1_795_780_800, 4_102_444_799] {
            let name = format!("app_{}_007.parquet", stamp(secs));
            let (stem, suffix, parsed) = namer.parse(&name).unwrap();
            assert_eq!(parsed, (secs, 7), "{name}");
            assert_eq!(suffix, FINISHED);
            assert_eq!(format!("{stem}{suffix}"), name);
        }
        assert_eq!(stamp(1_795_780_800), "20261127_120000");
        assert!(namer
            .parse("app_20261127_120000_000.parquet.journal")
            .is_some());
        assert!(namer.parse("app_20261127_120000_000.json").is_none());
        assert!(namer.parse("apx_20261127_120000_000.parquet").is_none());
        assert!(namer.parse("app_2026112_120000_000.parquet").is_none());
    }

    #[test]
    fn names_sort_in_hand_out_order_even_when_the_clock_steps_back() {
        let dir = tempfile::tempdir().unwrap();
        let mut namer = Namer::new(&dir.path().join("app")).unwrap();
        let t0 = UNIX_EPOCH + Duration::from_secs(1_795_780_800);
        let times = [
            t0,
            t0,
            t0 + Duration::from_secs(5),
            t0 + Duration::from_secs(2), // clock stepped back
            t0 + Duration::from_secs(9),
        ];
        let names: Vec<String> = times.iter().map(|&t| namer.next(t).stem).collect();
        let mut sorted = names.clone();
        sorted.sort();
        assert_eq!(names, sorted);
        assert_eq!(names[0], "app_20261127_120000_000");
        assert_eq!(names[1], "app_20261127_120000_001");
        assert_eq!(names[3], "app_20261127_120005_001");
    }
}
