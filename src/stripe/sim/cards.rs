//! Stripe's documented test PaymentMethods and what happens when they are charged.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Succeed,
    Decline {
        code: &'static str,
        decline_code: &'static str,
        message: &'static str,
    },
    /// 3-D Secure is always required (`requires_action`).
    Authenticate,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TestCard {
    pub alias: &'static str,
    pub brand: &'static str,
    pub last4: &'static str,
    pub outcome: Outcome,
}

pub const TEST_CARDS: &[TestCard] = &[
    TestCard {
        alias: "pm_card_visa",
        brand: "visa",
        last4: "4242",
        outcome: Outcome::Succeed,
    },
    TestCard {
        alias: "pm_card_mastercard",
        brand: "mastercard",
        last4: "4444",
        outcome: Outcome::Succeed,
    },
    TestCard {
        alias: "pm_card_chargeDeclined",
        brand: "visa",
        last4: "0002",
        outcome: Outcome::Decline {
            code: "card_declined",
            decline_code: "generic_decline",
            message: "Your card was declined.",
        },
    },
    TestCard {
        alias: "pm_card_chargeDeclinedInsufficientFunds",
        brand: "visa",
        last4: "9995",
        outcome: Outcome::Decline {
            code: "card_declined",
            decline_code: "insufficient_funds",
            message: "Your card has insufficient funds.",
        },
    },
    TestCard {
        alias: "pm_card_chargeDeclinedExpiredCard",
        brand: "visa",
        last4: "0069",
        outcome: Outcome::Decline {
            code: "expired_card",
            decline_code: "expired_card",
            message: "Your card has expired.",
        },
    },
    TestCard {
        alias: "pm_card_authenticationRequired",
        brand: "visa",
        last4: "3184",
        outcome: Outcome::Authenticate,
    },
];

pub fn by_alias(alias: &str) -> Option<TestCard> {
    TEST_CARDS.iter().copied().find(|card| card.alias == alias)
}
