use crate::db_test;
use crate::helpers::TestApp;
use rocket::http::Status;
use serde_json::json;

async fn counts(app: &TestApp) -> (i64, i64, i64, i64) {
    let mut result = Vec::new();
    for table in ["products", "users", "orders", "order_history"] {
        let (n,): (i64,) = sqlx::query_as(&format!("SELECT COUNT(*) FROM {table}"))
            .fetch_one(app.pool())
            .await
            .unwrap();
        result.push(n);
    }
    (result[0], result[1], result[2], result[3])
}

db_test!(seeding_twice_creates_nothing_new, |app| {
    let first = app.seed().await;
    assert_eq!(first.status, Status::Created);
    assert_eq!(first.body["data"]["products_created"], 9);
    assert_eq!(first.body["data"]["customers_created"], 1);
    assert_eq!(first.body["data"]["orders_created"], 6);
    let after_first = counts(&app).await;
    assert_eq!((after_first.0, after_first.1, after_first.2), (9, 1, 6));

    let second = app.seed().await;
    assert_eq!(second.status, Status::Ok);
    assert_eq!(second.body["data"]["products_created"], 0);
    assert_eq!(second.body["data"]["orders_created"], 0);
    assert_eq!(counts(&app).await, after_first);

    // The CLI path is the same loader and is just as idempotent.
    orderpay::cli::seed(app.pool(), None).await.unwrap();
    assert_eq!(counts(&app).await, after_first);
});

db_test!(seeded_orders_have_their_status_and_history, |app| {
    app.seed().await;
    let reply = app
        .get("/api/v1/shop/orders?status=refunded", Some(&app.admin_key))
        .await;
    let refunded = &reply.body["data"][0];
    assert_eq!(refunded["number"], "ORD-20250402-DEMO4");
    assert_eq!(refunded["amount"], "6300");
    assert_eq!(refunded["currency"], "jpy");
    let id = refunded["id"].as_str().unwrap();
    let detail = app
        .get(&format!("/api/v1/shop/orders/{id}"), Some(&app.admin_key))
        .await;
    let steps: Vec<(serde_json::Value, String)> = detail.body["data"]["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| (h["from"].clone(), h["to"].as_str().unwrap().to_string()))
        .collect();
    assert_eq!(
        steps,
        vec![
            (json!(null), "pending_payment".to_string()),
            (json!("pending_payment"), "paid".to_string()),
            (json!("paid"), "refunded".to_string()),
        ]
    );
    assert!(detail.body["data"]["history"]
        .as_array()
        .unwrap()
        .iter()
        .all(|h| h["source"] == "seed"));
    let kwd = app
        .get("/api/v1/shop/orders?currency=kwd", Some(&app.admin_key))
        .await;
    assert_eq!(kwd.body["data"][0]["amount"], "12.750");
    assert_eq!(kwd.body["data"][0]["customer_id"], json!(null));
});

db_test!(a_bad_seed_is_rejected_whole_naming_the_entry, |app| {
    app.seed().await;
    let before = counts(&app).await;
    let bad = json!({
        "products": [
            {"sku": "NEW-1", "name": "New", "currency": "usd", "unit_amount": "5.00"},
            {"sku": "NEW-2", "name": "New 2", "currency": "usd", "unit_amount": "5.001"}
        ],
        "orders": [{"number": "ORD-20250501-NEW1", "status": "paid", "items": [{"sku": "NEW-1", "quantity": 1}]}]
    });
    let reply = app
        .post("/api/v1/admin/seed", Some(&app.admin_key), &bad.to_string())
        .await;
    assert_eq!(
        reply.status,
        Status::UnprocessableEntity,
        "{:?}",
        reply.body
    );
    assert_eq!(reply.code(), "invalid_seed");
    assert!(reply.field().contains("products[1]"), "{:?}", reply.body);
    assert!(reply.body["message"].as_str().unwrap().contains("NEW-2"));
    assert_eq!(
        counts(&app).await,
        before,
        "nothing from the bad file was written"
    );

    let unknown_sku = json!({
        "products": [{"sku": "NEW-1", "name": "New", "currency": "usd", "unit_amount": "5.00"}],
        "orders": [{"number": "ORD-20250501-NEW1", "status": "paid", "items": [{"sku": "GHOST", "quantity": 1}]}]
    });
    let reply = app
        .post(
            "/api/v1/admin/seed",
            Some(&app.admin_key),
            &unknown_sku.to_string(),
        )
        .await;
    assert_eq!(reply.status, Status::UnprocessableEntity);
    assert!(reply.field().contains("orders[0]"));
    assert!(reply.body["message"].as_str().unwrap().contains("GHOST"));
    assert_eq!(counts(&app).await, before);

    // The CLI names the file.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("broken.json");
    std::fs::write(&path, bad.to_string()).unwrap();
    let err = orderpay::cli::seed(app.pool(), Some(&path))
        .await
        .unwrap_err();
    assert!(
        err.contains("broken.json") && err.contains("products[1]"),
        "{err}"
    );
    assert_eq!(counts(&app).await, before);
});

db_test!(seeding_over_http_needs_demo_seed_enabled, |app| {
    let url = app.database_url.clone();
    let figment = crate::helpers::test_figment(&url).merge(("demo_seed", false));
    let locked = TestApp::start_with(app.backend, &url, figment).await;
    let reply = locked
        .post("/api/v1/admin/seed", Some(&locked.admin_key), "")
        .await;
    assert_eq!(reply.status, Status::Forbidden);
    assert_eq!(reply.code(), "seeding_disabled");
    assert_eq!(counts(&locked).await.0, 0);
});
