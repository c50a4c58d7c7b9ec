//! Hostile and sloppy input at the HTTP edge: control characters (NUL above
//! all, which PostgreSQL refuses in text), forged cursors, repeated and
//! unknown query parameters, ids that are not ids and malformed content types
//! are each a clear 4xx naming what is wrong, the same on both backends.

use rocket::http::{Method, Status};
use serde_json::json;

use crate::db_test;
use crate::helpers::{api_key, bearer, Reply, TestApp};

const SOME_ID: &str = "0f8fad5b-d9cb-469f-a165-70867728950e";

#[track_caller]
fn refused(reply: &Reply, status: Status, code: &str, field: &str) {
    assert_eq!(
        (reply.status, reply.code(), reply.field()),
        (status, code, field),
        "{:?}",
        reply.body
    );
}

fn hex(text: &str) -> String {
    text.bytes().map(|b| format!("{b:02x}")).collect()
}

async fn login(app: &TestApp, body: &str) -> Reply {
    app.post("/api/v1/users/login", None, body).await
}

db_test!(nul_in_a_query_parameter_is_a_422_naming_it, |app| {
    let products = app.get("/api/v1/shop/products?cursor=%00", None).await;
    refused(
        &products,
        Status::UnprocessableEntity,
        "control_character",
        "cursor",
    );
    let events = app
        .get(
            "/api/v1/admin/webhook-events?type=a%00b",
            Some(&app.admin_key),
        )
        .await;
    refused(
        &events,
        Status::UnprocessableEntity,
        "control_character",
        "type",
    );
    let line_break = app
        .get(
            "/api/v1/admin/webhook-events?type=a%0Ab",
            Some(&app.admin_key),
        )
        .await;
    refused(
        &line_break,
        Status::UnprocessableEntity,
        "control_character",
        "type",
    );
});

db_test!(nul_in_any_json_string_is_a_422_naming_the_field, |app| {
    let nul_email = login(
        &app,
        r#"{"email": "a\u0000b@example.com", "password": "whatever-it-is"}"#,
    )
    .await;
    refused(
        &nul_email,
        Status::UnprocessableEntity,
        "control_character",
        "email",
    );
    let nul_sku = app
        .post(
            "/api/v1/shop/orders",
            Some(&app.admin_key),
            r#"{"line_items": [{"sku": "MAIN-2", "quantity": 1}, {"sku": "X\u0000", "quantity": 1}]}"#,
        )
        .await;
    refused(
        &nul_sku,
        Status::UnprocessableEntity,
        "control_character",
        "line_items[1].sku",
    );
    let register = app
        .post(
            "/api/v1/users/register",
            None,
            r#"{"email": "new@example.com", "name": "Two\nLines", "password": "long-enough-password"}"#,
        )
        .await;
    refused(
        &register,
        Status::UnprocessableEntity,
        "control_character",
        "name",
    );
});

db_test!(cursors_are_checked_not_just_decoded, |app| {
    // "00" decodes to a lone NUL.
    let nul = app.get("/api/v1/shop/products?cursor=00", None).await;
    refused(
        &nul,
        Status::UnprocessableEntity,
        "invalid_cursor",
        "cursor",
    );
    let forged = [
        hex("yesterday\nsome-id"),
        hex(&format!(
            "2025-01-01T00:00:00.000000Z\n{SOME_ID}' OR '1'='1"
        )),
        hex(&format!("2025-02-30T00:00:00.000000Z\n{SOME_ID}")),
    ];
    for cursor in forged {
        let orders = app
            .get(
                &format!("/api/v1/shop/orders?cursor={cursor}"),
                Some(&app.admin_key),
            )
            .await;
        refused(
            &orders,
            Status::UnprocessableEntity,
            "invalid_cursor",
            "cursor",
        );
    }
    let sku = app
        .get(
            &format!("/api/v1/shop/products?cursor={}", hex("lowercase sku")),
            None,
        )
        .await;
    refused(
        &sku,
        Status::UnprocessableEntity,
        "invalid_cursor",
        "cursor",
    );
    // A cursor the API made still works.
    let real = hex(&format!("2025-01-01T00:00:00.000000Z\n{SOME_ID}"));
    let ok = app
        .get(
            &format!("/api/v1/shop/orders?cursor={real}"),
            Some(&app.admin_key),
        )
        .await;
    assert_eq!(ok.status, Status::Ok, "{:?}", ok.body);
});

db_test!(
    a_repeated_query_parameter_is_a_422_never_a_wider_result,
    |app| {
        let payments_key = app.key("payments:read").await;
        let cases = [
            (
                "/api/v1/shop/orders?status=paid&status=paid",
                &app.admin_key,
                "status",
            ),
            (
                "/api/v1/shop/orders?limit=500&limit=500",
                &app.admin_key,
                "limit",
            ),
            (
                "/api/v1/shop/products?limit=1&cursor=00&limit=2",
                &app.admin_key,
                "limit",
            ),
            (
                &*format!("/api/v1/payments?order_id={SOME_ID}&order_id={SOME_ID}"),
                &payments_key,
                "order_id",
            ),
        ];
        for (path, key, field) in cases {
            let reply = app.get(path, Some(key)).await;
            refused(
                &reply,
                Status::UnprocessableEntity,
                "duplicate_parameter",
                field,
            );
        }
    }
);

db_test!(an_unknown_query_parameter_is_a_422, |app| {
    let misspelt = app.get("/api/v1/shop/products?limt=5", None).await;
    refused(
        &misspelt,
        Status::UnprocessableEntity,
        "unknown_parameter",
        "limt",
    );
    let on_a_route_without_parameters = app
        .get(
            &format!("/api/v1/shop/orders/{SOME_ID}?expand=all"),
            Some(&app.admin_key),
        )
        .await;
    refused(
        &on_a_route_without_parameters,
        Status::UnprocessableEntity,
        "unknown_parameter",
        "expand",
    );
    let payments_key = app.key("payments:read").await;
    let not_an_id = app
        .get("/api/v1/payments?order_id=someone", Some(&payments_key))
        .await;
    refused(
        &not_an_id,
        Status::UnprocessableEntity,
        "invalid_id",
        "order_id",
    );
});

db_test!(ids_are_typed_so_a_word_is_not_a_user, |app| {
    // `login` is not a user id: only POST answers at this path.
    for method in [Method::Options, Method::Get, Method::Delete] {
        let reply = app
            .send(
                method,
                "/api/v1/users/login",
                &[api_key(&app.admin_key)],
                None,
            )
            .await;
        assert_eq!(reply.status, Status::MethodNotAllowed, "{method}");
        let message = reply.body["message"].as_str().unwrap();
        assert!(message.ends_with("allowed: POST"), "{method}: {message}");
    }
    // A malformed id names nothing: 404, whatever the backend.
    for path in [
        "/api/v1/shop/orders/%00".to_string(),
        "/api/v1/shop/orders/not-an-id".to_string(),
        format!("/api/v1/shop/orders/{}", SOME_ID.to_uppercase()),
        format!("/api/v1/users/{SOME_ID}x"),
    ] {
        let reply = app.get(&path, Some(&app.admin_key)).await;
        refused(&reply, Status::NotFound, "not_found", "<none>");
    }
    let (_, token) = app.register("cards@example.com", "card-holder-pw").await;
    let card = app
        .send(
            Method::Delete,
            "/api/v1/users/me/cards/%00",
            &[bearer(&token)],
            None,
        )
        .await;
    assert_eq!(card.status, Status::NotFound, "{:?}", card.body);
});

db_test!(a_malformed_content_type_is_a_415, |app| {
    for content_type in ["json", "application/json; charset", "///"] {
        let reply = app
            .send_raw(
                Method::Post,
                "/api/v1/users/login",
                &[],
                Some(
                    json!({"email": "a@example.com", "password": "x"})
                        .to_string()
                        .into_bytes(),
                ),
                Some(content_type),
            )
            .await;
        refused(
            &reply,
            Status::UnsupportedMediaType,
            "unsupported_media_type",
            "<none>",
        );
    }
});
