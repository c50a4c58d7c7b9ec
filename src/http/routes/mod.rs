//! HTTP routes, one module per resource. Each exposes `routes()` (what Rocket
//! mounts) and `endpoints()` (what the OpenAPI document and the auth matrix
//! say about them).

pub mod admin;
pub mod admin_payments;
pub mod admin_users;
pub mod cards;
pub mod checkout;
pub mod docs;
pub mod health;
pub mod lookup;
pub mod orders;
pub mod paging;
pub mod payments;
pub mod products;
pub mod refunds;
pub mod users;
pub mod webhooks;

use rocket::Route;

use crate::http::openapi::Endpoint;

pub fn routes() -> Vec<Route> {
    [
        health::routes(),
        docs::routes(),
        products::routes(),
        orders::routes(),
        admin::routes(),
        admin_payments::routes(),
        users::routes(),
        cards::routes(),
        admin_users::routes(),
        checkout::routes(),
        refunds::routes(),
        payments::routes(),
        webhooks::routes(),
    ]
    .concat()
}

pub fn endpoints() -> Vec<Endpoint> {
    [
        health::endpoints(),
        docs::endpoints(),
        products::endpoints(),
        orders::endpoints(),
        admin::endpoints(),
        admin_payments::endpoints(),
        users::endpoints(),
        cards::endpoints(),
        admin_users::endpoints(),
        checkout::endpoints(),
        refunds::endpoints(),
        payments::endpoints(),
        webhooks::endpoints(),
    ]
    .into_iter()
    .flatten()
    .collect()
}
