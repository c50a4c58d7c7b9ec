//! Answers to machine callers rather than to shops: the health probe that
//! load balancers read, and the receipt Stripe gets for a webhook delivery.

use schemars::JsonSchema;
use serde::Serialize;

#[derive(Serialize, JsonSchema)]
pub struct Health {
    pub status: &'static str,
    pub database: &'static str,
    /// "sqlite" or "postgres".
    pub backend: String,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct WebhookReceipt {
    pub event: String,
    /// What orderpay did: paid, processing, payment_failed, canceled,
    /// refund_applied, duplicate, ignored, foreign, mismatch:<code>, ...
    pub outcome: String,
}
