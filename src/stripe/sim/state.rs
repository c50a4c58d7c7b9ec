//! The simulator's state and the operations on customers, PaymentMethods
//! and events (PaymentIntents are in `intents.rs`, refunds in `refunds.rs`,
//! disputes in `disputes.rs`). Everything here is
//! synchronous and runs under one lock, so each API call is atomic.

use std::collections::HashMap;

use serde_json::{json, Value};

use super::cards;
use super::clock::Clock;
use super::objects::{
    integer, invalid, metadata, missing, Charge, Customer, Dispute, PaymentMethod, Pi, Refund,
};
pub use super::objects::{new_id, now, SimError, SimResult};
use crate::stripe::client::STRIPE_VERSION;
use crate::stripe::form::Params;

/// Everything the simulator knows. Events are kept newest last.
#[derive(Debug, Default)]
pub struct Data {
    pub(super) customers: HashMap<String, Customer>,
    pub(super) payment_methods: HashMap<String, PaymentMethod>,
    pub(super) payment_intents: HashMap<String, Pi>,
    pub(super) charges: HashMap<String, Charge>,
    pub(super) refunds: HashMap<String, Refund>,
    pub(super) disputes: HashMap<String, Dispute>,
    pub events: Vec<Value>,
    /// Events created by the current call, for webhook delivery.
    pub outbox: Vec<Value>,
    pub(super) clock: Clock,
    /// Creation order of PaymentIntents: the listing's tie-breaker within
    /// one second, so cursors are stable.
    pub(super) next_sequence: u64,
    /// Confirmations that would succeed end in `processing` while this runs down.
    pub(super) processing_next: u32,
    /// New refunds are created `pending` while this is on.
    pub(super) hold_refunds: bool,
}

impl Data {
    pub fn with_clock(clock: Clock) -> Data {
        Data {
            clock,
            ..Data::default()
        }
    }

    /// The simulator's time (see `clock.rs`).
    pub fn now(&self) -> i64 {
        self.clock.now()
    }

    pub(super) fn event(&mut self, kind: &str, object: Value, previous: Option<Value>) {
        let mut data = json!({"object": object});
        if let Some(previous) = previous {
            data["previous_attributes"] = previous;
        }
        let event = json!({
            "id": new_id("evt"), "object": "event", "type": kind, "created": self.now(),
            "api_version": STRIPE_VERSION, "livemode": false, "pending_webhooks": 1,
            "request": {"id": new_id("req"), "idempotency_key": null}, "data": data,
        });
        self.events.push(event.clone());
        self.outbox.push(event);
    }

    pub fn payment_intent_count(&self) -> usize {
        self.payment_intents.len()
    }

    /// The amounts refunded against a PaymentIntent, one per refund.
    pub fn refund_amounts(&self, payment_intent: &str) -> Vec<i64> {
        let mut amounts: Vec<i64> = self
            .refunds
            .values()
            .filter(|r| r.payment_intent == payment_intent)
            .map(|r| r.amount)
            .collect();
        amounts.sort_unstable();
        amounts
    }

    pub fn counts(&self) -> Value {
        json!({
            "customers": self.customers.len(), "payment_methods": self.payment_methods.len(),
            "payment_intents": self.payment_intents.len(), "charges": self.charges.len(),
            "refunds": self.refunds.len(), "disputes": self.disputes.len(),
            "events": self.events.len(),
        })
    }

    // ---- customers ------------------------------------------------------

    pub fn create_customer(&mut self, params: &Params) -> SimResult {
        let customer = Customer {
            id: new_id("cus"),
            email: params.get("email").map(str::to_string),
            name: params.get("name").map(str::to_string),
            metadata: metadata(params)?,
            created: self.now(),
        };
        let json = customer.json();
        self.customers.insert(customer.id.clone(), customer);
        self.event("customer.created", json.clone(), None);
        Ok(json)
    }

    pub fn retrieve_customer(&self, id: &str) -> SimResult {
        self.customers
            .get(id)
            .map(Customer::json)
            .ok_or_else(|| missing("customer", id, "id", 404))
    }

    // ---- payment methods --------------------------------------------------

    /// A stored PaymentMethod, or a new one made from a test alias (as Stripe
    /// does: using `pm_card_visa` creates a fresh `pm_...`).
    pub(super) fn resolve_payment_method(
        &mut self,
        id: &str,
        param: &str,
    ) -> Result<String, SimError> {
        if self.payment_methods.contains_key(id) {
            return Ok(id.to_string());
        }
        let card = cards::by_alias(id).ok_or_else(|| missing("PaymentMethod", id, param, 400))?;
        let pm = PaymentMethod {
            id: new_id("pm"),
            card,
            customer: None,
            created: self.now(),
        };
        let pm_id = pm.id.clone();
        self.payment_methods.insert(pm_id.clone(), pm);
        Ok(pm_id)
    }

    pub fn retrieve_payment_method(&mut self, id: &str) -> SimResult {
        if let Some(pm) = self.payment_methods.get(id) {
            return Ok(pm.json());
        }
        let mut error = missing("PaymentMethod", id, "id", 404);
        if cards::by_alias(id).is_some() {
            let pm_id = self
                .resolve_payment_method(id, "id")
                .map_err(|_| error.clone())?;
            return Ok(self.payment_methods[&pm_id].json());
        }
        error.replayable = false;
        Err(error)
    }

    pub fn attach_payment_method(&mut self, id: &str, params: &Params) -> SimResult {
        let customer = params.get("customer").ok_or_else(|| {
            invalid(
                Some("customer"),
                "parameter_missing",
                "Missing required param: customer.",
            )
        })?;
        if !self.customers.contains_key(customer) {
            return Err(missing("customer", customer, "customer", 400));
        }
        let pm_id = self.resolve_payment_method(id, "payment_method")?;
        let pm = self.payment_methods.get_mut(&pm_id).expect("resolved");
        if let Some(other) = &pm.customer {
            if other != customer {
                return Err(invalid(
                    None,
                    "payment_method_unexpected_state",
                    "This PaymentMethod is already attached to another customer.",
                ));
            }
        }
        pm.customer = Some(customer.to_string());
        let json = pm.json();
        self.event("payment_method.attached", json.clone(), None);
        Ok(json)
    }

    pub fn detach_payment_method(&mut self, id: &str) -> SimResult {
        let pm = self
            .payment_methods
            .get_mut(id)
            .ok_or_else(|| missing("PaymentMethod", id, "payment_method", 404))?;
        if pm.customer.is_none() {
            return Err(invalid(None, "payment_method_unexpected_state", "The payment method you provided is not attached to a customer so detachment is impossible."));
        }
        pm.customer = None;
        let json = pm.json();
        self.event("payment_method.detached", json.clone(), None);
        Ok(json)
    }

    pub fn list_payment_methods(&self, params: &Params) -> SimResult {
        let customer = params.get("customer").ok_or_else(|| {
            invalid(
                Some("customer"),
                "parameter_missing",
                "Missing required param: customer.",
            )
        })?;
        let mut data: Vec<&PaymentMethod> = self
            .payment_methods
            .values()
            .filter(|pm| pm.customer.as_deref() == Some(customer))
            .collect();
        data.sort_by(|a, b| b.created.cmp(&a.created).then(b.id.cmp(&a.id)));
        let data: Vec<Value> = data.into_iter().map(PaymentMethod::json).collect();
        Ok(json!({"object": "list", "url": "/v1/payment_methods", "has_more": false, "data": data}))
    }

    // ---- events ----------------------------------------------------------------

    pub fn list_events(&self, params: &Params) -> SimResult {
        let limit = integer(params, "limit")?.unwrap_or(10).clamp(1, 100) as usize;
        let kind = params.get("type");
        let created_gte = integer(params, "created[gte]")?;
        let mut newest_first = self.events.iter().rev().filter(|event| {
            kind.is_none_or(|k| event["type"] == k)
                && created_gte.is_none_or(|gte| event["created"].as_i64().unwrap_or(0) >= gte)
        });
        let data: Vec<Value> = match params.get("starting_after") {
            Some(after) => newest_first
                .by_ref()
                .skip_while(|e| e["id"] != after)
                .skip(1)
                .take(limit + 1)
                .cloned()
                .collect(),
            None => newest_first.take(limit + 1).cloned().collect(),
        };
        let has_more = data.len() > limit;
        let data: Vec<Value> = data.into_iter().take(limit).collect();
        Ok(json!({"object": "list", "url": "/v1/events", "has_more": has_more, "data": data}))
    }

    pub fn event_by_id(&self, id: &str) -> Option<Value> {
        self.events.iter().find(|e| e["id"] == id).cloned()
    }
}
