//! What operators see: the webhook inbox and the recorded mismatches.

use std::collections::HashSet;

use rocket::http::Status;

use super::*;
use crate::db_test;

db_test!(the_webhook_inbox_shows_each_event_and_what_it_did, |app| {
    let shop = Shop::new(&app).await;
    shop.payment_intent_id(&app, &shop.order).await;
    shop.confirm(&app, &shop.order, "pm_card_visa").await;
    wait_for_status(&app, &shop.order, "paid").await;
    settle_webhooks(&app).await;

    let path = format!("/api/v1/admin/webhook-events?order_id={}", shop.order);
    let inbox = app.get(&path, Some(&app.admin_key)).await;
    assert_eq!(inbox.status, Status::Ok, "{:?}", inbox.body);
    let events = inbox.body["data"].as_array().unwrap();
    let succeeded: Vec<&Value> = events
        .iter()
        .filter(|e| e["type"] == "payment_intent.succeeded")
        .collect();
    assert_eq!(succeeded.len(), 1, "{events:?}");
    assert!(succeeded[0]["processed_at"].is_string());
    // Each event re-reads the PaymentIntent, so whichever is applied first
    // after the payment (the succeeded one, or an earlier one applied late)
    // marks the order paid; exactly one application does, and the others see
    // it paid. Events applied together (one claim) share its outcome and
    // its `processed_at`.
    let paying: HashSet<&str> = events
        .iter()
        .filter(|e| e["outcome"] == "paid")
        .filter_map(|e| e["processed_at"].as_str())
        .collect();
    assert_eq!(paying.len(), 1, "{events:?}");
    assert!(
        ["paid", "already_paid"].contains(&succeeded[0]["outcome"].as_str().unwrap_or_default()),
        "{events:?}"
    );

    let only = app
        .get(
            "/api/v1/admin/webhook-events?type=payment_intent.created",
            Some(&app.admin_key),
        )
        .await;
    let kinds: Vec<&str> = only.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, vec!["payment_intent.created"]);

    let first = app
        .get("/api/v1/admin/webhook-events?limit=1", Some(&app.admin_key))
        .await;
    assert_eq!(first.body["data"].as_array().unwrap().len(), 1);
    let cursor = first.body["pagination"]["next_cursor"].as_str().unwrap();
    let second = app
        .get(
            &format!("/api/v1/admin/webhook-events?limit=1&cursor={cursor}"),
            Some(&app.admin_key),
        )
        .await;
    assert_ne!(second.body["data"][0]["id"], first.body["data"][0]["id"]);
});

db_test!(mismatches_are_listed_for_operators, |app| {
    let shop = Shop::new(&app).await;
    hold_webhooks(&app, 0);
    let pi = shop.payment_intent_id(&app, &shop.order).await;
    tamper_amount(&app, &pi).await;
    shop.confirm(&app, &shop.order, "pm_card_visa").await;
    let refused = shop.callback(&app, &shop.order).await;
    assert_eq!(refused.code(), "amount_mismatch");

    let path = format!("/api/v1/admin/payment-mismatches?order_id={}", shop.order);
    let listed = app.get(&path, Some(&app.admin_key)).await;
    assert_eq!(listed.status, Status::Ok, "{:?}", listed.body);
    let entries = listed.body["data"].as_array().unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!(
        (
            entries[0]["reason"].as_str(),
            entries[0]["source"].as_str(),
            entries[0]["payment_intent_id"].as_str()
        ),
        (Some("amount_mismatch"), Some("callback"), Some(pi.as_str()))
    );
    let other = app
        .get(
            "/api/v1/admin/payment-mismatches?order_id=0f8fad5b-d9cb-469f-a165-70867728950e",
            Some(&app.admin_key),
        )
        .await;
    assert_eq!(other.body["data"], json!([]));
});
