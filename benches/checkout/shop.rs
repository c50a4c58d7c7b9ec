//! A customer's side of a checkout, against any orderpay (this process's or
//! a child's): order, PaymentIntent, confirmation at Stripe (as Stripe.js
//! does from the browser: straight to the simulator) and the payment
//! system's callback.

use std::sync::atomic::{AtomicUsize, Ordering};

use orderpay::secret::Secret;
use orderpay::stripe::api::ConfirmParams;
use orderpay::stripe::client::{ClientConfig, StripeClient};
use orderpay::stripe::form::Form;
use orderpay::stripe::IdempotencyKey;
use serde_json::{json, Value};
use sqlx::AnyPool;

use super::harness::{api_key, call, register};

pub struct Shop {
    pub http: reqwest::Client,
    pub stripe: StripeClient,
    checkout_key: String,
    callback_key: String,
    /// `Bearer <token>` of each customer, used in turn.
    customers: Vec<String>,
}

impl Shop {
    /// `customers` registered at `base`; keys written to `pool`; Stripe
    /// (the simulator) at `stripe_base` with `stripe_key`.
    pub async fn open(
        pool: &AnyPool,
        base: &str,
        stripe_base: &str,
        stripe_key: &str,
        customers: usize,
    ) -> Shop {
        let http = reqwest::Client::new();
        let mut config = ClientConfig::new(stripe_base, Secret::new(stripe_key.to_string()));
        config.max_retries = 0;
        // Shops opened on one database (one per round) get their own customers.
        static OPENED: AtomicUsize = AtomicUsize::new(0);
        let shop = OPENED.fetch_add(1, Ordering::Relaxed);
        let mut bearers = Vec::new();
        for n in 0..customers {
            let email = format!("shopper{n}.shop{shop}@example.com");
            bearers.push(register(&http, base, &email, "Shopper").await);
        }
        Shop {
            stripe: StripeClient::new(config).expect("Stripe client"),
            checkout_key: api_key(pool, "checkout").await,
            callback_key: api_key(pool, "payments:callback").await,
            customers: bearers,
            http,
        }
    }

    fn bearer(&self, n: usize) -> &str {
        &self.customers[n % self.customers.len()]
    }

    /// Customer `n`'s new order; returns its id.
    pub async fn order(&self, base: &str, n: usize) -> String {
        let body = json!({"items": [{"sku": "MAIN-2", "quantity": 2}]});
        let (status, reply) = call(
            &self.http,
            base,
            reqwest::Method::POST,
            "/api/v1/shop/orders",
            &[("Authorization", self.bearer(n))],
            Some(&body),
        )
        .await;
        assert_eq!(status, 201, "order: {reply}");
        reply["data"]["id"].as_str().expect("order id").to_string()
    }

    /// The order's PaymentIntent id, asked of orderpay by customer `n`.
    pub async fn payment_intent(&self, base: &str, n: usize, order: &str) -> String {
        let path = format!("/api/v1/shop/orders/{order}/payment-intent");
        let headers = [
            ("Authorization", self.bearer(n)),
            ("X-API-Key", self.checkout_key.as_str()),
        ];
        let (status, reply) = call(
            &self.http,
            base,
            reqwest::Method::POST,
            &path,
            &headers,
            None,
        )
        .await;
        assert_eq!(status, 201, "payment intent: {reply}");
        reply["data"]["id"].as_str().expect("pi id").to_string()
    }

    /// Confirms with a card that succeeds, at Stripe.
    pub async fn confirm_at_stripe(&self, payment_intent: &str) {
        let params = ConfirmParams {
            payment_method: Some("pm_card_visa"),
            return_url: None,
        };
        let key = IdempotencyKey::new(format!("bench-confirm-{payment_intent}")).expect("key");
        self.stripe
            .confirm_payment_intent(payment_intent, &params, &key)
            .await
            .expect("confirmed at Stripe");
    }

    /// The PaymentIntent as Stripe's JSON (what an event carries).
    pub async fn stripe_json(&self, payment_intent: &str) -> Value {
        self.stripe
            .get(
                &format!("/v1/payment_intents/{payment_intent}"),
                Form::new(),
            )
            .await
            .expect("PaymentIntent")
    }

    /// The payment system's word that the order is paid.
    pub async fn callback(&self, base: &str, order: &str, payment_intent: &str) {
        let path = format!("/api/v1/shop/orders/{order}/payment");
        let body = json!({"payment_intent_id": payment_intent});
        let headers = [("X-API-Key", self.callback_key.as_str())];
        let (status, reply) = call(
            &self.http,
            base,
            reqwest::Method::POST,
            &path,
            &headers,
            Some(&body),
        )
        .await;
        assert_eq!(status, 200, "callback: {reply}");
    }

    /// A whole checkout by customer `n`; returns the order id.
    pub async fn checkout(&self, base: &str, n: usize) -> String {
        let order = self.order(base, n).await;
        let pi = self.payment_intent(base, n, &order).await;
        self.confirm_at_stripe(&pi).await;
        self.callback(base, &order, &pi).await;
        order
    }
}
