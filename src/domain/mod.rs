//! Pure domain rules: money, currencies, the order state machine. No Rocket, no sqlx.

pub mod account;
pub mod currency;
pub mod email;
pub mod inbox_status;
pub mod money;
pub mod order_number;
pub mod order_status;
pub mod pricing;

pub use currency::Currency;
pub use inbox_status::InboxStatus;
pub use order_status::OrderStatus;
