//! The reconciliation sweep's main query at a million orders: the one join
//! of every attempt with its order that it was, against what it is now
//! (`store::payments::unsettled_query`: two partial indexes, each read in
//! the visiting order), with their plans.

use std::time::{Duration, Instant};

use sqlx::{AnyConnection, Executor};

use super::plans;

const BATCH: i64 = 100;

/// What `store::payments::unsettled` ran before the listing indexes.
const JOIN_OF_EVERYTHING: &str =
    "SELECT a.id FROM payment_attempts a JOIN orders o ON o.id = a.order_id \
     WHERE a.payment_intent_id IS NOT NULL \
       AND (o.status IN ('pending_payment', 'processing', 'payment_failed') \
            OR COALESCE(a.status, '') NOT IN ('succeeded', 'canceled')) \
     ORDER BY COALESCE(a.checked_at, ''), a.created_at, a.id LIMIT 100";

/// Median and slowest of five runs.
async fn time(conn: &mut AnyConnection, sql: &str) -> (Duration, Duration) {
    let mut runs = Vec::new();
    for _ in 0..5 {
        let started = Instant::now();
        conn.fetch_all(sql).await.expect("sweep query");
        runs.push(started.elapsed());
    }
    runs.sort();
    (runs[2], runs[4])
}

pub async fn compare(conn: &mut AnyConnection, postgres: bool) {
    let now = orderpay::store::payments::unsettled_query().replace("$1", &BATCH.to_string());
    for (name, sql) in [
        (
            "sweep: one join of all attempts (before)",
            JOIN_OF_EVERYTHING,
        ),
        ("sweep: unsettled attempts + payable orders", now.as_str()),
    ] {
        let (median, slowest) = time(conn, sql).await;
        println!(
            "  {name:<42} {:>7.2} ms median, {:>7.2} ms slowest of 5 (batch {BATCH})",
            median.as_secs_f64() * 1e3,
            slowest.as_secs_f64() * 1e3
        );
        plans::print(&plans::explain(conn, postgres, sql, &[]).await);
    }
}
