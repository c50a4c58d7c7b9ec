//! Every answer the simulator gives is JSON in Stripe's error shape, also
//! when Rocket itself refuses a request (a control's malformed JSON body is a
//! 400 or 422, an unknown path a 404), never Rocket's HTML pages.

use rocket::http::Status;
use rocket::serde::json::Json;
use rocket::{Catcher, Request};
use serde_json::{json, Value};

#[rocket::catch(default)]
fn stripe_shaped(status: Status, request: &Request<'_>) -> (Status, Json<Value>) {
    let (kind, code, message) = match status.code {
        404 => (
            "invalid_request_error",
            "resource_missing",
            format!("Unrecognized request URL ({} {}).", request.method(), request.uri()),
        ),
        400..=499 => (
            "invalid_request_error",
            "parameter_invalid_string",
            format!(
                "The request could not be read ({}): send a JSON object with the documented fields.",
                status.reason_lossy()
            ),
        ),
        _ => (
            "api_error",
            "api_error",
            "An unknown error occurred in the simulator.".to_string(),
        ),
    };
    // Malformed bodies are answered 400, as Stripe answers a bad parameter.
    let status = if status.code == 422 {
        Status::BadRequest
    } else {
        status
    };
    (
        status,
        Json(json!({"error": {"type": kind, "code": code, "message": message}})),
    )
}

pub fn catchers() -> Vec<Catcher> {
    rocket::catchers![stripe_shaped]
}
