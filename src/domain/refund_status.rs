//! A refund's status: Stripe's refund statuses, which orderpay's refund
//! rows keep as Stripe last answered them (`pending` from the moment the
//! row reserves its amount until Stripe answers).

use std::fmt;
use std::str::FromStr;

use super::unknown_name::{find_named, UnknownName};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RefundStatus {
    Pending,
    /// Stripe needs the customer to act before it can send the money.
    RequiresAction,
    Succeeded,
    Failed,
    Canceled,
}

impl RefundStatus {
    pub const ALL: [RefundStatus; 5] = [
        RefundStatus::Pending,
        RefundStatus::RequiresAction,
        RefundStatus::Succeeded,
        RefundStatus::Failed,
        RefundStatus::Canceled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RefundStatus::Pending => "pending",
            RefundStatus::RequiresAction => "requires_action",
            RefundStatus::Succeeded => "succeeded",
            RefundStatus::Failed => "failed",
            RefundStatus::Canceled => "canceled",
        }
    }

    /// Stripe's `status` of a refund it answered. Stripe leaves it out on
    /// old API versions, where a refund it answers has been made; a status
    /// added after this version is `None`, for the caller to decide.
    pub fn from_stripe(status: Option<&str>, when_absent: RefundStatus) -> Option<RefundStatus> {
        match status {
            None => Some(when_absent),
            Some(text) => text.parse().ok(),
        }
    }
}

impl fmt::Display for RefundStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for RefundStatus {
    type Err = UnknownName;

    fn from_str(s: &str) -> Result<Self, UnknownName> {
        find_named("refund status", &RefundStatus::ALL, RefundStatus::as_str, s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for status in RefundStatus::ALL {
            assert_eq!(status.as_str().parse(), Ok(status));
        }
        assert_eq!(
            "refunded".parse::<RefundStatus>(),
            Err(UnknownName::new("refund status", "refunded"))
        );
    }

    #[test]
    fn stripe_answers_are_read_by_name() {
        use RefundStatus::*;
        assert_eq!(
            RefundStatus::from_stripe(Some("failed"), Pending),
            Some(Failed)
        );
        assert_eq!(RefundStatus::from_stripe(None, Succeeded), Some(Succeeded));
        assert_eq!(RefundStatus::from_stripe(Some("reversed"), Pending), None);
    }
}
