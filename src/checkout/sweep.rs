//! Reconciliation: the safety net under the webhook and the callback. If both
//! are lost (a misconfigured endpoint, an outage longer than Stripe's retries,
//! a payment system that never calls), an order paid at Stripe would stay
//! unpaid here. The sweep asks Stripe about every PaymentIntent of a
//! still-payable order and applies the answer through the same settle path,
//! so it can only do what a late webhook would have done.

use rocket::serde::Serialize;
use schemars::JsonSchema;

use crate::checkout::{refund, settle};
use crate::db::{timestamp_text, DbPool};
use crate::error::ApiResult;
use crate::store;
use crate::stripe::gateway::StripeGateway;

/// History source of the transitions a sweep makes.
pub const SOURCE: &str = "reconcile";

/// What one sweep found.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct SweepReport {
    /// PaymentIntents asked about.
    pub checked: u32,
    /// Orders this sweep marked paid.
    pub paid: u32,
    /// Orders moved to another status (processing, payment_failed, canceled).
    pub changed: u32,
    /// PaymentIntents that do not match their order (recorded once each).
    pub mismatched: u32,
    /// PaymentIntents or refunds Stripe could not be asked about; the next
    /// sweep tries again.
    pub failed: u32,
    /// Pending refunds (Stripe's answer was lost) sent again and settled.
    pub refunds_settled: u32,
}

/// How the sweep treats pending refunds: only those older than `min_age`
/// (their own request may still be waiting for Stripe), and only within
/// Stripe's 24-hour Idempotency-Key lifetime, since re-sending after Stripe
/// forgot the key could refund twice. Older ones are left to an operator.
#[derive(Debug, Clone, Copy)]
pub struct RefundWindow {
    pub min_age: chrono::Duration,
}

const KEY_LIFETIME_HOURS: i64 = 23;

/// Checks up to `limit` PaymentIntents, least recently checked first. One
/// failure (Stripe down, a database hiccup) does not stop the others.
pub async fn sweep(
    db: &DbPool,
    gateway: &StripeGateway,
    limit: i64,
    refunds: RefundWindow,
) -> ApiResult<SweepReport> {
    let mut report = SweepReport::default();
    sweep_payments(db, gateway, limit, &mut report).await?;
    sweep_refunds(db, gateway, limit, refunds, &mut report).await?;
    Ok(report)
}

async fn sweep_refunds(
    db: &DbPool,
    gateway: &StripeGateway,
    limit: i64,
    window: RefundWindow,
    report: &mut SweepReport,
) -> ApiResult<()> {
    let now = chrono::Utc::now();
    let mut conn = db.acquire().await?;
    let stale = store::refunds::stale_pending(
        &mut conn,
        &timestamp_text(now - chrono::Duration::hours(KEY_LIFETIME_HOURS)),
        &timestamp_text(now - window.min_age),
        limit,
    )
    .await?;
    drop(conn);
    for row in stale {
        let id = row.id.clone();
        match refund::send(db, gateway, row).await {
            Ok(settled) if settled.status != store::refunds::PENDING => report.refunds_settled += 1,
            Ok(_) => {}
            Err(error) => {
                tracing::warn!(?error, refund = %id, "reconcile: pending refund not settled");
                report.failed += 1;
            }
        }
    }
    Ok(())
}

async fn sweep_payments(
    db: &DbPool,
    gateway: &StripeGateway,
    limit: i64,
    report: &mut SweepReport,
) -> ApiResult<()> {
    let mut conn = db.acquire().await?;
    let attempts = store::payments::unsettled(&mut conn, limit).await?;
    drop(conn);
    for attempt in attempts {
        let pi_id = attempt.payment_intent_id.as_deref().unwrap_or_default();
        report.checked += 1;
        // Marked before asking, whatever the answer: an attempt Stripe keeps
        // failing on goes to the back of the line instead of filling every batch.
        let mut conn = db.acquire().await?;
        store::payments::mark_checked(&mut conn, &attempt.id).await?;
        drop(conn);
        let outcome = match gateway.client.retrieve_payment_intent(pi_id).await {
            Ok(pi) => apply(db, &attempt, &pi).await,
            Err(error) => {
                tracing::warn!(%error, payment_intent = pi_id, "reconcile: Stripe did not answer");
                report.failed += 1;
                continue;
            }
        };
        match outcome {
            Ok(outcome) => report.count(&outcome),
            Err(error) => {
                tracing::warn!(?error, payment_intent = pi_id, "reconcile: not applied");
                report.failed += 1;
            }
        }
    }
    Ok(())
}

async fn apply(
    db: &DbPool,
    attempt: &store::payments::AttemptRow,
    pi: &crate::stripe::types::PaymentIntent,
) -> ApiResult<String> {
    let mut conn = db.acquire().await?;
    let Some(order) = store::orders::get(&mut conn, &attempt.order_id).await? else {
        return Ok("no_order".into());
    };
    let latest = store::payments::latest(&mut conn, &order.id)
        .await?
        .map(|a| a.attempt);
    let is_latest = latest == Some(attempt.attempt);
    settle::reconcile(&mut conn, &order, pi, is_latest, SOURCE).await
}

impl SweepReport {
    fn count(&mut self, outcome: &str) {
        match outcome {
            "paid" => self.paid += 1,
            "processing" | "payment_failed" | "canceled" => self.changed += 1,
            o if o.starts_with("mismatch:") => self.mismatched += 1,
            _ => {}
        }
    }
}

/// Runs a sweep every `interval` until the server shuts down. The first runs
/// one interval after launch, so a starting server does not call Stripe at once.
pub async fn run_periodically(
    db: DbPool,
    gateway: StripeGateway,
    interval: std::time::Duration,
    batch: i64,
    refunds: RefundWindow,
    mut shutdown: rocket::Shutdown,
) {
    loop {
        rocket::tokio::select! {
            _ = &mut shutdown => return,
            _ = rocket::tokio::time::sleep(interval) => {}
        }
        match sweep(&db, &gateway, batch, refunds).await {
            Ok(report) if report != SweepReport::default() => {
                tracing::info!(?report, "reconcile sweep");
            }
            Ok(_) => {}
            Err(error) => tracing::warn!(?error, "reconcile sweep failed"),
        }
    }
}
