//! Refunds: in part and in full, validated before Stripe is asked, once per
//! Idempotency-Key however often the caller retries, and never more than was
//! paid however many arrive at once.

use rocket::http::{Header, Method, Status};
use serde_json::json;

use super::*;
use crate::db_test;

/// A paid order (through Stripe) and a key that may refund it.
pub(super) struct Paid {
    pub(super) shop: Shop,
    pub(super) key: String,
    pub(super) pi: String,
}

pub(super) async fn paid_order(app: &TestApp) -> Paid {
    let shop = Shop::new(app).await;
    let pi = shop.payment_intent_id(app, &shop.order).await;
    let confirmed = shop.confirm(app, &shop.order, "pm_card_visa").await;
    assert_eq!(confirmed.status, Status::Ok, "{:?}", confirmed.body);
    shop.callback(app, &shop.order).await;
    wait_for_status(app, &shop.order, "paid").await;
    let key = app.key("refunds:write").await;
    Paid { shop, key, pi }
}

pub(super) async fn refund(
    app: &TestApp,
    key: &str,
    order: &str,
    body: Option<Value>,
    request_key: Option<&str>,
) -> Reply {
    let mut headers = vec![api_key(key)];
    if let Some(request_key) = request_key {
        headers.push(Header::new("Idempotency-Key", request_key.to_string()));
    }
    let body = body.map(|b| b.to_string());
    app.send(
        Method::Post,
        &format!("/api/v1/shop/orders/{order}/refunds"),
        &headers,
        body.as_deref(),
    )
    .await
}

/// A partial refund of the paid order with the caller's Idempotency-Key.
async fn keyed(app: &TestApp, paid: &Paid, amount: &str, key: &str) -> Reply {
    let body = json!({ "amount": amount });
    refund(app, &paid.key, &paid.shop.order, Some(body), Some(key)).await
}

fn entries_to(order: &Value, status: &str) -> usize {
    order["history"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|h| h["to"] == status)
        .count()
}

db_test!(a_paid_order_is_refunded_in_part_then_in_full, |app| {
    let paid = paid_order(&app).await;
    let order_id = &paid.shop.order;
    let part = refund(
        &app,
        &paid.key,
        order_id,
        Some(json!({"amount": "12.00", "reason": "requested_by_customer"})),
        None,
    )
    .await;
    assert_eq!(part.status, Status::Created, "{:?}", part.body);
    let data = &part.body["data"];
    assert_eq!(
        (
            data["amount"].as_str(),
            data["status"].as_str(),
            data["reason"].as_str()
        ),
        (
            Some("12.00"),
            Some("succeeded"),
            Some("requested_by_customer")
        )
    );
    assert_eq!(data["payment_intent_id"], paid.pi.as_str());
    assert!(data["stripe_refund_id"]
        .as_str()
        .unwrap()
        .starts_with("re_"));
    let after_part = order(&app, order_id).await;
    assert_eq!(after_part["status"], "partially_refunded");
    assert_eq!(after_part["amount_refunded"], "12.00");
    assert_eq!(after_part["refunds"].as_array().unwrap().len(), 1);

    let rest = refund(&app, &paid.key, order_id, None, None).await;
    assert_eq!(rest.status, Status::Created, "{:?}", rest.body);
    assert_eq!(rest.body["data"]["amount"], "100.00", "what was left");
    assert_eq!(app.sim.refund_amounts(&paid.pi), vec![1200, 10000]);

    let more = refund(&app, &paid.key, order_id, None, None).await;
    assert_eq!(
        (more.status, more.code()),
        (Status::Conflict, "order_not_refundable")
    );
    settle_webhooks(&app).await;
    let done = order(&app, order_id).await;
    assert_eq!(done["status"], "refunded");
    assert_eq!(done["amount_refunded"], "112.00");
    assert_eq!(
        (
            entries_to(&done, "partially_refunded"),
            entries_to(&done, "refunded")
        ),
        (1, 1),
        "Stripe's charge.refunded events add nothing to what the refunds did"
    );
});

db_test!(refunds_are_checked_before_stripe_is_asked, |app| {
    let paid = paid_order(&app).await;
    let order_id = &paid.shop.order;
    let cases = [
        (
            json!({"amount": "112.01"}),
            "refund_exceeds_remaining",
            "amount",
        ),
        (json!({"amount": "1.005"}), "too_many_decimals", "amount"),
        (json!({"amount": "0"}), "amount_not_positive", "amount"),
        (json!({"amount": "ten"}), "invalid_amount", "amount"),
        (json!({"reason": "because"}), "invalid_reason", "reason"),
    ];
    for (body, code, field) in cases {
        let reply = refund(&app, &paid.key, order_id, Some(body.clone()), None).await;
        assert_eq!(
            (reply.status, reply.code(), reply.field()),
            (Status::UnprocessableEntity, code, field),
            "{body}: {:?}",
            reply.body
        );
    }
    let too_much = refund(
        &app,
        &paid.key,
        order_id,
        Some(json!({"amount": 200})),
        None,
    )
    .await;
    assert_eq!(too_much.body["error"]["details"]["remaining"], "112.00");
    let bad_key = refund(&app, &paid.key, order_id, None, Some(&"k".repeat(256))).await;
    assert_eq!(
        (bad_key.status, bad_key.code()),
        (Status::BadRequest, "invalid_idempotency_key")
    );

    let unpaid = new_order(&app, &paid.shop.token, "TEE-BLACK", 1).await;
    let reply = refund(&app, &paid.key, &unpaid, None, None).await;
    assert_eq!(
        (reply.status, reply.code()),
        (Status::Conflict, "order_not_refundable")
    );
    let (seeded,): (String,) = sqlx::query_as(
        "SELECT id FROM orders WHERE status = 'paid' AND paid_payment_intent_id IS NULL LIMIT 1",
    )
    .fetch_one(app.pool())
    .await
    .unwrap();
    let reply = refund(&app, &paid.key, &seeded, None, None).await;
    assert_eq!(
        (reply.status, reply.code()),
        (Status::Conflict, "not_paid_through_stripe")
    );
    let missing = refund(&app, &paid.key, "no-such-order", None, None).await;
    assert_eq!(missing.status, Status::NotFound);

    let (rows,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM refunds")
        .fetch_one(app.pool())
        .await
        .unwrap();
    assert_eq!(rows, 0, "nothing recorded");
    assert!(
        app.sim.refund_amounts(&paid.pi).is_empty(),
        "nothing asked of Stripe"
    );
    assert_eq!(order(&app, order_id).await["status"], "paid");
});

db_test!(
    a_retried_refund_with_the_same_idempotency_key_refunds_once,
    |app| {
        let app = app_with_stripe(app, 1, 0).await;
        let paid = paid_order(&app).await;
        let order_id = &paid.shop.order;
        let first = keyed(&app, &paid, "10.00", "r-1").await;
        assert_eq!(first.status, Status::Created, "{:?}", first.body);
        let again = keyed(&app, &paid, "10.00", "r-1").await;
        assert_eq!(again.status, Status::Ok);
        assert_eq!(again.body["data"]["id"], first.body["data"]["id"]);
        let other = keyed(&app, &paid, "11.00", "r-1").await;
        assert_eq!(
            (other.status, other.code()),
            (Status::Conflict, "idempotency_key_reused")
        );

        // Stripe makes the refund but its answer is lost: the refund stays
        // pending (its amount reserved), and the caller's retry finishes it
        // (its events, which would too, are held: see failed_refunds.rs;
        // and the earlier refund's, which read refunds, are done first, so
        // the fault hits the refund below).
        settle_webhooks(&app).await;
        hold_webhooks(&app, 0);
        app.sim.inject(FaultPlan {
            drop_next: 1,
            delay_ms: Some(2_000),
            path_prefix: Some("refunds".into()),
            ..Default::default()
        });
        let lost = keyed(&app, &paid, "5.00", "r-2").await;
        assert_eq!(
            (lost.status, lost.code()),
            (Status::ServiceUnavailable, "payment_provider_unavailable")
        );
        let pending = &order(&app, order_id).await["refunds"][1];
        assert_eq!(pending["status"], "pending");
        let retried = keyed(&app, &paid, "5.00", "r-2").await;
        assert_eq!(retried.status, Status::Ok, "{:?}", retried.body);
        assert_eq!(retried.body["data"]["id"], pending["id"]);
        assert_eq!(retried.body["data"]["status"], "succeeded");
        assert_eq!(
            app.sim.refund_amounts(&paid.pi),
            vec![500, 1000],
            "one refund per Idempotency-Key at Stripe"
        );
        assert_eq!(order(&app, order_id).await["amount_refunded"], "15.00");
    }
);

db_test!(concurrent_refunds_never_exceed_the_payment, |app| {
    let paid = paid_order(&app).await;
    let order_id = paid.shop.order.clone();
    let replies = futures_join(&app, &paid.key, &order_id, 10).await;
    let created = replies
        .iter()
        .filter(|r| r.status == Status::Created)
        .count();
    let refused = replies
        .iter()
        .filter(|r| {
            r.status == Status::UnprocessableEntity && r.code() == "refund_exceeds_remaining"
        })
        .count();
    let conflicts: Vec<_> = replies
        .iter()
        .filter(|r| r.status == Status::Conflict)
        .map(|r| r.body.clone())
        .collect();
    assert_eq!(
        (created, refused),
        (5, 5),
        "5 x 20.00 fit in 112.00, the 6th does not: {conflicts:?}"
    );
    assert_eq!(app.sim.refund_amounts(&paid.pi), vec![2000; 5]);
    assert_eq!(order(&app, &order_id).await["amount_refunded"], "100.00");
});

async fn futures_join(app: &TestApp, key: &str, order_id: &str, n: usize) -> Vec<Reply> {
    let requests =
        (0..n).map(|_| refund(app, key, order_id, Some(json!({"amount": "20.00"})), None));
    rocket::futures::future::join_all(requests).await
}

pub(super) async fn sweep_refunds(app: &TestApp) -> u64 {
    sweep(app).await["refunds_settled"].as_u64().unwrap()
}

pub(super) async fn backdate_refunds(app: &TestApp, hours: i64) {
    let at = orderpay::db::timestamp_text(chrono::Utc::now() - chrono::Duration::hours(hours));
    sqlx::query("UPDATE refunds SET created_at = $1")
        .bind(at)
        .execute(app.pool())
        .await
        .unwrap();
}

db_test!(a_sweep_settles_refunds_whose_answer_was_lost, |app| {
    // No Idempotency-Key, so the caller cannot retry: the sweep re-sends the
    // pending refund with its own key once it is old enough, and never once
    // Stripe may have forgotten that key.
    let app = app_with_stripe(app, 1, 0).await;
    let paid = paid_order(&app).await;
    // The refund's events would settle it too (see failed_refunds.rs).
    settle_webhooks(&app).await;
    hold_webhooks(&app, 0);
    app.sim.inject(FaultPlan {
        drop_next: 1,
        delay_ms: Some(2_000),
        path_prefix: Some("refunds".into()),
        ..Default::default()
    });
    let body = Some(json!({"amount": "10.00"}));
    let lost = refund(&app, &paid.key, &paid.shop.order, body, None).await;
    assert_eq!(lost.status, Status::ServiceUnavailable);
    assert_eq!(
        sweep_refunds(&app).await,
        0,
        "too young: its own request may still hear back"
    );
    backdate_refunds(&app, 30).await;
    assert_eq!(
        sweep_refunds(&app).await,
        0,
        "Stripe may have forgotten its key: left to an operator"
    );
    backdate_refunds(&app, 1).await;
    assert_eq!(sweep_refunds(&app).await, 1);
    let refunds = order(&app, &paid.shop.order).await["refunds"].clone();
    assert_eq!(refunds[0]["status"], "succeeded");
    assert_eq!(
        app.sim.refund_amounts(&paid.pi),
        vec![1000],
        "refunded once"
    );
    assert_eq!(sweep_refunds(&app).await, 0);
});

db_test!(
    a_refund_stripe_named_is_settled_by_reading_it_at_any_age,
    |app| {
        // Stripe answered `pending` (as it may for slower refunds): the sweep
        // reads the refund by its id, which stays safe long after the
        // Idempotency-Key is forgotten.
        let paid = paid_order(&app).await;
        let done = refund(
            &app,
            &paid.key,
            &paid.shop.order,
            Some(json!({"amount": "7.00"})),
            None,
        )
        .await;
        assert_eq!(done.status, Status::Created);
        // Its events would settle it again before the sweep does.
        settle_webhooks(&app).await;
        sqlx::query("UPDATE refunds SET status = 'pending'")
            .execute(app.pool())
            .await
            .unwrap();
        backdate_refunds(&app, 30).await;
        assert_eq!(sweep_refunds(&app).await, 1);
        let refunds = order(&app, &paid.shop.order).await["refunds"].clone();
        assert_eq!(refunds[0]["status"], "succeeded");
        assert_eq!(app.sim.refund_amounts(&paid.pi), vec![700]);
    }
);

db_test!(
    an_idempotency_key_is_bound_to_the_whole_normalized_request,
    |app| {
        let paid = paid_order(&app).await;
        let order_id = &paid.shop.order;
        let send = |body: Value, key: &'static str| {
            let (app, paid) = (&app, &paid);
            async move { refund(app, &paid.key, &paid.shop.order, Some(body), Some(key)).await }
        };
        let first = send(json!({"amount": "10.00"}), "k-1").await;
        assert_eq!(first.status, Status::Created, "{:?}", first.body);
        // One amount, written three ways: the same request.
        for same in [json!({"amount": "10.0"}), json!({"amount": 10})] {
            let again = send(same.clone(), "k-1").await;
            assert_eq!(again.status, Status::Ok, "{same}: {:?}", again.body);
            assert_eq!(again.body["data"]["id"], first.body["data"]["id"]);
        }
        // "Refund the rest" is another request, whatever the rest is.
        for other in [json!({}), json!({"amount": "10.00", "reason": "duplicate"})] {
            let reply = send(other.clone(), "k-1").await;
            assert_eq!(
                (reply.status, reply.code()),
                (Status::Conflict, "idempotency_key_reused"),
                "{other}: {:?}",
                reply.body
            );
        }

        // Leave exactly 10.00: an empty body and {"amount": "10.00"} would
        // now refund the same money, and are still two requests.
        let most = refund(
            &app,
            &paid.key,
            order_id,
            Some(json!({"amount": "92.00"})),
            None,
        )
        .await;
        assert_eq!(most.status, Status::Created, "{:?}", most.body);
        let rest = send(json!({}), "k-2").await;
        assert_eq!(rest.status, Status::Created, "{:?}", rest.body);
        assert_eq!(rest.body["data"]["amount"], "10.00");
        let explicit = send(json!({"amount": "10.00"}), "k-2").await;
        assert_eq!(
            (explicit.status, explicit.code()),
            (Status::Conflict, "idempotency_key_reused"),
            "{:?}",
            explicit.body
        );
        let repeated = send(json!({}), "k-2").await;
        assert_eq!(repeated.status, Status::Ok, "{:?}", repeated.body);
        assert_eq!(repeated.body["data"]["id"], rest.body["data"]["id"]);
        assert_eq!(
            app.sim.refund_amounts(&paid.pi),
            vec![1000, 1000, 9200],
            "one refund per request at Stripe"
        );
    }
);

db_test!(
    a_full_refund_is_said_explicitly_never_by_a_null_amount,
    |app| {
        let paid = paid_order(&app).await;
        let order_id = &paid.shop.order;
        let cases = [
            (json!({"amount": null}), "invalid_field", "amount"),
            (json!({"full": null}), "invalid_field", "full"),
            (
                json!({"full": true, "amount": "1.00"}),
                "ambiguous_refund",
                "full",
            ),
            (json!({"full": false}), "amount_required", "amount"),
        ];
        for (body, code, field) in cases {
            let reply = refund(&app, &paid.key, order_id, Some(body.clone()), None).await;
            assert_eq!(
                (reply.status, reply.code(), reply.field()),
                (Status::UnprocessableEntity, code, field),
                "{body}: {:?}",
                reply.body
            );
        }
        assert_eq!(order(&app, order_id).await["status"], "paid");
        let full = refund(&app, &paid.key, order_id, Some(json!({"full": true})), None).await;
        assert_eq!(full.status, Status::Created, "{:?}", full.body);
        assert_eq!(full.body["data"]["amount"], "112.00");
    }
);

db_test!(
    a_refunds_read_of_its_charge_at_stripe_holds_up_no_other_order,
    |app| {
        let paid = paid_order(&app).await;
        let order_id = &paid.shop.order;
        // Only the refund request reads the charge (its events wait).
        hold_webhooks(&app, 0);
        app.sim.inject(FaultPlan {
            hang_next: 1,
            delay_ms: Some(3_000),
            path_prefix: Some("charges".into()),
            ..Default::default()
        });
        let refunding = refund(
            &app,
            &paid.key,
            order_id,
            Some(json!({"amount": "5.00"})),
            None,
        );
        let meanwhile = async {
            while app.sim.faults().hang_next > 0 {
                rocket::tokio::time::sleep(Duration::from_millis(5)).await;
            }
            // The refund's total is being read at Stripe, under the order's
            // lock: another order is written meanwhile...
            new_order(&app, &paid.shop.token, "MAIN-2", 1).await;
            // ... before the refund's total is, which had to wait for the
            // read (had the read held the database's lock, the new order
            // would have been written after the total).
            order(&app, order_id).await["amount_refunded"].clone()
        };
        let (refunded, refunded_meanwhile) = rocket::tokio::join!(refunding, meanwhile);
        assert_eq!(refunded_meanwhile, "0.00");
        assert_eq!(refunded.status, Status::Created, "{:?}", refunded.body);
        assert_eq!(order(&app, order_id).await["amount_refunded"], "5.00");
        assert_eq!(order(&app, order_id).await["status"], "partially_refunded");
    }
);
