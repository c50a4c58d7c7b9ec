//! Fault injection: make the next calls fail, hang, or succeed without an answer.

use std::time::Duration;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// What to do to the next matching `/v1` calls. Counters run down as calls
/// arrive; failures are taken first, then hangs, then dropped answers.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct FaultPlan {
    /// Answer this many calls with `fail_status` (500 by default, or 429),
    /// before doing anything: nothing is applied, nothing is kept for replay.
    pub fail_next: u32,
    pub fail_status: Option<u16>,
    /// Sleep `delay_ms` before handling this many calls (a client with a
    /// shorter timeout gives up; the call is still applied afterwards).
    pub hang_next: u32,
    /// Apply this many calls, then sleep `delay_ms` before answering: the
    /// client times out without learning the result.
    pub drop_next: u32,
    pub delay_ms: Option<u64>,
    /// Only calls whose path (after `/v1/`) starts with this are affected.
    pub path_prefix: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    Fail(u16),
    Hang(Duration),
    Drop(Duration),
}

impl FaultPlan {
    fn delay(&self) -> Duration {
        Duration::from_millis(self.delay_ms.unwrap_or(5_000))
    }

    pub fn take(&mut self, path: &str) -> Option<Fault> {
        if let Some(prefix) = &self.path_prefix {
            if !path.starts_with(prefix.as_str()) {
                return None;
            }
        }
        if self.fail_next > 0 {
            self.fail_next -= 1;
            return Some(Fault::Fail(self.fail_status.unwrap_or(500)));
        }
        if self.hang_next > 0 {
            self.hang_next -= 1;
            return Some(Fault::Hang(self.delay()));
        }
        if self.drop_next > 0 {
            self.drop_next -= 1;
            return Some(Fault::Drop(self.delay()));
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_run_down_in_order() {
        let mut plan = FaultPlan {
            fail_next: 1,
            hang_next: 1,
            drop_next: 1,
            delay_ms: Some(10),
            ..Default::default()
        };
        assert_eq!(plan.take("payment_intents"), Some(Fault::Fail(500)));
        assert_eq!(
            plan.take("payment_intents"),
            Some(Fault::Hang(Duration::from_millis(10)))
        );
        assert_eq!(
            plan.take("payment_intents"),
            Some(Fault::Drop(Duration::from_millis(10)))
        );
        assert_eq!(plan.take("payment_intents"), None);
    }

    #[test]
    fn a_prefix_limits_the_calls_affected() {
        let mut plan = FaultPlan {
            fail_next: 1,
            fail_status: Some(429),
            path_prefix: Some("refunds".into()),
            ..Default::default()
        };
        assert_eq!(plan.take("payment_intents"), None);
        assert_eq!(plan.take("refunds"), Some(Fault::Fail(429)));
    }
}
