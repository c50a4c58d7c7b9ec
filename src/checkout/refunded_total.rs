//! The order's refunded total follows Stripe's: the charge that paid it,
//! re-read from Stripe (never an event's snapshot), so duplicates and any
//! order of arrival end in the same total. Stripe counts a refund in the
//! charge's `amount_refunded` as soon as it is created, pending or not, and
//! takes it out again if it fails: the order's total rises and falls with it.

use sqlx::Connection;

use crate::checkout::{Error, Result};
use crate::db::DbPool;
use crate::domain::{RefundStatus, Source};
use crate::store::{self, refunds};
use crate::stripe::gateway::StripeGateway;
use crate::stripe::types::Refund;
use crate::stripe::StripeError;

/// Stripe's refunded total (minor units) on `charge_id`, when it is the
/// charge of `payment_intent_id`; `None` for a charge Stripe does not know
/// or that belongs to another PaymentIntent.
pub async fn of_charge(
    gateway: &StripeGateway,
    charge_id: &str,
    payment_intent_id: &str,
) -> Result<Option<i64>> {
    let charge = match gateway.client.retrieve_charge(charge_id).await {
        Ok(charge) => charge,
        Err(StripeError::InvalidRequest { status: 404, .. }) => return Ok(None),
        Err(error) => return Err(Error::stripe(error)),
    };
    Ok(
        (charge.payment_intent.as_deref() == Some(payment_intent_id))
            .then_some(charge.amount_refunded),
    )
}

/// What Stripe said about one of orderpay's refund rows.
pub struct RowAnswer<'a> {
    pub row_id: &'a str,
    pub refund: &'a Refund,
}

/// The charge that paid the order, to re-read.
pub struct PayingCharge<'a> {
    pub charge_id: &'a str,
    pub payment_intent_id: &'a str,
}

/// Records, in one transaction under the order's lock, Stripe's answer for
/// a refund row (if any) and the paying charge's refunded total, read from
/// Stripe while the lock is held: two refunds or events of one order then
/// read and write one after the other, so a slower handler can never write
/// an older total over a newer one, and a refund row and the total it
/// changes are seen together. On PostgreSQL the lock is the order's row,
/// taken before the read; on SQLite it is the order's lock in the process,
/// and the one writer is taken only after the read (`DbPool::order_lock_in_process`).
/// If the charge cannot be read, nothing is recorded (the caller answers
/// 503; a retry, a redelivery or the sweep comes back). Returns whether the
/// order's total changed.
pub async fn record(
    db: &DbPool,
    gateway: &StripeGateway,
    order_id: &str,
    answer: Option<RowAnswer<'_>>,
    charge: Option<PayingCharge<'_>>,
    source: &Source,
) -> Result<bool> {
    let read_total = || async {
        match &charge {
            Some(c) => of_charge(gateway, c.charge_id, c.payment_intent_id).await,
            None => Ok(None),
        }
    };
    // Held until the commit below, on SQLite.
    let in_process = db.order_lock_in_process(order_id).await;
    let read_first = if in_process.is_some() {
        Some(read_total().await?)
    } else {
        None
    };
    let mut conn = db.writer().acquire().await?;
    let mut tx = conn.begin().await?;
    store::orders::lock(&mut tx, order_id).await?;
    let total = match read_first {
        Some(total) => total,
        None => read_total().await?,
    };
    if let Some(RowAnswer { row_id, refund }) = answer {
        // A status Stripe adds later keeps the row pending (its amount stays
        // reserved): the sweep reads it again by the id recorded here.
        let status = RefundStatus::from_stripe(refund.status.as_deref(), RefundStatus::Pending)
            .unwrap_or_else(|| {
                tracing::warn!(refund = %refund.id, status = ?refund.status, "unknown refund status; kept pending");
                RefundStatus::Pending
            });
        refunds::settle(
            &mut tx,
            row_id,
            status,
            Some(&refund.id),
            refund.failure_reason.as_deref(),
        )
        .await?;
    }
    let changed = match total {
        Some(total) => store::orders::set_refunded(&mut tx, order_id, total, source).await?,
        None => false,
    };
    tx.commit().await?;
    drop(in_process);
    Ok(changed)
}
