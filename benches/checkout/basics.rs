//! The first measurements, kept to compare with earlier runs: a login flood,
//! then products, customer orders, orderpay's own confirm path and the
//! webhook inbox at moderate concurrency, all against orderpay served from
//! this process.

use std::sync::Mutex;
use std::time::Duration;

use serde_json::json;

use super::backend::Backend;
use super::harness::{launch, measure, register};
use super::login_flood;

pub async fn run_part(backend: &Backend) {
    let db = backend.fresh("basics").await;
    let server = launch(&db.url).await;
    let admin = server.key("admin").await;
    let checkout = server.key("checkout").await;
    server.seed(&admin).await;
    let token = register(&server.http, &server.base, "bench@example.com", "Bench").await;
    let s = &server;

    // First, while the process is still small: its memory after the flood
    // is the flood's doing.
    login_flood::run(s, &admin).await;

    measure("GET /api/v1/shop/products", 2000, 16, |_| async move {
        let (status, _) = s
            .call(reqwest::Method::GET, "/api/v1/shop/products", &[], None)
            .await;
        assert_eq!(status, 200);
    })
    .await;

    let order_body = json!({"items": [{"sku": "MAIN-2", "quantity": 2}]});
    let orders = Mutex::new(Vec::new());
    measure("POST /api/v1/shop/orders (customer)", 500, 8, |_| {
        let (token, body, orders) = (&token, &order_body, &orders);
        async move {
            let (status, reply) = s
                .call(
                    reqwest::Method::POST,
                    "/api/v1/shop/orders",
                    &[("Authorization", token)],
                    Some(body),
                )
                .await;
            assert_eq!(status, 201);
            orders
                .lock()
                .unwrap()
                .push(reply["data"]["id"].as_str().unwrap().to_string());
        }
    })
    .await;
    let orders = orders.into_inner().unwrap();

    let both = [
        ("Authorization", token.as_str()),
        ("X-API-Key", checkout.as_str()),
    ];
    measure("payment-intent + confirm + paid by webhook", 200, 4, |i| {
        let (order, both) = (&orders[i], &both);
        async move {
            let path = format!("/api/v1/shop/orders/{order}/payment-intent");
            let (status, _) = s.call(reqwest::Method::POST, &path, both, None).await;
            assert_eq!(status, 201);
            let pm = json!({"payment_method": "pm_card_visa"});
            let (status, _) = s
                .call(
                    reqwest::Method::POST,
                    &format!("{path}/confirm"),
                    both,
                    Some(&pm),
                )
                .await;
            assert_eq!(status, 200);
            let view = format!("/api/v1/shop/orders/{order}");
            loop {
                let (_, reply) = s.call(reqwest::Method::GET, &view, &both[..1], None).await;
                if reply["data"]["status"] == "paid" {
                    break;
                }
                rocket::tokio::time::sleep(Duration::from_millis(2)).await;
            }
        }
    })
    .await;

    let secret = s.sim.webhooks.settings().secrets[0].clone();
    measure("POST /api/v1/webhooks/stripe (inbox only)", 2000, 16, |i| {
        let secret = &secret;
        async move {
            let now = chrono::Utc::now().timestamp();
            let event = json!({"id": format!("evt_bench_{i}"), "object": "event", "type": "customer.created",
                "created": now, "livemode": false, "data": {"object": {"id": format!("cus_{i}"), "object": "customer"}}})
            .to_string();
            let signature = orderpay::stripe::webhook::header(event.as_bytes(), now, &[secret]);
            let response = s
                .http
                .post(format!("{}/api/v1/webhooks/stripe", s.base))
                .header("Stripe-Signature", signature)
                .header("Content-Type", "application/json")
                .body(event)
                .send()
                .await
                .expect("webhook");
            assert_eq!(response.status().as_u16(), 200);
        }
    })
    .await;
    server.stop();
    db.remove().await;
}
