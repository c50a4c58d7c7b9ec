//! The order state machine. Payment states only move forward: a late or
//! repeated message can never take a paid order back to unpaid.
//!
//! The refund states are the one exception, and they move both ways among
//! themselves: paid, partially_refunded and refunded only say what Stripe's
//! refunded total on the paying charge is (0, some, all). Stripe sets money
//! aside for a refund when it is created, pending or not, and gives it back
//! if the refund fails later, so that total can fall: a refunded order whose
//! refund failed is paid (or partially refunded) again. Those moves are made
//! only by `store::orders::set_refunded`, from the total Stripe answers now
//! (never from an event's snapshot), so a late event cannot move an order
//! away from the truth. Nothing else reaches paid from a refund state: see
//! `paid_from_payment`.

use std::fmt;
use std::str::FromStr;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::unknown_name::{find_named, UnknownName};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    PendingPayment,
    Processing,
    PaymentFailed,
    Paid,
    PartiallyRefunded,
    Refunded,
    Canceled,
}

impl OrderStatus {
    pub const ALL: [OrderStatus; 7] = [
        OrderStatus::PendingPayment,
        OrderStatus::Processing,
        OrderStatus::PaymentFailed,
        OrderStatus::Paid,
        OrderStatus::PartiallyRefunded,
        OrderStatus::Refunded,
        OrderStatus::Canceled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            OrderStatus::PendingPayment => "pending_payment",
            OrderStatus::Processing => "processing",
            OrderStatus::PaymentFailed => "payment_failed",
            OrderStatus::Paid => "paid",
            OrderStatus::PartiallyRefunded => "partially_refunded",
            OrderStatus::Refunded => "refunded",
            OrderStatus::Canceled => "canceled",
        }
    }

    /// Whether a customer may still start or retry a payment.
    pub fn is_payable(self) -> bool {
        matches!(
            self,
            OrderStatus::PendingPayment | OrderStatus::Processing | OrderStatus::PaymentFailed
        )
    }

    /// The states this one may move to. Anything not listed is refused, which is
    /// what makes duplicate and out-of-order messages harmless.
    pub fn successors(self) -> &'static [OrderStatus] {
        use OrderStatus::*;
        match self {
            PendingPayment => &[Processing, PaymentFailed, Paid, Canceled],
            Processing => &[PaymentFailed, Paid, Canceled],
            PaymentFailed => &[Processing, Paid, Canceled],
            Paid => &[PartiallyRefunded, Refunded],
            // The refund total changes within partially_refunded (one history
            // entry per change); a failed refund lowers it (see the module doc).
            PartiallyRefunded => &[Paid, PartiallyRefunded, Refunded],
            Refunded => &[Paid, PartiallyRefunded],
            Canceled => &[],
        }
    }

    pub fn can_move_to(self, next: OrderStatus) -> bool {
        self.successors().contains(&next)
    }

    /// The states `to` may be reached from: the `status IN (...)` of a conditional UPDATE.
    pub fn predecessors(to: OrderStatus) -> Vec<OrderStatus> {
        OrderStatus::ALL
            .into_iter()
            .filter(|from| from.can_move_to(to))
            .collect()
    }

    /// The states a payment may move an order to paid from: the payable
    /// ones. A refund state reaches paid only by its refunded total falling to
    /// zero, never by a (late, repeated) payment message.
    pub fn paid_from_payment() -> Vec<OrderStatus> {
        OrderStatus::predecessors(OrderStatus::Paid)
            .into_iter()
            .filter(|from| from.is_payable())
            .collect()
    }

    /// The status a paid order's refunded total implies: nothing, some or
    /// all of `amount` (minor units) given back.
    pub fn for_refunded_total(refunded: i64, amount: i64) -> OrderStatus {
        if refunded <= 0 {
            OrderStatus::Paid
        } else if refunded >= amount {
            OrderStatus::Refunded
        } else {
            OrderStatus::PartiallyRefunded
        }
    }

    /// Whether the order was paid and its status only says how much of it
    /// was refunded since.
    pub fn is_refund_state(self) -> bool {
        matches!(
            self,
            OrderStatus::Paid | OrderStatus::PartiallyRefunded | OrderStatus::Refunded
        )
    }

    /// A plausible forward path from a new order to `target`, used when seeding
    /// test orders so their history reads like a real one.
    pub fn path_from_new(target: OrderStatus) -> Vec<OrderStatus> {
        use OrderStatus::*;
        match target {
            PendingPayment => vec![PendingPayment],
            Processing => vec![PendingPayment, Processing],
            PaymentFailed => vec![PendingPayment, PaymentFailed],
            Paid => vec![PendingPayment, Paid],
            PartiallyRefunded => vec![PendingPayment, Paid, PartiallyRefunded],
            Refunded => vec![PendingPayment, Paid, Refunded],
            Canceled => vec![PendingPayment, Canceled],
        }
    }
}

impl fmt::Display for OrderStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for OrderStatus {
    type Err = UnknownName;

    fn from_str(s: &str) -> Result<Self, UnknownName> {
        find_named("order status", &OrderStatus::ALL, OrderStatus::as_str, s)
    }
}

#[cfg(test)]
mod tests {
    use super::OrderStatus::*;
    use super::*;

    #[test]
    fn a_paid_order_never_goes_back() {
        for unpaid in [PendingPayment, Processing, PaymentFailed, Canceled] {
            assert!(!Paid.can_move_to(unpaid), "paid -> {unpaid}");
            assert!(!Refunded.can_move_to(unpaid));
        }
        assert!(!Paid.can_move_to(Paid), "paying twice is not a transition");
    }

    #[test]
    fn failed_payments_stay_payable() {
        assert!(PaymentFailed.is_payable());
        assert!(PaymentFailed.can_move_to(Paid));
        assert!(!Canceled.is_payable());
        assert!(!Paid.is_payable());
    }

    #[test]
    fn terminal_states_have_no_successors() {
        assert!(Canceled.successors().is_empty());
    }

    #[test]
    fn a_failed_refund_gives_the_money_back() {
        assert!(Refunded.can_move_to(PartiallyRefunded));
        assert!(Refunded.can_move_to(Paid));
        assert!(PartiallyRefunded.can_move_to(Paid));
        for refund_state in [Paid, PartiallyRefunded, Refunded] {
            assert!(refund_state.is_refund_state());
            for next in refund_state.successors() {
                assert!(next.is_refund_state(), "{refund_state} -> {next}");
            }
        }
    }

    #[test]
    fn only_a_payable_order_is_paid_by_a_payment() {
        assert_eq!(
            OrderStatus::paid_from_payment(),
            vec![PendingPayment, Processing, PaymentFailed]
        );
    }

    #[test]
    fn the_refunded_total_implies_the_status() {
        assert_eq!(OrderStatus::for_refunded_total(0, 1000), Paid);
        assert_eq!(OrderStatus::for_refunded_total(1, 1000), PartiallyRefunded);
        assert_eq!(
            OrderStatus::for_refunded_total(999, 1000),
            PartiallyRefunded
        );
        assert_eq!(OrderStatus::for_refunded_total(1000, 1000), Refunded);
    }

    #[test]
    fn names_round_trip() {
        for status in OrderStatus::ALL {
            assert_eq!(status.as_str().parse::<OrderStatus>(), Ok(status));
            let json = serde_json::to_string(&status).unwrap();
            assert_eq!(json, format!("\"{}\"", status.as_str()));
        }
        assert_eq!(
            "PAID".parse::<OrderStatus>(),
            Err(UnknownName::new("order status", "PAID"))
        );
    }

    #[test]
    fn seed_paths_are_legal_walks() {
        for target in OrderStatus::ALL {
            let path = OrderStatus::path_from_new(target);
            assert_eq!(path.first(), Some(&PendingPayment));
            assert_eq!(path.last(), Some(&target));
            for pair in path.windows(2) {
                assert!(pair[0].can_move_to(pair[1]), "{} -> {}", pair[0], pair[1]);
            }
        }
    }

    #[test]
    fn predecessors_match_successors() {
        assert_eq!(
            OrderStatus::predecessors(Paid),
            vec![
                PendingPayment,
                Processing,
                PaymentFailed,
                PartiallyRefunded,
                Refunded
            ]
        );
        assert!(OrderStatus::predecessors(PendingPayment).is_empty());
    }
}
