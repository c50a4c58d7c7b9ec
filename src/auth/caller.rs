//! `Caller`: routes that serve both a logged-in customer (their own data) and
//! an admin key (everyone's data).

use rocket::outcome::Outcome;
use rocket::request::{self, FromRequest, Request};

use super::api_key::{insufficient_scope, reject, ApiKeyCaller};
use super::bearer::User;
use super::Scope;
use crate::http::error::ApiError;

#[derive(Debug, Clone)]
pub enum Caller {
    User(User),
    Admin(ApiKeyCaller),
}

impl Caller {
    /// The user whose data this caller is limited to; `None` for an admin.
    pub fn user_id(&self) -> Option<&str> {
        match self {
            Caller::User(user) => Some(&user.row.id),
            Caller::Admin(_) => None,
        }
    }

    /// Whether the caller may see a resource owned by `owner`. Callers that
    /// may not get a 404, never a 403: another user's order does not exist
    /// as far as they can tell.
    pub fn can_see(&self, owner: Option<&str>) -> bool {
        match self.user_id() {
            None => true,
            Some(me) => owner == Some(me),
        }
    }
}

pub fn missing_credentials() -> ApiError {
    ApiError::unauthorized(
        "missing_credentials",
        "send `Authorization: Bearer <token>` (a customer) or an `X-API-Key` with the `admin` scope",
    )
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for Caller {
    type Error = ApiError;

    /// A bearer token, when sent, decides (and must be valid); otherwise an
    /// `X-API-Key`, which must carry `admin`.
    async fn from_request(req: &'r Request<'_>) -> request::Outcome<Self, ApiError> {
        if req.headers().contains("Authorization") {
            return match User::from_request(req).await {
                Outcome::Success(user) => Outcome::Success(Caller::User(user)),
                Outcome::Error(e) => Outcome::Error(e),
                Outcome::Forward(s) => Outcome::Forward(s),
            };
        }
        match ApiKeyCaller::from_request_cached(req).await {
            Ok(Some(key)) if key.has(Scope::Admin) => Outcome::Success(Caller::Admin(key)),
            Ok(Some(_)) => reject(req, insufficient_scope(Scope::Admin)),
            Ok(None) => reject(req, missing_credentials()),
            Err(error) => reject(req, error),
        }
    }
}

/// Checkout calls: the shop's server key (scope `checkout`) acting for the
/// logged-in customer whose order it is. Both are required.
#[derive(Debug, Clone)]
pub struct CheckoutCaller {
    pub user: User,
    pub key: ApiKeyCaller,
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for CheckoutCaller {
    type Error = ApiError;

    async fn from_request(req: &'r Request<'_>) -> request::Outcome<Self, ApiError> {
        let user = match User::from_request(req).await {
            Outcome::Success(user) => user,
            Outcome::Error(e) => return Outcome::Error(e),
            Outcome::Forward(s) => return Outcome::Forward(s),
        };
        match ApiKeyCaller::from_request_cached(req).await {
            Ok(Some(key)) if key.has(Scope::Checkout) => {
                Outcome::Success(CheckoutCaller { user, key })
            }
            Ok(Some(_)) => reject(req, insufficient_scope(Scope::Checkout)),
            Ok(None) => reject(req, super::api_key::missing_key()),
            Err(error) => reject(req, error),
        }
    }
}
