use std::collections::HashMap;

use rocket::http::Method;
use rocket::Route;
use schemars::JsonSchema;
use serde::Deserialize;

use super::lookup::{created_order_view, order_view};
use super::paging::{pagination, parse_limit, position_after, CURSOR_PARAM, LIMIT_PARAM};
use crate::auth::Caller;
use crate::db::Db;
use crate::domain::pricing::{price_order, CatalogEntry, FieldError, LineRequest};
use crate::domain::{Currency, OrderStatus, Source};
use crate::http::body::JsonBody;
use crate::http::error::{ApiError, ApiResult};
use crate::http::input::{currency_param, AmountInput, Id};
use crate::http::openapi::{schema, Access, Body, Endpoint, QueryParam};
use crate::http::response::{Envelope, ListEnvelope, Success};
use crate::http::views::OrderView;
use crate::store::{self, orders::ListFilter, orders::NewOrder, Conn};

/// A new order. Customers send `items` (sku + quantity) and pay catalog
/// prices; an admin creating a test order may send `line_items` instead, set
/// `unit_amount`, and attach an existing customer by email.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateOrderRequest {
    #[serde(default)]
    #[schemars(length(min = 1, max = 100))]
    pub items: Option<Vec<OrderItemInput>>,
    /// Admin only: the same as `items`, for explicit test orders.
    #[serde(default)]
    #[schemars(length(min = 1, max = 100))]
    pub line_items: Option<Vec<OrderItemInput>>,
    /// Defaults to the products' currency; when given, every product must be priced in it.
    #[serde(default)]
    #[schemars(schema_with = "crate::http::openapi::formats::nullable_currency_code")]
    pub currency: Option<String>,
    /// Admin only: email of an existing customer who will own the order.
    #[serde(default)]
    pub customer_email: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OrderItemInput {
    #[schemars(regex(pattern = r"^[A-Z0-9_-]{1,64}$"))]
    pub sku: String,
    /// 1-999.
    #[schemars(range(min = 1, max = 999))]
    pub quantity: i64,
    /// Admin only: overrides the catalog price for a test order (major units).
    #[serde(default)]
    pub unit_amount: Option<AmountInput>,
}

pub fn field_error(err: FieldError) -> ApiError {
    ApiError::invalid_field(err.code, &err.field, err.message)
}

/// Looks up every requested sku in one query.
pub async fn catalog_for(
    conn: &mut Conn,
    lines: &[LineRequest],
) -> ApiResult<HashMap<String, CatalogEntry>> {
    let skus: Vec<String> = lines.iter().map(|l| l.sku.clone()).collect();
    let rows = store::products::find_many(conn, &skus).await?;
    Ok(rows
        .into_iter()
        .map(|row| row.catalog_entry())
        .map(|entry| (entry.sku.clone(), entry))
        .collect())
}

/// The items list the request used, and its name for error paths.
fn requested_items(request: &CreateOrderRequest) -> ApiResult<(&'static str, &[OrderItemInput])> {
    match (&request.items, &request.line_items) {
        (Some(items), None) => Ok(("items", items)),
        (None, Some(items)) => Ok(("line_items", items)),
        (Some(_), Some(_)) => Err(ApiError::invalid_field(
            "ambiguous_items",
            "items",
            "send `items` or `line_items`, not both",
        )),
        (None, None) => Err(ApiError::invalid_field(
            "items_required",
            "items",
            "is required",
        )),
    }
}

/// Customers pay catalog prices for themselves; only admins may set prices or owners.
fn check_customer_request(
    list_field: &str,
    items: &[OrderItemInput],
    request: &CreateOrderRequest,
) -> ApiResult<()> {
    if let Some(index) = items.iter().position(|item| item.unit_amount.is_some()) {
        return Err(ApiError::invalid_field(
            "price_not_allowed",
            &format!("{list_field}[{index}].unit_amount"),
            "prices come from the catalog",
        ));
    }
    if request.customer_email.is_some() {
        return Err(ApiError::invalid_field(
            "field_not_allowed",
            "customer_email",
            "orders are created for the logged-in user",
        ));
    }
    Ok(())
}

#[rocket::post("/api/v1/shop/orders", data = "<body>")]
async fn create_order(
    caller: Caller,
    db: &Db,
    body: JsonBody<CreateOrderRequest>,
) -> ApiResult<Success<OrderView>> {
    let request = body.0;
    let (list_field, items) = requested_items(&request)?;
    if let Caller::User(_) = caller {
        check_customer_request(list_field, items, &request)?;
    }
    let currency = match &request.currency {
        Some(code) => Some(Currency::parse(code).ok_or_else(|| {
            ApiError::invalid_field(
                "unsupported_currency",
                "currency",
                format!("'{code}' is not a currency Stripe charges in"),
            )
        })?),
        None => None,
    };
    let lines: Vec<LineRequest> = items
        .iter()
        .map(|item| LineRequest {
            sku: item.sku.clone(),
            quantity: item.quantity,
            unit_amount: item.unit_amount.as_ref().map(|a| a.0.clone()),
        })
        .collect();
    let mut conn = db.acquire().await?;
    let catalog = catalog_for(&mut conn, &lines).await?;
    let priced = price_order(list_field, &lines, currency, |sku| {
        catalog.get(sku).cloned()
    })
    .map_err(field_error)?;
    let owner = match (&caller, &request.customer_email) {
        (Caller::User(user), _) => Some(user.row.clone()),
        (Caller::Admin(_), Some(email)) => Some(
            store::users::find_by_email(&mut conn, email)
                .await?
                .ok_or_else(|| {
                    ApiError::invalid_field(
                        "unknown_customer",
                        "customer_email",
                        "no customer with this email",
                    )
                })?,
        ),
        (Caller::Admin(_), None) => None,
    };
    drop(conn);
    let mut tx = db.begin().await?;
    let new = NewOrder {
        priced: &priced,
        user_id: owner.as_ref().map(|u| u.id.as_str()),
        email: owner.as_ref().map(|u| u.email.as_str()),
        number: None,
        source: &Source::Api,
    };
    let order = store::orders::insert(&mut tx, new)
        .await?
        .ok_or_else(|| ApiError::internal("generated order number was not inserted"))?;
    tx.commit().await?;
    let view = created_order_view(order);
    Ok(Success::created("order created", view))
}

#[rocket::get("/api/v1/shop/orders?<status>&<currency>&<limit>&<cursor>")]
async fn list_orders(
    caller: Caller,
    db: &Db,
    status: Option<&str>,
    currency: Option<&str>,
    limit: Option<&str>,
    cursor: Option<&str>,
) -> ApiResult<Success<Vec<OrderView>>> {
    let status = status
        .map(|s| {
            s.parse::<OrderStatus>().map_err(|_| {
                let known: Vec<_> = OrderStatus::ALL.iter().map(|s| s.as_str()).collect();
                ApiError::invalid_field(
                    "invalid_status",
                    "status",
                    format!("must be one of {}", known.join(", ")),
                )
            })
        })
        .transpose()?;
    let currency = currency.map(currency_param).transpose()?;
    let limit = parse_limit(limit)?;
    let after = position_after(cursor)?;
    let filter = ListFilter {
        status,
        currency,
        user_id: caller.user_id().map(str::to_string),
        after,
        limit,
    };
    let mut conn = db.acquire().await?;
    let (rows, has_more) = store::orders::list(&mut conn, &filter).await?;
    let page = pagination(limit, has_more, rows.last(), |o| vec![&o.created_at, &o.id]);
    let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
    let items = store::orders::items(&mut conn, &ids).await?;
    Ok(Success::paginated(
        "orders",
        OrderView::many(rows, items),
        page,
    ))
}

#[rocket::get("/api/v1/shop/orders/<id>")]
async fn get_order(caller: Caller, db: &Db, id: Id<'_>) -> ApiResult<Success<OrderView>> {
    let mut conn = db.acquire().await?;
    let view = order_view(&mut conn, id.0)
        .await?
        .filter(|order| caller.can_see(order.customer_id.as_deref()))
        .ok_or_else(|| ApiError::not_found("order"))?;
    Ok(Success::ok("order", view))
}

pub fn routes() -> Vec<Route> {
    rocket::routes![create_order, list_orders, get_order]
}

pub fn endpoints() -> Vec<Endpoint> {
    vec![
        Endpoint {
            method: Method::Post,
            path: "/api/v1/shop/orders",
            summary:
                "Create an order: a customer's own from catalog prices, or an admin's test order",
            access: Access::UserOrAdmin,
            query: &[],
            body: Body::Required(schema::<CreateOrderRequest>),
            response: Some(schema::<Envelope<OrderView>>),
            success: &[201],
            headers: &[],
            errors: &[400, 401, 403, 413, 415, 422, 503],
        },
        Endpoint {
            method: Method::Get,
            path: "/api/v1/shop/orders",
            summary: "List orders, newest first: a customer's own, or all for an admin",
            access: Access::UserOrAdmin,
            query: &[
                QueryParam {
                    name: "status",
                    description: "filter by order status",
                    schema: r#"{"type": "string", "enum": ["pending_payment", "processing", "payment_failed", "paid", "partially_refunded", "refunded", "canceled"]}"#,
                },
                QueryParam {
                    name: "currency",
                    description: "filter by currency (ISO code)",
                    schema: r##"{"$ref": "#/components/schemas/CurrencyCode"}"##,
                },
                LIMIT_PARAM,
                CURSOR_PARAM,
            ],
            body: Body::None,
            response: Some(schema::<ListEnvelope<OrderView>>),
            success: &[200],
            headers: &[],
            errors: &[401, 403, 422, 503],
        },
        Endpoint {
            method: Method::Get,
            path: "/api/v1/shop/orders/<id>",
            summary: "One order with its line items and history",
            access: Access::UserOrAdmin,
            query: &[],
            body: Body::None,
            response: Some(schema::<Envelope<OrderView>>),
            success: &[200],
            headers: &[],
            errors: &[401, 403, 404, 503],
        },
    ]
}
