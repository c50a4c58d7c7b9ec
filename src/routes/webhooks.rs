//! Stripe's webhook endpoint. Public (Stripe has no credentials to send), and
//! trusted only after the signature over the raw body checks out.

use rocket::data::{Data, ToByteUnit};
use rocket::http::Method;
use rocket::request::{self, FromRequest, Request};
use rocket::{Route, State};
use schemars::JsonSchema;
use serde::Serialize;

use crate::checkout::webhook;
use crate::db::Db;
use crate::error::{ApiError, ApiResult};
use crate::openapi::{schema, Access, Body, Endpoint, HeaderParam};
use crate::response::{Envelope, Success};
use crate::stripe::gateway::StripeGateway;

pub struct StripeSignature(Option<String>);

#[rocket::async_trait]
impl<'r> FromRequest<'r> for StripeSignature {
    type Error = ();
    async fn from_request(req: &'r Request<'_>) -> request::Outcome<Self, ()> {
        request::Outcome::Success(StripeSignature(
            req.headers()
                .get_one("Stripe-Signature")
                .map(str::to_string),
        ))
    }
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct WebhookReceipt {
    pub event: String,
    /// What orderpay did: paid, processing, payment_failed, canceled,
    /// refund_applied, duplicate, ignored, foreign, mismatch:<code>, ...
    pub outcome: String,
}

#[rocket::post("/api/v1/webhooks/stripe", data = "<body>")]
async fn stripe_webhook(
    db: &Db,
    stripe: &State<StripeGateway>,
    signature: StripeSignature,
    body: Data<'_>,
) -> ApiResult<Success<WebhookReceipt>> {
    // Stripe events can be large; the raw bytes are what is signed.
    let raw = body
        .open(2.mebibytes())
        .into_bytes()
        .await
        .map_err(|_| ApiError::bad_request("unreadable_body", "the body could not be read"))?;
    if !raw.is_complete() {
        return Err(ApiError::new(
            rocket::http::Status::PayloadTooLarge,
            "payload_too_large",
            "the event is too large",
        ));
    }
    let ack = webhook::receive(db, stripe, &raw, signature.0.as_deref()).await?;
    Ok(Success::ok(
        "received",
        WebhookReceipt {
            event: ack.event_id,
            outcome: ack.outcome,
        },
    ))
}

pub fn routes() -> Vec<Route> {
    rocket::routes![stripe_webhook]
}

pub fn endpoints() -> Vec<Endpoint> {
    vec![Endpoint {
        method: Method::Post,
        path: "/api/v1/webhooks/stripe",
        summary: "Stripe webhook (Stripe-Signature over the raw body; events stored once, acknowledged with 200)",
        access: Access::Public,
        query: &[],
        body: Body::None,
        response: Some(schema::<Envelope<WebhookReceipt>>),
        success: &[200],
        headers: &[HeaderParam {
            name: "Stripe-Signature",
            description: "t=<unix>,v1=<HMAC-SHA256 of \"<t>.<raw body>\">, as Stripe sends it",
            required: true,
        }],
        errors: &[400, 413, 503],
    }]
}
