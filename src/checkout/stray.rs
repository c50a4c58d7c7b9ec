//! PaymentIntents that must not pay their order, and money that arrived where
//! it cannot go: an attempt replaced by a newer one, the PaymentIntents of a
//! canceled order, a second payment of an order already paid, a payment whose
//! amount was changed at Stripe. Whichever path finds one (webhook, callback,
//! sweep, a new attempt, cancel) hands it here: a PaymentIntent that could
//! still take money is canceled at Stripe; one that already took it is
//! refunded (unless `stripe.auto_refund` is off), and the refund is recorded
//! with its mismatch and noted in the order's history. Never kept silently.

use crate::checkout::{self, Error};
use crate::db::{new_id, DbPool};
use crate::domain::{MismatchReason, OrderStatus, RefundStatus, Source, StrayRefundStatus};
use crate::store::{self, orders::OrderRow};
use crate::stripe::api::RefundParams;
use crate::stripe::gateway::StripeGateway;
use crate::stripe::types::{PaymentIntent, PaymentIntentStatus};
use crate::stripe::{IdempotencyKey, StripeError};

/// What `contain` did about a PaymentIntent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Contained {
    /// It may pay (or paid) its order: nothing to do.
    Nothing,
    /// It could still have taken money and was canceled at Stripe.
    Canceled,
    /// Its money went back (or is on its way back: a pending refund).
    Refunded,
    /// Its money is recorded for an operator (automatic refunds are off), or
    /// the refund failed for now and the sweep tries again.
    Left,
    /// It is `processing` at Stripe: nothing can be done until it settles;
    /// the sweep and its webhook come back to it.
    InFlight,
}

impl Contained {
    pub fn as_str(self) -> &'static str {
        match self {
            Contained::Nothing => "nothing",
            Contained::Canceled => "stray_canceled",
            Contained::Refunded => "stray_refunded",
            Contained::Left => "stray_left",
            Contained::InFlight => "stray_in_flight",
        }
    }
}

fn can_take_money(status: PaymentIntentStatus) -> bool {
    matches!(
        status,
        PaymentIntentStatus::RequiresPaymentMethod
            | PaymentIntentStatus::RequiresConfirmation
            | PaymentIntentStatus::RequiresAction
            | PaymentIntentStatus::RequiresCapture
    )
}

fn payable(order: &OrderRow) -> bool {
    order.status.is_payable()
}

fn matches_order(pi: &PaymentIntent, order: &OrderRow) -> bool {
    pi.amount == order.amount && pi.currency == order.currency.code()
}

/// Why money taken by `pi` cannot stay: `None` when it pays (or can still
/// pay) the order.
fn stray_money_reason(order: &OrderRow, pi: &PaymentIntent) -> Option<MismatchReason> {
    if order.paid_payment_intent_id.as_deref() == Some(pi.id.as_str()) {
        return None;
    }
    if pi.currency != order.currency.code() {
        return Some(MismatchReason::CurrencyMismatch);
    }
    if pi.amount_received != order.amount {
        return Some(MismatchReason::AmountMismatch);
    }
    if payable(order) {
        // It can pay the order: settling it is the caller's job, not a refund.
        return None;
    }
    if order.status == OrderStatus::Canceled {
        Some(MismatchReason::OrderNotPayable)
    } else {
        Some(MismatchReason::DuplicatePayment)
    }
}

/// Makes sure `pi` takes no money it cannot keep. Call it after the order
/// has been brought in line with `pi` (settle), with `is_latest` telling
/// whether `pi` is the order's current attempt, and `settled` the order row
/// settle returned (`Settled::order`, `Reconciled::order`) if it read or
/// wrote one: the order as of that statement, which a read here would
/// return again. `None` reads it.
#[tracing::instrument(skip_all, fields(order_id = %order_id, payment_intent_id = %pi.id, is_latest = is_latest, source = %source))]
pub async fn contain(
    db: &DbPool,
    gateway: &StripeGateway,
    order_id: &str,
    settled: Option<OrderRow>,
    pi: &PaymentIntent,
    is_latest: bool,
    source: &Source,
) -> checkout::Result<Contained> {
    if pi.metadata.get("order_id").map(String::as_str) != Some(order_id) {
        // Not made for this order (or its metadata was changed at Stripe):
        // recorded as a mismatch by settle, never touched.
        return Ok(Contained::Nothing);
    }
    let order = match settled.filter(|order| order.id == order_id) {
        Some(order) => order,
        None => {
            let mut conn = db.acquire().await?;
            let Some(order) = store::orders::get(&mut conn, order_id).await? else {
                return Ok(Contained::Nothing);
            };
            order
        }
    };
    match pi.status {
        PaymentIntentStatus::Succeeded => match stray_money_reason(&order, pi) {
            Some(reason) => refund(db, gateway, &order, pi, reason, source).await,
            None => Ok(Contained::Nothing),
        },
        status if can_take_money(status) => {
            if is_latest && payable(&order) && matches_order(pi, &order) {
                return Ok(Contained::Nothing);
            }
            if is_latest && payable(&order) {
                // The order's current attempt can no longer pay it (its amount
                // was changed at Stripe). The next attempt is claimed first,
                // so this one's cancellation is not the latest attempt's (which
                // would cancel the order).
                let mut conn = db.writer().acquire().await?;
                if let Some(attempt) = store::payments::by_payment_intent(&mut conn, &pi.id).await?
                {
                    store::payments::claim(
                        &mut conn,
                        order_id,
                        attempt.attempt + 1,
                        order.amount,
                        order.currency,
                    )
                    .await?;
                }
            }
            let now = cancel_at_stripe(gateway, &pi.id)
                .await
                .map_err(Error::stripe)?;
            let mut conn = db.writer().acquire().await?;
            crate::checkout::settle::observe(&mut conn, &now).await?;
            drop(conn);
            match now.status {
                PaymentIntentStatus::Canceled => Ok(Contained::Canceled),
                // It took the money while we were canceling it.
                PaymentIntentStatus::Succeeded => {
                    let mut conn = db.writer().acquire().await?;
                    let reconciled = crate::checkout::settle::reconcile(
                        &mut conn, &order, &now, is_latest, source,
                    )
                    .await?;
                    let order = match reconciled.order {
                        Some(current) => current,
                        None => store::orders::get(&mut conn, order_id)
                            .await?
                            .unwrap_or(order),
                    };
                    drop(conn);
                    match stray_money_reason(&order, &now) {
                        Some(reason) => refund(db, gateway, &order, &now, reason, source).await,
                        None => Ok(Contained::Nothing),
                    }
                }
                _ => Ok(Contained::InFlight),
            }
        }
        PaymentIntentStatus::Processing if !is_latest || !payable(&order) => {
            Ok(Contained::InFlight)
        }
        _ => Ok(Contained::Nothing),
    }
}

/// Cancels a PaymentIntent at Stripe and returns it as Stripe has it now. A
/// PaymentIntent Stripe will not cancel (already canceled, succeeded,
/// processing) is read back instead: the caller decides by its status.
/// Each call sends a fresh Idempotency-Key: canceling is idempotent at
/// Stripe anyway, and a key whose first answer was a 500 would replay it.
pub async fn cancel_at_stripe(
    gateway: &StripeGateway,
    pi_id: &str,
) -> Result<PaymentIntent, StripeError> {
    let key = IdempotencyKey::new(format!("orderpay:cancel:{pi_id}:{}", new_id()))?;
    match gateway.client.cancel_payment_intent(pi_id, &key).await {
        Ok(pi) => Ok(pi),
        Err(StripeError::InvalidRequest { .. }) => {
            gateway.client.retrieve_payment_intent(pi_id).await
        }
        Err(error) => Err(error),
    }
}

/// Gives back money `pi` took for `order` that cannot stay, recording the
/// mismatch (once per order, PaymentIntent and reason) and the refund.
async fn refund(
    db: &DbPool,
    gateway: &StripeGateway,
    order: &OrderRow,
    pi: &PaymentIntent,
    reason: MismatchReason,
    source: &Source,
) -> checkout::Result<Contained> {
    let mut conn = db.writer().acquire().await?;
    let detail = format!(
        "PaymentIntent {} took {} {} for order {} ({}), which it cannot pay",
        pi.id, pi.amount_received, pi.currency, order.number, order.status
    );
    store::payments::record_mismatch(&mut conn, &order.id, &pi.id, source, reason, &detail).await?;
    if !gateway.auto_refund {
        store::payments::record_stray_refund(
            &mut conn,
            &order.id,
            &pi.id,
            StrayRefundStatus::NotRefunded,
            None,
        )
        .await?;
        return Ok(Contained::Left);
    }
    // Every redelivered event and every sweep that sees this PaymentIntent
    // comes here: once its refund is made (or pending at Stripe, which the
    // sweep reads by id), Stripe is not asked again.
    if store::payments::stray_refund_made(&mut conn, &order.id, &pi.id).await? {
        return Ok(Contained::Refunded);
    }
    drop(conn);
    let key = IdempotencyKey::new(format!("orderpay:stray-refund:{}:{}", pi.id, new_id()))
        .map_err(Error::internal)?;
    let stripe_reason = if reason == MismatchReason::DuplicatePayment {
        "duplicate"
    } else {
        "requested_by_customer"
    };
    // No amount: Stripe refunds whatever is left, so a second try after a
    // lost answer cannot refund twice (Stripe refuses: already refunded).
    let params = RefundParams {
        payment_intent: &pi.id,
        amount: None,
        reason: Some(stripe_reason),
        metadata: vec![
            ("order_id", order.id.as_str()),
            ("orderpay_stray", reason.as_str()),
        ],
    };
    let (status, refund_id) = match gateway.client.create_refund(&params, &key).await {
        Ok(refund) => {
            match RefundStatus::from_stripe(refund.status.as_deref(), RefundStatus::Succeeded) {
                Some(RefundStatus::Succeeded) => (StrayRefundStatus::Refunded, Some(refund.id)),
                Some(RefundStatus::Pending | RefundStatus::RequiresAction) => {
                    (StrayRefundStatus::Pending, Some(refund.id))
                }
                _ => {
                    tracing::warn!(payment_intent = %pi.id, status = ?refund.status, "automatic refund not made");
                    return Ok(Contained::Left);
                }
            }
        }
        Err(StripeError::InvalidRequest {
            code: Some(code), ..
        }) if code == "charge_already_refunded" => (StrayRefundStatus::Refunded, None),
        Err(error) => {
            tracing::warn!(payment_intent = %pi.id, %error, "automatic refund failed; the sweep retries");
            return Ok(Contained::Left);
        }
    };
    let mut conn = db.writer().acquire().await?;
    record(&mut conn, &order.id, &pi.id, status, refund_id.as_deref()).await?;
    Ok(Contained::Refunded)
}

/// Records a stray refund's status; the first time it is made, the order's
/// history notes it.
pub async fn record(
    conn: &mut store::Conn,
    order_id: &str,
    pi_id: &str,
    status: StrayRefundStatus,
    refund_id: Option<&str>,
) -> checkout::Result<()> {
    let first =
        store::payments::record_stray_refund(conn, order_id, pi_id, status, refund_id).await?;
    if first && status != StrayRefundStatus::NotRefunded {
        store::orders::note(conn, order_id, &Source::AutoRefund(pi_id.to_string())).await?;
    }
    Ok(())
}

/// The PaymentIntent an attempt whose create call had no known outcome may
/// have made, found in the customer's list at Stripe by the metadata every
/// orderpay PaymentIntent carries. Found, it is linked to its attempt.
pub async fn find_lost(
    db: &DbPool,
    gateway: &StripeGateway,
    customer: &str,
    order_id: &str,
    attempt: i64,
    created_at: &str,
) -> checkout::Result<Option<PaymentIntent>> {
    let since = chrono::DateTime::parse_from_rfc3339(created_at)
        .map(|t| t.timestamp())
        .unwrap_or(0)
        // Clocks differ: look a little further back than the attempt.
        - 600;
    let wanted = attempt.to_string();
    let mut after: Option<String> = None;
    // Bounded: a customer with thousands of PaymentIntents in ten minutes is
    // not a shop's customer; the sweep looks again later.
    for _ in 0..10 {
        let page = gateway
            .client
            .list_payment_intents(customer, since, after.as_deref())
            .await
            .map_err(Error::stripe)?;
        let found = page.data.iter().find(|pi| {
            pi.metadata.get("order_id").map(String::as_str) == Some(order_id)
                && pi.metadata.get("attempt") == Some(&wanted)
        });
        if let Some(pi) = found {
            let mut conn = db.writer().acquire().await?;
            store::payments::set_payment_intent(&mut conn, order_id, attempt, &pi.id).await?;
            crate::checkout::settle::observe(&mut conn, pi).await?;
            return Ok(Some(pi.clone()));
        }
        if !page.has_more {
            return Ok(None);
        }
        after = page.data.last().map(|pi| pi.id.clone());
    }
    Ok(None)
}

/// What `apply` did: settle's outcome and what containing `pi` took.
pub struct Applied {
    pub outcome: String,
    pub contained: Contained,
}

impl Applied {
    /// For the webhook inbox and the sweep's report: `paid`,
    /// `mismatch:order_not_payable:stray_refunded`, ...
    pub fn describe(self) -> String {
        match self.contained {
            Contained::Nothing => self.outcome,
            contained => format!("{}:{}", self.outcome, contained.as_str()),
        }
    }
}

/// Brings the order in line with `pi` (settle), then contains `pi`: the
/// whole answer to "what does this PaymentIntent mean for its order", shared
/// by the webhook, the sweep, cancel and new attempts.
#[tracing::instrument(skip_all, fields(order_id = %order.id, payment_intent_id = %pi.id, is_latest = is_latest, source = %source))]
pub async fn apply(
    db: &DbPool,
    gateway: &StripeGateway,
    order: &OrderRow,
    pi: &PaymentIntent,
    is_latest: bool,
    source: &Source,
) -> checkout::Result<Applied> {
    // Writes go through the writer (`DbPool::begin`): on SQLite they queue
    // in the process instead of sleeping in `busy_timeout` beside it.
    let mut conn = db.writer().acquire().await?;
    let reconciled =
        crate::checkout::settle::reconcile(&mut conn, order, pi, is_latest, source).await?;
    drop(conn);
    let contained = contain(
        db,
        gateway,
        &order.id,
        reconciled.order,
        pi,
        is_latest,
        source,
    )
    .await?;
    Ok(Applied {
        outcome: reconciled.outcome,
        contained,
    })
}
