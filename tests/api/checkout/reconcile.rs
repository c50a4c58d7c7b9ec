//! The reconciliation sweep: an order paid at Stripe is marked paid even when
//! neither the webhook nor the callback ever arrives, and sweeping again, or
//! the late webhook, changes nothing.

use orderpay::stripe::api::ConfirmParams;
use orderpay::stripe::sim::webhooks::ReleaseOrder;
use orderpay::stripe::IdempotencyKey;

use super::*;
use crate::db_test;

fn sources(order: &Value) -> Vec<String> {
    order["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            format!(
                "{}:{}",
                h["to"].as_str().unwrap(),
                h["source"].as_str().unwrap()
            )
        })
        .collect()
}

db_test!(a_sweep_marks_paid_what_no_message_reported, |app| {
    let shop = Shop::new(&app).await;
    hold_webhooks(&app, 0);
    let pi = shop.payment_intent_id(&app, &shop.order).await;
    pay_at_stripe(&app, &pi).await;
    assert_eq!(
        order(&app, &shop.order).await["status"],
        "pending_payment",
        "no webhook, no callback: orderpay does not know yet"
    );

    let report = sweep(&app).await;
    assert_eq!(
        (report["checked"].as_u64(), report["paid"].as_u64()),
        (Some(1), Some(1))
    );
    let paid = order(&app, &shop.order).await;
    assert_eq!(paid["status"], "paid");
    assert_eq!(
        sources(&paid),
        vec!["pending_payment:api", "paid:reconcile"]
    );

    let again = sweep(&app).await;
    assert_eq!(again["checked"], 0, "a paid order is not asked about again");
    app.sim.webhooks.release(ReleaseOrder::Fifo).await;
    app.applied().await;
    settle_webhooks(&app).await;
    assert_eq!(
        sources(&order(&app, &shop.order).await),
        vec!["pending_payment:api", "paid:reconcile"],
        "the late webhook changes nothing"
    );
});

db_test!(
    a_sweep_applies_failures_and_leaves_unpaid_orders_payable,
    |app| {
        let shop = Shop::new(&app).await;
        hold_webhooks(&app, 0);
        let untouched = new_order(&app, &shop.token, "TEE-BLACK", 1).await;
        shop.payment_intent_id(&app, &untouched).await;
        let declined = shop.payment_intent_id(&app, &shop.order).await;
        let refused = stripe_side(&app)
            .confirm_payment_intent(
                &declined,
                &ConfirmParams {
                    payment_method: Some("pm_card_chargeDeclined"),
                    return_url: None,
                },
                &IdempotencyKey::new("browser-declined").unwrap(),
            )
            .await;
        assert!(refused.is_err(), "the card is declined");

        let report = sweep(&app).await;
        assert_eq!(report["checked"], 2);
        assert_eq!(
            (report["paid"].as_u64(), report["changed"].as_u64()),
            (Some(0), Some(1))
        );
        assert_eq!(order(&app, &shop.order).await["status"], "payment_failed");
        assert_eq!(order(&app, &untouched).await["status"], "pending_payment");
    }
);

db_test!(
    a_mismatch_found_by_sweeps_is_recorded_once_and_not_paid,
    |app| {
        let shop = Shop::new(&app).await;
        hold_webhooks(&app, 0);
        let pi = shop.payment_intent_id(&app, &shop.order).await;
        tamper_amount(&app, &pi).await;
        pay_at_stripe(&app, &pi).await;
        for _ in 0..2 {
            let report = sweep(&app).await;
            assert_eq!(
                (report["paid"].as_u64(), report["mismatched"].as_u64()),
                (Some(0), Some(1))
            );
        }
        assert_eq!(order(&app, &shop.order).await["status"], "pending_payment");
        let (recorded,): (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM payment_mismatches WHERE reason = 'amount_mismatch'",
        )
        .fetch_one(app.pool())
        .await
        .unwrap();
        assert_eq!(recorded, 1);
    }
);

db_test!(
    a_sweep_survives_stripe_failing_and_the_next_one_catches_up,
    |app| {
        let app = app_with_stripe(app, 5, 0).await;
        let shop = Shop::new(&app).await;
        hold_webhooks(&app, 0);
        let pi = shop.payment_intent_id(&app, &shop.order).await;
        pay_at_stripe(&app, &pi).await;
        app.sim.inject(FaultPlan {
            fail_next: 1,
            ..Default::default()
        });
        let report = sweep(&app).await;
        assert_eq!(
            (report["checked"].as_u64(), report["failed"].as_u64()),
            (Some(1), Some(1))
        );
        assert_eq!(order(&app, &shop.order).await["status"], "pending_payment");
        assert_eq!(sweep(&app).await["paid"], 1);
        assert_eq!(order(&app, &shop.order).await["status"], "paid");
    }
);

db_test!(the_server_sweeps_on_its_own, |app| {
    let url = app.database_url.clone();
    let figment = test_figment(&url).merge(("reconcile_interval_secs", 1));
    let app = app.restart(figment).await;
    let shop = Shop::new(&app).await;
    hold_webhooks(&app, 0);
    let pi = shop.payment_intent_id(&app, &shop.order).await;
    pay_at_stripe(&app, &pi).await;
    let paid = wait_for_status(&app, &shop.order, "paid").await;
    assert_eq!(paid_entries(&paid)[0]["source"], "reconcile");
});

db_test!(
    an_attempt_stripe_fails_on_goes_to_the_back_of_the_line,
    |app| {
        // One PaymentIntent per sweep: the one Stripe failed on must not take the
        // next sweep's only place.
        let url = app.database_url.clone();
        let figment = test_figment(&url)
            .merge(("reconcile_batch", 1))
            .merge(("stripe.max_retries", 0));
        let app = app.restart(figment).await;
        let shop = Shop::new(&app).await;
        hold_webhooks(&app, 0);
        let first_pi = shop.payment_intent_id(&app, &shop.order).await;
        let second = new_order(&app, &shop.token, "TEE-BLACK", 1).await;
        let second_pi = shop.payment_intent_id(&app, &second).await;
        pay_at_stripe(&app, &first_pi).await;
        pay_at_stripe(&app, &second_pi).await;

        app.sim.inject(FaultPlan {
            fail_next: 1,
            ..Default::default()
        });
        assert_eq!(sweep(&app).await["failed"], 1);
        assert_eq!(sweep(&app).await["paid"], 1);
        assert_eq!(
            order(&app, &second).await["status"],
            "paid",
            "the other one's turn"
        );
        assert_eq!(order(&app, &shop.order).await["status"], "pending_payment");
        assert_eq!(sweep(&app).await["paid"], 1);
        assert_eq!(order(&app, &shop.order).await["status"], "paid");
    }
);

db_test!(sweeps_callbacks_and_webhooks_racing_pay_once, |app| {
    // Every path that can mark the order paid, at once and repeatedly: each
    // webhook delivered three times in shuffled order, two callbacks and two
    // sweeps. One paid step, whoever wins.
    let shop = Shop::new(&app).await;
    hold_webhooks(&app, 2);
    let pi = shop.payment_intent_id(&app, &shop.order).await;
    pay_at_stripe(&app, &pi).await;
    rocket::tokio::join!(
        app.sim.webhooks.release(ReleaseOrder::Shuffle),
        shop.callback(&app, &shop.order),
        sweep(&app),
        shop.callback(&app, &shop.order),
        sweep(&app),
    );
    settle_webhooks(&app).await;
    assert_paid_once(&app, &shop.order).await;
});
