//! Disputes (chargebacks) as test controls: a customer's bank disputes a
//! succeeded charge (`charge.dispute.created`), later closed as won or lost
//! (`charge.dispute.closed`). While a charge is disputed, Stripe refuses
//! refunds on it (`charge_disputed`); see `refunds.rs`.

use serde_json::json;

use super::objects::{invalid, missing, new_id, Dispute, SimResult};
use super::state::Data;

impl Data {
    pub fn dispute_charge(&mut self, charge_id: &str) -> SimResult {
        let charge = self
            .charges
            .get(charge_id)
            .ok_or_else(|| missing("charge", charge_id, "charge", 404))?
            .clone();
        if charge.status != "succeeded" || charge.amount_captured == 0 {
            return Err(invalid(
                Some("charge"),
                "charge_not_disputable",
                format!("Charge {charge_id} has no captured payment to dispute."),
            ));
        }
        if charge.disputed {
            return Err(invalid(
                Some("charge"),
                "charge_disputed",
                format!("Charge {charge_id} is already disputed."),
            ));
        }
        let dispute = Dispute {
            id: new_id("dp"),
            amount: charge.amount_captured,
            currency: charge.currency.clone(),
            charge: charge.id.clone(),
            payment_intent: charge.payment_intent.clone(),
            status: "needs_response",
            created: self.now(),
        };
        let json = dispute.json();
        self.disputes.insert(dispute.id.clone(), dispute);
        self.charges.get_mut(charge_id).expect("checked").disputed = true;
        self.event("charge.dispute.created", json.clone(), None);
        Ok(json)
    }

    pub fn close_dispute(&mut self, id: &str, won: bool) -> SimResult {
        let dispute = self
            .disputes
            .get_mut(id)
            .ok_or_else(|| missing("dispute", id, "id", 404))?;
        if dispute.status != "needs_response" {
            return Err(invalid(
                None,
                "dispute_already_closed",
                format!("Dispute {id} is already closed ({}).", dispute.status),
            ));
        }
        dispute.status = if won { "won" } else { "lost" };
        let json = dispute.json();
        self.event(
            "charge.dispute.closed",
            json.clone(),
            Some(json!({"status": "needs_response"})),
        );
        Ok(json)
    }
}
