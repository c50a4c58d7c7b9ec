//! The page behind a PaymentIntent's 3-D Secure `next_action` URL
//! (`redirect_to_url.url` / `use_stripe_sdk.stripe_js`). Stripe serves the
//! bank's challenge there; the simulator serves a small page whose buttons
//! complete or fail the challenge (the same operation as
//! `POST /_sim/payment_intents/<id>/authenticate`), so a browser walk-through
//! and a test that follows the URL both reach a real page.

use std::sync::Arc;

use rocket::form::{Form, FromForm};
use rocket::http::Status;
use rocket::response::content::RawHtml;
use rocket::serde::json::Json;
use rocket::{Route, State};
use serde_json::Value;

use super::currencies::{self, major};
use super::lifecycle::answer;
use super::Sim;

fn page(title: &str, body: &str) -> RawHtml<String> {
    RawHtml(format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title}</title></head><body><h1>{title}</h1>{body}</body></html>"
    ))
}

#[rocket::get("/_sim/3ds/<id>")]
fn challenge(sim: &State<Arc<Sim>>, id: &str) -> Result<RawHtml<String>, (Status, Json<Value>)> {
    let pi = sim
        .data
        .lock()
        .expect("lock")
        .retrieve_payment_intent(id)
        .map_err(|e| answer(Err(e)))?;
    // Ids and codes are the simulator's own (letters, digits, `_`), safe in HTML.
    let id = pi["id"].as_str().unwrap_or_default();
    let currency = pi["currency"].as_str().unwrap_or_default();
    let amount = pi["amount"].as_i64().unwrap_or_default();
    let shown = currencies::rule(currency)
        .map(|rule| major(amount, rule.exponent))
        .unwrap_or_else(|| amount.to_string());
    let status = pi["status"].as_str().unwrap_or_default();
    let form = |outcome: &str, label: &str| {
        format!("<form method=\"post\" action=\"/_sim/3ds/{id}\"><input type=\"hidden\" name=\"outcome\" value=\"{outcome}\"><button type=\"submit\">{label}</button></form>")
    };
    Ok(page(
        "3D Secure test challenge",
        &format!(
            "<p>PaymentIntent <code>{id}</code>: {shown} {currency}, status <code>{status}</code>.</p>{}{}",
            form("succeed", "Complete authentication"),
            form("fail", "Fail authentication"),
        ),
    ))
}

#[derive(FromForm)]
struct ChallengeAnswer {
    outcome: String,
}

#[rocket::post("/_sim/3ds/<id>", data = "<form>")]
fn complete(
    sim: &State<Arc<Sim>>,
    id: &str,
    form: Form<ChallengeAnswer>,
) -> Result<RawHtml<String>, (Status, Json<Value>)> {
    let succeed = match form.outcome.as_str() {
        "succeed" => true,
        "fail" => false,
        _ => {
            return Err(answer(Err(super::objects::invalid(
                Some("outcome"),
                "parameter_invalid_string",
                "outcome must be succeed or fail",
            ))))
        }
    };
    let pi = sim
        .control(|data| data.authenticate(id, succeed))
        .map_err(|e| answer(Err(e)))?;
    let status = pi["status"].as_str().unwrap_or_default().to_string();
    Ok(page(
        "3D Secure test challenge finished",
        &format!("<p>The PaymentIntent is now <code>{status}</code>. You may close this page.</p>"),
    ))
}

pub fn routes() -> Vec<Route> {
    rocket::routes![challenge, complete]
}
