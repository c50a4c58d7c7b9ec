//! Bringing an order in line with its PaymentIntent. The callback, the
//! webhook and server-side confirmation all come through here, and every
//! change is a conditional transition, so however many of them arrive, in
//! whatever order, an order is marked paid once.

use sqlx::Connection;

use crate::checkout;
use crate::domain::{MismatchReason, OrderStatus, Source};
use crate::store::{self, orders::OrderRow, Conn};
use crate::stripe::types::{PaymentIntent, PaymentIntentStatus};

/// Why a PaymentIntent cannot pay its order. Each is recorded, and the
/// callback answers it as a 409 with the code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mismatch {
    pub reason: MismatchReason,
    pub message: String,
}

impl Mismatch {
    async fn record(
        &self,
        conn: &mut Conn,
        order: &OrderRow,
        pi: &PaymentIntent,
        source: &Source,
    ) -> checkout::Result<()> {
        store::payments::record_mismatch(
            conn,
            &order.id,
            &pi.id,
            source,
            self.reason,
            &self.message,
        )
        .await?;
        Ok(())
    }
}

fn check(order: &OrderRow, pi: &PaymentIntent) -> Result<(), Mismatch> {
    if pi.metadata.get("order_id").map(String::as_str) != Some(order.id.as_str()) {
        return Err(Mismatch {
            reason: MismatchReason::MetadataMismatch,
            message: format!(
                "PaymentIntent {} does not carry metadata.order_id = {}",
                pi.id, order.id
            ),
        });
    }
    if pi.status != PaymentIntentStatus::Succeeded {
        return Err(Mismatch {
            reason: MismatchReason::PaymentNotSucceeded,
            message: format!(
                "PaymentIntent {} is {}, not succeeded",
                pi.id,
                pi.status.as_str()
            ),
        });
    }
    if pi.currency != order.currency.code() {
        return Err(Mismatch {
            reason: MismatchReason::CurrencyMismatch,
            message: format!(
                "PaymentIntent {} is in {}, the order in {}",
                pi.id, pi.currency, order.currency
            ),
        });
    }
    if pi.amount_received != order.amount {
        return Err(Mismatch {
            reason: MismatchReason::AmountMismatch,
            message: format!(
                "PaymentIntent {} received {}, the order totals {} (minor units)",
                pi.id, pi.amount_received, order.amount
            ),
        });
    }
    Ok(())
}

/// What `mark_paid` came to, and the order as it found or left it when it
/// read or wrote the order row (`None` when it did not): the row the next
/// step (`stray::contain`, a view) would otherwise read again.
pub struct Settled {
    pub outcome: Result<bool, Mismatch>,
    pub order: Option<OrderRow>,
}

/// Marks the order paid if `pi` pays it: succeeded, with the order's amount,
/// currency and id. `Ok(true)` when this call made the change, `Ok(false)` when
/// this PaymentIntent had already paid it. A mismatch is recorded and returned
/// (a second PaymentIntent for a paid order is `duplicate_payment`).
#[tracing::instrument(skip_all, fields(order_id = %order.id, payment_intent_id = %pi.id, source = %source))]
pub async fn mark_paid(
    conn: &mut Conn,
    order: &OrderRow,
    pi: &PaymentIntent,
    source: &Source,
) -> checkout::Result<Settled> {
    if let Err(mismatch) = check(order, pi) {
        observe(conn, pi).await?;
        if mismatch.reason != MismatchReason::PaymentNotSucceeded {
            mismatch.record(conn, order, pi, source).await?;
        }
        return Ok(Settled {
            outcome: Err(mismatch),
            order: None,
        });
    }
    // The order's move and the attempt's last-seen status commit together
    // (one commit, not two). The order's row is written first and the
    // attempt's after it, the order `intent::link` takes them in, so the two
    // cannot deadlock on PostgreSQL.
    let mut tx = conn.begin().await?;
    let settled = match store::orders::set_paid(&mut tx, &order.id, &pi.id, source).await? {
        Some(paid) => Settled {
            outcome: Ok(true),
            order: Some(paid),
        },
        None => {
            let current = store::orders::get(&mut tx, &order.id).await?;
            Settled {
                outcome: paid_elsewhere(current.as_ref(), pi),
                order: current,
            }
        }
    };
    observe(&mut tx, pi).await?;
    if let Err(mismatch) = &settled.outcome {
        mismatch.record(&mut tx, order, pi, source).await?;
    }
    tx.commit().await?;
    Ok(settled)
}

/// `pi` succeeded for the order but did not move it to paid: `Ok(false)` if
/// it is what paid it already; otherwise money taken by a PaymentIntent that
/// cannot pay the order: a second payment of a paid order, or one for an
/// order no longer payable (canceled). Never dropped silently: the caller
/// records it, `stray::contain` refunds it.
fn paid_elsewhere(current: Option<&OrderRow>, pi: &PaymentIntent) -> Result<bool, Mismatch> {
    let status = current.map(|o| o.status);
    let already_paid = status.is_some_and(OrderStatus::is_refund_state);
    let paid_by = current.and_then(|o| o.paid_payment_intent_id.as_deref());
    if already_paid && paid_by == Some(pi.id.as_str()) {
        return Ok(false);
    }
    Err(if already_paid {
        Mismatch {
            reason: MismatchReason::DuplicatePayment,
            message: format!(
                "PaymentIntent {} succeeded but the order was already paid by {}",
                pi.id,
                paid_by.unwrap_or("another payment")
            ),
        }
    } else {
        Mismatch {
            reason: MismatchReason::OrderNotPayable,
            message: format!(
                "PaymentIntent {} succeeded but the order is {}",
                pi.id,
                status.map(OrderStatus::as_str).unwrap_or_default()
            ),
        }
    })
}

/// Keeps the attempt's last-seen status (for payment listings) in step with
/// every PaymentIntent orderpay reads from Stripe.
pub async fn observe(conn: &mut Conn, pi: &PaymentIntent) -> checkout::Result<()> {
    store::payments::observe_status(conn, &pi.id, pi.status).await?;
    Ok(())
}

/// What an order becomes for a PaymentIntent that has not (yet) succeeded.
/// `is_latest`: whether `pi` is the order's current attempt — an older,
/// replaced PaymentIntent being canceled does not cancel the order.
pub fn status_for(pi: &PaymentIntent, is_latest: bool) -> Option<OrderStatus> {
    match pi.status {
        PaymentIntentStatus::Processing => Some(OrderStatus::Processing),
        PaymentIntentStatus::RequiresPaymentMethod if pi.last_payment_error.is_some() => {
            Some(OrderStatus::PaymentFailed)
        }
        PaymentIntentStatus::Canceled if is_latest => Some(OrderStatus::Canceled),
        _ => None,
    }
}

/// What `reconcile` did (a short description, for the webhook inbox), and
/// the order row if it read or wrote one (see `Settled`).
pub struct Reconciled {
    pub outcome: String,
    pub order: Option<OrderRow>,
}

/// Applies the PaymentIntent's current state to the order, whatever it is.
#[tracing::instrument(skip_all, fields(order_id = %order.id, payment_intent_id = %pi.id, is_latest = is_latest, source = %source))]
pub async fn reconcile(
    conn: &mut Conn,
    order: &OrderRow,
    pi: &PaymentIntent,
    is_latest: bool,
    source: &Source,
) -> checkout::Result<Reconciled> {
    if pi.status == PaymentIntentStatus::Succeeded {
        let settled = mark_paid(conn, order, pi, source).await?;
        let outcome = match settled.outcome {
            Ok(true) => "paid".into(),
            Ok(false) => "already_paid".into(),
            Err(mismatch) => format!("mismatch:{}", mismatch.reason),
        };
        return Ok(Reconciled {
            outcome,
            order: settled.order,
        });
    }
    observe(conn, pi).await?;
    let outcome = if pi.metadata.get("order_id").map(String::as_str) != Some(order.id.as_str()) {
        format!("mismatch:{}", MismatchReason::MetadataMismatch)
    } else {
        match status_for(pi, is_latest) {
            Some(to) if store::orders::transition(conn, &order.id, to, source).await? => {
                to.as_str().to_string()
            }
            Some(_) => "unchanged".into(),
            None => "no_change".into(),
        }
    };
    Ok(Reconciled {
        outcome,
        order: None,
    })
}
