//! PaymentIntents in the simulator: create, update, confirm with Stripe's
//! test cards (success, declines, 3-D Secure), cancel, capture, and the test
//! controls for authentication and asynchronous processing.

use serde_json::{json, Value};

use super::cards::Outcome;
use super::currencies::{self, CurrencyRule};
use super::objects::{
    integer, invalid, metadata, missing, new_id, unexpected_state, Charge, Pi, SimError, SimResult,
};
use super::state::Data;
use crate::stripe::form::Params;

/// The rule of a stored PaymentIntent's currency (checked at creation).
pub(super) fn rule_of(currency: &str) -> CurrencyRule {
    currencies::rule(currency).expect("stored currencies are valid")
}

impl Data {
    pub(super) fn pi(&self, id: &str) -> Result<&Pi, SimError> {
        self.payment_intents
            .get(id)
            .ok_or_else(|| missing("payment_intent", id, "intent", 404))
    }

    pub fn create_payment_intent(&mut self, params: &Params, base_url: &str) -> SimResult {
        let amount = integer(params, "amount")?.ok_or_else(|| {
            invalid(
                Some("amount"),
                "parameter_missing",
                "Missing required param: amount.",
            )
        })?;
        let currency_code = params.get("currency").ok_or_else(|| {
            invalid(
                Some("currency"),
                "parameter_missing",
                "Missing required param: currency.",
            )
        })?;
        let currency = currencies::rule(currency_code).ok_or_else(|| {
            invalid(
                Some("currency"),
                "parameter_invalid_string",
                format!("Invalid currency: {currency_code}"),
            )
        })?;
        currency.check_charge(amount, "amount")?;
        let capture_method = params.get("capture_method").unwrap_or("automatic_async");
        if !matches!(capture_method, "automatic" | "automatic_async" | "manual") {
            return Err(invalid(
                Some("capture_method"),
                "parameter_invalid_string",
                "Invalid capture_method",
            ));
        }
        if let Some(customer) = params.get("customer") {
            if !self.customers.contains_key(customer) {
                return Err(missing("customer", customer, "customer", 400));
            }
        }
        let metadata = metadata(params)?;
        let payment_method = match params.get("payment_method") {
            Some(pm) => Some(self.resolve_payment_method(pm, "payment_method")?),
            None => None,
        };
        let id = new_id("pi");
        self.next_sequence += 1;
        let client_secret = format!("{id}_secret_{}", &new_id("s")[2..]);
        let pi = Pi {
            id: id.clone(),
            amount,
            currency: currency.code.to_string(),
            status: if payment_method.is_some() {
                "requires_confirmation"
            } else {
                "requires_payment_method"
            },
            customer: params.get("customer").map(str::to_string),
            payment_method,
            description: params.get("description").map(str::to_string),
            receipt_email: params.get("receipt_email").map(str::to_string),
            metadata,
            capture_method: capture_method.to_string(),
            client_secret,
            created: self.now(),
            amount_received: 0,
            amount_capturable: 0,
            latest_charge: None,
            last_payment_error: None,
            next_action: None,
            canceled_at: None,
            cancellation_reason: None,
            sequence: self.next_sequence,
        };
        let json = pi.json();
        self.payment_intents.insert(id.clone(), pi);
        self.event("payment_intent.created", json.clone(), None);
        if params.get("confirm") == Some("true") {
            return self.confirm_payment_intent(&id, params, base_url);
        }
        Ok(json)
    }

    pub fn retrieve_payment_intent(&self, id: &str) -> SimResult {
        self.pi(id).map(Pi::json)
    }

    pub fn update_payment_intent(&mut self, id: &str, params: &Params) -> SimResult {
        let pi = self.pi(id)?.clone();
        if !matches!(
            pi.status,
            "requires_payment_method" | "requires_confirmation" | "requires_action"
        ) {
            return Err(unexpected_state(&pi, "update"));
        }
        let amount = integer(params, "amount")?;
        if let Some(amount) = amount {
            rule_of(&pi.currency).check_charge(amount, "amount")?;
        }
        let new_metadata = metadata(params)?;
        let payment_method = match params.get("payment_method") {
            Some(pm) => Some(self.resolve_payment_method(pm, "payment_method")?),
            None => None,
        };
        let pi = self.payment_intents.get_mut(id).expect("checked");
        if let Some(amount) = amount {
            pi.amount = amount;
        }
        if let Some(description) = params.get("description") {
            pi.description = Some(description.to_string());
        }
        if let Some(email) = params.get("receipt_email") {
            pi.receipt_email = Some(email.to_string());
        }
        if let Some(pm) = payment_method {
            pi.payment_method = Some(pm);
            if pi.status == "requires_payment_method" {
                pi.status = "requires_confirmation";
            }
        }
        // Stripe merges metadata; an empty value removes the key.
        for (key, value) in new_metadata {
            if value.is_empty() {
                pi.metadata.remove(&key);
            } else {
                pi.metadata.insert(key, value);
            }
        }
        Ok(pi.json())
    }

    pub fn confirm_payment_intent(
        &mut self,
        id: &str,
        params: &Params,
        base_url: &str,
    ) -> SimResult {
        let pi = self.pi(id)?.clone();
        if !matches!(
            pi.status,
            "requires_payment_method" | "requires_confirmation"
        ) {
            return Err(unexpected_state(&pi, "confirm"));
        }
        let pm_id = match params.get("payment_method") {
            Some(pm) => self.resolve_payment_method(pm, "payment_method")?,
            None => pi.payment_method.clone().ok_or_else(|| {
                invalid(
                    Some("payment_method"),
                    "payment_intent_unexpected_state",
                    "You cannot confirm this PaymentIntent because it's missing a payment method.",
                )
            })?,
        };
        let card = self.payment_methods[&pm_id].card;
        {
            let pi = self.payment_intents.get_mut(id).expect("checked");
            pi.payment_method = Some(pm_id.clone());
            pi.last_payment_error = None;
            pi.next_action = None;
        }
        match card.outcome {
            Outcome::Succeed if self.processing_next > 0 => {
                self.processing_next -= 1;
                Ok(self.enter_processing(id))
            }
            Outcome::Succeed => Ok(self.charge_succeeded(id)),
            Outcome::Decline {
                code,
                decline_code,
                message,
            } => Err(self.charge_declined(id, &pm_id, code, decline_code, message)),
            Outcome::Authenticate => {
                let url = format!("{base_url}/_sim/3ds/{id}");
                let next_action = match params.get("return_url") {
                    Some(return_url) => {
                        json!({"type": "redirect_to_url", "redirect_to_url": {"url": url, "return_url": return_url}})
                    }
                    None => {
                        json!({"type": "use_stripe_sdk", "use_stripe_sdk": {"type": "three_d_secure_redirect", "stripe_js": url}})
                    }
                };
                let pi = self.payment_intents.get_mut(id).expect("checked");
                pi.status = "requires_action";
                pi.next_action = Some(next_action);
                let json = pi.json();
                self.event("payment_intent.requires_action", json.clone(), None);
                Ok(json)
            }
        }
    }

    /// A test control: the customer completes (or fails) 3-D Secure.
    pub fn authenticate(&mut self, id: &str, succeed: bool) -> SimResult {
        let pi = self.pi(id)?.clone();
        if pi.status != "requires_action" {
            return Err(unexpected_state(&pi, "authenticate"));
        }
        if succeed {
            return Ok(self.charge_succeeded(id));
        }
        let pi = self.payment_intents.get_mut(id).expect("checked");
        pi.status = "requires_payment_method";
        pi.next_action = None;
        pi.last_payment_error = Some(json!({
            "type": "invalid_request_error", "code": "payment_intent_authentication_failure",
            "message": "The provided PaymentMethod has failed authentication. You can provide payment_method_data or a new PaymentMethod to attempt to fulfill this PaymentIntent again.",
            "payment_method": {"id": pi.payment_method, "object": "payment_method", "type": "card"},
        }));
        let json = pi.json();
        self.event("payment_intent.payment_failed", json.clone(), None);
        Ok(json)
    }

    /// A test control: the payment goes asynchronous (`processing`), as bank
    /// debits do, before `finish_processing` settles it.
    pub fn start_processing(&mut self, id: &str) -> SimResult {
        let pi = self.pi(id)?.clone();
        if !matches!(
            pi.status,
            "requires_payment_method" | "requires_confirmation"
        ) {
            return Err(unexpected_state(&pi, "process"));
        }
        let pm_id = match &pi.payment_method {
            Some(pm) => pm.clone(),
            None => self.resolve_payment_method("pm_card_visa", "payment_method")?,
        };
        self.payment_intents
            .get_mut(id)
            .expect("checked")
            .payment_method = Some(pm_id);
        Ok(self.enter_processing(id))
    }

    /// The payment is under way but not settled (as for an asynchronous
    /// payment method): `processing`, until `finish_processing`.
    fn enter_processing(&mut self, id: &str) -> Value {
        let pi = self.payment_intents.get_mut(id).expect("exists");
        pi.status = "processing";
        pi.next_action = None;
        let json = pi.json();
        self.event("payment_intent.processing", json.clone(), None);
        json
    }

    pub fn finish_processing(&mut self, id: &str, succeed: bool) -> SimResult {
        let pi = self.pi(id)?.clone();
        if pi.status != "processing" {
            return Err(unexpected_state(&pi, "finish processing"));
        }
        if succeed {
            return Ok(self.charge_succeeded(id));
        }
        let pm_id = pi.payment_method.clone().unwrap_or_default();
        Err(self.charge_declined(
            id,
            &pm_id,
            "card_declined",
            "generic_decline",
            "Your card was declined.",
        ))
    }

    fn new_charge(
        &mut self,
        pi_id: &str,
        status: &'static str,
        captured: bool,
        failure_code: Option<&str>,
    ) -> String {
        let created = self.now();
        let pi = &self.payment_intents[pi_id];
        let charge = Charge {
            id: new_id("ch"),
            amount: pi.amount,
            amount_captured: if captured { pi.amount } else { 0 },
            amount_refunded: 0,
            currency: pi.currency.clone(),
            payment_intent: pi.id.clone(),
            payment_method: pi.payment_method.clone().unwrap_or_default(),
            status,
            failure_code: failure_code.map(str::to_string),
            created,
            disputed: false,
        };
        let id = charge.id.clone();
        self.charges.insert(id.clone(), charge);
        id
    }

    fn charge_succeeded(&mut self, id: &str) -> Value {
        let manual = self.payment_intents[id].capture_method == "manual";
        let charge_id = self.new_charge(id, "succeeded", !manual, None);
        let pi = self.payment_intents.get_mut(id).expect("exists");
        pi.latest_charge = Some(charge_id.clone());
        pi.next_action = None;
        if manual {
            pi.status = "requires_capture";
            pi.amount_capturable = pi.amount;
            let json = pi.json();
            self.event(
                "payment_intent.amount_capturable_updated",
                json.clone(),
                None,
            );
            json
        } else {
            pi.status = "succeeded";
            pi.amount_received = pi.amount;
            let json = pi.json();
            let charge = self.charges[&charge_id].json();
            self.event("charge.succeeded", charge, None);
            self.event("payment_intent.succeeded", json.clone(), None);
            json
        }
    }

    fn charge_declined(
        &mut self,
        id: &str,
        pm_id: &str,
        code: &str,
        decline_code: &str,
        message: &str,
    ) -> SimError {
        let charge_id = self.new_charge(id, "failed", false, Some(code));
        let pm = self.payment_methods[pm_id].json();
        let pi = self.payment_intents.get_mut(id).expect("exists");
        pi.status = "requires_payment_method";
        pi.latest_charge = Some(charge_id.clone());
        let last_error = json!({
            "type": "card_error", "code": code, "decline_code": decline_code, "message": message,
            "charge": charge_id, "payment_method": pm,
            "doc_url": format!("https://stripe.com/docs/error-codes/{}", code.replace('_', "-")),
        });
        pi.last_payment_error = Some(last_error.clone());
        let pi_json = pi.json();
        self.event("payment_intent.payment_failed", pi_json.clone(), None);
        let mut error = last_error;
        error["payment_intent"] = pi_json;
        SimError {
            status: 402,
            error,
            replayable: true,
        }
    }

    pub fn cancel_payment_intent(&mut self, id: &str, params: &Params) -> SimResult {
        let pi = self.pi(id)?.clone();
        // Stripe: a PaymentIntent can be canceled only while it requires a
        // payment method, confirmation, action or capture; once `processing`
        // the money is on its way and cancel is refused.
        if matches!(pi.status, "processing" | "succeeded" | "canceled") {
            return Err(unexpected_state(&pi, "cancel"));
        }
        let now = self.now();
        let pi = self.payment_intents.get_mut(id).expect("checked");
        pi.status = "canceled";
        pi.canceled_at = Some(now);
        pi.cancellation_reason = params
            .get("cancellation_reason")
            .map(str::to_string)
            .or(Some("requested_by_customer".into()));
        pi.amount_capturable = 0;
        pi.next_action = None;
        let json = pi.json();
        self.event("payment_intent.canceled", json.clone(), None);
        Ok(json)
    }

    pub fn capture_payment_intent(&mut self, id: &str, params: &Params) -> SimResult {
        let pi = self.pi(id)?.clone();
        if pi.status != "requires_capture" {
            return Err(unexpected_state(&pi, "capture"));
        }
        let amount = integer(params, "amount_to_capture")?.unwrap_or(pi.amount_capturable);
        if amount <= 0 || amount > pi.amount_capturable {
            return Err(invalid(
                Some("amount_to_capture"),
                "amount_too_large",
                "The amount to capture must be positive and at most the capturable amount.",
            ));
        }
        rule_of(&pi.currency).check_step(amount, "amount_to_capture")?;
        let charge_id = pi.latest_charge.clone().unwrap_or_default();
        if let Some(charge) = self.charges.get_mut(&charge_id) {
            charge.amount_captured = amount;
        }
        let pi = self.payment_intents.get_mut(id).expect("checked");
        pi.status = "succeeded";
        pi.amount_received = amount;
        pi.amount_capturable = 0;
        let json = pi.json();
        self.event("payment_intent.succeeded", json.clone(), None);
        Ok(json)
    }
}
