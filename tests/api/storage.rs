//! Storage behaviour that only shows on one backend.

use rocket::http::{Header, Method, Status};
use serde_json::json;

use crate::db_test;

db_test!(null_and_text_parameters_mix_in_one_statement, |app| {
    // PostgreSQL fixes a parameter's type when a statement is first prepared
    // on a connection, and sqlx's Any driver binds None as an int4 NULL: an
    // inbox row without a PaymentIntent followed by one with must both store.
    let secret = app.sim.webhooks.settings().secrets[0].clone();
    let now = chrono::Utc::now().timestamp();
    for n in 0..6 {
        let object = if n % 2 == 0 {
            json!({"id": format!("cus_{n}"), "object": "customer"})
        } else {
            json!({"id": format!("pi_unknown_{n}"), "object": "payment_intent", "metadata": {}})
        };
        let kind = if n % 2 == 0 {
            "customer.created"
        } else {
            "payment_intent.canceled"
        };
        let body =
            json!({"id": format!("evt_mix_{n}"), "object": "event", "type": kind, "created": now,
            "livemode": false, "data": {"object": object}})
            .to_string();
        let signature = orderpay::stripe::webhook::header(body.as_bytes(), now, &[&secret]);
        let reply = app
            .send_raw(
                Method::Post,
                "/api/v1/webhooks/stripe",
                &[Header::new("Stripe-Signature", signature)],
                Some(body.into_bytes()),
                Some("application/json"),
            )
            .await;
        assert_eq!(reply.status, Status::Ok, "event {n}: {:?}", reply.body);
    }
    let (stored,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM webhook_events WHERE payment_intent_id IS NOT NULL")
            .fetch_one(app.pool())
            .await
            .unwrap();
    assert_eq!(stored, 3);
});
