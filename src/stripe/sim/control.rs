//! Test controls under `/_sim` (not part of Stripe's API): inject faults,
//! finish 3-D Secure, hold/release/duplicate webhook deliveries, inspect state.

use std::sync::Arc;

use rocket::serde::json::Json;
use rocket::{Route, State};
use serde::Deserialize;
use serde_json::{json, Value};

use super::faults::FaultPlan;
use super::webhooks::{ReleaseOrder, WebhookSettings};
use super::Sim;

#[rocket::post("/_sim/faults", data = "<plan>")]
fn set_faults(sim: &State<Arc<Sim>>, plan: Json<FaultPlan>) -> Json<Value> {
    sim.inject(plan.0.clone());
    Json(json!({"faults": plan.0}))
}

#[derive(Deserialize)]
struct Authentication {
    /// "succeed" or "fail".
    outcome: String,
}

#[rocket::post("/_sim/payment_intents/<id>/authenticate", data = "<body>")]
fn authenticate(
    sim: &State<Arc<Sim>>,
    id: &str,
    body: Json<Authentication>,
) -> (rocket::http::Status, Json<Value>) {
    let (result, events) = {
        let mut data = sim.data.lock().expect("lock");
        data.outbox.clear();
        let result = data.authenticate(id, body.outcome == "succeed");
        (result, std::mem::take(&mut data.outbox))
    };
    sim.webhooks.dispatch(events);
    match result {
        Ok(pi) => (rocket::http::Status::Ok, Json(pi)),
        Err(error) => (
            rocket::http::Status::new(error.status),
            Json(json!({"error": error.error})),
        ),
    }
}

#[rocket::post("/_sim/webhooks", data = "<settings>")]
fn configure_webhooks(sim: &State<Arc<Sim>>, settings: Json<WebhookSettings>) -> Json<Value> {
    sim.webhooks.configure(settings.0);
    Json(json!({"held": sim.webhooks.held_count()}))
}

#[derive(Deserialize)]
struct Release {
    order: ReleaseOrder,
}

#[rocket::post("/_sim/webhooks/release", data = "<body>")]
async fn release(sim: &State<Arc<Sim>>, body: Json<Release>) -> Json<Value> {
    let delivered = sim.webhooks.release(body.order).await;
    Json(json!({"delivered": delivered}))
}

#[rocket::post("/_sim/events/<id>/deliver")]
async fn redeliver(sim: &State<Arc<Sim>>, id: &str) -> Option<Json<Value>> {
    let event = sim.data.lock().expect("lock").event_by_id(id)?;
    let delivery = sim.webhooks.deliver_with_retries(&event).await;
    Some(Json(json!(delivery)))
}

#[rocket::get("/_sim/state")]
fn state(sim: &State<Arc<Sim>>) -> Json<Value> {
    let counts = sim.data.lock().expect("lock").counts();
    Json(
        json!({"counts": counts, "held_events": sim.webhooks.held_count(), "deliveries": sim.webhooks.deliveries()}),
    )
}

pub fn routes() -> Vec<Route> {
    rocket::routes![
        set_faults,
        authenticate,
        configure_webhooks,
        release,
        redeliver,
        state
    ]
}
