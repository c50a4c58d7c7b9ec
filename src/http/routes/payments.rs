//! Payment listings for servers with the `payments:read` scope: every
//! PaymentIntent orderpay created, filtered by status, currency, amount and
//! time, newest first.

use rocket::http::Method;
use rocket::Route;

use super::paging::{pagination, parse_limit, position_after, CURSOR_PARAM, LIMIT_PARAM};
use crate::auth::api_key::{PaymentsRead, Scoped};
use crate::auth::Scope;
use crate::db::{timestamp_text, Db};
use crate::domain::money::parse_major;
use crate::domain::{Currency, PaymentIntentStatus};
use crate::http::error::{ApiError, ApiResult};
use crate::http::input::{currency_param, id_param};
use crate::http::openapi::{schema, Access, Body, Endpoint, QueryParam};
use crate::http::response::{ListEnvelope, Success};
use crate::http::views::PaymentView;
use crate::store::{self, payments::PaymentFilter};

/// One of Stripe's PaymentIntent statuses; not `unknown`, which only
/// stands for a status this version of orderpay does not know.
fn status_param(raw: &str) -> ApiResult<PaymentIntentStatus> {
    match raw.parse::<PaymentIntentStatus>() {
        Ok(status) if status != PaymentIntentStatus::Unknown => Ok(status),
        _ => {
            let known: Vec<&str> = PaymentIntentStatus::ALL
                .into_iter()
                .filter(|status| *status != PaymentIntentStatus::Unknown)
                .map(PaymentIntentStatus::as_str)
                .collect();
            Err(ApiError::invalid_field(
                "invalid_status",
                "status",
                format!("must be one of {}", known.join(", ")),
            ))
        }
    }
}

/// An amount bound: major units, exact, in the `currency` filter's currency.
fn amount_param(field: &str, raw: &str, currency: Option<Currency>) -> ApiResult<i64> {
    let currency = currency.ok_or_else(|| {
        ApiError::invalid_field(
            "currency_required",
            "currency",
            format!("is required with {field}: amounts are compared in one currency"),
        )
    })?;
    parse_major(raw, currency).map_err(|e| ApiError::invalid_field(e.code(), field, e.to_string()))
}

fn time_param(field: &str, raw: &str) -> ApiResult<String> {
    chrono::DateTime::parse_from_rfc3339(raw)
        .map(|at| timestamp_text(at.with_timezone(&chrono::Utc)))
        .map_err(|_| {
            ApiError::invalid_field(
                "invalid_timestamp",
                field,
                "must be an RFC 3339 time such as 2025-06-01T00:00:00Z",
            )
        })
}

#[allow(clippy::too_many_arguments)]
#[rocket::get(
    "/api/v1/payments?<status>&<currency>&<min_amount>&<max_amount>&<since>&<until>&<order_id>&<limit>&<cursor>"
)]
async fn list_payments(
    _key: Scoped<PaymentsRead>,
    db: &Db,
    status: Option<&str>,
    currency: Option<&str>,
    min_amount: Option<&str>,
    max_amount: Option<&str>,
    since: Option<&str>,
    until: Option<&str>,
    order_id: Option<&str>,
    limit: Option<&str>,
    cursor: Option<&str>,
) -> ApiResult<Success<Vec<PaymentView>>> {
    let currency = currency.map(currency_param).transpose()?;
    let filter = PaymentFilter {
        status: status.map(status_param).transpose()?,
        min_amount: min_amount
            .map(|raw| amount_param("min_amount", raw, currency))
            .transpose()?,
        max_amount: max_amount
            .map(|raw| amount_param("max_amount", raw, currency))
            .transpose()?,
        currency,
        since: since.map(|raw| time_param("since", raw)).transpose()?,
        until: until.map(|raw| time_param("until", raw)).transpose()?,
        order_id: order_id
            .map(|raw| id_param("order_id", raw).map(str::to_string))
            .transpose()?,
        after: position_after(cursor)?,
        limit: parse_limit(limit)?,
    };
    let mut conn = db.acquire().await?;
    let (rows, has_more) = store::payments::list(&mut conn, &filter).await?;
    let page = pagination(filter.limit, has_more, rows.last(), |p| {
        vec![&p.created_at, &p.id]
    });
    let views = rows.into_iter().map(PaymentView::from).collect();
    Ok(Success::paginated("payments", views, page))
}

pub fn routes() -> Vec<Route> {
    rocket::routes![list_payments]
}

pub fn endpoints() -> Vec<Endpoint> {
    vec![Endpoint {
        method: Method::Get,
        path: "/api/v1/payments",
        summary: "List payments (the PaymentIntents orderpay created), newest first, with filters",
        access: Access::ApiKey(Scope::PaymentsRead),
        query: &[
            QueryParam {
                name: "status",
                description: "the PaymentIntent's status as orderpay last saw it",
                schema: r#"{"type": "string", "enum": ["requires_payment_method", "requires_confirmation", "requires_action", "processing", "requires_capture", "canceled", "succeeded"]}"#,
            },
            QueryParam {
                name: "currency",
                description: "ISO code; required with min_amount or max_amount",
                schema: r##"{"$ref": "#/components/schemas/CurrencyCode"}"##,
            },
            QueryParam {
                name: "min_amount",
                description: "inclusive, major units of `currency` (\"100.00\")",
                schema: r##"{"$ref": "#/components/schemas/AmountText"}"##,
            },
            QueryParam {
                name: "max_amount",
                description: "inclusive, major units of `currency`",
                schema: r##"{"$ref": "#/components/schemas/AmountText"}"##,
            },
            QueryParam {
                name: "since",
                description: "created at or after (RFC 3339)",
                schema: r#"{"type": "string", "format": "date-time"}"#,
            },
            QueryParam {
                name: "until",
                description: "created before (RFC 3339)",
                schema: r#"{"type": "string", "format": "date-time"}"#,
            },
            QueryParam {
                name: "order_id",
                description: "one order's payments (its id)",
                schema: r#"{"type": "string", "format": "uuid"}"#,
            },
            LIMIT_PARAM,
            CURSOR_PARAM,
        ],
        body: Body::None,
        response: Some(schema::<ListEnvelope<PaymentView>>),
        success: &[200],
        headers: &[],
        errors: &[401, 403, 422, 503],
    }]
}
