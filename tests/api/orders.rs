use crate::db_test;
use crate::helpers::{Reply, TestApp};
use rocket::http::Status;
use serde_json::json;

async fn create(app: &TestApp, body: serde_json::Value) -> Reply {
    app.post(
        "/api/v1/shop/orders",
        Some(&app.admin_key),
        &body.to_string(),
    )
    .await
}

db_test!(admin_orders_total_exactly_in_usd_jpy_and_kwd, |app| {
    app.seed().await;
    let usd = create(
        &app,
        json!({"line_items": [
            {"sku": "MAIN-2", "quantity": 2},
            {"sku": "MUG-LOGO", "quantity": 3},
        ]}),
    )
    .await;
    assert_eq!(usd.status, Status::Created, "{:?}", usd.body);
    let order = &usd.body["data"];
    assert_eq!(order["currency"], "usd");
    assert_eq!(order["amount"], "149.50");
    assert_eq!(order["status"], "pending_payment");
    assert_eq!(order["line_items"][0]["amount"], "112.00");
    assert_eq!(order["line_items"][1]["unit_amount"], "12.50");
    assert!(order["number"].as_str().unwrap().starts_with("ORD-"));

    let jpy = create(
        &app,
        json!({"currency": "JPY", "line_items": [
            {"sku": "TEA-MATCHA", "quantity": 3}, {"sku": "FAN-JP", "quantity": 1},
        ]}),
    )
    .await;
    assert_eq!(jpy.status, Status::Created, "{:?}", jpy.body);
    assert_eq!(jpy.body["data"]["amount"], "8700");
    assert_eq!(jpy.body["data"]["currency"], "jpy");

    let kwd = create(
        &app,
        json!({"line_items": [
            {"sku": "DATES-KW", "quantity": 3},
            {"sku": "DATES-KW", "quantity": 1, "unit_amount": 0.11},
        ]}),
    )
    .await;
    assert_eq!(kwd.status, Status::Created, "{:?}", kwd.body);
    assert_eq!(kwd.body["data"]["amount"], "12.860");
    assert_eq!(kwd.body["data"]["line_items"][1]["unit_amount"], "0.110");

    // Stored as integer minor units: what Stripe will be asked to charge.
    let id = kwd.body["data"]["id"].as_str().unwrap();
    let (amount,): (i64,) = sqlx::query_as("SELECT amount FROM orders WHERE id = $1")
        .bind(id)
        .fetch_one(app.pool())
        .await
        .unwrap();
    assert_eq!(amount, 12860);
});

db_test!(bad_order_input_is_422_naming_the_field, |app| {
    app.seed().await;
    let cases = [
        (
            json!({"line_items": [{"sku": "MAIN-2", "quantity": 1, "unit_amount": "1.005"}]}),
            "line_items[0].unit_amount",
            "too_many_decimals",
        ),
        (
            json!({"line_items": [{"sku": "TEA-MATCHA", "quantity": 1, "unit_amount": 10.5}]}),
            "line_items[0].unit_amount",
            "too_many_decimals",
        ),
        (
            json!({"line_items": [{"sku": "DATES-KW", "quantity": 1, "unit_amount": "1.2345"}]}),
            "line_items[0].unit_amount",
            "too_many_decimals",
        ),
        (
            json!({"line_items": [{"sku": "MAIN-2", "quantity": 1, "unit_amount": "0"}]}),
            "line_items[0].unit_amount",
            "amount_not_positive",
        ),
        (
            json!({"line_items": [{"sku": "MAIN-2", "quantity": 1, "unit_amount": -5}]}),
            "line_items[0].unit_amount",
            "amount_not_positive",
        ),
        (
            json!({"line_items": [{"sku": "MAIN-2", "quantity": 1, "unit_amount": "12,50"}]}),
            "line_items[0].unit_amount",
            "invalid_amount",
        ),
        (
            json!({"line_items": [{"sku": "MAIN-2", "quantity": 1}, {"sku": "NOPE", "quantity": 1}]}),
            "line_items[1].sku",
            "unknown_sku",
        ),
        (
            json!({"currency": "xyz", "line_items": [{"sku": "MAIN-2", "quantity": 1}]}),
            "currency",
            "unsupported_currency",
        ),
        (
            json!({"currency": "eur", "line_items": [{"sku": "MAIN-2", "quantity": 1}]}),
            "line_items[0].sku",
            "currency_mismatch",
        ),
        (
            json!({"line_items": [{"sku": "MAIN-2", "quantity": 1}, {"sku": "TOTE-EU", "quantity": 1}]}),
            "line_items[1].sku",
            "currency_mismatch",
        ),
        (
            json!({"line_items": [{"sku": "MAIN-2", "quantity": 0}]}),
            "line_items[0].quantity",
            "invalid_quantity",
        ),
        (
            json!({"line_items": [{"sku": "MAIN-2", "quantity": 1.5}]}),
            "line_items[0].quantity",
            "invalid_field",
        ),
        (json!({"line_items": []}), "line_items", "empty_order"),
        (
            json!({"line_items": [{"sku": "TEE-RETIRED", "quantity": 1}]}),
            "line_items[0].sku",
            "product_inactive",
        ),
        (
            json!({"line_items": [{"sku": "MAIN-2", "quantity": 1}], "customer_email": "nobody@example.com"}),
            "customer_email",
            "unknown_customer",
        ),
        (
            json!({"line_items": [{"sku": "MAIN-2", "quantity": 1, "price": "1.00"}]}),
            "line_items[0]",
            "invalid_field",
        ),
    ];
    for (body, field, code) in cases {
        let reply = create(&app, body.clone()).await;
        assert_eq!(
            reply.status,
            Status::UnprocessableEntity,
            "{body}: {:?}",
            reply.body
        );
        assert_eq!(reply.code(), code, "{body}: {:?}", reply.body);
        assert!(
            reply.field().starts_with(field),
            "{body}: field {} in {:?}",
            reply.field(),
            reply.body
        );
        assert!(reply.body["message"].as_str().unwrap().len() > field.len());
    }
    let (count,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM orders")
        .fetch_one(app.pool())
        .await
        .unwrap();
    assert_eq!(
        count, 6,
        "only the seeded orders exist: nothing was half-written"
    );
});

db_test!(an_order_shows_its_items_and_history, |app| {
    app.seed().await;
    let created = create(&app, json!({"customer_email": "DEMO@orderpay.test", "line_items": [{"sku": "TOTE-EU", "quantity": 2}]})).await;
    assert_eq!(created.status, Status::Created);
    let id = created.body["data"]["id"].as_str().unwrap();
    assert_eq!(created.body["data"]["email"], "demo@orderpay.test");
    let reply = app
        .get(&format!("/api/v1/shop/orders/{id}"), Some(&app.admin_key))
        .await;
    assert_eq!(reply.status, Status::Ok);
    let order = &reply.body["data"];
    assert_eq!(order["amount"], "39.80");
    assert_eq!(order["line_items"][0]["name"], "Canvas tote");
    assert_eq!(
        order["history"],
        json!([{
            "from": null, "to": "pending_payment", "source": "api", "at": order["history"][0]["at"],
        }])
    );
    let missing = app
        .get("/api/v1/shop/orders/does-not-exist", Some(&app.admin_key))
        .await;
    assert_eq!(missing.status, Status::NotFound);
    assert_eq!(missing.code(), "not_found");
});

db_test!(order_listings_filter_and_page_stably, |app| {
    app.seed().await;
    for _ in 0..5 {
        let reply = create(
            &app,
            json!({"line_items": [{"sku": "MAIN-2", "quantity": 1}]}),
        )
        .await;
        assert_eq!(reply.status, Status::Created);
    }
    let all = app
        .get("/api/v1/shop/orders?limit=100", Some(&app.admin_key))
        .await;
    let all_ids: Vec<String> = all.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["id"].as_str().unwrap().into())
        .collect();
    assert_eq!(all_ids.len(), 11);
    assert_eq!(all.body["pagination"]["has_more"], false);

    let mut paged = Vec::new();
    let mut path = "/api/v1/shop/orders?limit=4".to_string();
    let mut first_page = true;
    loop {
        let reply = app.get(&path, Some(&app.admin_key)).await;
        assert_eq!(reply.status, Status::Ok);
        paged.extend(
            reply.body["data"]
                .as_array()
                .unwrap()
                .iter()
                .map(|o| o["id"].as_str().unwrap().to_string()),
        );
        if first_page {
            // An order created mid-pagination must not shift later pages.
            create(
                &app,
                json!({"line_items": [{"sku": "MUG-LOGO", "quantity": 4}]}),
            )
            .await;
            first_page = false;
        }
        match reply.body["pagination"]["next_cursor"].as_str() {
            Some(cursor) => path = format!("/api/v1/shop/orders?limit=4&cursor={cursor}"),
            None => break,
        }
    }
    assert_eq!(paged, all_ids, "each order once, in the same order");

    let paid = app
        .get("/api/v1/shop/orders?status=paid", Some(&app.admin_key))
        .await;
    let paid = paid.body["data"].as_array().unwrap();
    assert_eq!(paid.len(), 1);
    assert_eq!(paid[0]["number"], "ORD-20250331-DEMO2");
    let jpy = app
        .get("/api/v1/shop/orders?currency=JPY", Some(&app.admin_key))
        .await;
    assert_eq!(jpy.body["data"].as_array().unwrap().len(), 1);

    for (query, field) in [
        ("status=bogus", "status"),
        ("currency=xyz", "currency"),
        ("limit=0", "limit"),
        ("cursor=nothex", "cursor"),
    ] {
        let reply = app
            .get(
                &format!("/api/v1/shop/orders?{query}"),
                Some(&app.admin_key),
            )
            .await;
        assert_eq!(reply.status, Status::UnprocessableEntity, "{query}");
        assert_eq!(reply.field(), field);
    }
});

/// Every id of a listing, page by page (`limit` per page), as `headers` see it.
async fn page_through(
    app: &TestApp,
    headers: &[rocket::http::Header<'static>],
    limit: usize,
) -> Vec<String> {
    let mut ids = Vec::new();
    let mut path = format!("/api/v1/shop/orders?limit={limit}");
    loop {
        let reply = app
            .send(rocket::http::Method::Get, &path, headers, None)
            .await;
        assert_eq!(reply.status, Status::Ok, "{:?}", reply.body);
        ids.extend(
            reply.body["data"]
                .as_array()
                .unwrap()
                .iter()
                .map(|o| o["id"].as_str().unwrap().to_string()),
        );
        match reply.body["pagination"]["next_cursor"].as_str() {
            Some(cursor) => path = format!("/api/v1/shop/orders?limit={limit}&cursor={cursor}"),
            None => return ids,
        }
    }
}

db_test!(orders_created_in_the_same_instant_page_by_id, |app| {
    // The keyset is (created_at, id): rows sharing a timestamp are told apart
    // by id, so a page boundary inside a tie neither skips nor repeats one.
    app.seed().await;
    let (customer_id, token) = app.register("ties@example.com", "tie-breaker-pass").await;
    let customer = [crate::helpers::bearer(&token)];
    for _ in 0..7 {
        let reply = app
            .send(
                rocket::http::Method::Post,
                "/api/v1/shop/orders",
                &customer,
                Some(&json!({"items": [{"sku": "MAIN-2", "quantity": 1}]}).to_string()),
            )
            .await;
        assert_eq!(reply.status, Status::Created, "{:?}", reply.body);
    }
    sqlx::query("UPDATE orders SET created_at = '2026-01-02T03:04:05.000000Z'")
        .execute(app.pool())
        .await
        .unwrap();
    let mut expected: Vec<(String, String)> =
        sqlx::query_as("SELECT id, COALESCE(user_id, '') FROM orders")
            .fetch_all(app.pool())
            .await
            .unwrap();
    expected.sort_by(|a, b| b.0.cmp(&a.0));
    let everyone: Vec<String> = expected.iter().map(|(id, _)| id.clone()).collect();
    let admin = [crate::helpers::api_key(&app.admin_key)];
    assert_eq!(page_through(&app, &admin, 3).await, everyone);
    let own: Vec<String> = expected
        .iter()
        .filter(|(_, user)| *user == customer_id)
        .map(|(id, _)| id.clone())
        .collect();
    assert_eq!(own.len(), 7);
    assert_eq!(page_through(&app, &customer, 2).await, own);
});
