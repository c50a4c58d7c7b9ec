//! The payment system's callback: "this order is paid". orderpay does not
//! take its word: it reads the PaymentIntent from Stripe and settles with
//! what Stripe says, like the webhook does (`webhook.rs`); both converge on
//! `settle::mark_paid`.

use crate::checkout::{settle, stray, Error, Result};
use crate::db::DbPool;
use crate::domain::Source;
use crate::store::{self, orders::OrderRow, payments::AttemptRow};
use crate::stripe::gateway::StripeGateway;

/// Settles `order` with the PaymentIntent the caller names (`wanted`), or
/// with its latest one. Money that cannot pay the order (a PaymentIntent that
/// is not the latest, or an order no longer payable) is contained by `stray`
/// before a mismatch is answered as a 409. Returns the order as settling
/// left it (paid by this PaymentIntent) when settling read or wrote it.
#[tracing::instrument(skip_all, fields(order_id = %order.id))]
pub async fn settle_callback(
    db: &DbPool,
    gateway: &StripeGateway,
    order: &OrderRow,
    wanted: Option<&str>,
) -> Result<Option<OrderRow>> {
    let mut conn = db.acquire().await?;
    let attempts = store::payments::for_order(&mut conn, &order.id).await?;
    drop(conn);
    let pi_id = chosen_attempt(&attempts, wanted)?;
    let pi = gateway
        .client
        .retrieve_payment_intent(&pi_id)
        .await
        .map_err(Error::stripe)?;
    // Writes go through the writer (`DbPool::begin`): on SQLite they queue
    // in the process instead of sleeping in `busy_timeout` beside it.
    let mut conn = db.writer().acquire().await?;
    let settled = settle::mark_paid(&mut conn, order, &pi, &Source::Callback).await?;
    drop(conn);
    let is_latest = attempts.last().and_then(|a| a.payment_intent_id.as_deref()) == Some(&pi.id);
    // `contain` changes nothing when `pi` paid the order (the only outcome
    // answered with the order), so the row settling returned stays current.
    stray::contain(
        db,
        gateway,
        &order.id,
        settled.order.clone(),
        &pi,
        is_latest,
        &Source::Callback,
    )
    .await?;
    match settled.outcome {
        Err(mismatch) => Err(Error::PaymentMismatch(mismatch)),
        Ok(_) => Ok(settled.order),
    }
}

/// The PaymentIntent the callback is about: the one named, which must be one
/// of the order's, or else the latest.
fn chosen_attempt(attempts: &[AttemptRow], wanted: Option<&str>) -> Result<String> {
    match wanted {
        Some(pi) => attempts
            .iter()
            .find_map(|a| a.payment_intent_id.clone().filter(|id| id == pi))
            .ok_or(Error::UnknownPaymentIntent),
        None => attempts
            .iter()
            .rev()
            .find_map(|a| a.payment_intent_id.clone())
            .ok_or(Error::NoPaymentIntent),
    }
}
