//! The caller's `Idempotency-Key` request header, for routes whose retries
//! must not repeat their effect (refunds). Optional; when sent it must be
//! 1-255 visible ASCII characters, as Stripe asks of its own.

use rocket::request::{self, FromRequest, Outcome, Request};

use crate::auth::api_key::reject;
use crate::http::error::ApiError;

pub const HEADER: &str = "Idempotency-Key";

pub struct RequestKey(pub Option<String>);

#[rocket::async_trait]
impl<'r> FromRequest<'r> for RequestKey {
    type Error = ApiError;

    async fn from_request(req: &'r Request<'_>) -> request::Outcome<Self, ApiError> {
        let Some(value) = req.headers().get_one(HEADER) else {
            return Outcome::Success(RequestKey(None));
        };
        let valid =
            !value.is_empty() && value.len() <= 255 && value.bytes().all(|b| b.is_ascii_graphic());
        if !valid {
            return reject(
                req,
                ApiError::bad_request(
                    "invalid_idempotency_key",
                    "Idempotency-Key must be 1-255 visible ASCII characters",
                ),
            );
        }
        Outcome::Success(RequestKey(Some(value.to_string())))
    }
}
