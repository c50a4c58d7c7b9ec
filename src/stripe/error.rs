//! Stripe's errors, typed. Later layers map these to orderpay's own codes.

use serde::Deserialize;

use super::types::PaymentIntent;

#[derive(Debug, Clone, thiserror::Error)]
pub enum StripeError {
    /// 402: the card was declined or could not be charged.
    #[error("card error {code}: {message}")]
    Card {
        code: String,
        decline_code: Option<String>,
        message: String,
        /// For a failed confirm: the PaymentIntent, back in `requires_payment_method`.
        payment_intent: Option<Box<PaymentIntent>>,
    },
    /// 400/404: the request was wrong (`resource_missing` on 404).
    #[error("invalid request ({status}): {message}")]
    InvalidRequest {
        status: u16,
        code: Option<String>,
        param: Option<String>,
        message: String,
    },
    /// The same Idempotency-Key was used with other parameters.
    #[error("idempotency error: {message}")]
    Idempotency { message: String },
    /// 401/403: the secret key is missing, wrong or lacks permission.
    #[error("authentication failed: {message}")]
    Authentication { message: String },
    /// 429 after every retry.
    #[error("rate limited: {message}")]
    RateLimited { message: String },
    /// 409 after every retry: a lock or an Idempotency-Key still in use.
    #[error("conflict: {message}")]
    Conflict { message: String },
    /// 5xx after every retry.
    #[error("Stripe API error ({status}): {message}")]
    Api { status: u16, message: String },
    /// No answer: connection refused or reset, after every retry.
    #[error("could not reach Stripe: {0}")]
    Network(String),
    /// No answer within the timeout, after every retry.
    #[error("Stripe did not answer in time")]
    Timeout,
    /// An answer that is not what Stripe's API documents.
    #[error("unexpected response from Stripe: {0}")]
    Decode(String),
}

impl StripeError {
    /// Whether trying again (with the same Idempotency-Key) can help.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            StripeError::RateLimited { .. }
                | StripeError::Conflict { .. }
                | StripeError::Api { .. }
                | StripeError::Network(_)
                | StripeError::Timeout
        )
    }
}

#[derive(Debug, Deserialize)]
struct ErrorEnvelope {
    error: ErrorObject,
}

#[derive(Debug, Deserialize)]
struct ErrorObject {
    #[serde(rename = "type")]
    kind: Option<String>,
    code: Option<String>,
    decline_code: Option<String>,
    message: Option<String>,
    param: Option<String>,
    payment_intent: Option<Box<PaymentIntent>>,
}

/// Turns a non-2xx answer into a typed error.
pub fn from_response(status: u16, body: &str) -> StripeError {
    let Ok(ErrorEnvelope { error }) = serde_json::from_str::<ErrorEnvelope>(body) else {
        return match status {
            500..=599 => StripeError::Api {
                status,
                message: "no error body".into(),
            },
            _ => StripeError::Decode(format!("status {status} without a Stripe error body")),
        };
    };
    let message = error.message.unwrap_or_else(|| "no message".into());
    match (status, error.kind.as_deref()) {
        (_, Some("card_error")) | (402, _) => StripeError::Card {
            code: error.code.unwrap_or_else(|| "card_declined".into()),
            decline_code: error.decline_code,
            message,
            payment_intent: error.payment_intent,
        },
        (_, Some("idempotency_error")) => StripeError::Idempotency { message },
        (401 | 403, _) => StripeError::Authentication { message },
        (409, _) => StripeError::Conflict { message },
        (429, _) => StripeError::RateLimited { message },
        (500..=599, _) | (_, Some("api_error")) => StripeError::Api { status, message },
        _ => StripeError::InvalidRequest {
            status,
            code: error.code,
            param: error.param,
            message,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn card_errors_keep_code_and_decline_code() {
        let body = r#"{"error": {"type": "card_error", "code": "card_declined", "decline_code": "insufficient_funds", "message": "Your card has insufficient funds."}}"#;
        match from_response(402, body) {
            StripeError::Card {
                code, decline_code, ..
            } => {
                assert_eq!(code, "card_declined");
                assert_eq!(decline_code.as_deref(), Some("insufficient_funds"));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn statuses_and_types_map_to_kinds() {
        let body = |kind: &str| format!(r#"{{"error": {{"type": "{kind}", "message": "m"}}}}"#);
        assert!(matches!(
            from_response(400, &body("idempotency_error")),
            StripeError::Idempotency { .. }
        ));
        assert!(matches!(
            from_response(401, &body("invalid_request_error")),
            StripeError::Authentication { .. }
        ));
        assert!(matches!(
            from_response(429, &body("invalid_request_error")),
            StripeError::RateLimited { .. }
        ));
        assert!(matches!(
            from_response(500, &body("api_error")),
            StripeError::Api { status: 500, .. }
        ));
        assert!(matches!(
            from_response(503, "<html>"),
            StripeError::Api { status: 503, .. }
        ));
        assert!(matches!(
            from_response(
                404,
                r#"{"error": {"type": "invalid_request_error", "code": "resource_missing", "param": "id", "message": "No such payment_intent"}}"#
            ),
            StripeError::InvalidRequest { status: 404, .. }
        ));
    }
}
