//! Server-side confirmation with a PaymentMethod id (testing and saved cards).

use crate::checkout::{is_payable, settle, Error, Result};
use crate::db::DbPool;
use crate::domain::{OrderStatus, Source};
use crate::store::{self, orders::OrderRow};
use crate::stripe::api::ConfirmParams;
use crate::stripe::gateway::StripeGateway;
use crate::stripe::types::{PaymentIntent, PaymentIntentStatus};
use crate::stripe::{IdempotencyKey, StripeError};

pub const SOURCE: Source = Source::Confirm;

/// Confirms the order's PaymentIntent and returns Stripe's answer. A decline
/// is recorded (the order becomes payment_failed, still payable) and returned
/// as the 402 error.
#[tracing::instrument(skip_all, fields(order_id = %order.id, payment_method = %payment_method))]
pub async fn confirm(
    db: &DbPool,
    gateway: &StripeGateway,
    order: &OrderRow,
    payment_method: &str,
    return_url: Option<&str>,
) -> Result<PaymentIntent> {
    if !is_payable(order) {
        return Err(Error::not_payable(order));
    }
    let mut conn = db.writer().acquire().await?;
    let attempt = store::payments::latest(&mut conn, &order.id)
        .await?
        .filter(|a| a.payment_intent_id.is_some())
        .ok_or(Error::ConfirmBeforePaymentIntent)?;
    let n = store::payments::next_confirmation(&mut conn, &attempt.id).await?;
    drop(conn);
    let pi_id = attempt.payment_intent_id.as_deref().expect("filtered");
    let key = IdempotencyKey::new(format!("orderpay:confirm:{}:{n}", attempt.id))
        .map_err(Error::internal)?;
    let params = ConfirmParams {
        payment_method: Some(payment_method),
        return_url,
    };
    match gateway
        .client
        .confirm_payment_intent(pi_id, &params, &key)
        .await
    {
        Ok(pi) => {
            // A success is not recorded here: marking paid is the webhook's and
            // the callback's job (one path, with its checks). Other outcomes
            // (processing) are applied at once.
            let mut conn = db.writer().acquire().await?;
            if pi.status == PaymentIntentStatus::Succeeded {
                settle::observe(&mut conn, &pi).await?;
            } else {
                settle::reconcile(&mut conn, order, &pi, true, &SOURCE).await?;
            }
            Ok(pi)
        }
        Err(StripeError::Card {
            code,
            decline_code,
            message,
            payment_intent,
        }) => {
            let mut conn = db.writer().acquire().await?;
            if let Some(pi) = &payment_intent {
                settle::reconcile(&mut conn, order, pi, true, &SOURCE).await?;
            } else {
                store::orders::transition(
                    &mut conn,
                    &order.id,
                    OrderStatus::PaymentFailed,
                    &SOURCE,
                )
                .await?;
            }
            Err(Error::stripe(StripeError::Card {
                code,
                decline_code,
                message,
                payment_intent: None,
            }))
        }
        Err(StripeError::InvalidRequest {
            param: Some(param),
            message,
            ..
        }) if param == "payment_method" => Err(Error::invalid(
            "invalid_payment_method",
            "payment_method",
            message,
        )),
        Err(error) => Err(Error::stripe(error)),
    }
}
