use rocket::http::{Method, Status};
use rocket::{Route, State};

use crate::auth::api_key::{Admin, Scoped};
use crate::auth::Scope;
use crate::checkout::sweep;
use crate::config::Settings;
use crate::db::Db;
use crate::http::body::OptionalJsonBody;
use crate::http::error::{ApiError, ApiResult};
use crate::http::openapi::{schema, Access, Body, Endpoint};
use crate::http::response::{Envelope, Success};
use crate::http::views::SweepReportView;
use crate::seed::{self, SeedDocument, SeedError, SeedReport};
use crate::stripe::gateway::StripeGateway;

/// Loads the built-in demo seed, or the seed document in the body. Demo data
/// includes customers with known passwords, so it is refused unless the
/// `demo_seed` setting is on (the debug profile's default).
#[rocket::post("/api/v1/admin/seed", data = "<body>")]
async fn seed_demo_data(
    _key: Scoped<Admin>,
    db: &Db,
    settings: &State<Settings>,
    body: OptionalJsonBody<SeedDocument>,
) -> ApiResult<Success<SeedReport>> {
    if !settings.demo_seed {
        return Err(ApiError::forbidden(
            "seeding_disabled",
            "seeding demo data is disabled here (setting `demo_seed`)",
        ));
    }
    let result = match &body.0 {
        Some(doc) => seed::load(db.writer(), "request body", doc).await,
        None => {
            let doc =
                seed::parse(seed::DEMO_SEED_NAME, seed::DEMO_SEED).map_err(ApiError::internal)?;
            seed::load(db.writer(), seed::DEMO_SEED_NAME, &doc).await
        }
    };
    match result {
        Ok(report) => {
            let status =
                if report.products_created + report.customers_created + report.orders_created > 0 {
                    Status::Created
                } else {
                    Status::Ok
                };
            Ok(Success::ok("seed loaded", report).with_status(status))
        }
        Err(SeedError::Invalid {
            entry,
            message,
            origin,
        }) => Err(ApiError::invalid_field("invalid_seed", &entry, message)
            .with_details(serde_json::json!({ "field": entry, "origin": origin }))),
        Err(SeedError::Database(error, _)) => Err(error.into()),
    }
}

/// Runs one reconciliation sweep now (the server also runs one every
/// `reconcile_interval_secs`): asks Stripe about the PaymentIntents of
/// still-payable orders and applies what it says.
#[rocket::post("/api/v1/admin/reconcile")]
async fn reconcile_payments(
    _key: Scoped<Admin>,
    db: &Db,
    settings: &State<Settings>,
    stripe: &State<StripeGateway>,
) -> ApiResult<Success<SweepReportView>> {
    let batch = i64::from(settings.reconcile_batch.max(1));
    let report = sweep::sweep(
        db,
        stripe,
        batch,
        sweep::RefundWindow::after_secs(settings.reconcile_refund_age_secs),
    )
    .await?;
    Ok(Success::ok("reconciled", SweepReportView::from(report)))
}

pub fn routes() -> Vec<Route> {
    rocket::routes![seed_demo_data, reconcile_payments]
}

pub fn endpoints() -> Vec<Endpoint> {
    vec![Endpoint {
        method: Method::Post,
        path: "/api/v1/admin/seed",
        summary: "Load demo products, customers and test orders (admin); an empty body loads the built-in demo seed",
        access: Access::ApiKey(Scope::Admin),
        query: &[],
        body: Body::Optional(schema::<SeedDocument>),
        response: Some(schema::<Envelope<SeedReport>>),
        success: &[201, 200],
        headers: &[],
        errors: &[400, 401, 403, 413, 415, 422, 503],
    },
    Endpoint {
        method: Method::Post,
        path: "/api/v1/admin/reconcile",
        summary: "Ask Stripe about the PaymentIntents of still-payable orders and apply what it says (admin); also runs periodically",
        access: Access::ApiKey(Scope::Admin),
        query: &[],
        body: Body::None,
        response: Some(schema::<Envelope<SweepReportView>>),
        success: &[200],
        headers: &[],
        errors: &[401, 403, 503],
    }]
}
