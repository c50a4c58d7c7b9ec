//! Canceling an unpaid order: its PaymentIntents at Stripe first, then the
//! order, so no customer can pay an order that orderpay calls canceled.

use crate::checkout::{not_payable, settle, stripe_error};
use crate::db::DbPool;
use crate::domain::OrderStatus;
use crate::error::{ApiError, ApiResult};
use crate::store::{self, orders::OrderRow};
use crate::stripe::gateway::StripeGateway;
use crate::stripe::types::PaymentIntentStatus;
use crate::stripe::IdempotencyKey;

pub async fn cancel(
    db: &DbPool,
    gateway: &StripeGateway,
    order: &OrderRow,
    source: &str,
) -> ApiResult<()> {
    match order.status.parse::<OrderStatus>() {
        Ok(OrderStatus::Canceled) => return Ok(()),
        Ok(status) if status.is_payable() => {}
        _ => return Err(not_payable(order)),
    }
    let mut conn = db.acquire().await?;
    let attempts = store::payments::for_order(&mut conn, &order.id).await?;
    drop(conn);
    for attempt in attempts {
        let Some(pi_id) = attempt.payment_intent_id else {
            continue;
        };
        let mut pi = gateway
            .client
            .retrieve_payment_intent(&pi_id)
            .await
            .map_err(stripe_error)?;
        if !matches!(
            pi.status,
            PaymentIntentStatus::Canceled | PaymentIntentStatus::Succeeded
        ) {
            let key = IdempotencyKey::new(format!("orderpay:cancel:{pi_id}"))
                .map_err(ApiError::internal)?;
            pi = match gateway.client.cancel_payment_intent(&pi_id, &key).await {
                Ok(pi) => pi,
                // It may have succeeded meanwhile: look again rather than guess.
                Err(_) => gateway
                    .client
                    .retrieve_payment_intent(&pi_id)
                    .await
                    .map_err(stripe_error)?,
            };
        }
        let mut conn = db.acquire().await?;
        settle::observe(&mut conn, &pi).await?;
        if pi.status == PaymentIntentStatus::Succeeded {
            settle::mark_paid(&mut conn, order, &pi, source).await?.ok();
            let order = store::orders::get(&mut conn, &order.id)
                .await?
                .unwrap_or_else(|| order.clone());
            return Err(not_payable(&order));
        }
        if pi.status != PaymentIntentStatus::Canceled {
            return Err(ApiError::conflict(
                "payment_in_progress",
                format!(
                    "PaymentIntent {pi_id} is {} and cannot be canceled now",
                    pi.status.as_str()
                ),
            ));
        }
    }
    let mut conn = db.acquire().await?;
    if !store::orders::transition(&mut conn, &order.id, OrderStatus::Canceled, source).await? {
        let order = store::orders::get(&mut conn, &order.id)
            .await?
            .unwrap_or_else(|| order.clone());
        if order.status != OrderStatus::Canceled.as_str() {
            return Err(not_payable(&order));
        }
    }
    Ok(())
}
