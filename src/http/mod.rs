//! Everything that knows HTTP: the routes, their guards and views, the error
//! envelope, the edge checks and the OpenAPI document. The layers below
//! (`checkout/`, `accounts/`, `domain/`, `store/`, `stripe/`) are called from
//! here and never import it back; their errors become `ApiError`s in `error/`.

pub mod body;
pub mod catchers;
pub mod edge;
pub mod error;
pub mod idempotency;
pub mod input;
pub mod openapi;
pub mod response;
pub mod routes;
pub mod views;

use rocket::{Catcher, Route};

/// Every route Rocket mounts at `/`.
pub fn routes() -> Vec<Route> {
    routes::routes()
}

/// The JSON error catchers, registered at `/`.
pub fn catchers() -> Vec<Catcher> {
    catchers::catchers()
}
