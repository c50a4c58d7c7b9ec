//! The webhook endpoint: signatures first, then the inbox.

use orderpay::stripe::IdempotencyKey;
use rocket::http::{Header, Status};
use serde_json::{json, Value};

use super::*;
use crate::db_test;
use crate::helpers::{test_figment, TestApp};

db_test!(
    webhook_signatures_are_checked_before_anything_is_stored,
    |app| {
        let url = app.database_url.clone();
        let figment = test_figment(&url).merge(("stripe.webhook_secret", "whsec_rotated_new"));
        let app = TestApp::start_with(app.backend, &url, figment).await;
        let sim_secret = app.sim.webhooks.settings().secrets[0].clone();
        let now = chrono::Utc::now().timestamp();
        let event = json!({"id": "evt_test_1", "object": "event", "type": "customer.created", "created": now,
        "api_version": "2024-06-20", "livemode": false, "data": {"object": {"id": "cus_1", "object": "customer"}}}).to_string();

        for (case, signature) in [
            ("missing", None),
            ("unknown secret", Some(signed(&event, "whsec_unknown", now))),
            (
                "stale timestamp",
                Some(signed(&event, &sim_secret, now - 301)),
            ),
            (
                "garbage",
                Some(Header::new("Stripe-Signature", "t=abc,v1=zz")),
            ),
        ] {
            let reply = post_event(&app, &event, signature).await;
            assert_eq!(reply.status, Status::BadRequest, "{case}: {:?}", reply.body);
            assert_eq!(stored_events(&app).await, 0, "{case}: nothing stored");
        }
        let tampered = post_event(
            &app,
            &event.replace("cus_1", "cus_2"),
            Some(signed(&event, &sim_secret, now)),
        )
        .await;
        assert_eq!(
            (tampered.status, tampered.code()),
            (Status::BadRequest, "invalid_signature")
        );

        // A secret being rotated in is accepted, and unknown types are stored and acknowledged.
        let accepted =
            post_event(&app, &event, Some(signed(&event, "whsec_rotated_new", now))).await;
        assert_eq!(accepted.status, Status::Ok, "{:?}", accepted.body);
        assert_eq!(accepted.body["data"]["outcome"], "stored");
        app.applied().await;
        assert_eq!(inbox_outcome(&app, "evt_test_1").await, "ignored");
        let again = post_event(&app, &event, Some(signed(&event, &sim_secret, now))).await;
        assert_eq!(
            (again.status, again.body["data"]["outcome"].as_str()),
            (Status::Ok, Some("duplicate"))
        );
        assert_eq!(stored_events(&app).await, 1);

        // An event about a PaymentIntent orderpay never made: stored, acknowledged.
        let stripe = stripe_side(&app);
        let params = orderpay::stripe::api::PaymentIntentParams {
            amount: 5000,
            currency: "usd",
            ..Default::default()
        };
        let foreign = stripe
            .create_payment_intent(&params, &IdempotencyKey::new("foreign").unwrap())
            .await
            .unwrap();
        let event = json!({"id": "evt_test_2", "object": "event", "type": "payment_intent.succeeded", "created": now,
        "livemode": false, "data": {"object": {"id": foreign.id, "object": "payment_intent", "metadata": {}}}}).to_string();
        let reply = post_event(&app, &event, Some(signed(&event, &sim_secret, now))).await;
        assert_eq!(
            (reply.status, reply.body["data"]["outcome"].as_str()),
            (Status::Ok, Some("stored"))
        );
        app.applied().await;
        assert_eq!(inbox_outcome(&app, "evt_test_2").await, "foreign");
        let malformed = post_event(
            &app,
            "{not json",
            Some(signed("{not json", &sim_secret, now)),
        )
        .await;
        assert_eq!(
            (malformed.status, malformed.code()),
            (Status::BadRequest, "malformed_event")
        );
    }
);

/// The first admin inbox entry with `status`, waiting up to 10 s for one.
async fn wait_for_inbox_entry(app: &TestApp, status: &str) -> Value {
    let started = std::time::Instant::now();
    loop {
        let reply = app
            .get(
                &format!("/api/v1/admin/webhook-events?status={status}"),
                Some(&app.admin_key),
            )
            .await;
        assert_eq!(reply.status, Status::Ok, "{:?}", reply.body);
        if let Some(entry) = reply.body["data"].as_array().and_then(|a| a.first()) {
            return entry.clone();
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(10),
            "no inbox entry is {status}"
        );
        rocket::tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
}

/// The event's outcome in the inbox, "" while unprocessed (sqlx's `Any`
/// cannot decode a NULL text).
async fn inbox_outcome(app: &TestApp, event_id: &str) -> String {
    let (outcome,): (String,) =
        sqlx::query_as("SELECT COALESCE(outcome, '') FROM webhook_events WHERE id = $1")
            .bind(event_id)
            .fetch_one(app.pool())
            .await
            .unwrap();
    outcome
}

db_test!(
    a_permanent_refusal_by_stripe_is_acknowledged_and_an_outage_is_not,
    |app| {
        let app = app_with_stripe(app, 5, 0).await;
        let secret = app.sim.webhooks.settings().secrets[0].clone();
        let now = chrono::Utc::now().timestamp();
        let about = |event_id: &str, pi: &str| {
            json!({"id": event_id, "object": "event", "type": "payment_intent.succeeded",
                   "created": now, "livemode": false, "data": {"object": {"id": pi,
                   "object": "payment_intent", "metadata": {"order_id": "ord_elsewhere"}}}})
            .to_string()
        };

        // An id Stripe can never accept: a 400, not a 404. Redelivering it
        // for three days would change nothing.
        let malformed_id = about("evt_refused", "pi_not-an-id!");
        let reply = post_event(
            &app,
            &malformed_id,
            Some(signed(&malformed_id, &secret, now)),
        )
        .await;
        assert_eq!(
            (reply.status, reply.body["data"]["outcome"].as_str()),
            (Status::Ok, Some("stored")),
            "{:?}",
            reply.body
        );
        app.applied().await;
        assert_eq!(inbox_outcome(&app, "evt_refused").await, "provider_refused");
        let again = post_event(
            &app,
            &malformed_id,
            Some(signed(&malformed_id, &secret, now)),
        )
        .await;
        assert_eq!(again.body["data"]["outcome"], "duplicate");

        // Stripe failing (500) is transient: the event is acknowledged (it is
        // stored), its try fails and stays visible, and a later try applies it.
        app.sim.inject(FaultPlan {
            fail_next: 1,
            path_prefix: Some("payment_intents".into()),
            ..Default::default()
        });
        let unknown = about("evt_outage", "pi_unknown123");
        let reply = post_event(&app, &unknown, Some(signed(&unknown, &secret, now))).await;
        assert_eq!(
            (reply.status, reply.body["data"]["outcome"].as_str()),
            (Status::Ok, Some("stored")),
            "{:?}",
            reply.body
        );
        let failed = wait_for_inbox_entry(&app, "failed").await;
        assert_eq!(failed["id"], "evt_outage");
        assert_eq!(failed["attempts"], 1);
        assert!(
            failed["last_error"]
                .as_str()
                .is_some_and(|e| e.starts_with("payment_provider_unavailable")),
            "{failed:?}"
        );
        assert_eq!(failed["outcome"], Value::Null);
        // Retried after its delay: Stripe does not know it (404).
        app.applied().await;
        assert_eq!(inbox_outcome(&app, "evt_outage").await, "foreign");
        let done = wait_for_inbox_entry(&app, "processed").await;
        assert!(done["last_error"].is_null());
    }
);

db_test!(
    the_simulators_endpoint_is_sent_only_the_events_orderpay_uses,
    |app| {
        let shop = Shop::new(&app).await;
        let pi = shop.payment_intent_id(&app, &shop.order).await;
        pay_at_stripe(&app, &pi).await;
        settle_webhooks(&app).await;
        assert_paid_once(&app, &shop.order).await;
        let made: Vec<String> = app
            .sim
            .data
            .lock()
            .unwrap()
            .events
            .iter()
            .map(|e| e["type"].as_str().unwrap().to_string())
            .collect();
        assert!(
            made.iter().any(|t| t == "charge.succeeded"),
            "made: {made:?}"
        );
        assert!(
            made.iter().any(|t| t == "customer.created"),
            "made: {made:?}"
        );
        let mut stored: Vec<String> =
            sqlx::query_as::<_, (String,)>("SELECT type FROM webhook_events")
                .fetch_all(app.pool())
                .await
                .unwrap()
                .into_iter()
                .map(|(t,)| t)
                .collect();
        stored.sort();
        assert_eq!(
            stored,
            vec!["payment_intent.created", "payment_intent.succeeded"]
        );
        let enabled = app.sim.webhooks.settings().enabled_events;
        let subscribed: Vec<String> = orderpay::checkout::webhook::subscribed_events()
            .map(str::to_string)
            .collect();
        assert_eq!(enabled, subscribed);
    }
);
