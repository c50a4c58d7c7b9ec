//! What each accounts error answers: its status, its details and
//! `Retry-After` when throttled; the code and the message are the error's
//! own. Nothing is logged here (the use case logged what deserves it).

use rocket::http::Status;
use serde_json::json;

use super::ApiError;
use crate::accounts::Error;
use crate::db;

impl From<Error> for ApiError {
    fn from(error: Error) -> Self {
        let status = match &error {
            Error::InvalidInput { .. } => Status::UnprocessableEntity,
            // Registration logs the new user in, so it cannot answer the same
            // either way; it is throttled instead (see `accounts::register`).
            Error::EmailTaken => Status::Conflict,
            Error::InvalidCredentials => Status::Unauthorized,
            Error::TooManyAttempts { .. } | Error::HashingBusy { .. } => Status::TooManyRequests,
            Error::Database(cause) if db::is_outage(cause) => Status::ServiceUnavailable,
            Error::Database(_) | Error::Internal(_) => Status::InternalServerError,
        };
        let details = match &error {
            Error::InvalidInput { field, .. } => Some(json!({ "field": field })),
            Error::EmailTaken => Some(json!({ "field": "email" })),
            _ => error
                .retry_after_secs()
                .map(|secs| json!({ "retry_after_secs": secs })),
        };
        let mut answer = ApiError::new(status, error.code(), error.to_string());
        answer.details = details;
        answer.retry_after_secs = error.retry_after_secs();
        answer
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_throttled_login_says_when_to_retry_in_body_and_header() {
        let error = ApiError::from(Error::TooManyAttempts {
            message: "too many failed logins for this email; try again later",
            retry_after_secs: 900,
        });
        assert_eq!(error.status, Status::TooManyRequests);
        assert_eq!(error.retry_after_secs, Some(900));
        assert_eq!(
            error.body(),
            json!({
                "message": "too many failed logins for this email; try again later",
                "error": { "code": "too_many_attempts", "details": { "retry_after_secs": 900 } },
            })
        );
    }

    #[test]
    fn a_field_problem_is_a_422_naming_the_field() {
        let error = ApiError::from(Error::from((
            "email",
            "invalid_email",
            "is not an email address".to_string(),
        )));
        assert_eq!(error.status, Status::UnprocessableEntity);
        assert_eq!(error.message, "email: is not an email address");
        assert_eq!(error.details, Some(json!({ "field": "email" })));
    }
}
