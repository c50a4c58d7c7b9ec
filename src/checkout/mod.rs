//! Checkout: an order's PaymentIntent, its confirmation and cancellation, and
//! the two messages that mark it paid (the payment system's callback and
//! Stripe's webhook), all converging on `settle`.

pub mod callback;
pub mod cancel;
pub mod cards;
pub mod confirm;
pub mod inbox_workers;
pub mod inbox_writer;
pub mod intent;
pub mod line_items;
pub mod refund;
pub mod refunded_total;
pub mod settle;
pub mod stray;
pub mod sweep;
pub mod webhook;
pub mod webhook_intake;

use rocket::http::Status;
use serde_json::json;

use crate::domain::OrderStatus;
use crate::http::error::ApiError;
use crate::store::orders::OrderRow;
use crate::stripe::StripeError;

/// Stripe's answer, in orderpay's terms. An outage is a 503 the caller may
/// retry; a decline is the customer's 402; anything else Stripe refuses is a
/// 409 with Stripe's reason, an idempotency clash a 409 too; a wrong secret
/// key is our bug.
pub fn stripe_error(error: StripeError) -> ApiError {
    match error {
        StripeError::Card {
            code,
            decline_code,
            message,
            ..
        } => ApiError::new(Status::PaymentRequired, "card_declined", message)
            .with_details(json!({ "stripe_code": code, "decline_code": decline_code })),
        StripeError::InvalidRequest { code, message, .. } => {
            ApiError::conflict("payment_provider_refused", message)
                .with_details(json!({ "stripe_code": code }))
        }
        error @ (StripeError::Network(_)
        | StripeError::Timeout
        | StripeError::Api { .. }
        | StripeError::RateLimited { .. }
        | StripeError::Conflict { .. }
        | StripeError::Decode(_)) => {
            tracing::warn!(%error, "Stripe unavailable");
            ApiError::unavailable(
                "payment_provider_unavailable",
                "Stripe could not be reached; try again",
            )
        }
        // orderpay sent one of its Idempotency-Keys with other parameters than
        // the first time. Retrying the same request cannot help until Stripe
        // forgets the key (24 h), so not a 503; and it is no crash: a 409 the
        // caller can show, logged loudly since it means a key is built wrong.
        StripeError::Idempotency { message } => {
            tracing::error!(%message, "Stripe refused a reused Idempotency-Key");
            ApiError::conflict(
                "idempotency_conflict",
                "an earlier request to Stripe with the same Idempotency-Key had other parameters; \
                 try again later",
            )
        }
        error @ StripeError::Authentication { .. } => ApiError::internal(error),
    }
}

pub fn not_payable(order: &OrderRow) -> ApiError {
    let code = match order.status {
        OrderStatus::Paid | OrderStatus::PartiallyRefunded | OrderStatus::Refunded => {
            "order_already_paid"
        }
        OrderStatus::Canceled => "order_canceled",
        _ => "order_not_payable",
    };
    ApiError::conflict(
        code,
        format!(
            "order {} is {} and cannot be paid",
            order.number, order.status
        ),
    )
    .with_details(json!({ "status": order.status }))
}

pub fn is_payable(order: &OrderRow) -> bool {
    order.status.is_payable()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_idempotency_clash_is_a_conflict_not_a_crash() {
        let error = stripe_error(StripeError::Idempotency {
            message: "Keys for idempotent requests can only be used with the same parameters"
                .into(),
        });
        assert_eq!(
            (error.status, &*error.code),
            (Status::Conflict, "idempotency_conflict")
        );
    }
}
