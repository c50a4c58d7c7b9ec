//! Money that must not stay, and PaymentIntents that must not take it: a
//! cancel racing a new PaymentIntent, a replaced PaymentIntent, a payment for
//! a canceled order, a second payment of a paid order, an amount changed at
//! Stripe. Each ends with nothing payable that should not be, and money that
//! cannot pay its order refunded and recorded.

use orderpay::stripe::api::PaymentIntentParams;
use orderpay::stripe::sim::webhooks::ReleaseOrder;
use orderpay::stripe::IdempotencyKey;
use rocket::http::Status;

use super::*;
use crate::db_test;

/// The order's PaymentIntents as Stripe has them now (found through the
/// simulator's events, so orderpay's own records are not trusted).
async fn payment_intents_at_stripe(
    app: &TestApp,
    order_id: &str,
) -> Vec<orderpay::stripe::types::PaymentIntent> {
    let ids: std::collections::BTreeSet<String> = {
        let data = app.sim.data.lock().unwrap();
        data.events
            .iter()
            .filter(|e| e["type"] == "payment_intent.created")
            .filter(|e| e["data"]["object"]["metadata"]["order_id"] == order_id)
            .map(|e| e["data"]["object"]["id"].as_str().unwrap().to_string())
            .collect()
    };
    let stripe = stripe_side(app);
    let mut found = Vec::new();
    for id in ids {
        found.push(stripe.retrieve_payment_intent(&id).await.unwrap());
    }
    found
}

/// Those a customer could still pay.
async fn payable_at_stripe(app: &TestApp, order_id: &str) -> Vec<String> {
    payment_intents_at_stripe(app, order_id)
        .await
        .into_iter()
        .filter(|pi| {
            matches!(
                pi.status.as_str(),
                "requires_payment_method" | "requires_confirmation" | "requires_action"
            )
        })
        .map(|pi| pi.id)
        .collect()
}

async fn mismatches(app: &TestApp, order_id: &str) -> Vec<Value> {
    let reply = app
        .get(
            &format!("/api/v1/admin/payment-mismatches?order_id={order_id}"),
            Some(&app.admin_key),
        )
        .await;
    assert_eq!(reply.status, Status::Ok, "{:?}", reply.body);
    reply.body["data"].as_array().unwrap().clone()
}

fn notes(order: &Value) -> Vec<String> {
    order["history"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|h| h["from"] == h["to"])
        .map(|h| h["source"].as_str().unwrap().to_string())
        .collect()
}

/// Waits (bounded) until Stripe shows refunds on `pi`.
async fn wait_for_refunds(app: &TestApp, pi: &str) -> Vec<i64> {
    for _ in 0..200 {
        let refunds = app.sim.refund_amounts(pi);
        if !refunds.is_empty() {
            return refunds;
        }
        rocket::tokio::time::sleep(Duration::from_millis(25)).await;
    }
    Vec::new()
}

fn fail_cancels_of(app: &TestApp, pi: &str) {
    app.sim.inject(FaultPlan {
        fail_next: 20,
        path_prefix: Some(format!("payment_intents/{pi}/cancel")),
        ..Default::default()
    });
}

db_test!(
    a_cancel_racing_a_new_payment_intent_leaves_nothing_payable,
    |app| {
        let shop = Shop::new(&app).await;
        // The create reaches Stripe only after the cancel has answered: it hangs
        // there, having read the order while it was still payable, and the
        // cancel starts once it is hanging (seen by the fault being used up).
        app.sim.inject(FaultPlan {
            hang_next: 1,
            delay_ms: Some(1_500),
            path_prefix: Some("payment_intents".into()),
            ..Default::default()
        });
        let create = shop.payment_intent(&app, &shop.order);
        let cancel = async {
            while app.sim.faults().hang_next > 0 {
                rocket::tokio::time::sleep(Duration::from_millis(5)).await;
            }
            shop.cancel(&app, &shop.order).await
        };
        let (created, canceled) = rocket::tokio::join!(create, cancel);
        assert_eq!(canceled.status, Status::Ok, "{:?}", canceled.body);
        assert_eq!(
            (created.status, created.code()),
            (Status::Conflict, "order_canceled"),
            "{:?}",
            created.body
        );
        assert_eq!(app.sim.payment_intent_count(), 1, "Stripe did make one");
        assert!(
            payable_at_stripe(&app, &shop.order).await.is_empty(),
            "no PaymentIntent of a canceled order can be paid"
        );
        assert_eq!(order(&app, &shop.order).await["status"], "canceled");
    }
);

/// A canceled order with a payable PaymentIntent it never heard of: Stripe
/// made it and then failed the create with a 500 it keeps for the key, and
/// the order was canceled before anything found it. Returns its id.
async fn canceled_with_an_unknown_payment_intent(app: &TestApp, shop: &Shop) -> String {
    hold_webhooks(app, 0);
    app.sim.inject(FaultPlan {
        fail_inside_next: 1,
        path_prefix: Some("payment_intents".into()),
        ..Default::default()
    });
    let lost = shop.payment_intent(app, &shop.order).await;
    assert_eq!(lost.status, Status::ServiceUnavailable, "{:?}", lost.body);
    let canceled = shop.cancel(app, &shop.order).await;
    assert_eq!(canceled.status, Status::Ok, "{:?}", canceled.body);
    let made = payment_intents_at_stripe(app, &shop.order).await;
    assert_eq!(made.len(), 1);
    made[0].id.clone()
}

db_test!(
    money_paid_to_a_canceled_order_is_refunded_automatically,
    |app| {
        let shop = Shop::new(&app).await;
        let pi = canceled_with_an_unknown_payment_intent(&app, &shop).await;
        pay_at_stripe(&app, &pi).await;
        app.sim.webhooks.release(ReleaseOrder::Fifo).await;
        app.applied().await;
        assert_eq!(
            wait_for_refunds(&app, &pi).await,
            vec![11200],
            "all of it, back"
        );
        app.sim.webhooks.release(ReleaseOrder::Fifo).await;
        app.applied().await;
        settle_webhooks(&app).await;
        let view = order(&app, &shop.order).await;
        assert_eq!(view["status"], "canceled");
        assert_eq!(paid_entries(&view), Vec::<Value>::new());
        assert_eq!(notes(&view), vec![format!("auto_refund:{pi}")]);
        let found = mismatches(&app, &shop.order).await;
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0]["reason"], "order_not_payable");
        assert_eq!(found[0]["refund_status"], "refunded");
        assert!(found[0]["stripe_refund_id"]
            .as_str()
            .is_some_and(|r| r.starts_with("re_")));
    }
);

db_test!(
    a_canceled_orders_unknown_payment_intent_is_canceled_by_the_sweep,
    |app| {
        let shop = Shop::new(&app).await;
        let pi = canceled_with_an_unknown_payment_intent(&app, &shop).await;
        sweep(&app).await;
        let found = stripe_side(&app)
            .retrieve_payment_intent(&pi)
            .await
            .unwrap();
        assert_eq!(found.status.as_str(), "canceled");
        assert!(payable_at_stripe(&app, &shop.order).await.is_empty());
    }
);

db_test!(a_cancel_stripe_cannot_complete_changes_nothing, |app| {
    let shop = Shop::new(&app).await;
    let pi = shop.payment_intent_id(&app, &shop.order).await;
    fail_cancels_of(&app, &pi);
    let canceled = shop.cancel(&app, &shop.order).await;
    assert_eq!(
        (canceled.status, canceled.code()),
        (Status::ServiceUnavailable, "payment_provider_unavailable"),
        "{:?}",
        canceled.body
    );
    assert_eq!(order(&app, &shop.order).await["status"], "pending_payment");
    app.sim.inject(FaultPlan::default());
    // Still payable, and paid once the customer pays.
    pay_at_stripe(&app, &pi).await;
    wait_for_status(&app, &shop.order, "paid").await;
    assert_eq!(app.sim.refund_amounts(&pi), Vec::<i64>::new());
});

db_test!(
    with_automatic_refunds_off_stray_money_waits_for_an_operator,
    |app| {
        let url = app.database_url.clone();
        let app = app
            .restart(test_figment(&url).merge(("stripe.auto_refund", false)))
            .await;
        let shop = Shop::new(&app).await;
        let pi = canceled_with_an_unknown_payment_intent(&app, &shop).await;
        pay_at_stripe(&app, &pi).await;
        app.sim.webhooks.release(ReleaseOrder::Fifo).await;
        app.applied().await;
        settle_webhooks(&app).await;
        sweep(&app).await;
        assert_eq!(app.sim.refund_amounts(&pi), Vec::<i64>::new());
        let found = mismatches(&app, &shop.order).await;
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0]["reason"], "order_not_payable");
        assert_eq!(found[0]["refund_status"], "not_refunded");
    }
);

db_test!(a_replaced_payment_intent_is_canceled_at_stripe, |app| {
    let shop = Shop::new(&app).await;
    let first = shop.payment_intent_id(&app, &shop.order).await;
    tamper_amount(&app, &first).await;
    let second = shop.payment_intent_id(&app, &shop.order).await;
    assert_ne!(first, second, "a PaymentIntent for 1.00 cannot pay 112.00");
    let old = stripe_side(&app)
        .retrieve_payment_intent(&first)
        .await
        .unwrap();
    assert_eq!(old.status.as_str(), "canceled");
    assert_eq!(payable_at_stripe(&app, &shop.order).await, vec![second]);
});

db_test!(
    money_taken_for_an_amount_changed_at_stripe_is_refunded_and_the_order_stays_payable,
    |app| {
        let shop = Shop::new(&app).await;
        // Held, so orderpay hears of the changed amount only once it is paid
        // (told earlier, it would cancel the PaymentIntent: it cannot pay the order).
        hold_webhooks(&app, 0);
        let pi = shop.payment_intent_id(&app, &shop.order).await;
        tamper_amount(&app, &pi).await;
        pay_at_stripe(&app, &pi).await;
        app.sim.webhooks.release(ReleaseOrder::Fifo).await;
        app.applied().await;
        assert_eq!(wait_for_refunds(&app, &pi).await, vec![100]);
        settle_webhooks(&app).await;
        let view = order(&app, &shop.order).await;
        assert_eq!(view["status"], "pending_payment");
        let found = mismatches(&app, &shop.order).await;
        assert_eq!(found[0]["reason"], "amount_mismatch");
        assert_eq!(found[0]["refund_status"], "refunded");
        // The customer can still pay the real amount.
        let next = shop.payment_intent(&app, &shop.order).await;
        assert_eq!(next.status, Status::Created, "{:?}", next.body);
        assert_eq!(next.body["data"]["amount"], "112.00");
    }
);

db_test!(
    a_second_payment_of_a_paid_order_is_refunded_and_its_refund_leaves_the_order_alone,
    |app| {
        let shop = Shop::new(&app).await;
        let paying = shop.payment_intent_id(&app, &shop.order).await;
        pay_at_stripe(&app, &paying).await;
        wait_for_status(&app, &shop.order, "paid").await;
        // A second PaymentIntent for the same order, as orderpay made before
        // replaced PaymentIntents were canceled: made at Stripe with the
        // order's metadata, recorded as the order's next attempt and paid,
        // all before orderpay hears of it (told earlier, it would cancel it).
        hold_webhooks(&app, 0);
        let (customer,): (String,) =
            sqlx::query_as("SELECT stripe_customer_id FROM users WHERE email = $1")
                .bind("payer@example.com")
                .fetch_one(app.pool())
                .await
                .unwrap();
        let second = stripe_side(&app)
            .create_payment_intent(
                &PaymentIntentParams {
                    amount: 11200,
                    currency: "usd",
                    customer: Some(&customer),
                    metadata: vec![("order_id", &shop.order), ("attempt", "2")],
                    payment_method_types: vec!["card"],
                    ..Default::default()
                },
                &IdempotencyKey::new("second-payment").unwrap(),
            )
            .await
            .unwrap();
        sqlx::query(
            "INSERT INTO payment_attempts (id, order_id, attempt, idempotency_key, payment_intent_id, \
             amount, currency, created_at, updated_at) \
             VALUES ('attempt-2', $1, 2, 'second-payment', $2, 11200, 'usd', $3, $3)",
        )
        .bind(&shop.order)
        .bind(&second.id)
        .bind(orderpay::db::now_text())
        .execute(app.pool())
        .await
        .unwrap();
        pay_at_stripe(&app, &second.id).await;
        app.sim.webhooks.release(ReleaseOrder::Fifo).await;
        app.applied().await;
        assert_eq!(wait_for_refunds(&app, &second.id).await, vec![11200]);
        // Its charge.refunded event comes and goes: the order that the first
        // payment paid is untouched.
        app.sim.webhooks.release(ReleaseOrder::Fifo).await;
        app.applied().await;
        settle_webhooks(&app).await;
        let view = order(&app, &shop.order).await;
        assert_eq!(view["status"], "paid");
        assert_eq!(view["amount_refunded"], "0.00");
        assert_eq!(paid_entries(&view).len(), 1);
        assert_eq!(notes(&view), vec![format!("auto_refund:{}", second.id)]);
        let found = mismatches(&app, &shop.order).await;
        assert_eq!(found.len(), 1, "{found:#?}");
        assert_eq!(found[0]["reason"], "duplicate_payment");
        assert_eq!(found[0]["refund_status"], "refunded");
        assert_eq!(app.sim.refund_amounts(&paying), Vec::<i64>::new());
    }
);

db_test!(
    a_stripe_500_kept_for_an_attempts_key_does_not_block_the_orders_checkout,
    |app| {
        let shop = Shop::new(&app).await;
        // Webhooks held: payment_intent.created cannot help orderpay here.
        hold_webhooks(&app, 0);
        // Stripe makes the PaymentIntent, then fails with a 500 that it keeps
        // for the Idempotency-Key and replays to every retry of that key.
        app.sim.inject(FaultPlan {
            fail_inside_next: 1,
            path_prefix: Some("payment_intents".into()),
            ..Default::default()
        });
        let first = shop.payment_intent(&app, &shop.order).await;
        assert_eq!(
            (first.status, first.code()),
            (Status::ServiceUnavailable, "payment_provider_unavailable"),
            "{:?}",
            first.body
        );
        let second = shop.payment_intent(&app, &shop.order).await;
        assert!(second.status.code < 300, "{:?}", second.body);
        let third = shop.payment_intent(&app, &shop.order).await;
        assert_eq!(third.status, Status::Ok, "{:?}", third.body);
        assert_eq!(second.body["data"]["id"], third.body["data"]["id"]);
        let payable = payable_at_stripe(&app, &shop.order).await;
        assert_eq!(payable.len(), 1, "at most one payable PaymentIntent");
        assert_eq!(payable[0], second.body["data"]["id"].as_str().unwrap());
    }
);

db_test!(
    a_payment_intent_made_for_an_abandoned_attempt_is_canceled_when_it_turns_up,
    |app| {
        // The create hangs at Stripe past the client's 1 s timeout and is
        // made 2 s later, after the next request has given up on that attempt
        // (nothing found at Stripe yet) and started another.
        let app = app_with_stripe(app, 1, 0).await;
        let shop = Shop::new(&app).await;
        app.sim.inject(FaultPlan {
            hang_next: 1,
            delay_ms: Some(2_000),
            path_prefix: Some("payment_intents".into()),
            ..Default::default()
        });
        let lost = shop.payment_intent(&app, &shop.order).await;
        assert_eq!(lost.status, Status::ServiceUnavailable, "{:?}", lost.body);
        let next = shop.payment_intent(&app, &shop.order).await;
        assert_eq!(next.status, Status::Created, "{:?}", next.body);
        let live = next.body["data"]["id"].as_str().unwrap().to_string();
        // The late PaymentIntent's payment_intent.created webhook links it to
        // its attempt, which is no longer the latest: it is canceled.
        for _ in 0..400 {
            if app.sim.payment_intent_count() == 2 {
                break;
            }
            rocket::tokio::time::sleep(Duration::from_millis(25)).await;
        }
        assert_eq!(app.sim.payment_intent_count(), 2);
        settle_webhooks(&app).await;
        assert_eq!(payable_at_stripe(&app, &shop.order).await, vec![live]);
    }
);
