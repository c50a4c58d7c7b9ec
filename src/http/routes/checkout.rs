//! Paying an order: its PaymentIntent, server-side confirmation, the payment
//! system's callback, and cancellation.

use rocket::http::Method;
use rocket::{Route, State};
use schemars::JsonSchema;
use serde::Deserialize;

use super::lookup::{find_order, order_view, order_view_of};
use crate::auth::api_key::{PaymentsCallback, Scoped};
use crate::auth::{Caller, CheckoutCaller, Scope};
use crate::checkout::{callback, cancel, confirm, intent};
use crate::db::Db;
use crate::domain::{OrderStatus, Source};
use crate::http::body::{JsonBody, OptionalJsonBody};
use crate::http::error::{ApiError, ApiResult};
use crate::http::input::{payment_method_id, Id};
use crate::http::openapi::{schema, Access, Body, Endpoint};
use crate::http::response::{Envelope, Success};
use crate::http::views::{OrderView, PaymentIntentView};
use crate::store::{self, Conn};
use crate::stripe::gateway::StripeGateway;

async fn current_status(conn: &mut Conn, id: &str) -> ApiResult<OrderStatus> {
    let order = store::orders::get(conn, id)
        .await?
        .ok_or_else(|| ApiError::not_found("order"))?;
    Ok(order.status)
}

#[rocket::post("/api/v1/shop/orders/<id>/payment-intent")]
async fn create_payment_intent(
    caller: CheckoutCaller,
    db: &Db,
    stripe: &State<StripeGateway>,
    id: Id<'_>,
) -> ApiResult<Success<PaymentIntentView>> {
    let mut conn = db.acquire().await?;
    let order = find_order(&mut conn, id.0, Some(&caller.user.row.id)).await?;
    drop(conn);
    // The use case answers with the items and status it read: nothing to
    // read again here.
    let intent = intent::ensure(db, stripe, &order, &caller.user.row).await?;
    let view = PaymentIntentView::new(intent.payment_intent, intent.items, intent.order_status)
        .map_err(ApiError::internal)?;
    Ok(if intent.created {
        Success::created("Payment intent created successfully", view)
    } else {
        Success::ok("Payment intent retrieved", view)
    })
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ConfirmRequest {
    /// A Stripe PaymentMethod id (`pm_...`); raw card numbers are never accepted.
    #[serde(default)]
    pub payment_method: Option<String>,
    /// One of the customer's saved cards (`/api/v1/users/me/cards`), instead of `payment_method`.
    #[serde(default)]
    pub card_id: Option<String>,
    /// Where 3-D Secure returns the customer, for redirect flows.
    #[serde(default)]
    pub return_url: Option<String>,
}

/// The PaymentMethod to confirm with: a `pm_...` id, or one of the
/// customer's saved cards.
async fn payment_method(
    conn: &mut Conn,
    user_id: &str,
    request: &ConfirmRequest,
) -> ApiResult<String> {
    match (
        request.payment_method.as_deref(),
        request.card_id.as_deref(),
    ) {
        (Some(pm), None) => Ok(payment_method_id(pm)?.to_string()),
        (None, Some(card_id)) => store::cards::get(conn, user_id, card_id)
            .await?
            .map(|card| card.stripe_payment_method_id)
            .ok_or_else(|| {
                ApiError::invalid_field("unknown_card", "card_id", "is not one of your saved cards")
            }),
        (Some(_), Some(_)) => Err(ApiError::invalid_field(
            "ambiguous_payment_method",
            "payment_method",
            "send `payment_method` or `card_id`, not both",
        )),
        (None, None) => Err(ApiError::invalid_field(
            "payment_method_required",
            "payment_method",
            "is required (a pm_... id), or `card_id` for a saved card",
        )),
    }
}

#[rocket::post("/api/v1/shop/orders/<id>/payment-intent/confirm", data = "<body>")]
async fn confirm_payment_intent(
    caller: CheckoutCaller,
    db: &Db,
    stripe: &State<StripeGateway>,
    id: Id<'_>,
    body: JsonBody<ConfirmRequest>,
) -> ApiResult<Success<PaymentIntentView>> {
    let mut conn = db.acquire().await?;
    let order = find_order(&mut conn, id.0, Some(&caller.user.row.id)).await?;
    let pm = payment_method(&mut conn, &caller.user.row.id, &body.0).await?;
    drop(conn);
    if let Some(url) = &body.0.return_url {
        if !(url.starts_with("https://") || url.starts_with("http://")) || url.len() > 2048 {
            return Err(ApiError::invalid_field(
                "invalid_return_url",
                "return_url",
                "must be an http(s) URL",
            ));
        }
    }
    let pi = confirm::confirm(db, stripe, &order, &pm, body.0.return_url.as_deref()).await?;
    let mut conn = db.acquire().await?;
    let items = store::orders::items(&mut conn, std::slice::from_ref(&order.id)).await?;
    let status = current_status(&mut conn, id.0).await?;
    let view = PaymentIntentView::new(pi, items, status).map_err(ApiError::internal)?;
    Ok(Success::ok("Payment intent confirmed", view))
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PaymentCallback {
    /// Which of the order's PaymentIntents paid it; the latest one when omitted.
    #[serde(default)]
    pub payment_intent_id: Option<String>,
}

/// The payment system says the order is paid. orderpay does not take its word:
/// it reads the PaymentIntent from Stripe and marks the order paid only if it
/// succeeded for exactly this order's amount and currency.
#[rocket::post("/api/v1/shop/orders/<id>/payment", data = "<body>")]
async fn payment_callback(
    _key: Scoped<PaymentsCallback>,
    db: &Db,
    stripe: &State<StripeGateway>,
    id: Id<'_>,
    body: OptionalJsonBody<PaymentCallback>,
) -> ApiResult<Success<OrderView>> {
    let mut conn = db.acquire().await?;
    let order = find_order(&mut conn, id.0, None).await?;
    drop(conn);
    let wanted = body.0.and_then(|b| b.payment_intent_id);
    let settled = callback::settle_callback(db, stripe, &order, wanted.as_deref()).await?;
    let mut conn = db.acquire().await?;
    let view = match settled {
        Some(row) => order_view_of(&mut conn, row).await?,
        None => order_view(&mut conn, &order.id)
            .await?
            .ok_or_else(|| ApiError::not_found("order"))?,
    };
    Ok(Success::ok("Order paid", view))
}

#[rocket::post("/api/v1/shop/orders/<id>/cancel")]
async fn cancel_order(
    caller: Caller,
    db: &Db,
    stripe: &State<StripeGateway>,
    id: Id<'_>,
) -> ApiResult<Success<OrderView>> {
    let mut conn = db.acquire().await?;
    let order = find_order(&mut conn, id.0, caller.user_id()).await?;
    drop(conn);
    let source = match caller {
        Caller::User(_) => Source::Api,
        Caller::Admin(_) => Source::Admin,
    };
    cancel::cancel(db, stripe, &order, &source).await?;
    let mut conn = db.acquire().await?;
    let view = order_view(&mut conn, &order.id)
        .await?
        .ok_or_else(|| ApiError::not_found("order"))?;
    Ok(Success::ok("Order canceled", view))
}

pub fn routes() -> Vec<Route> {
    rocket::routes![
        create_payment_intent,
        confirm_payment_intent,
        payment_callback,
        cancel_order
    ]
}

pub fn endpoints() -> Vec<Endpoint> {
    vec![
        Endpoint {
            method: Method::Post,
            path: "/api/v1/shop/orders/<id>/payment-intent",
            summary: "Create (201) or return the live (200) PaymentIntent for the customer's order",
            access: Access::UserAndApiKey(Scope::Checkout),
            query: &[],
            body: Body::None,
            response: Some(schema::<Envelope<PaymentIntentView>>),
            success: &[201, 200],
            headers: &[],
            errors: &[401, 403, 404, 409, 503],
        },
        Endpoint {
            method: Method::Post,
            path: "/api/v1/shop/orders/<id>/payment-intent/confirm",
            summary: "Confirm the order's PaymentIntent server-side with a PaymentMethod (pm_...)",
            access: Access::UserAndApiKey(Scope::Checkout),
            query: &[],
            body: Body::Required(schema::<ConfirmRequest>),
            response: Some(schema::<Envelope<PaymentIntentView>>),
            success: &[200],
            headers: &[],
            errors: &[400, 401, 402, 403, 404, 409, 413, 415, 422, 503],
        },
        Endpoint {
            method: Method::Post,
            path: "/api/v1/shop/orders/<id>/payment",
            summary: "Payment-system callback: mark the order paid after checking its PaymentIntent at Stripe",
            access: Access::ApiKey(Scope::PaymentsCallback),
            query: &[],
            body: Body::Optional(schema::<PaymentCallback>),
            response: Some(schema::<Envelope<OrderView>>),
            success: &[200],
            headers: &[],
            errors: &[400, 401, 403, 404, 409, 415, 422, 503],
        },
        Endpoint {
            method: Method::Post,
            path: "/api/v1/shop/orders/<id>/cancel",
            summary: "Cancel an unpaid order (its PaymentIntent at Stripe first); a paid order is a 409",
            access: Access::UserOrAdmin,
            query: &[],
            body: Body::None,
            response: Some(schema::<Envelope<OrderView>>),
            success: &[200],
            headers: &[],
            errors: &[401, 403, 404, 409, 503],
        },
    ]
}
