//! Time to applied: from delivering a signed `payment_intent.succeeded` for
//! a real PaymentIntent (confirmed at the simulator, which delivers nothing
//! itself) to its order reading `paid` in the database. Events are sent one
//! every 10 ms from the start of the intake flood, without waiting for the
//! previous one to be applied; a poller notes when each order is paid. With
//! events applied behind an inbox, this is how far behind the workers are.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use rocket::futures::future::join;
use sqlx::AnyPool;

use super::children::SIM_SECRET_KEY;
use super::events::{self, SignedEvent};
use super::harness::Stats;
use super::shop::Shop;

const ORDERS: usize = 100;
const PAUSE: Duration = Duration::from_millis(10);
/// Waited for at most; orders not paid by then count as this late.
const GIVE_UP: Duration = Duration::from_secs(600);

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

/// The ids among `ids` whose order is paid.
async fn paid_among(pool: &AnyPool, ids: &[String]) -> Vec<String> {
    let sql = format!(
        "SELECT id FROM orders WHERE status = 'paid' AND id IN ({})",
        orderpay::store::placeholders(1, ids.len())
    );
    let mut query = sqlx::query_as::<_, (String,)>(&sql);
    for id in ids {
        query = query.bind(id);
    }
    query
        .fetch_all(pool)
        .await
        .expect("paid orders")
        .into_iter()
        .map(|(id,)| id)
        .collect()
}

/// Delivers the events and returns how long each order took to read paid.
pub async fn measure(pool: &AnyPool, base: &str, pending: Vec<Pending>) -> Stats {
    let total = pending.len();
    let sent: Mutex<HashMap<String, Instant>> = Mutex::new(HashMap::new());
    let started = Instant::now();
    let deliver = async {
        let http = reqwest::Client::new();
        let url = format!("{base}/api/v1/webhooks/stripe");
        for Pending { order_id, event } in &pending {
            rocket::tokio::time::sleep(PAUSE).await;
            let at = Instant::now();
            let status = events::deliver(&http, &url, event).await;
            assert_eq!(status, 200, "payment_intent.succeeded not acknowledged");
            sent.lock().unwrap().insert(order_id.clone(), at);
        }
    };
    let poll = async {
        let mut latencies = Vec::with_capacity(total);
        while latencies.len() < total && started.elapsed() < GIVE_UP {
            rocket::tokio::time::sleep(Duration::from_millis(5)).await;
            let waiting: Vec<String> = sent.lock().unwrap().keys().cloned().collect();
            if waiting.is_empty() {
                continue;
            }
            let now = Instant::now();
            for id in paid_among(pool, &waiting).await {
                if let Some(at) = sent.lock().unwrap().remove(&id) {
                    latencies.push(now - at);
                }
            }
        }
        latencies.resize(total, GIVE_UP);
        latencies
    };
    let ((), latencies) = join(deliver, poll).await;
    Stats::from(latencies, started.elapsed())
}

/// Events stored but not yet applied (no `processed_at`).
pub async fn unapplied(pool: &AnyPool) -> i64 {
    let (count,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM webhook_events WHERE processed_at IS NULL")
            .fetch_one(pool)
            .await
            .expect("unapplied events");
    count
}

/// Waits until every stored event is applied (polling four times a second,
/// so the count itself costs little), at most five minutes; returns how
/// long it waited and how many were still unapplied then.
pub async fn drain(pool: &AnyPool) -> (Duration, i64) {
    let started = Instant::now();
    loop {
        let left = unapplied(pool).await;
        if left == 0 || started.elapsed() >= DRAIN_GIVE_UP {
            return (started.elapsed(), left);
        }
        rocket::tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// How long `drain` waits at most.
const DRAIN_GIVE_UP: Duration = Duration::from_secs(300);

/// "all applied 12.3 s later (1,000/s)", or what was left when `drain` gave up.
pub fn drained(backlog: i64, (waited, left): (Duration, i64)) -> String {
    let rate = (backlog - left) as f64 / waited.as_secs_f64().max(0.001);
    if left == 0 {
        format!(
            "all applied {:.1} s later ({rate:.0}/s)",
            waited.as_secs_f64()
        )
    } else {
        format!(
            "{left} still unapplied {:.0} s later ({rate:.0}/s)",
            waited.as_secs_f64()
        )
    }
}
