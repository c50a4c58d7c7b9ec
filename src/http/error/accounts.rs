//! What each accounts error answers: its status, its code, its details, and
//! `Retry-After` when throttled. The message is the error's own text; nothing
//! is logged here (the use case logged what deserves it).

use rocket::http::Status;
use serde_json::json;

use super::ApiError;
use crate::accounts::Error;

impl From<Error> for ApiError {
    fn from(error: Error) -> Self {
        let (status, code) = match &error {
            Error::Database(cause) => return ApiError::database(cause),
            Error::Internal(_) => return ApiError::opaque_internal(),
            Error::InvalidInput { code, .. } => (Status::UnprocessableEntity, *code),
            // Registration logs the new user in, so it cannot answer the same
            // either way; it is throttled instead (see `accounts::register`).
            Error::EmailTaken => (Status::Conflict, "email_taken"),
            Error::InvalidCredentials => (Status::Unauthorized, "invalid_credentials"),
            Error::TooManyAttempts { .. } => (Status::TooManyRequests, "too_many_attempts"),
            Error::HashingBusy { .. } => (Status::TooManyRequests, "hashing_busy"),
        };
        let details = match &error {
            Error::InvalidInput { field, .. } => Some(json!({ "field": field })),
            Error::EmailTaken => Some(json!({ "field": "email" })),
            Error::TooManyAttempts {
                retry_after_secs, ..
            }
            | Error::HashingBusy { retry_after_secs } => {
                Some(json!({ "retry_after_secs": retry_after_secs }))
            }
            _ => None,
        };
        let retry_after = match &error {
            Error::TooManyAttempts {
                retry_after_secs, ..
            }
            | Error::HashingBusy { retry_after_secs } => Some(*retry_after_secs),
            _ => None,
        };
        let mut answer = ApiError::new(status, code, error.to_string());
        answer.details = details;
        answer.retry_after_secs = retry_after;
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
