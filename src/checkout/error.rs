//! What can go wrong in a checkout use case, in checkout's own terms. Each
//! has a machine-readable `code()` and a `Display` text a caller may read
//! (never the cause of a database failure or a bug); which HTTP status each
//! becomes is decided once, in `http::error::checkout`.
//!
//! Failures worth an operator's attention (Stripe unreachable, a reused
//! Idempotency-Key, a database failure, a bug) are logged where the error is
//! built, here, so background paths (the sweep, the webhook's handlers) log
//! them too and the HTTP mapping never logs them again.

use crate::checkout::settle::Mismatch;
use crate::domain::{Currency, OrderStatus};
use crate::store::orders::OrderRow;
use crate::stripe::webhook::SignatureError;
use crate::stripe::StripeError;

pub type Result<T> = std::result::Result<T, Error>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Stripe declined the card (its code, and the issuer's decline code).
    #[error("{message}")]
    CardDeclined {
        stripe_code: String,
        decline_code: Option<String>,
        message: String,
    },
    /// Stripe refused the request for good; asking again changes nothing.
    #[error("{message}")]
    ProviderRefused {
        stripe_code: Option<String>,
        message: String,
    },
    /// Stripe could not be reached, or answered an outage; a retry may work.
    #[error("Stripe could not be reached; try again")]
    ProviderUnavailable,
    /// orderpay sent one of its Idempotency-Keys with other parameters than
    /// the first time: retrying cannot help until Stripe forgets the key.
    #[error(
        "an earlier request to Stripe with the same Idempotency-Key had other parameters; \
         try again later"
    )]
    IdempotencyConflict,
    #[error("{}", unpayable_message(.0))]
    OrderAlreadyPaid(Unpayable),
    #[error("{}", unpayable_message(.0))]
    OrderCanceled(Unpayable),
    #[error("{}", unpayable_message(.0))]
    OrderNotPayable(Unpayable),
    /// The thing named does not exist (or is not the caller's).
    #[error("{0} not found")]
    NotFound(&'static str),
    /// A new PaymentIntent is refused while a replaced one is processing.
    #[error("PaymentIntent {payment_intent_id} is processing; try again once it has settled")]
    PaymentInProgress { payment_intent_id: String },
    /// A cancel is refused while one of the order's PaymentIntents is processing.
    #[error("PaymentIntent {payment_intent_id} is processing and cannot be canceled now")]
    CancelDuringPayment { payment_intent_id: String },
    /// Several fresh attempts in one request found no payable PaymentIntent.
    #[error("could not obtain a payable PaymentIntent; try again")]
    PaymentIntentUnavailable,
    /// The callback found no PaymentIntent for the order.
    #[error("this order has no PaymentIntent")]
    NoPaymentIntent,
    /// A confirmation came before the order's PaymentIntent was created.
    #[error("create the order's PaymentIntent first")]
    ConfirmBeforePaymentIntent,
    /// The callback named a PaymentIntent that is not one of the order's.
    #[error("this PaymentIntent was not created for this order")]
    UnknownPaymentIntent,
    /// The PaymentIntent cannot pay its order (recorded by `settle`).
    #[error("{}", .0.message)]
    PaymentMismatch(Mismatch),
    /// A saved card's PaymentMethod is attached to another Stripe customer.
    #[error("this PaymentMethod belongs to another customer")]
    PaymentMethodUnavailable,
    /// A refund request's Idempotency-Key was used for another request.
    #[error("this Idempotency-Key was used with a different refund request")]
    RefundKeyReused,
    #[error("only a paid order can be refunded; this one is {status}")]
    OrderNotRefundable { status: OrderStatus },
    #[error("this order was not paid through Stripe (a seeded test order?)")]
    NotPaidThroughStripe,
    /// More than is left; `remaining` in major units of `currency`.
    #[error("amount: at most {remaining} {currency} is left to refund")]
    RefundExceedsRemaining {
        remaining: String,
        currency: Currency,
    },
    /// An input field the use case checked; `code` says what is wrong with it.
    #[error("{field}: {message}")]
    InvalidInput {
        code: &'static str,
        field: &'static str,
        message: String,
    },
    /// A webhook whose `Stripe-Signature` does not check out.
    #[error("webhook refused: {0}")]
    SignatureRefused(SignatureError),
    /// A signed webhook body that is not a usable Stripe event.
    #[error("{0}")]
    MalformedEvent(String),
    /// A webhook event could not be stored; Stripe delivers it again.
    #[error("the event could not be stored; deliver it again")]
    InboxUnavailable,
    #[error("{}", crate::db::failure_message(.0))]
    Database(#[source] sqlx::Error),
    /// A bug or a misconfiguration; the cause (kept for `Debug`) was logged
    /// when it was built.
    #[error("internal server error")]
    Internal(String),
}

/// The order a payment was refused for, as the answer names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unpayable {
    pub number: String,
    pub status: OrderStatus,
}

fn unpayable_message(order: &Unpayable) -> String {
    format!(
        "order {} is {} and cannot be paid",
        order.number, order.status
    )
}

impl Error {
    /// What went wrong, for machines: the API's `error.code`, and the reason
    /// the webhook inbox keeps for an event it could not apply.
    pub fn code(&self) -> &'static str {
        match self {
            Error::CardDeclined { .. } => "card_declined",
            Error::ProviderRefused { .. } => "payment_provider_refused",
            Error::ProviderUnavailable => "payment_provider_unavailable",
            Error::IdempotencyConflict => "idempotency_conflict",
            Error::OrderAlreadyPaid(_) => "order_already_paid",
            Error::OrderCanceled(_) => "order_canceled",
            Error::OrderNotPayable(_) => "order_not_payable",
            Error::NotFound(_) => "not_found",
            Error::PaymentInProgress { .. } | Error::CancelDuringPayment { .. } => {
                "payment_in_progress"
            }
            Error::PaymentIntentUnavailable => "payment_intent_unavailable",
            Error::NoPaymentIntent | Error::ConfirmBeforePaymentIntent => "no_payment_intent",
            Error::UnknownPaymentIntent => "unknown_payment_intent",
            Error::PaymentMismatch(mismatch) => mismatch.reason.as_str(),
            Error::PaymentMethodUnavailable => "payment_method_unavailable",
            Error::RefundKeyReused => "idempotency_key_reused",
            Error::OrderNotRefundable { .. } => "order_not_refundable",
            Error::NotPaidThroughStripe => "not_paid_through_stripe",
            Error::RefundExceedsRemaining { .. } => "refund_exceeds_remaining",
            Error::InvalidInput { code, .. } => code,
            Error::SignatureRefused(refusal) => refusal.code(),
            Error::MalformedEvent(_) => "malformed_event",
            Error::InboxUnavailable => "inbox_unavailable",
            Error::Database(error) if crate::db::is_outage(error) => "database_unavailable",
            Error::Database(_) | Error::Internal(_) => "internal_error",
        }
    }

    /// Stripe's answer, in checkout's terms: a decline is the customer's, a
    /// refusal is final, an outage may pass; a wrong secret key is our bug.
    pub fn stripe(error: StripeError) -> Self {
        match error {
            StripeError::Card {
                code,
                decline_code,
                message,
                ..
            } => Error::CardDeclined {
                stripe_code: code,
                decline_code,
                message,
            },
            StripeError::InvalidRequest { code, message, .. } => Error::ProviderRefused {
                stripe_code: code,
                message,
            },
            error @ (StripeError::Network(_)
            | StripeError::Timeout
            | StripeError::Api { .. }
            | StripeError::RateLimited { .. }
            | StripeError::Conflict { .. }
            | StripeError::Decode(_)) => {
                tracing::warn!(%error, "Stripe unavailable");
                Error::ProviderUnavailable
            }
            // Logged loudly: it means one of orderpay's keys is built wrong.
            StripeError::Idempotency { message } => {
                tracing::error!(%message, "Stripe refused a reused Idempotency-Key");
                Error::IdempotencyConflict
            }
            error @ StripeError::Authentication { .. } => Error::internal(error),
        }
    }

    /// Why `order` cannot be paid: already paid (or refunded since),
    /// canceled, or in no state to take a payment.
    pub fn not_payable(order: &OrderRow) -> Self {
        let unpayable = Unpayable {
            number: order.number.clone(),
            status: order.status,
        };
        match order.status {
            OrderStatus::Paid | OrderStatus::PartiallyRefunded | OrderStatus::Refunded => {
                Error::OrderAlreadyPaid(unpayable)
            }
            OrderStatus::Canceled => Error::OrderCanceled(unpayable),
            _ => Error::OrderNotPayable(unpayable),
        }
    }

    /// An input field the use case refuses.
    pub fn invalid(code: &'static str, field: &'static str, message: impl Into<String>) -> Self {
        Error::InvalidInput {
            code,
            field,
            message: message.into(),
        }
    }

    /// Logs the real cause; callers only ever learn that something failed.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "internal error");
        Error::Internal(cause.to_string())
    }
}

/// Logged here, where it is first an error of checkout's: see the module comment.
impl From<sqlx::Error> for Error {
    fn from(error: sqlx::Error) -> Self {
        crate::db::log_failure(&error);
        Error::Database(error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_idempotency_clash_is_its_own_error_not_an_outage() {
        let error = Error::stripe(StripeError::Idempotency {
            message: "Keys for idempotent requests can only be used with the same parameters"
                .into(),
        });
        assert!(matches!(error, Error::IdempotencyConflict), "{error:?}");
    }

    #[test]
    fn a_bug_shows_its_cause_to_no_caller() {
        let error = Error::internal("refund vanished");
        assert_eq!(
            (error.code(), error.to_string().as_str()),
            ("internal_error", "internal server error")
        );
        assert!(
            format!("{error:?}").contains("refund vanished"),
            "kept for the log"
        );
    }
}
