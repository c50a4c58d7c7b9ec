//! Refunds in the simulator. Stripe takes a refund's amount out of the
//! charge's refundable balance when the refund is created, pending or not:
//! `charge.amount_refunded` counts pending refunds at once (so two refunds can
//! never overdraw a charge) and `charge.refunded` is sent at creation. A
//! pending refund later succeeds (`refund.updated`, `charge.refund.updated`)
//! or fails, and a failed refund gives its amount back to the refundable
//! balance (`amount_refunded` falls) with the same two events.

use serde_json::json;

use super::intents::rule_of;
use super::objects::{integer, invalid, metadata, missing, new_id, Refund, SimResult};
use super::state::Data;
use crate::stripe::form::Params;

impl Data {
    pub fn create_refund(&mut self, params: &Params) -> SimResult {
        let pi_id = params.get("payment_intent").ok_or_else(|| {
            invalid(
                Some("payment_intent"),
                "parameter_missing",
                "Missing required param: payment_intent.",
            )
        })?;
        let pi = self
            .payment_intents
            .get(pi_id)
            .ok_or_else(|| missing("payment_intent", pi_id, "payment_intent", 400))?
            .clone();
        let charge_id = match (pi.status, &pi.latest_charge) {
            ("succeeded", Some(charge)) => charge.clone(),
            _ => {
                let mut error = invalid(
                    Some("payment_intent"),
                    "charge_not_refundable",
                    format!(
                        "This PaymentIntent ({pi_id}) does not have a successful charge to refund."
                    ),
                );
                error.replayable = true;
                return Err(error);
            }
        };
        let charge = self.charges[&charge_id].clone();
        if charge.disputed {
            let mut error = invalid(
                None,
                "charge_disputed",
                format!("Charge {charge_id} has been charged back; refunds are not possible while it is disputed."),
            );
            error.replayable = true;
            return Err(error);
        }
        // A pending refund already counts in `amount_refunded` (see the module doc).
        let remaining = charge.amount_captured - charge.amount_refunded;
        if remaining == 0 {
            let mut error = invalid(
                None,
                "charge_already_refunded",
                format!("Charge {charge_id} has already been refunded."),
            );
            error.replayable = true;
            return Err(error);
        }
        let amount = integer(params, "amount")?.unwrap_or(remaining);
        if amount <= 0 {
            return Err(invalid(
                Some("amount"),
                "parameter_invalid_integer",
                "Refund amount must be positive.",
            ));
        }
        if amount > remaining {
            let mut error = invalid(Some("amount"), "amount_too_large", format!("Refund amount ({amount}) is greater than unrefunded amount on charge ({remaining})"));
            error.replayable = true;
            return Err(error);
        }
        rule_of(&charge.currency).check_step(amount, "amount")?;
        let refund = Refund {
            id: new_id("re"),
            amount,
            charge: charge_id.clone(),
            payment_intent: pi_id.to_string(),
            currency: charge.currency.clone(),
            reason: params.get("reason").map(str::to_string),
            metadata: metadata(params)?,
            created: self.now(),
            status: if self.hold_refunds {
                "pending"
            } else {
                "succeeded"
            },
            failure_reason: None,
        };
        let json = refund.json();
        self.refunds.insert(refund.id.clone(), refund);
        let previous = {
            let charge = self.charges.get_mut(&charge_id).expect("exists");
            let previous = json!({"amount_refunded": charge.amount_refunded, "refunded": false});
            charge.amount_refunded += amount;
            previous
        };
        let charge_json = self.charges[&charge_id].json();
        self.event("refund.created", json.clone(), None);
        self.event("charge.refunded", charge_json, Some(previous));
        Ok(json)
    }

    pub fn retrieve_refund(&self, id: &str) -> SimResult {
        self.refunds
            .get(id)
            .map(Refund::json)
            .ok_or_else(|| missing("refund", id, "id", 404))
    }

    /// The charge as it stands, its `amount_refunded` counting pending
    /// refunds: what orderpay re-reads to learn a PaymentIntent's refunded total.
    pub fn retrieve_charge(&self, id: &str) -> SimResult {
        self.charges
            .get(id)
            .map(super::objects::Charge::json)
            .ok_or_else(|| missing("charge", id, "id", 404))
    }

    /// A test control: while on, new refunds are created `pending`.
    pub fn hold_refunds(&mut self, hold: bool) {
        self.hold_refunds = hold;
    }

    /// A test control: a pending refund succeeds or fails.
    pub fn settle_refund(&mut self, id: &str, succeed: bool) -> SimResult {
        let refund = self
            .refunds
            .get(id)
            .ok_or_else(|| missing("refund", id, "id", 404))?
            .clone();
        if refund.status != "pending" {
            return Err(invalid(
                None,
                "refund_unexpected_state",
                format!(
                    "Refund {id} has a status of {}; only pending refunds settle.",
                    refund.status
                ),
            ));
        }
        let (status, failure_reason) = if succeed {
            ("succeeded", None)
        } else {
            ("failed", Some("expired_or_canceled_card"))
        };
        let refund_json = {
            let refund = self.refunds.get_mut(id).expect("checked");
            refund.status = status;
            refund.failure_reason = failure_reason;
            refund.json()
        };
        if !succeed {
            let charge = self.charges.get_mut(&refund.charge).expect("exists");
            charge.amount_refunded -= refund.amount;
        }
        // As Stripe's events show it: what changed, with its old values.
        let previous = if succeed {
            json!({"status": "pending"})
        } else {
            json!({"status": "pending", "failure_reason": null})
        };
        self.event(
            "refund.updated",
            refund_json.clone(),
            Some(previous.clone()),
        );
        self.event("charge.refund.updated", refund_json.clone(), Some(previous));
        Ok(refund_json)
    }
}
