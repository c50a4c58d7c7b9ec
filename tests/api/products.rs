use crate::db_test;
use rocket::http::Status;

db_test!(
    the_catalog_lists_active_products_with_decimal_prices,
    |app| {
        let reply = app.get("/api/v1/shop/products", None).await;
        assert_eq!(reply.status, Status::Ok);
        assert_eq!(reply.body["data"], serde_json::json!([]));
        app.seed().await;
        let reply = app.get("/api/v1/shop/products?limit=100", None).await;
        let products = reply.body["data"].as_array().unwrap();
        assert_eq!(products.len(), 8, "the retired product is not listed");
        let by_sku = |sku: &str| products.iter().find(|p| p["sku"] == sku).unwrap().clone();
        assert_eq!(by_sku("MAIN-2")["unit_amount"], "56.00");
        assert_eq!(by_sku("TEA-MATCHA")["unit_amount"], "2400");
        assert_eq!(by_sku("DATES-KW")["unit_amount"], "4.250");
        assert_eq!(by_sku("DATES-KW")["currency"], "kwd");
        assert!(products.iter().all(|p| p["active"] == true));
        assert!(products.iter().all(|p| p["sku"] != "TEE-RETIRED"));
    }
);

db_test!(the_catalog_pages_by_sku, |app| {
    app.seed().await;
    let mut seen = Vec::new();
    let mut path = "/api/v1/shop/products?limit=3".to_string();
    loop {
        let reply = app.get(&path, None).await;
        assert_eq!(reply.status, Status::Ok);
        for product in reply.body["data"].as_array().unwrap() {
            seen.push(product["sku"].as_str().unwrap().to_string());
        }
        match reply.body["pagination"]["next_cursor"].as_str() {
            Some(cursor) => path = format!("/api/v1/shop/products?limit=3&cursor={cursor}"),
            None => break,
        }
    }
    let mut sorted = seen.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(seen, sorted, "every product once, in sku order");
    assert_eq!(seen.len(), 8);
});
