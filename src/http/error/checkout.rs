//! What each checkout error answers: its status and its details; the code
//! and the message are the error's own (`code()`, its text). Nothing is
//! logged here: the use case logged what deserves it when it built the error.

use rocket::http::Status;
use serde_json::json;

use super::ApiError;
use crate::checkout::Error;
use crate::db;

impl From<Error> for ApiError {
    fn from(error: Error) -> Self {
        let status = match &error {
            // The customer's to fix: another card.
            Error::CardDeclined { .. } => Status::PaymentRequired,
            // Not a 503: retrying cannot help until Stripe forgets the key (24 h).
            Error::IdempotencyConflict
            | Error::ProviderRefused { .. }
            | Error::OrderAlreadyPaid(_)
            | Error::OrderCanceled(_)
            | Error::OrderNotPayable(_)
            | Error::PaymentInProgress { .. }
            | Error::CancelDuringPayment { .. }
            | Error::PaymentIntentUnavailable
            | Error::NoPaymentIntent
            | Error::ConfirmBeforePaymentIntent
            | Error::UnknownPaymentIntent
            | Error::PaymentMismatch(_)
            | Error::PaymentMethodUnavailable
            | Error::RefundKeyReused
            | Error::OrderNotRefundable { .. }
            | Error::NotPaidThroughStripe => Status::Conflict,
            Error::NotFound(_) => Status::NotFound,
            Error::RefundExceedsRemaining { .. } | Error::InvalidInput { .. } => {
                Status::UnprocessableEntity
            }
            Error::SignatureRefused(_) | Error::MalformedEvent(_) => Status::BadRequest,
            Error::ProviderUnavailable | Error::InboxUnavailable => Status::ServiceUnavailable,
            Error::Database(cause) if db::is_outage(cause) => Status::ServiceUnavailable,
            Error::Database(_) | Error::Internal(_) => Status::InternalServerError,
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
        let mut answer = ApiError::new(status, error.code(), error.to_string());
        answer.details = details;
        answer
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checkout::error::Unpayable;
    use crate::domain::OrderStatus;
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
            status: OrderStatus::Canceled,
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
