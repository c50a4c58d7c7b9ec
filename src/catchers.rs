//! Every error Rocket itself produces (no route, a failed guard, a body it
//! could not read) is rendered in the API's JSON error envelope, never as
//! Rocket's HTML page.

use rocket::http::{Header, Method, Status};
use rocket::response::{self, Responder};
use rocket::{Catcher, Request};

use crate::error::{ApiError, GuardFailure};

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

/// Whether a mounted route's path (`/api/v1/shop/orders/<id>`) matches `path`.
fn path_matches(template: &str, path: &str) -> bool {
    let template: Vec<&str> = template.trim_matches('/').split('/').collect();
    let path: Vec<&str> = path.trim_matches('/').split('/').collect();
    if template.last().is_some_and(|s| s.ends_with("..>")) {
        let fixed = &template[..template.len() - 1];
        return path.len() >= fixed.len() && segments_match(fixed, &path[..fixed.len()]);
    }
    template.len() == path.len() && segments_match(&template, &path)
}

fn segments_match(template: &[&str], path: &[&str]) -> bool {
    template
        .iter()
        .zip(path)
        .all(|(t, p)| (t.starts_with('<') && t.ends_with('>') && !p.is_empty()) || t == p)
}

/// The methods the request's path does answer to, when not its own.
fn allowed_methods(req: &Request<'_>) -> Option<String> {
    let path = req.uri().path();
    let mut methods: Vec<Method> = req
        .rocket()
        .routes()
        .filter(|route| path_matches(route.uri.path(), path.as_str()))
        .map(|route| route.method)
        .collect();
    if methods.is_empty() || methods.contains(&req.method()) {
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
    if let Some(error) = GuardFailure::take(req) {
        if error.status == status {
            return CaughtError { error, allow: None };
        }
    }
    if status == Status::NotFound {
        if let Some(allow) = allowed_methods(req) {
            let error = ApiError::new(
                Status::MethodNotAllowed,
                "method_not_allowed",
                format!("{} is not allowed here; allowed: {allow}", req.method()),
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

#[cfg(test)]
mod tests {
    use super::path_matches;

    #[test]
    fn route_paths_match_like_rocket() {
        assert!(path_matches(
            "/api/v1/shop/orders/<id>",
            "/api/v1/shop/orders/abc"
        ));
        assert!(!path_matches(
            "/api/v1/shop/orders/<id>",
            "/api/v1/shop/orders/abc/cancel"
        ));
        assert!(!path_matches(
            "/api/v1/shop/orders/<id>",
            "/api/v1/shop/orders/"
        ));
        assert!(path_matches("/health", "/health"));
        assert!(path_matches(
            "/v1/<path..>",
            "/v1/payment_intents/pi_1/confirm"
        ));
        assert!(!path_matches("/v1/<path..>", "/_sim/state"));
    }
}
