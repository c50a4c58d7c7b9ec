//! What operators look at when money and orders disagree: the webhook inbox
//! and the recorded payment mismatches (scope `admin`). A mismatch with
//! reason `order_not_payable` is money taken for an order that can no longer
//! be paid: it needs a refund.

use rocket::http::Method;
use rocket::Route;

use super::paging::{pagination, parse_limit, position_after, CURSOR_PARAM, LIMIT_PARAM};
use crate::auth::api_key::{Admin, Scoped};
use crate::auth::Scope;
use crate::db::Db;
use crate::domain::InboxStatus;
use crate::http::error::{ApiError, ApiResult};
use crate::http::input::id_param;
use crate::http::openapi::{schema, Access, Body, Endpoint, QueryParam};
use crate::http::response::{ListEnvelope, Success};
use crate::http::views::{MismatchView, WebhookEventView};
use crate::store::{self};

#[rocket::get("/api/v1/admin/webhook-events?<type>&<order_id>&<status>&<limit>&<cursor>")]
async fn list_webhook_events(
    _key: Scoped<Admin>,
    db: &Db,
    r#type: Option<&str>,
    order_id: Option<&str>,
    status: Option<&str>,
    limit: Option<&str>,
    cursor: Option<&str>,
) -> ApiResult<Success<Vec<WebhookEventView>>> {
    let limit = parse_limit(limit)?;
    let after = position_after(cursor)?;
    let order_id = order_id.map(|raw| id_param("order_id", raw)).transpose()?;
    let status = status
        .map(|raw| {
            raw.parse::<InboxStatus>().map_err(|_| {
                ApiError::invalid_field(
                    "invalid_status",
                    "status",
                    "must be one of pending, processing, failed, processed",
                )
            })
        })
        .transpose()?;
    let mut conn = db.acquire().await?;
    let (rows, has_more) =
        store::webhook_events::list(&mut conn, r#type, order_id, status, after.as_ref(), limit)
            .await?;
    let page = pagination(limit, has_more, rows.last(), |e| {
        vec![&e.received_at, &e.id]
    });
    let views = rows.into_iter().map(WebhookEventView::from).collect();
    Ok(Success::paginated("webhook events", views, page))
}

#[rocket::get("/api/v1/admin/payment-mismatches?<order_id>&<limit>&<cursor>")]
async fn list_mismatches(
    _key: Scoped<Admin>,
    db: &Db,
    order_id: Option<&str>,
    limit: Option<&str>,
    cursor: Option<&str>,
) -> ApiResult<Success<Vec<MismatchView>>> {
    let limit = parse_limit(limit)?;
    let after = position_after(cursor)?;
    let order_id = order_id.map(|raw| id_param("order_id", raw)).transpose()?;
    let mut conn = db.acquire().await?;
    let (rows, has_more) =
        store::payments::mismatches(&mut conn, order_id, after.as_ref(), limit).await?;
    let page = pagination(limit, has_more, rows.last(), |m| vec![&m.at, &m.id]);
    let views = rows.into_iter().map(MismatchView::from).collect();
    Ok(Success::paginated("payment mismatches", views, page))
}

pub fn routes() -> Vec<Route> {
    rocket::routes![list_webhook_events, list_mismatches]
}

const ORDER_PARAM: QueryParam = QueryParam {
    name: "order_id",
    description: "one order's entries (its id)",
    schema: r#"{"type": "string", "format": "uuid"}"#,
};

pub fn endpoints() -> Vec<Endpoint> {
    vec![
        Endpoint {
            method: Method::Get,
            path: "/api/v1/admin/webhook-events",
            summary:
                "The Stripe webhook inbox, newest first, with what handling each event did (admin)",
            access: Access::ApiKey(Scope::Admin),
            query: &[
                QueryParam {
                    name: "type",
                    description: "Stripe event type, e.g. payment_intent.succeeded",
                    schema: r#"{"type": "string"}"#,
                },
                ORDER_PARAM,
                QueryParam {
                    name: "status",
                    description: "entries in one state: pending, processing, failed (retried later; see last_error) or processed",
                    schema: r#"{"type": "string", "enum": ["pending", "processing", "failed", "processed"]}"#,
                },
                LIMIT_PARAM,
                CURSOR_PARAM,
            ],
            body: Body::None,
            response: Some(schema::<ListEnvelope<WebhookEventView>>),
            success: &[200],
            headers: &[],
            errors: &[401, 403, 422, 503],
        },
        Endpoint {
            method: Method::Get,
            path: "/api/v1/admin/payment-mismatches",
            summary: "PaymentIntents that could not pay their order, newest first (admin)",
            access: Access::ApiKey(Scope::Admin),
            query: &[ORDER_PARAM, LIMIT_PARAM, CURSOR_PARAM],
            body: Body::None,
            response: Some(schema::<ListEnvelope<MismatchView>>),
            success: &[200],
            headers: &[],
            errors: &[401, 403, 422, 503],
        },
    ]
}
