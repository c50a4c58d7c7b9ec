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
    /// `stored` (this delivery stored the event; the inbox workers apply
    /// it next) or `duplicate` (it was stored before). What applying it did
    /// is in the admin inbox view (`GET /api/v1/admin/webhook-events`).
    pub outcome: String,
}
