//! Admin management of users (scope `admin`).

use rocket::http::Method;
use rocket::Route;
use schemars::JsonSchema;
use serde::Deserialize;

use super::paging::{pagination, parse_limit, position_after, CURSOR_PARAM, LIMIT_PARAM};
use crate::accounts::{self, Changes};
use crate::auth::api_key::{Admin, Scoped};
use crate::auth::Scope;
use crate::db::Db;
use crate::http::body::JsonBody;
use crate::http::error::{ApiError, ApiResult};
use crate::http::input::Id;
use crate::http::openapi::{schema, Access, Body, Endpoint};
use crate::http::response::{Envelope, ListEnvelope, Success};
use crate::http::views::UserView;
use crate::store;

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AdminUpdateUserRequest {
    #[serde(default)]
    #[schemars(
        length(min = 1, max = 100),
        regex = "crate::http::openapi::formats::DISPLAY_NAME_PATTERN"
    )]
    pub name: Option<String>,
    #[serde(default)]
    #[schemars(email, length(max = 254))]
    pub email: Option<String>,
    /// Sets a new password and logs the user out everywhere.
    #[serde(default)]
    #[schemars(length(min = 8, max = 128))]
    pub password: Option<String>,
}

#[rocket::get("/api/v1/users?<limit>&<cursor>")]
async fn list_users(
    _key: Scoped<Admin>,
    db: &Db,
    limit: Option<&str>,
    cursor: Option<&str>,
) -> ApiResult<Success<Vec<UserView>>> {
    let limit = parse_limit(limit)?;
    let after = position_after(cursor)?;
    let mut conn = db.acquire().await?;
    let after_ref = after.as_ref().map(|(at, id)| (at.as_str(), id.as_str()));
    let (rows, has_more) = store::users::list(&mut conn, after_ref, limit).await?;
    let page = pagination(limit, has_more, rows.last(), |u| vec![&u.created_at, &u.id]);
    let users = rows.into_iter().map(UserView::from).collect();
    Ok(Success::paginated("users", users, page))
}

async fn find(db: &Db, id: &str) -> ApiResult<store::users::UserRow> {
    let mut conn = db.acquire().await?;
    store::users::get(&mut conn, id)
        .await?
        .ok_or_else(|| ApiError::not_found("user"))
}

#[rocket::get("/api/v1/users/<id>")]
async fn get_user(_key: Scoped<Admin>, db: &Db, id: Id<'_>) -> ApiResult<Success<UserView>> {
    Ok(Success::ok("user", find(db, id.0).await?.into()))
}

#[rocket::patch("/api/v1/users/<id>", data = "<body>")]
async fn update_user(
    _key: Scoped<Admin>,
    db: &Db,
    hashes: &rocket::State<crate::auth::hash_pool::HashPool>,
    id: Id<'_>,
    body: JsonBody<AdminUpdateUserRequest>,
) -> ApiResult<Success<UserView>> {
    let user = find(db, id.0).await?;
    let r = body.0;
    let changes = Changes {
        name: r.name.as_deref(),
        email: r.email.as_deref(),
        password: r.password.as_deref(),
    };
    let updated = accounts::update(db, hashes, user, changes).await?;
    Ok(Success::ok("user updated", updated.into()))
}

#[rocket::delete("/api/v1/users/<id>")]
async fn delete_user(_key: Scoped<Admin>, db: &Db, id: Id<'_>) -> ApiResult<Success<UserView>> {
    let user = find(db, id.0).await?;
    let mut conn = db.writer().acquire().await?;
    if !store::users::delete(&mut conn, id.0).await? {
        return Err(ApiError::not_found("user"));
    }
    Ok(Success::ok("user deleted", user.into()))
}

pub fn routes() -> Vec<Route> {
    rocket::routes![list_users, get_user, update_user, delete_user]
}

pub fn endpoints() -> Vec<Endpoint> {
    let one = |method, summary, request, errors: &'static [u16]| Endpoint {
        method,
        path: "/api/v1/users/<id>",
        summary,
        access: Access::ApiKey(Scope::Admin),
        query: &[],
        body: request,
        response: Some(schema::<Envelope<UserView>>),
        success: &[200],
        headers: &[],
        errors,
    };
    vec![
        Endpoint {
            method: Method::Get,
            path: "/api/v1/users",
            summary: "List users, oldest first (admin)",
            access: Access::ApiKey(Scope::Admin),
            query: &[LIMIT_PARAM, CURSOR_PARAM],
            body: Body::None,
            response: Some(schema::<ListEnvelope<UserView>>),
            success: &[200],
            headers: &[],
            errors: &[401, 403, 422, 503],
        },
        one(
            Method::Get,
            "One user (admin)",
            Body::None,
            &[401, 403, 404, 503],
        ),
        one(
            Method::Patch,
            "Change a user's name, email or password (admin)",
            Body::Required(schema::<AdminUpdateUserRequest>),
            &[400, 401, 403, 404, 409, 413, 415, 422, 503],
        ),
        one(
            Method::Delete,
            "Delete a user; their orders are kept (admin)",
            Body::None,
            &[401, 403, 404, 503],
        ),
    ]
}
