//! Capture time. All timeouts in Periscope run on capture time, never wall-clock time, so
//! that replaying a file gives the same answer as watching the traffic live.

use serde::{Serialize, Serializer};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Nanoseconds since the Unix epoch, as read from the capture.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(pub u64);

impl Timestamp {
    /// Builds a timestamp from seconds and nanoseconds.
    pub fn from_secs_nanos(secs: u64, nanos: u32) -> Self {
        Timestamp(
            secs.saturating_mul(1_000_000_000)
                .saturating_add(u64::from(nanos)),
        )
    }

    /// Nanoseconds since the epoch.
    pub fn as_nanos(self) -> u64 {
        self.0
    }

    /// `self + d`, saturating.
    pub fn plus(self, d: Duration) -> Self {
        Timestamp(
            self.0
                .saturating_add(d.as_nanos().min(u128::from(u64::MAX)) as u64),
        )
    }

    /// Time from `earlier` to `self`; zero when `earlier` is later (captures are not always sorted).
    pub fn since(self, earlier: Timestamp) -> Duration {
        Duration::from_nanos(self.0.saturating_sub(earlier.0))
    }

    /// RFC 3339 in UTC with microseconds, e.g. `2026-11-25T16:45:46.123456Z`.
    pub fn to_rfc3339(self) -> String {
        let t = UNIX_EPOCH + Duration::from_nanos(self.0);
        humantime::format_rfc3339_micros(t).to_string()
    }
}

impl From<SystemTime> for Timestamp {
    fn from(t: SystemTime) -> Self {
        Timestamp(
            t.duration_since(UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64)
                .unwrap_or(0),
        )
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_rfc3339())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_rfc3339() {
        let t = Timestamp::from_secs_nanos(1_700_000_000, 123_456_789);
        assert_eq!(t.to_rfc3339(), "2023-11-14T22:13:20.123456Z");
    }

    #[test]
    fn since_saturates() {
        let a = Timestamp(10);
        let b = Timestamp(5);
        assert_eq!(b.since(a), Duration::ZERO);
        assert_eq!(a.since(b), Duration::from_nanos(5));
    }
}
