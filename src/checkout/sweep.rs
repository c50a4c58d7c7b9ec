//! Reconciliation: the safety net under the webhook and the callback. If both
//! are lost (a misconfigured endpoint, an outage longer than Stripe's retries,
//! a payment system that never calls), an order paid at Stripe would stay
//! unpaid here. The sweep asks Stripe about every PaymentIntent of a
//! still-payable order and applies the answer through the same settle path,
//! so it can only do what a late webhook would have done.

use crate::checkout::{refund, stray, Error, Result};
use crate::db::{timestamp_text, DbPool};
use crate::domain::{RefundStatus, Source, StrayRefundStatus};
use crate::store;
use crate::stripe::gateway::StripeGateway;

/// History source of the transitions a sweep makes.
pub const SOURCE: Source = Source::Reconcile;

/// What one sweep found.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
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

impl RefundWindow {
    /// From the `reconcile_refund_age_secs` setting. Capped at a day: past
    /// that the key-lifetime rule would leave nothing for the sweep to re-send.
    pub fn after_secs(secs: u64) -> Self {
        let secs = i64::try_from(secs).unwrap_or(i64::MAX / 1000);
        RefundWindow {
            min_age: chrono::Duration::seconds(secs.min(24 * 60 * 60)),
        }
    }
}

const KEY_LIFETIME_HOURS: i64 = 23;

/// How far back attempts with an unknown outcome are looked for at Stripe.
/// A PaymentIntent nobody learned of cannot have been paid by the customer
/// (its client_secret never left Stripe), so after two days it is left.
const LOST_SEARCH_HOURS: i64 = 48;

/// Checks up to `limit` PaymentIntents, least recently checked first. One
/// failure (Stripe down, a database hiccup) does not stop the others.
#[tracing::instrument(skip_all, fields(limit = limit))]
pub async fn sweep(
    db: &DbPool,
    gateway: &StripeGateway,
    limit: i64,
    refunds: RefundWindow,
) -> Result<SweepReport> {
    let mut report = SweepReport::default();
    sweep_payments(db, gateway, limit, &mut report).await?;
    sweep_lost_attempts(db, gateway, limit, &mut report).await?;
    sweep_stray_refunds(db, gateway, limit, &mut report).await?;
    sweep_refunds(db, gateway, limit, refunds, &mut report).await?;
    Ok(report)
}

async fn sweep_refunds(
    db: &DbPool,
    gateway: &StripeGateway,
    limit: i64,
    window: RefundWindow,
    report: &mut SweepReport,
) -> Result<()> {
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
            Ok(settled) if settled.status != RefundStatus::Pending => report.refunds_settled += 1,
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
) -> Result<()> {
    let mut conn = db.acquire().await?;
    let attempts = store::payments::unsettled(&mut conn, limit).await?;
    drop(conn);
    for attempt in attempts {
        let pi_id = attempt.payment_intent_id.as_deref().unwrap_or_default();
        report.checked += 1;
        // Marked before asking, whatever the answer: an attempt Stripe keeps
        // failing on goes to the back of the line instead of filling every batch.
        let mut conn = db.writer().acquire().await?;
        store::payments::mark_checked(&mut conn, &attempt.id).await?;
        drop(conn);
        let outcome = match gateway.client.retrieve_payment_intent(pi_id).await {
            Ok(pi) => apply(db, gateway, &attempt, &pi).await,
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
    gateway: &StripeGateway,
    attempt: &store::payments::AttemptRow,
    pi: &crate::stripe::types::PaymentIntent,
) -> Result<String> {
    let mut conn = db.acquire().await?;
    let Some(order) = store::orders::get(&mut conn, &attempt.order_id).await? else {
        return Ok("no_order".into());
    };
    let latest = store::payments::latest(&mut conn, &order.id)
        .await?
        .map(|a| a.attempt);
    drop(conn);
    let is_latest = latest == Some(attempt.attempt);
    Ok(stray::apply(db, gateway, &order, pi, is_latest, &SOURCE)
        .await?
        .describe())
}

/// Attempts whose create call had no known outcome: Stripe may have made a
/// PaymentIntent nobody was told about. Found (by the customer's list and
/// the attempt's metadata), it is linked and treated like any other: kept if
/// it is still the order's latest and payable, canceled or refunded if not.
async fn sweep_lost_attempts(
    db: &DbPool,
    gateway: &StripeGateway,
    limit: i64,
    report: &mut SweepReport,
) -> Result<()> {
    let since = timestamp_text(chrono::Utc::now() - chrono::Duration::hours(LOST_SEARCH_HOURS));
    let mut conn = db.acquire().await?;
    let lost = store::payments::lost(&mut conn, &since, limit).await?;
    drop(conn);
    for attempt in lost {
        let mut conn = db.writer().acquire().await?;
        store::payments::mark_checked(&mut conn, &attempt.id).await?;
        drop(conn);
        let found = stray::find_lost(
            db,
            gateway,
            &attempt.stripe_customer_id,
            &attempt.order_id,
            attempt.attempt,
            &attempt.created_at,
        )
        .await;
        let pi = match found {
            Ok(Some(pi)) => pi,
            Ok(None) => continue,
            Err(error) => {
                tracing::warn!(?error, attempt = %attempt.id, "reconcile: lost attempt not looked up");
                report.failed += 1;
                continue;
            }
        };
        report.checked += 1;
        let mut conn = db.acquire().await?;
        let row = store::payments::by_payment_intent(&mut conn, &pi.id).await?;
        drop(conn);
        let Some(row) = row else { continue };
        match apply(db, gateway, &row, &pi).await {
            Ok(outcome) => report.count(&outcome),
            Err(error) => {
                tracing::warn!(?error, payment_intent = %pi.id, "reconcile: not applied");
                report.failed += 1;
            }
        }
    }
    Ok(())
}

/// Money taken that cannot pay its order and is not yet refunded (Stripe
/// was down when it was found, or its refund is pending at Stripe).
async fn sweep_stray_refunds(
    db: &DbPool,
    gateway: &StripeGateway,
    limit: i64,
    report: &mut SweepReport,
) -> Result<()> {
    if !gateway.auto_refund {
        return Ok(());
    }
    let mut conn = db.acquire().await?;
    let unrefunded = store::payments::unrefunded(&mut conn, limit).await?;
    drop(conn);
    for row in unrefunded {
        if let (Some(StrayRefundStatus::Pending), Some(refund_id)) =
            (row.refund_status, row.stripe_refund_id.as_deref())
        {
            match settle_pending_stray(db, gateway, &row, refund_id).await {
                Ok(settled) => report.refunds_settled += u32::from(settled),
                Err(error) => {
                    tracing::warn!(
                        ?error,
                        refund = refund_id,
                        "reconcile: stray refund not read"
                    );
                    report.failed += 1;
                }
            }
            continue;
        }
        let outcome = match gateway
            .client
            .retrieve_payment_intent(&row.payment_intent_id)
            .await
        {
            Ok(pi) => apply_stray(db, gateway, &row, &pi).await,
            Err(error) => Err(Error::stripe(error)),
        };
        match outcome {
            Ok(true) => report.refunds_settled += 1,
            Ok(false) => {}
            Err(error) => {
                tracing::warn!(?error, payment_intent = %row.payment_intent_id, "reconcile: stray payment not refunded");
                report.failed += 1;
            }
        }
    }
    Ok(())
}

/// A stray payment's refund that Stripe answered `pending`: read until it
/// settles. A failed one is forgotten, so the next sweep refunds again.
async fn settle_pending_stray(
    db: &DbPool,
    gateway: &StripeGateway,
    row: &store::payments::UnrefundedMismatch,
    refund_id: &str,
) -> Result<bool> {
    let refund = gateway
        .client
        .retrieve_refund(refund_id)
        .await
        .map_err(Error::stripe)?;
    let mut conn = db.writer().acquire().await?;
    match refund.status.as_deref().and_then(|s| s.parse().ok()) {
        Some(RefundStatus::Succeeded) => {
            stray::record(
                &mut conn,
                &row.order_id,
                &row.payment_intent_id,
                StrayRefundStatus::Refunded,
                Some(refund_id),
            )
            .await?;
            Ok(true)
        }
        Some(RefundStatus::Failed | RefundStatus::Canceled) => {
            store::payments::forget_stray_refund(&mut conn, &row.order_id, &row.payment_intent_id)
                .await?;
            Ok(false)
        }
        _ => Ok(false),
    }
}

async fn apply_stray(
    db: &DbPool,
    gateway: &StripeGateway,
    row: &store::payments::UnrefundedMismatch,
    pi: &crate::stripe::types::PaymentIntent,
) -> Result<bool> {
    let mut conn = db.acquire().await?;
    let attempt = store::payments::by_payment_intent(&mut conn, &pi.id).await?;
    let latest = store::payments::latest(&mut conn, &row.order_id)
        .await?
        .map(|a| a.attempt);
    let Some(order) = store::orders::get(&mut conn, &row.order_id).await? else {
        return Ok(false);
    };
    drop(conn);
    let is_latest = attempt.is_some_and(|a| Some(a.attempt) == latest);
    let contained = stray::contain(db, gateway, &order.id, None, pi, is_latest, &SOURCE).await?;
    Ok(contained == stray::Contained::Refunded)
}

impl SweepReport {
    fn count(&mut self, outcome: &str) {
        match outcome.split(':').next().unwrap_or_default() {
            "paid" => self.paid += 1,
            "processing" | "payment_failed" | "canceled" => self.changed += 1,
            "mismatch" => self.mismatched += 1,
            _ => {}
        }
    }
}

/// Runs a sweep every `interval` until `shutdown` completes. The first runs
/// one interval after launch, so a starting server does not call Stripe at once.
pub async fn run_periodically(
    db: DbPool,
    gateway: StripeGateway,
    interval: std::time::Duration,
    batch: i64,
    refunds: RefundWindow,
    shutdown: impl std::future::Future<Output = ()>,
) {
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            _ = &mut shutdown => return,
            _ = tokio::time::sleep(interval) => {}
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
