//! The simulator's clock: wall-clock time plus an offset that a test control
//! (`POST /_sim/clock`) moves forward, so 24-hour Idempotency-Key expiry and
//! the `created` of new objects can be tested without waiting a day.
//! Webhook signatures keep real time: orderpay checks them against its own.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

/// Ten years: far beyond any expiry the simulator models.
pub const MAX_ADVANCE_SECS: u32 = 10 * 365 * 86_400;

#[derive(Debug, Clone, Default)]
pub struct Clock {
    offset_secs: Arc<AtomicI64>,
}

impl Clock {
    /// Unix seconds as the simulator sees them.
    pub fn now(&self) -> i64 {
        chrono::Utc::now().timestamp() + self.offset_secs.load(Ordering::SeqCst)
    }

    /// Moves the clock forward (never back: Stripe's time does not rewind),
    /// by at most `MAX_ADVANCE_SECS` per call so the offset cannot overflow.
    pub fn advance(&self, secs: u32) -> i64 {
        let secs = i64::from(secs.min(MAX_ADVANCE_SECS));
        self.offset_secs.fetch_add(secs, Ordering::SeqCst);
        self.now()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clones_share_one_clock_that_only_moves_forward() {
        let clock = Clock::default();
        let shared = clock.clone();
        let before = clock.now();
        let moved = shared.advance(86_400);
        assert!(moved >= before + 86_400);
        assert!(clock.now() >= before + 86_400);
    }
}
