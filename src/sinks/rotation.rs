//! Time for the file sinks: the [`Clock`] both sinks read (for time rotation and for the time
//! in new file names), and [`Rotation`], how often a sink starts a new file by time. The two
//! sinks use them the same way; only the names of the files they finish differ (see
//! [`FileSinkConfig`](crate::sinks::file::FileSinkConfig) and `ParquetSinkConfig`).

use std::fmt;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

/// Where a sink reads the time for time rotation and for the time in new file names. Tests
/// inject a [`ManualClock`]; the default is [`SystemClock`].
pub trait Clock: Send + Sync + fmt::Debug {
    /// The current wall-clock time.
    fn now(&self) -> SystemTime;
}

impl<C: Clock + ?Sized> Clock for Arc<C> {
    fn now(&self) -> SystemTime {
        (**self).now()
    }
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
/// use asynclog::sinks::{Clock, ManualClock};
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

/// How often a sink starts a new file by time, in the style of `tracing-appender`'s
/// `Rotation`. Periods are aligned to the Unix epoch in UTC: `HOURLY` rotates at the top of
/// every hour, `DAILY` at midnight UTC, `Rotation::every(Duration::from_secs(300))` at :00,
/// :05, :10 and so on. The check happens when a batch is written, so a quiet logger does not
/// create empty files (the Parquet sink also checks at every flush).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
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

/// The shortest [`Rotation`] period a sink accepts.
pub const MIN_ROTATION_PERIOD: Duration = Duration::from_millis(1);

/// Checks the rotation options every sink shares; the error is the field and why.
pub(crate) fn validate(
    rotation: Rotation,
    max_bytes: Option<u64>,
) -> Result<(), (&'static str, String)> {
    if rotation.period().is_some_and(|p| p < MIN_ROTATION_PERIOD) {
        return Err(("rotation", "period must be at least 1 ms".to_owned()));
    }
    if max_bytes == Some(0) {
        return Err((
            "max_bytes",
            "must be at least 1 (`None` turns size rotation off)".to_owned(),
        ));
    }
    Ok(())
}

/// The setters of the options both file sinks share (`path`, `rotation`, `max_bytes`,
/// `max_files`, `clock`, `name`), written once so that the two configs keep one vocabulary.
/// Used inside `impl FileSinkConfig` and `impl ParquetSinkConfig`.
macro_rules! file_sink_setters {
    () => {
        /// Sets [`path`](Self::path).
        #[must_use]
        pub fn with_path(mut self, path: impl Into<std::path::PathBuf>) -> Self {
            self.path = path.into();
            self
        }

        /// Sets [`rotation`](Self::rotation).
        #[must_use]
        pub fn with_rotation(mut self, rotation: $crate::sinks::Rotation) -> Self {
            self.rotation = rotation;
            self
        }

        /// Sets [`max_bytes`](Self::max_bytes) to `Some(max_bytes)`.
        #[must_use]
        pub fn with_max_bytes(mut self, max_bytes: u64) -> Self {
            self.max_bytes = Some(max_bytes);
            self
        }

        /// Sets [`max_files`](Self::max_files) to `Some(max_files)`.
        #[must_use]
        pub fn with_max_files(mut self, max_files: usize) -> Self {
            self.max_files = Some(max_files);
            self
        }

        /// Sets [`clock`](Self::clock).
        #[must_use]
        pub fn with_clock(mut self, clock: impl $crate::sinks::Clock + 'static) -> Self {
            self.clock = std::sync::Arc::new(clock);
            self
        }

        /// Sets [`name`](Self::name).
        #[must_use]
        pub fn with_name(mut self, name: impl Into<String>) -> Self {
            self.name = Some(name.into());
            self
        }
    };
}
pub(crate) use file_sink_setters;

#[cfg(test)]
mod tests {
    use super::*;

    const T: i64 = 1_795_780_800_123_456_789; // 2026-11-27T12:00:00.123456789Z

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
