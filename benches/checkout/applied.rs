//! Time to applied: from delivering a signed `payment_intent.succeeded` for
//! a real PaymentIntent (confirmed at the simulator, which delivers nothing
//! itself) to its order reading `paid` in the database. While orderpay
//! applies events inside the request this is about the response time; once
//! they are applied behind an inbox, it is how far behind the workers are.

use std::time::{Duration, Instant};

use sqlx::AnyPool;

use super::children::SIM_SECRET_KEY;
use super::events::{self, SignedEvent};
use super::harness::Stats;
use super::shop::Shop;

const ORDERS: usize = 100;
/// Between deliveries: spread over the intake run, one at a time.
const PAUSE: Duration = Duration::from_millis(10);

pub struct Pending {
    order_id: String,
    event: SignedEvent,
}

/// Orders whose PaymentIntent succeeded at Stripe, each with the event that
/// says so, not yet delivered.
pub async fn prepare(pool: &AnyPool, base: &str, stripe_base: &str) -> Vec<Pending> {
    let shop = Shop::open(pool, base, stripe_base, SIM_SECRET_KEY, 1).await;
    let mut pending = Vec::with_capacity(ORDERS);
    for n in 0..ORDERS {
        let order_id = shop.order(base, n).await;
        let pi = shop.payment_intent(base, n, &order_id).await;
        shop.confirm_at_stripe(&pi).await;
        let object = shop.stripe_json(&pi).await;
        let event = events::succeeded(&format!("evt_applied_{pi}"), &object);
        pending.push(Pending { order_id, event });
    }
    pending
}

async fn is_paid(pool: &AnyPool, order_id: &str) -> bool {
    let (status,): (String,) = sqlx::query_as("SELECT status FROM orders WHERE id = $1")
        .bind(order_id)
        .fetch_one(pool)
        .await
        .expect("order status");
    status == "paid"
}

/// Delivers each pending event in turn and waits for its order to be paid.
pub async fn measure(pool: &AnyPool, base: &str, pending: Vec<Pending>) -> Stats {
    let http = reqwest::Client::new();
    let url = format!("{base}/api/v1/webhooks/stripe");
    let started = Instant::now();
    let mut latencies = Vec::with_capacity(pending.len());
    for Pending { order_id, event } in pending {
        rocket::tokio::time::sleep(PAUSE).await;
        let sent = Instant::now();
        let status = events::deliver(&http, &url, &event).await;
        assert_eq!(status, 200, "payment_intent.succeeded not acknowledged");
        while !is_paid(pool, &order_id).await {
            assert!(
                sent.elapsed() < Duration::from_secs(60),
                "order {order_id} not paid a minute after its event"
            );
            rocket::tokio::time::sleep(Duration::from_millis(1)).await;
        }
        latencies.push(sent.elapsed());
    }
    Stats::from(latencies, started.elapsed())
}
