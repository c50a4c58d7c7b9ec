//! Exactly once under concurrency, lost answers, duplicates and reordering.

use orderpay::stripe::api::RefundParams;
use orderpay::stripe::sim::webhooks::ReleaseOrder;
use orderpay::stripe::IdempotencyKey;
use rocket::http::Status;

use super::*;
use crate::db_test;

db_test!(
    a_lost_answer_from_stripe_never_makes_a_second_payment_intent,
    |app| {
        // The create is applied at Stripe but its answer never arrives (timeout
        // 1 s, answer after 2 s, no retries). The next request finds it, because
        // the attempt row and its Idempotency-Key were written before the call.
        // (Webhooks are held so they cannot help.)
        let app = app_with_stripe(app, 1, 0).await;
        let shop = Shop::new(&app).await;
        hold_webhooks(&app, 0);
        drop_next_create(&app);
        let lost = shop.payment_intent(&app, &shop.order).await;
        assert_eq!(
            (lost.status, lost.code()),
            (Status::ServiceUnavailable, "payment_provider_unavailable")
        );
        assert_eq!(app.sim.payment_intent_count(), 1, "Stripe did make it");
        let found = shop.payment_intent(&app, &shop.order).await;
        assert_eq!(found.status, Status::Ok, "{:?}", found.body);
        assert_eq!(
            app.sim.payment_intent_count(),
            1,
            "the retry found it instead of making another"
        );
        let attempts: Vec<(String,)> =
            sqlx::query_as("SELECT payment_intent_id FROM payment_attempts")
                .fetch_all(app.pool())
                .await
                .unwrap();
        assert_eq!(
            attempts,
            vec![(found.body["data"]["id"].as_str().unwrap().to_string(),)]
        );
    }
);

db_test!(
    a_payment_intent_orderpay_lost_track_of_is_linked_by_its_webhook,
    |app| {
        let app = app_with_stripe(app, 1, 0).await;
        let shop = Shop::new(&app).await;
        drop_next_create(&app);
        assert_eq!(
            shop.payment_intent(&app, &shop.order).await.status,
            Status::ServiceUnavailable
        );
        settle_webhooks(&app).await;
        let (linked,): (String,) = sqlx::query_as(
            "SELECT payment_intent_id FROM payment_attempts WHERE payment_intent_id IS NOT NULL",
        )
        .fetch_one(app.pool())
        .await
        .unwrap();
        assert!(
            linked.starts_with("pi_"),
            "payment_intent.created named the attempt in its metadata"
        );
    }
);

db_test!(the_client_retries_a_lost_answer_with_the_same_key, |app| {
    let app = app_with_stripe(app, 1, 2).await;
    let shop = Shop::new(&app).await;
    hold_webhooks(&app, 0);
    drop_next_create(&app);
    let reply = shop.payment_intent(&app, &shop.order).await;
    assert_eq!(reply.status, Status::Created, "{:?}", reply.body);
    assert_eq!(app.sim.payment_intent_count(), 1);
});

db_test!(fifty_concurrent_requests_make_one_payment_intent, |app| {
    let shop = Shop::new(&app).await;
    let requests = (0..50).map(|_| shop.payment_intent(&app, &shop.order));
    let replies = rocket::futures::future::join_all(requests).await;
    let mut ids: Vec<String> = Vec::new();
    let mut created = 0;
    for reply in &replies {
        assert!(matches!(reply.status.code, 200 | 201), "{:?}", reply.body);
        created += usize::from(reply.status == Status::Created);
        ids.push(reply.body["data"]["id"].as_str().unwrap().to_string());
    }
    ids.dedup();
    assert_eq!(ids.len(), 1, "every request got the same PaymentIntent");
    assert_eq!(created, 1, "one request created it, the others found it");
    assert_eq!(
        app.sim.payment_intent_count(),
        1,
        "one PaymentIntent at Stripe"
    );
    let (customers,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM users WHERE stripe_customer_id IS NOT NULL")
            .fetch_one(app.pool())
            .await
            .unwrap();
    assert_eq!(customers, 1);
});

db_test!(repeated_and_shuffled_events_end_in_the_same_state, |app| {
    let shop = Shop::new(&app).await;
    let stripe = stripe_side(&app);
    let mut finals = Vec::new();
    for order_round in [
        ReleaseOrder::Shuffle,
        ReleaseOrder::Reverse,
        ReleaseOrder::Fifo,
    ] {
        hold_webhooks(&app, 2);
        let id = new_order(&app, &shop.token, "MAIN-2", 1).await;
        let pi = shop.payment_intent_id(&app, &id).await;
        assert_eq!(
            shop.confirm(&app, &id, "pm_card_chargeDeclined")
                .await
                .status,
            Status::PaymentRequired
        );
        assert_eq!(
            shop.confirm(&app, &id, "pm_card_visa").await.status,
            Status::Ok
        );
        let refund = RefundParams {
            payment_intent: &pi,
            amount: Some(1000),
            ..Default::default()
        };
        stripe
            .create_refund(
                &refund,
                &IdempotencyKey::new(format!("refund-1-{pi}")).unwrap(),
            )
            .await
            .unwrap();
        let refund = RefundParams {
            payment_intent: &pi,
            amount: Some(600),
            ..Default::default()
        };
        stripe
            .create_refund(
                &refund,
                &IdempotencyKey::new(format!("refund-2-{pi}")).unwrap(),
            )
            .await
            .unwrap();
        let report = app.sim.webhooks.release(order_round).await;
        app.applied().await;
        assert!(report.iter().all(|d| d.status == Some(200)), "{report:?}");
        let done = order(&app, &id).await;
        assert_eq!(
            done["status"], "partially_refunded",
            "{order_round:?}: {done:?}"
        );
        assert_eq!(done["amount_refunded"], "16.00");
        assert_eq!(paid_entries(&done).len(), 1);
        finals.push((done["status"].clone(), done["amount_refunded"].clone()));
    }
    assert!(finals.windows(2).all(|w| w[0] == w[1]));
    let (duplicates,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM webhook_events WHERE outcome IS NULL")
            .fetch_one(app.pool())
            .await
            .unwrap();
    assert_eq!(duplicates, 0, "every stored event was processed");
});

db_test!(
    webhook_and_callback_racing_pay_once_in_either_order,
    |app| {
        let shop = Shop::new(&app).await;
        hold_webhooks(&app, 0);
        let pay = |id: String| {
            let shop = &shop;
            let app = &app;
            async move {
                assert_eq!(shop.payment_intent(app, &id).await.status, Status::Created);
                assert_eq!(
                    shop.confirm(app, &id, "pm_card_visa").await.status,
                    Status::Ok
                );
            }
        };

        // The webhook first, then the callback.
        pay(shop.order.clone()).await;
        app.sim.webhooks.release(ReleaseOrder::Fifo).await;
        app.applied().await;
        assert_eq!(order(&app, &shop.order).await["status"], "paid");
        assert_eq!(shop.callback(&app, &shop.order).await.status, Status::Ok);
        let entries = paid_entries(&order(&app, &shop.order).await);
        assert_eq!(entries.len(), 1);
        assert!(entries[0]["source"]
            .as_str()
            .unwrap()
            .starts_with("webhook:"));

        // The callback first, then the webhook.
        let second = new_order(&app, &shop.token, "TEE-BLACK", 1).await;
        pay(second.clone()).await;
        assert_eq!(
            order(&app, &second).await["status"],
            "pending_payment",
            "its webhooks are held"
        );
        assert_eq!(shop.callback(&app, &second).await.status, Status::Ok);
        let report = app.sim.webhooks.release(ReleaseOrder::Fifo).await;
        app.applied().await;
        assert!(report.iter().all(|d| d.status == Some(200)));
        let entries = paid_entries(&order(&app, &second).await);
        assert_eq!(entries.len(), 1);
        assert_eq!(entries[0]["source"], "callback");

        // Both at once, the webhook twice.
        let third = new_order(&app, &shop.token, "MUG-LOGO", 4).await;
        pay(third.clone()).await;
        let succeeded = succeeded_events(&app, &third);
        assert_eq!(succeeded.len(), 1);
        let (callback, first, again) = rocket::tokio::join!(
            shop.callback(&app, &third),
            app.sim.webhooks.deliver_with_retries(&succeeded[0]),
            app.sim.webhooks.deliver_with_retries(&succeeded[0]),
        );
        assert_eq!(callback.status, Status::Ok);
        assert_eq!((first.status, again.status), (Some(200), Some(200)));
        app.applied().await;
        assert_eq!(paid_entries(&order(&app, &third).await).len(), 1);
    }
);
