use crate::db_test;
use rocket::http::Status;

db_test!(admin_routes_need_a_key, |app| {
    let reply = app.get("/api/v1/users", None).await;
    assert_eq!(reply.status, Status::Unauthorized);
    assert_eq!(reply.code(), "missing_api_key");
    let reply = app.get("/api/v1/shop/orders", None).await;
    assert_eq!(reply.status, Status::Unauthorized);
    assert_eq!(reply.code(), "missing_credentials");
    let reply = app.post("/api/v1/admin/seed", None, "").await;
    assert_eq!(reply.status, Status::Unauthorized);
});

db_test!(unknown_keys_are_401, |app| {
    let reply = app
        .get("/api/v1/shop/orders", Some("opk_not-a-real-key"))
        .await;
    assert_eq!(reply.status, Status::Unauthorized);
    assert_eq!(reply.code(), "invalid_api_key");
});

db_test!(a_key_without_the_scope_is_403, |app| {
    let checkout = app.key("checkout,payments:read").await;
    for path in [
        "/api/v1/shop/orders",
        "/api/v1/shop/orders/0f8fad5b-d9cb-469f-a165-70867728950e",
    ] {
        let reply = app.get(path, Some(&checkout)).await;
        assert_eq!(reply.status, Status::Forbidden, "{path}");
        assert_eq!(reply.code(), "insufficient_scope");
        assert_eq!(reply.body["error"]["details"]["required_scope"], "admin");
    }
    let reply = app.post("/api/v1/admin/seed", Some(&checkout), "").await;
    assert_eq!(reply.status, Status::Forbidden);
    let reply = app.get("/api/v1/shop/orders", Some(&app.admin_key)).await;
    assert_eq!(reply.status, Status::Ok);
});

db_test!(a_revoked_key_stops_working, |app| {
    let key = app.key("admin").await;
    assert_eq!(
        app.get("/api/v1/shop/orders", Some(&key)).await.status,
        Status::Ok
    );
    let listing = orderpay::cli::list_api_keys(app.pool()).await.unwrap();
    let prefix = &key[..12];
    let line = listing
        .iter()
        .find(|l| l.contains(prefix))
        .expect("key listed by prefix");
    assert!(
        !listing.iter().any(|l| l.contains(&key)),
        "the key itself is never listed"
    );
    let id = line.split_whitespace().next().unwrap();
    orderpay::cli::revoke_api_key(app.pool(), id).await.unwrap();
    let reply = app.get("/api/v1/shop/orders", Some(&key)).await;
    assert_eq!(reply.status, Status::Unauthorized);
    assert_eq!(reply.code(), "invalid_api_key");
    assert!(
        orderpay::cli::revoke_api_key(app.pool(), id).await.is_err(),
        "revoking twice says so"
    );
});

db_test!(keys_are_stored_only_as_hashes, |app| {
    let key = app.key("admin").await;
    let rows: Vec<(String,)> = sqlx::query_as("SELECT key_hash FROM api_keys")
        .fetch_all(app.pool())
        .await
        .unwrap();
    assert!(!rows.is_empty());
    for (hash,) in rows {
        assert_ne!(hash, key);
        assert!(!hash.contains(&key[4..]));
        assert_eq!(hash.len(), 64);
    }
});
