use crate::db_test;
use rocket::http::{ContentType, Method, Status};

db_test!(malformed_json_is_a_400_envelope, |app| {
    let reply = app
        .post(
            "/api/v1/shop/orders",
            Some(&app.admin_key),
            "{\"line_items\": [",
        )
        .await;
    assert_eq!(reply.status, Status::BadRequest);
    assert_eq!(reply.code(), "malformed_json");
    assert!(reply.body["message"].is_string());
    assert_eq!(reply.content_type, Some(ContentType::JSON));
});

db_test!(non_json_bodies_are_415, |app| {
    let reply = app
        .send_raw(
            Method::Post,
            "/api/v1/shop/orders",
            &[crate::helpers::api_key(&app.admin_key)],
            Some(b"line_items=1".to_vec()),
            Some("application/x-www-form-urlencoded"),
        )
        .await;
    assert_eq!(reply.status, Status::UnsupportedMediaType);
    assert_eq!(reply.code(), "unsupported_media_type");
});

db_test!(oversized_bodies_are_413, |app| {
    let huge = format!(
        "{{\"line_items\": [], \"pad\": \"{}\"}}",
        "x".repeat(1024 * 1024 + 10)
    );
    let reply = app
        .post("/api/v1/shop/orders", Some(&app.admin_key), &huge)
        .await;
    assert_eq!(reply.status, Status::PayloadTooLarge);
    assert_eq!(reply.code(), "payload_too_large");
});

db_test!(unknown_routes_are_json_404s, |app| {
    let reply = app.get("/api/v1/nothing-here", None).await;
    assert_eq!(reply.status, Status::NotFound);
    assert_eq!(reply.code(), "not_found");
    assert_eq!(reply.content_type, Some(ContentType::JSON));
});

db_test!(a_known_path_with_the_wrong_method_is_405, |app| {
    let reply = app
        .send(Method::Delete, "/api/v1/shop/orders", &[], None)
        .await;
    assert_eq!(
        (reply.status, reply.code()),
        (Status::MethodNotAllowed, "method_not_allowed")
    );
    assert!(
        reply.body["message"]
            .as_str()
            .unwrap()
            .contains("GET, HEAD, POST"),
        "{:?}",
        reply.body
    );
    let reply = app
        .send(
            Method::Get,
            "/api/v1/shop/orders/0f8fad5b-d9cb-469f-a165-70867728950e/payment",
            &[],
            None,
        )
        .await;
    assert_eq!(reply.status, Status::MethodNotAllowed);
    // A path nothing answers to stays a 404.
    let reply = app.send(Method::Delete, "/api/v1/nothing", &[], None).await;
    assert_eq!(reply.status, Status::NotFound);
});
