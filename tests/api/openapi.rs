use std::collections::BTreeSet;

use crate::db_test;
use rocket::http::{ContentType, Status};

db_test!(every_mounted_route_is_in_the_openapi_document, |app| {
    let reply = app.get("/api/v1/openapi.json", None).await;
    assert_eq!(reply.status, Status::Ok);
    let doc = reply.body;
    assert_eq!(doc["openapi"], "3.0.3");
    let documented: BTreeSet<(String, String)> = doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, ops)| {
            ops.as_object()
                .unwrap()
                .keys()
                .map(|method| (method.to_uppercase(), path.clone()))
                .collect::<Vec<_>>()
        })
        .collect();
    let mounted: BTreeSet<(String, String)> = app
        .routes
        .iter()
        .map(|(method, path)| {
            (
                method.as_str().to_string(),
                path.replace('<', "{").replace('>', "}"),
            )
        })
        .collect();
    assert_eq!(
        mounted, documented,
        "mounted routes and documented operations differ"
    );

    // Key-protected operations declare the scheme and their scope.
    let users = &doc["paths"]["/api/v1/users"]["get"];
    assert_eq!(users["security"], serde_json::json!([{"ApiKeyAuth": []}]));
    assert_eq!(users["x-required-scope"], "admin");
    // Customer-or-admin operations offer both schemes as alternatives.
    let orders = &doc["paths"]["/api/v1/shop/orders"]["get"];
    assert_eq!(
        orders["security"],
        serde_json::json!([{"BearerAuth": []}, {"ApiKeyAuth": []}])
    );
    let me = &doc["paths"]["/api/v1/users/me"]["get"];
    assert_eq!(me["security"], serde_json::json!([{"BearerAuth": []}]));
    let login = &doc["paths"]["/api/v1/users/login"]["post"];
    assert_eq!(login["security"], serde_json::json!([]));
    assert_eq!(
        doc["components"]["securitySchemes"]["ApiKeyAuth"]["name"],
        "X-API-Key"
    );
    // Every success status a route answers is documented; so are required
    // headers and whether a body may be left out.
    let intent = &doc["paths"]["/api/v1/shop/orders/{id}/payment-intent"]["post"];
    assert!(intent["responses"]["200"].is_object() && intent["responses"]["201"].is_object());
    assert_eq!(
        intent["security"],
        serde_json::json!([{"BearerAuth": [], "ApiKeyAuth": []}])
    );
    let webhook = &doc["paths"]["/api/v1/webhooks/stripe"]["post"];
    assert_eq!(webhook["parameters"][0]["name"], "Stripe-Signature");
    assert_eq!(webhook["parameters"][0]["required"], true);
    assert_eq!(
        doc["paths"]["/api/v1/admin/seed"]["post"]["requestBody"]["required"],
        false
    );
    assert_eq!(
        doc["paths"]["/api/v1/shop/orders"]["post"]["requestBody"]["required"],
        true
    );
    // Schemas come from the Rust types.
    assert!(doc["components"]["schemas"]["OrderView"]["properties"]["line_items"].is_object());
    assert!(doc["components"]["schemas"]["CreateOrderRequest"].is_object());
});

db_test!(the_docs_page_is_self_contained_html, |app| {
    let reply = app.get("/api/v1/docs", None).await;
    assert_eq!(reply.status, Status::Ok);
    assert_eq!(reply.content_type, Some(ContentType::HTML));
    let html = reply.body.as_str().unwrap().to_string();
    assert!(html.contains("/api/v1/openapi.json"));
    assert!(
        !html.contains("https://"),
        "no CDN: the page must work offline"
    );
});
