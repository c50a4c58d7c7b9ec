//! The objects the simulator keeps, rendered to JSON by hand, field by field
//! as Stripe's API reference shows them (not through the client's types, so
//! the client's parsing is tested against the documented shape), and the
//! parameter checks Stripe applies to them.

use std::collections::BTreeMap;

use rand::distributions::Alphanumeric;
use rand::Rng;
use serde_json::{json, Value};

use super::cards::TestCard;
use crate::stripe::form::Params;

/// A Stripe-style error answer.
#[derive(Debug, Clone)]
pub struct SimError {
    pub status: u16,
    pub error: Value,
    /// Whether the idempotency layer keeps this answer for replay. Stripe does
    /// not keep answers to requests that failed validation before executing.
    pub replayable: bool,
}

pub type SimResult = Result<Value, SimError>;

pub(super) fn invalid(param: Option<&str>, code: &str, message: impl Into<String>) -> SimError {
    let mut error =
        json!({"type": "invalid_request_error", "code": code, "message": message.into()});
    if let Some(param) = param {
        error["param"] = json!(param);
    }
    SimError {
        status: 400,
        error,
        replayable: false,
    }
}

pub(super) fn missing(kind: &str, id: &str, param: &str, status: u16) -> SimError {
    let mut error = invalid(
        Some(param),
        "resource_missing",
        format!("No such {kind}: '{id}'"),
    );
    error.status = status;
    error
}

pub(super) fn unexpected_state(pi: &Pi, action: &str) -> SimError {
    let mut error = invalid(
        None,
        "payment_intent_unexpected_state",
        format!(
            "You cannot {action} this PaymentIntent because it has a status of {}.",
            pi.status
        ),
    );
    error.error["payment_intent"] = pi.json();
    error.replayable = true;
    error
}

pub fn new_id(prefix: &str) -> String {
    let suffix: String = rand::thread_rng()
        .sample_iter(&Alphanumeric)
        .take(24)
        .map(char::from)
        .collect();
    format!("{prefix}_{suffix}")
}

pub fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

#[derive(Debug, Clone)]
pub struct Customer {
    pub(super) id: String,
    pub(super) email: Option<String>,
    pub(super) name: Option<String>,
    pub(super) metadata: BTreeMap<String, String>,
    pub(super) created: i64,
}

impl Customer {
    pub(super) fn json(&self) -> Value {
        json!({
            "id": self.id, "object": "customer", "email": self.email, "name": self.name,
            "metadata": self.metadata, "created": self.created, "livemode": false,
            "description": null, "phone": null, "invoice_prefix": null,
        })
    }
}

#[derive(Debug, Clone)]
pub struct PaymentMethod {
    pub(super) id: String,
    pub(super) card: TestCard,
    pub(super) customer: Option<String>,
    pub(super) created: i64,
}

impl PaymentMethod {
    pub(super) fn json(&self) -> Value {
        json!({
            "id": self.id, "object": "payment_method", "type": "card",
            "card": {
                "brand": self.card.brand, "last4": self.card.last4, "exp_month": 12, "exp_year": 2034,
                "funding": "credit", "country": "US",
                "checks": {"cvc_check": "pass", "address_postal_code_check": null, "address_line1_check": null},
            },
            "billing_details": {"address": null, "email": null, "name": null, "phone": null},
            "customer": self.customer, "created": self.created, "livemode": false, "metadata": {},
        })
    }
}

#[derive(Debug, Clone)]
pub struct Pi {
    pub(super) id: String,
    pub(super) amount: i64,
    pub(super) currency: String,
    pub(super) status: &'static str,
    pub(super) customer: Option<String>,
    pub(super) payment_method: Option<String>,
    pub(super) description: Option<String>,
    pub(super) receipt_email: Option<String>,
    pub(super) metadata: BTreeMap<String, String>,
    pub(super) capture_method: String,
    pub(super) client_secret: String,
    pub(super) created: i64,
    pub(super) amount_received: i64,
    pub(super) amount_capturable: i64,
    pub(super) latest_charge: Option<String>,
    pub(super) last_payment_error: Option<Value>,
    pub(super) next_action: Option<Value>,
    pub(super) canceled_at: Option<i64>,
    pub(super) cancellation_reason: Option<String>,
    /// Creation order, for listings (see `Data::next_sequence`).
    pub(super) sequence: u64,
}

impl Pi {
    pub fn json(&self) -> Value {
        json!({
            "id": self.id, "object": "payment_intent", "amount": self.amount,
            "amount_capturable": self.amount_capturable, "amount_received": self.amount_received,
            "currency": self.currency, "status": self.status, "client_secret": self.client_secret,
            "customer": self.customer, "payment_method": self.payment_method,
            "description": self.description, "receipt_email": self.receipt_email,
            "metadata": self.metadata, "capture_method": self.capture_method,
            "confirmation_method": "automatic", "payment_method_types": ["card"],
            "latest_charge": self.latest_charge, "last_payment_error": self.last_payment_error,
            "next_action": self.next_action, "canceled_at": self.canceled_at,
            "cancellation_reason": self.cancellation_reason, "created": self.created, "livemode": false,
            "setup_future_usage": null, "statement_descriptor": null,
        })
    }
}

#[derive(Debug, Clone)]
pub struct Charge {
    pub(super) id: String,
    pub(super) amount: i64,
    pub(super) amount_captured: i64,
    pub(super) amount_refunded: i64,
    pub(super) currency: String,
    pub(super) payment_intent: String,
    pub(super) payment_method: String,
    pub(super) status: &'static str,
    pub(super) failure_code: Option<String>,
    pub(super) created: i64,
    pub(super) disputed: bool,
}

impl Charge {
    pub(super) fn json(&self) -> Value {
        json!({
            "id": self.id, "object": "charge", "amount": self.amount,
            "amount_captured": self.amount_captured, "amount_refunded": self.amount_refunded,
            "refunded": self.amount_captured > 0 && self.amount_refunded == self.amount_captured,
            "captured": self.amount_captured > 0, "currency": self.currency,
            "payment_intent": self.payment_intent, "payment_method": self.payment_method,
            "status": self.status, "paid": self.status == "succeeded",
            "failure_code": self.failure_code, "created": self.created, "livemode": false,
            "disputed": self.disputed,
        })
    }
}

#[derive(Debug, Clone)]
pub struct Refund {
    pub(super) id: String,
    pub(super) amount: i64,
    pub(super) charge: String,
    pub(super) payment_intent: String,
    pub(super) currency: String,
    pub(super) reason: Option<String>,
    pub(super) metadata: BTreeMap<String, String>,
    pub(super) created: i64,
    /// `pending`, `succeeded` or `failed`.
    pub(super) status: &'static str,
    pub(super) failure_reason: Option<&'static str>,
}

impl Refund {
    pub(super) fn json(&self) -> Value {
        json!({
            "id": self.id, "object": "refund", "amount": self.amount, "charge": self.charge,
            "payment_intent": self.payment_intent, "currency": self.currency, "status": self.status,
            "failure_reason": self.failure_reason,
            "pending_reason": (self.status == "pending").then_some("processing"),
            "reason": self.reason, "metadata": self.metadata, "created": self.created,
        })
    }
}

#[derive(Debug, Clone)]
pub struct Dispute {
    pub(super) id: String,
    pub(super) amount: i64,
    pub(super) currency: String,
    pub(super) charge: String,
    pub(super) payment_intent: String,
    /// `needs_response`, then `won` or `lost`.
    pub(super) status: &'static str,
    pub(super) created: i64,
}

impl Dispute {
    pub(super) fn json(&self) -> Value {
        json!({
            "id": self.id, "object": "dispute", "amount": self.amount, "currency": self.currency,
            "charge": self.charge, "payment_intent": self.payment_intent, "status": self.status,
            "reason": "fraudulent", "is_charge_refundable": false, "created": self.created,
            "livemode": false, "metadata": {},
        })
    }
}

const MAX_METADATA_KEYS: usize = 50;
const MAX_METADATA_KEY_LEN: usize = 40;
const MAX_METADATA_VALUE_LEN: usize = 500;

pub(super) fn metadata(params: &Params) -> Result<BTreeMap<String, String>, SimError> {
    let metadata = params.map("metadata");
    if metadata.len() > MAX_METADATA_KEYS {
        return Err(invalid(
            Some("metadata"),
            "parameter_invalid_too_many",
            "You can have at most 50 metadata keys.",
        ));
    }
    for (key, value) in &metadata {
        if key.chars().count() > MAX_METADATA_KEY_LEN || key.contains(['[', ']']) {
            return Err(invalid(
                Some(&format!("metadata[{key}]")),
                "parameter_invalid_string",
                "Metadata keys can have up to 40 characters and no square brackets.",
            ));
        }
        if value.chars().count() > MAX_METADATA_VALUE_LEN {
            return Err(invalid(
                Some(&format!("metadata[{key}]")),
                "parameter_invalid_string",
                "Metadata values can have up to 500 characters.",
            ));
        }
    }
    Ok(metadata)
}

pub(super) fn integer(params: &Params, key: &str) -> Result<Option<i64>, SimError> {
    match params.get(key) {
        None => Ok(None),
        Some(text) => text.parse::<i64>().map(Some).map_err(|_| {
            invalid(
                Some(key),
                "parameter_invalid_integer",
                format!("Invalid integer: {text}"),
            )
        }),
    }
}
