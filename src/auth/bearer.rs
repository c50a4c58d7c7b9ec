//! Users' bearer tokens: issuing them at register/login and the `User` guard
//! that reads `Authorization: Bearer <token>`.

use chrono::{Duration, Utc};
use rocket::outcome::Outcome;
use rocket::request::{self, FromRequest, Request};

use super::api_key::reject;
use super::{random_secret, secret_digest};
use crate::db::{new_id, now_text, timestamp_text};
use crate::http::error::ApiError;
use crate::store::{self, tokens::NewToken, users::UserRow, Conn};

/// A user authenticated by a live access token.
#[derive(Debug, Clone)]
pub struct User {
    pub row: UserRow,
    /// The token used for this request: what logout revokes.
    pub token_id: String,
}

pub struct IssuedToken {
    pub token: String,
    pub expires_at: String,
}

/// Creates a 256-bit random token for `user_id`; only its hash is stored.
pub async fn issue_token(
    conn: &mut Conn,
    user_id: &str,
    ttl_secs: u64,
) -> sqlx::Result<IssuedToken> {
    let token = random_secret("opt_", 32);
    let now = Utc::now();
    let expires_at =
        timestamp_text(now + Duration::seconds(ttl_secs.min(i64::MAX as u64 / 1000) as i64));
    store::tokens::insert(
        conn,
        &NewToken {
            id: &new_id(),
            user_id,
            token_hash: &secret_digest(&token),
            created_at: &timestamp_text(now),
            expires_at: &expires_at,
        },
    )
    .await?;
    Ok(IssuedToken { token, expires_at })
}

pub fn invalid_token() -> ApiError {
    ApiError::unauthorized(
        "invalid_token",
        "the access token is invalid, expired or revoked",
    )
}

pub fn missing_token() -> ApiError {
    ApiError::unauthorized(
        "missing_token",
        "missing `Authorization: Bearer <token>` header",
    )
}

async fn authenticate(req: &Request<'_>) -> Result<Option<User>, ApiError> {
    let Some(header) = req.headers().get_one("Authorization") else {
        return Ok(None);
    };
    let token = match header.split_once(' ') {
        Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => token.trim(),
        _ => return Err(invalid_token()),
    };
    let db = crate::db::from_request(req).await?;
    let mut conn = db.acquire().await?;
    let Some(live) =
        store::tokens::find_live(&mut conn, &secret_digest(token), &now_text()).await?
    else {
        return Err(invalid_token());
    };
    Ok(Some(User {
        row: live.user,
        token_id: live.token_id,
    }))
}

impl User {
    /// The request's user, looked up once per request however many guards ask.
    pub async fn from_request_cached(req: &Request<'_>) -> Result<Option<User>, ApiError> {
        req.local_cache_async(authenticate(req)).await.clone()
    }
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for User {
    type Error = ApiError;

    async fn from_request(req: &'r Request<'_>) -> request::Outcome<Self, ApiError> {
        match User::from_request_cached(req).await {
            Ok(Some(user)) => Outcome::Success(user),
            Ok(None) => reject(req, missing_token()),
            Err(error) => reject(req, error),
        }
    }
}
