//! Stripe: the HTTP client orderpay uses, webhook signatures, and an offline
//! test-mode simulator that speaks Stripe's wire format.

pub mod api;
pub mod client;
pub mod error;
pub mod form;
pub mod gateway;
pub mod sim;
pub mod types;
pub mod webhook;

pub use client::{ClientConfig, IdempotencyKey, StripeClient};
pub use error::StripeError;
