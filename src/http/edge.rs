//! The edge check every request passes before it is routed: its query
//! parameters and path parameters, against the route that will answer it.
//!
//! - a query parameter the route does not declare is a 422 `unknown_parameter`
//!   (a strict API: a misspelt filter must not silently list everything);
//! - a repeated query parameter is a 422 `duplicate_parameter` (no parameter
//!   of this API is a list, and Rocket would otherwise drop both values);
//! - a control character (NUL above all: PostgreSQL refuses it in text) in
//!   any query or path parameter is a 422 `control_character`.
//!
//! Each names the parameter. JSON bodies get the same control-character
//! check in `body.rs`.

use rocket::fairing::{Fairing, Info, Kind};
use rocket::http::Method;
use rocket::{Data, Request, Route};

use crate::http::error::ApiError;
use crate::http::input::{control_character_error, has_control_character, is_uuid};

pub struct EdgeCheck;

/// Where the fairing leaves its refusal for the catcher to render.
struct EdgeRefusal(std::sync::Mutex<Option<ApiError>>);

/// The method a request came with, when the edge check routed it nowhere.
struct OriginalMethod(Method);

/// The request's own method (the edge check may have replaced it).
pub fn original_method(req: &Request<'_>) -> Method {
    req.local_cache(|| OriginalMethod(req.method())).0
}

/// The refusal the edge check made for this request, if any.
pub fn take_refusal(req: &Request<'_>) -> Option<ApiError> {
    let slot = req.local_cache(|| EdgeRefusal(std::sync::Mutex::new(None)));
    slot.0.lock().ok().and_then(|mut slot| slot.take())
}

#[rocket::async_trait]
impl Fairing for EdgeCheck {
    fn info(&self) -> Info {
        Info {
            name: "edge check of query and path parameters",
            kind: Kind::Request,
        }
    }

    async fn on_request(&self, req: &mut Request<'_>, _: &mut Data<'_>) {
        let path = path_segments(req);
        let route = first_route(req, req.method(), &path);
        let Some(route) = route else {
            // No route answers this method at this path once `<id>` is typed,
            // but Rocket's router matches any segment (`/users/login` against
            // `/users/<id>`) and would run that route's guards (a 401 for a
            // path that names nothing). Routed nowhere, the catcher answers
            // 404 or 405 with the methods the path really has.
            let original = req.method();
            req.local_cache(|| OriginalMethod(original));
            req.set_method(Method::Trace);
            return;
        };
        let Some(error) = check(req, route, &path) else {
            return;
        };
        let slot = req.local_cache(|| EdgeRefusal(std::sync::Mutex::new(None)));
        if let Ok(mut slot) = slot.0.lock() {
            *slot = Some(error);
        }
        // A fairing cannot answer; a method no route has makes Rocket route the
        // request to the catcher, which renders the refusal left above.
        req.set_method(Method::Trace);
    }
}

/// The decoded segments of the request's path.
pub fn path_segments<'a>(req: &'a Request<'_>) -> Vec<&'a str> {
    req.uri().path().segments().collect()
}

/// Whether a mounted route's path (`/api/v1/shop/orders/<id>`) matches the
/// decoded `path` segments, as Rocket would route it — including that an
/// `<id>` segment is an `input::Id` and matches only an orderpay id.
///
/// Walks both without collecting them: every request is matched against
/// every route of its method, twice as many allocations as routes otherwise.
pub fn path_matches(template: &str, path: &[&str]) -> bool {
    let mut template = template.split('/').filter(|s| !s.is_empty());
    let mut path = path.iter();
    loop {
        match (template.next(), path.next()) {
            // `<rest..>` is last and takes whatever is left, nothing included.
            (Some(t), _) if t.ends_with("..>") => return true,
            (Some(t), Some(p)) if segment_matches(t, p) => {}
            (None, None) => return true,
            _ => return false,
        }
    }
}

fn segment_matches(template: &str, path: &str) -> bool {
    match template {
        "<id>" => is_uuid(path),
        t if t.starts_with('<') && t.ends_with('>') => !path.is_empty(),
        t => t == path,
    }
}

fn route_answers(route: &Route, method: Method, path: &[&str]) -> bool {
    (route.method == method || (method == Method::Head && route.method == Method::Get))
        && path_matches(route.uri.path(), path)
}

/// The first route that could answer `method` at the request's `path`
/// (Rocket's own choice among several is by rank; any of them declares the
/// parameters checked here, and none means a 404 or 405).
fn first_route<'a>(req: &'a Request<'_>, method: Method, path: &[&str]) -> Option<&'a Route> {
    req.rocket()
        .routes()
        .find(|route| route_answers(route, method, path))
}

/// The names a route's query template declares (`?<status>&<limit>`), or
/// `None` when it takes any (`?<rest..>`).
fn declared_query(route: &Route) -> Option<Vec<&str>> {
    let mut names = Vec::new();
    for segment in route.uri.query().unwrap_or("").split('&') {
        let name = segment.trim_start_matches('<').trim_end_matches('>');
        if name.ends_with("..") {
            return None;
        }
        if !name.is_empty() {
            names.push(name.split('=').next().unwrap_or(name));
        }
    }
    Some(names)
}

/// `route` is the one that will answer the request (its first match).
fn check(req: &Request<'_>, route: &Route, path: &[&str]) -> Option<ApiError> {
    if let Some(error) = check_path(route.uri.path(), path) {
        return Some(error);
    }
    let declared = declared_query(route);
    let mut seen: Vec<&str> = Vec::new();
    for (name, value) in req
        .uri()
        .query()
        .map(|q| q.segments())
        .into_iter()
        .flatten()
    {
        if has_control_character(name) {
            return Some(control_character_error("query"));
        }
        if let Some(declared) = &declared {
            if !declared.contains(&name) {
                return Some(ApiError::invalid_field(
                    "unknown_parameter",
                    name,
                    format!(
                        "is not a query parameter of this operation (it takes: {})",
                        if declared.is_empty() {
                            "none".to_string()
                        } else {
                            declared.join(", ")
                        }
                    ),
                ));
            }
        }
        if seen.contains(&name) {
            return Some(ApiError::invalid_field(
                "duplicate_parameter",
                name,
                "is given more than once; it takes one value",
            ));
        }
        seen.push(name);
        if has_control_character(value) {
            return Some(control_character_error(name));
        }
    }
    None
}

/// A control character in a path parameter, named by the template's `<name>`.
fn check_path(template: &str, path: &[&str]) -> Option<ApiError> {
    let template = template.trim_matches('/').split('/');
    for (t, p) in template.zip(path) {
        if has_control_character(p) {
            let name = t.trim_start_matches('<').trim_end_matches('>');
            return Some(control_character_error(name.trim_end_matches("..")));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::path_matches;

    const ID: &str = "0f8fad5b-d9cb-469f-a165-70867728950e";

    #[test]
    fn route_paths_match_like_rocket() {
        let orders = "/api/v1/shop/orders/<id>";
        assert!(path_matches(orders, &["api", "v1", "shop", "orders", ID]));
        assert!(!path_matches(
            orders,
            &["api", "v1", "shop", "orders", ID, "cancel"]
        ));
        assert!(!path_matches(orders, &["api", "v1", "shop", "orders"]));
        assert!(path_matches("/health", &["health"]));
        assert!(path_matches(
            "/v1/<path..>",
            &["v1", "payment_intents", "pi_1", "confirm"]
        ));
        assert!(!path_matches("/v1/<path..>", &["_sim", "state"]));
    }

    #[test]
    fn an_id_segment_matches_only_an_id() {
        let user = "/api/v1/users/<id>";
        assert!(path_matches(user, &["api", "v1", "users", ID]));
        assert!(!path_matches(user, &["api", "v1", "users", "login"]));
        assert!(!path_matches(user, &["api", "v1", "users", "abc"]));
    }
}
