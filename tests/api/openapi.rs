use std::collections::BTreeSet;

use crate::db_test;
use rocket::http::{ContentType, Status};
use serde_json::{json, Map, Value};

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

/// The document as the server builds it; it does not depend on the database.
fn document() -> Value {
    orderpay::http::openapi::document(&orderpay::http::routes::endpoints())
}

/// Every JSON object in `value`, with its path for failure messages.
fn objects<'a>(value: &'a Value, path: String, out: &mut Vec<(String, &'a Map<String, Value>)>) {
    match value {
        Value::Object(map) => {
            out.push((path.clone(), map));
            for (key, child) in map {
                objects(child, format!("{path}/{key}"), out);
            }
        }
        Value::Array(items) => {
            for (index, child) in items.iter().enumerate() {
                objects(child, format!("{path}/{index}"), out);
            }
        }
        _ => {}
    }
}

#[test]
fn no_ref_has_siblings_which_openapi_3_0_would_ignore() {
    let doc = document();
    let mut all = Vec::new();
    objects(&doc, String::new(), &mut all);
    let with_siblings: Vec<String> = all
        .iter()
        .filter(|(_, map)| map.contains_key("$ref") && map.len() > 1)
        .map(|(path, map)| format!("{path}: {:?}", map.keys().collect::<Vec<_>>()))
        .collect();
    assert!(with_siblings.is_empty(), "{with_siblings:#?}");
    // The single-order view's nullable `from` status is the case that broke it.
    let from = &doc["components"]["schemas"]["HistoryView"]["properties"]["from"];
    assert_eq!(from["nullable"], true);
    assert_eq!(from["allOf"][0]["$ref"], "#/components/schemas/OrderStatus");
}

#[test]
fn every_timestamp_is_a_date_time() {
    let doc = document();
    let mut missing = Vec::new();
    let mut seen = 0;
    for (name, schema) in doc["components"]["schemas"].as_object().unwrap() {
        let Some(properties) = schema["properties"].as_object() else {
            continue;
        };
        for (field, property) in properties {
            if field == "at" || field.ends_with("_at") {
                seen += 1;
                if property["format"] != "date-time" {
                    missing.push(format!("{name}.{field}"));
                }
            }
        }
    }
    assert!(seen >= 10, "only {seen} timestamps found");
    assert!(missing.is_empty(), "without format date-time: {missing:?}");
}

#[test]
fn request_rules_are_the_servers() {
    let doc = document();
    let schemas = &doc["components"]["schemas"];

    // Currencies: the codes Stripe charges in, not any three characters.
    let codes = schemas["CurrencyCode"]["enum"].as_array().unwrap();
    assert!(codes.contains(&json!("usd")) && codes.contains(&json!("jpy")));
    assert!(!codes.contains(&json!("000")) && !codes.contains(&json!("xyz")));
    let order = &schemas["CreateOrderRequest"];
    let mut nullable_codes = codes.clone();
    nullable_codes.push(Value::Null);
    assert_eq!(
        order["properties"]["currency"]["enum"],
        json!(nullable_codes)
    );
    assert_eq!(order["properties"]["currency"]["nullable"], true);
    let list_orders = &doc["paths"]["/api/v1/shop/orders"]["get"]["parameters"];
    let currency_filter = list_orders
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "currency")
        .unwrap();
    assert_eq!(
        currency_filter["schema"]["$ref"],
        "#/components/schemas/CurrencyCode"
    );

    // An order names its items in exactly one of two lists.
    assert_eq!(order["oneOf"][0]["required"], json!(["items"]));
    assert_eq!(order["oneOf"][1]["required"], json!(["line_items"]));
    assert_eq!(order["properties"]["items"]["maxItems"], 100);
    let item = &schemas["OrderItemInput"]["properties"]["quantity"];
    assert_eq!(
        (&item["minimum"], &item["maximum"]),
        (&json!(1.0), &json!(999.0))
    );

    // Password and name rules, wherever a password or name is set.
    for request in [
        "RegisterRequest",
        "UpdateMeRequest",
        "AdminUpdateUserRequest",
    ] {
        let properties = &schemas[request]["properties"];
        assert_eq!(properties["password"]["minLength"], 8, "{request}");
        assert_eq!(properties["password"]["maxLength"], 128, "{request}");
        assert_eq!(properties["name"]["maxLength"], 100, "{request}");
        assert_eq!(
            properties["name"]["pattern"],
            orderpay::http::openapi::formats::DISPLAY_NAME_PATTERN,
            "{request}"
        );
        assert_eq!(properties["email"]["format"], "email", "{request}");
    }

    // A new password needs the current one; amounts follow the money grammar.
    let update_me = &schemas["UpdateMeRequest"]["anyOf"];
    assert_eq!(update_me[0]["not"]["required"], json!(["password"]));
    assert_eq!(update_me[1]["required"], json!(["current_password"]));
    let amount_text = &schemas["AmountText"];
    assert_eq!(amount_text["maxLength"], 40);
    assert_eq!(
        amount_text["pattern"],
        orderpay::http::openapi::formats::AMOUNT_PATTERN
    );
    assert_eq!(
        schemas["AmountInput"]["oneOf"][0]["$ref"],
        "#/components/schemas/AmountText"
    );

    // Headers and path ids.
    let refund = &doc["paths"]["/api/v1/shop/orders/{id}/refunds"]["post"]["parameters"];
    let key = refund
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "Idempotency-Key")
        .unwrap();
    assert_eq!(key["schema"]["maxLength"], 255);
    assert_eq!(refund[0]["name"], "id");
    assert_eq!(refund[0]["schema"]["format"], "uuid");
}
