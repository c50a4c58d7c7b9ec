//! Pure domain rules: money, currencies, the order state machine, and the
//! closed sets of names orderpay stores (statuses, mismatch reasons,
//! sources). No Rocket, no sqlx.

pub mod account;
pub mod currency;
pub mod email;
pub mod inbox_status;
pub mod mismatch;
pub mod money;
pub mod order_number;
pub mod order_status;
pub mod payment_intent_status;
pub mod pricing;
pub mod refund_status;
pub mod source;
pub mod unknown_name;

pub use currency::Currency;
pub use inbox_status::InboxStatus;
pub use mismatch::{MismatchReason, StrayRefundStatus};
pub use order_status::OrderStatus;
pub use payment_intent_status::PaymentIntentStatus;
pub use refund_status::RefundStatus;
pub use source::Source;
pub use unknown_name::UnknownName;
