use rocket::http::{Method, Status};
use rocket::Route;
use serde_json::json;

use crate::db::Db;
use crate::http::error::{ApiError, ApiResult};
use crate::http::openapi::{schema, Access, Body, Endpoint};
use crate::http::response::{Envelope, Success};
use crate::http::views::Health;

/// 200 while the database answers, 503 when it does not: load balancers and
/// orchestrators take the instance out of rotation on the latter.
#[rocket::get("/health")]
async fn health(db: &Db) -> ApiResult<Success<Health>> {
    let probe = async {
        let mut conn = db.acquire().await?;
        sqlx::query("SELECT 1").execute(&mut *conn).await?;
        Ok::<_, sqlx::Error>(conn.backend_name().to_ascii_lowercase())
    };
    match probe.await {
        Ok(backend) => Ok(Success::ok(
            "ok",
            Health {
                status: "ok",
                database: "ok",
                backend: if backend == "postgresql" {
                    "postgres".into()
                } else {
                    backend
                },
            },
        )),
        Err(error) => {
            tracing::warn!(%error, "health check: database unavailable");
            Err(ApiError::new(
                Status::ServiceUnavailable,
                "database_unavailable",
                "the database is unavailable",
            )
            .with_details(json!({ "status": "degraded", "database": "unavailable" })))
        }
    }
}

pub fn routes() -> Vec<Route> {
    rocket::routes![health]
}

pub fn endpoints() -> Vec<Endpoint> {
    vec![Endpoint {
        method: Method::Get,
        path: "/health",
        summary: "Liveness and database status",
        access: Access::Public,
        query: &[],
        body: Body::None,
        response: Some(schema::<Envelope<Health>>),
        success: &[200],
        headers: &[],
        errors: &[503],
    }]
}
