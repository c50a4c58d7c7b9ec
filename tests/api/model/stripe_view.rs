//! Stripe's side of a run: what the simulator holds (read under its lock, so
//! the reads neither go through nor use up injected faults), what the
//! customer's browser and the dashboard do there directly, and the
//! simulator's test controls.

use orderpay::stripe::form::Params;
use orderpay::stripe::sim::state::{Data, SimResult};
use serde_json::{json, Value};

use crate::helpers::TestApp;

/// Every PaymentIntent the simulator holds for `order_id`, oldest attempt first.
pub fn payment_intents(app: &TestApp, order_id: &str) -> Vec<Value> {
    let list = app
        .sim
        .data
        .lock()
        .unwrap()
        .list_payment_intents(&Params::parse("limit=100"))
        .expect("list PaymentIntents");
    assert_eq!(
        list["has_more"], false,
        "a run makes fewer than 100 PaymentIntents"
    );
    let mut pis: Vec<Value> = list["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|pi| pi["metadata"]["order_id"] == order_id)
        .cloned()
        .collect();
    pis.sort_by_key(attempt);
    pis
}

/// `metadata[attempt]`, orderpay's attempt number.
pub fn attempt(pi: &Value) -> i64 {
    pi["metadata"]["attempt"]
        .as_str()
        .and_then(|a| a.parse().ok())
        .unwrap_or(0)
}

/// Statuses in which a PaymentIntent can still take (or is taking) the money.
pub fn is_payable(pi: &Value) -> bool {
    matches!(
        pi["status"].as_str(),
        Some(
            "requires_payment_method" | "requires_confirmation" | "requires_action" | "processing"
        )
    )
}

/// The PaymentIntent's refunds as Stripe shows them now (found through
/// their `refund.created` events, read by id for their current status).
pub fn refunds(app: &TestApp, pi: &str) -> Vec<Value> {
    let data = app.sim.data.lock().unwrap();
    data.events
        .iter()
        .filter(|e| e["type"] == "refund.created" && e["data"]["object"]["payment_intent"] == pi)
        .filter_map(|e| {
            data.retrieve_refund(e["data"]["object"]["id"].as_str()?)
                .ok()
        })
        .collect()
}

/// What Stripe counts as refunded on the PaymentIntent's charge: every
/// refund but the failed ones (a pending refund already counts).
pub fn refunded_total(app: &TestApp, pi: &str) -> i64 {
    refunds(app, pi)
        .iter()
        .filter(|r| r["status"] != "failed")
        .filter_map(|r| r["amount"].as_i64())
        .sum()
}

/// The order's newest PaymentIntent in `statuses`.
pub fn latest_in(app: &TestApp, order_id: &str, statuses: &[&str]) -> Option<Value> {
    payment_intents(app, order_id)
        .into_iter()
        .rev()
        .find(|pi| statuses.contains(&pi["status"].as_str().unwrap_or_default()))
}

/// A call made at Stripe directly (the browser or the dashboard), with its events sent.
pub fn at_stripe(
    app: &TestApp,
    action: impl FnOnce(&mut Data, &Params, &str) -> SimResult,
    params: &str,
) -> bool {
    let base = app.sim.base_url();
    let params = Params::parse(params);
    app.sim.control(|data| action(data, &params, &base)).is_ok()
}

/// What a test control under `/_sim` answered; None when the simulator does
/// not have that control (yet): the runner counts the operation as skipped.
pub async fn control(app: &TestApp, path: &str, body: Value) -> Option<(u16, Value)> {
    let response = reqwest::Client::new()
        .post(format!("{}{path}", app.sim.base_url()))
        .json(&body)
        .send()
        .await
        .expect("the simulator answers");
    let status = response.status().as_u16();
    let body: Value = response.json().await.unwrap_or(json!(null));
    // Rocket's own 404 (no such route) or 422 (a field the control does not
    // take); a control's own errors are Stripe-shaped, with `error.type`.
    if matches!(status, 400 | 404 | 422) && body["error"]["type"].is_null() {
        return None;
    }
    Some((status, body))
}
