//! One live PaymentIntent per order, however many requests ask at once.

use crate::checkout::line_items::{self, LineItem};
use crate::checkout::{is_payable, not_payable, settle, stripe_error};
use crate::db::DbPool;
use crate::error::{ApiError, ApiResult};
use crate::store::{self, orders::OrderRow, payments::AttemptRow, users::UserRow};
use crate::stripe::api::{CustomerParams, PaymentIntentParams};
use crate::stripe::gateway::StripeGateway;
use crate::stripe::types::{PaymentIntent, PaymentIntentStatus};
use crate::stripe::IdempotencyKey;

pub struct Intent {
    pub payment_intent: PaymentIntent,
    /// Whether this request started the attempt (201) or found it (200).
    pub created: bool,
    pub line_items: Vec<LineItem>,
}

fn key(text: String) -> ApiResult<IdempotencyKey> {
    IdempotencyKey::new(text).map_err(ApiError::internal)
}

/// The user's Stripe customer, created on first need. Concurrent first needs
/// and retries after a lost answer send the same Idempotency-Key and get the
/// same customer, so the request under that key carries only what can never
/// change: the user id. A name or email sent with it would differ after the
/// user edits their profile, and Stripe refuses a key reused with other
/// parameters (idempotency_error) until it forgets the key a day later.
/// The key says `v2` because the first version also sent name and email:
/// a key left by it must not meet this request.
pub async fn ensure_customer(
    db: &DbPool,
    gateway: &StripeGateway,
    user: &UserRow,
) -> ApiResult<String> {
    if let Some(customer) = &user.stripe_customer_id {
        return Ok(customer.clone());
    }
    let params = CustomerParams {
        email: None,
        name: None,
        metadata: vec![("orderpay_user_id", user.id.as_str())],
    };
    let customer = gateway
        .client
        .create_customer(&params, &key(format!("orderpay:customer:v2:{}", user.id))?)
        .await
        .map_err(stripe_error)?;
    let mut conn = db.acquire().await?;
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
        && pi.currency == order.currency
}

/// The attempt's PaymentIntent: retrieved if its id is known, otherwise
/// created with the attempt's key — which, after a crash or a lost answer,
/// returns the PaymentIntent Stripe already made instead of a second one.
async fn payment_intent_for(
    db: &DbPool,
    gateway: &StripeGateway,
    order: &OrderRow,
    attempt: &AttemptRow,
    customer: &str,
    receipt_email: &str,
    items: &[LineItem],
) -> ApiResult<PaymentIntent> {
    if let Some(id) = &attempt.payment_intent_id {
        return gateway
            .client
            .retrieve_payment_intent(id)
            .await
            .map_err(stripe_error);
    }
    let description = format!("Payment for Order #{}", order.number);
    let line_items = line_items::metadata_value(items);
    let attempt_number = attempt.attempt.to_string();
    let params = PaymentIntentParams {
        amount: attempt.amount,
        currency: &attempt.currency,
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
    let pi = gateway
        .client
        .create_payment_intent(&params, &key(attempt.idempotency_key.clone())?)
        .await
        .map_err(stripe_error)?;
    let mut conn = db.acquire().await?;
    store::payments::set_payment_intent(&mut conn, &order.id, attempt.attempt, &pi.id).await?;
    settle::observe(&mut conn, &pi).await?;
    Ok(pi)
}

pub async fn ensure(
    db: &DbPool,
    gateway: &StripeGateway,
    order: &OrderRow,
    user: &UserRow,
) -> ApiResult<Intent> {
    if !is_payable(order) {
        return Err(not_payable(order));
    }
    let mut conn = db.acquire().await?;
    let items = store::orders::items(&mut conn, std::slice::from_ref(&order.id)).await?;
    let items = line_items::from_items(&items, &order.currency);
    let latest = store::payments::latest(&mut conn, &order.id).await?;
    drop(conn);
    let mut next_attempt = latest.as_ref().map_or(1, |a| a.attempt);
    let customer = ensure_customer(db, gateway, user).await?;
    let receipt_email = order.email.clone().unwrap_or_else(|| user.email.clone());

    // A bounded number of fresh attempts per request: each replaces a
    // PaymentIntent that can no longer pay this order (canceled, or its
    // amount no longer matches).
    for _ in 0..3 {
        let mut conn = db.acquire().await?;
        let (attempt, created) = store::payments::claim(
            &mut conn,
            &order.id,
            next_attempt,
            order.amount,
            &order.currency,
        )
        .await?;
        drop(conn);
        let pi = payment_intent_for(
            db,
            gateway,
            order,
            &attempt,
            &customer,
            &receipt_email,
            &items,
        )
        .await?;
        if reusable(&pi, order) {
            return Ok(Intent {
                payment_intent: pi,
                created,
                line_items: items,
            });
        }
        if pi.status == PaymentIntentStatus::Succeeded {
            let mut conn = db.acquire().await?;
            settle::mark_paid(&mut conn, order, &pi, "api").await?.ok();
            let order = store::orders::get(&mut conn, &order.id)
                .await?
                .unwrap_or_else(|| order.clone());
            return Err(not_payable(&order));
        }
        next_attempt = attempt.attempt + 1;
    }
    Err(ApiError::conflict(
        "payment_intent_unavailable",
        "could not obtain a payable PaymentIntent; try again",
    ))
}
