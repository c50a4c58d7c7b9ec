//! Fault injection: make the next calls fail (before or inside execution),
//! hang, or succeed without an answer, once or for as long as the plan stands.

use std::time::Duration;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// What to do to the next matching `/v1` calls. Counters run down as calls
/// arrive; failures are taken first, then failures inside execution, then
/// hangs, then dropped answers, then the sustained `drop_all`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct FaultPlan {
    /// Answer this many calls with `fail_status` (500 by default, or 429),
    /// before doing anything: nothing is applied, nothing is kept for replay.
    pub fail_next: u32,
    pub fail_status: Option<u16>,
    /// Apply this many calls, then answer 500 `api_error` instead of the
    /// result. Stripe keeps that 500 under the call's Idempotency-Key and
    /// replays it, so a retry with the same key gets the 500 again.
    pub fail_inside_next: u32,
    /// Sleep `delay_ms` before handling this many calls (a client with a
    /// shorter timeout gives up; the call is still applied afterwards).
    pub hang_next: u32,
    /// Apply this many calls, then sleep `delay_ms` before answering: the
    /// client times out without learning the result.
    pub drop_next: u32,
    /// A sustained outage of answers: every matching call is applied and its
    /// answer dropped (after `delay_ms`) until the plan is replaced, so every
    /// retry is lost too.
    pub drop_all: bool,
    pub delay_ms: Option<u64>,
    /// Only calls whose path (after `/v1/`) starts with this are affected.
    pub path_prefix: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    Fail(u16),
    FailInside,
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
        if self.fail_inside_next > 0 {
            self.fail_inside_next -= 1;
            return Some(Fault::FailInside);
        }
        if self.hang_next > 0 {
            self.hang_next -= 1;
            return Some(Fault::Hang(self.delay()));
        }
        if self.drop_next > 0 {
            self.drop_next -= 1;
            return Some(Fault::Drop(self.delay()));
        }
        if self.drop_all {
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
            fail_inside_next: 1,
            hang_next: 1,
            drop_next: 1,
            delay_ms: Some(10),
            ..Default::default()
        };
        assert_eq!(plan.take("payment_intents"), Some(Fault::Fail(500)));
        assert_eq!(plan.take("payment_intents"), Some(Fault::FailInside));
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
    fn drop_all_lasts_until_the_plan_is_replaced() {
        let mut plan = FaultPlan {
            drop_all: true,
            delay_ms: Some(10),
            ..Default::default()
        };
        for _ in 0..20 {
            assert_eq!(
                plan.take("refunds"),
                Some(Fault::Drop(Duration::from_millis(10)))
            );
        }
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
