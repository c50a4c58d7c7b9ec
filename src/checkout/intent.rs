//! One live PaymentIntent per order, however many requests ask at once.

use crate::checkout::line_items::{self, LineItem};
use crate::checkout::{is_payable, stray, Error, Result};
use crate::db::DbPool;
use crate::domain::{OrderStatus, Source};
use crate::store::{
    self,
    orders::{ItemRow, OrderRow},
    payments::AttemptRow,
    users::UserRow,
};
use crate::stripe::api::{CustomerParams, PaymentIntentParams};
use crate::stripe::gateway::StripeGateway;
use crate::stripe::types::{PaymentIntent, PaymentIntentStatus};
use crate::stripe::{IdempotencyKey, StripeError};

pub struct Intent {
    pub payment_intent: PaymentIntent,
    /// Whether this request started the attempt (201) or found it (200).
    pub created: bool,
    /// The order's line items, as read for the PaymentIntent's metadata.
    pub items: Vec<ItemRow>,
    /// The order's status as last read here: under the order's lock when
    /// this request linked a new PaymentIntent, otherwise when the request
    /// (or a check after a replaced PaymentIntent) read the order.
    pub order_status: OrderStatus,
}

fn key(text: String) -> Result<IdempotencyKey> {
    IdempotencyKey::new(text).map_err(Error::internal)
}

/// The user's Stripe customer, created on first need. Concurrent first needs
/// and retries after a lost answer send the same Idempotency-Key and get the
/// same customer, so the request under that key carries only what can never
/// change: the user id. A name or email sent with it would differ after the
/// user edits their profile, and Stripe refuses a key reused with other
/// parameters (idempotency_error) until it forgets the key a day later.
/// The key says `v2` because the first version also sent name and email:
/// a key left by it must not meet this request.
#[tracing::instrument(skip_all, fields(user_id = %user.id))]
pub async fn ensure_customer(
    db: &DbPool,
    gateway: &StripeGateway,
    user: &UserRow,
) -> Result<String> {
    if let Some(customer) = &user.stripe_customer_id {
        return Ok(customer.clone());
    }
    let params = CustomerParams {
        email: None,
        name: None,
        metadata: vec![("orderpay_user_id", user.id.as_str())],
    };
    let mut conn = db.acquire().await?;
    let generation = store::users::customer_key_generation(&mut conn, &user.id).await?;
    drop(conn);
    let customer_key = match generation {
        0 => format!("orderpay:customer:v2:{}", user.id),
        n => format!("orderpay:customer:v2:{}:{n}", user.id),
    };
    let customer = match gateway
        .client
        .create_customer(&params, &key(customer_key)?)
        .await
    {
        Ok(customer) => customer,
        Err(error) => {
            // Stripe keeps a 5xx for the key and replays it for a day: the
            // next try uses the next key (see the migration that added it).
            // A lost answer is not a kept 5xx: retried with the same key,
            // Stripe replays the customer it made.
            if matches!(error, StripeError::Api { .. }) {
                let mut conn = db.writer().acquire().await?;
                store::users::abandon_customer_key(&mut conn, &user.id, generation).await?;
            }
            return Err(Error::stripe(error));
        }
    };
    let mut conn = db.writer().acquire().await?;
    let stored = store::users::set_stripe_customer(&mut conn, &user.id, &customer.id).await?;
    Ok(stored.unwrap_or(customer.id))
}

fn reusable(pi: &PaymentIntent, order: &OrderRow) -> bool {
    matches!(
        pi.status,
        PaymentIntentStatus::RequiresPaymentMethod
            | PaymentIntentStatus::RequiresConfirmation
            | PaymentIntentStatus::RequiresAction
            | PaymentIntentStatus::Processing
    ) && pi.amount == order.amount
        && pi.currency == order.currency.code()
}

/// Whether a failed create call may still have made its PaymentIntent: Stripe
/// began executing it and failed (5xx, which Stripe then replays for the same
/// Idempotency-Key), or the answer never came back.
fn outcome_unknown(error: &StripeError) -> bool {
    matches!(
        error,
        StripeError::Api { .. }
            | StripeError::Timeout
            | StripeError::Network(_)
            | StripeError::Decode(_)
    )
}

/// The attempt's PaymentIntent: retrieved if its id is known, otherwise
/// created with the attempt's key — which, after a crash or a lost answer,
/// returns the PaymentIntent Stripe already made instead of a second one.
/// A create that ends without a known outcome marks the attempt so the next
/// request starts a new one (Stripe would replay a 500 for this key).
/// With a new PaymentIntent comes the order as `link` read it under its lock.
async fn payment_intent_for(
    db: &DbPool,
    gateway: &StripeGateway,
    order: &OrderRow,
    attempt: &AttemptRow,
    customer: &str,
    receipt_email: &str,
    items: &[LineItem],
) -> Result<(PaymentIntent, Option<OrderRow>)> {
    if let Some(id) = &attempt.payment_intent_id {
        let pi = gateway
            .client
            .retrieve_payment_intent(id)
            .await
            .map_err(Error::stripe)?;
        return Ok((pi, None));
    }
    let description = format!("Payment for Order #{}", order.number);
    let line_items = line_items::metadata_value(items);
    let attempt_number = attempt.attempt.to_string();
    let params = PaymentIntentParams {
        amount: attempt.amount,
        currency: attempt.currency.code(),
        customer: Some(customer),
        description: Some(&description),
        receipt_email: Some(receipt_email),
        metadata: vec![
            ("order_id", order.id.as_str()),
            ("order_number", order.number.as_str()),
            ("line_items", line_items.as_str()),
            ("attempt", attempt_number.as_str()),
        ],
        payment_method_types: vec!["card"],
        ..PaymentIntentParams::default()
    };
    let created = gateway
        .client
        .create_payment_intent(&params, &key(attempt.idempotency_key.clone())?)
        .await;
    let pi = match created {
        Ok(pi) => pi,
        Err(error) => {
            if outcome_unknown(&error) {
                let mut conn = db.writer().acquire().await?;
                store::payments::mark_outcome_unknown(&mut conn, &attempt.id).await?;
            }
            return Err(Error::stripe(error));
        }
    };
    let current = link(db, &order.id, attempt.attempt, &pi).await?;
    match current {
        Some(current) if is_payable(&current) => Ok((pi, Some(current))),
        current => {
            // A cancel committed while Stripe was asked: it collected the
            // attempts it cancels before this one was linked, so canceling
            // this PaymentIntent is this request's job.
            let pi = stray::cancel_at_stripe(gateway, &pi.id)
                .await
                .map_err(Error::stripe)?;
            let order = current.unwrap_or_else(|| order.clone());
            stray::apply(db, gateway, &order, &pi, true, &Source::Api).await?;
            Err(Error::not_payable(&order))
        }
    }
}

/// Records which PaymentIntent the attempt made (and its status, as
/// `settle::observe` would), under the order's lock, and returns the order
/// as it is at that moment (the lock's own statement reads it). Cancel takes
/// the same lock to move the order to canceled before it collects the
/// attempts to cancel at Stripe, so either cancel sees this PaymentIntent or
/// this sees the cancel.
async fn link(
    db: &DbPool,
    order_id: &str,
    attempt: i64,
    pi: &PaymentIntent,
) -> Result<Option<OrderRow>> {
    // On the writer (`DbPool::begin`), like every transaction.
    let mut tx = db.begin().await?;
    let current = store::orders::lock_read(&mut tx, order_id).await?;
    store::payments::link_payment_intent(&mut tx, order_id, attempt, &pi.id, pi.status).await?;
    tx.commit().await?;
    Ok(current)
}

/// Claims attempt `number` of the order at its amount (see `store::payments::claim`).
async fn claim(db: &DbPool, order: &OrderRow, number: i64) -> Result<(AttemptRow, bool)> {
    // Writes go through the writer (`DbPool::begin`): on SQLite they queue
    // in the process instead of sleeping in `busy_timeout` beside it.
    let mut conn = db.writer().acquire().await?;
    Ok(store::payments::claim(&mut conn, &order.id, number, order.amount, order.currency).await?)
}

/// Replaced attempts whose PaymentIntent was not last seen canceled or
/// succeeded (their cancel at Stripe failed, or was never reported back):
/// made unable to take money before another PaymentIntent is handed out, so
/// at most one PaymentIntent of the order can be paid at any time. True when
/// any was looked at (the order may have changed).
async fn retire_replaced(
    db: &DbPool,
    gateway: &StripeGateway,
    order: &OrderRow,
    attempts: &[AttemptRow],
) -> Result<bool> {
    let Some((_, replaced)) = attempts.split_last() else {
        return Ok(false);
    };
    let mut looked = false;
    for attempt in replaced {
        let Some(pi_id) = &attempt.payment_intent_id else {
            continue;
        };
        if attempt.status.is_some_and(PaymentIntentStatus::is_final) {
            continue;
        }
        let pi = gateway
            .client
            .retrieve_payment_intent(pi_id)
            .await
            .map_err(Error::stripe)?;
        let applied = stray::apply(db, gateway, order, &pi, false, &Source::Api).await?;
        refuse_beside_in_flight(applied.contained, &pi)?;
        looked = true;
    }
    Ok(looked)
}

/// A replaced PaymentIntent that is `processing` cannot be canceled and may
/// still pay the order: no other is handed out beside it until it settles.
fn refuse_beside_in_flight(contained: stray::Contained, pi: &PaymentIntent) -> Result<()> {
    if pi.status == PaymentIntentStatus::Processing || contained == stray::Contained::InFlight {
        return Err(Error::PaymentInProgress {
            payment_intent_id: pi.id.clone(),
        });
    }
    Ok(())
}

#[tracing::instrument(skip_all, fields(order_id = %order.id, user_id = %user.id))]
pub async fn ensure(
    db: &DbPool,
    gateway: &StripeGateway,
    order: &OrderRow,
    user: &UserRow,
) -> Result<Intent> {
    if !is_payable(order) {
        return Err(Error::not_payable(order));
    }
    let mut conn = db.acquire().await?;
    let item_rows = store::orders::items(&mut conn, std::slice::from_ref(&order.id)).await?;
    let items = line_items::from_items(&item_rows, order.currency);
    let attempts = store::payments::for_order(&mut conn, &order.id).await?;
    drop(conn);
    // The order's status as last read, for the answer.
    let mut order_status = order.status;
    if retire_replaced(db, gateway, order, &attempts).await? {
        // A replaced PaymentIntent turned out to have paid the order.
        let mut conn = db.acquire().await?;
        if let Some(current) = store::orders::get(&mut conn, &order.id).await? {
            if !is_payable(&current) {
                return Err(Error::not_payable(&current));
            }
            order_status = current.status;
        }
    }
    let latest = attempts.last();
    let customer = ensure_customer(db, gateway, user).await?;
    let receipt_email = order.email.clone().unwrap_or_else(|| user.email.clone());
    let mut next_attempt = match latest {
        None => 1,
        // Stripe would replay that attempt's unknown answer for its key: use
        // what it made, if anything, or start a new attempt.
        Some(a) if a.outcome_unknown && a.payment_intent_id.is_none() => {
            match stray::find_lost(db, gateway, &customer, &order.id, a.attempt, &a.created_at)
                .await?
            {
                Some(_) => a.attempt,
                None => a.attempt + 1,
            }
        }
        Some(a) => a.attempt,
    };

    // A bounded number of fresh attempts per request: each replaces a
    // PaymentIntent that can no longer pay this order (canceled, its amount
    // changed at Stripe, or its money refunded as a mismatch).
    let mut started = None;
    for _ in 0..3 {
        let (attempt, claimed) = claim(db, order, next_attempt).await?;
        let created = started.unwrap_or(claimed);
        let (pi, linked) = payment_intent_for(
            db,
            gateway,
            order,
            &attempt,
            &customer,
            &receipt_email,
            &items,
        )
        .await?;
        if let Some(current) = &linked {
            order_status = current.status;
        }
        if reusable(&pi, order) {
            return Ok(Intent {
                payment_intent: pi,
                created,
                items: item_rows,
                order_status,
            });
        }
        // The next attempt is claimed first, so this PaymentIntent is no
        // longer the order's latest when its cancellation is reported (a
        // canceled latest attempt cancels the order). Then it must be made
        // unable to take money: canceled at Stripe if it still could,
        // settled if it paid the order, refunded if it took money it cannot keep.
        next_attempt = attempt.attempt + 1;
        started = Some(claim(db, order, next_attempt).await?.1);
        let applied = stray::apply(db, gateway, order, &pi, false, &Source::Api).await?;
        refuse_beside_in_flight(applied.contained, &pi)?;
        let mut conn = db.acquire().await?;
        let current = store::orders::get(&mut conn, &order.id)
            .await?
            .unwrap_or_else(|| order.clone());
        if !is_payable(&current) {
            return Err(Error::not_payable(&current));
        }
        order_status = current.status;
    }
    Err(Error::PaymentIntentUnavailable)
}
