//! The success envelope: `{"message": "...", "data": ...}`, plus `pagination`
//! beside `data` on listings.

use std::borrow::Cow;

use rocket::http::Status;
use rocket::request::Request;
use rocket::response::{self, Responder};
use rocket::serde::json::Json;
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::json;

pub struct Success<T> {
    status: Status,
    message: Cow<'static, str>,
    data: T,
    pagination: Option<Pagination>,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Pagination {
    pub limit: i64,
    /// Pass as `cursor` to fetch the next page; null on the last page.
    pub next_cursor: Option<String>,
    pub has_more: bool,
}

impl<T: Serialize> Success<T> {
    pub fn ok(message: impl Into<Cow<'static, str>>, data: T) -> Self {
        Success {
            status: Status::Ok,
            message: message.into(),
            data,
            pagination: None,
        }
    }

    pub fn created(message: impl Into<Cow<'static, str>>, data: T) -> Self {
        Success {
            status: Status::Created,
            ..Success::ok(message, data)
        }
    }

    pub fn with_status(mut self, status: Status) -> Self {
        self.status = status;
        self
    }

    pub fn paginated(
        message: impl Into<Cow<'static, str>>,
        data: T,
        pagination: Pagination,
    ) -> Self {
        Success {
            pagination: Some(pagination),
            ..Success::ok(message, data)
        }
    }
}

impl<'r, T: Serialize> Responder<'r, 'static> for Success<T> {
    fn respond_to(self, req: &'r Request<'_>) -> response::Result<'static> {
        let mut body = json!({ "message": self.message, "data": self.data });
        if let Some(pagination) = self.pagination {
            body["pagination"] = json!(pagination);
        }
        let mut response = Json(body).respond_to(req)?;
        response.set_status(self.status);
        Ok(response)
    }
}

/// The documented shape of a success envelope, for the OpenAPI document.
#[derive(Serialize, JsonSchema)]
pub struct Envelope<T> {
    pub message: String,
    pub data: T,
}

/// The documented shape of a listing envelope.
#[derive(Serialize, JsonSchema)]
pub struct ListEnvelope<T> {
    pub message: String,
    pub data: Vec<T>,
    pub pagination: Pagination,
}

/// The documented shape of an error envelope.
#[derive(Serialize, JsonSchema)]
pub struct ErrorEnvelope {
    pub message: String,
    pub error: ErrorBody,
}

#[derive(Serialize, JsonSchema)]
pub struct ErrorBody {
    /// Machine-readable, snake_case.
    pub code: String,
    pub details: Option<serde_json::Value>,
}
