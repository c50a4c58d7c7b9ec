//! The OpenAPI document and a self-contained docs page (no CDN: it works offline).

use rocket::http::Method;
use rocket::response::content::RawHtml;
use rocket::serde::json::Json;
use rocket::Route;
use serde_json::Value;

use crate::http::openapi::{self, Access, Body, Endpoint};

#[rocket::get("/api/v1/openapi.json")]
fn openapi_json() -> Json<Value> {
    Json(openapi::document(&super::endpoints()))
}

#[rocket::get("/api/v1/docs")]
fn docs_page() -> RawHtml<&'static str> {
    RawHtml(include_str!("docs.html"))
}

pub fn routes() -> Vec<Route> {
    rocket::routes![openapi_json, docs_page]
}

pub fn endpoints() -> Vec<Endpoint> {
    vec![
        Endpoint {
            method: Method::Get,
            path: "/api/v1/openapi.json",
            summary: "This API's OpenAPI 3 document",
            access: Access::Public,
            query: &[],
            body: Body::None,
            response: None,
            success: &[200],
            headers: &[],
            errors: &[],
        },
        Endpoint {
            method: Method::Get,
            path: "/api/v1/docs",
            summary: "Human-readable API reference (HTML, works offline)",
            access: Access::Public,
            query: &[],
            body: Body::None,
            response: None,
            success: &[200],
            headers: &[],
            errors: &[],
        },
    ]
}
