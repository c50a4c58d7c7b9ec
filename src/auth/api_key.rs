//! `X-API-Key` guards. `ApiKeyCaller` is any live key; `Scoped<S>` is a key
//! holding scope `S`. A missing, unknown or revoked key is 401; a key without
//! the scope is 403.

use std::marker::PhantomData;

use rocket::http::Status;
use rocket::outcome::Outcome;
use rocket::request::{self, FromRequest, Request};
use serde_json::json;

use super::{secret_digest, Scope};
use crate::http::error::{ApiError, GuardFailure};
use crate::store;

pub const HEADER: &str = "X-API-Key";

/// An authenticated API key.
#[derive(Debug, Clone)]
pub struct ApiKeyCaller {
    pub id: String,
    pub name: String,
    pub scopes: Vec<Scope>,
}

impl ApiKeyCaller {
    pub fn has(&self, scope: Scope) -> bool {
        self.scopes.contains(&scope)
    }
}

/// Fails the request with `error`, leaving it for the catcher to render.
pub fn reject<T>(req: &Request<'_>, error: ApiError) -> request::Outcome<T, ApiError> {
    GuardFailure::record(req, error.clone());
    Outcome::Error((error.status, error))
}

async fn authenticate(req: &Request<'_>) -> Result<Option<ApiKeyCaller>, ApiError> {
    let Some(key) = req.headers().get_one(HEADER) else {
        return Ok(None);
    };
    let db = crate::db::from_request(req).await?;
    let mut conn = db.acquire().await?;
    let row = store::api_keys::find_active_by_hash(&mut conn, &secret_digest(key.trim())).await?;
    let Some(row) = row else {
        return Err(ApiError::unauthorized(
            "invalid_api_key",
            "the `X-API-Key` is unknown or revoked",
        ));
    };
    Ok(Some(ApiKeyCaller {
        id: row.id,
        name: row.name,
        scopes: Scope::parse_list(&row.scopes).unwrap_or_default(),
    }))
}

impl ApiKeyCaller {
    /// The request's key, looked up once per request however many guards ask.
    pub async fn from_request_cached(req: &Request<'_>) -> Result<Option<ApiKeyCaller>, ApiError> {
        req.local_cache_async(authenticate(req)).await.clone()
    }
}

pub fn missing_key() -> ApiError {
    ApiError::unauthorized("missing_api_key", "missing `X-API-Key` header")
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for ApiKeyCaller {
    type Error = ApiError;

    async fn from_request(req: &'r Request<'_>) -> request::Outcome<Self, ApiError> {
        match ApiKeyCaller::from_request_cached(req).await {
            Ok(Some(caller)) => Outcome::Success(caller),
            Ok(None) => reject(req, missing_key()),
            Err(error) => reject(req, error),
        }
    }
}

/// Type-level scope, so a route's signature says what it needs: `Scoped<Admin>`.
pub trait RequiredScope: Send + Sync + 'static {
    const SCOPE: Scope;
}

macro_rules! scope_marker {
    ($($name:ident => $scope:expr),* $(,)?) => {
        $(
            pub struct $name;
            impl RequiredScope for $name {
                const SCOPE: Scope = $scope;
            }
        )*
    };
}

scope_marker! {
    Admin => Scope::Admin,
    Checkout => Scope::Checkout,
    PaymentsCallback => Scope::PaymentsCallback,
    PaymentsRead => Scope::PaymentsRead,
    RefundsWrite => Scope::RefundsWrite,
}

pub struct Scoped<S: RequiredScope> {
    pub caller: ApiKeyCaller,
    _scope: PhantomData<S>,
}

pub fn insufficient_scope(scope: Scope) -> ApiError {
    ApiError::new(
        Status::Forbidden,
        "insufficient_scope",
        format!("this API key lacks the `{scope}` scope"),
    )
    .with_details(json!({ "required_scope": scope.as_str() }))
}

#[rocket::async_trait]
impl<'r, S: RequiredScope> FromRequest<'r> for Scoped<S> {
    type Error = ApiError;

    async fn from_request(req: &'r Request<'_>) -> request::Outcome<Self, ApiError> {
        match ApiKeyCaller::from_request(req).await {
            Outcome::Success(caller) if caller.has(S::SCOPE) => Outcome::Success(Scoped {
                caller,
                _scope: PhantomData,
            }),
            Outcome::Success(_) => reject(req, insufficient_scope(S::SCOPE)),
            Outcome::Error(e) => Outcome::Error(e),
            Outcome::Forward(s) => Outcome::Forward(s),
        }
    }
}
