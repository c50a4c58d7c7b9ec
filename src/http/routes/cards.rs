//! A customer's saved cards: save a PaymentMethod Stripe.js made, list them,
//! remove one. Paying with one is `card_id` in a confirmation.

use rocket::http::Method;
use rocket::{Route, State};
use schemars::JsonSchema;
use serde::Deserialize;

use super::paging::{pagination, parse_limit, position_after, CURSOR_PARAM, LIMIT_PARAM};
use crate::auth::User;
use crate::checkout::cards;
use crate::db::Db;
use crate::http::body::JsonBody;
use crate::http::error::{ApiError, ApiResult};
use crate::http::input::{payment_method_id, Id};
use crate::http::openapi::{schema, Access, Body, Endpoint};
use crate::http::response::{Envelope, ListEnvelope, Success};
use crate::http::views::CardView;
use crate::store;
use crate::stripe::gateway::StripeGateway;

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SaveCardRequest {
    /// A Stripe PaymentMethod id (`pm_...`) made by Stripe.js; never a card number.
    #[schemars(length(min = 4, max = 255), regex(pattern = r"^pm_[A-Za-z0-9_]+$"))]
    pub payment_method: String,
}

#[rocket::post("/api/v1/users/me/cards", data = "<body>")]
async fn save_card(
    user: User,
    db: &Db,
    stripe: &State<StripeGateway>,
    body: JsonBody<SaveCardRequest>,
) -> ApiResult<Success<CardView>> {
    let pm = payment_method_id(&body.0.payment_method)?;
    let (card, created) = cards::save(db, stripe, &user.row, pm).await?;
    Ok(if created {
        Success::created("card saved", card.into())
    } else {
        Success::ok("card already saved", card.into())
    })
}

#[rocket::get("/api/v1/users/me/cards?<limit>&<cursor>")]
async fn list_cards(
    user: User,
    db: &Db,
    limit: Option<&str>,
    cursor: Option<&str>,
) -> ApiResult<Success<Vec<CardView>>> {
    let limit = parse_limit(limit)?;
    let after = position_after(cursor)?;
    let mut conn = db.acquire().await?;
    let (rows, has_more) =
        store::cards::list(&mut conn, &user.row.id, after.as_ref(), limit).await?;
    let page = pagination(limit, has_more, rows.last(), |c| vec![&c.created_at, &c.id]);
    let views = rows.into_iter().map(CardView::from).collect();
    Ok(Success::paginated("cards", views, page))
}

/// Detaches the card at Stripe and forgets it. Another user's card is a 404.
#[rocket::delete("/api/v1/users/me/cards/<id>")]
async fn remove_card(
    user: User,
    db: &Db,
    stripe: &State<StripeGateway>,
    id: Id<'_>,
) -> ApiResult<Success<CardView>> {
    let mut conn = db.acquire().await?;
    let card = store::cards::get(&mut conn, &user.row.id, id.0)
        .await?
        .ok_or_else(|| ApiError::not_found("card"))?;
    drop(conn);
    cards::remove(db, stripe, &card).await?;
    Ok(Success::ok("card removed", card.into()))
}

pub fn routes() -> Vec<Route> {
    rocket::routes![save_card, list_cards, remove_card]
}

pub fn endpoints() -> Vec<Endpoint> {
    vec![
        Endpoint {
            method: Method::Post,
            path: "/api/v1/users/me/cards",
            summary: "Save a card (a Stripe PaymentMethod) to the customer's Stripe customer",
            access: Access::User,
            query: &[],
            body: Body::Required(schema::<SaveCardRequest>),
            response: Some(schema::<Envelope<CardView>>),
            success: &[201, 200],
            headers: &[],
            errors: &[400, 401, 409, 413, 415, 422, 503],
        },
        Endpoint {
            method: Method::Get,
            path: "/api/v1/users/me/cards",
            summary: "The customer's saved cards, in the order they were saved",
            access: Access::User,
            query: &[LIMIT_PARAM, CURSOR_PARAM],
            body: Body::None,
            response: Some(schema::<ListEnvelope<CardView>>),
            success: &[200],
            headers: &[],
            errors: &[401, 422, 503],
        },
        Endpoint {
            method: Method::Delete,
            path: "/api/v1/users/me/cards/<id>",
            summary: "Remove a saved card: detached at Stripe, then forgotten",
            access: Access::User,
            query: &[],
            body: Body::None,
            response: Some(schema::<Envelope<CardView>>),
            success: &[200],
            headers: &[],
            errors: &[401, 404, 503],
        },
    ]
}
