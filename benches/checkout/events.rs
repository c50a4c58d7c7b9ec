//! Signed Stripe events as the intake sees them: distinct ids, about 430
//! bytes, signed with the children's webhook secret. They are signed before
//! a run starts (within Stripe's 300 s tolerance), so the load generator
//! spends no time on HMACs while measuring.

use serde_json::{json, Value};

use super::children::WEBHOOK_SECRET;

pub struct SignedEvent {
    pub body: String,
    pub signature: String,
}

pub fn sign(body: String) -> SignedEvent {
    let now = chrono::Utc::now().timestamp();
    let signature = orderpay::stripe::webhook::header(body.as_bytes(), now, &[WEBHOOK_SECRET]);
    SignedEvent { body, signature }
}

/// `count` distinct events about PaymentIntents orderpay never made (it
/// stores and acknowledges them, asking Stripe nothing), ids prefixed by
/// `run` so no two runs share one.
pub fn foreign(run: &str, count: usize) -> Vec<SignedEvent> {
    let created = chrono::Utc::now().timestamp();
    (0..count)
        .map(|i| {
            sign(
                json!({
                    "id": format!("evt_{run}_{i:08}"),
                    "object": "event",
                    "api_version": "2024-06-20",
                    "created": created,
                    "livemode": false,
                    "request": {"id": null, "idempotency_key": null},
                    "type": "payment_intent.created",
                    "data": {"object": {
                        "id": format!("pi_{run}_{i:08}"),
                        "object": "payment_intent",
                        "amount": 2000,
                        "amount_received": 0,
                        "currency": "usd",
                        "customer": null,
                        "description": "Order from another shop",
                        "livemode": false,
                        "metadata": {},
                        "status": "requires_payment_method"
                    }}
                })
                .to_string(),
            )
        })
        .collect()
}

/// A `payment_intent.succeeded` event carrying the PaymentIntent as Stripe has it.
pub fn succeeded(id: &str, payment_intent: &Value) -> SignedEvent {
    sign(
        json!({
            "id": id,
            "object": "event",
            "api_version": "2024-06-20",
            "created": chrono::Utc::now().timestamp(),
            "livemode": false,
            "pending_webhooks": 1,
            "type": "payment_intent.succeeded",
            "data": {"object": payment_intent}
        })
        .to_string(),
    )
}

/// Sends one event to `url`; returns the HTTP status.
pub async fn deliver(http: &reqwest::Client, url: &str, event: &SignedEvent) -> u16 {
    http.post(url)
        .header("Stripe-Signature", &event.signature)
        .header("Content-Type", "application/json")
        .body(event.body.clone())
        .send()
        .await
        .map(|r| r.status().as_u16())
        .unwrap_or(0)
}
