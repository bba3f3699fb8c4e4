//! Timestamps. The calling thread reads raw ticks as cheaply as the platform allows (`rdtsc` on
//! x86-64 with an invariant TSC); the drain thread turns ticks into wall-clock nanoseconds with a
//! calibration it keeps refining. Elsewhere the calling thread reads the wall clock directly and
//! marks the record so the drain does not convert it.

use std::sync::OnceLock;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Wall-clock nanoseconds since the Unix epoch (negative before 1970).
pub fn wall_now_ns() -> i64 {
    system_time_to_ns(SystemTime::now())
}

/// Converts a `SystemTime` to nanoseconds since the epoch, saturating far outside ±292 years.
pub fn system_time_to_ns(t: SystemTime) -> i64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_nanos()).unwrap_or(i64::MAX),
        Err(e) => i64::try_from(e.duration().as_nanos()).map_or(i64::MIN, |ns| -ns),
    }
}

/// Whether this process stamps records with TSC ticks. Decided once: x86-64 with `constant_tsc`
/// and `nonstop_tsc` (the TSC runs at a fixed rate in every power state), unless the environment
/// variable `ASYNCLOG_CLOCK=wall` forces the portable path.
pub fn tsc_usable() -> bool {
    static USABLE: OnceLock<bool> = OnceLock::new();
    *USABLE.get_or_init(|| {
        if std::env::var("ASYNCLOG_CLOCK").is_ok_and(|v| v == "wall") {
            return false;
        }
        cfg!(target_arch = "x86_64")
            && std::fs::read_to_string("/proc/cpuinfo").is_ok_and(|info| {
                info.split_whitespace().any(|w| w == "constant_tsc")
                    && info.split_whitespace().any(|w| w == "nonstop_tsc")
            })
    })
}

/// Reads the TSC. Only meaningful where `tsc_usable` is true.
#[inline(always)]
pub fn read_tsc() -> u64 {
    #[cfg(target_arch = "x86_64")]
    {
        // SAFETY: `rdtsc` has no preconditions on x86-64; it reads a counter and nothing else.
        unsafe { core::arch::x86_64::_rdtsc() }
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        wall_now_ns() as u64
    }
}

/// A (ticks, wall ns) pair read as close together as we can manage.
#[derive(Debug, Clone, Copy)]
struct Sample {
    ticks: u64,
    wall_ns: i64,
}

impl Sample {
    /// Takes the tightest of a few tsc/wall/tsc sandwiches, pairing the wall reading with the
    /// midpoint of its two tick readings.
    fn take() -> Sample {
        let mut best = (
            u64::MAX,
            Sample {
                ticks: 0,
                wall_ns: 0,
            },
        );
        for _ in 0..5 {
            let before = read_tsc();
            let wall_ns = wall_now_ns();
            let after = read_tsc();
            let gap = after.wrapping_sub(before);
            if gap < best.0 {
                best = (
                    gap,
                    Sample {
                        ticks: before + gap / 2,
                        wall_ns,
                    },
                );
            }
        }
        best.1
    }
}

/// Nanoseconds per tick, measured once per process over a few milliseconds; each converter
/// refines it afterwards over a longer baseline.
fn initial_ns_per_tick() -> f64 {
    static ESTIMATE: OnceLock<f64> = OnceLock::new();
    *ESTIMATE.get_or_init(|| {
        let start = Sample::take();
        let spin_until = Instant::now() + Duration::from_millis(5);
        while Instant::now() < spin_until {
            std::hint::spin_loop();
        }
        let end = Sample::take();
        ns_per_tick_between(start, end).unwrap_or(1.0)
    })
}

fn ns_per_tick_between(from: Sample, to: Sample) -> Option<f64> {
    let ticks = to.ticks.checked_sub(from.ticks)? as f64;
    let ns = (to.wall_ns - from.wall_ns) as f64;
    (ticks > 0.0 && ns > 0.0).then(|| ns / ticks)
}

/// How often the drain re-anchors ticks to the wall clock.
const RECALIBRATE_EVERY: Duration = Duration::from_millis(50);

/// Turns TSC ticks into wall-clock nanoseconds. Owned by the drain thread.
#[derive(Debug)]
pub struct TickConverter {
    /// Where the long baseline for the rate starts.
    origin: Sample,
    /// The most recent sample; conversions are linear from here.
    anchor: Sample,
    ns_per_tick: f64,
    initial_ns_per_tick: f64,
    last_sample: Instant,
}

impl Default for TickConverter {
    fn default() -> Self {
        Self::new()
    }
}

impl TickConverter {
    /// Calibrates (the first converter in a process spends about 5 ms doing so).
    pub fn new() -> TickConverter {
        let ns_per_tick = initial_ns_per_tick();
        let now = Sample::take();
        TickConverter {
            origin: now,
            anchor: now,
            ns_per_tick,
            initial_ns_per_tick: ns_per_tick,
            last_sample: Instant::now(),
        }
    }

    /// Wall-clock ns for a tick reading taken on any core of this machine.
    #[inline]
    pub fn to_wall_ns(&self, ticks: u64) -> i64 {
        let delta = ticks.wrapping_sub(self.anchor.ticks) as i64;
        self.anchor.wall_ns + (delta as f64 * self.ns_per_tick) as i64
    }

    /// Re-anchors to the wall clock and refines the rate if the last sample is old enough.
    pub fn maybe_recalibrate(&mut self) {
        if self.last_sample.elapsed() >= RECALIBRATE_EVERY {
            self.recalibrate();
        }
    }

    /// As if the wall clock had been stepped by `ns` and a recalibration had noticed: the
    /// conversion re-anchors to the stepped clock.
    #[cfg(test)]
    pub(crate) fn step_wall_clock(&mut self, ns: i64) {
        self.recalibrate();
        self.anchor.wall_ns += ns;
        self.origin = self.anchor;
    }

    fn recalibrate(&mut self) {
        let now = Sample::take();
        self.last_sample = Instant::now();
        match ns_per_tick_between(self.origin, now) {
            // A rate far from the first estimate means the wall clock was stepped (NTP, an
            // operator): start a new baseline rather than believe it.
            Some(rate) if (rate / self.initial_ns_per_tick - 1.0).abs() < 0.01 => {
                self.ns_per_tick = rate;
            }
            _ => self.origin = now,
        }
        self.anchor = now;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converted_ticks_match_the_wall_clock() {
        if !tsc_usable() {
            return; // The portable path stamps wall-clock ns directly; nothing to convert.
        }
        let mut conv = TickConverter::new();
        for _ in 0..6 {
            std::thread::sleep(Duration::from_millis(60));
            conv.maybe_recalibrate();
            let before = wall_now_ns();
            let ticks = read_tsc();
            let after = wall_now_ns();
            let converted = conv.to_wall_ns(ticks);
            // Within 200 µs of the bracketing wall-clock reads.
            assert!(
                converted >= before - 200_000 && converted <= after + 200_000,
                "converted {converted} outside [{before}, {after}] ± 200us"
            );
        }
        // A rate of roughly 0.1 to 10 ns per tick (0.1 to 10 GHz).
        assert!(conv.ns_per_tick > 0.1 && conv.ns_per_tick < 10.0);
    }

    #[test]
    fn ticks_taken_before_the_anchor_convert_to_earlier_times() {
        if !tsc_usable() {
            return;
        }
        let early = read_tsc();
        let early_wall = wall_now_ns();
        std::thread::sleep(Duration::from_millis(60));
        let mut conv = TickConverter::new();
        conv.recalibrate();
        let converted = conv.to_wall_ns(early);
        assert!(
            (converted - early_wall).abs() < 1_000_000,
            "{converted} vs {early_wall}"
        );
    }

    #[test]
    fn system_time_before_the_epoch_is_negative() {
        let t = UNIX_EPOCH - Duration::from_nanos(1_500);
        assert_eq!(system_time_to_ns(t), -1_500);
        assert_eq!(
            system_time_to_ns(UNIX_EPOCH + Duration::from_secs(2)),
            2_000_000_000
        );
    }
}
