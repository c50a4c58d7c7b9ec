//! What each checkout error answers: its status, its code and its details.
//! The message is the error's own text. Nothing is logged here: the use case
//! logged what deserves it when it built the error.

use rocket::http::Status;
use serde_json::json;

use super::ApiError;
use crate::checkout::Error;

impl From<Error> for ApiError {
    fn from(error: Error) -> Self {
        let (status, code) = match &error {
            Error::Database(cause) => return ApiError::database(cause),
            Error::Internal(_) => return ApiError::opaque_internal(),
            // The customer's to fix: another card.
            Error::CardDeclined { .. } => (Status::PaymentRequired, "card_declined"),
            Error::ProviderRefused { .. } => (Status::Conflict, "payment_provider_refused"),
            Error::ProviderUnavailable => {
                (Status::ServiceUnavailable, "payment_provider_unavailable")
            }
            // Not a 503: retrying cannot help until Stripe forgets the key (24 h).
            Error::IdempotencyConflict => (Status::Conflict, "idempotency_conflict"),
            Error::OrderAlreadyPaid(_) => (Status::Conflict, "order_already_paid"),
            Error::OrderCanceled(_) => (Status::Conflict, "order_canceled"),
            Error::OrderNotPayable(_) => (Status::Conflict, "order_not_payable"),
            Error::NotFound(_) => (Status::NotFound, "not_found"),
            Error::PaymentInProgress { .. } | Error::CancelDuringPayment { .. } => {
                (Status::Conflict, "payment_in_progress")
            }
            Error::PaymentIntentUnavailable => (Status::Conflict, "payment_intent_unavailable"),
            Error::NoPaymentIntent | Error::ConfirmBeforePaymentIntent => {
                (Status::Conflict, "no_payment_intent")
            }
            Error::UnknownPaymentIntent => (Status::Conflict, "unknown_payment_intent"),
            Error::PaymentMismatch(mismatch) => (Status::Conflict, mismatch.code),
            Error::PaymentMethodUnavailable => (Status::Conflict, "payment_method_unavailable"),
            Error::RefundKeyReused => (Status::Conflict, "idempotency_key_reused"),
            Error::OrderNotRefundable { .. } => (Status::Conflict, "order_not_refundable"),
            Error::NotPaidThroughStripe => (Status::Conflict, "not_paid_through_stripe"),
            Error::RefundExceedsRemaining { .. } => {
                (Status::UnprocessableEntity, "refund_exceeds_remaining")
            }
            Error::InvalidInput { code, .. } => (Status::UnprocessableEntity, *code),
            Error::SignatureRefused(refusal) => (Status::BadRequest, refusal.code()),
            Error::MalformedEvent(_) => (Status::BadRequest, "malformed_event"),
        };
        let details = match &error {
            Error::CardDeclined {
                stripe_code,
                decline_code,
                ..
            } => Some(json!({ "stripe_code": stripe_code, "decline_code": decline_code })),
            Error::ProviderRefused { stripe_code, .. } => {
                Some(json!({ "stripe_code": stripe_code }))
            }
            Error::OrderAlreadyPaid(order)
            | Error::OrderCanceled(order)
            | Error::OrderNotPayable(order) => Some(json!({ "status": order.status })),
            Error::RefundExceedsRemaining { remaining, .. } => {
                Some(json!({ "field": "amount", "remaining": remaining }))
            }
            Error::InvalidInput { field, .. } => Some(json!({ "field": field })),
            _ => None,
        };
        let answer = ApiError::new(status, code, error.to_string());
        match details {
            Some(details) => answer.with_details(details),
            None => answer,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checkout::error::Unpayable;
    use crate::stripe::StripeError;

    #[test]
    fn an_idempotency_clash_is_a_conflict_not_a_crash() {
        let error = ApiError::from(Error::stripe(StripeError::Idempotency {
            message: "Keys for idempotent requests can only be used with the same parameters"
                .into(),
        }));
        assert_eq!(
            (error.status, &*error.code),
            (Status::Conflict, "idempotency_conflict")
        );
    }

    #[test]
    fn a_decline_is_the_customers_402_with_stripes_codes() {
        let error = ApiError::from(Error::stripe(StripeError::Card {
            code: "card_declined".into(),
            decline_code: Some("insufficient_funds".into()),
            message: "Your card has insufficient funds.".into(),
            payment_intent: None,
        }));
        assert_eq!(error.status, Status::PaymentRequired);
        assert_eq!(
            error.body(),
            json!({
                "message": "Your card has insufficient funds.",
                "error": {
                    "code": "card_declined",
                    "details": { "stripe_code": "card_declined", "decline_code": "insufficient_funds" },
                },
            })
        );
    }

    #[test]
    fn an_unpayable_order_names_itself_and_its_status() {
        let error = ApiError::from(Error::OrderCanceled(Unpayable {
            number: "ORD-1".into(),
            status: "canceled".into(),
        }));
        assert_eq!(
            error.body(),
            json!({
                "message": "order ORD-1 is canceled and cannot be paid",
                "error": { "code": "order_canceled", "details": { "status": "canceled" } },
            })
        );
    }

    #[test]
    fn an_internal_error_shows_nothing_of_its_cause() {
        let error = ApiError::from(Error::internal("secret cause"));
        assert_eq!(error.status, Status::InternalServerError);
        assert!(!error.body().to_string().contains("secret"));
    }
}
