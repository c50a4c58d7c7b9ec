//! Saved cards: attached to the customer's Stripe customer, private to the
//! customer, usable to pay, removable (detached at Stripe).

use rocket::http::{Method, Status};
use serde_json::json;

use super::*;
use crate::db_test;
use crate::helpers::bearer;

async fn save(app: &TestApp, token: &str, pm: &str) -> Reply {
    let body = json!({"payment_method": pm}).to_string();
    app.send(
        Method::Post,
        "/api/v1/users/me/cards",
        &[bearer(token)],
        Some(&body),
    )
    .await
}

async fn cards(app: &TestApp, token: &str) -> Vec<Value> {
    let reply = app
        .send(
            Method::Get,
            "/api/v1/users/me/cards",
            &[bearer(token)],
            None,
        )
        .await;
    assert_eq!(reply.status, Status::Ok, "{:?}", reply.body);
    reply.body["data"].as_array().unwrap().clone()
}

async fn remove(app: &TestApp, token: &str, id: &str) -> Reply {
    app.send(
        Method::Delete,
        &format!("/api/v1/users/me/cards/{id}"),
        &[bearer(token)],
        None,
    )
    .await
}

db_test!(a_saved_card_pays_an_order, |app| {
    let shop = Shop::new(&app).await;
    let saved = save(&app, &shop.token, "pm_card_visa").await;
    assert_eq!(saved.status, Status::Created, "{:?}", saved.body);
    let card = saved.body["data"].clone();
    assert_eq!(
        (card["brand"].as_str(), card["last4"].as_str()),
        (Some("visa"), Some("4242"))
    );
    let pm = card["payment_method"].as_str().unwrap();
    assert!(
        pm.starts_with("pm_") && pm != "pm_card_visa",
        "Stripe's own PaymentMethod: {pm}"
    );

    // At Stripe, it is attached to the customer now stored on the user.
    let me = app
        .send(
            Method::Get,
            "/api/v1/users/me",
            &[bearer(&shop.token)],
            None,
        )
        .await;
    let customer = me.body["data"]["stripe_customer_id"]
        .as_str()
        .unwrap()
        .to_string();
    let listed = stripe_side(&app)
        .list_payment_methods(&customer)
        .await
        .unwrap();
    let attached: Vec<&str> = listed.data.iter().map(|p| p.id.as_str()).collect();
    assert_eq!(attached, vec![pm]);

    let again = save(&app, &shop.token, "pm_card_visa").await;
    assert_eq!(again.status, Status::Ok, "saving twice finds the card");
    assert_eq!(again.body["data"]["id"], card["id"]);
    assert_eq!(cards(&app, &shop.token).await.len(), 1);

    shop.payment_intent_id(&app, &shop.order).await;
    let body = json!({"card_id": card["id"]}).to_string();
    let confirmed = app
        .send(
            Method::Post,
            &format!("/api/v1/shop/orders/{}/payment-intent/confirm", shop.order),
            &[bearer(&shop.token), api_key(&shop.checkout_key)],
            Some(&body),
        )
        .await;
    assert_eq!(confirmed.status, Status::Ok, "{:?}", confirmed.body);
    assert_eq!(confirmed.body["data"]["status"], "succeeded");
    wait_for_status(&app, &shop.order, "paid").await;
});

db_test!(cards_are_private_to_their_owner_and_removable, |app| {
    let shop = Shop::new(&app).await;
    let (_, other) = app.register("other@example.com", "other-password").await;
    let card = save(&app, &shop.token, "pm_card_mastercard").await.body["data"].clone();
    let id = card["id"].as_str().unwrap();

    assert!(
        cards(&app, &other).await.is_empty(),
        "not listed for others"
    );
    assert_eq!(remove(&app, &other, id).await.status, Status::NotFound);
    let theirs = new_order(&app, &other, "TEE-BLACK", 1).await;
    let intent = app
        .send(
            Method::Post,
            &format!("/api/v1/shop/orders/{theirs}/payment-intent"),
            &[bearer(&other), api_key(&shop.checkout_key)],
            None,
        )
        .await;
    assert_eq!(intent.status, Status::Created);
    let body = json!({"card_id": id}).to_string();
    let borrowed = app
        .send(
            Method::Post,
            &format!("/api/v1/shop/orders/{theirs}/payment-intent/confirm"),
            &[bearer(&other), api_key(&shop.checkout_key)],
            Some(&body),
        )
        .await;
    assert_eq!(
        (borrowed.status, borrowed.code(), borrowed.field()),
        (Status::UnprocessableEntity, "unknown_card", "card_id")
    );

    let removed = remove(&app, &shop.token, id).await;
    assert_eq!(removed.status, Status::Ok, "{:?}", removed.body);
    assert!(cards(&app, &shop.token).await.is_empty());
    let pm = stripe_side(&app)
        .retrieve_payment_method(card["payment_method"].as_str().unwrap())
        .await
        .unwrap();
    assert_eq!(pm.customer, None, "detached at Stripe");
    assert_eq!(remove(&app, &shop.token, id).await.status, Status::NotFound);
});

db_test!(only_stripe_payment_methods_can_be_saved, |app| {
    let shop = Shop::new(&app).await;
    let cases = [
        ("4242424242424242", "invalid_payment_method"),
        ("pm_card_doesNotExist", "unknown_payment_method"),
    ];
    for (pm, code) in cases {
        let reply = save(&app, &shop.token, pm).await;
        assert_eq!(
            (reply.status, reply.code(), reply.field()),
            (Status::UnprocessableEntity, code, "payment_method"),
            "{pm}: {:?}",
            reply.body
        );
    }
    shop.payment_intent_id(&app, &shop.order).await;
    let both = json!({"payment_method": "pm_card_visa", "card_id": "x"}).to_string();
    let reply = app
        .send(
            Method::Post,
            &format!("/api/v1/shop/orders/{}/payment-intent/confirm", shop.order),
            &[bearer(&shop.token), api_key(&shop.checkout_key)],
            Some(&both),
        )
        .await;
    assert_eq!(reply.code(), "ambiguous_payment_method");
    let (saved,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM cards")
        .fetch_one(app.pool())
        .await
        .unwrap();
    assert_eq!(saved, 0);
});
