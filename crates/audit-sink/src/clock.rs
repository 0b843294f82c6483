//! Where the writer's idea of "now" comes from.

use std::fmt;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use audit_core::Timestamp;

/// The time source of the file sink: it decides the day of the active file, when the day rolls
/// over and how old a rotated file is.
///
/// The system clock is the default; tests inject a [`ManualClock`] so that midnight, size and
/// clock-step behaviour is exact rather than a matter of timing.
pub trait Clock: Send + Sync + fmt::Debug {
    /// The current instant.
    fn now(&self) -> Timestamp;
}

/// The system's wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp::now()
    }
}

/// A clock that only moves when told to, forwards or backwards.
///
/// ```
/// use std::time::Duration;
/// use audit_core::Timestamp;
/// use audit_sink::{Clock, ManualClock};
///
/// let clock = ManualClock::new(Timestamp::parse("2026-12-03T23:59:59.999Z").unwrap());
/// clock.advance(Duration::from_millis(1));
/// assert_eq!(clock.now().utc_date(), "2026-12-04");
/// ```
#[derive(Debug)]
pub struct ManualClock {
    millis: AtomicI64,
}

impl ManualClock {
    /// A clock standing at `start`.
    pub fn new(start: Timestamp) -> ManualClock {
        ManualClock { millis: AtomicI64::new(start.as_unix_millis()) }
    }

    /// Moves the clock to `instant`, which may lie in the past.
    pub fn set(&self, instant: Timestamp) {
        self.millis.store(instant.as_unix_millis(), Ordering::SeqCst);
    }

    /// Moves the clock forwards by `step`.
    pub fn advance(&self, step: Duration) {
        let step = i64::try_from(step.as_millis()).unwrap_or(i64::MAX);
        self.millis.fetch_add(step, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        let millis = self.millis.load(Ordering::SeqCst);
        // A manual clock moved out of the years 0000 to 9999 stays at the nearest end, which is
        // as far as a log line can spell.
        Timestamp::from_unix_millis(millis).unwrap_or(if millis < 0 {
            Timestamp::UNIX_EPOCH
        } else {
            Timestamp::parse("9999-12-31T23:59:59.999Z").unwrap_or(Timestamp::UNIX_EPOCH)
        })
    }
}
