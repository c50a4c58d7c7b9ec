//! Stripe's webhook endpoint. Public (Stripe has no credentials to send), and
//! trusted only after the signature over the raw body checks out.

use rocket::data::{ByteUnit, Data};
use rocket::http::{Method, Status};
use rocket::request::{self, FromRequest, Request};
use rocket::{Route, State};

use crate::checkout::inbox_writer::{InboxWriter, Stored};
use crate::checkout::webhook_intake;
use crate::http::error::{ApiError, ApiResult};
use crate::http::openapi::{schema, Access, Body, Endpoint, HeaderParam};
use crate::http::response::{Envelope, Success};
use crate::http::views::WebhookReceipt;
use crate::stripe::gateway::StripeGateway;

/// The largest webhook body read, unless Rocket's `limits.stripe_webhook`
/// says otherwise. Stripe's events are a few KiB (a PaymentIntent or a charge
/// with its metadata: at most 50 keys of 500 characters); 256 KiB is ten
/// times the largest plausible one and bounds the MAC an unauthenticated
/// caller can make the server compute (about a millisecond per secret).
pub const DEFAULT_BODY_LIMIT: ByteUnit = ByteUnit::Kibibyte(256);

/// What the webhook knows before reading the body: the signature header, the
/// body limit, and the body size the client announced (`Content-Length`).
pub struct WebhookRequest {
    signature: Option<String>,
    limit: ByteUnit,
    announced: Option<u64>,
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for WebhookRequest {
    type Error = ();
    async fn from_request(req: &'r Request<'_>) -> request::Outcome<Self, ()> {
        let headers = req.headers();
        request::Outcome::Success(WebhookRequest {
            signature: headers.get_one("Stripe-Signature").map(str::to_string),
            limit: req
                .limits()
                .get("stripe_webhook")
                .unwrap_or(DEFAULT_BODY_LIMIT),
            // hyper has already refused an unparseable Content-Length.
            announced: headers
                .get_one("Content-Length")
                .and_then(|n| n.trim().parse().ok()),
        })
    }
}

fn too_large(limit: ByteUnit) -> ApiError {
    ApiError::new(
        Status::PayloadTooLarge,
        "payload_too_large",
        format!("the event is larger than {limit}"),
    )
}

#[rocket::post("/api/v1/webhooks/stripe", data = "<body>")]
async fn stripe_webhook(
    inbox: &State<InboxWriter>,
    stripe: &State<StripeGateway>,
    request: WebhookRequest,
    body: Data<'_>,
) -> ApiResult<Success<WebhookReceipt>> {
    // Everything that can be refused without the body is, before it is read:
    // an announced size over the limit, then the signature header.
    if request
        .announced
        .is_some_and(|n| n > request.limit.as_u64())
    {
        return Err(too_large(request.limit));
    }
    let signature = webhook_intake::check_header(stripe, request.signature.as_deref())?;
    // The raw bytes are what is signed; a body without Content-Length
    // (chunked) stops at the limit.
    let raw = body
        .open(request.limit)
        .into_bytes()
        .await
        .map_err(|_| ApiError::bad_request("unreadable_body", "the body could not be read"))?;
    if !raw.is_complete() {
        return Err(too_large(request.limit));
    }
    let ack = webhook_intake::accept(inbox, stripe, &raw, &signature).await?;
    let outcome = match ack.stored {
        Stored::First => "stored",
        Stored::Duplicate => "duplicate",
    };
    Ok(Success::ok(
        "received",
        WebhookReceipt {
            event: ack.event_id,
            outcome: outcome.into(),
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
        summary: "Stripe webhook (Stripe-Signature over the raw body; answered 200 once the event is stored, applied after; a redelivery is a duplicate)",
        access: Access::Public,
        query: &[],
        body: Body::None,
        response: Some(schema::<Envelope<WebhookReceipt>>),
        success: &[200],
        headers: &[HeaderParam {
            name: "Stripe-Signature",
            description: "t=<unix>,v1=<HMAC-SHA256 of \"<t>.<raw body>\">, as Stripe sends it; at most 2048 bytes and 8 v1 values",
            required: true,
        }],
        errors: &[400, 413, 503],
    }]
}
