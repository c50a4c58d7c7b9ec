//! Refunding a paid order (scope `refunds:write`). The order's refunds are
//! listed in its single-order view.

use rocket::http::Method;
use rocket::{Route, State};
use schemars::JsonSchema;
use serde::Deserialize;

use super::lookup::find_order;
use crate::auth::api_key::{RefundsWrite, Scoped};
use crate::auth::Scope;
use crate::checkout::refund::{self, RefundInput};
use crate::db::Db;
use crate::http::body::OptionalJsonBody;
use crate::http::error::ApiResult;
use crate::http::idempotency::{self, RequestKey};
use crate::http::input::{AmountInput, Id};
use crate::http::openapi::{schema, Access, Body, Endpoint, HeaderParam};
use crate::http::response::{Envelope, Success};
use crate::http::views::RefundView;
use crate::stripe::gateway::StripeGateway;

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RefundRequest {
    /// Major units, at most what is left to refund; leave it out (or send
    /// `"full": true`) to refund all of it. Never `null`.
    // skip_serializing_if keeps schemars from documenting a `null` default
    // (OpenAPI 3.0 refuses it for a non-nullable field); nothing serializes this.
    #[serde(
        default,
        deserialize_with = "crate::http::input::not_null",
        skip_serializing_if = "Option::is_none"
    )]
    #[schemars(with = "AmountInput")]
    pub amount: Option<AmountInput>,
    /// `true` refunds all that is left (the same as an empty body); not
    /// together with `amount`.
    #[serde(
        default,
        deserialize_with = "crate::http::input::not_null",
        skip_serializing_if = "Option::is_none"
    )]
    #[schemars(with = "bool")]
    pub full: Option<bool>,
    /// `duplicate`, `fraudulent` or `requested_by_customer`.
    #[serde(default)]
    #[schemars(regex(pattern = r"^(duplicate|fraudulent|requested_by_customer)$"))]
    pub reason: Option<String>,
}

/// The body as the use case takes it; `refund::refund` checks it against
/// the order (an empty body is an empty request: a full refund).
impl From<RefundRequest> for RefundInput {
    fn from(request: RefundRequest) -> Self {
        RefundInput {
            amount: request.amount.map(|amount| amount.0),
            full: request.full,
            reason: request.reason,
        }
    }
}

/// Refunds all (empty body) or part of what the order's payment left
/// unrefunded. 201 for a new refund; 200 when an earlier request with the
/// same Idempotency-Key made it.
#[rocket::post("/api/v1/shop/orders/<id>/refunds", data = "<body>")]
async fn create_refund(
    _key: Scoped<RefundsWrite>,
    request_key: RequestKey,
    db: &Db,
    stripe: &State<StripeGateway>,
    id: Id<'_>,
    body: OptionalJsonBody<RefundRequest>,
) -> ApiResult<Success<RefundView>> {
    let mut conn = db.acquire().await?;
    let order = find_order(&mut conn, id.0, None).await?;
    drop(conn);
    let request = RefundInput::from(body.0.unwrap_or_default());
    let done = refund::refund(db, stripe, &order, &request, request_key.0.as_deref()).await?;
    let view = RefundView::from(done.refund);
    Ok(if done.created {
        Success::created("refund created", view)
    } else {
        Success::ok("refund already made with this Idempotency-Key", view)
    })
}

pub fn routes() -> Vec<Route> {
    rocket::routes![create_refund]
}

pub fn endpoints() -> Vec<Endpoint> {
    vec![Endpoint {
        method: Method::Post,
        path: "/api/v1/shop/orders/<id>/refunds",
        summary: "Refund a paid order in full (empty body, or `full: true`) or in part (`amount`); send an Idempotency-Key to retry safely",
        access: Access::ApiKey(Scope::RefundsWrite),
        query: &[],
        body: Body::Optional(schema::<RefundRequest>),
        response: Some(schema::<Envelope<RefundView>>),
        success: &[201, 200],
        headers: &[HeaderParam {
            name: idempotency::HEADER,
            description: "1-255 visible ASCII characters: a retry with the same key returns the same refund",
            required: false,
        }],
        errors: &[400, 401, 402, 403, 404, 409, 413, 415, 422, 503],
    }]
}
