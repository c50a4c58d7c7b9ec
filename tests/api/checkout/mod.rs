//! Checkout end to end through real HTTP: orderpay, its Stripe simulator and
//! the simulator's signed webhooks, on SQLite and PostgreSQL. This file holds
//! the shared fixtures; the tests are in the submodules.

mod cards;
mod customers;
mod failed_refunds;
mod money;
mod operators;
mod paying;
mod payments;
mod reconcile;
mod refunds;
mod reliability;
mod stray_payments;
mod webhook_inbox;
mod webhook_queue;

use std::time::Duration;

use orderpay::secret::Secret;
use orderpay::stripe::sim::faults::FaultPlan;
use orderpay::stripe::{ClientConfig, StripeClient};
use rocket::http::{Header, Method, Status};
use serde_json::{json, Value};

use crate::helpers::{api_key, bearer, test_figment, Reply, TestApp};

/// A customer with an order, and the server keys the shop and the payment system use.
pub struct Shop {
    pub token: String,
    pub checkout_key: String,
    pub callback_key: String,
    pub order: String,
}

impl Shop {
    pub async fn new(app: &TestApp) -> Shop {
        app.seed().await;
        let (_, token) = app.register("payer@example.com", "payer-password").await;
        let checkout_key = app.key("checkout").await;
        let callback_key = app.key("payments:callback").await;
        let order = new_order(app, &token, "MAIN-2", 2).await;
        Shop {
            token,
            checkout_key,
            callback_key,
            order,
        }
    }

    fn both(&self) -> [Header<'static>; 2] {
        [bearer(&self.token), api_key(&self.checkout_key)]
    }

    pub async fn payment_intent(&self, app: &TestApp, order: &str) -> Reply {
        app.send(
            Method::Post,
            &format!("/api/v1/shop/orders/{order}/payment-intent"),
            &self.both(),
            None,
        )
        .await
    }

    pub async fn payment_intent_id(&self, app: &TestApp, order: &str) -> String {
        let reply = self.payment_intent(app, order).await;
        assert!(reply.status.code < 300, "{:?}", reply.body);
        reply.body["data"]["id"].as_str().unwrap().to_string()
    }

    pub async fn confirm(&self, app: &TestApp, order: &str, pm: &str) -> Reply {
        let body = json!({"payment_method": pm}).to_string();
        app.send(
            Method::Post,
            &format!("/api/v1/shop/orders/{order}/payment-intent/confirm"),
            &self.both(),
            Some(&body),
        )
        .await
    }

    pub async fn cancel(&self, app: &TestApp, order: &str) -> Reply {
        app.send(
            Method::Post,
            &format!("/api/v1/shop/orders/{order}/cancel"),
            &[bearer(&self.token)],
            None,
        )
        .await
    }

    pub async fn callback(&self, app: &TestApp, order: &str) -> Reply {
        app.send(
            Method::Post,
            &format!("/api/v1/shop/orders/{order}/payment"),
            &[api_key(&self.callback_key)],
            None,
        )
        .await
    }
}

pub async fn new_order(app: &TestApp, token: &str, sku: &str, quantity: i64) -> String {
    let body = json!({"items": [{"sku": sku, "quantity": quantity}]}).to_string();
    let reply = app
        .send(
            Method::Post,
            "/api/v1/shop/orders",
            &[bearer(token)],
            Some(&body),
        )
        .await;
    assert_eq!(reply.status, Status::Created, "{:?}", reply.body);
    reply.body["data"]["id"].as_str().unwrap().to_string()
}

pub async fn order(app: &TestApp, id: &str) -> Value {
    app.get(&format!("/api/v1/shop/orders/{id}"), Some(&app.admin_key))
        .await
        .body["data"]
        .clone()
}

/// Waits (bounded) for webhooks to bring the order to `status`.
pub async fn wait_for_status(app: &TestApp, id: &str, status: &str) -> Value {
    for _ in 0..200 {
        let current = order(app, id).await;
        if current["status"] == status {
            return current;
        }
        rocket::tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!(
        "order {id} never became {status}: {:?}",
        order(app, id).await
    );
}

/// Waits (bounded) until orderpay has accepted every event the simulator
/// made and does not hold, and has applied what it stored.
pub async fn settle_webhooks(app: &TestApp) {
    for _ in 0..400 {
        let waiting = app.events_not_accepted().len();
        if waiting <= app.sim.webhooks.held_count() {
            break;
        }
        rocket::tokio::time::sleep(Duration::from_millis(25)).await;
    }
    app.applied().await;
}

/// Asserts the order is paid and was paid once: one step into `paid` in its
/// history, whoever reported it and however often.
pub async fn assert_paid_once(app: &TestApp, order_id: &str) {
    let paid = order(app, order_id).await;
    assert_eq!(paid["status"], "paid", "{paid:?}");
    assert_eq!(paid_entries(&paid).len(), 1, "{paid:?}");
}

pub fn paid_entries(order: &Value) -> Vec<Value> {
    order["history"]
        .as_array()
        .unwrap()
        .iter()
        // Steps into paid; a note (from = to, e.g. an automatic refund) is not one.
        .filter(|h| h["to"] == "paid" && h["from"] != "paid")
        .cloned()
        .collect()
}

/// Pays the order's PaymentIntent at Stripe the way Stripe.js would, with
/// orderpay not involved: it learns of it only from a webhook, a callback or a sweep.
pub async fn pay_at_stripe(app: &TestApp, pi: &str) {
    let paid = stripe_side(app)
        .confirm_payment_intent(
            pi,
            &orderpay::stripe::api::ConfirmParams {
                payment_method: Some("pm_card_visa"),
                return_url: None,
            },
            &orderpay::stripe::IdempotencyKey::new(format!("browser-{pi}")).unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(paid.status.as_str(), "succeeded");
}

/// A client straight to the simulator, to play the part of Stripe's dashboard.
pub fn stripe_side(app: &TestApp) -> StripeClient {
    let mut config = ClientConfig::new(app.sim.base_url(), Secret::new(app.sim.secret_key()));
    config.max_retries = 0;
    StripeClient::new(config).unwrap()
}

pub fn hold_webhooks(app: &TestApp, duplicates: u32) {
    let mut settings = app.sim.webhooks.settings();
    settings.hold = true;
    settings.duplicates = duplicates;
    app.sim.webhooks.configure(settings);
}

/// The order's payment_intent.succeeded events, as the simulator sent (or holds) them.
pub fn succeeded_events(app: &TestApp, order_id: &str) -> Vec<Value> {
    let data = app.sim.data.lock().unwrap();
    data.events
        .iter()
        .filter(|e| {
            e["type"] == "payment_intent.succeeded"
                && e["data"]["object"]["metadata"]["order_id"] == order_id
        })
        .cloned()
        .collect()
}

/// `app` restarted with Stripe client settings of its own. A restart, not a
/// second instance: two instances on one database must pay through one
/// Stripe, or one's inbox worker may apply the other's events against a
/// simulator that never heard of their PaymentIntents (and file them as
/// foreign).
pub async fn app_with_stripe(app: TestApp, timeout_secs: u64, max_retries: u32) -> TestApp {
    let figment = test_figment(&app.database_url)
        .merge(("stripe.timeout_secs", timeout_secs))
        .merge(("stripe.max_retries", max_retries));
    app.restart(figment).await
}

pub fn drop_next_create(app: &TestApp) {
    app.sim.inject(FaultPlan {
        drop_next: 1,
        delay_ms: Some(2_000),
        path_prefix: Some("payment_intents".into()),
        ..Default::default()
    });
}

pub fn signed(body: &str, secret: &str, at: i64) -> Header<'static> {
    Header::new(
        "Stripe-Signature",
        orderpay::stripe::webhook::header(body.as_bytes(), at, &[secret]),
    )
}

pub async fn post_event(app: &TestApp, body: &str, signature: Option<Header<'static>>) -> Reply {
    let headers: Vec<Header<'static>> = signature.into_iter().collect();
    app.send_raw(
        Method::Post,
        "/api/v1/webhooks/stripe",
        &headers,
        Some(body.as_bytes().to_vec()),
        Some("application/json"),
    )
    .await
}

pub async fn stored_events(app: &TestApp) -> i64 {
    let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM webhook_events")
        .fetch_one(app.pool())
        .await
        .unwrap();
    n
}

/// Runs one reconciliation sweep through the admin route; its report.
pub async fn sweep(app: &TestApp) -> Value {
    let reply = app
        .send(
            Method::Post,
            "/api/v1/admin/reconcile",
            &[api_key(&app.admin_key)],
            None,
        )
        .await;
    assert_eq!(reply.status, Status::Ok, "{:?}", reply.body);
    reply.body["data"].clone()
}

/// Someone changes the PaymentIntent's amount at Stripe (to 1.00) before the
/// customer pays: whatever pays it then does not match the order.
pub async fn tamper_amount(app: &TestApp, pi: &str) {
    stripe_side(app)
        .update_payment_intent(
            pi,
            &orderpay::stripe::api::PaymentIntentUpdate {
                amount: Some(100),
                ..Default::default()
            },
            &orderpay::stripe::IdempotencyKey::new(format!("tamper-{pi}")).unwrap(),
        )
        .await
        .unwrap();
}
