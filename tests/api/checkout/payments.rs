//! Payment listings (scope `payments:read`): every PaymentIntent orderpay
//! created, with the status it last saw, filtered and paged.

use rocket::http::Status;

use super::*;
use crate::db_test;

async fn list(app: &TestApp, key: &str, query: &str) -> Reply {
    app.get(&format!("/api/v1/payments{query}"), Some(key))
        .await
}

fn field<'a>(reply: &'a Reply, name: &str) -> Vec<&'a str> {
    reply.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p[name].as_str().unwrap_or("-"))
        .collect()
}

db_test!(payments_are_listed_with_what_stripe_last_said, |app| {
    let shop = Shop::new(&app).await;
    let key = app.key("payments:read").await;
    let paid_pi = shop.payment_intent_id(&app, &shop.order).await;
    shop.confirm(&app, &shop.order, "pm_card_visa").await;
    wait_for_status(&app, &shop.order, "paid").await;
    let open = new_order(&app, &shop.token, "TEE-BLACK", 1).await;
    let open_pi = shop.payment_intent_id(&app, &open).await;
    let declined = new_order(&app, &shop.token, "TEE-BLACK", 2).await;
    let declined_pi = shop.payment_intent_id(&app, &declined).await;
    shop.confirm(&app, &declined, "pm_card_chargeDeclined")
        .await;

    let all = list(&app, &key, "").await;
    assert_eq!(all.status, Status::Ok, "{:?}", all.body);
    assert_eq!(
        field(&all, "payment_intent_id"),
        vec![declined_pi.as_str(), open_pi.as_str(), paid_pi.as_str()],
        "newest first"
    );
    assert_eq!(
        field(&all, "status"),
        vec![
            "requires_payment_method",
            "requires_payment_method",
            "succeeded"
        ]
    );
    assert_eq!(field(&all, "amount"), vec!["50.00", "25.00", "112.00"]);
    let number = order(&app, &shop.order).await["number"].clone();
    assert_eq!(all.body["data"][2]["order_number"], number);

    let succeeded = list(&app, &key, "?status=succeeded").await;
    assert_eq!(
        field(&succeeded, "payment_intent_id"),
        vec![paid_pi.as_str()]
    );
    let large = list(&app, &key, "?currency=USD&min_amount=50").await;
    assert_eq!(
        field(&large, "payment_intent_id"),
        vec![declined_pi.as_str(), paid_pi.as_str()]
    );
    let small = list(&app, &key, "?currency=usd&max_amount=49.99").await;
    assert_eq!(field(&small, "payment_intent_id"), vec![open_pi.as_str()]);
    let one_order = list(&app, &key, &format!("?order_id={open}")).await;
    assert_eq!(
        field(&one_order, "payment_intent_id"),
        vec![open_pi.as_str()]
    );
    let future = list(&app, &key, "?since=2999-01-01T00:00:00Z").await;
    assert_eq!(future.body["data"], json!([]));
    let past = list(&app, &key, "?until=2000-01-01T00:00:00%2B02:00").await;
    assert_eq!(past.body["data"], json!([]));

    // Refunds show on the payment that paid the order.
    let refunds_key = app.key("refunds:write").await;
    let refunded = app
        .send(
            Method::Post,
            &format!("/api/v1/shop/orders/{}/refunds", shop.order),
            &[api_key(&refunds_key)],
            Some(r#"{"amount": "12.00"}"#),
        )
        .await;
    assert_eq!(refunded.status, Status::Created, "{:?}", refunded.body);
    let after = list(&app, &key, "").await;
    assert_eq!(
        field(&after, "amount_refunded"),
        vec!["0.00", "0.00", "12.00"]
    );
});

db_test!(payment_listings_page_without_gaps_or_repeats, |app| {
    let shop = Shop::new(&app).await;
    let key = app.key("payments:read").await;
    let mut expected = vec![shop.payment_intent_id(&app, &shop.order).await];
    for _ in 0..4 {
        let order = new_order(&app, &shop.token, "TEE-BLACK", 1).await;
        expected.push(shop.payment_intent_id(&app, &order).await);
    }
    expected.reverse();
    let mut seen = Vec::new();
    let mut query = "?limit=2".to_string();
    loop {
        let page = list(&app, &key, &query).await;
        assert_eq!(page.status, Status::Ok, "{:?}", page.body);
        seen.extend(
            field(&page, "payment_intent_id")
                .into_iter()
                .map(str::to_string),
        );
        match page.body["pagination"]["next_cursor"].as_str() {
            Some(cursor) => query = format!("?limit=2&cursor={cursor}"),
            None => break,
        }
    }
    assert_eq!(seen, expected);
});

db_test!(payment_filters_are_validated, |app| {
    let key = app.key("payments:read").await;
    let cases = [
        ("?status=paid", "invalid_status", "status"),
        ("?currency=xyz", "unsupported_currency", "currency"),
        ("?min_amount=10", "currency_required", "currency"),
        (
            "?currency=usd&min_amount=1.005",
            "too_many_decimals",
            "min_amount",
        ),
        (
            "?currency=jpy&max_amount=ten",
            "invalid_amount",
            "max_amount",
        ),
        ("?since=yesterday", "invalid_timestamp", "since"),
        ("?until=2025-13-01T00:00:00Z", "invalid_timestamp", "until"),
        ("?limit=0", "invalid_limit", "limit"),
        ("?cursor=zz", "invalid_cursor", "cursor"),
    ];
    for (query, code, name) in cases {
        let reply = list(&app, &key, query).await;
        assert_eq!(
            (reply.status, reply.code(), reply.field()),
            (Status::UnprocessableEntity, code, name),
            "{query}: {:?}",
            reply.body
        );
    }
});
