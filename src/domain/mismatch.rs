//! Why a PaymentIntent could not pay its order, and what became of the
//! automatic refund of money it took anyway. Both are recorded with the
//! mismatch (`payment_mismatches`) and shown to operators as these names.

use std::fmt;
use std::str::FromStr;

use super::unknown_name::{find_named, UnknownName};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MismatchReason {
    /// Its `metadata.order_id` is not the order's.
    MetadataMismatch,
    /// It has not succeeded: answered to the callback, never recorded.
    PaymentNotSucceeded,
    CurrencyMismatch,
    AmountMismatch,
    /// It succeeded for an order that can no longer be paid (canceled).
    OrderNotPayable,
    /// It succeeded for an order another PaymentIntent had already paid.
    DuplicatePayment,
}

impl MismatchReason {
    pub const ALL: [MismatchReason; 6] = [
        MismatchReason::MetadataMismatch,
        MismatchReason::PaymentNotSucceeded,
        MismatchReason::CurrencyMismatch,
        MismatchReason::AmountMismatch,
        MismatchReason::OrderNotPayable,
        MismatchReason::DuplicatePayment,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            MismatchReason::MetadataMismatch => "metadata_mismatch",
            MismatchReason::PaymentNotSucceeded => "payment_not_succeeded",
            MismatchReason::CurrencyMismatch => "currency_mismatch",
            MismatchReason::AmountMismatch => "amount_mismatch",
            MismatchReason::OrderNotPayable => "order_not_payable",
            MismatchReason::DuplicatePayment => "duplicate_payment",
        }
    }

    /// Whether money taken for this reason cannot pay the order and is to
    /// be given back (the reasons `checkout::stray` refunds). A metadata
    /// mismatch is not: the PaymentIntent may be another order's.
    pub fn is_stray_money(self) -> bool {
        matches!(
            self,
            MismatchReason::OrderNotPayable
                | MismatchReason::DuplicatePayment
                | MismatchReason::AmountMismatch
                | MismatchReason::CurrencyMismatch
        )
    }

    /// The reasons whose money is refunded, for the `IN (...)` of a query.
    pub fn stray_money() -> Vec<MismatchReason> {
        MismatchReason::ALL
            .into_iter()
            .filter(|reason| reason.is_stray_money())
            .collect()
    }
}

impl fmt::Display for MismatchReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for MismatchReason {
    type Err = UnknownName;

    fn from_str(s: &str) -> Result<Self, UnknownName> {
        find_named(
            "mismatch reason",
            &MismatchReason::ALL,
            MismatchReason::as_str,
            s,
        )
    }
}

/// What became of the automatic refund of a mismatch's money. No value at
/// all (NULL) means it is still to be made, or to be made again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StrayRefundStatus {
    /// Stripe answered the refund `pending`: the sweep reads it until it settles.
    Pending,
    Refunded,
    /// Automatic refunds are off: an operator decides.
    NotRefunded,
}

impl StrayRefundStatus {
    pub const ALL: [StrayRefundStatus; 3] = [
        StrayRefundStatus::Pending,
        StrayRefundStatus::Refunded,
        StrayRefundStatus::NotRefunded,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            StrayRefundStatus::Pending => "pending",
            StrayRefundStatus::Refunded => "refunded",
            StrayRefundStatus::NotRefunded => "not_refunded",
        }
    }
}

impl fmt::Display for StrayRefundStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for StrayRefundStatus {
    type Err = UnknownName;

    fn from_str(s: &str) -> Result<Self, UnknownName> {
        find_named(
            "stray refund status",
            &StrayRefundStatus::ALL,
            StrayRefundStatus::as_str,
            s,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_round_trip_their_names() {
        for reason in MismatchReason::ALL {
            assert_eq!(reason.as_str().parse(), Ok(reason));
        }
        assert_eq!(
            "wrong_amount".parse::<MismatchReason>(),
            Err(UnknownName::new("mismatch reason", "wrong_amount"))
        );
    }

    #[test]
    fn money_is_refunded_for_four_reasons() {
        let names: Vec<&str> = MismatchReason::stray_money()
            .into_iter()
            .map(MismatchReason::as_str)
            .collect();
        assert_eq!(
            names,
            [
                "currency_mismatch",
                "amount_mismatch",
                "order_not_payable",
                "duplicate_payment"
            ]
        );
    }

    #[test]
    fn stray_refund_statuses_round_trip_their_names() {
        for status in StrayRefundStatus::ALL {
            assert_eq!(status.as_str().parse(), Ok(status));
        }
        assert_eq!(
            "succeeded".parse::<StrayRefundStatus>(),
            Err(UnknownName::new("stray refund status", "succeeded"))
        );
    }
}
