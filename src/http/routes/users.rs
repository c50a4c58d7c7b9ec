//! Customers' own accounts: register, log in and out, see and change themselves.

use std::net::IpAddr;

use rocket::http::Method;
use rocket::{Route, State};
use schemars::JsonSchema;
use serde::Deserialize;

use crate::accounts::{self, Changes};
use crate::auth::hash_pool::HashPool;
use crate::auth::User;
use crate::config::Settings;
use crate::db::{now_text, Db};
use crate::http::body::JsonBody;
use crate::http::error::{ApiError, ApiResult};
use crate::http::openapi::{schema, Access, Body, Endpoint};
use crate::http::response::{Envelope, Success};
use crate::http::views::{AuthGrant, UserView};
use crate::store;

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterRequest {
    #[schemars(email, length(max = 254))]
    pub email: String,
    #[schemars(
        length(min = 1, max = 100),
        regex = "crate::http::openapi::formats::DISPLAY_NAME_PATTERN"
    )]
    pub name: String,
    #[schemars(length(min = 8, max = 128))]
    pub password: String,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub email: String,
    pub password: String,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateMeRequest {
    #[serde(default)]
    #[schemars(
        length(min = 1, max = 100),
        regex = "crate::http::openapi::formats::DISPLAY_NAME_PATTERN"
    )]
    pub name: Option<String>,
    #[serde(default)]
    #[schemars(email, length(max = 254))]
    pub email: Option<String>,
    /// A new password; needs `current_password`, and logs out every session.
    #[serde(default)]
    #[schemars(length(min = 8, max = 128))]
    pub password: Option<String>,
    #[serde(default)]
    pub current_password: Option<String>,
}

fn grant(user: store::users::UserRow, token: crate::auth::bearer::IssuedToken) -> AuthGrant {
    AuthGrant {
        access_token: token.token,
        token_type: "Bearer",
        expires_at: token.expires_at,
        user: user.into(),
    }
}

#[rocket::post("/api/v1/users/register", data = "<body>")]
async fn register(
    db: &Db,
    settings: &State<Settings>,
    hashes: &State<HashPool>,
    client: Option<IpAddr>,
    body: JsonBody<RegisterRequest>,
) -> ApiResult<Success<AuthGrant>> {
    let r = body.0;
    let (user, token) =
        accounts::register(db, settings, hashes, client, &r.email, &r.name, &r.password).await?;
    Ok(Success::created("registered", grant(user, token)))
}

#[rocket::post("/api/v1/users/login", data = "<body>")]
async fn login(
    db: &Db,
    settings: &State<Settings>,
    hashes: &State<HashPool>,
    body: JsonBody<LoginRequest>,
) -> ApiResult<Success<AuthGrant>> {
    let (user, token) =
        accounts::login(db, settings, hashes, &body.0.email, &body.0.password).await?;
    Ok(Success::ok("logged in", grant(user, token)))
}

#[rocket::post("/api/v1/users/logout")]
async fn logout(user: User, db: &Db) -> ApiResult<Success<()>> {
    let mut conn = db.writer().acquire().await?;
    store::tokens::revoke(&mut conn, &user.token_id, &now_text()).await?;
    Ok(Success::ok("logged out", ()))
}

#[rocket::get("/api/v1/users/me")]
async fn me(user: User) -> Success<UserView> {
    Success::ok("user", user.row.into())
}

#[rocket::patch("/api/v1/users/me", data = "<body>")]
async fn update_me(
    user: User,
    db: &Db,
    hashes: &State<HashPool>,
    body: JsonBody<UpdateMeRequest>,
) -> ApiResult<Success<UserView>> {
    let r = body.0;
    if r.password.is_some() {
        accounts::check_current_password(hashes, &user.row, r.current_password.as_deref()).await?;
    }
    let changes = Changes {
        name: r.name.as_deref(),
        email: r.email.as_deref(),
        password: r.password.as_deref(),
    };
    let updated = accounts::update(db, hashes, user.row, changes).await?;
    Ok(Success::ok("user updated", updated.into()))
}

#[rocket::delete("/api/v1/users/me")]
async fn delete_me(user: User, db: &Db) -> ApiResult<Success<UserView>> {
    let mut conn = db.writer().acquire().await?;
    if !store::users::delete(&mut conn, &user.row.id).await? {
        return Err(ApiError::not_found("user"));
    }
    Ok(Success::ok("user deleted", user.row.into()))
}

pub fn routes() -> Vec<Route> {
    rocket::routes![register, login, logout, me, update_me, delete_me]
}

pub fn endpoints() -> Vec<Endpoint> {
    let me = |method, summary, request, errors: &'static [u16]| Endpoint {
        method,
        path: "/api/v1/users/me",
        summary,
        access: Access::User,
        query: &[],
        body: request,
        response: Some(schema::<Envelope<UserView>>),
        success: &[200],
        headers: &[],
        errors,
    };
    vec![
        Endpoint {
            method: Method::Post,
            path: "/api/v1/users/register",
            summary: "Create a customer account and log in",
            access: Access::Public,
            query: &[],
            body: Body::Required(schema::<RegisterRequest>),
            response: Some(schema::<Envelope<AuthGrant>>),
            success: &[201],
            headers: &[],
            errors: &[400, 409, 413, 415, 422, 429, 503],
        },
        Endpoint {
            method: Method::Post,
            path: "/api/v1/users/login",
            summary: "Exchange email and password for an access token",
            access: Access::Public,
            query: &[],
            body: Body::Required(schema::<LoginRequest>),
            response: Some(schema::<Envelope<AuthGrant>>),
            success: &[200],
            headers: &[],
            errors: &[400, 401, 413, 415, 422, 429, 503],
        },
        Endpoint {
            method: Method::Post,
            path: "/api/v1/users/logout",
            summary: "Revoke the access token used for this request",
            access: Access::User,
            query: &[],
            body: Body::None,
            response: None,
            success: &[200],
            headers: &[],
            errors: &[401, 503],
        },
        me(Method::Get, "The logged-in user", Body::None, &[401, 503]),
        me(
            Method::Patch,
            "Change name, email or password (a new password needs current_password and logs out every session)",
            Body::Required(schema::<UpdateMeRequest>),
            &[400, 401, 409, 413, 415, 422, 429, 503],
        ),
        me(Method::Delete, "Delete the logged-in user (their orders are kept)", Body::None, &[401, 503]),
    ]
}
