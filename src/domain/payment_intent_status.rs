//! A Stripe PaymentIntent's status: what Stripe answers, and what orderpay
//! keeps of it on each payment attempt (its last-seen status, for payment
//! listings and for knowing which PaymentIntents can still change).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::unknown_name::{find_named, UnknownName};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PaymentIntentStatus {
    RequiresPaymentMethod,
    RequiresConfirmation,
    RequiresAction,
    Processing,
    RequiresCapture,
    Canceled,
    Succeeded,
    /// A status this version of orderpay does not know: never treated as paid.
    /// Stored as `unknown` when Stripe answers one.
    #[serde(other)]
    Unknown,
}

impl PaymentIntentStatus {
    pub const ALL: [PaymentIntentStatus; 8] = [
        PaymentIntentStatus::RequiresPaymentMethod,
        PaymentIntentStatus::RequiresConfirmation,
        PaymentIntentStatus::RequiresAction,
        PaymentIntentStatus::Processing,
        PaymentIntentStatus::RequiresCapture,
        PaymentIntentStatus::Canceled,
        PaymentIntentStatus::Succeeded,
        PaymentIntentStatus::Unknown,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            PaymentIntentStatus::RequiresPaymentMethod => "requires_payment_method",
            PaymentIntentStatus::RequiresConfirmation => "requires_confirmation",
            PaymentIntentStatus::RequiresAction => "requires_action",
            PaymentIntentStatus::Processing => "processing",
            PaymentIntentStatus::RequiresCapture => "requires_capture",
            PaymentIntentStatus::Canceled => "canceled",
            PaymentIntentStatus::Succeeded => "succeeded",
            PaymentIntentStatus::Unknown => "unknown",
        }
    }

    /// Succeeded or canceled: nothing changes at Stripe after these, so a
    /// PaymentIntent last seen so needs no more looking at.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            PaymentIntentStatus::Succeeded | PaymentIntentStatus::Canceled
        )
    }
}

impl fmt::Display for PaymentIntentStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The stored text back (`unknown` included: it is what an unknown answer
/// was stored as); any other text is an error.
impl FromStr for PaymentIntentStatus {
    type Err = UnknownName;

    fn from_str(s: &str) -> Result<Self, UnknownName> {
        find_named(
            "PaymentIntent status",
            &PaymentIntentStatus::ALL,
            PaymentIntentStatus::as_str,
            s,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_as_text_and_json() {
        for status in PaymentIntentStatus::ALL {
            assert_eq!(status.as_str().parse(), Ok(status));
            let json = serde_json::to_string(&status).unwrap();
            assert_eq!(json, format!("\"{status}\""));
        }
        assert_eq!(
            "paid".parse::<PaymentIntentStatus>(),
            Err(UnknownName::new("PaymentIntent status", "paid"))
        );
    }

    #[test]
    fn a_status_stripe_adds_later_reads_as_unknown_from_json() {
        let read: PaymentIntentStatus = serde_json::from_str("\"requires_magic\"").unwrap();
        assert_eq!(read, PaymentIntentStatus::Unknown);
    }

    #[test]
    fn only_succeeded_and_canceled_are_final() {
        let finals: Vec<_> = PaymentIntentStatus::ALL
            .into_iter()
            .filter(|status| status.is_final())
            .collect();
        assert_eq!(
            finals,
            [
                PaymentIntentStatus::Canceled,
                PaymentIntentStatus::Succeeded
            ]
        );
    }
}
