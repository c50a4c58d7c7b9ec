//! Canceling an unpaid order so that none of its PaymentIntents can take
//! money once the cancel has answered.
//!
//! Three steps: every PaymentIntent orderpay knows of is canceled at Stripe
//! while the order is untouched (one found processing or paid refuses the
//! cancel; a Stripe outage changes nothing); then the order moves to canceled
//! under its lock; then its attempts are collected again and whatever was
//! linked in between is canceled too. A payment-intent request racing it
//! links its new PaymentIntent under the same lock after talking to Stripe:
//! either it linked first (and the last step cancels it) or it sees the order
//! canceled (and cancels its own PaymentIntent). Money a customer manages to
//! pay in between is refunded automatically (`stray`).

use crate::checkout::{settle, stray, Error, Result};
use crate::db::DbPool;
use crate::domain::{OrderStatus, Source};
use crate::store::{self, orders::OrderRow};
use crate::stripe::gateway::StripeGateway;
use crate::stripe::types::PaymentIntentStatus;

#[tracing::instrument(skip_all, fields(order_id = %order.id, source = %source))]
pub async fn cancel(
    db: &DbPool,
    gateway: &StripeGateway,
    order: &OrderRow,
    source: &Source,
) -> Result<()> {
    match order.status {
        // Canceled already: finish what an earlier cancel may have left
        // (Stripe unreachable halfway), which is idempotent.
        OrderStatus::Canceled => return cancel_payment_intents(db, gateway, order, source).await,
        status if status.is_payable() => {}
        _ => return Err(Error::not_payable(order)),
    }
    refuse_if_paid_or_in_flight(db, gateway, order, source, Check::Read).await?;
    // Canceled at Stripe before the order changes: one that turns out
    // processing or paid meanwhile still refuses the cancel, with the order
    // as it was.
    refuse_if_paid_or_in_flight(db, gateway, order, source, Check::Cancel).await?;
    let mut conn = db.writer().acquire().await?;
    if !store::orders::transition(&mut conn, &order.id, OrderStatus::Canceled, source).await? {
        let current = store::orders::get(&mut conn, &order.id)
            .await?
            .unwrap_or_else(|| order.clone());
        if current.status != OrderStatus::Canceled {
            return Err(Error::not_payable(&current));
        }
    }
    drop(conn);
    cancel_payment_intents(db, gateway, order, source).await
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Check {
    /// Only read each PaymentIntent: nothing is canceled if one refuses.
    Read,
    /// Cancel each at Stripe, reading back the ones Stripe will not cancel.
    Cancel,
}

/// Before the order is canceled: a PaymentIntent that already paid it makes
/// the cancel a 409 (and the order paid), one still `processing` cannot be
/// canceled at Stripe and may yet pay, so the cancel waits for it (409).
async fn refuse_if_paid_or_in_flight(
    db: &DbPool,
    gateway: &StripeGateway,
    order: &OrderRow,
    source: &Source,
    check: Check,
) -> Result<()> {
    let mut conn = db.acquire().await?;
    let attempts = store::payments::for_order(&mut conn, &order.id).await?;
    drop(conn);
    for attempt in attempts {
        let Some(pi_id) = attempt.payment_intent_id else {
            continue;
        };
        if attempt.status == Some(PaymentIntentStatus::Canceled) {
            continue;
        }
        let pi = match check {
            Check::Read => gateway.client.retrieve_payment_intent(&pi_id).await,
            Check::Cancel => stray::cancel_at_stripe(gateway, &pi_id).await,
        }
        .map_err(Error::stripe)?;
        let mut conn = db.writer().acquire().await?;
        settle::observe(&mut conn, &pi).await?;
        match pi.status {
            PaymentIntentStatus::Succeeded => {
                if let Ok(true) = settle::mark_paid(&mut conn, order, &pi, source)
                    .await?
                    .outcome
                {
                    let order = store::orders::get(&mut conn, &order.id)
                        .await?
                        .unwrap_or_else(|| order.clone());
                    return Err(Error::not_payable(&order));
                }
            }
            PaymentIntentStatus::Processing => {
                return Err(Error::CancelDuringPayment {
                    payment_intent_id: pi_id,
                });
            }
            _ => {}
        }
    }
    Ok(())
}

/// Cancels at Stripe every PaymentIntent of the (canceled) order that could
/// still take money, and refunds any that took it. Collected after the
/// order's status changed, so a PaymentIntent linked before that is here.
async fn cancel_payment_intents(
    db: &DbPool,
    gateway: &StripeGateway,
    order: &OrderRow,
    source: &Source,
) -> Result<()> {
    let mut conn = db.acquire().await?;
    let attempts = store::payments::for_order(&mut conn, &order.id).await?;
    let order = store::orders::get(&mut conn, &order.id)
        .await?
        .unwrap_or_else(|| order.clone());
    drop(conn);
    for attempt in attempts {
        let Some(pi_id) = attempt.payment_intent_id else {
            continue;
        };
        if attempt.status == Some(PaymentIntentStatus::Canceled) {
            continue;
        }
        let pi = stray::cancel_at_stripe(gateway, &pi_id)
            .await
            .map_err(Error::stripe)?;
        stray::apply(db, gateway, &order, &pi, false, source).await?;
    }
    Ok(())
}
