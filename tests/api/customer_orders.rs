use crate::db_test;
use crate::helpers::{api_key, bearer, TestApp};
use rocket::http::{Method, Status};
use serde_json::json;

async fn order_as(app: &TestApp, token: &str, body: serde_json::Value) -> crate::helpers::Reply {
    app.send(
        Method::Post,
        "/api/v1/shop/orders",
        &[bearer(token)],
        Some(&body.to_string()),
    )
    .await
}

db_test!(customers_order_at_catalog_prices, |app| {
    app.seed().await;
    let (user_id, token) = app
        .register("shopper@example.com", "shopper-password")
        .await;
    let reply = order_as(
        &app,
        &token,
        json!({"items": [{"sku": "MAIN-2", "quantity": 2}]}),
    )
    .await;
    assert_eq!(reply.status, Status::Created, "{:?}", reply.body);
    assert_eq!(reply.body["data"]["amount"], "112.00");
    assert_eq!(reply.body["data"]["customer_id"], user_id.as_str());
    assert_eq!(reply.body["data"]["email"], "shopper@example.com");

    let priced = order_as(
        &app,
        &token,
        json!({"items": [{"sku": "MAIN-2", "quantity": 1, "unit_amount": "0.01"}]}),
    )
    .await;
    assert_eq!(
        (priced.status, priced.code(), priced.field()),
        (
            Status::UnprocessableEntity,
            "price_not_allowed",
            "items[0].unit_amount"
        )
    );
    let mixed = order_as(
        &app,
        &token,
        json!({"items": [{"sku": "MAIN-2", "quantity": 1}, {"sku": "TEA-MATCHA", "quantity": 1}]}),
    )
    .await;
    assert_eq!(
        (mixed.status, mixed.code(), mixed.field()),
        (
            Status::UnprocessableEntity,
            "currency_mismatch",
            "items[1].sku"
        )
    );
    let too_many = order_as(
        &app,
        &token,
        json!({"items": [{"sku": "MAIN-2", "quantity": 1000}]}),
    )
    .await;
    assert_eq!(
        (too_many.code(), too_many.field()),
        ("invalid_quantity", "items[0].quantity")
    );
    let for_someone = order_as(&app, &token, json!({"items": [{"sku": "MAIN-2", "quantity": 1}], "customer_email": "demo@orderpay.test"})).await;
    assert_eq!(for_someone.code(), "field_not_allowed");
    let neither = order_as(&app, &token, json!({})).await;
    assert_eq!(
        (neither.code(), neither.field()),
        ("items_required", "items")
    );
});

db_test!(customers_see_only_their_own_orders, |app| {
    app.seed().await;
    let (_, a) = app.register("a@example.com", "password-a").await;
    let (_, b) = app.register("b@example.com", "password-b").await;
    let a_order = order_as(
        &app,
        &a,
        json!({"items": [{"sku": "TOTE-EU", "quantity": 1}]}),
    )
    .await
    .body["data"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let b_order = order_as(
        &app,
        &b,
        json!({"items": [{"sku": "FAN-JP", "quantity": 1}]}),
    )
    .await
    .body["data"]["id"]
        .as_str()
        .unwrap()
        .to_string();

    let a_list = app
        .send(Method::Get, "/api/v1/shop/orders", &[bearer(&a)], None)
        .await;
    let ids: Vec<&str> = a_list.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec![a_order.as_str()], "not B's, not the seeded ones");

    let b_as_a = app
        .send(
            Method::Get,
            &format!("/api/v1/shop/orders/{b_order}"),
            &[bearer(&a)],
            None,
        )
        .await;
    assert_eq!(
        (b_as_a.status, b_as_a.code()),
        (Status::NotFound, "not_found")
    );
    let own = app
        .send(
            Method::Get,
            &format!("/api/v1/shop/orders/{a_order}"),
            &[bearer(&a)],
            None,
        )
        .await;
    assert_eq!(own.status, Status::Ok);
    assert_eq!(own.body["data"]["history"][0]["to"], "pending_payment");

    let admin = app
        .send(
            Method::Get,
            &format!("/api/v1/shop/orders/{b_order}"),
            &[api_key(&app.admin_key)],
            None,
        )
        .await;
    assert_eq!(admin.status, Status::Ok);
    let all = app
        .send(
            Method::Get,
            "/api/v1/shop/orders?limit=100",
            &[api_key(&app.admin_key)],
            None,
        )
        .await;
    assert_eq!(all.body["data"].as_array().unwrap().len(), 8);
});

db_test!(the_demo_customer_owns_the_seeded_orders, |app| {
    app.seed().await;
    let login = app
        .post(
            "/api/v1/users/login",
            None,
            &json!({"email": "demo@orderpay.test", "password": "demo-password"}).to_string(),
        )
        .await;
    assert_eq!(login.status, Status::Ok);
    let token = login.body["data"]["access_token"].as_str().unwrap();
    let mine = app
        .send(Method::Get, "/api/v1/shop/orders", &[bearer(token)], None)
        .await;
    assert_eq!(
        mine.body["data"].as_array().unwrap().len(),
        5,
        "all seeded orders but the guest one"
    );
});

db_test!(deleting_a_user_keeps_their_orders, |app| {
    app.seed().await;
    let (user_id, token) = app.register("leaver@example.com", "leaving-soon").await;
    let order = order_as(
        &app,
        &token,
        json!({"items": [{"sku": "MUG-LOGO", "quantity": 4}]}),
    )
    .await
    .body["data"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let deleted = app
        .send(Method::Delete, "/api/v1/users/me", &[bearer(&token)], None)
        .await;
    assert_eq!(deleted.body["data"]["id"], user_id.as_str());
    let kept = app
        .send(
            Method::Get,
            &format!("/api/v1/shop/orders/{order}"),
            &[api_key(&app.admin_key)],
            None,
        )
        .await;
    assert_eq!(kept.status, Status::Ok);
    assert_eq!(kept.body["data"]["customer_id"], json!(null));
    assert_eq!(kept.body["data"]["amount"], "50.00");
});
