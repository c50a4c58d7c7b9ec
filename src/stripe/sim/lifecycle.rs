//! Test controls that move Stripe objects through the states Stripe moves
//! them through on its own time: the clock, asynchronous processing, pending
//! refunds, disputes. Each answers the object (or an error in Stripe's
//! shape) and sends the webhooks Stripe would.

use std::sync::Arc;

use rocket::http::Status;
use rocket::serde::json::Json;
use rocket::{Route, State};
use serde::Deserialize;
use serde_json::{json, Value};

use super::clock::MAX_ADVANCE_SECS;
use super::objects::invalid;
use super::state::SimResult;
use super::Sim;

type Answer = (Status, Json<Value>);

/// A control's result as an HTTP answer.
pub(super) fn answer(result: SimResult) -> Answer {
    match result {
        Ok(object) => (Status::Ok, Json(object)),
        Err(error) => (
            Status::new(error.status),
            Json(json!({"error": error.error})),
        ),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ClockAdvance {
    advance_secs: u64,
}

#[rocket::get("/_sim/clock")]
fn clock_now(sim: &State<Arc<Sim>>) -> Json<Value> {
    Json(json!({"now": sim.clock.now()}))
}

#[rocket::post("/_sim/clock", data = "<body>")]
fn clock_advance(sim: &State<Arc<Sim>>, body: Json<ClockAdvance>) -> Answer {
    match u32::try_from(body.advance_secs) {
        Ok(secs) if secs <= MAX_ADVANCE_SECS => answer(Ok(json!({"now": sim.clock.advance(secs)}))),
        _ => answer(Err(invalid(
            Some("advance_secs"),
            "parameter_invalid_integer",
            format!("advance_secs must be between 0 and {MAX_ADVANCE_SECS}."),
        ))),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ProcessingPlan {
    next: u32,
}

#[rocket::post("/_sim/processing", data = "<body>")]
fn processing(sim: &State<Arc<Sim>>, body: Json<ProcessingPlan>) -> Json<Value> {
    sim.data.lock().expect("lock").processing_next = body.next;
    Json(json!({"next": body.next}))
}

#[derive(Deserialize, Clone, Copy)]
#[serde(rename_all = "snake_case")]
enum ProcessAction {
    Start,
    Succeed,
    Fail,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Process {
    action: ProcessAction,
}

#[rocket::post("/_sim/payment_intents/<id>/process", data = "<body>")]
fn process(sim: &State<Arc<Sim>>, id: &str, body: Json<Process>) -> Answer {
    answer(sim.control(|data| match body.action {
        ProcessAction::Start => data.start_processing(id),
        ProcessAction::Succeed => data.finish_processing(id, true),
        // The failure is the control's success: answer the PaymentIntent,
        // back in `requires_payment_method` with `last_payment_error`.
        ProcessAction::Fail => data.finish_processing(id, false).or_else(|error| {
            match error.error.get("payment_intent") {
                Some(pi) if error.status == 402 => Ok(pi.clone()),
                _ => Err(error),
            }
        }),
    }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RefundHold {
    hold: bool,
}

#[rocket::post("/_sim/refunds/hold", data = "<body>")]
fn refunds_hold(sim: &State<Arc<Sim>>, body: Json<RefundHold>) -> Json<Value> {
    sim.data.lock().expect("lock").hold_refunds(body.hold);
    Json(json!({"hold": body.hold}))
}

#[derive(Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
enum SettleOutcome {
    Succeed,
    Fail,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Settle {
    outcome: SettleOutcome,
}

#[rocket::post("/_sim/refunds/<id>/settle", data = "<body>")]
fn refund_settle(sim: &State<Arc<Sim>>, id: &str, body: Json<Settle>) -> Answer {
    let succeed = body.outcome == SettleOutcome::Succeed;
    answer(sim.control(|data| data.settle_refund(id, succeed)))
}

#[rocket::post("/_sim/charges/<id>/dispute")]
fn dispute(sim: &State<Arc<Sim>>, id: &str) -> Answer {
    answer(sim.control(|data| data.dispute_charge(id)))
}

#[derive(Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
enum DisputeOutcome {
    Won,
    Lost,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Close {
    outcome: DisputeOutcome,
}

#[rocket::post("/_sim/disputes/<id>/close", data = "<body>")]
fn dispute_close(sim: &State<Arc<Sim>>, id: &str, body: Json<Close>) -> Answer {
    let won = body.outcome == DisputeOutcome::Won;
    answer(sim.control(|data| data.close_dispute(id, won)))
}

pub fn routes() -> Vec<Route> {
    rocket::routes![
        clock_now,
        clock_advance,
        processing,
        process,
        refunds_hold,
        refund_settle,
        dispute,
        dispute_close
    ]
}
