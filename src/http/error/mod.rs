//! One error type for the whole API, rendered as the JSON envelope
//! `{"message": "...", "error": {"code": "...", "details": ...}}`.
//! Server-side failures are logged and never shown to the caller.
//!
//! The use cases' own errors become `ApiError`s here and nowhere else: one
//! file per source (`checkout.rs`, `accounts.rs`), each a `From` impl that
//! picks the status and the details (the code and the message are the
//! error's own, as `MoneyError::code()` is the domain's).

mod accounts;
mod checkout;

use std::borrow::Cow;

use rocket::http::Status;
use rocket::request::Request;
use rocket::response::{self, Responder};
use rocket::serde::json::Json;
use serde_json::{json, Value};

use crate::db;

#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: Status,
    pub code: Cow<'static, str>,
    pub message: String,
    pub details: Option<Value>,
    /// Sent as `Retry-After` (seconds) when the caller may try again later.
    pub retry_after_secs: Option<u64>,
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn new(
        status: Status,
        code: impl Into<Cow<'static, str>>,
        message: impl Into<String>,
    ) -> Self {
        ApiError {
            status,
            code: code.into(),
            message: message.into(),
            details: None,
            retry_after_secs: None,
        }
    }

    pub fn with_details(mut self, details: Value) -> Self {
        self.details = Some(details);
        self
    }

    pub fn with_retry_after(mut self, secs: u64) -> Self {
        self.retry_after_secs = Some(secs);
        self
    }

    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(Status::BadRequest, code, message)
    }

    pub fn unauthorized(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(Status::Unauthorized, code, message)
    }

    pub fn forbidden(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(Status::Forbidden, code, message)
    }

    pub fn not_found(what: &str) -> Self {
        Self::new(Status::NotFound, "not_found", format!("{what} not found"))
    }

    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(Status::Conflict, code, message)
    }

    /// A 422 about one input field; `field` is a path such as `line_items[0].unit_amount`.
    pub fn invalid_field(
        code: impl Into<Cow<'static, str>>,
        field: &str,
        message: impl Into<String>,
    ) -> Self {
        let message = message.into();
        Self::new(
            Status::UnprocessableEntity,
            code,
            format!("{field}: {message}"),
        )
        .with_details(json!({ "field": field }))
    }

    pub fn unavailable(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(Status::ServiceUnavailable, code, message)
    }

    /// Logs the real cause and returns an opaque 500.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "internal error");
        Self::opaque_internal()
    }

    /// The 500 every server-side failure answers, whatever its cause.
    fn opaque_internal() -> Self {
        Self::new(
            Status::InternalServerError,
            "internal_error",
            "internal server error",
        )
    }

    pub fn body(&self) -> Value {
        json!({
            "message": self.message,
            "error": { "code": self.code, "details": self.details },
        })
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(error: sqlx::Error) -> Self {
        db::log_failure(&error);
        if db::is_outage(&error) {
            ApiError::unavailable("database_unavailable", "the database is unavailable")
        } else {
            Self::opaque_internal()
        }
    }
}

impl<'r> Responder<'r, 'static> for ApiError {
    fn respond_to(self, req: &'r Request<'_>) -> response::Result<'static> {
        let status = self.status;
        let mut response = Json(self.body()).respond_to(req)?;
        response.set_status(status);
        if let Some(secs) = self.retry_after_secs {
            response.set_raw_header("Retry-After", secs.to_string());
        }
        Ok(response)
    }
}

/// Where a request guard or data guard leaves its precise error, so the
/// catcher that Rocket runs afterwards can render it instead of a generic one.
pub struct GuardFailure(pub std::sync::Mutex<Option<ApiError>>);

impl GuardFailure {
    pub fn record(req: &Request<'_>, error: ApiError) {
        let slot = req.local_cache(|| GuardFailure(std::sync::Mutex::new(None)));
        if let Ok(mut slot) = slot.0.lock() {
            slot.get_or_insert(error);
        }
    }

    pub fn take(req: &Request<'_>) -> Option<ApiError> {
        let slot = req.local_cache(|| GuardFailure(std::sync::Mutex::new(None)));
        slot.0.lock().ok().and_then(|mut slot| slot.take())
    }
}
