//! Money right in every case: UGX in Stripe's units, amounts judged by
//! every digit of their text, and stored UGX rows moved to the new units.

use std::panic::AssertUnwindSafe;

use rocket::futures::FutureExt;
use rocket::http::{Method, Status};
use serde_json::json;
use sqlx::migrate::Migrator;
use sqlx::{AnyPool, Connection};

use super::*;
use crate::db_test;
use crate::helpers::{api_key, POSTGRES_ENV};

/// A UGX and an ISK product, added to the demo catalog.
async fn whole_unit_products(app: &TestApp) {
    let doc = json!({"products": [
        {"sku": "COFFEE-UG", "name": "Bugisu coffee 1 kg", "currency": "ugx", "unit_amount": "5000"},
        {"sku": "WOOL-IS", "name": "Lopi wool", "currency": "isk", "unit_amount": "1200"},
    ]});
    let seeded = app
        .post("/api/v1/admin/seed", Some(&app.admin_key), &doc.to_string())
        .await;
    assert_eq!(seeded.status, Status::Created, "{:?}", seeded.body);
}

db_test!(ugx_is_charged_in_whole_shillings_of_two_decimals, |app| {
    let shop = Shop::new(&app).await;
    whole_unit_products(&app).await;
    let order_id = new_order(&app, &shop.token, "COFFEE-UG", 1).await;
    assert_eq!(order(&app, &order_id).await["amount"], "5000.00");

    let pi = shop.payment_intent_id(&app, &order_id).await;
    let asked = stripe_side(&app)
        .retrieve_payment_intent(&pi)
        .await
        .unwrap();
    assert_eq!(
        (asked.amount, asked.currency.as_str()),
        (500_000, "ugx"),
        "Stripe reads UGX as two-decimal: 5000 UGX is 500000"
    );
    let items: Value = serde_json::from_str(&asked.metadata["line_items"]).unwrap();
    assert_eq!(items[0]["amount"], 500_000, "{items}");

    let confirmed = shop.confirm(&app, &order_id, "pm_card_visa").await;
    assert_eq!(confirmed.status, Status::Ok, "{:?}", confirmed.body);
    shop.callback(&app, &order_id).await;
    let paid = wait_for_status(&app, &order_id, "paid").await;
    assert_eq!(paid["amount"], "5000.00");
    let charged = stripe_side(&app)
        .retrieve_payment_intent(&pi)
        .await
        .unwrap();
    assert_eq!(charged.amount_received, 500_000);
});

db_test!(a_fraction_of_a_shilling_or_krona_is_422, |app| {
    app.seed().await;
    whole_unit_products(&app).await;
    for (sku, amount) in [
        ("COFFEE-UG", "10.50"),
        ("COFFEE-UG", "0.01"),
        ("WOOL-IS", "10.5"),
    ] {
        let body = json!({"line_items": [{"sku": sku, "quantity": 1, "unit_amount": amount}]});
        let reply = app
            .post(
                "/api/v1/shop/orders",
                Some(&app.admin_key),
                &body.to_string(),
            )
            .await;
        assert_eq!(
            (reply.status, reply.code(), reply.field()),
            (
                Status::UnprocessableEntity,
                "amount_not_chargeable",
                "line_items[0].unit_amount"
            ),
            "{body}: {:?}",
            reply.body
        );
    }
    let doc = json!({"products": [
        {"sku": "TEA-UG", "name": "Tea", "currency": "ugx", "unit_amount": "2500.50"},
    ]});
    let reply = app
        .post("/api/v1/admin/seed", Some(&app.admin_key), &doc.to_string())
        .await;
    assert_eq!(
        (reply.status, reply.code()),
        (Status::UnprocessableEntity, "invalid_seed"),
        "{:?}",
        reply.body
    );
});

/// 29 fraction digits: a 28-digit decimal type rounds this to 0.50 USD,
/// which would pass Stripe's 0.50 minimum.
const ALMOST_HALF: &str = "0.49999999999999999999999999999";

db_test!(long_amounts_are_422_naming_the_field_not_rounded, |app| {
    app.seed().await;
    let too_long = format!("1.{}", "0".repeat(45));
    // Written by hand: a JSON library would turn the numbers into floats.
    let cases = [
        (ALMOST_HALF.to_string(), "too_many_decimals"),
        (format!("\"{ALMOST_HALF}\""), "too_many_decimals"),
        (format!("{ALMOST_HALF}e0"), "too_many_decimals"),
        (too_long.clone(), "amount_too_long"),
        (
            "1000000000000000000000000000000.00".to_string(),
            "amount_too_large",
        ),
    ];
    for (amount, code) in &cases {
        let body = format!(
            r#"{{"line_items": [{{"sku": "MAIN-2", "quantity": 1, "unit_amount": {amount}}}]}}"#
        );
        let reply = app
            .post("/api/v1/shop/orders", Some(&app.admin_key), &body)
            .await;
        assert_eq!(
            (reply.status, reply.code(), reply.field()),
            (
                Status::UnprocessableEntity,
                *code,
                "line_items[0].unit_amount"
            ),
            "{body}: {:?}",
            reply.body
        );
    }

    // The same parse guards refunds (checked before the order's state)
    // and the payment listing's filters.
    let (order_id,): (String,) = sqlx::query_as("SELECT id FROM orders LIMIT 1")
        .fetch_one(app.pool())
        .await
        .unwrap();
    let refunds_key = app.key("refunds:write").await;
    let body = format!(r#"{{"amount": {ALMOST_HALF}}}"#);
    let reply = app
        .send(
            Method::Post,
            &format!("/api/v1/shop/orders/{order_id}/refunds"),
            &[api_key(&refunds_key)],
            Some(&body),
        )
        .await;
    assert_eq!(
        (reply.status, reply.code(), reply.field()),
        (Status::UnprocessableEntity, "too_many_decimals", "amount"),
        "{:?}",
        reply.body
    );
    let read_key = app.key("payments:read").await;
    let reply = app
        .get(
            &format!("/api/v1/payments?currency=usd&min_amount={ALMOST_HALF}"),
            Some(&read_key),
        )
        .await;
    assert_eq!(
        (reply.status, reply.code(), reply.field()),
        (
            Status::UnprocessableEntity,
            "too_many_decimals",
            "min_amount"
        ),
        "{:?}",
        reply.body
    );
});

/// The migration that moved UGX to two-decimal units.
const UGX_FIX: i64 = 20261123000100;

/// A database migrated up to just before `UGX_FIX`, from copies of the
/// earlier migration files.
async fn migrate_before_fix(pool: &AnyPool) {
    let earlier = tempfile::tempdir().unwrap();
    let source = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
    for entry in std::fs::read_dir(source).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let version: i64 = name.split('_').next().unwrap().parse().unwrap();
        if version < UGX_FIX {
            std::fs::copy(&path, earlier.path().join(&name)).unwrap();
        }
    }
    Migrator::new(earlier.path())
        .await
        .unwrap()
        .run(pool)
        .await
        .unwrap();
}

async fn exec(pool: &AnyPool, sql: &str) {
    sqlx::query(sql).execute(pool).await.unwrap();
}

async fn stored_ugx_rows_move_to_two_decimal_units(url: &str) {
    sqlx::any::install_default_drivers();
    let pool = AnyPool::connect(url).await.unwrap();
    migrate_before_fix(&pool).await;
    let at = "2026-11-01T10:00:00.000000Z";
    exec(&pool, &format!(
        "INSERT INTO products (sku, name, description, currency, unit_amount, active, created_at) VALUES \
         ('COFFEE-UG', 'Coffee', '', 'ugx', 5000, 1, '{at}'), ('TEE', 'Tee', '', 'usd', 2500, 1, '{at}')"
    )).await;
    // "new": never sent to Stripe. "sent": paid through a PaymentIntent for
    // 5000 (50 UGX in Stripe's units). "usd": another currency.
    for (id, currency, amount, status) in [
        ("new", "ugx", 10000, "pending_payment"),
        ("sent", "ugx", 5000, "paid"),
        ("usd", "usd", 2500, "pending_payment"),
    ] {
        exec(&pool, &format!(
            "INSERT INTO orders (id, number, status, currency, amount, created_at, updated_at) \
             VALUES ('{id}', 'ORD-20261101-{}', '{status}', '{currency}', {amount}, '{at}', '{at}')",
            &format!("{id}XXXX")[..4].to_uppercase()
        )).await;
        exec(&pool, &format!(
            "INSERT INTO order_items (order_id, position, sku, name, unit_amount, quantity, amount) \
             VALUES ('{id}', 0, 'SKU', 'Item', {}, 2, {amount})",
            amount / 2
        )).await;
    }
    exec(
        &pool,
        &format!(
        "INSERT INTO payment_attempts (id, order_id, attempt, idempotency_key, payment_intent_id, \
         amount, currency, created_at, updated_at) \
         VALUES ('a1', 'sent', 1, 'orderpay:pi:sent:1', 'pi_sent', 5000, 'ugx', '{at}', '{at}')"
    ),
    )
    .await;

    orderpay::db::migrate(&pool).await.unwrap();

    let (coffee,): (i64,) =
        sqlx::query_as("SELECT unit_amount FROM products WHERE sku = 'COFFEE-UG'")
            .fetch_one(&pool)
            .await
            .unwrap();
    let (tee,): (i64,) = sqlx::query_as("SELECT unit_amount FROM products WHERE sku = 'TEE'")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(
        (coffee, tee),
        (500_000, 2500),
        "the catalog keeps its prices"
    );
    let mut orders = Vec::new();
    for id in ["new", "sent", "usd"] {
        let row: (i64, i64, i64) = sqlx::query_as(
            "SELECT o.amount, i.unit_amount, i.amount FROM orders o \
             JOIN order_items i ON i.order_id = o.id WHERE o.id = $1",
        )
        .bind(id)
        .fetch_one(&pool)
        .await
        .unwrap();
        orders.push(row);
    }
    assert_eq!(
        orders,
        vec![
            (1_000_000, 500_000, 1_000_000),
            (5000, 2500, 5000),
            (2500, 1250, 2500)
        ],
        "only the UGX order Stripe never saw is rewritten"
    );
    let review = orderpay::currency_review::check_currencies(&pool)
        .await
        .unwrap();
    assert_eq!(review.len(), 2, "{review:?}");
    assert!(
        review[1].contains("(sent) paid: asked 50.00 ugx, meant 5000.00 ugx"),
        "{review:?}"
    );
    pool.close().await;
}

#[rocket::async_test]
async fn stored_ugx_rows_move_to_two_decimal_units_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("old.db").display());
    stored_ugx_rows_move_to_two_decimal_units(&url).await;
}

#[rocket::async_test]
async fn stored_ugx_rows_move_to_two_decimal_units_on_postgres() {
    let Some(server) = std::env::var(POSTGRES_ENV)
        .ok()
        .filter(|s| !s.trim().is_empty())
    else {
        eprintln!("SKIPPED stored_ugx_rows_move_to_two_decimal_units on postgres: {POSTGRES_ENV} is not set");
        return;
    };
    let server = server.trim().trim_end_matches('/').to_string();
    sqlx::any::install_default_drivers();
    let name = format!("orderpay_test_{}", uuid::Uuid::new_v4().simple());
    let mut admin = sqlx::AnyConnection::connect(&format!("{server}/postgres"))
        .await
        .unwrap();
    exec_on(&mut admin, &format!("CREATE DATABASE \"{name}\"")).await;
    let outcome = AssertUnwindSafe(stored_ugx_rows_move_to_two_decimal_units(&format!(
        "{server}/{name}"
    )))
    .catch_unwind()
    .await;
    exec_on(
        &mut admin,
        &format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"),
    )
    .await;
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}

async fn exec_on(conn: &mut sqlx::AnyConnection, sql: &str) {
    sqlx::query(sql).execute(conn).await.unwrap();
}
