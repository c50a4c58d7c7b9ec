//! The operations a model run is made of, and how proptest draws them.
//! Orders are named by small indexes (taken modulo the orders that exist),
//! so a shrunk sequence stays replayable: it prints as plain data.

use proptest::prelude::*;

use super::money_ref::{major_text, SAMPLE};

/// The cards a payment is attempted with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Card {
    Visa,
    Declined,
    InsufficientFunds,
    ThreeDSecure,
    /// Visa, after asking the simulator to answer the next confirmation `processing`.
    Processing,
}

impl Card {
    pub fn payment_method(self) -> &'static str {
        match self {
            Card::Visa | Card::Processing => "pm_card_visa",
            Card::Declined => "pm_card_chargeDeclined",
            Card::InsufficientFunds => "pm_card_chargeDeclinedInsufficientFunds",
            Card::ThreeDSecure => "pm_card_authenticationRequired",
        }
    }
}

/// Which Idempotency-Key a refund request carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RefundKey {
    None,
    Fresh,
    /// The order's last key, with the body it was first sent with.
    ReusedSameBody,
    /// The order's last key, with another amount.
    ReusedOtherBody,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Release {
    Fifo,
    Reverse,
    Shuffle,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FaultKind {
    /// One 500 before anything is applied (the client's retry gets through).
    Fail500,
    /// Enough 500s to exhaust the client's retries: orderpay answers 503.
    Outage,
    /// One 429.
    RateLimited,
    /// The call is applied, its answer arrives after the client gave up.
    DropAnswer,
    /// The call waits past the client's timeout before it is applied.
    Hang,
    /// The call is applied, then answered with a 500 Stripe keeps for replay.
    FailInside,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FaultPath {
    PaymentIntents,
    Refunds,
    Any,
}

impl FaultPath {
    pub fn prefix(self) -> Option<&'static str> {
        match self {
            FaultPath::PaymentIntents => Some("payment_intents"),
            FaultPath::Refunds => Some("refunds"),
            FaultPath::Any => None,
        }
    }
}

#[derive(Clone, Debug)]
pub enum Op {
    /// An admin test order for the customer: one line, `amount` in `currency`.
    CreateOrder {
        currency: &'static str,
        amount: String,
    },
    /// `at_once` concurrent requests for the order's PaymentIntent.
    PaymentIntent {
        order: usize,
        at_once: usize,
    },
    /// Server-side confirmation through orderpay.
    Confirm {
        order: usize,
        card: Card,
    },
    /// The customer's browser confirms the order's live PaymentIntent at Stripe.
    ConfirmAtStripe {
        order: usize,
        card: Card,
    },
    /// The customer finishes 3-D Secure.
    Authenticate {
        order: usize,
        succeed: bool,
    },
    /// A processing payment settles.
    FinishProcessing {
        order: usize,
        succeed: bool,
    },
    Cancel {
        order: usize,
    },
    /// The payment system's callback, naming the latest PaymentIntent or not.
    Callback {
        order: usize,
        with_id: bool,
    },
    Sweep,
    /// Percent of the order's amount (None: an empty body, "the rest").
    Refund {
        order: usize,
        percent: Option<u8>,
        key: RefundKey,
    },
    DashboardRefund {
        order: usize,
        percent: Option<u8>,
    },
    DashboardCancel {
        order: usize,
    },
    DashboardAmountChange {
        order: usize,
    },
    /// Webhooks from now on: held or sent, and with extra copies.
    Webhooks {
        hold: bool,
        duplicates: u32,
    },
    ReleaseWebhooks(Release),
    /// One of the events sent so far, delivered again.
    Redeliver {
        nth: usize,
    },
    Fault {
        path: FaultPath,
        kind: FaultKind,
    },
    /// Stripe answers new refunds `pending` (or settles them at once again).
    HoldRefunds {
        hold: bool,
    },
    /// A pending refund of the order settles at Stripe.
    SettleRefund {
        order: usize,
        succeed: bool,
    },
    Restart,
    /// 2 to 4 operations at once.
    Parallel(Vec<Op>),
}

fn order() -> impl Strategy<Value = usize> {
    0usize..3
}

fn card() -> impl Strategy<Value = Card> {
    prop_oneof![
        3 => Just(Card::Visa),
        1 => Just(Card::Declined),
        1 => Just(Card::InsufficientFunds),
        2 => Just(Card::ThreeDSecure),
        1 => Just(Card::Processing),
    ]
}

fn percent() -> impl Strategy<Value = Option<u8>> {
    prop_oneof![1 => Just(None), 2 => (1u8..=100).prop_map(Some)]
}

fn refund_key() -> impl Strategy<Value = RefundKey> {
    prop_oneof![
        Just(RefundKey::None),
        Just(RefundKey::Fresh),
        Just(RefundKey::ReusedSameBody),
        Just(RefundKey::ReusedOtherBody),
    ]
}

fn create_order() -> impl Strategy<Value = Op> {
    (0..SAMPLE.len(), 2_000u32..90_000, 0u32..100).prop_map(|(c, whole, fraction)| {
        Op::CreateOrder {
            currency: SAMPLE[c],
            amount: major_text(SAMPLE[c], whole, fraction),
        }
    })
}

fn fault() -> impl Strategy<Value = Op> {
    let path = prop_oneof![
        Just(FaultPath::PaymentIntents),
        Just(FaultPath::Refunds),
        Just(FaultPath::Any)
    ];
    let kind = prop_oneof![
        Just(FaultKind::Fail500),
        Just(FaultKind::Outage),
        Just(FaultKind::RateLimited),
        Just(FaultKind::DropAnswer),
        Just(FaultKind::Hang),
        Just(FaultKind::FailInside),
    ];
    (path, kind).prop_map(|(path, kind)| Op::Fault { path, kind })
}

/// Operations that may run beside others (no restart, no nesting).
fn single() -> impl Strategy<Value = Op> {
    prop_oneof![
        2 => create_order(),
        6 => (order(), 1usize..=4).prop_map(|(order, at_once)| Op::PaymentIntent { order, at_once }),
        6 => (order(), card()).prop_map(|(order, card)| Op::Confirm { order, card }),
        2 => (order(), card()).prop_map(|(order, card)| Op::ConfirmAtStripe { order, card }),
        2 => (order(), any::<bool>()).prop_map(|(order, succeed)| Op::Authenticate { order, succeed }),
        1 => (order(), any::<bool>())
            .prop_map(|(order, succeed)| Op::FinishProcessing { order, succeed }),
        2 => order().prop_map(|order| Op::Cancel { order }),
        3 => (order(), any::<bool>()).prop_map(|(order, with_id)| Op::Callback { order, with_id }),
        2 => Just(Op::Sweep),
        4 => (order(), percent(), refund_key())
            .prop_map(|(order, percent, key)| Op::Refund { order, percent, key }),
        1 => (order(), percent()).prop_map(|(order, percent)| Op::DashboardRefund { order, percent }),
        1 => order().prop_map(|order| Op::DashboardCancel { order }),
        1 => order().prop_map(|order| Op::DashboardAmountChange { order }),
        2 => (any::<bool>(), 0u32..=2)
            .prop_map(|(hold, duplicates)| Op::Webhooks { hold, duplicates }),
        2 => prop_oneof![
            Just(Release::Fifo),
            Just(Release::Reverse),
            Just(Release::Shuffle)
        ]
        .prop_map(Op::ReleaseWebhooks),
        1 => (0usize..64).prop_map(|nth| Op::Redeliver { nth }),
        2 => fault(),
        1 => any::<bool>().prop_map(|hold| Op::HoldRefunds { hold }),
        1 => (order(), any::<bool>()).prop_map(|(order, succeed)| Op::SettleRefund { order, succeed }),
    ]
}

/// One step of a run.
pub fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        20 => single(),
        1 => Just(Op::Restart),
        3 => prop::collection::vec(single(), 2..=4).prop_map(Op::Parallel),
    ]
}

/// A case: a first order, then up to `max_steps` steps.
pub fn case(max_steps: usize) -> impl Strategy<Value = Vec<Op>> {
    (create_order(), prop::collection::vec(op(), 1..=max_steps)).prop_map(|(first, rest)| {
        let mut ops = vec![first];
        ops.extend(rest);
        ops
    })
}
