//! Paying an order: the PaymentIntent, confirmation, the callback, 3-D Secure,
//! asynchronous payments, mismatches, cancellation and who may do it.

use orderpay::stripe::api::PaymentIntentUpdate;
use orderpay::stripe::sim::webhooks::ReleaseOrder;
use orderpay::stripe::IdempotencyKey;
use rocket::http::{Method, Status};
use serde_json::json;

use super::*;
use crate::db_test;
use crate::helpers::{api_key, bearer};

db_test!(
    a_payment_intent_carries_the_order_and_a_webhook_marks_it_paid,
    |app| {
        let shop = Shop::new(&app).await;
        let created = shop.payment_intent(&app, &shop.order).await;
        assert_eq!(created.status, Status::Created, "{:?}", created.body);
        let data = &created.body["data"];
        assert_eq!(data["amount"], "112.00");
        assert_eq!(data["currency"], "usd");
        assert_eq!(data["status"], "requires_payment_method");
        assert_eq!(
            data["line_items"],
            json!([{"sku": "MAIN-2", "name": "Main product 2", "quantity": 2, "unit_amount": "56.00", "amount": "112.00"}]),
            "the same fields, with the same meanings, as the order's line items"
        );
        let pi_id = data["id"].as_str().unwrap().to_string();
        assert!(data["client_secret"]
            .as_str()
            .unwrap()
            .starts_with(&format!("{pi_id}_secret_")));

        // What Stripe holds: amount and currency from the server, the order's metadata.
        let stripe = stripe_side(&app);
        let pi = stripe.retrieve_payment_intent(&pi_id).await.unwrap();
        let placed = order(&app, &shop.order).await;
        assert_eq!((pi.amount, pi.currency.as_str()), (11200, "usd"));
        assert_eq!(pi.metadata["order_id"], shop.order);
        assert_eq!(
            pi.metadata["order_number"],
            placed["number"].as_str().unwrap()
        );
        assert_eq!(
            pi.metadata["line_items"],
            r#"[{"name":"Main product 2","amount":5600,"currency":"usd","quantity":2,"description":""}]"#
        );
        assert_eq!(
            pi.description.as_deref(),
            Some(format!("Payment for Order #{}", placed["number"].as_str().unwrap()).as_str())
        );
        assert_eq!(pi.receipt_email.as_deref(), Some("payer@example.com"));
        let customer = pi.customer.clone().expect("a Stripe customer");
        let me = app
            .send(
                Method::Get,
                "/api/v1/users/me",
                &[bearer(&shop.token)],
                None,
            )
            .await;
        assert_eq!(
            me.body["data"]["stripe_customer_id"],
            customer.as_str(),
            "stored on the user"
        );

        // Asking again returns the same live PaymentIntent.
        let again = shop.payment_intent(&app, &shop.order).await;
        assert_eq!(again.status, Status::Ok);
        assert_eq!(again.body["data"]["id"], pi_id.as_str());

        let confirmed = shop.confirm(&app, &shop.order, "pm_card_visa").await;
        assert_eq!(confirmed.status, Status::Ok, "{:?}", confirmed.body);
        assert_eq!(confirmed.body["data"]["status"], "succeeded");
        let paid = wait_for_status(&app, &shop.order, "paid").await;
        let entries = paid_entries(&paid);
        assert_eq!(entries.len(), 1);
        assert!(
            entries[0]["source"]
                .as_str()
                .unwrap()
                .starts_with("webhook:evt_"),
            "{entries:?}"
        );
        settle_webhooks(&app).await;
        assert_eq!(
            paid_entries(&order(&app, &shop.order).await).len(),
            1,
            "later events change nothing"
        );

        // A paid order gets no new PaymentIntent.
        let late = shop.payment_intent(&app, &shop.order).await;
        assert_eq!(
            (late.status, late.code()),
            (Status::Conflict, "order_already_paid")
        );
    }
);

db_test!(the_payment_callback_marks_paid_once, |app| {
    let shop = Shop::new(&app).await;
    hold_webhooks(&app, 0);
    let before = shop.callback(&app, &shop.order).await;
    assert_eq!(
        (before.status, before.code()),
        (Status::Conflict, "no_payment_intent")
    );
    shop.payment_intent(&app, &shop.order).await;
    let early = shop.callback(&app, &shop.order).await;
    assert_eq!(
        (early.status, early.code()),
        (Status::Conflict, "payment_not_succeeded"),
        "the caller's word is not enough"
    );
    assert_eq!(order(&app, &shop.order).await["status"], "pending_payment");

    shop.confirm(&app, &shop.order, "pm_card_visa").await;
    let paid = shop.callback(&app, &shop.order).await;
    assert_eq!(paid.status, Status::Ok, "{:?}", paid.body);
    assert_eq!(paid.body["data"]["status"], "paid");
    let entries = paid_entries(&paid.body["data"]);
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0]["source"], "callback");
    let history_len = paid.body["data"]["history"].as_array().unwrap().len();

    let again = shop.callback(&app, &shop.order).await;
    assert_eq!(again.status, Status::Ok);
    assert_eq!(
        again.body["data"]["history"].as_array().unwrap().len(),
        history_len,
        "no new history entry"
    );
    // The held webhooks arrive late and change nothing.
    app.sim.webhooks.release(ReleaseOrder::Fifo).await;
    app.applied().await;
    assert_eq!(
        order(&app, &shop.order).await["history"]
            .as_array()
            .unwrap()
            .len(),
        history_len
    );
});

db_test!(a_declined_card_leaves_the_order_payable, |app| {
    let shop = Shop::new(&app).await;
    shop.payment_intent(&app, &shop.order).await;
    let declined = shop
        .confirm(&app, &shop.order, "pm_card_chargeDeclinedInsufficientFunds")
        .await;
    assert_eq!(declined.status, Status::PaymentRequired);
    assert_eq!(declined.code(), "card_declined");
    assert_eq!(
        declined.body["error"]["details"]["decline_code"],
        "insufficient_funds"
    );
    assert_eq!(order(&app, &shop.order).await["status"], "payment_failed");
    let again = shop.payment_intent(&app, &shop.order).await;
    assert_eq!(
        again.status,
        Status::Ok,
        "the same PaymentIntent is still live"
    );
    assert_eq!(
        shop.confirm(&app, &shop.order, "pm_card_visa").await.status,
        Status::Ok
    );
    wait_for_status(&app, &shop.order, "paid").await;
    assert_eq!(app.sim.payment_intent_count(), 1);

    let bad = shop.confirm(&app, &shop.order, "4242424242424242").await;
    assert_eq!(
        (bad.status, bad.field()),
        (Status::UnprocessableEntity, "payment_method")
    );
});

db_test!(the_payment_intent_answer_says_the_orders_status, |app| {
    let shop = Shop::new(&app).await;
    let first = shop.payment_intent(&app, &shop.order).await;
    assert_eq!(first.status, Status::Created, "{:?}", first.body);
    assert_eq!(first.body["data"]["order_status"], "pending_payment");
    shop.confirm(&app, &shop.order, "pm_card_chargeDeclined")
        .await;
    assert_eq!(order(&app, &shop.order).await["status"], "payment_failed");
    let again = shop.payment_intent(&app, &shop.order).await;
    assert_eq!(again.status, Status::Ok, "{:?}", again.body);
    assert_eq!(
        again.body["data"]["order_status"], "payment_failed",
        "the same PaymentIntent, and the order as it is now"
    );
    assert_eq!(
        again.body["data"]["line_items"],
        first.body["data"]["line_items"]
    );
});

db_test!(three_d_secure_then_completion_pays, |app| {
    let shop = Shop::new(&app).await;
    let pi = shop.payment_intent_id(&app, &shop.order).await;
    let pending = shop
        .confirm(&app, &shop.order, "pm_card_authenticationRequired")
        .await;
    assert_eq!(pending.status, Status::Ok);
    assert_eq!(pending.body["data"]["status"], "requires_action");
    assert_eq!(
        pending.body["data"]["next_action"]["type"],
        "use_stripe_sdk"
    );
    assert!(pending.body["data"]["client_secret"].is_string());
    assert_eq!(order(&app, &shop.order).await["status"], "pending_payment");
    app.sim
        .control(|data| data.authenticate(&pi, true))
        .unwrap();
    wait_for_status(&app, &shop.order, "paid").await;
});

db_test!(asynchronous_payments_go_through_processing, |app| {
    let shop = Shop::new(&app).await;
    let pi = shop.payment_intent_id(&app, &shop.order).await;
    app.sim.control(|data| data.start_processing(&pi)).unwrap();
    wait_for_status(&app, &shop.order, "processing").await;
    app.sim
        .control(|data| data.finish_processing(&pi, true))
        .unwrap();
    let paid = wait_for_status(&app, &shop.order, "paid").await;
    let steps: Vec<&str> = paid["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["to"].as_str().unwrap())
        .collect();
    assert_eq!(steps, vec!["pending_payment", "processing", "paid"]);
});

db_test!(a_payment_intent_that_does_not_match_does_not_pay, |app| {
    let shop = Shop::new(&app).await;
    hold_webhooks(&app, 0);
    let stripe = stripe_side(&app);
    let pi = shop.payment_intent_id(&app, &shop.order).await;
    tamper_amount(&app, &pi).await;
    shop.confirm(&app, &shop.order, "pm_card_visa").await;
    let reply = shop.callback(&app, &shop.order).await;
    assert_eq!(
        (reply.status, reply.code()),
        (Status::Conflict, "amount_mismatch")
    );
    app.sim.webhooks.release(ReleaseOrder::Fifo).await;
    app.applied().await;
    assert_eq!(
        order(&app, &shop.order).await["status"],
        "pending_payment",
        "neither path paid it"
    );
    let (mismatches,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM payment_mismatches WHERE reason = 'amount_mismatch'")
            .fetch_one(app.pool())
            .await
            .unwrap();
    assert_eq!(
        mismatches, 1,
        "recorded once, though the callback and the webhook both found it"
    );

    let other = new_order(&app, &shop.token, "TEE-BLACK", 2).await;
    let pi = shop.payment_intent_id(&app, &other).await;
    let tamper = PaymentIntentUpdate {
        metadata: vec![("order_id", "someone-else")],
        ..Default::default()
    };
    stripe
        .update_payment_intent(&pi, &tamper, &IdempotencyKey::new("tamper-2").unwrap())
        .await
        .unwrap();
    shop.confirm(&app, &other, "pm_card_visa").await;
    let reply = shop.callback(&app, &other).await;
    assert_eq!(
        (reply.status, reply.code()),
        (Status::Conflict, "metadata_mismatch")
    );
    assert_eq!(order(&app, &other).await["status"], "pending_payment");
});

db_test!(canceling_an_order_cancels_its_payment_intent, |app| {
    let shop = Shop::new(&app).await;
    let pi = shop.payment_intent_id(&app, &shop.order).await;
    let canceled = app
        .send(
            Method::Post,
            &format!("/api/v1/shop/orders/{}/cancel", shop.order),
            &[bearer(&shop.token)],
            None,
        )
        .await;
    assert_eq!(canceled.status, Status::Ok, "{:?}", canceled.body);
    assert_eq!(canceled.body["data"]["status"], "canceled");
    let at_stripe = stripe_side(&app)
        .retrieve_payment_intent(&pi)
        .await
        .unwrap();
    assert_eq!(at_stripe.status.as_str(), "canceled");
    let pay = shop.payment_intent(&app, &shop.order).await;
    assert_eq!(
        (pay.status, pay.code()),
        (Status::Conflict, "order_canceled")
    );
    let twice = app
        .send(
            Method::Post,
            &format!("/api/v1/shop/orders/{}/cancel", shop.order),
            &[api_key(&app.admin_key)],
            None,
        )
        .await;
    assert_eq!(twice.status, Status::Ok, "canceling twice is harmless");

    let paid = new_order(&app, &shop.token, "TEE-BLACK", 1).await;
    shop.payment_intent(&app, &paid).await;
    shop.confirm(&app, &paid, "pm_card_visa").await;
    wait_for_status(&app, &paid, "paid").await;
    let refused = app
        .send(
            Method::Post,
            &format!("/api/v1/shop/orders/{paid}/cancel"),
            &[bearer(&shop.token)],
            None,
        )
        .await;
    assert_eq!(
        (refused.status, refused.code()),
        (Status::Conflict, "order_already_paid")
    );
});

db_test!(checkout_needs_the_owner_and_a_checkout_key, |app| {
    let shop = Shop::new(&app).await;
    let (_, stranger) = app
        .register("stranger@example.com", "stranger-password")
        .await;
    let path = format!("/api/v1/shop/orders/{}/payment-intent", shop.order);
    let as_stranger = app
        .send(
            Method::Post,
            &path,
            &[bearer(&stranger), api_key(&shop.checkout_key)],
            None,
        )
        .await;
    assert_eq!(as_stranger.status, Status::NotFound);
    let read_key = app.key("payments:read").await;
    let wrong_scope = app
        .send(
            Method::Post,
            &path,
            &[bearer(&shop.token), api_key(&read_key)],
            None,
        )
        .await;
    assert_eq!(
        (wrong_scope.status, wrong_scope.code()),
        (Status::Forbidden, "insufficient_scope")
    );
    let no_key = app
        .send(Method::Post, &path, &[bearer(&shop.token)], None)
        .await;
    assert_eq!(
        (no_key.status, no_key.code()),
        (Status::Unauthorized, "missing_api_key")
    );
    let no_user = app
        .send(Method::Post, &path, &[api_key(&shop.checkout_key)], None)
        .await;
    assert_eq!(no_user.status, Status::Unauthorized);
    assert_eq!(app.sim.payment_intent_count(), 0);
});
