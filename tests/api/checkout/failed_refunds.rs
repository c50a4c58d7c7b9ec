//! A refund Stripe answers `pending` and that fails later: Stripe counted it
//! in the charge's refunded total at once and gives the money back when it
//! fails, and orderpay's order follows (its total falls, its status with it),
//! whichever events arrive, how often and in what order; orderpay's refund
//! row becomes failed and frees what it reserved.

use orderpay::stripe::sim::webhooks::ReleaseOrder;
use rocket::http::Status;
use serde_json::json;

use super::refunds::{backdate_refunds, paid_order, refund, sweep_refunds, Paid};
use super::*;
use crate::db_test;

/// New refunds stay pending at Stripe until settled (or not).
fn hold_refunds(app: &TestApp, hold: bool) {
    app.sim
        .control(|data| {
            data.hold_refunds(hold);
            Ok(json!({}))
        })
        .unwrap();
}

/// Refunds `amount` (the rest when `None`): Stripe's refund id.
async fn refund_of(app: &TestApp, paid: &Paid, amount: Option<&str>, status: &str) -> String {
    let body = amount.map(|amount| json!({ "amount": amount }));
    let reply = refund(app, &paid.key, &paid.shop.order, body, None).await;
    assert_eq!(reply.status, Status::Created, "{:?}", reply.body);
    assert_eq!(reply.body["data"]["status"], status, "{:?}", reply.body);
    reply.body["data"]["stripe_refund_id"]
        .as_str()
        .unwrap()
        .to_string()
}

fn fail_at_stripe(app: &TestApp, stripe_refund_id: &str) {
    app.sim
        .control(|data| data.settle_refund(stripe_refund_id, false))
        .unwrap();
}

/// The order's (status, amount_refunded) and its refunds' statuses.
async fn money(app: &TestApp, order_id: &str) -> (String, String, Vec<String>) {
    let current = order(app, order_id).await;
    let refunds = current["refunds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["status"].as_str().unwrap().to_string())
        .collect();
    (
        current["status"].as_str().unwrap().to_string(),
        current["amount_refunded"].as_str().unwrap().to_string(),
        refunds,
    )
}

fn expected(status: &str, refunded: &str, refunds: &[&str]) -> (String, String, Vec<String>) {
    (
        status.to_string(),
        refunded.to_string(),
        refunds.iter().map(|s| s.to_string()).collect(),
    )
}

db_test!(
    a_full_refund_that_fails_later_leaves_the_order_paid,
    |app| {
        let paid = paid_order(&app).await;
        let order_id = &paid.shop.order;
        hold_refunds(&app, true);
        let stripe_refund = refund_of(&app, &paid, None, "pending").await;
        settle_webhooks(&app).await;
        assert_eq!(
            money(&app, order_id).await,
            expected("refunded", "112.00", &["pending"]),
            "Stripe counts a pending refund at once"
        );

        fail_at_stripe(&app, &stripe_refund);
        settle_webhooks(&app).await;
        assert_eq!(
            money(&app, order_id).await,
            expected("paid", "0.00", &["failed"]),
            "the money is back"
        );
        let history = order(&app, order_id).await["history"].clone();
        let last = history.as_array().unwrap().last().unwrap().clone();
        assert_eq!(
            (last["from"].as_str(), last["to"].as_str()),
            (Some("refunded"), Some("paid"))
        );

        // Its reservation is freed: all of it can be refunded again.
        hold_refunds(&app, false);
        let again = refund(&app, &paid.key, order_id, None, None).await;
        assert_eq!(again.status, Status::Created, "{:?}", again.body);
        assert_eq!(again.body["data"]["amount"], "112.00");
    }
);

db_test!(
    a_refund_that_fails_after_another_succeeded_leaves_the_first,
    |app| {
        let paid = paid_order(&app).await;
        let order_id = &paid.shop.order;
        refund_of(&app, &paid, Some("10.00"), "succeeded").await;
        hold_refunds(&app, true);
        let rest = refund_of(&app, &paid, None, "pending").await;
        settle_webhooks(&app).await;
        assert_eq!(
            money(&app, order_id).await,
            expected("refunded", "112.00", &["succeeded", "pending"])
        );

        fail_at_stripe(&app, &rest);
        settle_webhooks(&app).await;
        assert_eq!(
            money(&app, order_id).await,
            expected("partially_refunded", "10.00", &["succeeded", "failed"])
        );
    }
);

db_test!(
    duplicated_and_reversed_events_end_in_the_same_state,
    |app| {
        let paid = paid_order(&app).await;
        let order_id = &paid.shop.order;
        settle_webhooks(&app).await;
        hold_webhooks(&app, 2);

        refund_of(&app, &paid, Some("10.00"), "succeeded").await;
        hold_refunds(&app, true);
        let failing = refund_of(&app, &paid, Some("30.00"), "pending").await;
        fail_at_stripe(&app, &failing);
        // The refund created at Stripe after orderpay's row was written
        // and answered: only the events tell it about the failure.
        let answered = money(&app, order_id).await;
        assert_eq!(
            answered,
            expected("partially_refunded", "40.00", &["succeeded", "pending"])
        );

        let delivered = app.sim.webhooks.release(ReleaseOrder::Reverse).await;
        app.applied().await;
        assert!(
            delivered.iter().all(|d| d.status == Some(200)),
            "{delivered:?}"
        );
        assert_eq!(
            money(&app, order_id).await,
            expected("partially_refunded", "10.00", &["succeeded", "failed"])
        );
    }
);

db_test!(
    the_sweep_reads_a_refund_that_failed_without_its_events,
    |app| {
        let paid = paid_order(&app).await;
        let order_id = &paid.shop.order;
        hold_refunds(&app, true);
        let failing = refund_of(&app, &paid, Some("12.00"), "pending").await;
        settle_webhooks(&app).await;
        assert_eq!(
            money(&app, order_id).await,
            expected("partially_refunded", "12.00", &["pending"])
        );
        // Its failure's events never arrive.
        hold_webhooks(&app, 0);
        fail_at_stripe(&app, &failing);
        backdate_refunds(&app, 1).await;
        assert_eq!(sweep_refunds(&app).await, 1);
        assert_eq!(
            money(&app, order_id).await,
            expected("paid", "0.00", &["failed"])
        );
    }
);

db_test!(
    a_refund_whose_answer_was_lost_is_settled_by_its_events,
    |app| {
        let app = app_with_stripe(app, 1, 0).await;
        let paid = paid_order(&app).await;
        let order_id = &paid.shop.order;
        app.sim.inject(FaultPlan {
            drop_next: 1,
            delay_ms: Some(2_000),
            path_prefix: Some("refunds".into()),
            ..Default::default()
        });
        let body = Some(json!({"amount": "5.00"}));
        let lost = refund(&app, &paid.key, order_id, body, None).await;
        assert_eq!(lost.status, Status::ServiceUnavailable);
        settle_webhooks(&app).await;
        // The events name the refund's row in its metadata. They are applied
        // after they are acknowledged, so the state is awaited (bounded).
        let want = expected("partially_refunded", "5.00", &["succeeded"]);
        let mut got = money(&app, order_id).await;
        for _ in 0..200 {
            if got == want {
                break;
            }
            rocket::tokio::time::sleep(Duration::from_millis(25)).await;
            got = money(&app, order_id).await;
        }
        assert_eq!(got, want);
        let row = &order(&app, order_id).await["refunds"][0];
        assert!(row["stripe_refund_id"].as_str().unwrap().starts_with("re_"));
        assert_eq!(app.sim.refund_amounts(&paid.pi), vec![500]);
    }
);
