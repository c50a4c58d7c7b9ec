//! Every error Rocket itself produces (no route, a failed guard, a body it
//! could not read) is rendered in the API's JSON error envelope, never as
//! Rocket's HTML page.

use rocket::http::{Header, Method, Status};
use rocket::response::{self, Responder};
use rocket::{Catcher, Request};

use crate::http::edge::{original_method, path_matches, path_segments, take_refusal};
use crate::http::error::{ApiError, GuardFailure};

/// An error with the `Allow` header a 405 must carry.
pub struct CaughtError {
    error: ApiError,
    allow: Option<String>,
}

impl<'r> Responder<'r, 'static> for CaughtError {
    fn respond_to(self, req: &'r Request<'_>) -> response::Result<'static> {
        let mut response = self.error.respond_to(req)?;
        if let Some(allow) = self.allow {
            response.set_header(Header::new("Allow", allow));
        }
        Ok(response)
    }
}

/// The methods the request's path does answer to, when not its own.
fn allowed_methods(req: &Request<'_>) -> Option<String> {
    let path = path_segments(req);
    let mut methods: Vec<Method> = req
        .rocket()
        .routes()
        .filter(|route| path_matches(route.uri.path(), &path))
        .map(|route| route.method)
        .collect();
    if methods.is_empty() || methods.contains(&original_method(req)) {
        return None;
    }
    if methods.contains(&Method::Get) {
        methods.push(Method::Head);
    }
    methods.sort_by_key(|m| m.as_str());
    methods.dedup();
    Some(
        methods
            .iter()
            .map(|m| m.as_str())
            .collect::<Vec<_>>()
            .join(", "),
    )
}

#[rocket::catch(default)]
fn json_catcher(status: Status, req: &Request<'_>) -> CaughtError {
    if let Some(error) = take_refusal(req) {
        return CaughtError { error, allow: None };
    }
    if let Some(error) = GuardFailure::take(req) {
        if error.status == status {
            return CaughtError { error, allow: None };
        }
    }
    // Rocket answers 422 when a path parameter does not parse; every guard and
    // body reader of this API records its own error, so a bare 422 is an
    // `<id>` that is not an id: it names nothing, which is a 404.
    let status = if status == Status::UnprocessableEntity {
        Status::NotFound
    } else {
        status
    };
    if status == Status::NotFound {
        if let Some(allow) = allowed_methods(req) {
            let error = ApiError::new(
                Status::MethodNotAllowed,
                "method_not_allowed",
                format!(
                    "{} is not allowed here; allowed: {allow}",
                    original_method(req)
                ),
            );
            return CaughtError {
                error,
                allow: Some(allow),
            };
        }
    }
    let (code, message) = match status.code {
        400 => ("bad_request", "the request is malformed"),
        401 => ("unauthorized", "authentication is required"),
        403 => ("forbidden", "not allowed"),
        404 => ("not_found", "no such resource"),
        409 => ("conflict", "conflict with the resource's current state"),
        413 => ("payload_too_large", "the body is too large"),
        415 => (
            "unsupported_media_type",
            "the body must be JSON (Content-Type: application/json)",
        ),
        422 => ("unprocessable_entity", "the request could not be processed"),
        429 => ("too_many_requests", "too many requests"),
        503 => ("service_unavailable", "the service is unavailable"),
        code if code >= 500 => ("internal_error", "internal server error"),
        _ => ("error", "the request failed"),
    };
    CaughtError {
        error: ApiError::new(status, code, message),
        allow: None,
    }
}

pub fn catchers() -> Vec<Catcher> {
    rocket::catchers![json_catcher]
}
