//! The Stripe objects orderpay reads, as Stripe's API reference defines them.
//! Unknown fields are ignored; fields orderpay does not need are left out.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Kept in the domain: payment attempts store it (see `store::payments`).
pub use crate::domain::PaymentIntentStatus;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PaymentIntent {
    pub id: String,
    pub amount: i64,
    #[serde(default)]
    pub amount_received: i64,
    #[serde(default)]
    pub amount_capturable: i64,
    pub currency: String,
    pub status: PaymentIntentStatus,
    pub client_secret: Option<String>,
    pub customer: Option<String>,
    pub payment_method: Option<String>,
    #[serde(default)]
    pub metadata: HashMap<String, String>,
    pub description: Option<String>,
    pub receipt_email: Option<String>,
    pub latest_charge: Option<String>,
    pub last_payment_error: Option<PaymentError>,
    pub next_action: Option<Value>,
    pub capture_method: Option<String>,
    pub created: i64,
    pub livemode: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PaymentError {
    #[serde(rename = "type")]
    pub kind: String,
    pub code: Option<String>,
    pub decline_code: Option<String>,
    pub message: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Customer {
    pub id: String,
    pub email: Option<String>,
    pub name: Option<String>,
    #[serde(default)]
    pub metadata: HashMap<String, String>,
    pub created: i64,
    pub livemode: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PaymentMethod {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub card: Option<Card>,
    pub customer: Option<String>,
    pub created: i64,
    pub livemode: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Card {
    pub brand: String,
    pub last4: String,
    pub exp_month: u32,
    pub exp_year: u32,
    pub funding: Option<String>,
    pub country: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Refund {
    pub id: String,
    pub amount: i64,
    pub charge: Option<String>,
    pub payment_intent: Option<String>,
    pub currency: String,
    pub status: Option<String>,
    /// Why a refund failed (`status` failed), e.g. `expired_or_canceled_card`.
    #[serde(default)]
    pub failure_reason: Option<String>,
    pub reason: Option<String>,
    #[serde(default)]
    pub metadata: HashMap<String, String>,
    pub created: i64,
}

/// A Charge, as carried by `charge.*` events and answered by
/// `GET /v1/charges/<id>`. `amount_refunded` counts pending refunds too (the
/// money is set aside when the refund is created) and falls again when one fails.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Charge {
    pub id: String,
    pub amount: i64,
    #[serde(default)]
    pub amount_captured: i64,
    #[serde(default)]
    pub amount_refunded: i64,
    #[serde(default)]
    pub refunded: bool,
    pub currency: String,
    pub payment_intent: Option<String>,
    pub status: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Event {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub created: i64,
    pub api_version: Option<String>,
    pub livemode: bool,
    pub data: EventData,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EventData {
    /// A snapshot of the object at the time of the event.
    pub object: Value,
    pub previous_attributes: Option<Value>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct List<T> {
    pub data: Vec<T>,
    pub has_more: bool,
    pub url: Option<String>,
}
