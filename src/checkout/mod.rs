//! Checkout: an order's PaymentIntent, its confirmation and cancellation, and
//! the two messages that mark it paid (the payment system's callback and
//! Stripe's webhook), all converging on `settle`. It knows no HTTP: its use
//! cases answer `checkout::Error`, which `http::error` turns into statuses.

pub mod callback;
pub mod cancel;
pub mod cards;
pub mod confirm;
pub mod error;
pub mod inbox_workers;
pub mod inbox_writer;
pub mod intent;
pub mod line_items;
pub mod refund;
pub mod refunded_total;
pub mod settle;
pub mod stray;
pub mod sweep;
pub mod webhook;
pub mod webhook_intake;

pub use error::{Error, Result};

use crate::store::orders::OrderRow;

pub fn is_payable(order: &OrderRow) -> bool {
    order.status.is_payable()
}
